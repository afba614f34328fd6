/* api_loops.c: see api_loops.h. */
#include "api_loops.h"

#include <time.h>
#include <unistd.h>

uint64_t api_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int api_run_until(h2_loop *a, h2_loop *b, const int *flag, int want, uint64_t limit_ms) {
  uint64_t end = api_mono_ms() + limit_ms;
  while (*flag < want && api_mono_ms() < end) {
    if (a) h2_loop_run(a, H2_LOOP_RUN_NOWAIT);
    if (b) h2_loop_run(b, H2_LOOP_RUN_NOWAIT);
    if (*flag < want) usleep(200);
  }
  return *flag >= want;
}

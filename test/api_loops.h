/* api_loops.h: helpers for the session API tests that run real loops over
 * 127.0.0.1 (test/test_api*.c): a monotonic clock and a bounded wait that
 * turns one or two loops without blocking. Linked like api_pair.c. */
#ifndef TEST_API_LOOPS_H
#define TEST_API_LOOPS_H

#include <stdint.h>

#include "h2_loop.h"

/* api_mono_ms is CLOCK_MONOTONIC in milliseconds. */
uint64_t api_mono_ms(void);

/* api_run_until runs |a| and |b| (either may be NULL) without blocking,
 * sleeping 200 us between rounds, until *flag >= want or |limit_ms| pass.
 * Returns 1 if the flag got there. */
int api_run_until(h2_loop *a, h2_loop *b, const int *flag, int want, uint64_t limit_ms);

#endif

/* cmd_hpack.c: placeholder until `h2 hpack` lands; it says so and fails. */
#include <stdio.h>

#include "h2cmd.h"

int h2_cmd_hpack(int argc, char **argv) {
  (void)argc; (void)argv;
  fprintf(stderr, "h2 hpack: not built yet in this version\n");
  return 2;
}

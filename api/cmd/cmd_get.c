/* cmd_get.c: placeholder until `h2 get` lands; it says so and fails. */
#include <stdio.h>

#include "h2cmd.h"

int h2_cmd_get(int argc, char **argv) {
  (void)argc; (void)argv;
  fprintf(stderr, "h2 get: not built yet in this version\n");
  return 2;
}

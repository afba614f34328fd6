/* cmd_serve.c: placeholder until `h2 serve` lands; it says so and fails. */
#include <stdio.h>

#include "h2cmd.h"

int h2_cmd_serve(int argc, char **argv) {
  (void)argc; (void)argv;
  fprintf(stderr, "h2 serve: not built yet in this version\n");
  return 2;
}

/* main.c: the h2 program: `h2 <subcommand> [args]`, like git or openssl. */
#include <stdio.h>
#include <string.h>

#include "h2cmd.h"

struct subcommand {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
};

static const struct subcommand subcommands[] = {
  {"serve", h2_cmd_serve, "serve files over HTTP/2 (TLS and h2c)"},
  {"get", h2_cmd_get, "fetch URLs over one HTTP/2 connection"},
  {"hpack", h2_cmd_hpack, "decode, check and encode hpack-test-case stories"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: h2 <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    fprintf(f, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
  fprintf(f, "\n`h2 <command> --help` describes one command.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) { usage(stderr); return 2; }
  if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    if (!strcmp(argv[1], subcommands[i].name)) return subcommands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "h2: '%s' is not a command\n", argv[1]);
  usage(stderr);
  return 2;
}

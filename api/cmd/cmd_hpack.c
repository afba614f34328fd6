/* cmd_hpack.c: `h2 hpack`: decode, check and encode hpack-test-case stories
 * with h2's HPACK coder.
 *
 *   h2 hpack decode [--check] [FILE]
 *   h2 hpack encode [--table-size N] [--no-huffman] [FILE]
 *
 * FILE is a story (JSON); without FILE, or with "-", standard input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2cmd.h"
#include "story.h"
#include "story_hpack.h"

static void usage_main(FILE *f) {
  fprintf(f,
          "usage: h2 hpack <decode|encode> [options] [FILE]\n"
          "\n"
          "  decode [--check] [FILE]   decode each case's \"wire\" and print its header list;\n"
          "                            --check compares with the story's \"headers\"\n"
          "  encode [--table-size N] [--no-huffman] [FILE]\n"
          "                            encode each case's \"headers\"; print the story with\n"
          "                            a \"wire\" per case\n"
          "\n"
          "FILE is an hpack-test-case story (JSON); '-' or none reads standard input.\n"
          "`h2 hpack decode --help` and `h2 hpack encode --help` say more.\n");
}

static void usage_decode(FILE *f) {
  fprintf(f,
          "usage: h2 hpack decode [--check] [FILE]\n"
          "\n"
          "Decodes the \"wire\" of every case of the story in FILE (or standard input), in\n"
          "order, with one HPACK decoder. Before a case carrying \"header_table_size\", the\n"
          "decoder's allowed table size is set to it (the acknowledged SETTINGS value).\n"
          "Prints \"# seqno N\" and one \"name: value\" line per field (bytes outside\n"
          "printable ASCII as \\xHH).\n"
          "\n"
          "  --check   print nothing per case; compare each decoded list with the case's\n"
          "            \"headers\" and stop at the first mismatch, naming the case and field\n"
          "  --help    this text\n"
          "\n"
          "Exit status: 0 success, 1 bad story, decoding error or mismatch, 2 usage error.\n");
}

static void usage_encode(FILE *f) {
  fprintf(f,
          "usage: h2 hpack encode [--table-size N] [--no-huffman] [FILE]\n"
          "\n"
          "Encodes the \"headers\" of every case of the story in FILE (or standard input),\n"
          "in order, with one HPACK encoder, and writes the story to standard output with a\n"
          "\"wire\" (hex) and a \"seqno\" per case. A case's \"header_table_size\" is honoured\n"
          "(the encoder emits the size update) and kept.\n"
          "\n"
          "  --table-size N   dynamic table size to use from the first case on (0..4294967295;\n"
          "                   default 4096); written as the first case's header_table_size\n"
          "  --no-huffman     never Huffman-code strings (default: when shorter)\n"
          "  --help           this text\n"
          "\n"
          "Exit status: 0 success, 1 bad story or encoding error, 2 usage error.\n");
}

/* load reads and parses the story at |path| ("-" or NULL: stdin). */
static int load(const char *path, h2_story *s) {
  char err[512];
  if (path && strcmp(path, "-") != 0) {
    if (h2_story_load(s, path, err, sizeof err) != 0) {
      fprintf(stderr, "h2 hpack: %s\n", err);
      return -1;
    }
    return 0;
  }
  char *buf;
  size_t len;
  if (h2_story_read_file(stdin, &buf, &len, err, sizeof err) != 0) {
    fprintf(stderr, "h2 hpack: <stdin>: %s\n", err);
    return -1;
  }
  int rc = h2_story_parse(s, buf, len, err, sizeof err);
  free(buf);
  if (rc != 0) {
    fprintf(stderr, "h2 hpack: <stdin>: %s\n", err);
    return -1;
  }
  return 0;
}

static int parse_u32(const char *s, uint32_t *out) {
  if (!s || !*s || *s == '-' || *s == '+' || *s == ' ') return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v > UINT32_MAX) return -1;
  *out = (uint32_t)v;
  return 0;
}

static int cmd_decode(int argc, char **argv) {
  int check = 0;
  const char *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage_decode(stdout);
      return 0;
    } else if (!strcmp(argv[i], "--check")) {
      check = 1;
    } else if (argv[i][0] == '-' && argv[i][1] != 0) {
      fprintf(stderr, "h2 hpack decode: unknown option '%s'\n", argv[i]);
      usage_decode(stderr);
      return 2;
    } else if (path) {
      fprintf(stderr, "h2 hpack decode: only one FILE\n");
      return 2;
    } else {
      path = argv[i];
    }
  }
  h2_story s;
  if (load(path, &s) != 0) return 1;
  char err[512];
  const char *name = path && strcmp(path, "-") ? path : "<stdin>";
  long n = h2_story_decode(&s, 0, check, check ? NULL : stdout, err, sizeof err);
  h2_story_free(&s);
  if (n < 0) {
    fflush(stdout);
    fprintf(stderr, "h2 hpack decode: %s: %s\n", name, err);
    return 1;
  }
  if (check) printf("%s: %ld cases decoded and match\n", name, n);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "h2 hpack decode: writing the output failed\n");
    return 1;
  }
  return 0;
}

static int cmd_encode(int argc, char **argv) {
  h2_story_encode_opts opts = {0, 0, H2_HPACK_HUFFMAN_AUTO};
  const char *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage_encode(stdout);
      return 0;
    } else if (!strcmp(argv[i], "--no-huffman")) {
      opts.huffman = H2_HPACK_HUFFMAN_NEVER;
    } else if (!strcmp(argv[i], "--table-size")) {
      if (i + 1 >= argc || parse_u32(argv[i + 1], &opts.table_size) != 0) {
        fprintf(stderr, "h2 hpack encode: --table-size needs a number from 0 to 4294967295\n");
        return 2;
      }
      opts.has_table_size = 1;
      i++;
    } else if (argv[i][0] == '-' && argv[i][1] != 0) {
      fprintf(stderr, "h2 hpack encode: unknown option '%s'\n", argv[i]);
      usage_encode(stderr);
      return 2;
    } else if (path) {
      fprintf(stderr, "h2 hpack encode: only one FILE\n");
      return 2;
    } else {
      path = argv[i];
    }
  }
  h2_story in, out;
  if (load(path, &in) != 0) return 1;
  char err[512];
  int rc = h2_story_encode(&in, &opts, &out, err, sizeof err);
  h2_story_free(&in);
  if (rc != 0) {
    fprintf(stderr, "h2 hpack encode: %s: %s\n", path ? path : "<stdin>", err);
    return 1;
  }
  rc = h2_story_write(stdout, &out);
  h2_story_free(&out);
  if (rc != 0 || fflush(stdout) != 0) {
    fprintf(stderr, "h2 hpack encode: writing the output failed\n");
    return 1;
  }
  return 0;
}

int h2_cmd_hpack(int argc, char **argv) {
  if (argc < 2) {
    usage_main(stderr);
    return 2;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage_main(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "decode")) return cmd_decode(argc - 1, argv + 1);
  if (!strcmp(argv[1], "encode")) return cmd_encode(argc - 1, argv + 1);
  fprintf(stderr, "h2 hpack: unknown subcommand '%s'\n", argv[1]);
  usage_main(stderr);
  return 2;
}

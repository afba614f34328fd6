/* story.h: a strict reader and a writer for hpack-test-case "stories".
 *
 * A story is one JSON file:
 *
 *   {"description": "...", "context": "request",
 *    "cases": [{"seqno": 0, "header_table_size": 4096, "wire": "82...",
 *               "headers": [{":method": "GET"}, ...]}, ...]}
 *
 * Cases share one compression context, in order. "header_table_size" (may be
 * absent or null) is the SETTINGS_HEADER_TABLE_SIZE acknowledged just before
 * its case. "wire" (absent in raw-data stories) is the encoded header block in
 * hex. Every member of every object in "headers" is one header field, in
 * order.
 *
 * The reader is strict RFC 8259 JSON (UTF-8 only; a leading UTF-8 byte order
 * mark is skipped) and treats its input as hostile: nesting depth and input
 * size are bounded, every error is reported as "line L, column C: what", and
 * no input makes it crash, read out of bounds or leak. String escapes,
 * including \uXXXX and surrogate pairs, are decoded to UTF-8; "\u0000" yields
 * a NUL byte, so names and values always travel with their lengths.
 *
 * This is tool code (api/cmd/, libh2cmd.a): it uses libc malloc and stdio. */
#ifndef H2_STORY_H
#define H2_STORY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* H2_STORY_MAX_INPUT is the largest story, in bytes, the reader accepts. */
#define H2_STORY_MAX_INPUT ((size_t)64 << 20)
/* H2_STORY_MAX_DEPTH is the deepest nesting of arrays and objects accepted
 * (the story itself uses 4). */
#define H2_STORY_MAX_DEPTH 64

/* h2_story_field is one header field. |name| and |value| are NUL-terminated
 * for convenience but may contain NUL bytes; the lengths are authoritative. */
typedef struct h2_story_field {
  char *name;
  size_t name_len;
  char *value;
  size_t value_len;
} h2_story_field;

typedef struct h2_story_case {
  int has_seqno;
  uint32_t seqno;
  int has_table_size;           /* "header_table_size" present and not null */
  uint32_t header_table_size;
  int has_wire;
  uint8_t *wire;                /* decoded from hex; NULL when wire_len is 0 */
  size_t wire_len;
  h2_story_field *fields;
  size_t num_fields;
} h2_story_case;

typedef struct h2_story {
  char *description;            /* NULL when absent */
  char *context;                /* NULL when absent */
  h2_story_case *cases;
  size_t num_cases;
} h2_story;

/* h2_story_parse parses the |len| bytes at |json| into |out|, which it
 * initializes. On success it returns 0 and the caller owns |out| (free it with
 * h2_story_free). On failure it returns -1, leaves |out| empty (nothing to
 * free, though h2_story_free is harmless), and writes a NUL-terminated message
 * "line L, column C: ..." into |err| (|err_len| bytes, may be 0). */
int h2_story_parse(h2_story *out, const char *json, size_t len, char *err, size_t err_len);

/* h2_story_read_file reads the whole of |f| (at most H2_STORY_MAX_INPUT bytes)
 * into a malloc'd buffer, NUL-terminated, and sets |*out_buf| and |*out_len|;
 * the caller frees |*out_buf|. Returns 0, or -1 with a message in |err|. */
int h2_story_read_file(FILE *f, char **out_buf, size_t *out_len, char *err, size_t err_len);

/* h2_story_load opens |path|, reads and parses it as h2_story_parse does.
 * Messages in |err| are prefixed with |path|. Returns 0 or -1. */
int h2_story_load(h2_story *out, const char *path, char *err, size_t err_len);

/* h2_story_free frees everything |s| owns and empties it. Accepts NULL. */
void h2_story_free(h2_story *s);

/* h2_story_write writes |s| to |f| as pretty-printed JSON that h2_story_parse
 * reads back to an equal story. Strings are escaped as JSON requires; a byte
 * that is not part of valid UTF-8 is written as \u00XX (its Latin-1 reading),
 * the only case where reading back does not give the same bytes. Returns 0, or
 * -1 when writing to |f| failed. */
int h2_story_write(FILE *f, const h2_story *s);

/* h2_story_write_string writes |len| bytes at |s| as one JSON string literal
 * (quotes included), escaped as h2_story_write does. Returns 0 or -1. */
int h2_story_write_string(FILE *f, const char *s, size_t len);

#endif

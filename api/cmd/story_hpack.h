/* story_hpack.h: runs hpack-test-case stories (story.h) through h2's HPACK
 * decoder and encoder (hpack/h2_hpack.h). Shared by `h2 hpack`, the story
 * tests and the HPACK benchmark.
 *
 * Table sizes follow the story format: a case's "header_table_size" is the
 * SETTINGS_HEADER_TABLE_SIZE acknowledged just before it, so before that case
 * the decoder's allowed maximum is set to it (the wire must then carry the
 * size update) and the encoder is told the peer's new maximum (it then emits
 * the size update). */
#ifndef H2_STORY_HPACK_H
#define H2_STORY_HPACK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "h2_hpack.h"
#include "story.h"

/* Decoder limits used for stories: far above any story, still bounded. */
#define H2_STORY_MAX_LIST_SIZE (16u << 20)
#define H2_STORY_MAX_FIELDS 65536u
#define H2_STORY_MAX_FIELD_LEN (1u << 20)

/* h2_story_decode_block decodes one complete header block |wire| with |d|,
 * fed to the decoder in pieces of |piece| octets (0: all at once), and
 * appends copies of the fields to |*out| (|*num| fields, capacity |*cap|;
 * start with NULL/0/0 and free with h2_story_fields_free). Returns 0 or a
 * negative h2_err (from the decoder, or H2_ERR_NOMEM). */
int h2_story_decode_block(h2_hpack_decoder *d, const uint8_t *wire, size_t wire_len,
                          size_t piece, h2_story_field **out, size_t *num, size_t *cap);

/* h2_story_fields_free frees |n| fields and the array. */
void h2_story_fields_free(h2_story_field *f, size_t n);

/* h2_story_decode runs every case of |s| through a new decoder, in order,
 * each block fed in pieces of |piece| octets (0: whole blocks).
 * When |print| is not NULL, each case's decoded header list is printed there
 * ("# seqno N" then "name: value" lines, non-printable bytes as \xHH). When
 * |check| is set, each list is compared with the case's "headers". Stops at
 * the first failure: returns -1 with a message naming the case's seqno (its
 * index when it has none) and, for a mismatch, the field, in |err|; returns
 * the number of cases decoded on success. A case without "wire" is an
 * error. */
long h2_story_decode(const h2_story *s, size_t piece, int check, FILE *print, char *err,
                     size_t err_len);

/* Encoding options for h2_story_encode. */
typedef struct h2_story_encode_opts {
  int has_table_size;    /* apply |table_size| before the first case */
  uint32_t table_size;   /* also the encoder's local cap on its table */
  int huffman;           /* H2_HPACK_HUFFMAN_* */
} h2_story_encode_opts;

/* h2_story_encode encodes every case's header list of |in| with a new
 * encoder into |out| (which it initializes): a copy of |in| in which every
 * case has a "wire" and a "seqno" (its index when |in| has none); the first
 * case gets header_table_size = |opts->table_size| when that is set, and
 * later cases keep their own header_table_size, which the encoder honours.
 * Returns 0, or -1 with a message in |err| (|out| is then empty). The caller
 * frees |out| with h2_story_free. */
int h2_story_encode(const h2_story *in, const h2_story_encode_opts *opts, h2_story *out,
                    char *err, size_t err_len);

#endif

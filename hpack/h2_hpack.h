/* h2_hpack.h: HPACK (RFC 7541) header compression for HTTP/2.
 *
 * Three layers, all libc only, all memory through an h2_mem:
 *
 *  - primitives: prefixed integers (§5.1), string literals raw and Huffman
 *    (§5.2, Appendix B), the static table (Appendix A);
 *  - h2_hpack_decoder: decodes header blocks, in one call or streamed in
 *    pieces (one per HEADERS/CONTINUATION frame), delivering each field
 *    through a callback with NO allocation per field;
 *  - h2_hpack_encoder: encodes a list of fields into a caller buffer.
 *
 * A decoder and an encoder are independent objects; an HTTP/2 connection
 * owns one of each. Neither is thread-safe; distinct objects may be used from
 * distinct threads. There is no global mutable state.
 *
 * Sizes follow RFC 7541 §4.1: an entry's size is name_len + value_len + 32. */
#ifndef H2_HPACK_H
#define H2_HPACK_H

#include <stddef.h>
#include <stdint.h>

#include "h2_cbs.h"
#include "h2_err.h"
#include "h2_mem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* H2_HPACK_ENTRY_OVERHEAD is the 32 octets RFC 7541 §4.1 adds to every entry
 * (and RFC 9113 §6.5.2 to every field of SETTINGS_MAX_HEADER_LIST_SIZE). */
#define H2_HPACK_ENTRY_OVERHEAD 32
/* H2_HPACK_DEFAULT_TABLE_SIZE is SETTINGS_HEADER_TABLE_SIZE's initial value. */
#define H2_HPACK_DEFAULT_TABLE_SIZE 4096
/* H2_HPACK_STATIC_COUNT is the number of static table entries (1..61). */
#define H2_HPACK_STATIC_COUNT 61
/* H2_HPACK_INT_MAX is the largest integer the decoder accepts (2^32-1). */
#define H2_HPACK_INT_MAX UINT32_MAX

/* Field flags (h2_hpack_field.flags). */

/* H2_HPACK_NEVER_INDEXED: decoder: the field arrived as a "literal never
 * indexed" (§6.2.3): an intermediary must re-encode it the same way.
 * Encoder: the field is sensitive: it is sent as a never-indexed literal and
 * never enters the dynamic table (its name may still be an index). */
#define H2_HPACK_NEVER_INDEXED 0x1u
/* H2_HPACK_NO_INDEX: decoder: the field arrived as a "literal without
 * indexing" (§6.2.2). Encoder: send it without adding it to the table (but it
 * may still be sent as a full index if the table already holds it). */
#define H2_HPACK_NO_INDEX 0x2u
/* H2_HPACK_INDEX: encoder only: add the field to the dynamic table whenever
 * it fits, overriding the default strategy (see h2_hpack_encode). Ignored
 * together with H2_HPACK_NEVER_INDEXED or H2_HPACK_NO_INDEX. */
#define H2_HPACK_INDEX 0x4u
/* H2_HPACK_STATIC_NAME / H2_HPACK_STATIC_VALUE: decoder output, only when
 * turned on with h2_hpack_decoder_report_static: the field's name (value)
 * points into the static table (storage that never changes or goes away).
 * Never set otherwise; the encoder ignores them. */
#define H2_HPACK_STATIC_NAME 0x100u
#define H2_HPACK_STATIC_VALUE 0x200u
/* H2_HPACK_MARKED: decoder output, only with h2_hpack_decoder_report_static
 * on: the field is a dynamic table entry the caller marked before with
 * h2_hpack_decoder_mark_field or h2_hpack_decoder_mark_collected (same
 * octets: entries never change), or, in collect mode, a static entry
 * marked with h2_hpack_decoder_mark_static. The tag
 * given there comes back in the H2_HPACK_MARK_TAG_MASK bits
 * (H2_HPACK_MARK_TAG(flags), 0 when not marked). */
#define H2_HPACK_MARKED 0x400u
#define H2_HPACK_MARK_TAG_SHIFT 12
#define H2_HPACK_MARK_TAG_MASK 0xf000u
#define H2_HPACK_MARK_TAG(flags) (((flags) & H2_HPACK_MARK_TAG_MASK) >> H2_HPACK_MARK_TAG_SHIFT)
/* H2_HPACK_STATIC_INDEX(flags): decoder output in collect mode
 * (h2_hpack_decode_collect) only: for a field that is a static table entry
 * (an indexed field of index 1..61, name and value both static) its index,
 * else 0. Such a field also carries H2_HPACK_MARKED and the tag once the
 * entry was marked with h2_hpack_decoder_mark_static. */
#define H2_HPACK_STATIC_INDEX_SHIFT 16
#define H2_HPACK_STATIC_INDEX_MASK 0x3f0000u
#define H2_HPACK_STATIC_INDEX(flags) (((flags) & H2_HPACK_STATIC_INDEX_MASK) >> H2_HPACK_STATIC_INDEX_SHIFT)

/* h2_hpack_field is one header field. Names and values are octet strings
 * (not NUL-terminated; they may contain any octet as far as HPACK cares). */
typedef struct h2_hpack_field {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
  uint32_t flags; /* H2_HPACK_* bits above */
} h2_hpack_field;

/* ---- Primitives ---------------------------------------------------------- */

/* h2_hpack_int_decode reads a prefixed integer (§5.1) whose first octet's
 * low |prefix_bits| bits (1..8) start it; the high bits of that octet are
 * ignored (they belong to the representation). On success it stores the
 * value in |*out|, advances |in| and returns 0. Errors (|in| not advanced):
 * H2_ERR_HPACK_TRUNCATED if |in| ends inside the integer,
 * H2_ERR_HPACK_INT_OVERFLOW if the value exceeds 2^32-1 or uses more
 * continuation octets than a 32-bit value needs (5),
 * H2_ERR_INVALID_ARG for a |prefix_bits| outside 1..8. */
int h2_hpack_int_decode(h2_cbs *in, unsigned prefix_bits, uint32_t *out);

/* h2_hpack_int_encode appends |value| as a prefixed integer with
 * |prefix_bits| (1..8) bits of prefix; |first_bits| supplies the high bits
 * of the first octet (its low |prefix_bits| bits must be 0). Returns the
 * number of octets appended (1..6), H2_ERR_BUF_TOO_SMALL if |out| is full
 * (its sticky error is then set), or H2_ERR_INVALID_ARG. */
int h2_hpack_int_encode(h2_cbb *out, unsigned prefix_bits, uint8_t first_bits, uint32_t value);

/* h2_hpack_huffman_encoded_len returns the number of octets the Huffman code
 * (Appendix B, padded with ones) of |len| octets at |s| takes. */
size_t h2_hpack_huffman_encoded_len(const char *s, size_t len);

/* h2_hpack_huffman_encode appends the Huffman code of |s| (without a length
 * prefix). Returns the number of octets appended or H2_ERR_BUF_TOO_SMALL. */
int h2_hpack_huffman_encode(h2_cbb *out, const char *s, size_t len);

/* h2_hpack_huffman_decode decodes |in_len| Huffman-coded octets into |out|
 * (capacity |out_cap|). The decoder is table-driven, one input octet per
 * step. Returns the decoded length, or H2_ERR_HPACK_HUFFMAN_EOS (EOS symbol
 * in the data), H2_ERR_HPACK_HUFFMAN_PADDING (padding longer than 7 bits or
 * not all ones), H2_ERR_BUF_TOO_SMALL (|out_cap| too small; a capacity of
 * in_len * 8 / 5 + 1 always suffices). */
int h2_hpack_huffman_decode(char *out, size_t out_cap, const uint8_t *in, size_t in_len);

/* h2_hpack_string_encode appends a string literal (§5.2): the H bit, the
 * 7-bit-prefixed length, the octets. |huffman| is one of the
 * H2_HPACK_HUFFMAN_* modes below. Returns octets appended,
 * H2_ERR_BUF_TOO_SMALL, or H2_ERR_INVALID_ARG (length, raw or Huffman-coded
 * as the mode picks, > 0x7fffff00; unknown mode). */
int h2_hpack_string_encode(h2_cbb *out, const char *s, size_t len, int huffman);

/* Huffman modes for h2_hpack_string_encode and h2_hpack_encoder_set_huffman. */
#define H2_HPACK_HUFFMAN_AUTO 0   /* Huffman only when strictly shorter (default) */
#define H2_HPACK_HUFFMAN_NEVER 1  /* always raw octets */
#define H2_HPACK_HUFFMAN_PREFER 2 /* Huffman unless longer than raw: ties go to
                                   * Huffman, as in RFC 7541 C.4 and C.6 */
#define H2_HPACK_HUFFMAN_ALWAYS 3 /* always Huffman, even when longer than raw
                                   * (up to 30 bits per octet; see
                                   * h2_hpack_encoder_bound) */

/* h2_hpack_static_get sets |*out| to static table entry |index| (1..61);
 * the pointers are to static storage. Returns 0 or H2_ERR_HPACK_INDEX_RANGE. */
int h2_hpack_static_get(uint32_t index, h2_hpack_field *out);

/* h2_hpack_static_find looks |name|/|value| up in the static table. Returns
 * the index (1..61) of an entry matching both, else 0 and, when
 * |out_name_index| is not NULL, stores there the first index whose name
 * matches (0 if none). Constant time per call (switch on the name). */
uint32_t h2_hpack_static_find(const char *name, size_t name_len, const char *value,
                              size_t value_len, uint32_t *out_name_index);

/* ---- Decoder ------------------------------------------------------------- */

typedef struct h2_hpack_decoder h2_hpack_decoder;

/* h2_hpack_field_cb receives one decoded field. The pointers in |field| are
 * valid only until the callback returns (they point into the input, the
 * dynamic table, the static table or decoder scratch); copy what you keep.
 * Return 0 to go on, or a negative h2_err to stop decoding: that error is
 * returned by h2_hpack_decode and the decoder is then unusable (its table is
 * out of sync with the peer's), so only do that to tear the connection down.
 * To reject a field but keep the connection, remember it and return 0. */
typedef int (*h2_hpack_field_cb)(void *user, const h2_hpack_field *field);

/* h2_hpack_decoder_new allocates a decoder with |mem| (NULL = default
 * allocator, which must outlive the decoder). Initial state: table size and
 * SETTINGS limit 4096, limits H2_HPACK_DEFAULT_MAX_LIST_SIZE,
 * H2_HPACK_DEFAULT_MAX_FIELDS, H2_HPACK_DEFAULT_MAX_FIELD_LEN. Returns NULL
 * when out of memory. */
h2_hpack_decoder *h2_hpack_decoder_new(const h2_mem *mem);

/* h2_hpack_decoder_free frees |d| and everything it owns. NULL is a no-op. */
void h2_hpack_decoder_free(h2_hpack_decoder *d);

/* h2_hpack_decoder_set_max_table_size sets the limit the peer's table size
 * updates must respect: the SETTINGS_HEADER_TABLE_SIZE we advertise. Call it
 * when the peer ACKs our SETTINGS carrying a new value. If |max| is below the
 * current table size limit, the next header block MUST begin with a size
 * update <= |max| (§4.2), else decoding it fails with
 * H2_ERR_HPACK_SIZE_UPDATE_MISPLACED. Returns 0, or H2_ERR_STATE in the
 * middle of a block. Allocates nothing (the table grows with its entries). */
int h2_hpack_decoder_set_max_table_size(h2_hpack_decoder *d, uint32_t max);

/* Default decoder limits. */
#define H2_HPACK_DEFAULT_MAX_LIST_SIZE 65536u
#define H2_HPACK_DEFAULT_MAX_FIELDS 1024u
#define H2_HPACK_DEFAULT_MAX_FIELD_LEN 65536u

/* h2_hpack_decoder_set_limits sets the per-block limits:
 *  |max_list_size|: the sum over fields of name_len + value_len + 32, as
 *     SETTINGS_MAX_HEADER_LIST_SIZE counts (exceeding it gives
 *     H2_ERR_HPACK_LIST_TOO_LARGE);
 *  |max_fields|: the number of fields (H2_ERR_HPACK_TOO_MANY_FIELDS);
 *  |max_field_len|: one field's name_len + value_len
 *     (H2_ERR_HPACK_FIELD_TOO_LONG); it also bounds the decoder's scratch
 *     memory (together with the table size).
 * These three are "soft" errors: once a limit is passed, no more fields are
 * delivered, but the rest of the block is still decoded so the dynamic table
 * stays in sync (RFC 9113 §10.5.1: the connection may go on, the stream gets
 * refused); the error is returned by the call that ends the block and the
 * decoder stays usable. Nothing beyond the limits is allocated for the
 * fields that were not delivered. May be called at any time; the new
 * values apply from the next representation decoded. */
void h2_hpack_decoder_set_limits(h2_hpack_decoder *d, uint32_t max_list_size,
                                 uint32_t max_fields, uint32_t max_field_len);

/* h2_hpack_decoder_report_static turns the H2_HPACK_STATIC_NAME,
 * H2_HPACK_STATIC_VALUE and H2_HPACK_MARKED output flags on (|on| = 1) or
 * off (0, default). */
void h2_hpack_decoder_report_static(h2_hpack_decoder *d, int on);

/* h2_hpack_decoder_mark_field, called from the field callback, marks the
 * dynamic table entry the current field is (an indexed field, or a literal
 * just added with incremental indexing) with |tag| (0..15, what the caller
 * learned about the entry's octets); no effect for other fields or outside
 * a callback. Later fields that are that entry carry H2_HPACK_MARKED and
 * the tag (when reported), so a caller can remember a check it did on the
 * entry's octets. A later mark replaces the tag. */
void h2_hpack_decoder_mark_field(h2_hpack_decoder *d, unsigned tag);

/* h2_hpack_decode decodes the next |len| octets of a header block, calling
 * |cb| (with |user|) once per field, in order. A block may be fed in any
 * number of pieces (down to one octet each); set |end_of_block| on the call
 * carrying its last piece (END_HEADERS), possibly with |len| == 0. A
 * representation split across pieces is buffered internally (bounded by the
 * limits); otherwise strings are not copied.
 *
 * Returns the number of fields delivered by this call (>= 0), or:
 *  - hard errors (the decoder is unusable afterwards; send GOAWAY with
 *    h2_err_rfc_code(err) = COMPRESSION_ERROR): H2_ERR_HPACK_TRUNCATED,
 *    H2_ERR_HPACK_INT_OVERFLOW, H2_ERR_HPACK_INDEX_ZERO,
 *    H2_ERR_HPACK_INDEX_RANGE, H2_ERR_HPACK_HUFFMAN_PADDING,
 *    H2_ERR_HPACK_HUFFMAN_EOS, H2_ERR_HPACK_SIZE_UPDATE_TOO_LARGE,
 *    H2_ERR_HPACK_SIZE_UPDATE_MISPLACED (after a field, or missing after a
 *    lowered limit), H2_ERR_HPACK_STRING_TOO_LONG (a string runs past the end
 *    of the block), H2_ERR_NOMEM, any error |cb| returned; every later call
 *    then returns H2_ERR_STATE;
 *  - soft errors, only from the call with |end_of_block| set (see
 *    h2_hpack_decoder_set_limits): H2_ERR_HPACK_LIST_TOO_LARGE,
 *    H2_ERR_HPACK_TOO_MANY_FIELDS, H2_ERR_HPACK_FIELD_TOO_LONG.
 * A block of zero fields is valid. |in| may be NULL when |len| is 0 (else
 * H2_ERR_INVALID_ARG); |cb| may be NULL (fields are then only counted). A
 * literal whose name and value surely decode to more than B =
 * max(max_field_len, SETTINGS table size) is skipped as it arrives, never
 * buffered (soft H2_ERR_HPACK_FIELD_TOO_LONG; if it was to be indexed, the
 * table is emptied, as §4.4 prescribes for an entry larger than the
 * table). */
int h2_hpack_decode(h2_hpack_decoder *d, const uint8_t *in, size_t len, int end_of_block,
                    h2_hpack_field_cb cb, void *user);

/* h2_hpack_decode_collect is h2_hpack_decode without a callback: when
 * |keep| is 1, the fields decoded by this call are appended to a list the
 * decoder holds (h2_hpack_decoder_collected); with 0 they are decoded (the
 * table stays in sync) and only counted. The list is emptied by the first
 * call of the next block. Strings from the static table are not copied;
 * every other string is copied into the decoder's own storage, so the
 * collected fields stay valid until the next block's first decode call (or
 * h2_hpack_decoder_trim / _free). Collected fields carry H2_HPACK_STATIC_NAME,
 * H2_HPACK_STATIC_VALUE and H2_HPACK_MARKED + tag as with
 * h2_hpack_decoder_report_static on (this call turns it on for good).
 * Returns and errors as h2_hpack_decode. The list is bounded by the limits
 * (h2_hpack_decoder_set_limits: at most max_fields fields, max_list_size
 * octets of strings). */
int h2_hpack_decode_collect(h2_hpack_decoder *d, const uint8_t *in, size_t len, int end_of_block,
                            int keep);

/* h2_hpack_decoder_collected returns the collected fields of the current
 * (or last finished) block and stores their number in |*num|. The caller
 * may change the fields' flags; the strings belong to the decoder. */
h2_hpack_field *h2_hpack_decoder_collected(const h2_hpack_decoder *d, size_t *num);

/* h2_hpack_decoder_mark_static marks static table entry |index| (1..61;
 * other values: no effect) with |tag| for this decoder's collect mode:
 * later fields that are that entry carry H2_HPACK_MARKED and the tag, as
 * for dynamic entries (a caller's note on the entry's octets), until
 * h2_hpack_decoder_trim drops the collect-mode state (marks included: mark
 * again after checking again). No effect before the first collect call. */
void h2_hpack_decoder_mark_static(h2_hpack_decoder *d, uint32_t index, unsigned tag);

/* h2_hpack_decoder_mark_collected is h2_hpack_decoder_mark_field for
 * collected field |i|: marks the dynamic table entry it is (an indexed
 * field, or a literal added with incremental indexing) with |tag| if that
 * entry is still in the table; no effect for other fields. */
void h2_hpack_decoder_mark_collected(h2_hpack_decoder *d, size_t i, unsigned tag);

/* h2_hpack_decoder_table_size returns the dynamic table's current size
 * (sum of entry sizes, RFC 7541 §4.1). */
uint32_t h2_hpack_decoder_table_size(const h2_hpack_decoder *d);
/* h2_hpack_decoder_table_max returns the table's current maximum size (as
 * set by the peer's last size update). */
uint32_t h2_hpack_decoder_table_max(const h2_hpack_decoder *d);
/* h2_hpack_decoder_table_count returns the number of dynamic table entries. */
size_t h2_hpack_decoder_table_count(const h2_hpack_decoder *d);
/* h2_hpack_decoder_table_get sets |*out| to dynamic entry |i| (1 = newest,
 * i.e. HPACK index 62). Pointers valid until the next decode call. Returns
 * 0 or H2_ERR_NOT_FOUND. */
int h2_hpack_decoder_table_get(const h2_hpack_decoder *d, size_t i, h2_hpack_field *out);
/* h2_hpack_decoder_trim frees the decoder's buffers for input split across
 * calls and for Huffman-decoded strings, and its collect-mode state (the
 * collected list and the static entries' marks), when no header block is in
 * progress (otherwise it does nothing); they come back when needed. Meant
 * for a connection going idle. The dynamic table is kept. NULL is a no-op. */
void h2_hpack_decoder_trim(h2_hpack_decoder *d);

/* h2_hpack_decoder_memory returns the bytes |d| holds from its allocator.
 * With B = max(max_field_len, SETTINGS table size) and T the table size,
 * that stays below about 2T + 6B + 1 KiB whatever the peer sends: the
 * table's buffer (2T), the scratch for Huffman strings (2B), the gathering
 * of a representation cut across pieces (Huffman-coded name and value that
 * may decode to B: 3.75B); none of it per field. With
 * h2_hpack_decode_collect, plus the collected list (per field, about 44
 * octets and the strings, within the limits of h2_hpack_decoder_set_limits). */
size_t h2_hpack_decoder_memory(const h2_hpack_decoder *d);

/* ---- Encoder ------------------------------------------------------------- */

typedef struct h2_hpack_encoder h2_hpack_encoder;

/* h2_hpack_encoder_new allocates an encoder with |mem| (NULL = default).
 * Initial state: table size 4096 (the peer's initial limit), local cap
 * 4096, Huffman AUTO. Returns NULL when out of memory. */
h2_hpack_encoder *h2_hpack_encoder_new(const h2_mem *mem);

/* h2_hpack_encoder_free frees |e|. NULL is a no-op. */
void h2_hpack_encoder_free(h2_hpack_encoder *e);

/* h2_hpack_encoder_set_max_table_size records the peer's
 * SETTINGS_HEADER_TABLE_SIZE. The table size used is min(|max|, local cap).
 * If that changes, the next h2_hpack_encode begins with size updates (§4.2):
 * the smallest size reached since the last block (when lower than the
 * final one), then the final size. Entries are evicted at once. Allocates
 * nothing; returns 0. */
int h2_hpack_encoder_set_max_table_size(h2_hpack_encoder *e, uint32_t max);

/* h2_hpack_encoder_set_table_limit sets the local cap on the table size
 * (default 4096; a peer advertising a huge table cannot make us hold more),
 * then applies it like h2_hpack_encoder_set_max_table_size. Returns 0. */
int h2_hpack_encoder_set_table_limit(h2_hpack_encoder *e, uint32_t limit);

/* h2_hpack_encoder_set_huffman sets the Huffman mode (H2_HPACK_HUFFMAN_*;
 * other values are ignored). AUTO (the default) picks Huffman only when it
 * is strictly shorter, NEVER never, PREFER unless longer (ties go to
 * Huffman), ALWAYS for every string literal even when the code is longer
 * than the raw octets. */
void h2_hpack_encoder_set_huffman(h2_hpack_encoder *e, int mode);

/* h2_hpack_encode_bound returns an upper bound of the octets h2_hpack_encode
 * appends for these |n| fields (pending size updates included), whatever
 * the table holds, for an encoder in Huffman mode AUTO, NEVER or PREFER
 * (an encoder in mode ALWAYS may need more: use h2_hpack_encoder_bound).
 * O(n). SIZE_MAX on overflow. */
size_t h2_hpack_encode_bound(const h2_hpack_field *fields, size_t n);

/* h2_hpack_encoder_bound is h2_hpack_encode_bound for |e|'s Huffman mode:
 * the same value except in mode ALWAYS, where it adds, per string, what
 * its Huffman code takes beyond its raw length (O(octets) then).
 * SIZE_MAX on overflow. */
size_t h2_hpack_encoder_bound(const h2_hpack_encoder *e, const h2_hpack_field *fields, size_t n);

/* h2_hpack_encode appends one complete header block for |fields| to |out|.
 * Per field: a full match in the static or dynamic table becomes an indexed
 * field (except for sensitive fields, below); otherwise a literal, with the
 * name as an index when the name is in a table (static preferred).
 * Sensitive fields are sent as never-indexed literals: those flagged
 * H2_HPACK_NEVER_INDEXED and, by default, authorization,
 * proxy-authorization and cookie values shorter than 20 octets. Other
 * literals are added to the table unless H2_HPACK_NO_INDEX is set or,
 * without H2_HPACK_INDEX, the entry would take more than 3/4 of the table,
 * or the field is one whose values seldom repeat (:path, content-length,
 * age, etag, if-none-match, set-cookie) not seen lately: those are indexed
 * only when the same name and value come again while the encoder still
 * remembers them (64 recent hashes), so one-off values do not evict useful
 * entries. Strings use Huffman per the Huffman mode. Names should be
 * lowercase (HTTP/2); the encoder does not check.
 *
 * The call is atomic: if |out| has less room than h2_hpack_encoder_bound()
 * (equal to h2_hpack_encode_bound() unless the Huffman mode is ALWAYS) it
 * fails with H2_ERR_BUF_TOO_SMALL before changing any state. Returns the
 * number of octets appended, or H2_ERR_BUF_TOO_SMALL or H2_ERR_INVALID_ARG
 * (a string over 0x7fffff00 octets, a NULL pointer with a non-zero length,
 * or a block over 2^31-1 octets), in both cases with nothing appended. When
 * the table cannot grow (out of memory) a field is sent without indexing
 * instead, so allocation failure never fails the call. */
int h2_hpack_encode(h2_hpack_encoder *e, h2_cbb *out, const h2_hpack_field *fields, size_t n);

/* h2_hpack_encoder_table_size/max/count/get: as for the decoder, for the
 * encoder's dynamic table. */
uint32_t h2_hpack_encoder_table_size(const h2_hpack_encoder *e);
uint32_t h2_hpack_encoder_table_max(const h2_hpack_encoder *e);
size_t h2_hpack_encoder_table_count(const h2_hpack_encoder *e);
int h2_hpack_encoder_table_get(const h2_hpack_encoder *e, size_t i, h2_hpack_field *out);
/* h2_hpack_encoder_trim frees the encoder's cache of the last field sent at
 * each position; the next h2_hpack_encode allocates it again, empty. Meant
 * for a connection going idle. The dynamic table and what decides indexing
 * are kept (output after a trim is what it would have been). NULL is a
 * no-op. */
void h2_hpack_encoder_trim(h2_hpack_encoder *e);

/* h2_hpack_encoder_memory returns the bytes |e| holds from its allocator. */
size_t h2_hpack_encoder_memory(const h2_hpack_encoder *e);

#ifdef __cplusplus
}
#endif

#endif

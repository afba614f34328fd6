/* http_check.h: RFC 9113 §8 HTTP message checks as pure functions.
 *
 * A header block is checked field by field (h2_http_check_field, in wire
 * order) and then as a whole (h2_http_check_end). The first rule broken is
 * remembered (|err|, |why|); later fields are still accepted so a caller
 * can keep decoding. A malformed message is a stream error PROTOCOL_ERROR
 * (§8.1.1). The engine applies these to received blocks and, for submits, to
 * the blocks the application asks us to send.
 *
 * Rules: field names non-empty, without 0x00-0x20, 'A'-'Z', 0x7f-0xff, and
 * ':' only as the first character; values without NUL, CR, LF and without
 * leading/trailing SP or HTAB (§8.2.1); pseudo-headers only the ones defined
 * for the message kind, each at most once, all before regular fields, none
 * in trailers (§8.3); connection-specific fields (connection,
 * proxy-connection, keep-alive, transfer-encoding, upgrade) rejected, te
 * only "trailers" (§8.2.2); requests need :method, :scheme, :path (non-empty)
 * except CONNECT which needs :authority and neither :scheme nor :path,
 * unless extended CONNECT (:protocol, RFC 8441, only when enabled) which
 * needs all four; responses need exactly one 3-digit :status, 101 is
 * rejected, a 1xx cannot end the stream; content-length must be digits and
 * repeated values equal. Libc only, no allocation. */
#ifndef H2_HTTP_CHECK_H
#define H2_HTTP_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "h2_hpack.h"

/* Message kinds. */
#define H2_HTTP_REQUEST 1
#define H2_HTTP_RESPONSE 2 /* final or 1xx: decided by :status */
#define H2_HTTP_TRAILERS 3
#define H2_HTTP_PUSH_REQUEST 4 /* PUSH_PROMISE: a request that must be safe + cacheable */

/* Methods recognized (h2_http_check.method). */
#define H2_HTTP_METHOD_OTHER 0
#define H2_HTTP_METHOD_GET 1
#define H2_HTTP_METHOD_HEAD 2
#define H2_HTTP_METHOD_CONNECT 3
#define H2_HTTP_METHOD_POST 4
#define H2_HTTP_METHOD_OPTIONS 5

/* 32 bytes: the engine keeps one per connection for the block being
 * received (h2core/conn_internal.h), so the small fields are small. */
typedef struct h2_http_check {
  int64_t content_length; /* -1 if absent */
  const char *why;      /* static description of the first rule broken */
  uint32_t seen;        /* bit per pseudo-header seen (H2_HTTP_PH_*) */
  int16_t err;          /* 0, or H2_ERR_PROTOCOL for the first rule broken */
  int16_t status;       /* :status value (3 digits), -1 if none */
  uint8_t kind;         /* H2_HTTP_REQUEST .. H2_HTTP_PUSH_REQUEST */
  uint8_t connect_protocol; /* SETTINGS_ENABLE_CONNECT_PROTOCOL we advertised */
  uint8_t regular_seen;
  uint8_t method;       /* H2_HTTP_METHOD_* */
  uint8_t path_is_asterisk;
  uint8_t path_not_origin; /* :path does not start with '/' */
} h2_http_check;

/* h2_http_check_init starts checking a block of |kind|. */
void h2_http_check_init(h2_http_check *c, int kind, int connect_protocol);

/* h2_http_check_field checks one field. Returns 0 or H2_ERR_PROTOCOL (also
 * stored in c->err if it is the first). */
int h2_http_check_field(h2_http_check *c, const char *name, size_t name_len, const char *value,
                        size_t value_len);

/* h2_http_check_field_known is h2_http_check_field when the name
 * (H2_HTTP_KNOWN_NAME in |known|) and/or the value (H2_HTTP_KNOWN_VALUE) are
 * already known to pass the §8.2.1 character rules, e.g. strings of the
 * HPACK static table (all of which do): those are not scanned again; every
 * other rule applies. */
#define H2_HTTP_KNOWN_NAME 1u
#define H2_HTTP_KNOWN_VALUE 2u
int h2_http_check_field_known(h2_http_check *c, const char *name, size_t name_len, const char *value,
                              size_t value_len, unsigned known);

/* Pseudo-header bits (h2_http_check.seen). */
#define H2_HTTP_PH_METHOD 0x01u
#define H2_HTTP_PH_SCHEME 0x02u
#define H2_HTTP_PH_AUTHORITY 0x04u
#define H2_HTTP_PH_PATH 0x08u
#define H2_HTTP_PH_PROTOCOL 0x10u
#define H2_HTTP_PH_STATUS 0x20u

/* h2_http_pseudo_bit returns the H2_HTTP_PH_* bit of a pseudo-header name
 * this checker knows (:method, :scheme, :authority, :path, :protocol,
 * :status), or 0 for any other name. */
uint32_t h2_http_pseudo_bit(const char *name, size_t name_len);

/* h2_http_check_pseudo is h2_http_check_field_known for a field whose name
 * is the pseudo-header of |bit| (h2_http_pseudo_bit, 0 = an unknown one)
 * and whose name and value octets are known to pass the character rules:
 * every other rule applies (order, message kind, duplicates, the value's
 * rules). Returns 0 or H2_ERR_PROTOCOL. */
int h2_http_check_pseudo(h2_http_check *c, uint32_t bit, const char *value, size_t value_len);

/* h2_http_check_fields checks |n| fields f[0..n) in order, nothing known
 * about them (h2_http_check_field on each, in one loop), for fields the
 * application gives to send. Returns 0, H2_ERR_INVALID_ARG for a field
 * with a NULL or empty name or a NULL value of non-zero length, or
 * H2_ERR_PROTOCOL at the first rule broken (also in c->err); stops there. */
int h2_http_check_fields(h2_http_check *c, const h2_hpack_field *f, size_t n);

/* h2_http_name_plain tells whether |name| is a regular field name that no
 * rule beyond the character rules and "after every pseudo-header" concerns
 * (not a pseudo-header, not connection-specific, not te or content-length):
 * for such a name whose octets are known to pass, h2_http_check_field_known
 * only records that a regular field was seen, whatever the value. */
int h2_http_name_plain(const char *name, size_t name_len);

/* h2_http_check_plain is h2_http_check_field_known for a field whose name
 * h2_http_name_plain accepted and whose name and value octets are known to
 * pass (e.g. checked before, same octets). */
static inline void h2_http_check_plain(h2_http_check *c) { c->regular_seen = 1; }

/* h2_http_check_end checks the block as a whole; |end_stream| tells whether
 * the block ends the stream. Returns c->err or the first whole-block error. */
int h2_http_check_end(h2_http_check *c, int end_stream);

/* h2_http_check_is_info returns 1 if the checked response is 1xx. */
int h2_http_check_is_info(const h2_http_check *c);

/* h2_http_name_ok / h2_http_value_ok: the §8.2.1 character rules alone. */
int h2_http_name_ok(const char *name, size_t len);
int h2_http_value_ok(const char *value, size_t len);

/* h2_http_parse_content_length parses a content-length value (1..19 digits).
 * Returns the value or -1 if invalid. */
int64_t h2_http_parse_content_length(const char *v, size_t len);

#endif

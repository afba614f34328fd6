/* test_api_settings.c: Node-style settings (defaults, validation messages,
 * pack/unpack) and authority URL parsing of the public API. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "api_internal.h"

static void test_defaults(void **state) {
  (void)state;
  h2_settings s;
  memset(&s, 0xab, sizeof s);
  h2_settings_default(&s);
  assert_int_equal(s.header_table_size, 4096);
  assert_int_equal(s.enable_push, 1);
  assert_int_equal(s.max_concurrent_streams, 0xffffffffu);
  assert_int_equal(s.initial_window_size, 65535);
  assert_int_equal(s.max_frame_size, 16384);
  assert_int_equal(s.max_header_list_size, 65535);
  assert_int_equal(s.enable_connect_protocol, 0);
  assert_int_equal(h2_settings_validate(&s), 0);
}

static void test_validation_messages(void **state) {
  (void)state;
  h2_settings s;
  h2_settings_default(&s);
  s.max_frame_size = 16383;
  assert_int_equal(h2_settings_validate(&s), H2_ERR_INVALID_ARG);
  assert_non_null(strstr(h2_last_error_message(), "maxFrameSize"));
  assert_non_null(strstr(h2_last_error_message(), "16383"));
  h2_settings_default(&s);
  s.max_frame_size = 1u << 24;
  assert_int_equal(h2_settings_validate(&s), H2_ERR_INVALID_ARG);
  h2_settings_default(&s);
  s.initial_window_size = 0x80000000u;
  assert_int_equal(h2_settings_validate(&s), H2_ERR_INVALID_ARG);
  assert_non_null(strstr(h2_last_error_message(), "initialWindowSize"));
  h2_settings_default(&s);
  s.enable_push = 2;
  assert_int_equal(h2_settings_validate(&s), H2_ERR_INVALID_ARG);
  assert_non_null(strstr(h2_last_error_message(), "enablePush"));
  h2_settings_default(&s);
  s.enable_connect_protocol = 7;
  assert_int_equal(h2_settings_validate(&s), H2_ERR_INVALID_ARG);
  h2_settings_default(&s);
  s.initial_window_size = 0x7fffffffu;
  s.max_frame_size = (1u << 24) - 1;
  assert_int_equal(h2_settings_validate(&s), 0);

  h2_options o;
  h2_options_default(&o);
  assert_int_equal(h2_options_validate(&o), 0);
  o.max_header_list_pairs = 3;
  assert_int_equal(h2_options_validate(&o), H2_ERR_INVALID_ARG);
  assert_non_null(strstr(h2_last_error_message(), "maxHeaderListPairs"));
  h2_options_default(&o);
  o.has_settings = 1;
  h2_settings_default(&o.settings);
  o.settings.max_frame_size = 5;
  assert_int_equal(h2_options_validate(&o), H2_ERR_INVALID_ARG);
}

static void test_pack_unpack(void **state) {
  (void)state;
  h2_settings s, t;
  h2_settings_default(&s);
  s.enable_push = 0;
  uint8_t buf[64];
  int n = h2_settings_pack(buf, sizeof buf, &s);
  assert_int_equal(n, 42);
  /* enablePush = false packs as 00 02 00 00 00 00 (Node's test vector). */
  const uint8_t push_off[6] = {0x00, 0x02, 0x00, 0x00, 0x00, 0x00};
  assert_memory_equal(buf + 6, push_off, 6);
  h2_settings_default(&t);
  assert_int_equal(h2_settings_unpack(&t, buf, (size_t)n), 0);
  assert_memory_equal(&s, &t, sizeof s);
  /* Every field round-trips, including enableConnectProtocol. */
  s.header_table_size = 1;
  s.max_concurrent_streams = 7;
  s.initial_window_size = 0x7fffffff;
  s.max_frame_size = 65536;
  s.max_header_list_size = 100;
  s.enable_connect_protocol = 1;
  n = h2_settings_pack(buf, sizeof buf, &s);
  h2_settings_default(&t);
  assert_int_equal(h2_settings_unpack(&t, buf, (size_t)n), 0);
  assert_memory_equal(&s, &t, sizeof s);
  /* Unknown ids are ignored; a bad length or value is refused unchanged. */
  const uint8_t unknown[6] = {0x00, 0x99, 0x00, 0x00, 0x00, 0x05};
  assert_int_equal(h2_settings_unpack(&t, unknown, 6), 0);
  assert_int_equal(t.present, 0); /* no known id seen; the values stay */
  t.present = H2_HAS_ALL_SETTINGS;
  assert_memory_equal(&s, &t, sizeof s);
  assert_int_equal(h2_settings_unpack(&t, unknown, 5), H2_ERR_FRAME_SIZE);
  const uint8_t bad[6] = {0x00, 0x05, 0x00, 0x00, 0x00, 0x01}; /* maxFrameSize 1 */
  assert_int_equal(h2_settings_unpack(&t, bad, 6), H2_ERR_INVALID_ARG);
  assert_memory_equal(&s, &t, sizeof s);
  assert_int_equal(h2_settings_pack(buf, 41, &s), H2_ERR_BUF_TOO_SMALL);
}

static void hex(char *out, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
  out[2 * n] = '\0';
}

/* Node's getPackedSettings / getUnpackedSettings vectors, as Node 20
 * produces them: only the given settings, in identifier order. */
static void test_pack_node_vectors(void **state) {
  (void)state;
  uint8_t buf[64];
  char text[200];
  h2_settings s, t;
  /* getPackedSettings({enablePush: false}) is base64 AAIAAAAA. The other
   * fields are not given, so not read: garbage there does not matter. */
  memset(&s, 0xee, sizeof s);
  s.enable_push = 0;
  s.present = H2_HAS_ENABLE_PUSH;
  assert_int_equal(h2_settings_pack(buf, sizeof buf, &s), 6);
  const uint8_t aaiaaaaa[6] = {0x00, 0x02, 0x00, 0x00, 0x00, 0x00};
  assert_memory_equal(buf, aaiaaaaa, 6);
  assert_int_equal(h2_settings_pack(buf, 5, &s), H2_ERR_BUF_TOO_SMALL);
  /* getPackedSettings({}) is empty. */
  s.present = 0;
  assert_int_equal(h2_settings_pack(buf, 0, &s), 0);
  /* All seven, given in any order, go out in identifier order. */
  h2_settings_default(&s);
  s.header_table_size = 1;
  s.enable_push = 1;
  s.max_concurrent_streams = 3;
  s.initial_window_size = 4;
  s.max_frame_size = 16385;
  s.max_header_list_size = 6;
  s.enable_connect_protocol = 1;
  int n = h2_settings_pack(buf, sizeof buf, &s);
  assert_int_equal(n, 42);
  hex(text, buf, (size_t)n);
  assert_string_equal(text, "000100000001000200000001000300000003000400000004"
                            "000500004001000600000006000800000001");
  /* Two of them: maxFrameSize then maxHeaderListSize. */
  s.present = H2_HAS_MAX_HEADER_LIST_SIZE | H2_HAS_MAX_FRAME_SIZE;
  n = h2_settings_pack(buf, sizeof buf, &s);
  assert_int_equal(n, 12);
  hex(text, buf, (size_t)n);
  assert_string_equal(text, "000500004001000600000006");
  /* A given value out of range is refused; the same value not given is not read. */
  s.max_frame_size = 1;
  assert_int_equal(h2_settings_pack(buf, sizeof buf, &s), H2_ERR_INVALID_ARG);
  assert_non_null(strstr(h2_last_error_message(), "maxFrameSize"));
  s.present = H2_HAS_ENABLE_PUSH;
  assert_int_equal(h2_settings_pack(buf, sizeof buf, &s), 6);

  /* getUnpackedSettings(AAIAAAAA) is {enablePush: false}: present says so. */
  h2_settings_default(&t);
  assert_int_equal(h2_settings_unpack(&t, aaiaaaaa, 6), 0);
  assert_int_equal(t.present, H2_HAS_ENABLE_PUSH);
  assert_int_equal(t.enable_push, 0);
  assert_int_equal(t.max_frame_size, 16384); /* not seen: kept */
  /* maxConcurrentStreams 5 and an unknown id 9: only the known one. */
  const uint8_t two[12] = {0, 3, 0, 0, 0, 5, 0, 9, 0, 0, 0, 1};
  h2_settings_default(&t);
  assert_int_equal(h2_settings_unpack(&t, two, 12), 0);
  assert_int_equal(t.present, H2_HAS_MAX_CONCURRENT_STREAMS);
  assert_int_equal(t.max_concurrent_streams, 5);
  /* Empty: nothing present. */
  h2_settings_default(&t);
  assert_int_equal(h2_settings_unpack(&t, two, 0), 0);
  assert_int_equal(t.present, 0);
  /* The exact inverse: pack(unpack(x)) == x for every subset of the seven. */
  h2_settings_default(&s);
  s.header_table_size = 11;
  s.enable_push = 0;
  s.max_concurrent_streams = 33;
  s.initial_window_size = 44;
  s.max_frame_size = 55555;
  s.max_header_list_size = 66;
  s.enable_connect_protocol = 1;
  for (uint32_t sub = 0; sub < 128; sub++) {
    static const unsigned ids[7] = {1, 2, 3, 4, 5, 6, 8};
    uint32_t mask = 0;
    for (int i = 0; i < 7; i++)
      if (sub & (1u << i)) mask |= 1u << ids[i];
    s.present = mask;
    n = h2_settings_pack(buf, sizeof buf, &s);
    assert_int_equal(n, 6 * __builtin_popcount(sub));
    h2_settings_default(&t);
    assert_int_equal(h2_settings_unpack(&t, buf, (size_t)n), 0);
    assert_int_equal(t.present, mask);
    uint8_t again[64];
    assert_int_equal(h2_settings_pack(again, sizeof again, &t), n);
    assert_memory_equal(again, buf, (size_t)n);
  }
}

/* H2_CODE_* are the RFC 9113 wire codes (Node's NGHTTP2_* constants):
 * the negation of the matching h2_err, named by h2_err_rfc_name. */
static void test_code_constants(void **state) {
  (void)state;
  static const struct { uint32_t code; int err; const char *name; } c[] = {
      {H2_CODE_NO_ERROR, 0, "NO_ERROR"},
      {H2_CODE_PROTOCOL_ERROR, H2_ERR_PROTOCOL, "PROTOCOL_ERROR"},
      {H2_CODE_INTERNAL_ERROR, H2_ERR_INTERNAL, "INTERNAL_ERROR"},
      {H2_CODE_FLOW_CONTROL_ERROR, H2_ERR_FLOW_CONTROL, "FLOW_CONTROL_ERROR"},
      {H2_CODE_SETTINGS_TIMEOUT, H2_ERR_SETTINGS_TIMEOUT, "SETTINGS_TIMEOUT"},
      {H2_CODE_STREAM_CLOSED, H2_ERR_STREAM_CLOSED, "STREAM_CLOSED"},
      {H2_CODE_FRAME_SIZE_ERROR, H2_ERR_FRAME_SIZE, "FRAME_SIZE_ERROR"},
      {H2_CODE_REFUSED_STREAM, H2_ERR_REFUSED_STREAM, "REFUSED_STREAM"},
      {H2_CODE_CANCEL, H2_ERR_CANCEL, "CANCEL"},
      {H2_CODE_COMPRESSION_ERROR, H2_ERR_COMPRESSION, "COMPRESSION_ERROR"},
      {H2_CODE_CONNECT_ERROR, H2_ERR_CONNECT, "CONNECT_ERROR"},
      {H2_CODE_ENHANCE_YOUR_CALM, H2_ERR_ENHANCE_YOUR_CALM, "ENHANCE_YOUR_CALM"},
      {H2_CODE_INADEQUATE_SECURITY, H2_ERR_INADEQUATE_SECURITY, "INADEQUATE_SECURITY"},
      {H2_CODE_HTTP_1_1_REQUIRED, H2_ERR_HTTP_1_1_REQUIRED, "HTTP_1_1_REQUIRED"},
  };
  for (uint32_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    assert_int_equal(c[i].code, i); /* 0x0 .. 0xd in order */
    assert_int_equal(c[i].code, h2_err_rfc_code(c[i].err));
    assert_string_equal(h2_err_rfc_name(c[i].code), c[i].name);
  }
  h2_header h[] = {H2_HDR(H2_HEADER_STATUS, "200"), H2_HDR(H2_HEADER_CONTENT_TYPE, "text/plain")};
  assert_int_equal(h[0].name_len, 7);
  assert_ptr_equal(h2_header_find(h, 2, "content-type"), &h[1]);
  assert_string_equal(H2_HEADER_METHOD H2_HEADER_PATH H2_HEADER_SCHEME H2_HEADER_AUTHORITY
                          H2_HEADER_PROTOCOL H2_HEADER_CONTENT_LENGTH,
                      ":method:path:scheme:authority:protocolcontent-length");
}

struct url_case { int line; const char *url; int ok; int tls; const char *host; unsigned port; };
static const struct url_case url_cases[] = {
  {__LINE__, "https://example.com", 1, 1, "example.com", 443},
  {__LINE__, "http://example.com", 1, 0, "example.com", 80},
  {__LINE__, "http://127.0.0.1:8080/path?q#f", 1, 0, "127.0.0.1", 8080},
  {__LINE__, "https://user:pw@host:8443/x", 1, 1, "host", 8443},
  {__LINE__, "https://[::1]:9000/", 1, 1, "::1", 9000},
  {__LINE__, "http://[::1]", 1, 0, "::1", 80},
  {__LINE__, "localhost:1234", 1, 1, "localhost", 1234},
  {__LINE__, "ftp://host", 0, 0, NULL, 0},
  {__LINE__, "http://:80", 0, 0, NULL, 0},
  {__LINE__, "http://host:", 0, 0, NULL, 0},
  {__LINE__, "http://host:65536", 0, 0, NULL, 0},
  {__LINE__, "http://host:0", 0, 0, NULL, 0},
  {__LINE__, "http://host:8x", 0, 0, NULL, 0},
  {__LINE__, "http://[::1", 0, 0, NULL, 0},
  {__LINE__, "http://[::1]x", 0, 0, NULL, 0},
};

static void test_authority(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof url_cases / sizeof url_cases[0]; i++) {
    const struct url_case *c = &url_cases[i];
    int tls = -1;
    char host[64] = "";
    uint16_t port = 0;
    int rc = h2_parse_authority(c->url, 1, &tls, host, sizeof host, &port);
    if (c->ok) {
      if (rc) fail_msg("line %d: %s rejected: %s", c->line, c->url, h2_last_error_message());
      if (tls != c->tls || strcmp(host, c->host) || port != c->port)
        fail_msg("line %d: %s -> tls=%d host=%s port=%u", c->line, c->url, tls, host, port);
    } else if (rc != H2_ERR_INVALID_ARG) {
      fail_msg("line %d: %s accepted", c->line, c->url);
    }
  }
  /* Node's options.protocol "http:": a URL without a scheme is h2c, port 80
   * unless given; a scheme in the URL wins. */
  static const struct url_case h2c_cases[] = {
    {__LINE__, "localhost:1234", 1, 0, "localhost", 1234},
    {__LINE__, "example.com/x", 1, 0, "example.com", 80},
    {__LINE__, "https://example.com", 1, 1, "example.com", 443},
    {__LINE__, "http://example.com", 1, 0, "example.com", 80},
  };
  for (size_t i = 0; i < sizeof h2c_cases / sizeof h2c_cases[0]; i++) {
    const struct url_case *c = &h2c_cases[i];
    int tls = -1;
    char host[64] = "";
    uint16_t port = 0;
    if (h2_parse_authority(c->url, 0, &tls, host, sizeof host, &port))
      fail_msg("line %d: %s rejected: %s", c->line, c->url, h2_last_error_message());
    if (tls != c->tls || strcmp(host, c->host) || port != c->port)
      fail_msg("line %d: %s -> tls=%d host=%s port=%u", c->line, c->url, tls, host, port);
  }
  char tiny[4];
  int tls;
  uint16_t port;
  assert_int_equal(h2_parse_authority("http://longhost", 1, &tls, tiny, sizeof tiny, &port),
                   H2_ERR_INVALID_ARG);
}

static void test_header_find(void **state) {
  (void)state;
  h2_header h[] = {H2_HDR(":status", "200"), H2_HDR("content-type", "text/plain")};
  assert_ptr_equal(h2_header_find(h, 2, "content-type"), &h[1]);
  assert_null(h2_header_find(h, 2, "content"));
  assert_null(h2_header_find(h, 0, ":status"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_defaults),
    cmocka_unit_test(test_validation_messages),
    cmocka_unit_test(test_pack_unpack),
    cmocka_unit_test(test_pack_node_vectors),
    cmocka_unit_test(test_code_constants),
    cmocka_unit_test(test_authority),
    cmocka_unit_test(test_header_find),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

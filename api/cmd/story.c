/* story.c: strict JSON reader and writer for hpack-test-case stories.
 *
 * The reader is a recursive-descent parser driven by the story schema: the
 * members it knows are parsed into an h2_story, every other value is checked
 * for JSON validity and skipped. Errors record the byte offset where they were
 * found; line and column are computed from it when the message is built. */
#include "story.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
  const uint8_t *in;
  size_t len;
  size_t pos;
  int depth;
  int failed;
  char *err;
  size_t err_len;
} parser;

static void fail_at(parser *ps, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_at(parser *ps, size_t at, const char *fmt, ...) {
  if (ps->failed) return;
  ps->failed = 1;
  if (!ps->err || !ps->err_len) return;
  size_t line = 1, col = 1;
  if (at > ps->len) at = ps->len;
  for (size_t i = 0; i < at; i++) {
    if (ps->in[i] == '\n') { line++; col = 1; } else { col++; }
  }
  int n = snprintf(ps->err, ps->err_len, "line %zu, column %zu: ", line, col);
  if (n < 0 || (size_t)n >= ps->err_len) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ps->err + n, ps->err_len - (size_t)n, fmt, ap);
  va_end(ap);
}

static void skip_ws(parser *ps) {
  while (ps->pos < ps->len) {
    uint8_t c = ps->in[ps->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    ps->pos++;
  }
}

/* peek returns the next non-blank byte without consuming it, or -1 at the end. */
static int peek(parser *ps) {
  skip_ws(ps);
  return ps->pos < ps->len ? ps->in[ps->pos] : -1;
}

static const char *describe(int c, char *buf, size_t n) {
  if (c < 0) return "end of input";
  if (c >= 0x21 && c < 0x7f) snprintf(buf, n, "'%c'", c);
  else snprintf(buf, n, "byte 0x%02x", c);
  return buf;
}

/* expect consumes byte |c| (after blanks) or fails. */
static int expect(parser *ps, uint8_t c, const char *what) {
  int got = peek(ps);
  if (got != c) {
    char b[16];
    fail_at(ps, ps->pos, "expected %s, found %s", what, describe(got, b, sizeof b));
    return 0;
  }
  ps->pos++;
  return 1;
}

/* enter/leave bound the nesting depth. */
static int enter(parser *ps) {
  if (ps->depth >= H2_STORY_MAX_DEPTH) {
    fail_at(ps, ps->pos, "nesting deeper than %d levels", H2_STORY_MAX_DEPTH);
    return 0;
  }
  ps->depth++;
  return 1;
}
static void leave(parser *ps) { ps->depth--; }

static int hexval(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* read_u16hex reads the 4 hex digits at |at|. */
static int read_u16hex(parser *ps, size_t at, uint32_t *out) {
  if (ps->len - at < 4) {
    fail_at(ps, ps->len, "truncated \\u escape");
    return 0;
  }
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(ps->in[at + (size_t)i]);
    if (h < 0) {
      fail_at(ps, at + (size_t)i, "\\u escape needs 4 hex digits");
      return 0;
    }
    v = (v << 4) | (uint32_t)h;
  }
  *out = v;
  return 1;
}

static size_t put_utf8(uint8_t *o, uint32_t cp) {
  if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
  if (cp < 0x800) {
    o[0] = (uint8_t)(0xc0 | (cp >> 6));
    o[1] = (uint8_t)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (uint8_t)(0xe0 | (cp >> 12));
    o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (uint8_t)(0x80 | (cp & 0x3f));
    return 3;
  }
  o[0] = (uint8_t)(0xf0 | (cp >> 18));
  o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
  o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
  o[3] = (uint8_t)(0x80 | (cp & 0x3f));
  return 4;
}

/* utf8_len returns the length of the valid UTF-8 sequence at |s| (|n| bytes
 * available), or 0 when it is not valid (overlong, surrogate, > U+10FFFF,
 * truncated). */
static size_t utf8_len(const uint8_t *s, size_t n) {
  uint8_t c = s[0];
  if (c < 0x80) return 1;
  size_t need;
  uint32_t cp, min;
  if (c >= 0xc2 && c <= 0xdf) { need = 2; cp = c & 0x1f; min = 0x80; }
  else if (c >= 0xe0 && c <= 0xef) { need = 3; cp = c & 0x0f; min = 0x800; }
  else if (c >= 0xf0 && c <= 0xf4) { need = 4; cp = c & 0x07; min = 0x10000; }
  else return 0;
  if (n < need) return 0;
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return need;
}

/* parse_string parses a string literal. With |out| non-NULL the decoded bytes
 * go into a malloc'd, NUL-terminated buffer (*out, *out_len); with |out| NULL
 * the string is only validated. */
static int parse_string(parser *ps, char **out, size_t *out_len) {
  if (!expect(ps, '"', "a string")) return 0;
  /* Find the closing quote; the decoded string is never longer than the raw. */
  size_t start = ps->pos, end = start;
  while (end < ps->len && ps->in[end] != '"') end += ps->in[end] == '\\' ? 2 : 1;
  if (end >= ps->len) {
    fail_at(ps, start - 1, "unterminated string");
    return 0;
  }
  uint8_t *buf = NULL;
  if (out) {
    buf = malloc(end - start + 1);
    if (!buf) {
      fail_at(ps, start, "out of memory");
      return 0;
    }
  }
  size_t o = 0, i = start;
  uint8_t tmp[4];
  while (i < end) {
    uint8_t c = ps->in[i];
    if (c < 0x20) {
      fail_at(ps, i, "control character 0x%02x in a string must be escaped", c);
      goto err;
    }
    if (c < 0x80 && c != '\\') { /* plain ASCII: the common case */
      if (buf) buf[o] = c;
      o++;
      i++;
      continue;
    }
    if (c != '\\') {
      size_t n = utf8_len(ps->in + i, end - i);
      if (!n) {
        fail_at(ps, i, "invalid UTF-8 in a string");
        goto err;
      }
      if (buf) memcpy(buf + o, ps->in + i, n);
      o += n;
      i += n;
      continue;
    }
    uint8_t e = ps->in[i + 1]; /* i + 1 < end: the scan above skipped it */
    uint8_t ch;
    switch (e) {
      case '"': ch = '"'; break;
      case '\\': ch = '\\'; break;
      case '/': ch = '/'; break;
      case 'b': ch = '\b'; break;
      case 'f': ch = '\f'; break;
      case 'n': ch = '\n'; break;
      case 'r': ch = '\r'; break;
      case 't': ch = '\t'; break;
      case 'u': {
        uint32_t cp;
        if (!read_u16hex(ps, i + 2, &cp)) goto err;
        size_t consumed = 6;
        if (cp >= 0xdc00 && cp <= 0xdfff) {
          fail_at(ps, i, "lone low surrogate \\u%04x", (unsigned)cp);
          goto err;
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
          uint32_t lo;
          if (ps->len - i < 12 || ps->in[i + 6] != '\\' || ps->in[i + 7] != 'u') {
            fail_at(ps, i, "high surrogate \\u%04x not followed by a low surrogate", (unsigned)cp);
            goto err;
          }
          if (!read_u16hex(ps, i + 8, &lo)) goto err;
          if (lo < 0xdc00 || lo > 0xdfff) {
            fail_at(ps, i + 6, "\\u%04x after high surrogate is not a low surrogate", (unsigned)lo);
            goto err;
          }
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          consumed = 12;
        }
        if (i + consumed > end) { /* cannot happen: hex digits are not quotes */
          fail_at(ps, i, "truncated \\u escape");
          goto err;
        }
        size_t n = put_utf8(tmp, cp);
        if (buf) memcpy(buf + o, tmp, n);
        o += n;
        i += consumed;
        continue;
      }
      default:
        fail_at(ps, i, "invalid escape '\\%c'", e >= 0x20 && e < 0x7f ? e : '?');
        goto err;
    }
    if (buf) buf[o] = ch;
    o++;
    i += 2;
  }
  ps->pos = end + 1;
  if (out) {
    buf[o] = 0;
    *out = (char *)buf;
    *out_len = o;
  }
  return 1;
err:
  free(buf);
  return 0;
}

/* parse_number validates a JSON number. When it is a plain non-negative
 * integer literal that fits in 32 bits, *is_u32 is set and *out holds it. */
static int parse_number(parser *ps, int *is_u32, uint32_t *out) {
  skip_ws(ps);
  size_t start = ps->pos, i = start;
  const uint8_t *s = ps->in;
  int neg = 0, frac = 0, big = 0;
  uint64_t v = 0;
  if (i < ps->len && s[i] == '-') { neg = 1; i++; }
  if (i >= ps->len || s[i] < '0' || s[i] > '9') {
    fail_at(ps, i, "invalid number");
    return 0;
  }
  if (s[i] == '0') {
    i++;
    if (i < ps->len && s[i] >= '0' && s[i] <= '9') {
      fail_at(ps, start, "numbers must not have leading zeros");
      return 0;
    }
  } else {
    while (i < ps->len && s[i] >= '0' && s[i] <= '9') {
      if (v > UINT32_MAX) big = 1;
      else v = v * 10 + (uint64_t)(s[i] - '0');
      i++;
    }
  }
  if (i < ps->len && s[i] == '.') {
    frac = 1;
    i++;
    if (i >= ps->len || s[i] < '0' || s[i] > '9') {
      fail_at(ps, i, "digit expected after '.'");
      return 0;
    }
    while (i < ps->len && s[i] >= '0' && s[i] <= '9') i++;
  }
  if (i < ps->len && (s[i] == 'e' || s[i] == 'E')) {
    frac = 1;
    i++;
    if (i < ps->len && (s[i] == '+' || s[i] == '-')) i++;
    if (i >= ps->len || s[i] < '0' || s[i] > '9') {
      fail_at(ps, i, "digit expected in exponent");
      return 0;
    }
    while (i < ps->len && s[i] >= '0' && s[i] <= '9') i++;
  }
  ps->pos = i;
  *is_u32 = !neg && !frac && !big && v <= UINT32_MAX;
  *out = *is_u32 ? (uint32_t)v : 0;
  return 1;
}

static int parse_literal(parser *ps, const char *word) {
  size_t n = strlen(word);
  if (ps->len - ps->pos < n || memcmp(ps->in + ps->pos, word, n) != 0) {
    fail_at(ps, ps->pos, "invalid literal (expected %s)", word);
    return 0;
  }
  ps->pos += n;
  return 1;
}

static int skip_value(parser *ps);

/* skip_container validates and skips an object (|obj|) or an array. */
static int skip_container(parser *ps, int obj) {
  if (!enter(ps)) return 0;
  ps->pos++; /* '{' or '[' */
  uint8_t close = obj ? '}' : ']';
  if (peek(ps) == close) {
    ps->pos++;
    leave(ps);
    return 1;
  }
  for (;;) {
    if (obj) {
      if (!parse_string(ps, NULL, NULL) || !expect(ps, ':', "':'")) return 0;
    }
    if (!skip_value(ps)) return 0;
    int c = peek(ps);
    if (c == ',') { ps->pos++; continue; }
    if (c == close) { ps->pos++; break; }
    char b[16];
    fail_at(ps, ps->pos, "expected ',' or '%c', found %s", close, describe(c, b, sizeof b));
    return 0;
  }
  leave(ps);
  return 1;
}

static int skip_value(parser *ps) {
  int c = peek(ps);
  char b[16];
  switch (c) {
    case '{': return skip_container(ps, 1);
    case '[': return skip_container(ps, 0);
    case '"': return parse_string(ps, NULL, NULL);
    case 't': return parse_literal(ps, "true");
    case 'f': return parse_literal(ps, "false");
    case 'n': return parse_literal(ps, "null");
    default:
      if (c == '-' || (c >= '0' && c <= '9')) {
        int is_u32;
        uint32_t v;
        return parse_number(ps, &is_u32, &v);
      }
      fail_at(ps, ps->pos, "expected a value, found %s", describe(c, b, sizeof b));
      return 0;
  }
}

/* Generic object iteration: obj_begin consumes '{'; obj_next returns 1 with
 * the next key in |key| (malloc'd) and the ':' consumed, 0 at '}' (consumed),
 * -1 on error. */
static int obj_begin(parser *ps, const char *what) {
  if (peek(ps) != '{') {
    char b[16];
    fail_at(ps, ps->pos, "%s must be an object, found %s", what, describe(peek(ps), b, sizeof b));
    return 0;
  }
  if (!enter(ps)) return 0;
  ps->pos++;
  return 1;
}

static int obj_next(parser *ps, int *first, char **key, size_t *key_len, size_t *key_pos) {
  int c = peek(ps);
  if (*first) {
    *first = 0;
    if (c == '}') { ps->pos++; leave(ps); return 0; }
  } else {
    if (c == '}') { ps->pos++; leave(ps); return 0; }
    if (c != ',') {
      char b[16];
      fail_at(ps, ps->pos, "expected ',' or '}', found %s", describe(c, b, sizeof b));
      return -1;
    }
    ps->pos++;
  }
  skip_ws(ps);
  *key_pos = ps->pos;
  if (!parse_string(ps, key, key_len)) return -1;
  if (!expect(ps, ':', "':'")) {
    free(*key);
    *key = NULL;
    return -1;
  }
  return 1;
}

static int arr_begin(parser *ps, const char *what) {
  if (peek(ps) != '[') {
    char b[16];
    fail_at(ps, ps->pos, "%s must be an array, found %s", what, describe(peek(ps), b, sizeof b));
    return 0;
  }
  if (!enter(ps)) return 0;
  ps->pos++;
  return 1;
}

/* arr_next returns 1 when another element follows, 0 at ']' (consumed), -1. */
static int arr_next(parser *ps, int *first) {
  int c = peek(ps);
  if (c == ']') { ps->pos++; leave(ps); return 0; }
  if (*first) { *first = 0; return 1; }
  if (c != ',') {
    char b[16];
    fail_at(ps, ps->pos, "expected ',' or ']', found %s", describe(c, b, sizeof b));
    return -1;
  }
  ps->pos++;
  return 1;
}

/* grow doubles an array's capacity when it is full. */
static int grow(parser *ps, void **arr, size_t *cap, size_t num, size_t elem) {
  if (num < *cap) return 1;
  size_t ncap = *cap ? *cap * 2 : 8;
  if (ncap > SIZE_MAX / elem) {
    fail_at(ps, ps->pos, "too many elements");
    return 0;
  }
  void *p = realloc(*arr, ncap * elem);
  if (!p) {
    fail_at(ps, ps->pos, "out of memory");
    return 0;
  }
  *arr = p;
  *cap = ncap;
  return 1;
}

static int parse_u32_member(parser *ps, const char *key, int allow_null, int *has, uint32_t *out) {
  int c = peek(ps);
  if (allow_null && c == 'n') {
    if (!parse_literal(ps, "null")) return 0;
    *has = 0;
    return 1;
  }
  size_t at = ps->pos;
  if (c != '-' && !(c >= '0' && c <= '9')) {
    char b[16];
    fail_at(ps, at, "\"%s\" must be a number%s, found %s", key, allow_null ? " or null" : "",
            describe(c, b, sizeof b));
    return 0;
  }
  int is_u32;
  if (!parse_number(ps, &is_u32, out)) return 0;
  if (!is_u32) {
    fail_at(ps, at, "\"%s\" must be an integer from 0 to 4294967295", key);
    return 0;
  }
  *has = 1;
  return 1;
}

static int parse_wire(parser *ps, h2_story_case *cs) {
  skip_ws(ps);
  size_t at = ps->pos;
  char *hex;
  size_t n;
  if (peek(ps) != '"') {
    char b[16];
    fail_at(ps, at, "\"wire\" must be a hex string, found %s", describe(peek(ps), b, sizeof b));
    return 0;
  }
  if (!parse_string(ps, &hex, &n)) return 0;
  if (n % 2) {
    fail_at(ps, at, "\"wire\" has an odd number of hex digits (%zu)", n);
    free(hex);
    return 0;
  }
  uint8_t *w = NULL;
  if (n) {
    w = malloc(n / 2);
    if (!w) {
      fail_at(ps, at, "out of memory");
      free(hex);
      return 0;
    }
  }
  for (size_t i = 0; i < n; i += 2) {
    int hi = hexval((uint8_t)hex[i]), lo = hexval((uint8_t)hex[i + 1]);
    if (hi < 0 || lo < 0) {
      fail_at(ps, at, "\"wire\" has a non-hex character at offset %zu", hi < 0 ? i : i + 1);
      free(hex);
      free(w);
      return 0;
    }
    w[i / 2] = (uint8_t)(hi << 4 | lo);
  }
  free(hex);
  cs->wire = w;
  cs->wire_len = n / 2;
  cs->has_wire = 1;
  return 1;
}

static int parse_headers(parser *ps, h2_story_case *cs) {
  size_t cap = 0;
  if (!arr_begin(ps, "\"headers\"")) return 0;
  int first = 1, r;
  while ((r = arr_next(ps, &first)) == 1) {
    if (!obj_begin(ps, "each element of \"headers\"")) return 0;
    int ofirst = 1, k;
    char *name;
    size_t name_len, name_pos;
    while ((k = obj_next(ps, &ofirst, &name, &name_len, &name_pos)) == 1) {
      char *value;
      size_t value_len;
      skip_ws(ps);
      if (peek(ps) != '"') {
        char b[16];
        fail_at(ps, ps->pos, "a header value must be a string, found %s", describe(peek(ps), b, sizeof b));
        free(name);
        return 0;
      }
      if (!parse_string(ps, &value, &value_len)) {
        free(name);
        return 0;
      }
      if (!grow(ps, (void **)&cs->fields, &cap, cs->num_fields, sizeof *cs->fields)) {
        free(name);
        free(value);
        return 0;
      }
      h2_story_field *f = &cs->fields[cs->num_fields++];
      f->name = name;
      f->name_len = name_len;
      f->value = value;
      f->value_len = value_len;
    }
    if (k < 0) return 0;
  }
  return r == 0;
}

static int parse_case(parser *ps, h2_story_case *cs) {
  if (!obj_begin(ps, "a case")) return 0;
  size_t case_pos = ps->pos - 1;
  int first = 1, k, seen_headers = 0, seen_ts = 0;
  char *key;
  size_t key_len, key_pos;
  while ((k = obj_next(ps, &first, &key, &key_len, &key_pos)) == 1) {
    int ok = 1, dup = 0;
    if (!strcmp(key, "seqno") && key_len == 5) {
      dup = cs->has_seqno;
      ok = dup || parse_u32_member(ps, "seqno", 0, &cs->has_seqno, &cs->seqno);
    } else if (!strcmp(key, "header_table_size") && key_len == 17) {
      dup = seen_ts;
      seen_ts = 1;
      ok = dup || parse_u32_member(ps, "header_table_size", 1, &cs->has_table_size, &cs->header_table_size);
    } else if (!strcmp(key, "wire") && key_len == 4) {
      dup = cs->has_wire;
      ok = dup || parse_wire(ps, cs);
    } else if (!strcmp(key, "headers") && key_len == 7) {
      dup = seen_headers;
      seen_headers = 1;
      ok = dup || parse_headers(ps, cs);
    } else {
      ok = skip_value(ps);
    }
    if (dup) fail_at(ps, key_pos, "duplicate key \"%s\" in a case", key);
    free(key);
    if (dup || !ok) return 0;
  }
  if (k < 0) return 0;
  if (!seen_headers) {
    fail_at(ps, case_pos, "a case without \"headers\"");
    return 0;
  }
  return 1;
}

static void free_case(h2_story_case *cs) {
  free(cs->wire);
  for (size_t i = 0; i < cs->num_fields; i++) {
    free(cs->fields[i].name);
    free(cs->fields[i].value);
  }
  free(cs->fields);
  memset(cs, 0, sizeof *cs);
}

static int parse_cases(parser *ps, h2_story *st) {
  size_t cap = 0;
  if (!arr_begin(ps, "\"cases\"")) return 0;
  int first = 1, r;
  while ((r = arr_next(ps, &first)) == 1) {
    if (!grow(ps, (void **)&st->cases, &cap, st->num_cases, sizeof *st->cases)) return 0;
    h2_story_case *cs = &st->cases[st->num_cases++];
    memset(cs, 0, sizeof *cs);
    if (!parse_case(ps, cs)) return 0;
  }
  return r == 0;
}

static int parse_opt_string(parser *ps, const char *key, char **out) {
  size_t n;
  skip_ws(ps);
  if (peek(ps) != '"') {
    char b[16];
    fail_at(ps, ps->pos, "\"%s\" must be a string, found %s", key, describe(peek(ps), b, sizeof b));
    return 0;
  }
  return parse_string(ps, out, &n);
}

void h2_story_free(h2_story *s) {
  if (!s) return;
  for (size_t i = 0; i < s->num_cases; i++) free_case(&s->cases[i]);
  free(s->cases);
  free(s->description);
  free(s->context);
  memset(s, 0, sizeof *s);
}

int h2_story_parse(h2_story *out, const char *json, size_t len, char *err, size_t err_len) {
  parser ps = {(const uint8_t *)json, len, 0, 0, 0, err, err_len};
  memset(out, 0, sizeof *out);
  if (err && err_len) err[0] = 0;
  if (len > H2_STORY_MAX_INPUT) {
    fail_at(&ps, 0, "input larger than %zu bytes", H2_STORY_MAX_INPUT);
    return -1;
  }
  if (len >= 3 && !memcmp(json, "\xef\xbb\xbf", 3)) ps.pos = 3;
  int seen_cases = 0;
  if (!obj_begin(&ps, "a story")) goto fail;
  int first = 1, k;
  char *key;
  size_t key_len, key_pos;
  while ((k = obj_next(&ps, &first, &key, &key_len, &key_pos)) == 1) {
    int ok, dup = 0;
    if (!strcmp(key, "cases") && key_len == 5) {
      dup = seen_cases;
      seen_cases = 1;
      ok = dup || parse_cases(&ps, out);
    } else if (!strcmp(key, "description") && key_len == 11) {
      dup = out->description != NULL;
      ok = dup || parse_opt_string(&ps, "description", &out->description);
    } else if (!strcmp(key, "context") && key_len == 7) {
      dup = out->context != NULL;
      ok = dup || parse_opt_string(&ps, "context", &out->context);
    } else {
      ok = skip_value(&ps);
    }
    if (dup) fail_at(&ps, key_pos, "duplicate key \"%s\" in the story", key);
    free(key);
    if (dup || !ok) goto fail;
  }
  if (k < 0) goto fail;
  if (!seen_cases) {
    fail_at(&ps, 0, "the story has no \"cases\" member");
    goto fail;
  }
  if (peek(&ps) != -1) {
    fail_at(&ps, ps.pos, "unexpected data after the story object");
    goto fail;
  }
  return 0;
fail:
  if (!ps.failed) fail_at(&ps, ps.pos, "parse error");
  h2_story_free(out);
  return -1;
}

int h2_story_read_file(FILE *f, char **out_buf, size_t *out_len, char *err, size_t err_len) {
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap + 1);
  *out_buf = NULL;
  *out_len = 0;
  if (!buf) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  for (;;) {
    if (len == cap) {
      if (cap >= H2_STORY_MAX_INPUT) {
        snprintf(err, err_len, "input larger than %zu bytes", H2_STORY_MAX_INPUT);
        free(buf);
        return -1;
      }
      size_t ncap = cap * 2;
      char *p = realloc(buf, ncap + 1);
      if (!p) {
        snprintf(err, err_len, "out of memory");
        free(buf);
        return -1;
      }
      buf = p;
      cap = ncap;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) {
      if (ferror(f)) {
        snprintf(err, err_len, "read error: %s", strerror(errno));
        free(buf);
        return -1;
      }
      break;
    }
  }
  buf[len] = 0;
  *out_buf = buf;
  *out_len = len;
  return 0;
}

int h2_story_load(h2_story *out, const char *path, char *err, size_t err_len) {
  char msg[256];
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, err_len, "%s: %s", path, strerror(errno));
    return -1;
  }
  char *buf;
  size_t len;
  int rc = h2_story_read_file(f, &buf, &len, msg, sizeof msg);
  fclose(f);
  if (rc == 0) {
    rc = h2_story_parse(out, buf, len, msg, sizeof msg);
    free(buf);
  }
  if (rc != 0) snprintf(err, err_len, "%s: %s", path, msg);
  return rc;
}

/* ---- writer ---- */

int h2_story_write_string(FILE *f, const char *str, size_t len) {
  const uint8_t *s = (const uint8_t *)str;
  if (putc('"', f) == EOF) return -1;
  size_t i = 0;
  while (i < len) {
    uint8_t c = s[i];
    const char *esc = NULL;
    switch (c) {
      case '"': esc = "\\\""; break;
      case '\\': esc = "\\\\"; break;
      case '\b': esc = "\\b"; break;
      case '\f': esc = "\\f"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\t': esc = "\\t"; break;
      default: break;
    }
    if (esc) {
      if (fputs(esc, f) == EOF) return -1;
      i++;
      continue;
    }
    if (c < 0x20 || c == 0x7f) {
      if (fprintf(f, "\\u%04x", c) < 0) return -1;
      i++;
      continue;
    }
    size_t n = utf8_len(s + i, len - i);
    if (n == 0) { /* not UTF-8: write the byte's Latin-1 reading */
      if (fprintf(f, "\\u%04x", c) < 0) return -1;
      i++;
      continue;
    }
    if (fwrite(s + i, 1, n, f) != n) return -1;
    i += n;
  }
  return putc('"', f) == EOF ? -1 : 0;
}

static int write_hex(FILE *f, const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  if (putc('"', f) == EOF) return -1;
  for (size_t i = 0; i < n; i++) {
    if (putc(digits[p[i] >> 4], f) == EOF || putc(digits[p[i] & 15], f) == EOF) return -1;
  }
  return putc('"', f) == EOF ? -1 : 0;
}

int h2_story_write(FILE *f, const h2_story *s) {
  int bad = 0;
  bad |= fputs("{\n", f) == EOF;
  if (s->context) {
    bad |= fputs("  \"context\": ", f) == EOF;
    bad |= h2_story_write_string(f, s->context, strlen(s->context)) != 0;
    bad |= fputs(",\n", f) == EOF;
  }
  if (s->description) {
    bad |= fputs("  \"description\": ", f) == EOF;
    bad |= h2_story_write_string(f, s->description, strlen(s->description)) != 0;
    bad |= fputs(",\n", f) == EOF;
  }
  bad |= fputs("  \"cases\": [", f) == EOF;
  for (size_t i = 0; i < s->num_cases && !bad; i++) {
    const h2_story_case *cs = &s->cases[i];
    bad |= fputs(i ? ",\n    {\n" : "\n    {\n", f) == EOF;
    if (cs->has_seqno) bad |= fprintf(f, "      \"seqno\": %lu,\n", (unsigned long)cs->seqno) < 0;
    if (cs->has_table_size)
      bad |= fprintf(f, "      \"header_table_size\": %lu,\n", (unsigned long)cs->header_table_size) < 0;
    if (cs->has_wire) {
      bad |= fputs("      \"wire\": ", f) == EOF;
      bad |= write_hex(f, cs->wire, cs->wire_len) != 0;
      bad |= fputs(",\n", f) == EOF;
    }
    bad |= fputs("      \"headers\": [", f) == EOF;
    for (size_t j = 0; j < cs->num_fields && !bad; j++) {
      const h2_story_field *fd = &cs->fields[j];
      bad |= fputs(j ? ",\n        { " : "\n        { ", f) == EOF;
      bad |= h2_story_write_string(f, fd->name, fd->name_len) != 0;
      bad |= fputs(": ", f) == EOF;
      bad |= h2_story_write_string(f, fd->value, fd->value_len) != 0;
      bad |= fputs(" }", f) == EOF;
    }
    bad |= fputs(cs->num_fields ? "\n      ]\n    }" : "]\n    }", f) == EOF;
  }
  bad |= fputs(s->num_cases ? "\n  ]\n}\n" : "]\n}\n", f) == EOF;
  return bad ? -1 : 0;
}

/* prio_field.c: RFC 9218 priority signals: the Priority field value (an
 * RFC 8941 structured-field dictionary) and applying it to a stream from
 * the request header or a PRIORITY_UPDATE frame.
 *
 * The parser follows RFC 8941 §4.2 for the whole dictionary (every member
 * is validated, whatever its key, because one malformed member makes the
 * whole field invalid) and reads only the members u and i (RFC 9218 §4). */
#include "h2_cbs.h"
#include "prio_internal.h"

/* Item kinds a member value can have. */
enum { V_OTHER, V_INT, V_BOOL };

typedef struct sf_val {
  int kind;
  int64_t num; /* V_INT: the integer; V_BOOL: 0/1 */
} sf_val;

static int peek(const h2_cbs *c) {
  uint8_t ch;
  return h2_cbs_peek_u8(c, &ch) ? ch : -1;
}

static void skip(h2_cbs *c) { (void)h2_cbs_skip(c, 1); }

static int is_digit(int ch) { return ch >= '0' && ch <= '9'; }
static int is_lcalpha(int ch) { return ch >= 'a' && ch <= 'z'; }
static int is_alpha(int ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }

static void skip_sp(h2_cbs *c) {
  while (peek(c) == ' ') skip(c);
}

static void skip_ows(h2_cbs *c) {
  while (peek(c) == ' ' || peek(c) == '\t') skip(c);
}

/* parse_key: RFC 8941 §4.2.3.3. Copies up to |cap|-1 octets of the key into
 * |out| (NUL-terminated; longer keys are truncated, which cannot make them
 * equal "u" or "i"). */
static int parse_key(h2_cbs *c, char *out, size_t cap) {
  int ch = peek(c);
  if (!is_lcalpha(ch) && ch != '*') return 0;
  size_t n = 0;
  size_t len = 0;
  while ((ch = peek(c)) >= 0 &&
         (is_lcalpha(ch) || is_digit(ch) || ch == '_' || ch == '-' || ch == '.' || ch == '*')) {
    if (n + 1 < cap) out[n++] = (char)ch;
    len++;
    skip(c);
  }
  out[n] = 0;
  if (len >= cap) out[0] = '#'; /* too long to be a key we know */
  return 1;
}

/* §4.2.4 */
static int parse_number(h2_cbs *c, sf_val *v) {
  int neg = 0;
  if (peek(c) == '-') {
    neg = 1;
    skip(c);
  }
  if (!is_digit(peek(c))) return 0;
  int64_t val = 0;
  int digits = 0, decimal = 0, frac = 0;
  int ch;
  while ((ch = peek(c)) >= 0) {
    if (is_digit(ch)) {
      if (decimal)
        frac++;
      else
        val = val * 10 + (ch - '0');
      digits++;
      skip(c);
    } else if (ch == '.' && !decimal) {
      if (digits > 12) return 0;
      decimal = 1;
      skip(c);
    } else {
      break;
    }
    if (!decimal && digits > 15) return 0;
    if (decimal && digits > 15) return 0; /* 16 chars including the dot */
  }
  if (decimal) {
    if (frac == 0 || frac > 3) return 0;
    v->kind = V_OTHER;
    return 1;
  }
  v->kind = V_INT;
  v->num = neg ? -val : val;
  return 1;
}

/* §4.2.5 */
static int parse_string(h2_cbs *c) {
  skip(c); /* DQUOTE */
  int ch;
  while ((ch = peek(c)) >= 0) {
    skip(c);
    if (ch == '\\') {
      ch = peek(c);
      if (ch != '"' && ch != '\\') return 0;
      skip(c);
    } else if (ch == '"') {
      return 1;
    } else if (ch < 0x20 || ch > 0x7e) {
      return 0;
    }
  }
  return 0; /* unterminated */
}

static int is_tchar(int ch) {
  if (is_alpha(ch) || is_digit(ch)) return 1;
  switch (ch) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return 1;
    default:
      return 0;
  }
}

/* §4.2.6 */
static void parse_token(h2_cbs *c) {
  skip(c); /* ALPHA or "*" */
  int ch;
  while ((ch = peek(c)) >= 0 && (is_tchar(ch) || ch == ':' || ch == '/')) skip(c);
}

/* §4.2.7 */
static int parse_binary(h2_cbs *c) {
  skip(c); /* ":" */
  int ch;
  while ((ch = peek(c)) >= 0) {
    skip(c);
    if (ch == ':') return 1;
    if (!is_alpha(ch) && !is_digit(ch) && ch != '+' && ch != '/' && ch != '=') return 0;
  }
  return 0;
}

/* §4.2.3.1 */
static int parse_bare_item(h2_cbs *c, sf_val *v) {
  int ch = peek(c);
  v->kind = V_OTHER;
  v->num = 0;
  if (ch == '-' || is_digit(ch)) return parse_number(c, v);
  if (ch == '"') return parse_string(c);
  if (ch == '*' || is_alpha(ch)) {
    parse_token(c);
    return 1;
  }
  if (ch == ':') return parse_binary(c);
  if (ch == '?') {
    skip(c);
    ch = peek(c);
    if (ch != '0' && ch != '1') return 0;
    skip(c);
    v->kind = V_BOOL;
    v->num = ch == '1';
    return 1;
  }
  return 0;
}

/* §4.2.3.2: parameters are validated and ignored. */
static int parse_params(h2_cbs *c) {
  while (peek(c) == ';') {
    skip(c);
    skip_sp(c);
    char key[2];
    if (!parse_key(c, key, sizeof key)) return 0;
    if (peek(c) == '=') {
      skip(c);
      sf_val ignored;
      if (!parse_bare_item(c, &ignored)) return 0;
    }
  }
  return 1;
}

/* §4.2.1.2 */
static int parse_inner_list(h2_cbs *c) {
  skip(c); /* "(" */
  for (;;) {
    skip_sp(c);
    int ch = peek(c);
    if (ch < 0) return 0;
    if (ch == ')') {
      skip(c);
      return parse_params(c);
    }
    sf_val ignored;
    if (!parse_bare_item(c, &ignored) || !parse_params(c)) return 0;
    ch = peek(c);
    if (ch != ' ' && ch != ')') return 0;
  }
}

/* parse_dict returns 1 and the last u / i members (kind V_OTHER if absent
 * or of another type), or 0 if the dictionary is invalid. */
static int parse_dict(h2_cbs *c, sf_val *u, sf_val *i, int *have_u, int *have_i) {
  skip_ows(c);
  while (h2_cbs_len(c) > 0) {
    char key[4];
    if (!parse_key(c, key, sizeof key)) return 0;
    sf_val v = {V_BOOL, 1}; /* a bare key is Boolean true */
    if (peek(c) == '=') {
      skip(c);
      if (peek(c) == '(') {
        v.kind = V_OTHER;
        if (!parse_inner_list(c)) return 0;
      } else if (!parse_bare_item(c, &v) || !parse_params(c)) {
        return 0;
      }
    } else if (!parse_params(c)) {
      return 0;
    }
    /* Later members replace earlier ones with the same key (§4.2.2). */
    if (key[0] == 'u' && key[1] == 0) {
      *u = v;
      *have_u = 1;
    } else if (key[0] == 'i' && key[1] == 0) {
      *i = v;
      *have_i = 1;
    }
    skip_ows(c);
    if (h2_cbs_len(c) == 0) return 1;
    if (peek(c) != ',') return 0;
    skip(c);
    skip_ows(c);
    if (h2_cbs_len(c) == 0) return 0; /* trailing comma */
  }
  return 1; /* empty */
}

int h2_prio_parse_field(const uint8_t *value, size_t len, uint8_t *out_urgency, int *out_incremental) {
  *out_urgency = H2_PRIO_DEFAULT_URGENCY;
  *out_incremental = 0;
  h2_cbs c;
  h2_cbs_init(&c, value, value ? len : 0);
  sf_val u = {V_OTHER, 0}, i = {V_OTHER, 0};
  int have_u = 0, have_i = 0;
  if (!parse_dict(&c, &u, &i, &have_u, &have_i)) return 0;
  /* RFC 9218 §4: values of the wrong type or out of range are ignored. */
  if (have_u && u.kind == V_INT && u.num >= 0 && u.num <= 7) *out_urgency = (uint8_t)u.num;
  if (have_i && i.kind == V_BOOL) *out_incremental = (int)i.num;
  return 1;
}

/* ---- applying signals ---------------------------------------------------- */

int h2_prio_set_urgency(h2_prio *p, uint32_t id, uint8_t urgency, int incremental) {
  if (!prio_valid_id(id) || urgency > 7) return H2_ERR_INVALID_ARG;
  prio_node *x = prio_find(p, id);
  if (!x) {
    int rc = prio_reserve(p, 1);
    if (rc) return rc;
    prio_node *n = prio_node_alloc(p);
    if (!n) return H2_ERR_NOMEM;
    if (!prio_make_room(p, NULL, NULL)) {
      prio_node_dealloc(p, n);
      return 0; /* nothing may be remembered: drop the signal */
    }
    prio_init_node(p, n, id, H2_PRIO_STATE_IDLE);
    x = n;
  }
  x->update_seen = 1;
  prio_sched_set_urgency(p, x, urgency, incremental ? 1 : 0);
  return 0;
}

int h2_prio_update_field(h2_prio *p, uint32_t id, const uint8_t *value, size_t len) {
  uint8_t u;
  int inc;
  (void)h2_prio_parse_field(value, len, &u, &inc);
  return h2_prio_set_urgency(p, id, u, inc);
}

int h2_prio_set_header(h2_prio *p, uint32_t id, const uint8_t *value, size_t len) {
  if (!prio_valid_id(id)) return H2_ERR_INVALID_ARG;
  prio_node *x = prio_find(p, id);
  if (!x) return H2_ERR_NOT_FOUND;
  if (x->update_seen) return 0;
  uint8_t u;
  int inc;
  (void)h2_prio_parse_field(value, len, &u, &inc);
  prio_sched_set_urgency(p, x, u, (uint8_t)(inc ? 1 : 0));
  return 0;
}

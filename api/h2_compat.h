/* h2_compat.h: Node's compatibility API (http2 Http2ServerRequest /
 * Http2ServerResponse): one handler call per request with a request object
 * (method, url, headers, body events) and a response object (queued headers
 * set by name, status code, implicit or explicit headers, body writes,
 * trailers, push). A thin layer over the stream API of h2.h: every h2_req /
 * h2_res wraps one server h2_stream and owns that stream's callbacks (do not
 * call h2_stream_on on it).
 *
 * Installing it:
 *   static h2_compat_handler handler = {.fn = on_request, .user = my_data};
 *   h2_server_callbacks cbs = {0};
 *   cbs.session.on_stream = h2_compat_on_stream;   // user = &handler
 *   h2_server_new(&srv, loop, NULL, &cbs, &handler);
 * The same works for a transport-less server session (h2_session_new with
 * on_stream = h2_compat_on_stream and user = &handler). An application
 * with its own on_stream calls h2_compat_dispatch from it instead.
 *
 * Lifetime: |req| and |res| are valid from the handler call until the
 * response's on_close callback (then the request's) has returned; the
 * stream's closing frees both. Keep them past the handler to answer
 * asynchronously, but watch on_close.
 *
 * Strings: every const char * returned is NUL-terminated and valid as long
 * as the object (header values: until the header is changed). Header names
 * given to functions are case-insensitive; stored and sent lower-case.
 *
 * Errors: negative h2_err; invalid names or values (Node's TypeError) are
 * H2_ERR_INVALID_ARG with h2_last_error_message(); calls after the headers
 * went out that need them not to have (set_header, write_head...) are
 * H2_ERR_STATE. */
#ifndef H2_COMPAT_H
#define H2_COMPAT_H

#include <stddef.h>
#include <stdint.h>

#include "h2.h"

typedef struct h2_req h2_req;
typedef struct h2_res h2_res;

/* Node's 'request' event. */
typedef void (*h2_request_handler)(h2_req *req, h2_res *res, void *user);

/* The handlers of a compatibility server. |fn| is Node's 'request'.
 * |check_continue| is Node's 'checkContinue': a request that carries
 * "expect: 100-continue" and a body (no END_STREAM on its headers) goes to
 * it instead of |fn|; it either calls h2_res_write_continue and reads the
 * body, or answers at once (for example 417 or 413) without reading it.
 * When |check_continue| is NULL such a request gets "100 Continue" sent for
 * it before |fn| is called, as in Node. |user| is passed to both. */
typedef struct h2_compat_handler {
  h2_request_handler fn;
  void *user;
  h2_request_handler check_continue;
} h2_compat_handler;

/* h2_compat_on_stream is an h2_session_callbacks.on_stream for server
 * sessions; |user| must be an h2_compat_handler (it must outlive the
 * sessions). It dispatches with h2_compat_dispatch_handler. On a client
 * session (pushed streams) it cancels the stream. */
void h2_compat_on_stream(h2_session *s, h2_stream *st, const h2_header *hdrs, size_t n,
                         unsigned flags, void *user);

/* h2_compat_dispatch wraps the request stream |st| (server, from on_stream,
 * with its request headers) and calls |fn|; no expect: 100-continue
 * handling (see h2_compat_dispatch_handler). Returns 0, or H2_ERR_NOMEM
 * (the stream is then reset with INTERNAL_ERROR) / H2_ERR_STATE. */
int h2_compat_dispatch(h2_stream *st, const h2_header *hdrs, size_t n, unsigned flags,
                       h2_request_handler fn, void *user);

/* h2_compat_dispatch_handler is h2_compat_dispatch with Node's
 * expect: 100-continue rules (see h2_compat_handler): the request goes to
 * |h->check_continue|, or "100 Continue" is sent and it goes to |h->fn|.
 * Returns as h2_compat_dispatch; H2_ERR_STATE if |h| or |h->fn| is NULL. */
int h2_compat_dispatch_handler(h2_stream *st, const h2_header *hdrs, size_t n, unsigned flags,
                               const h2_compat_handler *h);

/* h2_compat_expects_continue says whether the request headers |hdrs| ask
 * for "100 Continue" before the body: an "expect" field whose value is
 * 100-continue (case-insensitive, surrounding blanks ignored) and |flags|
 * without H2_FLAG_END_STREAM_RCVD (a request without a body has nothing to
 * wait for). 1 or 0. */
int h2_compat_expects_continue(const h2_header *hdrs, size_t n, unsigned flags);

/* ---- Http2ServerRequest ------------------------------------------------- */

typedef struct h2_req_callbacks {
  /* 'data': body bytes (valid during the call). Bytes that arrive while no
   * on_data is set are dropped (flow control is reopened anyway). */
  void (*on_data)(h2_req *req, const uint8_t *data, size_t len, void *user);
  /* 'end': the body is complete; trailers (if any) are available. For a
   * request without body it fires right after the handler returns. */
  void (*on_end)(h2_req *req, void *user);
  /* 'aborted': the stream was reset before the exchange completed. */
  void (*on_aborted)(h2_req *req, void *user);
  /* 'close': the stream closed; last call, after the response's on_close;
   * |req| is freed after it returns. */
  void (*on_close)(h2_req *req, void *user);
} h2_req_callbacks;

/* h2_req_on sets the request's callbacks (copied) and user pointer. */
void h2_req_on(h2_req *req, const h2_req_callbacks *cbs, void *user);

/* Pseudo-header values ("" when absent). h2_req_url is :path (Node's
 * request.url). h2_req_authority falls back to the host header. */
const char *h2_req_method(const h2_req *req);
const char *h2_req_url(const h2_req *req);
const char *h2_req_authority(const h2_req *req);
const char *h2_req_scheme(const h2_req *req);
/* "2.0" (Node's httpVersion). */
const char *h2_req_http_version(const h2_req *req);

/* h2_req_header returns the |idx|-th value (0 = first) of header |name|
 * (any case), or NULL. Pseudo-headers are included (":path"). */
const char *h2_req_header(const h2_req *req, const char *name, size_t idx);

/* h2_req_header_joined returns |name|'s value the way Node's
 * request.headers shows it: duplicates of cookie joined with "; ", of
 * other fields with ", ", except the fields Node keeps only once (content-
 * type, content-length, authorization, user-agent, host-like pseudo-
 * headers, ...: the first wins) and set-cookie (the first; use
 * h2_req_header with an index for the others). NULL if absent. Joined
 * values are built on first use and live as long as |req|. */
const char *h2_req_header_joined(h2_req *req, const char *name);

/* h2_req_headers returns every received field of the request's header
 * block in order, pseudo-headers first, duplicates kept, nothing joined
 * (Node's rawHeaders, as pairs instead of a flat list), count in |*n|.
 * Names are lower-case, as HTTP/2 sends them (RFC 9113 §8.2.1). The array
 * and its NUL-terminated strings belong to |req|. */
const h2_header *h2_req_headers(const h2_req *req, size_t *n);

/* h2_req_trailers returns the request's trailer fields the same way
 * (Node's rawTrailers): in order, duplicates kept. They are filled when
 * the trailers arrive, so at the latest when on_end runs; before that, and
 * for a request without trailers, it returns NULL with |*n| 0. The array
 * belongs to |req|. */
const h2_header *h2_req_trailers(const h2_req *req, size_t *n);

/* h2_req_trailer returns the |idx|-th value (0 = first) of trailer |name|
 * (any case), or NULL (no such trailer, or none received yet). */
const char *h2_req_trailer(const h2_req *req, const char *name, size_t idx);

/* h2_req_trailer_joined returns |name|'s value as Node's request.trailers
 * object shows it, with the rules of h2_req_header_joined (duplicates
 * joined with ", ", cookie with "; ", single-valued fields: the first).
 * NULL if absent or before the trailers arrived. Joined values are built on
 * first use and live as long as |req| (out of memory: the first value). */
const char *h2_req_trailer_joined(h2_req *req, const char *name);

int h2_req_complete(const h2_req *req); /* ended, aborted or closed */
int h2_req_aborted(const h2_req *req);
h2_stream *h2_req_stream(const h2_req *req);
void *h2_req_user(const h2_req *req);

/* h2_req_destroy resets the stream (Node's request.destroy()) with |code|
 * (0 = CANCEL). No-op once closed. */
void h2_req_destroy(h2_req *req, uint32_t code);

/* ---- Http2ServerResponse -------------------------------------------- */

typedef struct h2_res_callbacks {
  /* 'drain': a write that returned 0 has been flushed below the
   * high-water mark. */
  void (*on_drain)(h2_res *res, void *user);
  /* 'finish': h2_res_end was called and the stream closed cleanly (all of
   * the response was handed to the transport). */
  void (*on_finish)(h2_res *res, void *user);
  /* 'timeout': the stream's timeout (h2_res_set_timeout) fired. Without
   * this callback a timed-out stream is reset with CANCEL. */
  void (*on_timeout)(h2_res *res, void *user);
  /* 'close': the stream closed (after on_finish, or instead of it when it
   * was reset first). |res| is freed after the request's on_close. */
  void (*on_close)(h2_res *res, void *user);
} h2_res_callbacks;

/* h2_res_on sets the response's callbacks (copied) and user pointer. */
void h2_res_on(h2_res *res, const h2_res_callbacks *cbs, void *user);

/* h2_res_set_status sets the status for implicit headers (Node's
 * statusCode; default 200). 100..599 (101 refused: HTTP/2 has no
 * upgrade). H2_ERR_STATE after the headers went out. */
int h2_res_set_status(h2_res *res, int code);
/* The status to send, or the one sent. */
int h2_res_status(const h2_res *res);

/* h2_res_set_header replaces every queued value of |name| by |value|
 * (Node's setHeader); h2_res_append_header adds one more value (Node's
 * setHeader with an array, e.g. set-cookie). Names must be tokens (RFC
 * 9110 tchar) without ':'; values must not contain NUL, CR or LF. At most
 * 128 queued fields. Returns 0, H2_ERR_INVALID_ARG, H2_ERR_STATE (headers
 * sent), H2_ERR_LIMIT, H2_ERR_NOMEM. */
int h2_res_set_header(h2_res *res, const char *name, const char *value);
int h2_res_append_header(h2_res *res, const char *name, const char *value);

/* h2_res_get_header returns the |idx|-th queued value of |name| (0 =
 * first), or NULL. h2_res_has_header: 1 if queued. */
const char *h2_res_get_header(const h2_res *res, const char *name, size_t idx);
int h2_res_has_header(const h2_res *res, const char *name);

/* h2_res_remove_header drops every queued value of |name|; returns how
 * many, or H2_ERR_STATE after the headers went out. */
int h2_res_remove_header(h2_res *res, const char *name);

/* h2_res_header_names fills |names| (capacity |cap|) with the distinct
 * queued names (lower-case), returns their number (may exceed |cap|). */
size_t h2_res_header_names(const h2_res *res, const char **names, size_t cap);

/* h2_res_set_send_date: 1 (default) adds a date header when none is set. */
void h2_res_set_send_date(h2_res *res, int on);

/* h2_res_write_head sends the header block now (Node's writeHead) with
 * :status |status| and the queued headers merged with |hdrs| (|hdrs| win
 * on a name conflict; no pseudo-headers). Returns 0, H2_ERR_STATE (already
 * sent / closed), H2_ERR_INVALID_ARG. */
int h2_res_write_head(h2_res *res, int status, const h2_header *hdrs, size_t n);

/* h2_res_status_message returns the reason phrase: always "" (Node's
 * statusMessage; HTTP/2 has none, RFC 9113 §8.3.2). The string is static. */
const char *h2_res_status_message(const h2_res *res);

/* h2_res_set_status_message is Node's statusMessage setter (and writeHead's
 * statusMessage argument): HTTP/2 cannot carry it, so |msg| (may be NULL)
 * is ignored, nothing is stored or sent. Where Node emits an
 * UnsupportedWarning, it returns 1 (not an error) with the warning text in
 * h2_last_error_message(). It never fails, at any point of the response. */
int h2_res_set_status_message(h2_res *res, const char *msg);

/* h2_res_write_continue sends an informational 100 Continue. */
int h2_res_write_continue(h2_res *res);

/* h2_res_write sends |len| body bytes (copied), after the implicit headers
 * if none were sent (Node's write). Returns 1, 0 (buffered past the
 * high-water mark: wait for on_drain), or H2_ERR_STATE (ended / closed) /
 * H2_ERR_NOMEM. For HEAD requests and 204/304 responses the bytes are
 * dropped (returns 1). */
int h2_res_write(h2_res *res, const uint8_t *data, size_t len);

/* h2_res_write_nocopy is h2_res_write without the copy: |data| must stay
 * valid until |cb| (may be NULL) runs with the response's stream and err 0
 * (handed to the transport) or < 0 (dropped: the stream closed). For
 * bodies that are dropped (HEAD, 204, 304) |cb| runs before the call
 * returns. */
int h2_res_write_nocopy(h2_res *res, const uint8_t *data, size_t len, h2_write_cb cb,
                        void *user);

/* h2_res_add_trailers queues trailers (copied, no pseudo-headers, same
 * rules as set_header) to send after the body (Node's addTrailers). Call
 * before h2_res_end. */
int h2_res_add_trailers(h2_res *res, const h2_header *hdrs, size_t n);

/* h2_res_end sends |len| last bytes (copied; 0 for none) and ends the
 * response, with the trailers if any (Node's end). Without headers sent
 * yet a bodyless response is one HEADERS frame. Returns 0, H2_ERR_STATE
 * (already ended / closed), H2_ERR_NOMEM. */
int h2_res_end(h2_res *res, const uint8_t *data, size_t len);

/* h2_res_create_push_response promises a pushed stream with request
 * headers |hdrs| (:path at least; :method GET, :scheme and :authority of
 * the request by default) and returns its response object in |*out|
 * (Node's createPushResponse). H2_ERR_STATE when push is disabled by the
 * client, the request is itself pushed, or the stream is closed. */
int h2_res_create_push_response(h2_res *res, const h2_header *hdrs, size_t n, h2_res **out);

/* h2_res_set_timeout arms the stream's inactivity timeout (ms; 0 off),
 * reported with on_timeout. */
void h2_res_set_timeout(h2_res *res, uint64_t ms);

int h2_res_headers_sent(const h2_res *res);
int h2_res_finished(const h2_res *res); /* h2_res_end was called (writableEnded) */
h2_stream *h2_res_stream(const h2_res *res);
h2_req *h2_res_req(const h2_res *res);  /* NULL for a push response */
void *h2_res_user(const h2_res *res);

#endif

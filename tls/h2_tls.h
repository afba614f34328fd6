/* h2_tls.h: TLS for h2 over BoringSSL, without owning the socket.
 *
 * BoringSSL never sees a file descriptor. An h2_tls_conn holds two byte
 * buffers: ciphertext received from the peer (the caller puts socket bytes in)
 * and ciphertext to send (the caller takes bytes out and writes them to the
 * socket). Plaintext goes through h2_tls_conn_read / h2_tls_conn_write. The
 * event loop therefore drives everything, and the HTTP/2 session sees only
 * plaintext.
 *
 * Driving a connection over a non-blocking socket:
 *
 *   on readable:
 *     size_t cap; uint8_t *p = h2_tls_conn_in_space(c, &cap);
 *     if (cap == 0) -> stop reading until h2_tls_conn_read has drained input
 *     n = read(fd, p, cap);
 *     n > 0: h2_tls_conn_in_commit(c, n);   n == 0: h2_tls_conn_in_eof(c);
 *     if (!h2_tls_conn_handshake_done(c)) rc = h2_tls_conn_handshake(c);
 *     then (once done) loop h2_tls_conn_read(c, buf, len) until it returns
 *     H2_ERR_WOULD_BLOCK (need more ciphertext), H2_ERR_EOF or an error.
 *   after EVERY call above (and after h2_tls_conn_write / h2_tls_conn_close):
 *     while ((p = h2_tls_conn_out_peek(c, &len)) != NULL) {
 *       n = write(fd, p, len); if EAGAIN -> wait for writable; else
 *       h2_tls_conn_out_consume(c, n);
 *     }
 *   A client starts by calling h2_tls_conn_handshake once (it produces the
 *   ClientHello) and flushing.
 *
 * Error reporting: every function that can fail returns a negative h2_err
 * (mostly H2_ERR_TLS) and leaves a human-readable message, including the
 * BoringSSL error strings and file paths, in h2_tls_ctx_errmsg or
 * h2_tls_conn_errmsg.
 *
 * Policy (RFC 9113 §9.2): TLS 1.2 and 1.3 only; TLS 1.2 restricted to ECDHE
 * with AES-GCM or ChaCha20-Poly1305; groups X25519 and P-256; no
 * renegotiation; no compression. ALPN offers/selects "h2" (and "http/1.1"
 * when the fallback is enabled).
 *
 * Threads: an h2_tls_ctx may be shared by connections on several threads once
 * configured (configuration calls are not thread safe; the client session
 * cache is locked). An h2_tls_conn is used by one thread at a time. */
#ifndef H2_TLS_H
#define H2_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "h2_err.h"

typedef struct h2_tls_ctx h2_tls_ctx;
typedef struct h2_tls_conn h2_tls_conn;
/* BoringSSL's connection type, for the escape hatch h2_tls_conn_ssl. */
struct ssl_st;

typedef enum h2_tls_role {
  H2_TLS_SERVER = 0,
  H2_TLS_CLIENT = 1,
} h2_tls_role;

/* ALPN policy bits for h2_tls_ctx_set_alpn. */
enum {
  H2_TLS_ALPN_H2 = 1,     /* offer/accept "h2" (always set) */
  H2_TLS_ALPN_HTTP11 = 2, /* also offer/accept "http/1.1" as the fallback */
};

/* The application protocol a handshake settled on. */
typedef enum h2_tls_proto {
  H2_TLS_PROTO_NONE = 0,   /* handshake not finished */
  H2_TLS_PROTO_H2 = 1,     /* "h2" */
  H2_TLS_PROTO_HTTP11 = 2, /* "http/1.1", or no ALPN at all with the fallback on */
} h2_tls_proto;

/* TLS protocol versions for h2_tls_ctx_set_versions. */
#define H2_TLS_VERSION_1_2 0x0303
#define H2_TLS_VERSION_1_3 0x0304

/* ---- Contexts ---------------------------------------------------------- */

/* h2_tls_ctx_new returns a new context for |role| with the RFC 9113 policy,
 * ALPN "h2" only, TLS 1.2..1.3 and session tickets on. A client context
 * verifies the server against the system default trust store, and checks
 * the host name given to h2_tls_conn_new. If the environment variable
 * SSLKEYLOGFILE names a file, key material is appended to it (NSS key log
 * format) for every connection made with the context.
 * Returns NULL on allocation failure. Free with h2_tls_ctx_free. */
h2_tls_ctx *h2_tls_ctx_new(h2_tls_role role);

/* h2_tls_ctx_free releases the caller's hold on |ctx| (NULL is fine).
 * Connections made from it keep it alive: the context is freed with the
 * last of them (h2_tls_conn_free), so it may be released while sessions
 * are still closing. Do not use |ctx| after this call. Not to be called
 * twice. */
void h2_tls_ctx_free(h2_tls_ctx *ctx);

/* h2_tls_ctx_errmsg returns the message of the last failure of a ctx
 * function ("" if none). Valid until the next call on |ctx|. */
const char *h2_tls_ctx_errmsg(const h2_tls_ctx *ctx);

/* h2_tls_ctx_role returns the role |ctx| was created with. */
h2_tls_role h2_tls_ctx_role(const h2_tls_ctx *ctx);

/* h2_tls_ctx_add_cert_files loads a certificate chain (PEM, leaf first) from
 * |cert_path| and its private key (PEM, RSA/EC/Ed25519, PKCS#8 or
 * traditional, possibly encrypted) from |key_path|, decrypting with
 * |password| when not NULL. The first certificate added is the default; the
 * others are chosen when the client's SNI matches one of their names (SAN DNS
 * names, wildcards allowed, or the subject CN when there is no SAN). On a
 * client context the pair becomes the client certificate.
 * Errors: H2_ERR_NOT_FOUND (file missing; message has the path),
 * H2_ERR_PARSE (garbage PEM, wrong or missing password), H2_ERR_TLS (key does
 * not match the certificate, other BoringSSL failures), H2_ERR_LIMIT (more
 * than 32 certificates), H2_ERR_NOMEM. */
int h2_tls_ctx_add_cert_files(h2_tls_ctx *ctx, const char *cert_path,
                              const char *key_path, const char *password);

/* h2_tls_ctx_add_pkcs12_file (Node's pfx + passphrase) loads a private key
 * and its certificate chain from a PKCS#12 file (DER, .p12/.pfx, at most
 * 1 MiB), decrypting with |password| (NULL: the empty password or none).
 * The certificate that matches the key is the leaf; the others, in file
 * order, are sent as its chain. Added like h2_tls_ctx_add_cert_files (SNI
 * choice, client certificate on a client context).
 * Errors: H2_ERR_NOT_FOUND (file missing), H2_ERR_PARSE (not PKCS#12, wrong
 * or missing password, no private key, or no certificate for the key; the
 * message says which), H2_ERR_LIMIT (file over 1 MiB, more than 16 chain
 * certificates, more than 32 certificates in |ctx|), H2_ERR_TLS,
 * H2_ERR_NOMEM. */
int h2_tls_ctx_add_pkcs12_file(h2_tls_ctx *ctx, const char *path, const char *password);

/* h2_tls_ctx_add_self_signed generates an EC P-256 key and a self-signed
 * certificate (valid from one hour ago for 30 days, SHA-256) for |hostname|
 * (NULL means "localhost") and adds it like h2_tls_ctx_add_cert_files. The
 * SAN holds DNS:|hostname|; for "localhost" also IP:127.0.0.1 and IP:::1.
 * Everything happens in memory with BoringSSL; no file, no openssl tool.
 * Errors: H2_ERR_TLS, H2_ERR_LIMIT, H2_ERR_NOMEM, H2_ERR_INVALID_ARG. */
int h2_tls_ctx_add_self_signed(h2_tls_ctx *ctx, const char *hostname);

/* h2_tls_ctx_num_certs returns how many certificates |ctx| holds. */
size_t h2_tls_ctx_num_certs(const h2_tls_ctx *ctx);

/* h2_tls_ctx_write_cert_pem writes certificate number |index| (0 = first
 * added) to |cert_path| and, if |key_path| is not NULL, its private key
 * (PKCS#8 PEM, mode 0600) to |key_path|, encrypted with AES-256-CBC under
 * |password| when |password| is not NULL. Files are replaced. The certificate
 * file of a self-signed certificate is a CA file for curl --cacert or
 * h2_tls_ctx_load_ca_file.
 * Errors: H2_ERR_INVALID_ARG (bad index), H2_ERR_IO (cannot write; message
 * has the path and errno text), H2_ERR_TLS. */
int h2_tls_ctx_write_cert_pem(h2_tls_ctx *ctx, size_t index,
                              const char *cert_path, const char *key_path,
                              const char *password);

/* h2_tls_ctx_load_ca_file (client) trusts the PEM certificates in |ca_file|
 * for verifying servers, in addition to the system defaults.
 * Errors: H2_ERR_NOT_FOUND (missing file, with its path), H2_ERR_PARSE (no
 * certificate in it), H2_ERR_STATE (server context). */
int h2_tls_ctx_load_ca_file(h2_tls_ctx *ctx, const char *ca_file);

/* Client certificate modes for h2_tls_ctx_set_client_auth. */
typedef enum h2_tls_client_auth {
  H2_TLS_CLIENT_AUTH_NONE = 0,     /* default: no certificate is asked for */
  H2_TLS_CLIENT_AUTH_OPTIONAL = 1, /* asked for; verified when the client sends one */
  H2_TLS_CLIENT_AUTH_REQUIRED = 2, /* the handshake fails without a valid one */
} h2_tls_client_auth;

/* h2_tls_ctx_set_client_auth (server) asks clients for a certificate and
 * verifies it against the PEM certificates in |ca_file| (required unless
 * |mode| is H2_TLS_CLIENT_AUTH_NONE, which turns the request off again).
 * Applies to every certificate (SNI name) of |ctx|, present and future.
 * A client's certificate that does not verify fails the handshake ("client
 * certificate verification failed: <reason>"), as does a missing one in
 * REQUIRED mode ("the client sent no certificate"); with TLS 1.3 the client
 * may only learn it on its first read. The verified certificate is
 * SSL_get_peer_certificate(h2_tls_conn_ssl(c)).
 * Errors: H2_ERR_STATE (client context), H2_ERR_INVALID_ARG (bad mode, no
 * CA file), H2_ERR_NOT_FOUND (missing file, with its path), H2_ERR_PARSE (no
 * certificate in it), H2_ERR_NOMEM, H2_ERR_TLS. */
int h2_tls_ctx_set_client_auth(h2_tls_ctx *ctx, h2_tls_client_auth mode, const char *ca_file);

/* h2_tls_ctx_set_insecure (client) turns certificate and host name
 * verification off when |insecure| is non-zero (like curl -k), on again when
 * zero. Errors: H2_ERR_STATE (server context). */
int h2_tls_ctx_set_insecure(h2_tls_ctx *ctx, int insecure);

/* h2_tls_ctx_set_alpn sets the ALPN policy: H2_TLS_ALPN_H2 alone (default)
 * requires h2: a peer that does not agree on "h2" fails the handshake with a
 * clear message. H2_TLS_ALPN_H2 | H2_TLS_ALPN_HTTP11 prefers h2 and accepts
 * "http/1.1" (and, on a server, a client without ALPN) as the fallback;
 * h2_tls_conn_alpn tells which one was chosen.
 * Errors: H2_ERR_INVALID_ARG (H2_TLS_ALPN_H2 missing or unknown bits). */
int h2_tls_ctx_set_alpn(h2_tls_ctx *ctx, unsigned flags);

/* h2_tls_ctx_set_versions limits the protocol versions to |min|..|max|, each
 * H2_TLS_VERSION_1_2 or H2_TLS_VERSION_1_3.
 * Errors: H2_ERR_INVALID_ARG. */
int h2_tls_ctx_set_versions(h2_tls_ctx *ctx, uint16_t min, uint16_t max);

/* h2_tls_ctx_set_keylog_file appends key material lines for every later
 * connection to |path| (NULL stops). h2_tls_ctx_new already does this for
 * $SSLKEYLOGFILE. Errors: H2_ERR_IO (cannot open, message has the path). */
int h2_tls_ctx_set_keylog_file(h2_tls_ctx *ctx, const char *path);

/* h2_tls_ctx_set_session_cache (client) turns the client session cache on
 * (default) or off. With it on, every new session the server gives (TLS 1.2
 * ticket or TLS 1.3 NewSessionTicket) is kept per server name (at most 64
 * names, oldest evicted) and offered by the next h2_tls_conn_new for that
 * name. Errors: H2_ERR_STATE (server context). */
int h2_tls_ctx_set_session_cache(h2_tls_ctx *ctx, int on);

/* ---- Connections ------------------------------------------------------- */

/* h2_tls_conn_new returns a new connection using |ctx|, which must outlive
 * it. For a client, |server_name| (may be NULL only with the insecure switch)
 * is sent as SNI (unless it is an IP literal) and is the name or IP address
 * the certificate must match; a cached session for it is offered. For a
 * server, |server_name| must be NULL.
 * Returns NULL on allocation failure or invalid arguments (the reason is in
 * h2_tls_ctx_errmsg). Free with h2_tls_conn_free. */
h2_tls_conn *h2_tls_conn_new(h2_tls_ctx *ctx, const char *server_name);

/* h2_tls_conn_free releases |c| (NULL is fine) without sending anything. */
void h2_tls_conn_free(h2_tls_conn *c);

/* h2_tls_conn_errmsg returns the message of the last failure on |c| ("" if
 * none). Valid until the next call on |c|. */
const char *h2_tls_conn_errmsg(const h2_tls_conn *c);

/* -- ciphertext in -- */

/* h2_tls_conn_in_space returns where to put up to |*out_cap| ciphertext bytes
 * read from the socket (the buffer holds up to 32 KiB, two maximum records).
 * |*out_cap| == 0 means the buffer is full: call h2_tls_conn_read (or
 * _handshake) first. The pointer is valid until the next call on |c|. */
uint8_t *h2_tls_conn_in_space(h2_tls_conn *c, size_t *out_cap);

/* h2_tls_conn_in_commit records that |n| bytes (<= the capacity returned by
 * h2_tls_conn_in_space) were written there. Errors: H2_ERR_INVALID_ARG. */
int h2_tls_conn_in_commit(h2_tls_conn *c, size_t n);

/* h2_tls_conn_feed copies up to the free space of |in| into the input
 * buffer and returns how many bytes it took (0 when full); the caller keeps
 * the rest for later. A convenience over in_space/in_commit. */
size_t h2_tls_conn_feed(h2_tls_conn *c, const uint8_t *in, size_t in_len);

/* h2_tls_conn_in_eof records that the transport reached end of file (read()
 * returned 0). Later reads report H2_ERR_EOF once the buffered input is used. */
void h2_tls_conn_in_eof(h2_tls_conn *c);

/* -- ciphertext out -- */

/* h2_tls_conn_out_peek returns the ciphertext waiting to be sent and its
 * length in |*out_len|, or NULL (and 0) when there is none. Valid until the
 * next call on |c|. */
const uint8_t *h2_tls_conn_out_peek(h2_tls_conn *c, size_t *out_len);

/* h2_tls_conn_out_consume drops the first |n| bytes of pending ciphertext
 * (they were sent). |n| larger than what is pending drops everything. */
void h2_tls_conn_out_consume(h2_tls_conn *c, size_t n);

/* h2_tls_conn_out_pending returns how many ciphertext bytes wait to be sent. */
size_t h2_tls_conn_out_pending(const h2_tls_conn *c);

/* -- handshake -- */

/* h2_tls_conn_handshake advances the handshake with the buffered input.
 * Returns 1 when it is complete (ALPN agreed per the policy, certificate
 * verified), 0 when it needs more ciphertext from the peer (flush the output
 * first: it may have produced some), or a negative h2_err: H2_ERR_TLS
 * (handshake failure: the message says why, e.g. certificate verification
 * failed with the reason, no common ALPN protocol), H2_ERR_EOF (the transport
 * closed before completion). After a failure the output may hold an alert
 * worth sending before closing. Calling it after completion returns 1. */
int h2_tls_conn_handshake(h2_tls_conn *c);

/* h2_tls_conn_handshake_done returns 1 once h2_tls_conn_handshake returned 1. */
int h2_tls_conn_handshake_done(const h2_tls_conn *c);

/* h2_tls_conn_alpn returns the negotiated protocol (H2_TLS_PROTO_NONE until
 * the handshake is done). */
h2_tls_proto h2_tls_conn_alpn(const h2_tls_conn *c);

/* h2_tls_conn_resumed returns 1 if the handshake resumed an earlier session. */
int h2_tls_conn_resumed(const h2_tls_conn *c);

/* h2_tls_conn_version returns the negotiated version name ("TLSv1.3"...)
 * and h2_tls_conn_cipher the cipher suite's standard name, or "" before the
 * handshake. Static strings. */
const char *h2_tls_conn_version(const h2_tls_conn *c);
const char *h2_tls_conn_cipher(const h2_tls_conn *c);

/* h2_tls_conn_server_name returns, on a server, the SNI host name the client
 * sent (NULL if none); on a client, the name given to h2_tls_conn_new. Valid
 * while |c| lives. */
const char *h2_tls_conn_server_name(const h2_tls_conn *c);

/* h2_tls_conn_peer_cert copies the DER encoding of the peer's leaf
 * certificate (a server's, or a client certificate on a server that asked
 * for one) into |buf| (|cap| bytes) and sets |*len| to its size. Returns 0,
 * H2_ERR_STATE (handshake not done), H2_ERR_NOT_FOUND (the peer sent no
 * certificate), or H2_ERR_BUF_TOO_SMALL (nothing copied; |*len| tells the
 * size needed). |buf| may be NULL with |cap| 0 to learn the size. */
int h2_tls_conn_peer_cert(const h2_tls_conn *c, uint8_t *buf, size_t cap, size_t *len);

/* -- application data -- */

/* h2_tls_conn_read decrypts buffered input into |out| (up to |out_cap|
 * bytes), running the handshake first if needed. Returns the number of
 * plaintext bytes (> 0), or H2_ERR_WOULD_BLOCK (needs more ciphertext;
 * post-handshake messages such as TLS 1.3 session tickets are processed
 * meanwhile), H2_ERR_EOF (the peer sent close_notify, or the transport ended;
 * h2_tls_conn_errmsg tells whether it was clean), H2_ERR_TLS, or
 * H2_ERR_INVALID_ARG. Output may be produced (alerts, key updates): flush. */
int h2_tls_conn_read(h2_tls_conn *c, uint8_t *out, size_t out_cap);

/* h2_tls_conn_write encrypts up to |in_len| plaintext bytes into the output
 * buffer and returns how many it took (> 0), or H2_ERR_WOULD_BLOCK when
 * 256 KiB of ciphertext already wait to be sent (flush, then retry), or
 * H2_ERR_STATE (handshake not done), H2_ERR_CLOSED (after close), H2_ERR_TLS.
 * Partial acceptance happens only near the output limit. */
int h2_tls_conn_write(h2_tls_conn *c, const uint8_t *in, size_t in_len);

/* h2_tls_conn_close queues a close_notify alert in the output (flush it,
 * then close the socket). Later writes fail with H2_ERR_CLOSED. Returns 0 or
 * H2_ERR_TLS. */
int h2_tls_conn_close(h2_tls_conn *c);

/* h2_tls_conn_ssl returns the underlying BoringSSL object for inspection
 * (peer certificate, ...). Owned by |c|; do not free it or change its I/O. */
struct ssl_st *h2_tls_conn_ssl(h2_tls_conn *c);

#endif

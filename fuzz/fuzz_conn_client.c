/* fuzz_conn_client.c: a whole client h2_conn, with three requests already
 * submitted (GET /index.html, POST /upload with a 70000-byte body, GET
 * /style.css with priority), fed arbitrary server bytes interleaved with
 * clock advances and application actions (more requests, DATA, trailers,
 * consume, PING, SETTINGS, GOAWAY, RST_STREAM, PRIORITY, partial output,
 * EOF, allocation failures). Input format and the invariants checked:
 * fuzz_conn_common.h. Seeds: gen_conn_corpus.c. */
#include "fuzz_conn_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fzc_run(H2_CONN_CLIENT, data, size);
}

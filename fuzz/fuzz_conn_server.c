/* fuzz_conn_server.c: a whole server h2_conn fed arbitrary client bytes,
 * interleaved with clock advances and application actions (responses, DATA,
 * trailers, 1xx, push, consume, PING, SETTINGS, GOAWAY, RST_STREAM,
 * PRIORITY, partial output, EOF, allocation failures). Input format and the
 * invariants checked: fuzz_conn_common.h. Seeds: gen_conn_corpus.c. */
#include "fuzz_conn_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fzc_run(H2_CONN_SERVER, data, size);
}

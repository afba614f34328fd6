/* metrics.c: Node's PerformanceObserver 'http2' entries as counters kept
 * per session and per stream, only when h2_options.enable_metrics is set
 * (then every hook below runs; otherwise none does and nothing is
 * allocated). Frames are counted through the engine's frame events, which
 * the session turns on for this. */
#include <stdlib.h>
#include <string.h>

#include "session_internal.h"

struct h2_metrics_ {
  uint64_t start;      /* session time it began: 0, or for a session over the
                          caller's transport the first now_ms it was given */
  int clock_seen;      /* transport-less: |start| was taken */
  uint64_t closed_at;  /* session time of finish; UINT64_MAX while open */
  uint64_t bytes_read, bytes_written, frames_received, frames_sent;
  uint64_t stream_count, stream_ms_total;
  uint32_t open_streams, max_open;
  double ping_rtt;     /* -1: none */
};

struct h2_smetrics_ {
  uint64_t start, closed_at; /* closed_at UINT64_MAX while open */
  uint64_t bytes_read, bytes_written;
  int64_t first_byte, first_byte_sent, first_header; /* session times; -1 none */
};

int h2_metrics_session_init_(h2_session *s) {
  s->metrics = calloc(1, sizeof *s->metrics);
  if (!s->metrics) return H2_ERR_NOMEM;
  s->metrics->closed_at = UINT64_MAX;
  s->metrics->ping_rtt = -1;
  return 0;
}

void h2_metrics_session_free_(h2_session *s) {
  free(s->metrics);
  s->metrics = NULL;
}

void h2_metrics_session_closed_(h2_session *s) {
  if (s->metrics && s->metrics->closed_at == UINT64_MAX)
    s->metrics->closed_at = h2_session_now_(s);
}

void h2_metrics_clock_(h2_session *s, uint64_t now) {
  h2_metrics_ *m = s->metrics;
  if (m->clock_seen) return;
  m->clock_seen = 1;
  m->start = now;
  /* Requests made before the first call started at "0" of no clock. */
  for (h2_stream *st = s->streams; st; st = st->next)
    if (st->m) st->m->start = now;
}

void h2_metrics_io_(h2_session *s, size_t in, size_t out) {
  s->metrics->bytes_read += in;
  s->metrics->bytes_written += out;
}

int h2_metrics_stream_new_(h2_stream *st) {
  h2_session *s = st->s;
  st->m = calloc(1, sizeof *st->m);
  if (!st->m) return H2_ERR_NOMEM;
  st->m->start = h2_session_now_(s);
  st->m->closed_at = UINT64_MAX;
  st->m->first_byte = st->m->first_byte_sent = -1;
  /* A server's streams are made by the request's HEADERS. */
  st->m->first_header = s->is_server && st->id != 0 ? (int64_t)st->m->start : -1;
  if (++s->metrics->open_streams > s->metrics->max_open) s->metrics->max_open = s->metrics->open_streams;
  return 0;
}

void h2_metrics_stream_closed_(h2_stream *st) {
  h2_metrics_ *m = st->s->metrics;
  if (!st->m || st->m->closed_at != UINT64_MAX) return;
  st->m->closed_at = h2_session_now_(st->s);
  m->open_streams--;
  m->stream_count++;
  m->stream_ms_total += st->m->closed_at - st->m->start;
}

void h2_metrics_stream_sent_(h2_stream *st, size_t len) {
  st->m->bytes_written += len;
  if (st->m->first_byte_sent < 0 && len) st->m->first_byte_sent = (int64_t)h2_session_now_(st->s);
}

void h2_metrics_stream_free_(h2_stream *st) {
  /* A stream dropped before it ever closed (a push that could not start)
   * leaves the open count, not the closed ones. */
  if (st->m && st->m->closed_at == UINT64_MAX) st->s->metrics->open_streams--;
  free(st->m);
  st->m = NULL;
}

void h2_metrics_event_(h2_session *s, const h2_conn_event *ev) {
  h2_metrics_ *m = s->metrics;
  h2_stream *st = ev->stream_user;
  int64_t now = (int64_t)h2_session_now_(s);
  switch (ev->type) {
    case H2_CONN_EV_FRAME_RECV:
      m->frames_received++;
      break;
    case H2_CONN_EV_FRAME_SENT:
      m->frames_sent++;
      break;
    case H2_CONN_EV_HEADERS:
      if (st && st->m && st->m->first_header < 0 &&
          (ev->u.headers.category == H2_CONN_HEADERS_RESPONSE ||
           ev->u.headers.category == H2_CONN_HEADERS_INFO ||
           ev->u.headers.category == H2_CONN_HEADERS_TRAILERS))
        st->m->first_header = now;
      break;
    case H2_CONN_EV_DATA:
      if (st && st->m) {
        st->m->bytes_read += ev->u.data.len;
        if (st->m->first_byte < 0) st->m->first_byte = now;
      }
      break;
    case H2_CONN_EV_PING_ACK:
      m->ping_rtt = (double)ev->u.ping.rtt_ms;
      break;
    default:
      break;
  }
}

int h2_session_get_metrics(const h2_session *s, h2_session_metrics *out) {
  if (!s || !out) return H2_ERR_INVALID_ARG;
  memset(out, 0, sizeof *out);
  const h2_metrics_ *m = s->metrics;
  if (!m) return H2_ERR_STATE;
  uint64_t end = m->closed_at != UINT64_MAX ? m->closed_at : h2_session_now_((h2_session *)s);
  out->is_server = s->is_server;
  out->duration_ms = end > m->start ? end - m->start : 0;
  out->bytes_read = m->bytes_read;
  out->bytes_written = m->bytes_written;
  out->frames_received = m->frames_received;
  out->frames_sent = m->frames_sent;
  out->max_concurrent_streams = m->max_open;
  out->stream_count = m->stream_count;
  out->stream_average_duration_ms =
      m->stream_count ? (double)m->stream_ms_total / (double)m->stream_count : 0;
  out->ping_rtt_ms = m->ping_rtt;
  return 0;
}

static int64_t since(int64_t t, uint64_t start) { return t < 0 ? -1 : t - (int64_t)start; }

int h2_stream_get_metrics(const h2_stream *st, h2_stream_metrics *out) {
  if (!st || !out) return H2_ERR_INVALID_ARG;
  memset(out, 0, sizeof *out);
  const h2_smetrics_ *m = st->m;
  if (!m) return H2_ERR_STATE;
  uint64_t end = m->closed_at != UINT64_MAX ? m->closed_at : h2_session_now_(st->s);
  out->id = st->id;
  out->start_ms = m->start - (st->s->metrics ? st->s->metrics->start : 0);
  out->duration_ms = end > m->start ? end - m->start : 0;
  out->bytes_read = m->bytes_read;
  out->bytes_written = m->bytes_written;
  out->time_to_first_byte_ms = since(m->first_byte, m->start);
  out->time_to_first_byte_sent_ms = since(m->first_byte_sent, m->start);
  out->time_to_first_header_ms = since(m->first_header, m->start);
  return 0;
}

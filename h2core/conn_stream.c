/* conn_stream.c: the stream table (id map), the RFC 9113 §5.1 state
 * machine, stream errors, and the bounded memory of closed stream ids.
 *
 * A stream lives in the table from its first frame (or submit) until it is
 * closed; then its state is freed at once and only (id -> how it ended) is
 * kept, for the last |max_closed_streams| ids, to answer late frames. Ids
 * older than that are judged by the highest ids each side used. */
#include "conn_internal.h"

int h2c_is_local_id(const h2_conn *c, uint32_t id) {
  return (c->role == H2_CONN_CLIENT) == ((id & 1u) == 1u);
}

h2_stream *h2c_stream(const h2_conn *c, uint32_t id) {
  /* Frames, events and submits for one stream come in runs: the last
   * answer is checked first. |hot| is cleared when its stream leaves the
   * map (h2c_stream_unmap). */
  if (c->hot && c->hot->id == id) return c->hot;
  h2_stream *s = h2_idmap_get(&c->streams, id);
  if (s) ((h2_conn *)c)->hot = s; /* c is never a const object: a cache */
  return s;
}

void h2c_stream_unmap(h2_conn *c, h2_stream *s) {
  h2_idmap_del(&c->streams, s->id);
  if (c->hot == s) c->hot = NULL;
}

static int is_active(uint8_t st) {
  return st == H2_STREAM_OPEN || st == H2_STREAM_HALF_CLOSED_LOCAL || st == H2_STREAM_HALF_CLOSED_REMOTE;
}

static void count(h2_conn *c, h2_stream *s, int delta) {
  if (is_active(s->state)) {
    if (s->local)
      c->num_local += (uint32_t)delta;
    else
      c->num_remote += (uint32_t)delta;
  } else if (s->state == H2_STREAM_RESERVED_REMOTE) {
    c->num_reserved_remote += (uint32_t)delta;
  }
}

static void set_state(h2_conn *c, h2_stream *s, uint8_t st) {
  count(c, s, -1);
  s->state = st;
  count(c, s, +1);
}

h2_stream *h2c_stream_new(h2_conn *c, uint32_t id, int local, uint8_t state) {
  h2_stream *s = h2c_pool_get(c, &c->stream_pool, sizeof *s);
  if (!s) return NULL;
  memset(s, 0, sizeof *s);
  s->id = id;
  s->local = local ? 1 : 0;
  s->state = state;
  s->send_window = c->remote.initial_window_size;
  s->recv_window = c->local.initial_window_size;
  s->content_length = -1;
  if (h2_idmap_put(&c->streams, &c->mem, id, s)) {
    h2c_pool_put(c, &c->stream_pool, s);
    return NULL;
  }
  if (h2_prio_open(c->prio, id, NULL) == 0) s->prio_open = 1;
  count(c, s, +1);
  if (local) {
    if (id > c->last_local_id) c->last_local_id = id;
  } else if (id > c->last_peer_id) {
    c->last_peer_id = id;
  }
  return s;
}

/* The ring block holds |closed_cap| ids followed by their CLOSED_* kinds
 * (one byte each). Closing a stream only appends to the ring. Lookups (a
 * frame on a stream that is gone: rare in a well-behaved conversation)
 * scan a ring of up to CLOSED_SMALL ids; a bigger one gets an id map
 * (c->closed) built at the first lookup and kept up to date while lookups
 * keep coming. After a whole ring of closes with no lookup it is dropped
 * again, so a connection that never looks pays nothing per stream, and one
 * that does pays at most one map insert and delete per close, plus one
 * rebuild per ring of closes. */
#define CLOSED_SMALL 8

static uint8_t *closed_kinds(const h2_conn *c) {
  return (uint8_t *)(c->closed_ring + c->closed_cap);
}

static void drop_closed_index(h2_conn *c) {
  h2_idmap_free(&c->closed, &c->mem);
  c->closed_indexed = 0;
}

/* build_closed_index maps every id of the ring, oldest first (a later put
 * replaces, like the newest-first scan). Returns 0, or -1 (no memory: the
 * ring is scanned instead). */
__attribute__((noinline)) static int build_closed_index(h2_conn *c) {
  const uint8_t *k = closed_kinds(c);
  for (uint32_t i = 0; i < c->closed_count; i++) {
    uint32_t j = c->closed_head + i;
    if (j >= c->closed_cap) j -= c->closed_cap;
    if (h2_idmap_put(&c->closed, &c->mem, c->closed_ring[j], (void *)(uintptr_t)k[j])) {
      drop_closed_index(c);
      return -1;
    }
  }
  c->closed_indexed = 1;
  c->closed_unlooked = 0;
  return 0;
}

/* grow_closed_ring doubles the ring of closed ids (from 4, at most
 * max_closed_streams), unrolling it so that the oldest id is first (an
 * index stays valid: it maps ids, not positions).
 * Returns 0, or -1 when it cannot grow (full at the limit, or no memory). */
__attribute__((noinline)) static int grow_closed_ring(h2_conn *c) {
  uint32_t max = c->cfg.max_closed_streams;
  uint32_t cap = c->closed_cap;
  uint32_t ncap = cap ? (cap > max / 2 ? max : cap * 2) : (max < 4 ? max : 4);
  uint32_t *nr = h2c_alloc(c, (size_t)ncap * (sizeof *nr + 1));
  if (!nr) return -1;
  uint8_t *nk = (uint8_t *)(nr + ncap);
  const uint8_t *ok = c->closed_ring ? closed_kinds(c) : NULL;
  for (uint32_t i = 0; i < c->closed_count; i++) {
    uint32_t j = (c->closed_head + i) % cap;
    nr[i] = c->closed_ring[j];
    nk[i] = ok[j];
  }
  h2c_free(c, c->closed_ring);
  c->closed_ring = nr;
  c->closed_cap = ncap;
  c->closed_head = 0;
  return 0;
}

static void remember_closed(h2_conn *c, uint32_t id, int kind) {
  uint32_t cap = c->closed_cap;
  if (c->closed_count == cap) {
    if (cap < c->cfg.max_closed_streams && grow_closed_ring(c) == 0) {
      cap = c->closed_cap;
    } else {
      if (c->closed_count == 0) return; /* none kept (limit 0, or no memory) */
      uint32_t old = c->closed_ring[c->closed_head];
      if (c->closed_indexed) h2_idmap_del(&c->closed, old);
      if (++c->closed_head == cap) c->closed_head = 0;
      c->closed_count--;
    }
  }
  if (c->closed_indexed) {
    /* No lookup for a whole ring of closes: drop the index (rebuilt when
     * needed); no memory for the entry: drop it too (the ring is scanned). */
    if (++c->closed_unlooked >= cap || h2_idmap_put(&c->closed, &c->mem, id, (void *)(uintptr_t)kind))
      drop_closed_index(c);
  }
  uint32_t at = c->closed_head + c->closed_count;
  if (at >= cap) at -= cap;
  c->closed_ring[at] = id;
  closed_kinds(c)[at] = (uint8_t)kind;
  c->closed_count++;
}

int h2c_closed_kind(h2_conn *c, uint32_t id) {
  if (c->closed_count == 0) return 0;
  if (c->closed_cap > CLOSED_SMALL && (c->closed_indexed || build_closed_index(c) == 0)) {
    c->closed_unlooked = 0;
    return (int)(uintptr_t)h2_idmap_get(&c->closed, id);
  }
  const uint8_t *k = closed_kinds(c);
  for (uint32_t i = c->closed_count; i-- > 0;) { /* newest first, as a map put replaces */
    uint32_t j = c->closed_head + i;
    if (j >= c->closed_cap) j -= c->closed_cap;
    if (c->closed_ring[j] == id) return k[j];
  }
  return 0;
}

void h2c_stream_drop_queue(h2_conn *c, h2_stream *s) {
  h2_dchunk *ch = s->qhead;
  s->qhead = s->qtail = NULL;
  s->queued = 0;
  while (ch) {
    h2_dchunk *next = ch->next;
    ch->next = NULL;
    ch->dropped = 1;
    h2c_chunk_unref(c, ch);
    ch = next;
  }
  h2c_free(c, s->trailers);
  s->trailers = NULL;
  s->num_trailers = 0;
  s->end_queued = 0;
  if (s->in_ready && s->prio_open) h2_prio_set_ready(c->prio, s->id, 0);
  s->in_ready = 0;
}

void h2c_stream_close(h2_conn *c, h2_stream *s, h2_conn_close_reason reason, uint32_t code) {
  uint32_t id = s->id;
  h2c_stream_unmap(c, s);
  count(c, s, -1);
  /* The connection keeps credit for data the application never consumed. */
  if (s->recv_unconsumed) {
    uint64_t u = s->recv_unconsumed;
    s->recv_unconsumed = 0;
    h2c_flow_consumed_conn(c, (size_t)u);
  }
  h2c_stream_drop_queue(c, s);
  if (s->prio_open) h2_prio_close(c->prio, id);
  remember_closed(c, id,
                  reason == H2_CONN_CLOSE_RESET_LOCAL    ? CLOSED_RESET_LOCAL
                  : reason == H2_CONN_CLOSE_RESET_REMOTE ? CLOSED_RESET_REMOTE
                                                         : CLOSED_NORMAL);
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_STREAM_CLOSED;
  ev.stream_id = id;
  ev.stream_user = s->user;
  ev.u.closed.reason = reason;
  ev.u.closed.error_code = code;
  h2c_pool_put(c, &c->stream_pool, s);
  (void)h2c_emit_known(c, &ev);
}

void h2c_close_all(h2_conn *c, h2_conn_close_reason reason, uint32_t code) {
  /* Deleting from slot i may shift a later entry into slot i: re-check it.
   * Slots before i are empty, so no entry wraps back behind us. */
  for (uint32_t i = 0; i < c->streams.cap; i++) {
    while (c->streams.cap && i < c->streams.cap && c->streams.slots[i].key) {
      h2_stream *s = c->streams.slots[i].val;
      h2c_stream_close(c, s, reason, code);
    }
  }
}

/* The peer ended its side: STREAM_END, then the state moves on. */
void h2c_stream_end_remote(h2_conn *c, h2_stream *s) {
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_STREAM_END;
  ev.stream_id = s->id;
  ev.stream_user = s->user;
  uint32_t id = s->id;
  if (h2c_emit_known(c, &ev) < 0) return;
  s = h2c_stream(c, id); /* the callback may have reset it */
  if (!s || s->resetting) return;
  if (s->state == H2_STREAM_OPEN)
    set_state(c, s, H2_STREAM_HALF_CLOSED_REMOTE);
  else if (s->state == H2_STREAM_HALF_CLOSED_LOCAL)
    h2c_stream_close(c, s, H2_CONN_CLOSE_DONE, 0);
}

/* We produced END_STREAM. */
void h2c_stream_end_local(h2_conn *c, h2_stream *s) {
  if (s->state == H2_STREAM_OPEN)
    set_state(c, s, H2_STREAM_HALF_CLOSED_LOCAL);
  else if (s->state == H2_STREAM_HALF_CLOSED_REMOTE)
    h2c_stream_close(c, s, H2_CONN_CLOSE_DONE, 0);
}

/* Moves a stream to state |st|, keeping the stream counts right. */
void h2c_stream_set_state(h2_conn *c, h2_stream *s, uint8_t st) { set_state(c, s, st); }

/* A stream error: RST_STREAM |code| on |id|; a live stream is closed now
 * (events: STREAM_RESET remote=0, STREAM_CLOSED). |peer_caused| counts
 * against the local reset rate limit (CVE-2025-8671). Returns 0 or a
 * connection error. */
int h2c_stream_error(h2_conn *c, uint32_t id, uint32_t code, int peer_caused) {
  if (peer_caused && !h2_ratelim_take(&c->rl, H2_RL_LOCAL_RST, 1, c->now))
    return h2c_limit(c, H2_CONN_LIMIT_LOCAL_RST_RATE, code, 1);
  int r = h2c_send_rst(c, id, code);
  if (r) return h2c_conn_error(c, r, "out of memory");
  h2_stream *s = h2c_stream(c, id);
  if (!s) {
    if (h2c_closed_kind(c, id) == 0) remember_closed(c, id, CLOSED_RESET_LOCAL);
    return 0;
  }
  h2c_stream_drop_queue(c, s);
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_STREAM_RESET;
  ev.stream_id = id;
  ev.stream_user = s->user;
  ev.u.reset.error_code = code;
  ev.u.reset.remote = 0;
  r = h2c_emit_known(c, &ev);
  if (r < 0) return r;
  s = h2c_stream(c, id);
  if (s) h2c_stream_close(c, s, H2_CONN_CLOSE_RESET_LOCAL, code);
  return c->fatal ? c->fatal_err : 0;
}

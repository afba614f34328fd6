/* wbuf.c: the output queue of a socket.
 *
 * A queue of segments. A copy segment points into a chunk the queue owns;
 * small appends are copied to the end of the last chunk while it has room,
 * so a burst of frames becomes one contiguous run. A reference segment points
 * at caller memory released after it is written. Flush gathers up to
 * WBUF_IOV segments into one writev and consumes what was written, partial
 * segments included. */
#include <errno.h>
#include <string.h>

#include "h2_loop_tcp.h"

#define WBUF_CHUNK 16384
#define WBUF_IOV 64

typedef struct chunk {
  size_t cap;
  size_t used;
  uint8_t data[];
} chunk;

struct h2_loop_wbuf_seg {
  const uint8_t *p; /* next unwritten byte */
  size_t len;       /* unwritten bytes from p */
  chunk *ck;        /* copy segment: its chunk; NULL for a reference */
  h2_loop_wbuf_release_fn release;
  void *user;
  const void *orig; /* reference: what to give back to release */
  size_t orig_len;
};

void h2_loop_wbuf_init(h2_loop_wbuf *b, const h2_mem *mem) {
  memset(b, 0, sizeof(*b));
  b->mem_ = mem ? mem : h2_mem_default();
  b->chunk_size_ = WBUF_CHUNK;
}

static void put_chunk(h2_loop_wbuf *b, chunk *ck) {
  if (b->spare_ == NULL && ck->cap == b->chunk_size_) {
    ck->used = 0;
    b->spare_ = ck;
  } else {
    h2_mem_free(b->mem_, ck);
  }
}

static void seg_done(h2_loop_wbuf *b, h2_loop_wbuf_seg *s) {
  if (s->ck != NULL) {
    put_chunk(b, s->ck);
  } else if (s->release != NULL) {
    s->release(s->user, s->orig, s->orig_len);
  }
}

void h2_loop_wbuf_free(h2_loop_wbuf *b) {
  for (size_t i = b->head_; i < b->tail_; i++) seg_done(b, &b->segs_[i]);
  h2_mem_free(b->mem_, b->segs_);
  h2_mem_free(b->mem_, b->spare_);
  const h2_mem *mem = b->mem_;
  uint64_t writes = b->writes_;
  h2_loop_wbuf_init(b, mem);
  b->writes_ = writes;
}

/* new_seg returns a fresh tail segment (zeroed) or NULL. */
static h2_loop_wbuf_seg *new_seg(h2_loop_wbuf *b) {
  if (b->tail_ == b->cap_) {
    if (b->head_ > 0) {
      memmove(b->segs_, b->segs_ + b->head_, (b->tail_ - b->head_) * sizeof(*b->segs_));
      b->tail_ -= b->head_;
      b->head_ = 0;
    }
    if (b->tail_ == b->cap_) {
      size_t cap = b->cap_ ? b->cap_ * 2 : 16;
      if (cap > SIZE_MAX / sizeof(*b->segs_)) return NULL;
      h2_loop_wbuf_seg *s = h2_mem_realloc(b->mem_, b->segs_, cap * sizeof(*s));
      if (s == NULL) return NULL;
      b->segs_ = s;
      b->cap_ = cap;
    }
  }
  h2_loop_wbuf_seg *s = &b->segs_[b->tail_++];
  memset(s, 0, sizeof(*s));
  return s;
}

static chunk *get_chunk(h2_loop_wbuf *b, size_t min) {
  if (min <= b->chunk_size_ && b->spare_ != NULL) {
    chunk *ck = b->spare_;
    b->spare_ = NULL;
    return ck;
  }
  size_t cap = min > b->chunk_size_ ? min : b->chunk_size_;
  if (cap > SIZE_MAX - sizeof(chunk)) return NULL;
  chunk *ck = h2_mem_malloc(b->mem_, sizeof(chunk) + cap);
  if (ck == NULL) return NULL;
  ck->cap = cap;
  ck->used = 0;
  return ck;
}

/* tail_room returns the last segment if it is a copy segment whose chunk
 * has room for |min| bytes, else NULL. */
static h2_loop_wbuf_seg *tail_room(h2_loop_wbuf *b, size_t min) {
  if (b->tail_ == b->head_) return NULL;
  h2_loop_wbuf_seg *s = &b->segs_[b->tail_ - 1];
  if (s->ck == NULL || s->ck->cap - s->ck->used < min) return NULL;
  return s;
}

/* add_chunk_seg appends a copy segment over a chunk with room for |min|. */
static h2_loop_wbuf_seg *add_chunk_seg(h2_loop_wbuf *b, size_t min) {
  chunk *ck = get_chunk(b, min);
  if (ck == NULL) return NULL;
  h2_loop_wbuf_seg *s = new_seg(b);
  if (s == NULL) {
    put_chunk(b, ck);
    return NULL;
  }
  s->ck = ck;
  s->p = ck->data;
  return s;
}

int h2_loop_wbuf_append(h2_loop_wbuf *b, const void *data, size_t len) {
  if (len == 0) return 0;
  h2_loop_wbuf_seg *s = tail_room(b, len);
  if (s == NULL) s = add_chunk_seg(b, len);
  if (s == NULL) return H2_ERR_NOMEM;
  memcpy(s->ck->data + s->ck->used, data, len);
  s->ck->used += len;
  s->len += len;
  b->pending_ += len;
  return 0;
}

uint8_t *h2_loop_wbuf_reserve(h2_loop_wbuf *b, size_t len) {
  if (len > b->chunk_size_) return NULL;
  h2_loop_wbuf_seg *s = tail_room(b, len);
  if (s == NULL) s = add_chunk_seg(b, len);
  if (s == NULL) return NULL;
  return s->ck->data + s->ck->used;
}

void h2_loop_wbuf_commit(h2_loop_wbuf *b, size_t n) {
  if (n == 0 || b->tail_ == b->head_) return;
  h2_loop_wbuf_seg *s = &b->segs_[b->tail_ - 1];
  if (s->ck == NULL) return;
  if (n > s->ck->cap - s->ck->used) n = s->ck->cap - s->ck->used;
  s->ck->used += n;
  s->len += n;
  b->pending_ += n;
}

int h2_loop_wbuf_append_ref(h2_loop_wbuf *b, const void *data, size_t len,
                            h2_loop_wbuf_release_fn release, void *user) {
  h2_loop_wbuf_seg *s = new_seg(b);
  if (s == NULL) return H2_ERR_NOMEM;
  s->p = data;
  s->len = len;
  s->release = release;
  s->user = user;
  s->orig = data;
  s->orig_len = len;
  b->pending_ += len;
  return 0;
}

size_t h2_loop_wbuf_pending(const h2_loop_wbuf *b) { return b->pending_; }

uint64_t h2_loop_wbuf_writes(const h2_loop_wbuf *b) { return b->writes_; }

/* consume drops |n| written bytes from the front of the queue. Fully written
 * segments are released, except the last copy segment, whose chunk keeps
 * taking appends. */
static void consume(h2_loop_wbuf *b, size_t n) {
  b->pending_ -= n;
  while (b->head_ < b->tail_) {
    h2_loop_wbuf_seg *s = &b->segs_[b->head_];
    if (n < s->len) {
      s->p += n;
      s->len -= n;
      return;
    }
    n -= s->len;
    if (s->ck != NULL && b->head_ + 1 == b->tail_) {
      /* Last segment fully written: reuse its chunk from the start. */
      s->ck->used = 0;
      s->p = s->ck->data;
      s->len = 0;
      return;
    }
    seg_done(b, s);
    b->head_++;
  }
  b->head_ = b->tail_ = 0;
}

int h2_loop_wbuf_flush(h2_loop_wbuf *b, int fd) {
  while (b->pending_ > 0) {
    struct iovec iov[WBUF_IOV];
    int cnt = 0;
    size_t want = 0;
    for (size_t i = b->head_; i < b->tail_ && cnt < WBUF_IOV; i++) {
      h2_loop_wbuf_seg *s = &b->segs_[i];
      if (s->len == 0) continue;
      iov[cnt].iov_base = (void *)s->p;
      iov[cnt].iov_len = s->len;
      want += s->len;
      cnt++;
    }
    int64_t n = h2_loop_tcp_writev(fd, iov, cnt);
    b->writes_++;
    if (n < 0) return (int)n;
    consume(b, (size_t)n);
    if ((size_t)n < want) return H2_ERR_WOULD_BLOCK; /* socket buffer full */
  }
  /* Drop empty segments left at the front (zero-length references). */
  while (b->head_ < b->tail_ && b->segs_[b->head_].len == 0 &&
         !(b->segs_[b->head_].ck != NULL && b->head_ + 1 == b->tail_)) {
    seg_done(b, &b->segs_[b->head_]);
    b->head_++;
  }
  return 0;
}

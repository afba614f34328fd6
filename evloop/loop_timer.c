/* loop_timer.c: timers in a 4-ary min-heap ordered by (due, start order).
 *
 * Timers are caller-owned; the heap holds (due, seq, pointer) entries, so
 * sifting compares keys without touching timer memory, and each timer knows
 * its heap index, so start and stop are O(log n) with no allocation (except
 * when the heap array grows, amortized) and no system call. */
#include <limits.h>
#include <stdint.h>

#include "loop_internal.h"

enum {
  T_UNREF = 1,   /* does not keep the loop alive */
  T_COUNTED = 2, /* counted in loop->nactive */
};

/* heap_idx_ is 32 bits (a timer is 56 octets, not 64): the heap stops
 * growing below 2^32 - 1 entries. */
#define NOT_IN_HEAP UINT32_MAX

#define ARITY 4

typedef h2_loop_heap_ent ent;

static int less(const ent *a, const ent *b) {
  if (a->due != b->due) return a->due < b->due;
  return a->seq < b->seq;
}

static void place(h2_loop *loop, size_t i, ent e) {
  loop->heap[i] = e;
  e.t->heap_idx_ = (uint32_t)i;
}

static void sift_up(h2_loop *loop, size_t i) {
  ent e = loop->heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / ARITY;
    if (!less(&e, &loop->heap[parent])) break;
    place(loop, i, loop->heap[parent]);
    i = parent;
  }
  place(loop, i, e);
}

static void sift_down(h2_loop *loop, size_t i) {
  ent e = loop->heap[i];
  size_t n = loop->nheap;
  for (;;) {
    size_t first = ARITY * i + 1;
    if (first >= n) break;
    size_t end = first + ARITY < n ? first + ARITY : n;
    size_t best = first;
    for (size_t c = first + 1; c < end; c++) {
      if (less(&loop->heap[c], &loop->heap[best])) best = c;
    }
    if (!less(&loop->heap[best], &e)) break;
    place(loop, i, loop->heap[best]);
    i = best;
  }
  place(loop, i, e);
}

static void heap_remove(h2_loop *loop, h2_loop_timer *t) {
  size_t i = t->heap_idx_;
  size_t last = --loop->nheap;
  t->heap_idx_ = NOT_IN_HEAP;
  if (i == last) return;
  ent m = loop->heap[last];
  place(loop, i, m);
  if (i > 0 && less(&m, &loop->heap[(i - 1) / ARITY])) {
    sift_up(loop, i);
  } else {
    sift_down(loop, i);
  }
}

/* heap_push inserts |t| with its due_/seq_; capacity must be there. */
static void heap_push(h2_loop *loop, h2_loop_timer *t) {
  size_t i = loop->nheap++;
  ent e = {t->due_, t->seq_, t};
  place(loop, i, e);
  sift_up(loop, i);
}

static int heap_reserve(h2_loop *loop) {
  if (loop->nheap < loop->heap_cap) return 0;
  size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
  if (cap > SIZE_MAX / sizeof(ent) || cap > NOT_IN_HEAP) return H2_ERR_NOMEM;
  ent *h = h2_mem_realloc(loop->mem, loop->heap, cap * sizeof(*h));
  if (h == NULL) return H2_ERR_NOMEM;
  loop->heap = h;
  loop->heap_cap = cap;
  return 0;
}

/* recount keeps loop->nactive in step with "started and referenced". */
static void recount(h2_loop_timer *t) {
  int should = t->heap_idx_ != NOT_IN_HEAP && !(t->flags_ & T_UNREF);
  int is = (t->flags_ & T_COUNTED) != 0;
  if (should == is) return;
  if (should) {
    t->flags_ |= T_COUNTED;
    h2_loop_active_add(t->loop_, 1);
  } else {
    t->flags_ &= ~(unsigned)T_COUNTED;
    h2_loop_active_add(t->loop_, -1);
  }
}

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

void h2_loop_timer_init(h2_loop *loop, h2_loop_timer *timer, h2_loop_timer_cb cb, void *user) {
  timer->loop_ = loop;
  timer->cb_ = cb;
  timer->user_ = user;
  timer->due_ = 0;
  timer->repeat_ = 0;
  timer->seq_ = 0;
  timer->heap_idx_ = NOT_IN_HEAP;
  timer->flags_ = 0;
}

int h2_loop_timer_start(h2_loop_timer *timer, uint64_t timeout_ms, uint64_t repeat_ms) {
  h2_loop *loop = timer->loop_;
  if (timer->heap_idx_ != NOT_IN_HEAP) heap_remove(loop, timer);
  timer->due_ = add_sat(loop->now, timeout_ms);
  timer->repeat_ = repeat_ms;
  timer->seq_ = ++loop->timer_seq;
  int rc = heap_reserve(loop);
  if (rc == 0) heap_push(loop, timer);
  recount(timer);
  return rc;
}

void h2_loop_timer_stop(h2_loop_timer *timer) {
  if (timer->heap_idx_ == NOT_IN_HEAP) return;
  heap_remove(timer->loop_, timer);
  recount(timer);
}

int h2_loop_timer_active(const h2_loop_timer *timer) { return timer->heap_idx_ != NOT_IN_HEAP; }

uint64_t h2_loop_timer_due(const h2_loop_timer *timer) { return timer->due_; }

void h2_loop_timer_ref(h2_loop_timer *timer) {
  timer->flags_ &= ~(unsigned)T_UNREF;
  recount(timer);
}

void h2_loop_timer_unref(h2_loop_timer *timer) {
  timer->flags_ |= T_UNREF;
  recount(timer);
}

void h2_loop_timers_run(h2_loop *loop) {
  /* Timers (re)started by callbacks in this phase get a larger seq and wait
   * for the next phase, so a callback re-arming with 0 cannot spin here. */
  uint64_t last_seq = loop->timer_seq;
  while (loop->nheap > 0) {
    const ent *top = &loop->heap[0];
    if (top->due > loop->now || top->seq > last_seq) break;
    h2_loop_timer *t = top->t;
    heap_remove(loop, t);
    if (t->repeat_ > 0) {
      uint64_t due = add_sat(t->due_, t->repeat_);
      if (due <= loop->now) due = add_sat(loop->now, t->repeat_);
      t->due_ = due;
      t->seq_ = ++loop->timer_seq;
      heap_push(loop, t); /* the slot just freed: no allocation */
    }
    recount(t);
    t->cb_(t, t->user_);
  }
}

int h2_loop_timers_timeout(const h2_loop *loop) {
  if (loop->nheap == 0) return -1;
  uint64_t due = loop->heap[0].due;
  if (due <= loop->now) return 0;
  uint64_t d = due - loop->now;
  return d > INT_MAX ? INT_MAX : (int)d;
}

void h2_loop_timers_detach_all(h2_loop *loop) {
  while (loop->nheap > 0) {
    h2_loop_timer *t = loop->heap[--loop->nheap].t;
    t->heap_idx_ = NOT_IN_HEAP;
    recount(t);
  }
}

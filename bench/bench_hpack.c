/* bench_hpack.c: h2's HPACK coder against libnghttp2's (nghttp2_hd_*), same
 * run, same inputs: every raw-data story of hpack-test-case (each story one
 * compression context, table size 4096, Huffman when shorter on both sides).
 *
 *  - encode: MB/s of header data (sum of name + value lengths) encoding
 *    every story's header lists, a fresh encoder per story;
 *  - decode: MB/s of header data decoding the SAME wire on both sides
 *    (nghttp2's encoding of the stories), a fresh decoder per story;
 *  - size: total octets of the encoded stories (better = nghttp2 / ours).
 *
 * Each figure is the best of 5 runs of >= 0.2 s, the two sides' runs
 * alternating. Before timing, both
 * decoders are checked on nghttp2's wire and nghttp2's decoder on ours: any
 * mismatch ends the benchmark with an error instead of a figure.
 * Stories: $H2_HPACK_TEST_CASE or ../shared/hpack-test-case (from the repo
 * root). */
#include <dirent.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "h2_hpack.h"
#include "story.h"

#define RUNS 5
#define MIN_RUN_SECONDS 0.2
#define MAX_STORIES 256
#define OUT_CAP (1u << 20)

typedef struct block {
  h2_hpack_field *ours;  /* the header list, our form */
  nghttp2_nv *ng;        /* the same list, nghttp2's form */
  size_t n;
  uint8_t *ng_wire;      /* nghttp2's encoding */
  size_t ng_wire_len;
  uint8_t *our_wire;     /* ours */
  size_t our_wire_len;
} block;

typedef struct bstory {
  h2_story s;
  block *blocks;
  size_t n;
} bstory;

static bstory stories[MAX_STORIES];
static size_t num_stories;
static uint8_t out_buf[OUT_CAP];
static volatile size_t sink;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "bench_hpack: ");
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  exit(1);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_stories(size_t *header_bytes) {
  const char *root = getenv("H2_HPACK_TEST_CASE");
  if (!root || !*root) root = "../shared/hpack-test-case";
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/raw-data", root);
  DIR *d = opendir(dir);
  if (!d) die("cannot open %s%s (set H2_HPACK_TEST_CASE)", dir, "");
  char *names[MAX_STORIES];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < MAX_STORIES) {
    size_t len = strlen(e->d_name);
    if (strncmp(e->d_name, "story_", 6) || len < 5 || strcmp(e->d_name + len - 5, ".json")) continue;
    names[n] = strdup(e->d_name);
    if (!names[n]) die("out of memory%s%s", "", "");
    n++;
  }
  closedir(d);
  if (n == 0) die("no stories in %s%s", dir, "");
  qsort(names, n, sizeof *names, cmp_str);
  *header_bytes = 0;
  for (size_t i = 0; i < n; i++) {
    char path[8192], err[512];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    free(names[i]);
    bstory *bs = &stories[num_stories++];
    if (h2_story_load(&bs->s, path, err, sizeof err) != 0) die("%s%s", err, "");
    bs->n = bs->s.num_cases;
    bs->blocks = calloc(bs->n ? bs->n : 1, sizeof *bs->blocks);
    if (!bs->blocks) die("out of memory%s%s", "", "");
    for (size_t c = 0; c < bs->n; c++) {
      const h2_story_case *cs = &bs->s.cases[c];
      block *b = &bs->blocks[c];
      b->n = cs->num_fields;
      b->ours = calloc(b->n ? b->n : 1, sizeof *b->ours);
      b->ng = calloc(b->n ? b->n : 1, sizeof *b->ng);
      if (!b->ours || !b->ng) die("out of memory%s%s", "", "");
      for (size_t f = 0; f < b->n; f++) {
        const h2_story_field *sf = &cs->fields[f];
        b->ours[f] = (h2_hpack_field){sf->name, sf->name_len, sf->value, sf->value_len, 0};
        b->ng[f] = (nghttp2_nv){(uint8_t *)sf->name, (uint8_t *)sf->value, sf->name_len,
                                sf->value_len, NGHTTP2_NV_FLAG_NONE};
        *header_bytes += sf->name_len + sf->value_len;
      }
    }
  }
}

/* ---- one pass of each side over all stories; each returns a checksum ---- */

static size_t ours_encode_all(size_t *total) {
  size_t bytes = 0;
  for (size_t i = 0; i < num_stories; i++) {
    h2_hpack_encoder *e = h2_hpack_encoder_new(NULL);
    if (!e) die("out of memory%s%s", "", "");
    for (size_t c = 0; c < stories[i].n; c++) {
      const block *b = &stories[i].blocks[c];
      h2_cbb cbb;
      h2_cbb_init(&cbb, out_buf, OUT_CAP);
      int rc = h2_hpack_encode(e, &cbb, b->ours, b->n);
      if (rc < 0) die("our encoder failed: %s%s", h2_strerror(rc), "");
      bytes += (size_t)rc;
    }
    h2_hpack_encoder_free(e);
  }
  *total = bytes;
  return bytes;
}

static size_t ng_encode_all(size_t *total) {
  size_t bytes = 0;
  for (size_t i = 0; i < num_stories; i++) {
    nghttp2_hd_deflater *df;
    if (nghttp2_hd_deflate_new(&df, 4096) != 0) die("nghttp2_hd_deflate_new failed%s%s", "", "");
    for (size_t c = 0; c < stories[i].n; c++) {
      const block *b = &stories[i].blocks[c];
      ssize_t rv = nghttp2_hd_deflate_hd(df, out_buf, OUT_CAP, b->ng, b->n);
      if (rv < 0) die("nghttp2_hd_deflate_hd: %s%s", nghttp2_strerror((int)rv), "");
      bytes += (size_t)rv;
    }
    nghttp2_hd_deflate_del(df);
  }
  *total = bytes;
  return bytes;
}

static int count_field(void *user, const h2_hpack_field *f) {
  *(size_t *)user += f->name_len + f->value_len;
  return 0;
}

static size_t ours_decode_all(int ng_wire) {
  size_t bytes = 0;
  for (size_t i = 0; i < num_stories; i++) {
    h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
    if (!d) die("out of memory%s%s", "", "");
    h2_hpack_decoder_set_limits(d, 1u << 24, 1u << 16, 1u << 20);
    for (size_t c = 0; c < stories[i].n; c++) {
      const block *b = &stories[i].blocks[c];
      int rc = ng_wire ? h2_hpack_decode(d, b->ng_wire, b->ng_wire_len, 1, count_field, &bytes)
                       : h2_hpack_decode(d, b->our_wire, b->our_wire_len, 1, count_field, &bytes);
      if (rc < 0) die("our decoder failed: %s%s", h2_strerror(rc), "");
    }
    h2_hpack_decoder_free(d);
  }
  return bytes;
}

/* ng_inflate_block decodes one block with nghttp2; with |want| it compares. */
static size_t ng_inflate_block(nghttp2_hd_inflater *inf, const uint8_t *in, size_t len,
                               const block *want) {
  size_t bytes = 0, idx = 0;
  for (;;) {
    nghttp2_nv nv;
    int flags = 0;
    ssize_t rv = nghttp2_hd_inflate_hd2(inf, &nv, &flags, in, len, 1);
    if (rv < 0) die("nghttp2_hd_inflate_hd2: %s%s", nghttp2_strerror((int)rv), "");
    in += rv;
    len -= (size_t)rv;
    if (flags & NGHTTP2_HD_INFLATE_EMIT) {
      bytes += nv.namelen + nv.valuelen;
      if (want) {
        if (idx >= want->n || nv.namelen != want->ours[idx].name_len ||
            nv.valuelen != want->ours[idx].value_len ||
            memcmp(nv.name, want->ours[idx].name, nv.namelen) ||
            memcmp(nv.value, want->ours[idx].value, nv.valuelen))
          die("nghttp2 decoded our wire to a different list%s%s", "", "");
        idx++;
      }
    }
    if (flags & NGHTTP2_HD_INFLATE_FINAL) {
      nghttp2_hd_inflate_end_headers(inf);
      break;
    }
    if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && len == 0) break;
  }
  if (want && idx != want->n) die("nghttp2 decoded our wire to fewer fields%s%s", "", "");
  return bytes;
}

static size_t ng_decode_all(int ng_wire, int verify) {
  size_t bytes = 0;
  for (size_t i = 0; i < num_stories; i++) {
    nghttp2_hd_inflater *inf;
    if (nghttp2_hd_inflate_new(&inf) != 0) die("nghttp2_hd_inflate_new failed%s%s", "", "");
    for (size_t c = 0; c < stories[i].n; c++) {
      const block *b = &stories[i].blocks[c];
      bytes += ng_wire ? ng_inflate_block(inf, b->ng_wire, b->ng_wire_len, verify ? b : NULL)
                       : ng_inflate_block(inf, b->our_wire, b->our_wire_len, verify ? b : NULL);
    }
    nghttp2_hd_inflate_del(inf);
  }
  return bytes;
}

/* ---- setup and checks ---- */

static void make_wires(void) {
  for (size_t i = 0; i < num_stories; i++) {
    nghttp2_hd_deflater *df;
    h2_hpack_encoder *e = h2_hpack_encoder_new(NULL);
    if (nghttp2_hd_deflate_new(&df, 4096) != 0 || !e) die("out of memory%s%s", "", "");
    for (size_t c = 0; c < stories[i].n; c++) {
      block *b = &stories[i].blocks[c];
      ssize_t rv = nghttp2_hd_deflate_hd(df, out_buf, OUT_CAP, b->ng, b->n);
      if (rv < 0) die("nghttp2_hd_deflate_hd: %s%s", nghttp2_strerror((int)rv), "");
      b->ng_wire = malloc((size_t)rv + 1);
      if (!b->ng_wire) die("out of memory%s%s", "", "");
      memcpy(b->ng_wire, out_buf, (size_t)rv);
      b->ng_wire_len = (size_t)rv;
      h2_cbb cbb;
      h2_cbb_init(&cbb, out_buf, OUT_CAP);
      int rc = h2_hpack_encode(e, &cbb, b->ours, b->n);
      if (rc < 0) die("our encoder failed: %s%s", h2_strerror(rc), "");
      b->our_wire = malloc(cbb.len + 1);
      if (!b->our_wire) die("out of memory%s%s", "", "");
      memcpy(b->our_wire, out_buf, cbb.len);
      b->our_wire_len = cbb.len;
    }
    nghttp2_hd_deflate_del(df);
    h2_hpack_encoder_free(e);
  }
}

typedef struct cmp_state {
  const block *b;
  size_t i;
  int bad;
} cmp_state;

static int compare_field(void *user, const h2_hpack_field *f) {
  cmp_state *c = user;
  const h2_hpack_field *w = c->i < c->b->n ? &c->b->ours[c->i] : NULL;
  if (!w || f->name_len != w->name_len || f->value_len != w->value_len ||
      memcmp(f->name, w->name, f->name_len) || memcmp(f->value, w->value, f->value_len))
    c->bad = 1;
  c->i++;
  return 0;
}

/* verify: our decoder on nghttp2's wire, nghttp2's on ours and on its own. */
static void verify(void) {
  for (size_t i = 0; i < num_stories; i++) {
    h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
    if (!d) die("out of memory%s%s", "", "");
    h2_hpack_decoder_set_limits(d, 1u << 24, 1u << 16, 1u << 20);
    for (size_t c = 0; c < stories[i].n; c++) {
      const block *b = &stories[i].blocks[c];
      cmp_state st = {b, 0, 0};
      int rc = h2_hpack_decode(d, b->ng_wire, b->ng_wire_len, 1, compare_field, &st);
      if (rc < 0 || st.bad || st.i != b->n) die("our decoder got nghttp2's wire wrong%s%s", "", "");
    }
    h2_hpack_decoder_free(d);
  }
  ng_decode_all(0, 1);
  ng_decode_all(1, 1);
}

typedef size_t (*pass_fn)(void);

static size_t p_ours_decode_ng(void) { return ours_decode_all(1); }
static size_t p_ours_decode_own(void) { return ours_decode_all(0); }
static size_t p_ng_decode_ng(void) { return ng_decode_all(1, 0); }
static size_t p_ours_encode(void) { size_t t; return ours_encode_all(&t); }
static size_t p_ng_encode(void) { size_t t; return ng_encode_all(&t); }

/* one_run runs |fn| (one pass over all stories) repeatedly for at least
 * MIN_RUN_SECONDS and returns MB/s for |bytes| of header data per pass. */
static double one_run(pass_fn fn, size_t bytes) {
  size_t iters = 0;
  double t0 = now(), t;
  do {
    sink += fn();
    iters++;
    t = now() - t0;
  } while (t < MIN_RUN_SECONDS);
  return (double)bytes * (double)iters / t / 1e6;
}

/* best_pair alternates runs of |ours| and |peer| (so background load hits
 * both alike), RUNS of each, and keeps each side's best. */
static void best_pair(pass_fn ours, pass_fn peer, size_t bytes, double *out_ours, double *out_peer) {
  *out_ours = *out_peer = 0;
  for (int r = 0; r < RUNS; r++) {
    double a = one_run(ours, bytes), b = one_run(peer, bytes);
    if (a > *out_ours) *out_ours = a;
    if (b > *out_peer) *out_peer = b;
  }
}

/* usage: bench_hpack                  the comparison (RESULT lines)
 *        bench_hpack SIDE PASSES     only PASSES encode passes of one SIDE
 *                                    ("ours" or "nghttp2"), for perf stat
 *                                    and callgrind; prints the octets. */
int main(int argc, char **argv) {
  size_t header_bytes, cases = 0, ours_size, ng_size;
  if (argc != 1 && argc != 3) die("usage: bench_hpack [ours|nghttp2 PASSES]%s%s", "", "");
  load_stories(&header_bytes);
  if (argc == 3) {
    int ours = strcmp(argv[1], "ours") == 0;
    if (!ours && strcmp(argv[1], "nghttp2") != 0) die("unknown side %s%s", argv[1], "");
    char *end;
    unsigned long passes = strtoul(argv[2], &end, 10);
    if (*end || passes == 0) die("bad pass count %s%s", argv[2], "");
    size_t total = 0, t;
    for (unsigned long p = 0; p < passes; p++) total += ours ? ours_encode_all(&t) : ng_encode_all(&t);
    printf("%s: %lu encode passes, %zu octets\n", argv[1], passes, total);
    return 0;
  }
  for (size_t i = 0; i < num_stories; i++) cases += stories[i].n;
  make_wires();
  verify();
  ours_encode_all(&ours_size);
  ng_encode_all(&ng_size);
  printf("# %zu raw-data stories, %zu header lists, %zu octets of header data (name + value)\n",
         num_stories, cases, header_bytes);
  printf("# checked: our decoder on nghttp2's wire, nghttp2's decoder on ours\n");

  double dec_ours, dec_ng, enc_ours, enc_ng, own_ours, dummy;
  best_pair(p_ours_decode_ng, p_ng_decode_ng, header_bytes, &dec_ours, &dec_ng);
  best_pair(p_ours_encode, p_ng_encode, header_bytes, &enc_ours, &enc_ng);
  best_pair(p_ours_decode_own, p_ng_decode_ng, header_bytes, &own_ours, &dummy);
  if (dummy > dec_ng) dec_ng = dummy; /* nghttp2's best over all its decode runs */

  printf("# our decoder on our own encoding: %.1f MB/s\n", own_ours);
  printf("RESULT name=hpack.decode unit=MB/s ours=%.1f nghttp2=%.1f better=%.2f\n", dec_ours, dec_ng,
         dec_ours / dec_ng);
  printf("RESULT name=hpack.encode unit=MB/s ours=%.1f nghttp2=%.1f better=%.2f\n", enc_ours, enc_ng,
         enc_ours / enc_ng);
  printf("RESULT name=hpack.size unit=bytes ours=%zu nghttp2=%zu better=%.3f\n", ours_size, ng_size,
         (double)ng_size / (double)ours_size);

  for (size_t i = 0; i < num_stories; i++) {
    for (size_t c = 0; c < stories[i].n; c++) {
      free(stories[i].blocks[c].ours);
      free(stories[i].blocks[c].ng);
      free(stories[i].blocks[c].ng_wire);
      free(stories[i].blocks[c].our_wire);
    }
    free(stories[i].blocks);
    h2_story_free(&stories[i].s);
  }
  return 0;
}

/* conn_hpad.c: padded HEADERS and PUSH_PROMISE (h2_conn_config.
 * header_padding). The padding goes in the first frame of the block only;
 * it does not count against flow control (RFC 9113 §6.9 covers DATA only)
 * but, with the Pad Length octet, must keep that frame within the peer's
 * MAX_FRAME_SIZE, so it only fills what the first fragment leaves. */
#include "conn_internal.h"

/* Padding for a first frame with |fixed| octets of priority / promised id
 * and a |frag|-octet fragment, |room| octets below MAX_FRAME_SIZE left
 * after the Pad Length octet. */
static size_t choose_header_pad(h2_conn *c, uint32_t id, size_t fixed, size_t frag, size_t room) {
  size_t max = room < 255 ? room : 255;
  size_t pad = 0;
  switch (c->cfg.header_padding) {
    case H2_CONN_PAD_MAX: pad = max; break;
    case H2_CONN_PAD_ALIGNED: {
      size_t a = c->cfg.padding_align, total = H2_FRAME_HEADER_LEN + 1 + fixed + frag;
      pad = (a - total % a) % a;
      break;
    }
    case H2_CONN_PAD_CALLBACK:
      pad = c->cfg.header_padding_cb(c->cfg.padding_user, id, frag, max);
      break;
    default: break;
  }
  return pad > max ? max : pad;
}

int h2c_send_padded_block(h2_conn *c, uint32_t id, int type, uint32_t promised, uint8_t flags,
                          const h2_frame_prio *prio, const h2_hpack_field *f, size_t n,
                          size_t bound) {
  uint32_t mfs = c->remote.max_frame_size;
  size_t fixed = type == H2_FRAME_PUSH_PROMISE ? 4 : (prio ? 5 : 0);
  /* Room for the frames with the most padding there can be; the block is
   * encoded past it, so the frames, however padded, never overwrite it. */
  size_t fsz = h2_frame_block_size(fixed + 1 + 255, bound, mfs);
  if (fsz == 0) return H2_ERR_INVALID_ARG;
  h2_cbb b;
  if (h2c_out_begin(c, &b, fsz + bound)) return H2_ERR_NOMEM;
  h2_cbb blk;
  h2_cbb_init(&blk, c->obuf + c->obuf_len + fsz, bound);
  int len = h2_hpack_encode(c->enc, &blk, f, n);
  if (len < 0) return len;
  size_t first = mfs - fixed - 1; /* mfs >= 16384: no underflow */
  if (first > blk.len) first = blk.len;
  size_t pad = choose_header_pad(c, id, fixed, first, mfs - fixed - 1 - first);
  int r = h2_frame_write_padded_block(&b, (uint8_t)type, id, flags, prio, promised, blk.buf,
                                      blk.len, mfs, (int)pad);
  if (r) return H2_ERR_INTERNAL;
  return h2c_out_end(c, &b, SEG_FRAMES, 0, 0);
}

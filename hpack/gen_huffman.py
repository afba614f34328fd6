#!/usr/bin/env python3
"""gen_huffman.py: generates hpack/hpack_huffman_table.h from the HPACK
Huffman code (RFC 7541 Appendix B, transcribed below as (code, bit length)
for symbols 0..256, 256 being EOS).

Output:
  h2_hpack_huff_code[257], h2_hpack_huff_bits[257]  the code, for encoding;
  h2_hpack_huff_dec[256][256]                       a byte-at-a-time decoder.

The decoder is a state machine over the 256 internal nodes of the code tree
(state 0 = root). Entry [s][b] tells what reading octet b in state s does,
packed in a uint32:
  bits  0..1   number of symbols completed (0..2)
  bit   2      ACCEPT: the next state is a valid place for the string to
               end (the root, or at most 7 one-bits into a code: padding)
  bit   3      FAIL: the EOS symbol was completed
  bits  8..15  next state (so (entry & 0xff00) | octet indexes the table
               flattened to [256 * 256])
  bits 16..23  first symbol, bits 24..31 second symbol.

Usage: python3 hpack/gen_huffman.py > hpack/hpack_huffman_table.h
"""
import sys

CODES = [
    (0x1ff8, 13), (0x7fffd8, 23), (0xfffffe2, 28), (0xfffffe3, 28), (0xfffffe4, 28), (0xfffffe5, 28),
    (0xfffffe6, 28), (0xfffffe7, 28), (0xfffffe8, 28), (0xffffea, 24), (0x3ffffffc, 30), (0xfffffe9, 28),
    (0xfffffea, 28), (0x3ffffffd, 30), (0xfffffeb, 28), (0xfffffec, 28), (0xfffffed, 28), (0xfffffee, 28),
    (0xfffffef, 28), (0xffffff0, 28), (0xffffff1, 28), (0xffffff2, 28), (0x3ffffffe, 30), (0xffffff3, 28),
    (0xffffff4, 28), (0xffffff5, 28), (0xffffff6, 28), (0xffffff7, 28), (0xffffff8, 28), (0xffffff9, 28),
    (0xffffffa, 28), (0xffffffb, 28), (0x14, 6), (0x3f8, 10), (0x3f9, 10), (0xffa, 12),
    (0x1ff9, 13), (0x15, 6), (0xf8, 8), (0x7fa, 11), (0x3fa, 10), (0x3fb, 10),
    (0xf9, 8), (0x7fb, 11), (0xfa, 8), (0x16, 6), (0x17, 6), (0x18, 6),
    (0x0, 5), (0x1, 5), (0x2, 5), (0x19, 6), (0x1a, 6), (0x1b, 6),
    (0x1c, 6), (0x1d, 6), (0x1e, 6), (0x1f, 6), (0x5c, 7), (0xfb, 8),
    (0x7ffc, 15), (0x20, 6), (0xffb, 12), (0x3fc, 10), (0x1ffa, 13), (0x21, 6),
    (0x5d, 7), (0x5e, 7), (0x5f, 7), (0x60, 7), (0x61, 7), (0x62, 7),
    (0x63, 7), (0x64, 7), (0x65, 7), (0x66, 7), (0x67, 7), (0x68, 7),
    (0x69, 7), (0x6a, 7), (0x6b, 7), (0x6c, 7), (0x6d, 7), (0x6e, 7),
    (0x6f, 7), (0x70, 7), (0x71, 7), (0x72, 7), (0xfc, 8), (0x73, 7),
    (0xfd, 8), (0x1ffb, 13), (0x7fff0, 19), (0x1ffc, 13), (0x3ffc, 14), (0x22, 6),
    (0x7ffd, 15), (0x3, 5), (0x23, 6), (0x4, 5), (0x24, 6), (0x5, 5),
    (0x25, 6), (0x26, 6), (0x27, 6), (0x6, 5), (0x74, 7), (0x75, 7),
    (0x28, 6), (0x29, 6), (0x2a, 6), (0x7, 5), (0x2b, 6), (0x76, 7),
    (0x2c, 6), (0x8, 5), (0x9, 5), (0x2d, 6), (0x77, 7), (0x78, 7),
    (0x79, 7), (0x7a, 7), (0x7b, 7), (0x7ffe, 15), (0x7fc, 11), (0x3ffd, 14),
    (0x1ffd, 13), (0xffffffc, 28), (0xfffe6, 20), (0x3fffd2, 22), (0xfffe7, 20), (0xfffe8, 20),
    (0x3fffd3, 22), (0x3fffd4, 22), (0x3fffd5, 22), (0x7fffd9, 23), (0x3fffd6, 22), (0x7fffda, 23),
    (0x7fffdb, 23), (0x7fffdc, 23), (0x7fffdd, 23), (0x7fffde, 23), (0xffffeb, 24), (0x7fffdf, 23),
    (0xffffec, 24), (0xffffed, 24), (0x3fffd7, 22), (0x7fffe0, 23), (0xffffee, 24), (0x7fffe1, 23),
    (0x7fffe2, 23), (0x7fffe3, 23), (0x7fffe4, 23), (0x1fffdc, 21), (0x3fffd8, 22), (0x7fffe5, 23),
    (0x3fffd9, 22), (0x7fffe6, 23), (0x7fffe7, 23), (0xffffef, 24), (0x3fffda, 22), (0x1fffdd, 21),
    (0xfffe9, 20), (0x3fffdb, 22), (0x3fffdc, 22), (0x7fffe8, 23), (0x7fffe9, 23), (0x1fffde, 21),
    (0x7fffea, 23), (0x3fffdd, 22), (0x3fffde, 22), (0xfffff0, 24), (0x1fffdf, 21), (0x3fffdf, 22),
    (0x7fffeb, 23), (0x7fffec, 23), (0x1fffe0, 21), (0x1fffe1, 21), (0x3fffe0, 22), (0x1fffe2, 21),
    (0x7fffed, 23), (0x3fffe1, 22), (0x7fffee, 23), (0x7fffef, 23), (0xfffea, 20), (0x3fffe2, 22),
    (0x3fffe3, 22), (0x3fffe4, 22), (0x7ffff0, 23), (0x3fffe5, 22), (0x3fffe6, 22), (0x7ffff1, 23),
    (0x3ffffe0, 26), (0x3ffffe1, 26), (0xfffeb, 20), (0x7fff1, 19), (0x3fffe7, 22), (0x7ffff2, 23),
    (0x3fffe8, 22), (0x1ffffec, 25), (0x3ffffe2, 26), (0x3ffffe3, 26), (0x3ffffe4, 26), (0x7ffffde, 27),
    (0x7ffffdf, 27), (0x3ffffe5, 26), (0xfffff1, 24), (0x1ffffed, 25), (0x7fff2, 19), (0x1fffe3, 21),
    (0x3ffffe6, 26), (0x7ffffe0, 27), (0x7ffffe1, 27), (0x3ffffe7, 26), (0x7ffffe2, 27), (0xfffff2, 24),
    (0x1fffe4, 21), (0x1fffe5, 21), (0x3ffffe8, 26), (0x3ffffe9, 26), (0xffffffd, 28), (0x7ffffe3, 27),
    (0x7ffffe4, 27), (0x7ffffe5, 27), (0xfffec, 20), (0xfffff3, 24), (0xfffed, 20), (0x1fffe6, 21),
    (0x3fffe9, 22), (0x1fffe7, 21), (0x1fffe8, 21), (0x7ffff3, 23), (0x3fffea, 22), (0x3fffeb, 22),
    (0x1ffffee, 25), (0x1ffffef, 25), (0xfffff4, 24), (0xfffff5, 24), (0x3ffffea, 26), (0x7ffff4, 23),
    (0x3ffffeb, 26), (0x7ffffe6, 27), (0x3ffffec, 26), (0x3ffffed, 26), (0x7ffffe7, 27), (0x7ffffe8, 27),
    (0x7ffffe9, 27), (0x7ffffea, 27), (0x7ffffeb, 27), (0xffffffe, 28), (0x7ffffec, 27), (0x7ffffed, 27),
    (0x7ffffee, 27), (0x7ffffef, 27), (0x7fffff0, 27), (0x3ffffee, 26), (0x3fffffff, 30),
]


def build():
    # Tree as nested dicts: node id -> [child0, child1]; leaves are ('sym', n).
    nodes = [[None, None]]
    for sym, (code, bits) in enumerate(CODES):
        n = 0
        for i in range(bits - 1, -1, -1):
            bit = (code >> i) & 1
            if i == 0:
                assert nodes[n][bit] is None
                nodes[n][bit] = ('sym', sym)
            else:
                if nodes[n][bit] is None:
                    nodes.append([None, None])
                    nodes[n][bit] = ('node', len(nodes) - 1)
                kind, n = nodes[n][bit]
                assert kind == 'node'
    assert len(nodes) == 256, len(nodes)
    for nd in nodes:
        assert nd[0] is not None and nd[1] is not None  # complete code
    # Accepting states: root and the all-ones path up to depth 7.
    accept = {0}
    n = 0
    for depth in range(1, 8):
        kind, n = nodes[n][1]
        assert kind == 'node'
        accept.add(n)
    table = []
    for s in range(256):
        row = []
        for b in range(256):
            n = s
            syms = []
            fail = 0
            for i in range(7, -1, -1):
                kind, v = nodes[n][(b >> i) & 1]
                if kind == 'sym':
                    if v == 256:
                        fail = 1
                        n = 0
                        # Keep going from the root; the result is an error anyway.
                    else:
                        syms.append(v)
                    n = 0
                else:
                    n = v
            assert len(syms) <= 2
            s0 = syms[0] if len(syms) > 0 else 0
            s1 = syms[1] if len(syms) > 1 else 0
            e = len(syms) | ((1 if n in accept else 0) << 2) | (fail << 3) | (n << 8)
            e |= (s0 << 16) | (s1 << 24)
            row.append(e)
        table.append(row)
    return table


def main():
    table = build()
    out = []
    w = out.append
    w("/* hpack_huffman_table.h: the HPACK Huffman code (RFC 7541 Appendix B).")
    w(" *")
    w(" * GENERATED by hpack/gen_huffman.py -- DO NOT EDIT.")
    w(" * Regenerate: python3 hpack/gen_huffman.py > hpack/hpack_huffman_table.h")
    w(" * See the generator for the layout of h2_hpack_huff_dec. */")
    w("#ifndef H2_HPACK_HUFFMAN_TABLE_H")
    w("#define H2_HPACK_HUFFMAN_TABLE_H")
    w("")
    w("#include <stdint.h>")
    w("")
    w("#define H2_HUFF_NSYM_MASK 0x3u")
    w("#define H2_HUFF_ACCEPT 0x4u")
    w("#define H2_HUFF_FAIL 0x8u")
    w("#define H2_HUFF_STATE_MASK 0xff00u")
    w("")
    w("static const uint32_t h2_hpack_huff_code[257] = {")
    for i in range(0, 257, 8):
        w("  " + " ".join("0x%x," % c for c, _ in CODES[i:i + 8]))
    w("};")
    w("")
    w("static const uint8_t h2_hpack_huff_bits[257] = {")
    for i in range(0, 257, 16):
        w("  " + " ".join("%d," % b for _, b in CODES[i:i + 16]))
    w("};")
    w("")
    w("static const uint32_t h2_hpack_huff_dec[256 * 256] = {")
    for s in range(256):
        w("  /* state %d */" % s)
        row = table[s]
        for i in range(0, 256, 8):
            w("  " + " ".join("0x%x," % e for e in row[i:i + 8]))
    w("};")
    w("")
    w("#endif")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()

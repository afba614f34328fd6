#!/usr/bin/python3
"""idle_conns.py: open N h2c connections to 127.0.0.1:PORT, make one GET PATH
request on each (prior knowledge), read the whole response, then keep every
connection open and idle. Prints "ready N" once all responses arrived, then
waits until stdin closes (or TIMEOUT seconds) and exits, closing everything.

Usage: idle_conns.py PORT N PATH [TIMEOUT]
Hand-built frames (no library) so that 1,000 connections open in about a second."""
import socket, struct, sys, time

def frame(ftype, flags, sid, payload):
    return struct.pack('>I', len(payload))[1:] + bytes([ftype, flags]) + struct.pack('>I', sid) + payload

def hpack_literal(index, value):
    v = value.encode()
    assert len(v) < 127
    return bytes([0x00 | index]) + bytes([len(v)]) + v  # literal without indexing, indexed name (index < 15)

def request_bytes(path, authority):
    block = b'\x82' + b'\x86' + hpack_literal(4, path) + hpack_literal(1, authority)
    return (b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' + frame(4, 0, 0, b'') +
            frame(1, 0x5, 1, block))

def read_exact(s, n):
    buf = b''
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError('peer closed')
        buf += chunk
    return buf

def one(port, path, deadline):
    s = socket.create_connection(('127.0.0.1', port), timeout=10)
    s.sendall(request_bytes(path, '127.0.0.1:%d' % port))
    while time.time() < deadline:
        hdr = read_exact(s, 9)
        length = int.from_bytes(hdr[0:3], 'big')
        ftype, flags = hdr[3], hdr[4]
        sid = int.from_bytes(hdr[5:9], 'big') & 0x7fffffff
        payload = read_exact(s, length)
        if ftype == 4 and not flags & 1:
            s.sendall(frame(4, 1, 0, b''))          # ACK the server's SETTINGS
        if ftype == 6 and not flags & 1:
            s.sendall(frame(6, 1, 0, payload))
        if ftype == 7:
            raise EOFError('GOAWAY')
        if sid == 1 and ftype in (0, 1) and flags & 1:
            return s
        if sid == 1 and ftype == 3:
            raise EOFError('RST_STREAM')
    raise TimeoutError('response timed out')

def main():
    port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 60
    deadline = time.time() + timeout
    socks = []
    for _ in range(n):
        socks.append(one(port, path, deadline))
    print('ready %d' % len(socks), flush=True)
    import select
    select.select([sys.stdin], [], [], max(0.0, deadline - time.time()))
    for s in socks:
        s.close()

if __name__ == '__main__':
    main()

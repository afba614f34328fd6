#!/usr/bin/python3
"""api_bad_input.py: hostile bytes against `h2 serve` (h2c): a garbage
preface, an oversized frame, an invalid header name, a HEADERS on stream 0.
Each must get GOAWAY / RST_STREAM with the right RFC 9113 code, and the
server must keep serving other connections. Prints TAP lines."""
import os, socket, struct, subprocess, sys, tempfile, time

BUILD = os.environ.get('BUILD', 'build')
H2 = os.path.join(BUILD, 'h2')
PREFACE = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
fails = 0


def tap(ok, name, why=''):
    global fails
    if not ok:
        fails += 1
    print(('ok - ' if ok else 'not ok - ') + name + ((' # ' + why) if why and not ok else ''), flush=True)


def frame(t, flags, sid, payload):
    return struct.pack('>I', len(payload))[1:] + bytes([t, flags]) + struct.pack('>I', sid) + payload


def read_frames(s, timeout=5):
    """Reads frames until EOF/timeout; returns a list of (type, flags, sid, payload)."""
    s.settimeout(timeout)
    buf = b''
    out = []
    end = time.time() + timeout
    while time.time() < end:
        try:
            d = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not d:
            break
        buf += d
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], 'big')
            if len(buf) < 9 + n:
                break
            out.append((buf[3], buf[4], int.from_bytes(buf[5:9], 'big') & 0x7fffffff, buf[9:9 + n]))
            buf = buf[9 + n:]
        if any(f[0] == 7 for f in out):
            break
    return out


def goaway_code(frames):
    for t, fl, sid, p in frames:
        if t == 7 and len(p) >= 8:
            return int.from_bytes(p[4:8], 'big')
    return None


def conn(port):
    return socket.create_connection(('127.0.0.1', port), timeout=5)


def get_ok(port):
    s = conn(port)
    block = b'\x82\x86\x84' + b'\x41\x09127.0.0.1'  # GET http / :authority
    s.sendall(PREFACE + frame(4, 0, 0, b'') + frame(1, 5, 1, block))
    fr = read_frames(s, 3)
    s.close()
    return any(t == 1 and sid == 1 for t, fl, sid, p in fr)


def main():
    if not os.access(H2, os.X_OK):
        print('not ok - api_bad_input # %s not built' % H2)
        return 1
    with tempfile.TemporaryDirectory() as doc:
        with open(os.path.join(doc, 'index.html'), 'w') as f:
            f.write('hi\n')
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
        s.close()
        srv = subprocess.Popen([H2, 'serve', doc, '--bind', '127.0.0.1', '--port', str(port), '--h2c', '--quiet'],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        extra = []
        try:
            for _ in range(200):
                try:
                    conn(port).close()
                    break
                except OSError:
                    time.sleep(0.05)
            tap(get_ok(port), 'baseline request works')

            s = conn(port)
            s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n' + b'\0' * 16)
            fr = read_frames(s)
            code = goaway_code(fr)
            tap(code == 1, 'garbage preface -> GOAWAY PROTOCOL_ERROR', 'got %r' % code)
            s.close()

            s = conn(port)
            s.sendall(PREFACE + frame(4, 0, 0, b'') + frame(1, 4, 1, b'\x82\x86\x84\x41\x01x') +
                      frame(0, 0, 1, b'z' * 20000))
            code = goaway_code(read_frames(s))
            tap(code == 6, 'oversized DATA frame (20000 > 16384) -> GOAWAY FRAME_SIZE_ERROR', 'got %r' % code)
            s.close()

            s = conn(port)
            # literal header with a new name "X-Upper" (upper case is malformed, RFC 9113 8.2.1)
            bad = b'\x82\x86\x84\x41\x01x' + b'\x00\x07X-Upper\x01v'
            s.sendall(PREFACE + frame(4, 0, 0, b'') + frame(1, 5, 1, bad))
            fr = read_frames(s, 2)
            rst = [int.from_bytes(p, 'big') for t, fl, sid, p in fr if t == 3 and sid == 1]
            tap(rst == [1], 'upper-case header name -> RST_STREAM PROTOCOL_ERROR', 'got %r' % rst)
            # the connection survives: a good request on stream 3
            s.sendall(frame(1, 5, 3, b'\x82\x86\x84\x41\x01x'))
            fr = read_frames(s, 2)
            tap(any(t == 1 and sid == 3 for t, fl, sid, p in fr), 'same connection still answers after the RST')
            s.close()

            s = conn(port)
            s.sendall(PREFACE + frame(4, 0, 0, b'') + frame(1, 5, 0, b'\x82\x86\x84'))
            code = goaway_code(read_frames(s))
            tap(code == 1, 'HEADERS on stream 0 -> GOAWAY PROTOCOL_ERROR', 'got %r' % code)
            s.close()

            s = conn(port)
            s.sendall(PREFACE + frame(4, 0, 0, b'\0\0\0'))  # SETTINGS length not a multiple of 6
            code = goaway_code(read_frames(s))
            tap(code == 6, 'SETTINGS of length 3 -> GOAWAY FRAME_SIZE_ERROR', 'got %r' % code)
            s.close()

            # A peer that sends the preface and then nothing is closed (idle timeout 1 s)
            # with GOAWAY NO_ERROR; one that sends nothing at all is dropped too.
            s = socket.socket()
            s.bind(('127.0.0.1', 0))
            iport = s.getsockname()[1]
            s.close()
            isrv = subprocess.Popen([H2, 'serve', doc, '--bind', '127.0.0.1', '--port', str(iport), '--h2c',
                                     '--quiet', '--idle-timeout', '1'],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            extra.append(isrv)
            for _ in range(200):
                try:
                    conn(iport).close()
                    break
                except OSError:
                    time.sleep(0.05)
            s = conn(iport)
            s.sendall(PREFACE + frame(4, 0, 0, b''))
            t0 = time.time()
            code = goaway_code(read_frames(s, 5))
            tap(code == 0 and time.time() - t0 < 4, 'idle connection gets GOAWAY NO_ERROR after the idle timeout',
                'got %r after %.1fs' % (code, time.time() - t0))
            s.close()
            s = conn(iport)
            s.settimeout(5)
            t0 = time.time()
            try:
                while s.recv(4096):
                    pass
                closed = True
            except OSError:
                closed = False
            tap(closed and time.time() - t0 < 4, 'silent connection is closed after the idle timeout')
            s.close()

            tap(get_ok(port) and srv.poll() is None, 'server keeps serving other connections')
        finally:
            for p in [srv] + extra:
                p.kill()
                p.wait()
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/python3
"""api_python_edge.py: edge cases driven by Python's h2 library (python3-h2).

Part A, `h2 get` against a Python h2 server: trailers, a 103 before the
final response, RST_STREAM in the middle of a body, GOAWAY in the middle of
two requests. Part B, a Python h2 client against `h2 serve`: RST_STREAM in
the middle of an upload, request trailers, GOAWAY from the client with a
request in flight. Prints TAP lines. BUILD env var: build dir."""
import hashlib, os, socket, subprocess, sys, tempfile, threading, time

import h2.config, h2.connection, h2.events, h2.errors

BUILD = os.environ.get('BUILD', 'build')
H2 = os.path.join(BUILD, 'h2')
fails = 0


def tap(ok, name, why=''):
    global fails
    if ok:
        print('ok - ' + name, flush=True)
    else:
        fails += 1
        print('not ok - %s%s' % (name, (' # ' + why.replace('\n', ' ')[:300]) if why else ''), flush=True)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


# ---------------------------------------------------------------- Part A
def serve_conn(sock):
    cfg = h2.config.H2Configuration(client_side=False, header_encoding='utf-8')
    c = h2.connection.H2Connection(config=cfg)
    c.initiate_connection()
    sock.sendall(c.data_to_send())
    sock.settimeout(10)
    pending = []
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return
            for ev in c.receive_data(data):
                if isinstance(ev, h2.events.RequestReceived):
                    path = dict(ev.headers)[':path']
                    sid = ev.stream_id
                    if path == '/trailers':
                        c.send_headers(sid, [(':status', '200')])
                        c.send_data(sid, b'body then trailers\n')
                        c.send_headers(sid, [('x-checksum', 'py')], end_stream=True)
                    elif path == '/info':
                        c.send_headers(sid, [(':status', '103'), ('link', '</a.css>; rel=preload')])
                        c.send_headers(sid, [(':status', '200')])
                        c.send_data(sid, b'final\n', end_stream=True)
                    elif path == '/rst':
                        c.send_headers(sid, [(':status', '200'), ('content-length', '100000')])
                        c.send_data(sid, b'x' * 1000)
                        sock.sendall(c.data_to_send())
                        time.sleep(0.05)
                        c.reset_stream(sid, h2.errors.ErrorCodes.INTERNAL_ERROR)
                    elif path.startswith('/goaway'):
                        pending.append(sid)
                        if len(pending) == 2:
                            first = min(pending)
                            c.send_headers(first, [(':status', '200')])
                            c.send_data(first, b'first ok\n', end_stream=True)
                            c.close_connection(error_code=0, last_stream_id=first)
                            sock.sendall(c.data_to_send())
                            time.sleep(0.1)
                            return
                    else:
                        c.send_headers(sid, [(':status', '200')])
                        c.send_data(sid, b'ok\n', end_stream=True)
            out = c.data_to_send()
            if out:
                sock.sendall(out)
    except (OSError, h2.exceptions.ProtocolError):
        return
    finally:
        sock.close()


def python_server():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', 0))
    ls.listen(16)
    port = ls.getsockname()[1]

    def loop():
        while True:
            try:
                s, _ = ls.accept()
            except OSError:
                return
            threading.Thread(target=serve_conn, args=(s,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return ls, port


def h2get(*args):
    p = subprocess.run([H2, 'get', '-s'] + list(args), capture_output=True, timeout=30)
    return p.returncode, p.stdout, p.stderr.decode(errors='replace')


def part_a():
    ls, port = python_server()
    base = 'http://127.0.0.1:%d' % port
    rc, out, err = h2get('-v', base + '/trailers')
    tap(rc == 0 and out == b'body then trailers\n' and 'x-checksum: py' in err,
        'h2 get: trailers from a python server', err[-300:])
    rc, out, err = h2get('-v', base + '/info')
    tap(rc == 0 and out == b'final\n' and 'informational' in err, 'h2 get: 103 then 200', err[-300:])
    rc, out, err = h2get(base + '/rst')
    tap(rc != 0 and 'INTERNAL_ERROR' in err, 'h2 get: RST_STREAM mid-body fails the transfer', err[-300:])
    rc, out, err = h2get(base + '/goaway1', base + '/goaway2')
    tap(rc != 0 and out.startswith(b'first ok'), 'h2 get: GOAWAY mid-flight: first ok, second fails', err[-300:])
    ls.close()


# ---------------------------------------------------------------- Part B
def client_conn(port):
    s = socket.create_connection(('127.0.0.1', port), timeout=10)
    cfg = h2.config.H2Configuration(client_side=True, header_encoding='utf-8')
    c = h2.connection.H2Connection(config=cfg)
    c.initiate_connection()
    s.sendall(c.data_to_send())
    return s, c


def run_until(s, c, pred, timeout=10):
    end = time.time() + timeout
    events = []
    while time.time() < end and not pred(events):
        data = s.recv(65536)
        if not data:
            break
        events += c.receive_data(data)
        out = c.data_to_send()
        if out:
            s.sendall(out)
    return events


def ended(sid):
    return lambda evs: any(isinstance(e, (h2.events.StreamEnded, h2.events.StreamReset)) and e.stream_id == sid for e in evs)


def body_of(evs, sid):
    return b''.join(e.data for e in evs if isinstance(e, h2.events.DataReceived) and e.stream_id == sid)


def part_b(port):
    auth = '127.0.0.1:%d' % port
    req = lambda m, p: [(':method', m), (':scheme', 'http'), (':authority', auth), (':path', p)]
    # RST mid-upload, then the connection still serves.
    s, c = client_conn(port)
    c.send_headers(1, req('POST', '/up'))
    c.send_data(1, b'a' * 10000)
    s.sendall(c.data_to_send())
    time.sleep(0.05)
    c.reset_stream(1, h2.errors.ErrorCodes.CANCEL)
    c.send_headers(3, req('GET', '/small.txt'), end_stream=True)
    s.sendall(c.data_to_send())
    evs = run_until(s, c, ended(3))
    tap(body_of(evs, 3) == b'Hello, h2!!\r\n', 'python: RST_STREAM mid-upload, connection keeps serving')
    # Request trailers: the body digest still comes back.
    body = os.urandom(50000)
    c.send_headers(5, req('POST', '/up'))
    for off in range(0, len(body), 16000):
        c.send_data(5, body[off:off + 16000])
    c.send_headers(5, [('x-trailer', 'yes')], end_stream=True)
    s.sendall(c.data_to_send())
    evs = run_until(s, c, ended(5))
    want = ('%d %s\n' % (len(body), hashlib.sha256(body).hexdigest())).encode()
    tap(body_of(evs, 5) == want, 'python: upload with request trailers', repr(body_of(evs, 5)))
    # GOAWAY from the client with a request in flight: the response still arrives.
    c.send_headers(7, req('GET', '/medium.bin'), end_stream=True)
    c.close_connection(error_code=0, last_stream_id=0)
    s.sendall(c.data_to_send())
    # python-h2 refuses input once it sent GOAWAY: open the windows and read
    # the rest raw.
    wu = lambda sid: b'\x00\x00\x04\x08\x00' + sid.to_bytes(4, 'big') + (1 << 20).to_bytes(4, 'big')
    s.sendall(wu(0) + wu(7))
    got, buf, end, done = 0, b'', time.time() + 10, False
    while time.time() < end and not done:
        d = s.recv(65536)
        if not d:
            break
        buf += d
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], 'big')
            if len(buf) < 9 + n:
                break
            t, fl, sid = buf[3], buf[4], int.from_bytes(buf[5:9], 'big') & 0x7fffffff
            if t == 0 and sid == 7:
                got += n
            if t in (0, 1) and sid == 7 and fl & 1:
                done = True
            buf = buf[9 + n:]
    tap(done and got == 300000, 'python: client GOAWAY mid-flight, response completes', 'got %d' % got)
    s.close()
    # 1xx is not sent by h2 serve; ping works.
    s, c = client_conn(port)
    c.ping(b'pingpong')
    s.sendall(c.data_to_send())
    evs = run_until(s, c, lambda e: any(isinstance(x, h2.events.PingAckReceived) for x in e))
    tap(any(isinstance(x, h2.events.PingAckReceived) and x.ping_data == b'pingpong' for x in evs), 'python: PING acked with the same payload')
    s.close()


def main():
    if not os.access(H2, os.X_OK):
        print('not ok - api_python_edge # %s not built' % H2)
        return 1
    part_a()
    with tempfile.TemporaryDirectory() as doc:
        with open(os.path.join(doc, 'small.txt'), 'wb') as f:
            f.write(b'Hello, h2!!\r\n')
        with open(os.path.join(doc, 'medium.bin'), 'wb') as f:
            f.write(os.urandom(300000))
        port = free_port()
        srv = subprocess.Popen([H2, 'serve', doc, '--bind', '127.0.0.1', '--port', str(port), '--h2c', '--quiet'],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    socket.create_connection(('127.0.0.1', port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            part_b(port)
        except Exception as e:  # a hang or protocol surprise is a failure, not a crash
            tap(False, 'python: part B', repr(e))
        finally:
            srv.kill()
            srv.wait()
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())

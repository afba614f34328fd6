#!/usr/bin/python3
"""conn_python_h2.py: the bare connection engine (h2_conn via
test/tools/conn_peer) against Python's h2 library, over 127.0.0.1.

Part A: a Python h2 client against `conn_peer server` (our server engine).
Part B: `conn_peer client PORT SCRIPT` (our client engine) against a Python
h2 server. Covered: bodies both ways, trailers both ways, bodies far larger
than small flow-control windows (INITIAL_WINDOW_SIZE 1000 / 100 from
Python), many concurrent streams, RST_STREAM mid-body both ways, PING both
ways, GOAWAY both ways, SETTINGS changes mid-connection, push.
Part C: Part A's trailers and a 100000-byte download with our server
padding HEADERS and DATA (CONN_PEER_PADDING: MAX, then ALIGNED).

Usage: conn_python_h2.py PATH_TO_conn_peer. Prints TAP lines
`ok - name` / `not ok - name # why`. Every socket has a timeout and every
process is killed at the end; the whole run is bounded (about 60 s)."""
import os, select, socket, subprocess, sys, threading, time

import h2.config, h2.connection, h2.events, h2.errors, h2.settings

PEER = sys.argv[1] if len(sys.argv) > 1 else 'build/tools/conn_peer'
T_END = time.time() + 55
fails = 0


def tap(ok, name, why=''):
    global fails
    if ok:
        print('ok - ' + name, flush=True)
    else:
        fails += 1
        print('not ok - %s%s' % (name, (' # ' + str(why).replace('\n', ' ')[:300]) if why else ''), flush=True)


def fnv(b):
    h = 1469598103934665603
    for x in b:
        h = ((h ^ x) * 1099511628211) & 0xffffffffffffffff
    return '%016x' % h


def pattern(n):
    alpha = b'abcdefghijklmnopqrstuvwxyz'
    return (alpha * (n // 26 + 1))[:n]


class Stream:
    def __init__(self):
        self.headers = {}
        self.body = bytearray()
        self.trailers = {}
        self.ended = False
        self.reset = None
        self.pushed_path = None


class Peer:
    """One h2 connection over a socket, client or server side, that keeps
    uploads moving as flow control allows and credits received data."""

    def __init__(self, sock, client, settings=None):
        self.sock = sock
        sock.settimeout(10)
        cfg = h2.config.H2Configuration(client_side=client, header_encoding='utf-8')
        self.c = h2.connection.H2Connection(config=cfg)
        self.c.initiate_connection()
        if settings:
            # Sent as a change after the default preface SETTINGS, so that
            # Python applies it only once acknowledged (RFC 9113 6.5.3).
            # Presetting local_settings would make Python enforce the small
            # window at once, while the peer may legitimately send up to
            # 65535 bytes before it has read our SETTINGS (RFC 9113 3.4).
            self.c.update_settings(settings)
        self.streams = {}
        self.uploads = {}   # stream id -> [bytes left, end_stream, trailers]
        self.events = []
        self.closed = False
        self.terminated = None
        self.ping_acks = []
        self.pings = 0
        self.settings_acked = 0
        self.remote_settings = []
        self.on_request_end = None  # server: callback(peer, stream_id)
        self.error = None  # server thread: the exception that ended it
        self.flush()

    def st(self, sid):
        return self.streams.setdefault(sid, Stream())

    def flush(self):
        self.push_uploads()
        data = self.c.data_to_send()
        if data:
            try:
                self.sock.sendall(data)
            except OSError:
                self.closed = True

    def send(self, sid, body, end=True, trailers=None):
        self.uploads[sid] = [memoryview(bytes(body)), end, trailers]
        self.flush()

    def push_uploads(self):
        for sid in list(self.uploads):
            left, end, trailers = self.uploads[sid]
            try:
                while len(left):
                    w = min(self.c.local_flow_control_window(sid), self.c.max_outbound_frame_size, len(left))
                    if w <= 0:
                        break
                    self.c.send_data(sid, left[:w].tobytes())
                    left = left[w:]
                self.uploads[sid][0] = left
                if not len(left):
                    del self.uploads[sid]
                    if trailers:
                        self.c.send_headers(sid, trailers, end_stream=True)
                    elif end:
                        self.c.end_stream(sid)
            except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError, KeyError):
                self.uploads.pop(sid, None)

    def step(self, timeout=0.05):
        self.flush()
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return
        try:
            data = self.sock.recv(65536)
        except OSError:
            data = b''
        if not data:
            self.closed = True
            return
        for ev in self.c.receive_data(data):
            self.events.append(ev)
            self.handle(ev)
        self.flush()

    def handle(self, ev):
        E = h2.events
        if isinstance(ev, (E.RequestReceived, E.ResponseReceived)):
            s = self.st(ev.stream_id)
            s.headers.update(dict(ev.headers))
        elif isinstance(ev, E.TrailersReceived):
            self.st(ev.stream_id).trailers.update(dict(ev.headers))
        elif isinstance(ev, E.InformationalResponseReceived):
            pass
        elif isinstance(ev, E.DataReceived):
            self.st(ev.stream_id).body += ev.data
            try:
                self.c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                pass
        elif isinstance(ev, E.StreamEnded):
            self.st(ev.stream_id).ended = True
            if self.on_request_end:
                self.on_request_end(self, ev.stream_id)
        elif isinstance(ev, E.StreamReset):
            self.st(ev.stream_id).reset = ev.error_code
            self.uploads.pop(ev.stream_id, None)
        elif isinstance(ev, E.PushedStreamReceived):
            self.st(ev.pushed_stream_id).pushed_path = dict(ev.headers).get(':path')
        elif isinstance(ev, E.PingAckReceived):
            self.ping_acks.append(ev.ping_data)
        elif isinstance(ev, E.PingReceived):
            self.pings += 1
        elif isinstance(ev, E.SettingsAcknowledged):
            self.settings_acked += 1
        elif isinstance(ev, E.RemoteSettingsChanged):
            self.remote_settings.append({int(k): v.new_value for k, v in ev.changed_settings.items()})
        elif isinstance(ev, E.ConnectionTerminated):
            self.terminated = ev

    def run_until(self, cond, secs=10):
        end = min(time.time() + secs, T_END)
        while time.time() < end:
            if cond():
                return True
            if self.closed:
                return cond()
            self.step()
        return cond()

    def request(self, method, path, body=b'', trailers=None, extra=()):
        sid = self.c.get_next_available_stream_id()
        hdrs = [(':method', method), (':scheme', 'http'), (':authority', '127.0.0.1'), (':path', path)]
        hdrs += list(extra)
        if trailers:
            hdrs.append(('te', 'trailers'))
        end = not body and not trailers
        self.c.send_headers(sid, hdrs, end_stream=end)
        self.st(sid)
        if not end:
            self.send(sid, body, True, trailers)
        self.flush()
        return sid

    def done(self, *sids):
        return lambda: all(self.st(s).ended or self.st(s).reset is not None for s in sids)


# ---------------------------------------------------------------- Part A
def part_a():
    srv = subprocess.Popen([PEER, 'server'], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    try:
        line = srv.stdout.readline().decode()
        if not line.startswith('PORT '):
            tap(False, 'conn_server: starts', line + srv.stderr.read().decode()[:200])
            return
        port = int(line.split()[1])

        def connect(settings=None):
            s = socket.create_connection(('127.0.0.1', port), timeout=5)
            return Peer(s, True, settings)

        def check(name, fn):
            try:
                ok, why = fn()
            except Exception as e:  # noqa: BLE001 - report and continue
                ok, why = False, '%s: %s' % (type(e).__name__, e)
            tap(ok, 'conn_server: ' + name, why)

        def basic():
            p = connect()
            sid = p.request('GET', '/hello')
            if not p.run_until(p.done(sid)):
                return False, 'no response'
            h = p.st(sid).headers
            p.sock.close()
            return (h.get(':status') == '200' and h.get('x-method') == 'GET' and h.get('x-path') == '/hello'
                    and h.get('x-body-len') == '0'), h
        check('GET', basic)

        def echo():
            p = connect({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1000})
            body = pattern(300000)
            sid = p.request('POST', '/echo', body)
            if not p.run_until(p.done(sid), 20):
                return False, 'incomplete: got %d' % len(p.st(sid).body)
            s = p.st(sid)
            p.sock.close()
            return (s.headers.get('x-body-len') == '300000' and s.headers.get('x-body-hash') == fnv(body)
                    and bytes(s.body) == body), (s.headers, len(s.body))
        check('300000-byte upload and echo, Python INITIAL_WINDOW_SIZE 1000', echo)

        def trailers():
            p = connect()
            body = pattern(5000)
            sid = p.request('POST', '/trailers', body, trailers=[('x-a', '1'), ('x-b', '2')])
            if not p.run_until(p.done(sid)):
                return False, 'no response'
            s = p.st(sid)
            p.sock.close()
            return (s.headers.get('x-req-trailers') == '2' and s.trailers.get('x-trailer') == 'done'
                    and s.trailers.get('x-body-hash') == fnv(body) and bytes(s.body) == body), (s.headers, s.trailers)
        check('trailers both ways', trailers)

        def many():
            p = connect()
            want = {}
            for i in range(120):
                if i % 3 == 0:
                    body = pattern(2000 + i)
                    sid = p.request('POST', '/echo', body, trailers=[('x-i', str(i))] if i % 2 else None)
                    want[sid] = body
                else:
                    sid = p.request('GET', '/big/%d' % (1000 * (i % 7)))
                    want[sid] = pattern(1000 * (i % 7))
            if not p.run_until(p.done(*want), 20):
                return False, 'incomplete: %d of %d' % (sum(p.st(s).ended for s in want), len(want))
            bad = [s for s, b in want.items() if bytes(p.st(s).body) != b or p.st(s).headers.get(':status') != '200']
            p.sock.close()
            return not bad, 'bad streams %s' % bad[:5]
        check('120 concurrent streams with bodies and trailers', many)

        def rst_mid_body():
            p = connect()
            sid = p.request('POST', '/echo', pattern(500000))
            p.run_until(lambda: sid not in p.uploads or len(p.uploads[sid][0]) < 500000 - 30000, 5)
            p.c.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
            p.uploads.pop(sid, None)
            p.flush()
            s2 = p.request('GET', '/stats')
            if not p.run_until(p.done(s2)):
                return False, 'no /stats after the reset'
            txt = bytes(p.st(s2).body).decode()
            p.sock.close()
            return 'resets=1' in txt and p.st(s2).headers.get(':status') == '200', txt
        check('RST_STREAM from Python mid-upload, connection goes on', rst_mid_body)

        def rst_from_server():
            p = connect()
            sid = p.request('GET', '/rst-me')
            s2 = p.request('GET', '/hello')
            ok = p.run_until(p.done(sid, s2))
            r = p.st(sid).reset
            p.sock.close()
            return ok and r == 8 and p.st(s2).headers.get(':status') == '200', 'reset=%r' % r
        check('RST_STREAM CANCEL from our server', rst_from_server)

        def ping():
            p = connect()
            p.c.ping(b'py-ping!')
            p.flush()
            sid = p.request('GET', '/ping')
            ok = p.run_until(lambda: p.done(sid)() and p.ping_acks and p.pings)
            p.run_until(lambda: False, 0.2)  # the ACK of the server's PING travels
            s2 = p.request('GET', '/stats')
            ok = ok and p.run_until(p.done(s2))
            txt = bytes(p.st(s2).body).decode()
            p.sock.close()
            return ok and p.ping_acks == [b'py-ping!'] and 'pings=1' in txt and 'ping_acks=1' in txt, (p.ping_acks, txt)
        check('PING both ways', ping)

        def settings_change():
            p = connect()
            s1 = p.request('GET', '/hello')
            p.run_until(p.done(s1))
            p.c.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 100,
                                 h2.settings.SettingCodes.HEADER_TABLE_SIZE: 0,
                                 h2.settings.SettingCodes.MAX_FRAME_SIZE: 20000})
            p.flush()
            acked = p.run_until(lambda: p.settings_acked >= 2)
            sid = p.request('GET', '/big/20000')
            ok = p.run_until(p.done(sid), 20)
            s = p.st(sid)
            p.sock.close()
            return (acked and ok and bytes(s.body) == pattern(20000) and s.headers.get('x-settings') == '2'), \
                (acked, len(s.body), s.headers.get('x-settings'))
        check('SETTINGS change mid-connection (window 100, table 0) acked and applied', settings_change)

        def goaway_client():
            p = connect()
            sid = p.request('GET', '/hello')
            p.run_until(p.done(sid))
            p.c.close_connection()
            p.flush()
            ok = p.run_until(lambda: p.closed, 5)
            p.sock.close()
            return ok, 'server kept the connection open after GOAWAY'
        check('GOAWAY from Python: server closes', goaway_client)

        def goaway_server():
            p = connect()
            sid = p.request('GET', '/goaway')
            ok = p.run_until(lambda: p.done(sid)() and p.terminated is not None)
            t = p.terminated
            closed = p.run_until(lambda: p.closed, 5)
            p.sock.close()
            return ok and t.error_code == 0 and t.last_stream_id == sid and closed, repr(t)
        check('graceful GOAWAY from our server after the response', goaway_server)

        def push():
            p = connect()
            sid = p.request('GET', '/push')
            ok = p.run_until(lambda: p.done(sid)() and any(
                s.pushed_path == '/pushed.txt' and s.ended for s in p.streams.values()))
            pushed = [s for s in p.streams.values() if s.pushed_path]
            p.sock.close()
            return ok and pushed and bytes(pushed[0].body) == b'pushed body\n', [
                (s.pushed_path, bytes(s.body)) for s in pushed]
        check('server push received by Python', push)
    finally:
        try:
            srv.stdin.close()
        except OSError:
            pass
        try:
            srv.wait(timeout=3)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()


# ---------------------------------------------------------------- Part B
class PyServer:
    def __init__(self):
        self.ls = socket.socket()
        self.ls.bind(('127.0.0.1', 0))
        self.ls.listen(8)
        self.ls.settimeout(0.2)
        self.port = self.ls.getsockname()[1]
        self.stop = False
        self.peers = []
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while not self.stop:
            try:
                s, _ = self.ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            p = Peer(s, False, {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 8192,
                                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100})
            p.on_request_end = self.respond
            self.peers.append(p)
            end = time.time() + 25
            while not self.stop and not p.closed and time.time() < end:
                try:
                    p.step()
                except Exception as e:  # noqa: BLE001
                    p.error = '%s: %s' % (type(e).__name__, e)
                    break
            s.close()

    def respond(self, p, sid):
        s = p.st(sid)
        path = s.headers.get(':path', '')
        if s.pushed_path:
            return
        hdrs = [(':status', '200'), ('x-req-trailers', str(len(s.trailers)))]
        resets = sum(1 for x in p.streams.values() if x.reset is not None)
        hdrs.append(('x-resets', str(resets)))
        if path == '/ping':
            p.c.ping(b'pyping!!')
        if path == '/push':
            pid = p.c.get_next_available_stream_id()
            p.c.push_stream(sid, pid, [(':method', 'GET'), (':scheme', 'http'),
                                       (':authority', '127.0.0.1'), (':path', '/pushed.txt')])
            p.c.send_headers(pid, [(':status', '200')])
            p.send(pid, b'pushed body\n')
        if path == '/hello':
            body = b'hello\n'
        elif path in ('/echo', '/trailers'):
            body = bytes(s.body)
        elif path.startswith('/big/'):
            body = pattern(int(path[5:]))
        else:
            body = b'ok\n'
        p.c.send_headers(sid, hdrs)
        trailers = [('x-py-trailer', 'yes')] if path == '/trailers' else None
        p.send(sid, body, True, trailers)
        if path == '/goaway':
            p.c.close_connection(error_code=0)
            p.flush()

    def close(self):
        self.stop = True
        self.t.join(timeout=5)
        self.ls.close()


def part_b():
    srv = PyServer()
    try:
        def run(script):
            n0 = len(srv.peers)
            left = max(1, min(25, T_END - time.time()))
            r = subprocess.run([PEER, 'client', str(srv.port), script], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=left)
            out = r.stdout.decode()
            deadline = time.time() + 3
            while len(srv.peers) <= n0 and time.time() < deadline:
                time.sleep(0.05)
            # let the server thread see the final GOAWAY / EOF
            p = srv.peers[n0] if len(srv.peers) > n0 else None
            while p is not None and not p.closed and time.time() < deadline:
                time.sleep(0.05)
            err = r.stderr.decode()
            if p is not None and p.error:
                err += ' [python server: %s]' % p.error
            return r.returncode, out, p, err

        def streams(out):
            res = []
            for line in out.splitlines():
                if line.startswith('STREAM '):
                    parts = line.split()
                    d = dict(x.split('=', 1) for x in parts[2:])
                    d['path'] = parts[1]
                    res.append(d)
            return res

        def check(name, fn):
            try:
                ok, why = fn()
            except Exception as e:  # noqa: BLE001
                ok, why = False, '%s: %s' % (type(e).__name__, e)
            tap(ok, 'conn_client: ' + name, why)

        def basic():
            rc, out, p, err = run('basic')
            st = streams(out)
            return (rc == 0 and 'DONE' in out and len(st) == 1 and st[0]['status'] == '200'
                    and st[0]['hash'] == fnv(b'hello\n') and st[0]['reason'] == '1'), out + err
        check('GET', basic)

        def echo():
            rc, out, p, err = run('echo')
            st = streams(out)
            return (rc == 0 and len(st) == 1 and st[0]['len'] == '300000'
                    and st[0]['hash'] == fnv(pattern(300000))), out + err
        check('300000-byte upload into Python window 8192, echoed', echo)

        def trailers():
            rc, out, p, err = run('trailers')
            st = streams(out)
            sent = [s for s in p.streams.values() if s.trailers] if p else []
            return (rc == 0 and len(st) == 1 and st[0]['trailers'] == '1' and st[0]['len'] == '1000'
                    and sent and sent[0].trailers.get('x-client-trailer') == '1'), out + err
        check('trailers both ways', trailers)

        def many():
            rc, out, p, err = run('many')
            st = streams(out)
            good = 0
            for s in st:
                if s['path'] == '/echo' and s['status'] == '200' and s['hash'] == fnv(pattern(int(s['len']))):
                    good += 1
                elif s['path'] == '/big/1000' and s['len'] == '1000' and s['hash'] == fnv(pattern(1000)):
                    good += 1
            return rc == 0 and good == 60, 'good %d of %d; %s' % (good, len(st), err[:200])
        check('60 concurrent streams', many)

        def rst():
            rc, out, p, err = run('rst')
            st = {s['path']: s for s in streams(out)}
            resets = [sid for sid, s in p.streams.items() if s.reset == 8] if p else []
            a = st.get('/after-rst', {})
            return (rc == 0 and resets == [1] and st.get('/echo', {}).get('reason') == '3'
                    and a.get('status') == '200'), out + err
        check('RST_STREAM from our client mid-upload, connection goes on', rst)

        def ping():
            rc, out, p, err = run('ping')
            return (rc == 0 and 'PING_ACK' in out and 'PINGS_RECEIVED 1' in out and p is not None
                    and p.ping_acks == [b'pyping!!']), out + err
        check('PING both ways', ping)

        def settings():
            rc, out, p, err = run('settings')
            st = {s['path']: s for s in streams(out)}
            changed = p.remote_settings if p else []
            iws = any(c.get(4) == 1000 for c in changed)
            big = st.get('/big/100000', {})
            return (rc == 0 and 'SETTINGS_ACK' in out and iws and big.get('len') == '100000'
                    and big.get('hash') == fnv(pattern(100000))), (out + err, changed)
        check('SETTINGS change from our client (window 1000, table 0), 100000-byte download', settings)

        def goaway():
            rc, out, p, err = run('goaway')
            t = p.terminated if p else None
            return rc == 0 and t is not None and t.error_code == 0, (out + err, repr(t))
        check('graceful GOAWAY from our client seen by Python', goaway)

        def server_goaway():
            rc, out, p, err = run('server-goaway')
            return rc == 0 and 'GOAWAY last=1 code=0' in out and 'status=200' in out, out + err
        check('GOAWAY from Python after the response', server_goaway)

        def push():
            rc, out, p, err = run('push')
            st = {s['path']: s for s in streams(out)}
            pu = st.get('/pushed.txt', {})
            return (rc == 0 and 'PUSH /pushed.txt' in out and pu.get('len') == '12'
                    and pu.get('hash') == fnv(b'pushed body\n')), out + err
        check('push from Python received', push)
    finally:
        srv.close()


# ---------------------------------------------------------------- Part C
def part_c(mode, label):
    env = dict(os.environ, CONN_PEER_PADDING=str(mode))
    srv = subprocess.Popen([PEER, 'server'], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env)
    try:
        line = srv.stdout.readline().decode()
        if not line.startswith('PORT '):
            tap(False, 'conn_server %s padding: starts' % label, line)
            return
        port = int(line.split()[1])

        class Recorder:
            """The socket, keeping a copy of every octet received."""
            def __init__(self, sock):
                self.sock, self.got = sock, bytearray()

            def recv(self, n):
                d = self.sock.recv(n)
                self.got += d
                return d

            def __getattr__(self, name):
                return getattr(self.sock, name)

        def frames(raw):
            off = 0
            while off + 9 <= len(raw):
                n = int.from_bytes(raw[off:off + 3], 'big')
                yield raw[off + 3], raw[off + 4], bytes(raw[off + 9:off + 9 + n])
                off += 9 + n

        def padded():
            s = Recorder(socket.create_connection(('127.0.0.1', port), timeout=5))
            p = Peer(s, True)
            body = pattern(5000)
            a = p.request('POST', '/trailers', body, trailers=[('x-a', '1')])
            b = p.request('GET', '/big/100000')
            if not p.run_until(p.done(a, b), 10):
                return False, 'incomplete'
            sa, sb = p.st(a), p.st(b)
            s.close()
            # Every HEADERS frame padded, padding zero, ALIGNED frames a
            # multiple of 64 octets; DATA padding seen by Python's flow control.
            heads = [(fl, pl) for t, fl, pl in frames(s.got) if t == 1]
            hdr_ok = heads and all(fl & 8 and pl[0] < len(pl) and not any(pl[len(pl) - pl[0]:])
                                   and (mode != 2 or (9 + len(pl)) % 64 == 0) for fl, pl in heads)
            data_pad = sum(e.flow_controlled_length - len(e.data) for e in p.events
                           if isinstance(e, h2.events.DataReceived))
            return (sa.headers.get(':status') == '200' and sa.trailers.get('x-trailer') == 'done'
                    and bytes(sa.body) == body and bytes(sb.body) == pattern(100000)
                    and hdr_ok and data_pad > 0), (sa.headers, sa.trailers, len(heads), data_pad)
        try:
            ok, why = padded()
        except Exception as e:  # noqa: BLE001 - report and continue
            ok, why = False, '%s: %s' % (type(e).__name__, e)
        tap(ok, 'conn_server %s padding of HEADERS and DATA: trailers, 100000-byte download' % label, why)
    finally:
        try:
            srv.stdin.close()
        except OSError:
            pass
        try:
            srv.wait(5)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()


part_a()
part_b()
part_c(1, 'MAX')
part_c(2, 'ALIGNED')
sys.exit(1 if fails else 0)

#!/bin/sh
# api_deadline.sh: `h2 serve --handshake-timeout 1 --header-timeout 1`
# against slow peers (raw sockets from python3): a client that sends half
# the connection preface and stalls is closed within 1-3 s (no GOAWAY); a
# TLS client that connects and sends nothing is closed within 1-3 s; a
# client that leaves a header block open and trickles one CONTINUATION
# frame every 300 ms gets GOAWAY ENHANCE_YOUR_CALM after about 1 s, while
# curl is served on another connection. The idle timeout stays at 120 s,
# so the closes come from the new limits. Every wait is bounded.
. "$(dirname "$0")/api_common.inc"
[ -x "$H2" ] || { echo "not ok - api_deadline # $H2 not built"; exit 1; }
DOC="$TMP/www"
mkdir -p "$DOC"
printf 'deadline test\n' > "$DOC/a.txt"
P=$(free_port)
T=$(free_port)
start_h2 srv "$DOC" --bind 127.0.0.1 --port "$T" --self-signed --h2c --h2c-port "$P" \
  --handshake-timeout 1 --header-timeout 1
wait_port "$P" && wait_port "$T" || { echo "not ok - api_deadline server start"; cat "$TMP"/*.log; exit 1; }

cat > "$TMP/slow.py" <<'PYEOF'
import socket, struct, sys, time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

def frame(ftype, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload

def read_until_close(s, limit):
    """Reads until EOF/reset or |limit| seconds; returns (bytes, seconds or None)."""
    t0 = time.time()
    data = b""
    while time.time() - t0 < limit:
        s.settimeout(max(0.01, limit - (time.time() - t0)))
        try:
            b = s.recv(4096)
        except socket.timeout:
            break
        except ConnectionResetError:
            return data, time.time() - t0
        if not b:
            return data, time.time() - t0
        data += b
    return data, None

def frames(data):
    out, at = [], 0
    while at + 9 <= len(data):
        n = int.from_bytes(data[at:at + 3], "big")
        out.append((data[at + 3], data[at + 9:at + 9 + n]))
        at += 9 + n
    return out

def goaway_code(data):
    for t, p in frames(data):
        if t == 7 and len(p) >= 8:
            return int.from_bytes(p[4:8], "big")
    return None

mode, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=5)
t0 = time.time()
if mode == "half-preface":
    s.sendall(PREFACE[:12])
    data, dt = read_until_close(s, 6)
    if dt is None:
        print("FAIL still open after 6 s"); sys.exit(1)
    print("closed after %.2f s, goaway %s, %d frames" % (dt, goaway_code(data), len(frames(data))))
    ok = 0.9 <= dt <= 3.0 and goaway_code(data) is None and len(frames(data)) >= 1
    sys.exit(0 if ok else 1)
elif mode == "tls-silent":
    data, dt = read_until_close(s, 6)
    if dt is None:
        print("FAIL still open after 6 s"); sys.exit(1)
    print("closed after %.2f s, %d bytes" % (dt, len(data)))
    sys.exit(0 if 0.9 <= dt <= 3.0 and not data else 1)
elif mode == "trickle":
    # A literal field (no indexing, new name) of 40 octets, never finished:
    # HEADERS with the first octet, then one octet per CONTINUATION.
    block = b"\x00\x06x-slow\x20" + b"a" * 32
    s.sendall(PREFACE + frame(4, 0, 0, b"") + frame(1, 0x1, 1, block[:1]))
    sent, got, dt = 1, b"", None
    s.settimeout(0.3)
    while sent < len(block) - 1 and time.time() - t0 < 6:
        try:
            b = s.recv(4096)
            if not b:
                dt = time.time() - t0
                break
            got += b
            if goaway_code(got) is not None:
                dt = time.time() - t0
                break
            continue
        except socket.timeout:
            pass
        except ConnectionResetError:
            dt = time.time() - t0
            break
        try:
            s.sendall(frame(9, 0, 1, block[sent:sent + 1]))
            sent += 1
        except OSError:
            dt = time.time() - t0
            break
    if dt is None or goaway_code(got) is None:
        more, dt2 = read_until_close(s, 2)
        got += more
        dt = dt if dt is not None else (time.time() - t0)
    code = goaway_code(got)
    print("GOAWAY code %s after %.2f s, %d CONTINUATION frames sent" % (code, dt, sent - 1))
    sys.exit(0 if code == 0xb and 0.9 <= dt <= 3.0 and sent - 1 >= 2 else 1)
PYEOF

run_py() { # run_py NAME MODE PORT: ok if slow.py MODE exits 0 (bounded by timeout)
  if timeout 15 $PY "$TMP/slow.py" "$2" "$3" > "$TMP/py.out" 2>&1; then
    ok "$1 ($(cat "$TMP/py.out"))"
  else
    notok "$1" "$(tr '\n' ' ' < "$TMP/py.out")"
  fi
}

run_py "h2c: half a preface, then silence: closed in 1-3 s, no GOAWAY" half-preface "$P"
sleep 1.1 # the server logs at most one connection error a second
run_py "TLS: connects, sends nothing: closed in 1-3 s" tls-silent "$T"
sleep 1.1
# The trickler and curl at once, on two connections of the same server.
timeout 15 $PY "$TMP/slow.py" trickle "$P" > "$TMP/trickle.out" 2>&1 &
TR=$!
sleep 0.3
C1=$(curl -sS --http2-prior-knowledge --max-time 10 -w ' %{http_code} %{http_version}' "http://127.0.0.1:$P/a.txt" 2>&1)
C2=$(curl -sS -k --http2 --max-time 10 -w ' %{http_code} %{http_version}' "https://127.0.0.1:$T/a.txt" 2>&1)
wait "$TR"
rc=$?
[ $rc = 0 ] && ok "trickled CONTINUATION every 300 ms: $(cat "$TMP/trickle.out")" \
  || notok "trickled CONTINUATION gets GOAWAY ENHANCE_YOUR_CALM in 1-3 s" "$(tr '\n' ' ' < "$TMP/trickle.out")"
[ "$C1" = "deadline test
 200 2" ] && ok "h2c curl served meanwhile" || notok "h2c curl served meanwhile" "$C1"
[ "$C2" = "deadline test
 200 2" ] && ok "TLS curl served meanwhile" || notok "TLS curl served meanwhile" "$C2"
sleep 0.2
check "the server logged the preface timeout" grep -q 'connection preface not received in time (timed out)' "$TMP/srv.log"
check "the server logged the TLS handshake timeout" grep -q 'TLS handshake not completed in time (timed out)' "$TMP/srv.log"
check "the server logged the header block timeout" grep -q 'sent ENHANCE_YOUR_CALM: header block not completed in time (timed out)' "$TMP/srv.log"
check "the server still runs" kill -0 "$H2PID"
exit $FAILS

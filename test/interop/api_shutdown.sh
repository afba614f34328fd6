#!/bin/sh
# api_shutdown.sh: `h2 serve` stops gracefully on SIGTERM: no new
# connections, the download in flight (curl, rate-limited to 16 MB/s, 64 MB)
# completes byte-exact while the server keeps sending, then the server
# exits 0; a second signal stops it at once and cuts a slow download.
. "$(dirname "$0")/api_common.inc"
[ -x "$H2" ] || { echo "not ok - api_shutdown # $H2 not built"; exit 1; }
DOC="$TMP/www"
mkdir -p "$DOC"
# 64 MB: more than the socket buffers hold, so the server must go on
# sending while it drains (a 4 MB body would sit in the kernel at once).
head -c 64000000 /dev/urandom > "$DOC/f.bin"
C="curl -sS --http2-prior-knowledge --max-time 30"

# 1: graceful.
P=$(free_port)
start_h2 g "$DOC" --bind 127.0.0.1 --port "$P" --h2c --quiet
wait_port "$P" || { echo "not ok - api_shutdown server start"; cat "$TMP"/*.log; exit 1; }
$C --limit-rate 16M -o "$TMP/got1" "http://127.0.0.1:$P/f.bin" 2> "$TMP/curl1.err" &
CURL=$!
sleep 0.5
kill -TERM "$H2PID"
sleep 0.3
check "no new connections once stopping" sh -c "! $C -o /dev/null http://127.0.0.1:$P/f.bin"
wait "$CURL"
rc=$?
[ $rc = 0 ] && ok "the download in flight completes (curl exit 0)" || notok "the download in flight completes" "curl exit $rc: $(cat $TMP/curl1.err)"
check "its body is byte-exact" cmp "$TMP/got1" "$DOC/f.bin"
i=0
while kill -0 "$H2PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait "$H2PID"
src=$?
[ $src = 0 ] && ok "the server exits 0 after the drain" || notok "the server exits 0 after the drain" "exit $src"
check "the server said it was stopping" grep -q 'stopping; 1 connection(s) finishing' "$TMP/g.log"

# 2: a second signal stops at once (the slow download is cut).
P=$(free_port)
start_h2 h "$DOC" --bind 127.0.0.1 --port "$P" --h2c --quiet
wait_port "$P" || { echo "not ok - api_shutdown server 2 start"; exit 1; }
$C --limit-rate 2M -o "$TMP/got2" "http://127.0.0.1:$P/f.bin" 2> /dev/null &
CURL=$!
sleep 0.5
kill -TERM "$H2PID"
sleep 0.3
kill -TERM "$H2PID" 2>/dev/null
i=0
while kill -0 "$H2PID" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$H2PID" 2>/dev/null && notok "a second signal stops the server at once" || ok "a second signal stops the server at once"
wait "$CURL"
rc=$?
[ $rc != 0 ] && ok "the slow download was cut (curl exit $rc)" || notok "the slow download was cut"
exit $FAILS

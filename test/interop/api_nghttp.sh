#!/bin/sh
# api_nghttp.sh: nghttp -nv and h2load (h2c and TLS, zero failures) against
# `h2 serve`; the demo site (no DIR) on both listeners; `h2 get` against
# nghttpd (h2c and TLS, multiplexed, -o, -v frame trace, exit status).
. "$(dirname "$0")/api_common.inc"
[ -x "$H2" ] || { echo "not ok - api_nghttp # $H2 not built"; exit 1; }
DOC="$TMP/www"
make_docroot "$DOC"
P=$(free_port)
T=$(free_port)
start_h2 srv "$DOC" --bind 127.0.0.1 --port "$T" --self-signed --h2c --h2c-port "$P" --quiet
wait_port "$P" && wait_port "$T" || { echo "not ok - api_nghttp server start"; cat "$TMP"/*.log; exit 1; }

check "nghttp -nv h2c GET" sh -c "timeout 20 nghttp -nv http://127.0.0.1:$P/small.txt > $TMP/ng.out && grep -q 'recv DATA frame' $TMP/ng.out && grep -q ':status: 200' $TMP/ng.out"
check "nghttp -nv TLS GET (ALPN h2)" sh -c "timeout 20 nghttp -nv https://127.0.0.1:$T/small.txt > $TMP/ng2.out && grep -q 'h2' $TMP/ng2.out && grep -q ':status: 200' $TMP/ng2.out"
check "nghttp multiplexed 3 URLs byte-equal" sh -c "timeout 20 nghttp -n -s http://127.0.0.1:$P/medium.bin http://127.0.0.1:$P/small.txt http://127.0.0.1:$P/large.bin > $TMP/ng3.out"
h2l() { # h2l URL: 10000 requests, -c 10 -m 10, zero failed
  timeout 120 h2load -n 10000 -c 10 -m 10 "$1" > "$TMP/h2load.out" 2>&1
  grep -q 'requests: 10000 total, 10000 started, 10000 done, 10000 succeeded, 0 failed' "$TMP/h2load.out"
}
check "h2load -n 10000 -c 10 -m 10 h2c: 0 failed" h2l "http://127.0.0.1:$P/small.txt"
check "h2load -n 10000 -c 10 -m 10 TLS: 0 failed" h2l "https://127.0.0.1:$T/small.txt"
kill "$H2PID" 2>/dev/null

# The demo site: no DIR.
P2=$(free_port)
T2=$(free_port)
start_h2 demo --bind 127.0.0.1 --port "$T2" --h2c-port "$P2"
wait_port "$P2" && wait_port "$T2" || notok "demo site starts"
check "demo site over h2c" sh -c "curl -sS --max-time 10 --http2-prior-knowledge http://127.0.0.1:$P2/ | grep -q 'h2'"
check "demo site over TLS" sh -c "curl -sS --max-time 10 -k --http2 https://127.0.0.1:$T2/hello.txt | grep -q 'Hello'"
check "demo site big.bin size" sh -c "test \"\$(curl -sS --max-time 20 --http2-prior-knowledge http://127.0.0.1:$P2/big.bin | wc -c)\" -eq 8388608"
check "demo prints both URLs" sh -c "grep -q 'https://127.0.0.1:$T2/' $TMP/demo.log && grep -q 'http://127.0.0.1:$P2/' $TMP/demo.log"

# h2 get against nghttpd.
N=$(free_port)
NT=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$TMP/nkey.pem" -out "$TMP/ncert.pem" > /dev/null 2>&1
nghttpd --no-tls -d "$DOC" --address=127.0.0.1 "$N" > "$TMP/nghttpd.log" 2>&1 &
PIDS="$PIDS $!"
nghttpd -d "$DOC" --address=127.0.0.1 "$NT" "$TMP/nkey.pem" "$TMP/ncert.pem" > "$TMP/nghttpd2.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$N" && wait_port "$NT" || notok "nghttpd starts"
G="timeout 60 $H2 get -s"
check "h2 get h2c from nghttpd byte-equal" sh -c "$G -o $TMP/g1 http://127.0.0.1:$N/large.bin && cmp $TMP/g1 $DOC/large.bin"
check "h2 get 3 URLs multiplexed with -o" sh -c "$G -o $TMP/g2 -o $TMP/g3 -o $TMP/g4 http://127.0.0.1:$N/small.txt http://127.0.0.1:$N/medium.bin http://127.0.0.1:$N/large.bin && cmp $TMP/g2 $DOC/small.txt && cmp $TMP/g3 $DOC/medium.bin && cmp $TMP/g4 $DOC/large.bin"
check "h2 get TLS from nghttpd (--cacert)" sh -c "$G --cacert $TMP/ncert.pem -o $TMP/g5 https://127.0.0.1:$NT/medium.bin && cmp $TMP/g5 $DOC/medium.bin"
check "h2 get refuses a self-signed cert without --cacert" sh -c "! $G -o /dev/null https://127.0.0.1:$NT/small.txt"
check "h2 get -v prints frames both ways" sh -c "$G -v -o /dev/null http://127.0.0.1:$N/small.txt 2> $TMP/v.err; grep -q '^> .*HEADERS' $TMP/v.err && grep -q '^< .*DATA' $TMP/v.err && grep -q '^< .*SETTINGS' $TMP/v.err"
check "h2 get exits non-zero on 404" sh -c "! $G -o /dev/null http://127.0.0.1:$N/missing"
check "h2 get exits non-zero on refused connection" sh -c "! $G -o /dev/null http://127.0.0.1:1/"
# More URLs than the server's MAX_CONCURRENT_STREAMS: queued, none refused.
urls=""
i=0
while [ $i -lt 150 ]; do urls="$urls http://127.0.0.1:$N/small.txt"; i=$((i + 1)); done
check "h2 get 150 URLs, nghttpd allows 100 at once: all fetched, none refused" sh -c "
  $G -v $urls > $TMP/q.out 2> $TMP/q.err && test \$(grep -c '^Hello, h2' $TMP/q.out) = 150 &&
  ! grep -q refused $TMP/q.err"
# A server allowing 5: the requests sent before its SETTINGS arrived are
# refused (REFUSED_STREAM) and retried.
M=$(free_port)
nghttpd --no-tls -m 5 -d "$DOC" --address=127.0.0.1 "$M" > "$TMP/nghttpd3.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$M" || notok "nghttpd -m 5 starts"
urls=""
i=0
while [ $i -lt 40 ]; do urls="$urls http://127.0.0.1:$M/small.txt"; i=$((i + 1)); done
check "h2 get 40 URLs, nghttpd allows 5: refused streams retried, all fetched" sh -c "
  $G -v $urls > $TMP/r.out 2> $TMP/r.err && test \$(grep -c '^Hello, h2' $TMP/r.out) = 40 &&
  grep -q 'refused by the server; will retry' $TMP/r.err"
[ "$FAILS" = 0 ]

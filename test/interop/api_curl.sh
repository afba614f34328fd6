#!/bin/sh
# api_curl.sh: curl against `h2 serve`: h2c prior knowledge and TLS (ALPN
# h2, --cacert with the generated certificate): byte-equal bodies (small,
# large), HEAD, 404, ranges, 304, a file shrinking mid-transfer, uploads,
# many parallel transfers.
. "$(dirname "$0")/api_common.inc"
[ -x "$H2" ] || { echo "not ok - api_curl # $H2 not built"; exit 1; }
DOC="$TMP/www"
make_docroot "$DOC"
P=$(free_port)
T=$(free_port)
start_h2 h2c "$DOC" --bind 127.0.0.1 --port "$P" --h2c
start_h2 tls "$DOC" --bind 127.0.0.1 --port "$T" --self-signed --cert-out "$TMP/cert.pem"
wait_port "$P" && wait_port "$T" || { echo "not ok - api_curl servers start"; cat "$TMP"/*.log; exit 1; }
H="http://127.0.0.1:$P"
S="https://localhost:$T"
C="curl -sS --max-time 30"

check "h2c small file byte-equal" sh -c "$C --http2-prior-knowledge $H/small.txt -o $TMP/o1 && cmp $TMP/o1 $DOC/small.txt"
check "h2c large file byte-equal (20 MB)" sh -c "$C --http2-prior-knowledge $H/large.bin -o $TMP/o2 && cmp $TMP/o2 $DOC/large.bin"
check "h2c index.html for /" sh -c "$C --http2-prior-knowledge $H/ | grep -q index"
check "h2c HTTP version is 2" sh -c "test \"\$($C --http2-prior-knowledge -o /dev/null -w '%{http_version}' $H/small.txt)\" = 2"
check "h2c 404" sh -c "test \"\$($C --http2-prior-knowledge -o /dev/null -w '%{http_code}' $H/nope)\" = 404"
check "h2c .. cannot escape" sh -c "code=\$($C --http2-prior-knowledge --path-as-is -o /dev/null -w '%{http_code}' $H/../../etc/passwd); test \$code = 400 -o \$code = 404"
check "h2c HEAD has length, no body" sh -c "$C --http2-prior-knowledge -I $H/medium.bin | grep -qi 'content-length: 300000'"
check "h2c range 206 byte-equal" sh -c "$C --http2-prior-knowledge -r 1000-1999 $H/medium.bin -o $TMP/o3 && dd if=$DOC/medium.bin bs=1000 skip=1 count=1 2>/dev/null | cmp - $TMP/o3"
check "h2c range 416" sh -c "test \"\$($C --http2-prior-knowledge -r 400000-500000 -o /dev/null -w '%{http_code}' $H/medium.bin)\" = 416"
check "h2c If-None-Match 304" sh -c "etag=\$($C --http2-prior-knowledge -I $H/small.txt | sed -n 's/^etag: *//Ip' | tr -d '\r'); test -n \"\$etag\" && test \"\$($C --http2-prior-knowledge -H \"If-None-Match: \$etag\" -o /dev/null -w '%{http_code}' $H/small.txt)\" = 304"
check "h2c range of a file streamed from disk (20 MB) byte-equal" sh -c "$C --http2-prior-knowledge -r 10000000-10299999 $H/large.bin -o $TMP/o5 && dd if=$DOC/large.bin bs=100000 skip=100 count=3 2>/dev/null | cmp - $TMP/o5"
# A file that shrinks mid-transfer: content-length would lie, so the stream
# is reset (the client's flow-control window, ~10 MB for curl, keeps most of
# the 64 MB unsent when the file is cut after 1 s at 1 MB/s).
truncate -s 64M "$DOC/shrink.bin"
check "h2c file shrinking mid-transfer: stream reset, logged" sh -c "($C --http2-prior-knowledge --limit-rate 1M $H/shrink.bin -o $TMP/o4; echo \$? > $TMP/o4.rc) & sleep 1; truncate -s 100000 $DOC/shrink.bin; wait; test \"\$(cat $TMP/o4.rc)\" != 0 && sleep 0.3 && grep -q 'GET /shrink.bin 200 reset INTERNAL_ERROR' $TMP/h2c.log"
head -c 5000000 /dev/urandom > "$TMP/up.bin"
want=$(wc -c < "$TMP/up.bin" | tr -d ' ')" "$(sha256sum "$TMP/up.bin" | cut -d' ' -f1)
check "h2c upload 5 MB digest" sh -c "test \"\$($C --http2-prior-knowledge --data-binary @$TMP/up.bin $H/upload)\" = \"$want\""
# curl 7.88 cannot multiplex h2c prior-knowledge transfers (error 16 with
# nghttpd too), so many parallel h2c transfers are checked with nghttp and
# h2 get; curl multiplexes over TLS below.
check "h2c 40 concurrent streams (nghttp -m 40)" sh -c "timeout 30 nghttp -nv -m 40 $H/medium.bin | grep -c ':status: 200' | grep -qx 40"
outs=""
urls=""
i=0
while [ $i -lt 40 ]; do urls="$urls $H/medium.bin"; outs="$outs -o $TMP/par$i"; i=$((i + 1)); done
check "h2c 40 parallel transfers with h2 get, byte-equal" sh -c "timeout 30 $H2 get -s $outs $urls && for f in $TMP/par*; do cmp \$f $DOC/medium.bin || exit 1; done"

check "TLS small file byte-equal (--cacert)" sh -c "$C --http2 --cacert $TMP/cert.pem $S/small.txt -o $TMP/t1 && cmp $TMP/t1 $DOC/small.txt"
check "TLS negotiates h2" sh -c "test \"\$($C --http2 --cacert $TMP/cert.pem -o /dev/null -w '%{http_version}' $S/small.txt)\" = 2"
check "TLS large file byte-equal" sh -c "$C --http2 -k $S/large.bin -o $TMP/t2 && cmp $TMP/t2 $DOC/large.bin"
check "TLS upload digest" sh -c "test \"\$($C --http2 -k --data-binary @$TMP/up.bin $S/upload)\" = \"$want\""
check "TLS 20 parallel transfers" sh -c "$C --http2 -k --parallel --parallel-max 20 $(i=0; while [ $i -lt 20 ]; do printf ' %s -o %s' "$S/medium.bin" "$TMP/tpar$i"; i=$((i + 1)); done) && for f in $TMP/tpar*; do cmp \$f $DOC/medium.bin || exit 1; done"
check "server logs one line per request" sh -c "grep -c ' /small.txt 200 ' $TMP/h2c.log | grep -qv '^0$'"
kill -0 "$H2PID" 2>/dev/null && ok "server still running" || notok "server still running"
[ "$FAILS" = 0 ]

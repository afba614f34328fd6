#!/bin/sh
# api_node.sh: Node's http2 client against `h2 serve` (h2c and TLS), and
# `h2 get` against Node's http2.createSecureServer (trailers, 103, 4 MiB).
. "$(dirname "$0")/api_common.inc"
[ -x "$H2" ] || { echo "not ok - api_node # $H2 not built"; exit 1; }
command -v node > /dev/null || { echo "not ok - api_node # node missing"; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
DOC="$TMP/www"
make_docroot "$DOC"
P=$(free_port)
T=$(free_port)
start_h2 srv "$DOC" --bind 127.0.0.1 --port "$T" --self-signed --cert-out "$TMP/cert.pem" --h2c --h2c-port "$P" --quiet
wait_port "$P" && wait_port "$T" || { echo "not ok - api_node server start"; exit 1; }
timeout 60 node "$HERE/api_node_client.js" "http://127.0.0.1:$P" "$DOC" | sed 's/ - node/ - h2c: node/'
timeout 60 node "$HERE/api_node_client.js" "https://localhost:$T" "$DOC" "$TMP/cert.pem" | sed 's/ - node/ - tls: node/'

N=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$TMP/nkey.pem" -out "$TMP/ncert.pem" > /dev/null 2>&1
node "$HERE/api_node_server.js" "$N" "$TMP/nkey.pem" "$TMP/ncert.pem" > "$TMP/node.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$N" || notok "node server starts"
G="timeout 30 $H2 get -s --cacert $TMP/ncert.pem"
check "h2 get from node: body" sh -c "test \"\$($G https://127.0.0.1:$N/hello)\" = 'hello from node'"
check "h2 get from node: trailers seen" sh -c "$G -v -o $TMP/tr https://127.0.0.1:$N/trailers 2> $TMP/tr.err && grep -q 'x-checksum: ok' $TMP/tr.err && grep -q 'body with trailers' $TMP/tr"
check "h2 get from node: 103 then 200" sh -c "$G -v -o $TMP/inf https://127.0.0.1:$N/info 2> $TMP/inf.err && grep -q 'informational' $TMP/inf.err && grep -q 'after 103' $TMP/inf"
check "h2 get from node: 4 MiB x3 multiplexed" sh -c "$G -o $TMP/b1 -o $TMP/b2 -o $TMP/b3 https://127.0.0.1:$N/big https://127.0.0.1:$N/big https://127.0.0.1:$N/big && test \$(wc -c < $TMP/b1) -eq 4194304 && cmp $TMP/b1 $TMP/b2 && cmp $TMP/b1 $TMP/b3"
check "h2 get from node: 404 exits 1" sh -c "! $G -o /dev/null https://127.0.0.1:$N/nope"
[ "$FAILS" = 0 ]

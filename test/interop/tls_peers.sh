#!/bin/sh
# tls_peers.sh: tls/ against real TLS peers, TAP lines "ok - ..." / "not ok - ...".
#   our server  <- openssl s_client (TLS 1.3, 1.2, ALPN, resumption, key log, SNI with
#                  two certificates, client certificates), curl --http2
#   our client  -> openssl s_server (ALPN, resumption, verification, key log, client
#                  certificate)
# The peer program is $BUILD/test/test_tls_peer (built from test/test_tls_peer.c).
# Everything listens on 127.0.0.1 port 0, every process is bounded with
# timeout and killed at exit.
set -u
BUILD=${BUILD:-build}
BIN=$BUILD/test/test_tls_peer
TMP=$(mktemp -d /tmp/h2tlsint.XXXXXX)
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ok() { echo "ok - tls: $1"; }
notok() { echo "not ok - tls: $1"; [ -n "${2:-}" ] && sed 's/^/#   /' "$2" | head -n 20; }
check() { # $1 name, $2 file to show on failure, rest: command
  name=$1; file=$2; shift 2
  if "$@"; then ok "$name"; else notok "$name" "$file"; fi
}

if [ ! -x "$BIN" ]; then
  echo "not ok - tls: $BIN is not built (make BUILD=$BUILD $BIN)"
  exit 1
fi
if ! command -v openssl >/dev/null 2>&1; then
  echo "not ok - tls: openssl CLI missing"
  exit 1
fi

# wait_line FILE REGEX: waits up to 5 s for a line in FILE.
wait_line() {
  i=0
  while [ $i -lt 50 ]; do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

# ours_serve OUTFILE ARGS...: starts our server, sets PORT.
ours_serve() {
  out=$1; shift
  timeout 60 "$BIN" serve "$@" > "$out" 2>&1 &
  PIDS="$PIDS $!"
  wait_line "$out" '^PORT [0-9]+' || { PORT=0; return 1; }
  PORT=$(sed -n 's/^PORT //p' "$out")
}

# s_server OUTFILE ARGS...: starts openssl s_server, sets PORT.
s_server() {
  out=$1; shift
  timeout 60 openssl s_server -accept 127.0.0.1:0 -cert "$TMP/cert.pem" -key "$TMP/key.pem" \
    "$@" > "$out" 2>&1 < /dev/null &
  PIDS="$PIDS $!"
  wait_line "$out" '^ACCEPT ' || { PORT=0; return 1; }
  PORT=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$out")
}

# s_client OUTFILE ARGS...: one handshake, stays 1 s for tickets, then quits.
s_client() {
  out=$1; shift
  (sleep 1) | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
    -CAfile "$TMP/cert.pem" -verify_return_error -verify_hostname localhost "$@" > "$out" 2>&1
}

# ---- our server, openssl s_client ----
S=$TMP/srv1.out
SK=$TMP/srv1.keylog
SSLKEYLOGFILE=$SK ours_serve "$S" --count 7 --echo --cert-out "$TMP/cert.pem" --key-out "$TMP/key.pem"
C=$TMP/c1.out
s_client "$C" -alpn h2 -keylogfile "$TMP/c1.keylog" -sess_out "$TMP/sess13"
check "s_client TLS 1.3 handshake with ALPN h2, certificate verified" "$C" \
  sh -c "grep -q 'ALPN protocol: h2' '$C' && grep -q 'Verify return code: 0 (ok)' '$C' && grep -q 'TLSv1.3' '$C'"
check "our server saw ALPN h2 and SNI localhost" "$S" \
  grep -q 'HANDSHAKE ok alpn=h2 resumed=0 version=TLSv1.3 .*sni=localhost' "$S"
# Key log: the client's TLS 1.3 application secret line is in our server's file.
line=$(grep '^CLIENT_TRAFFIC_SECRET_0 ' "$TMP/c1.keylog" 2>/dev/null | head -n 1)
check "SSLKEYLOGFILE lines written by our server match s_client's key log" "$SK" \
  sh -c "[ -n '$line' ] && grep -qF '$line' '$SK' && [ \$(grep -c '^SERVER_HANDSHAKE_TRAFFIC_SECRET ' '$SK') -ge 1 ]"

C=$TMP/c2.out
s_client "$C" -alpn h2 -sess_in "$TMP/sess13"
check "s_client resumes a TLS 1.3 session with our server (ticket)" "$C" \
  sh -c "grep -q '^Reused, TLSv1.3' '$C' && grep -q 'ALPN protocol: h2' '$C'"
check "our server reports the resumption" "$S" grep -q 'HANDSHAKE ok alpn=h2 resumed=1' "$S"

C=$TMP/c3.out
s_client "$C" -alpn h2 -tls1_2 -sess_out "$TMP/sess12"
check "s_client TLS 1.2 gets an ECDHE AEAD suite and h2" "$C" \
  sh -c "grep -q 'Protocol  : TLSv1.2' '$C' && grep -qE 'Cipher is ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM|CHACHA20)' '$C' && grep -q 'ALPN protocol: h2' '$C'"
C=$TMP/c4.out
s_client "$C" -alpn h2 -tls1_2 -sess_in "$TMP/sess12"
check "s_client resumes a TLS 1.2 session (ticket)" "$C" grep -q '^Reused, TLSv1.2' "$C"

C=$TMP/c5.out
s_client "$C" -alpn h2 -tls1_2 -cipher 'AES128-SHA:ECDHE-ECDSA-AES128-SHA'
check "a TLS 1.2 client with only CBC suites is refused (RFC 9113 9.2.2)" "$C" \
  sh -c "grep -q 'Cipher is (NONE)' '$C' && grep -qi 'alert handshake failure' '$C'"

C=$TMP/c6.out
s_client "$C" -alpn http/1.1
check "a client offering only http/1.1 is refused by an h2-only server" "$C" \
  grep -qi 'no application protocol' "$C"
sleep 0.3
check "our server explains the ALPN failure" "$S" grep -q 'HANDSHAKE error .*no common ALPN protocol' "$S"

C=$TMP/c8.out
(printf 'ping-over-tls\n'; sleep 1) | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
  -servername localhost -CAfile "$TMP/cert.pem" -alpn h2 > "$C" 2>&1
check "application data round trip (our server echoes s_client's bytes)" "$C" \
  sh -c "[ \$(grep -c '^ping-over-tls' '$C') -ge 1 ]"

# Fallback server, curl.
S2=$TMP/srv2.out
ours_serve "$S2" --count 4 --fallback --cert "$TMP/cert.pem" --key "$TMP/key.pem"
C=$TMP/c7.out
s_client "$C" -alpn http/1.1
check "fallback server selects http/1.1 for an HTTP/1.1-only client" "$C" \
  grep -q 'ALPN protocol: http/1.1' "$C"
check "fallback server reports http/1.1 to its caller" "$S2" grep -q 'HANDSHAKE ok alpn=http/1.1' "$S2"
if command -v curl >/dev/null 2>&1; then
  C=$TMP/curl1.out
  timeout 10 curl -sv --http2 --cacert "$TMP/cert.pem" --resolve "localhost:$PORT:127.0.0.1" \
    "https://localhost:$PORT/" -o /dev/null > "$C" 2>&1
  check "curl --http2 --cacert: certificate verified, ALPN h2 accepted" "$C" \
    sh -c "grep -q 'ALPN: server accepted h2' '$C' && grep -q 'SSL certificate verify ok' '$C'"
  C=$TMP/curl3.out
  timeout 10 curl -sv --http2 --resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/" \
    -o /dev/null > "$C" 2>&1
  sleep 0.3
  check "curl without the CA: it refuses, our server says the client rejected the certificate" "$S2" \
    sh -c "grep -q 'SSL certificate problem' '$C' && grep -q 'HANDSHAKE error .*does not trust the certificate' '$S2'"
  C=$TMP/curl2.out
  timeout 10 curl -sv --http2 -k "https://127.0.0.1:$PORT/" -o /dev/null > "$C" 2>&1
  check "curl --http2 -k: ALPN h2 accepted" "$C" grep -q 'ALPN: server accepted h2' "$C"
else
  echo "not ok - tls: curl missing"
fi

# ---- our client, openssl s_server ----
SS=$TMP/ss1.out
s_server "$SS" -alpn h2 -www -naccept 3 -keylogfile "$TMP/ss1.keylog"
O=$TMP/o1.out
SSLKEYLOGFILE=$TMP/o1.keylog timeout 30 "$BIN" connect "$PORT" --ca "$TMP/cert.pem" --count 3 --get > "$O" 2>&1
check "our client -> s_server: TLS 1.3, ALPN h2, verified" "$O" \
  grep -q '^CONNECT ok alpn=h2 resumed=0 version=TLSv1.3' "$O"
check "our client resumes its session with s_server (twice)" "$O" \
  sh -c "[ \$(grep -c '^CONNECT ok alpn=h2 resumed=1' '$O') -eq 2 ]"
check "our client reads the s_server reply through TLS" "$O" \
  sh -c "grep -q '^BODY [1-9][0-9]* bytes' '$O' && grep -q 'ACCEPT' '$SS'"
line=$(grep '^CLIENT_TRAFFIC_SECRET_0 ' "$TMP/ss1.keylog" 2>/dev/null | head -n 1)
check "SSLKEYLOGFILE lines written by our client match s_server's key log" "$TMP/o1.keylog" \
  sh -c "[ -n '$line' ] && grep -qF '$line' '$TMP/o1.keylog'"

SS=$TMP/ss2.out
s_server "$SS" -alpn h2 -www -naccept 2 -tls1_2
O=$TMP/o2.out
timeout 30 "$BIN" connect "$PORT" --ca "$TMP/cert.pem" --count 2 --tls12 > "$O" 2>&1
check "our client TLS 1.2 -> s_server, then resumption" "$O" \
  sh -c "grep -q '^CONNECT ok alpn=h2 resumed=0 version=TLSv1.2 cipher=TLS_ECDHE_' '$O' && grep -q '^CONNECT ok alpn=h2 resumed=1 version=TLSv1.2' '$O'"

SS=$TMP/ss3.out
s_server "$SS" -www -naccept 2
O=$TMP/o3.out
timeout 30 "$BIN" connect "$PORT" --ca "$TMP/cert.pem" > "$O" 2>&1
check "s_server without ALPN: our h2-only client fails clearly" "$O" \
  grep -q '^CONNECT error .*server did not select ALPN "h2"' "$O"
O=$TMP/o3b.out
timeout 30 "$BIN" connect "$PORT" --ca "$TMP/cert.pem" --fallback > "$O" 2>&1
check "s_server without ALPN: our fallback client reports http/1.1" "$O" \
  grep -q '^CONNECT ok alpn=http/1.1' "$O"

SS=$TMP/ss4.out
s_server "$SS" -alpn h2 -www -naccept 3
O=$TMP/o4.out
timeout 30 "$BIN" connect "$PORT" --ca "$TMP/cert.pem" --name wrong.example > "$O" 2>&1
check "wrong host name: verification fails with the reason" "$O" \
  grep -q '^CONNECT error .*certificate verification failed for .wrong.example.: Hostname mismatch' "$O"
O=$TMP/o5.out
timeout 30 "$BIN" connect "$PORT" > "$O" 2>&1
check "untrusted certificate (system store only): verification fails" "$O" \
  grep -q '^CONNECT error .*certificate verification failed .*self signed' "$O"
O=$TMP/o6.out
timeout 30 "$BIN" connect "$PORT" --insecure --name wrong.example > "$O" 2>&1
check "insecure switch: handshake succeeds anyway" "$O" grep -q '^CONNECT ok alpn=h2' "$O"

# ---- SNI: two certificates, s_client picks by server name ----
S4=$TMP/srv4.out
ours_serve "$S4" --count 2 --also example.test --also-out "$TMP/other.pem" --cert-out "$TMP/cert4.pem"
C=$TMP/sni1.out
(sleep 1) | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername example.test -alpn h2 \
  -CAfile "$TMP/other.pem" -verify_return_error -verify_hostname example.test > "$C" 2>&1
check "SNI example.test: s_client gets and verifies the example.test certificate" "$C" \
  sh -c "grep -q 'Verify return code: 0 (ok)' '$C' && grep -q 'CN *= *example.test' '$C'"
C=$TMP/sni2.out
(sleep 1) | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost -alpn h2 \
  -CAfile "$TMP/cert4.pem" -verify_return_error -verify_hostname localhost > "$C" 2>&1
check "SNI localhost on the same server: the default certificate, verified" "$C" \
  sh -c "grep -q 'Verify return code: 0 (ok)' '$C' && grep -q 'CN *= *localhost' '$C'"

# ---- client certificates ----
# A client certificate made by the openssl tool; our server asks for it
# (and verifies it against itself as the CA), openssl s_client presents it.
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=client.test \
     -addext extendedKeyUsage=clientAuth -keyout "$TMP/client-key.pem" -out "$TMP/client.pem" \
     > "$TMP/req.out" 2>&1; then
  S3=$TMP/srv3.out
  ours_serve "$S3" --count 2 --cert "$TMP/cert.pem" --key "$TMP/key.pem" --client-ca "$TMP/client.pem" \
    --require-client-cert
  C=$TMP/cc1.out
  s_client "$C" -alpn h2 -cert "$TMP/client.pem" -key "$TMP/client-key.pem"
  sleep 0.3
  check "s_client with a client certificate: our server verifies it (CN client.test)" "$S3" \
    grep -q 'HANDSHAKE ok alpn=h2 .*client_cn=client.test' "$S3"
  C=$TMP/cc2.out
  s_client "$C" -alpn h2
  sleep 0.3
  check "s_client without a certificate: our server refuses it and says why" "$S3" \
    grep -q 'HANDSHAKE error .*the client sent no certificate' "$S3"
  # Our client presents the certificate to openssl s_server, which requires
  # and verifies one.
  SS=$TMP/ss6.out
  s_server "$SS" -alpn h2 -www -naccept 2 -Verify 1 -verify_return_error -CAfile "$TMP/client.pem"
  O=$TMP/o8.out
  timeout 30 "$BIN" connect "$PORT" --ca "$TMP/cert.pem" --cert "$TMP/client.pem" --key "$TMP/client-key.pem" \
    --get > "$O" 2>&1
  check "our client presents its certificate to s_server -Verify (verified, reply read)" "$O" \
    sh -c "grep -q '^CONNECT ok alpn=h2' '$O' && grep -q '^BODY [1-9][0-9]* bytes' '$O' && grep -q 'CN *= *client.test' '$SS'"
  O=$TMP/o9.out
  timeout 30 "$BIN" connect "$PORT" --ca "$TMP/cert.pem" --get > "$O" 2>&1
  check "our client without a certificate: s_server -Verify refuses, our client says why" "$O" \
    grep -qE '(CONNECT|READ) error .*(requires a client certificate|asked for a client certificate)' "$O"
else
  notok "openssl req could not make a client certificate" "$TMP/req.out"
fi

# Renegotiation is refused (RFC 9113 9.2.1): s_server asks for it ("r" on its
# stdin) while our TLS 1.2 client waits for a reply.
SS=$TMP/ss5.out
(sleep 2; echo r; sleep 4) | timeout 60 openssl s_server -accept 127.0.0.1:0 -cert "$TMP/cert.pem" \
  -key "$TMP/key.pem" -alpn h2 -tls1_2 -naccept 1 > "$SS" 2>&1 &
PIDS="$PIDS $!"
if wait_line "$SS" '^ACCEPT '; then
  PORT=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$SS")
  O=$TMP/o7.out
  timeout 30 "$BIN" connect "$PORT" --ca "$TMP/cert.pem" --tls12 --get > "$O" 2>&1
  check "a server's renegotiation request makes our client fail clearly" "$O" \
    sh -c "grep -q '^CONNECT ok alpn=h2 resumed=0 version=TLSv1.2' '$O' && grep -q '^READ error .*RENEGOTIATION' '$O'"
else
  notok "renegotiation: s_server did not start" "$SS"
fi

exit 0

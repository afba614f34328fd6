#!/bin/sh
# api_client_cert.sh: `h2 serve --tls-ca FILE [--tls-verify-client]` with
# curl --cert/--key: a CA made here signs a client certificate; a second,
# self-signed client certificate is not from that CA.
#  - required (--tls-verify-client): the CA's client is served; a client
#    without a certificate and one with the foreign certificate are refused
#    (handshake fails, no response);
#  - optional (--tls-ca alone): a client without a certificate is served,
#    the CA's client too, the foreign certificate is refused;
#  - option errors: --tls-verify-client without --tls-ca, --tls-ca with
#    --h2c only, a missing CA file.
. "$(dirname "$0")/api_common.inc"
[ -x "$H2" ] || { echo "not ok - api_client_cert # $H2 not built"; exit 1; }
command -v openssl > /dev/null || { echo "not ok - api_client_cert # openssl missing"; exit 1; }
DOC="$TMP/www"
make_docroot "$DOC"
K="$TMP/pki"
mkdir -p "$K"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
# The CA, a client certificate it signs (clientAuth), a foreign one.
openssl req -x509 $ec -days 2 -subj /CN=h2-test-ca -keyout "$K/ca.key" -out "$K/ca.pem" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign > "$K/log" 2>&1 &&
openssl req $ec -subj /CN=h2-test-client -keyout "$K/client.key" -out "$K/client.csr" >> "$K/log" 2>&1 &&
printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n' > "$K/ext" &&
openssl x509 -req -in "$K/client.csr" -CA "$K/ca.pem" -CAkey "$K/ca.key" -CAcreateserial -days 2 \
  -extfile "$K/ext" -out "$K/client.pem" >> "$K/log" 2>&1 &&
openssl req -x509 $ec -days 2 -subj /CN=h2-test-client -keyout "$K/rogue.key" -out "$K/rogue.pem" \
  -addext extendedKeyUsage=clientAuth >> "$K/log" 2>&1 ||
  { echo "not ok - api_client_cert certificates # openssl failed"; cat "$K/log"; exit 1; }
ok "CA, client and foreign certificates made with openssl"

R=$(free_port)
O=$(free_port)
start_h2 required "$DOC" --bind 127.0.0.1 --port "$R" --self-signed --cert-out "$TMP/srv.pem" \
  --tls-ca "$K/ca.pem" --tls-verify-client
start_h2 optional "$DOC" --bind 127.0.0.1 --port "$O" --self-signed --cert-out "$TMP/srv2.pem" \
  --tls-ca "$K/ca.pem"
wait_port "$R" && wait_port "$O" || { echo "not ok - api_client_cert servers start"; cat "$TMP"/*.log; exit 1; }
check "required: the start-up line says so" grep -q "client certificate required" "$TMP/required.log"
check "optional: the start-up line says so" grep -q "client certificate verified if sent" "$TMP/optional.log"
C="curl -sS --max-time 20 --http2"
GOOD="--cert $K/client.pem --key $K/client.key"
ROGUE="--cert $K/rogue.pem --key $K/rogue.key"

# refused NAME URL ARGS...: curl must fail and print no body.
refused() {
  name=$1; url=$2; shift 2
  if $C "$@" -o "$TMP/refused.out" "$url" > "$TMP/refused.err" 2>&1; then
    notok "$name" "curl succeeded"
  elif [ -s "$TMP/refused.out" ]; then
    notok "$name" "a body arrived"
  else
    ok "$name"
    sed 's/^/#   curl: /' "$TMP/refused.err" | head -2
  fi
}

check "required: client with the CA's certificate gets the file (h2)" sh -c \
  "test \"\$($C --cacert $TMP/srv.pem $GOOD -o $TMP/g1 -w '%{http_version}' https://localhost:$R/small.txt)\" = 2 && cmp $TMP/g1 $DOC/small.txt"
check "required: large file byte-equal with a client certificate" sh -c \
  "$C --cacert $TMP/srv.pem $GOOD -o $TMP/g2 https://localhost:$R/large.bin && cmp $TMP/g2 $DOC/large.bin"
refused "required: client without a certificate is refused" "https://localhost:$R/small.txt" --cacert "$TMP/srv.pem"
refused "required: client with a foreign certificate is refused" "https://localhost:$R/small.txt" --cacert "$TMP/srv.pem" $ROGUE
check "required: served again after refusals" sh -c \
  "$C --cacert $TMP/srv.pem $GOOD -o $TMP/g3 https://localhost:$R/small.txt && cmp $TMP/g3 $DOC/small.txt"
check "required: only the verified requests were logged (3)" sh -c \
  "test \$(grep -c ' 200 ' $TMP/required.log) = 3"

check "optional: client without a certificate is served" sh -c \
  "$C --cacert $TMP/srv2.pem -o $TMP/o1 https://localhost:$O/small.txt && cmp $TMP/o1 $DOC/small.txt"
check "optional: client with the CA's certificate is served" sh -c \
  "$C --cacert $TMP/srv2.pem $GOOD -o $TMP/o2 https://localhost:$O/small.txt && cmp $TMP/o2 $DOC/small.txt"
refused "optional: client with a foreign certificate is refused" "https://localhost:$O/small.txt" --cacert "$TMP/srv2.pem" $ROGUE

# Option errors (exit 2 for usage, 1 for a CA file that cannot be used).
check "--tls-verify-client without --tls-ca: usage error" sh -c \
  "$H2 serve --self-signed --port 0 --tls-verify-client > $TMP/e1 2>&1; test \$? = 2 && grep -q -- '--tls-ca' $TMP/e1"
check "--tls-ca with --h2c only: usage error" sh -c \
  "$H2 serve --h2c --port 0 --tls-ca $K/ca.pem > $TMP/e2 2>&1; test \$? = 2"
check "--tls-ca with a missing file: error naming it" sh -c \
  "$H2 serve --self-signed --bind 127.0.0.1 --port 0 --tls-ca $TMP/nope.pem > $TMP/e3 2>&1; test \$? = 1 && grep -q nope.pem $TMP/e3"
check "--help documents --tls-ca and --tls-verify-client" sh -c \
  "$H2 serve --help | grep -q -- '--tls-ca FILE' && $H2 serve --help | grep -q -- '--tls-verify-client'"
kill -0 "$H2PID" 2>/dev/null && ok "servers still running" || notok "servers still running"

# --tls-pfx: the server's key and chain from a password-protected PKCS#12
# bundle (a server certificate the CA signed, with the CA as its chain); the
# password comes from H2_TLS_PASSWORD.
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$K/sext" &&
openssl req $ec -subj /CN=localhost -keyout "$K/srv.key" -out "$K/srv.csr" >> "$K/log" 2>&1 &&
openssl x509 -req -in "$K/srv.csr" -CA "$K/ca.pem" -CAkey "$K/ca.key" -CAcreateserial -days 2 \
  -extfile "$K/sext" -out "$K/srv.pem" >> "$K/log" 2>&1 &&
openssl pkcs12 -export -in "$K/srv.pem" -inkey "$K/srv.key" -certfile "$K/ca.pem" \
  -passout pass:pfx-secret -out "$K/srv.p12" >> "$K/log" 2>&1 ||
  notok "server PKCS#12 bundle made with openssl"
X=$(free_port)
H2_TLS_PASSWORD=pfx-secret start_h2 pfx "$DOC" --bind 127.0.0.1 --port "$X" --tls-pfx "$K/srv.p12"
wait_port "$X" || notok "--tls-pfx server starts"
check "--tls-pfx: curl trusting only the CA is served" sh -c \
  "$C --cacert $K/ca.pem -o $TMP/p1 https://localhost:$X/small.txt && cmp $TMP/p1 $DOC/small.txt"
check "--tls-pfx with a wrong password: exit 1, message names the file" sh -c \
  "H2_TLS_PASSWORD=nope $H2 serve --bind 127.0.0.1 --port 0 --tls-pfx $K/srv.p12 > $TMP/e4 2>&1; test \$? = 1 && grep -q 'srv.p12' $TMP/e4 && grep -q 'password' $TMP/e4"
check "--tls-pfx with --tls-cert: usage error" sh -c \
  "$H2 serve --port 0 --tls-pfx $K/srv.p12 --tls-cert $K/srv.pem --tls-key $K/srv.key > $TMP/e5 2>&1; test \$? = 2"
[ "$FAILS" = 0 ]

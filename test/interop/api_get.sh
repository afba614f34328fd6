#!/bin/sh
# api_get.sh: `h2 get` options end to end against `h2 serve` (and curl for
# the conditional requests it does not cover elsewhere): --data (string and
# @file) bodies, -H request headers (If-None-Match -> 304), -I, -O, -v
# request/response headers, --stat, many URLs over one connection, the exit status
# of a mixed batch, the progress bar only on a terminal.
. "$(dirname "$0")/api_common.inc"
[ -x "$H2" ] || { echo "not ok - api_get # $H2 not built"; exit 1; }
DOC="$TMP/www"
make_docroot "$DOC"
P=$(free_port)
start_h2 srv "$DOC" --bind 127.0.0.1 --port "$P" --h2c
wait_port "$P" || { echo "not ok - api_get server start"; cat "$TMP"/*.log; exit 1; }
H="http://127.0.0.1:$P"
G="timeout 30 $H2 get"
H2ABS=$(cd "$(dirname "$H2")" && pwd)/h2
C="curl -sS --max-time 30 --http2-prior-knowledge"

want_str="5 $(printf hello | sha256sum | cut -d' ' -f1)"
check "--data string is the POST body" sh -c "test \"\$($G -s --data hello $H/upload)\" = \"$want_str\""
head -c 1500000 /dev/urandom > "$TMP/up.bin"
want_file="1500000 $(sha256sum "$TMP/up.bin" | cut -d' ' -f1)"
check "--data @file uploads the file byte-exact" sh -c "test \"\$($G -s -d @$TMP/up.bin $H/upload)\" = \"$want_file\""
check "--data @missing exits 2" sh -c "$G -s -d @$TMP/nope $H/upload; test \$? = 2"
check "-H sends the header (If-None-Match -> 304, exit 0)" sh -c "
  etag=\$($G -s -I $H/small.txt | sed -n 's/^etag: *//p')
  test -n \"\$etag\" &&
  $G -s -v -H \"If-None-Match: \$etag\" -H 'x-extra: 1' -o $TMP/h304 $H/small.txt 2> $TMP/h304.err &&
  grep -q '^  :status: 304' $TMP/h304.err && grep -q '^  If-None-Match: ' $TMP/h304.err &&
  grep -q '^  x-extra: 1' $TMP/h304.err && test ! -s $TMP/h304"
check "-H without a colon is a usage error" sh -c "$G -s -H bad $H/small.txt; test \$? = 2"
check "-I prints headers, no body" sh -c "$G -s -I $H/medium.bin > $TMP/head.out && grep -q '^content-length: 300000' $TMP/head.out && test \$(wc -c < $TMP/head.out) -lt 1000"
check "-O saves under the URL's name" sh -c "cd $TMP && mkdir -p O && cd O && timeout 30 $H2ABS get -s -O $H/medium.bin $H/sub/ && cmp medium.bin $DOC/medium.bin && cmp index.html $DOC/sub/index.html"
check "-v traces frames both ways and the headers" sh -c "$G -v -o /dev/null $H/small.txt 2> $TMP/v.err &&
  grep -q '^> .*HEADERS' $TMP/v.err && grep -q '^< .*HEADERS' $TMP/v.err && grep -q '^< .*DATA' $TMP/v.err &&
  grep -q '^> .*SETTINGS' $TMP/v.err && grep -q 'request headers:' $TMP/v.err && grep -q '^  :path: /small.txt' $TMP/v.err"
check "--stat: a row per URL (bytes, status) and the connection's counters" sh -c "$G -s --stat -o /dev/null -o /dev/null $H/medium.bin $H/small.txt 2> $TMP/stat.err &&
  grep -Eq ' 300000 +200  /medium.bin\$' $TMP/stat.err && grep -Eq ' 200  /small.txt\$' $TMP/stat.err &&
  grep -q '^connection: .* frames / .* bytes received, 2 streams' $TMP/stat.err"
urls=""
i=0
while [ $i -lt 12 ]; do urls="$urls $H/small.txt"; i=$((i + 1)); done
check "12 URLs over one connection (one SETTINGS exchange, 12 streams)" sh -c "$G -v -o /dev/null $urls > /dev/null 2> $TMP/m.err &&
  test \$(grep -c '^\* connected' $TMP/m.err) = 1 && test \$(grep -c '^> \[SETTINGS\] stream=0 len=[1-9]' $TMP/m.err) = 1 &&
  test \$(grep -c '^> \[HEADERS\]' $TMP/m.err) = 12 && test \$(grep -c '^< \[HEADERS\]' $TMP/m.err) = 12"
check "a 404 among 200s: all fetched, exit 1, the failing URL named" sh -c "
  $G -s -o $TMP/x1 -o $TMP/x2 -o $TMP/x3 $H/small.txt $H/missing $H/medium.bin 2> $TMP/mix.err; rc=\$?
  test \$rc = 1 && cmp $TMP/x1 $DOC/small.txt && cmp $TMP/x3 $DOC/medium.bin && grep -q 'missing: HTTP status 404' $TMP/mix.err"
check "URLs on two origins are refused (exit 2)" sh -c "$G -s $H/small.txt http://127.0.0.2:$P/small.txt; test \$? = 2"

# The progress bar: on a terminal (a pty) only, never with -s or to a file.
cat > "$TMP/ptyrun.py" <<'PYEOF'
import os, pty, sys, select, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b''
end = time.time() + 30
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 1)
    if not r:
        continue
    try:
        d = os.read(fd, 65536)
    except OSError:
        break
    if not d:
        break
    out += d
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode('latin-1'))
sys.exit(os.WEXITSTATUS(st))
PYEOF
check "progress bar on a terminal" sh -c "$PY $TMP/ptyrun.py $H2 get -o $TMP/pg1 $H/large.bin > $TMP/pty1.out && grep -q '100%' $TMP/pty1.out && cmp $TMP/pg1 $DOC/large.bin"
check "no progress bar with -s on a terminal" sh -c "$PY $TMP/ptyrun.py $H2 get -s -o $TMP/pg2 $H/large.bin > $TMP/pty2.out && ! grep -q '%' $TMP/pty2.out && cmp $TMP/pg2 $DOC/large.bin"
check "no progress bar when stderr is not a terminal" sh -c "$G -o $TMP/pg3 $H/large.bin 2> $TMP/pg3.err && test ! -s $TMP/pg3.err"
# The body is random bytes and may hold "MiB" itself (about 2% of runs):
# the terminal must show no more of them than the body has.
check "no progress bar over a body shown on the terminal" sh -c "$PY $TMP/ptyrun.py $H2 get $H/medium.bin > $TMP/pty4.out && test \$(grep -a -o 'MiB' $TMP/pty4.out | wc -l) -eq \$(grep -a -o 'MiB' $DOC/medium.bin | wc -l)"

# Conditionals by date with curl (If-None-Match is in api_curl.sh).
check "If-Modified-Since at Last-Modified -> 304" sh -c "lm=\$($C -I $H/small.txt | sed -n 's/^last-modified: *//Ip' | tr -d '\r'); test -n \"\$lm\" &&
  test \"\$($C -H \"If-Modified-Since: \$lm\" -o /dev/null -w '%{http_code}' $H/small.txt)\" = 304"
check "If-Modified-Since in the past -> 200 with the body" sh -c "test \"\$($C -H 'If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT' -o $TMP/ims -w '%{http_code}' $H/small.txt)\" = 200 && cmp $TMP/ims $DOC/small.txt"
kill -0 "$H2PID" 2>/dev/null && ok "server still running" || notok "server still running"

# Exactly one log line per request, of every kind, on a fresh server.
L=$(free_port)
start_h2 logsrv "$DOC" --bind 127.0.0.1 --port "$L" --h2c
LPID=$H2PID
wait_port "$L" || notok "log server starts"
HL="http://127.0.0.1:$L"
etag=$($G -s -I "$HL/small.txt" | sed -n 's/^etag: *//p')
$G -s -o /dev/null -o /dev/null -o /dev/null "$HL/" "$HL/missing" "$HL/medium.bin" 2> /dev/null
$G -s -o /dev/null -H "if-none-match: $etag" "$HL/small.txt"
$G -s -o /dev/null -H "range: bytes=0-9" "$HL/medium.bin"
$G -s -o /dev/null --data abc "$HL/upload"
sleep 0.3
cat > "$TMP/log.want" <<EOF
HEAD /small.txt 200 0
GET / 200 32
GET /missing 404 10
GET /medium.bin 200 300000
GET /small.txt 304 0
GET /medium.bin 206 10
POST /upload 200 67
EOF
grep -v '^h2 serve:' "$TMP/logsrv.log" | sort > "$TMP/log.got"
sort "$TMP/log.want" > "$TMP/log.want.sorted"
check "one log line per request: method, path, status, bytes" diff "$TMP/log.want.sorted" "$TMP/log.got"
kill "$LPID" 2>/dev/null
[ "$FAILS" = 0 ]

#!/bin/sh
# api_chromium.sh: a real browser against `h2 serve` over TLS. Headless
# Chromium loads a page whose script fetches many small files at once, a
# JSON document and a 4 MB file over the same connection and writes what it
# got into the page; --dump-dom prints the page after the scripts ran. The
# page also reports the protocol the browser used (nextHopProtocol must be
# "h2") and the server's log must show every request.
. "$(dirname "$0")/api_common.inc"
[ -x "$H2" ] || { echo "not ok - api_chromium # $H2 not built"; exit 1; }
CHROME=$(command -v chromium || true)
[ -n "$CHROME" ] || { echo "not ok - api_chromium # chromium not installed (scripts/deps.sh installs it)"; exit 1; }

DOC="$TMP/www"
mkdir -p "$DOC/img"
N=40
i=0
while [ $i -lt $N ]; do
  printf 'part %d of the page\n' "$i" > "$DOC/img/p$i.txt"
  i=$((i + 1))
done
head -c 4000000 /dev/urandom > "$DOC/big.bin"
printf '{"greeting": "hello from h2", "n": 42}\n' > "$DOC/data.json"
printf 'body { color: #123; }\n' > "$DOC/style.css"
cat > "$DOC/index.html" <<EOF
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>h2 chromium test</title>
<link rel="stylesheet" href="/style.css"></head>
<body><p id="proto">pending</p><p id="json">pending</p><p id="parts">pending</p>
<p id="big">pending</p>
<script>
const nav = performance.getEntriesByType('navigation')[0];
document.getElementById('proto').textContent = 'proto=' + nav.nextHopProtocol;
fetch('/data.json').then(r => r.json()).then(j => {
  document.getElementById('json').textContent = 'json=' + j.greeting + '/' + j.n;
});
const parts = [];
for (let i = 0; i < $N; i++) parts.push(fetch('/img/p' + i + '.txt').then(r => r.text()));
Promise.all(parts).then(t => {
  const ok = t.every((s, i) => s === 'part ' + i + ' of the page\n');
  document.getElementById('parts').textContent = 'parts=' + t.length + (ok ? ' all-match' : ' MISMATCH');
});
fetch('/big.bin').then(r => r.arrayBuffer()).then(b => {
  document.getElementById('big').textContent = 'big=' + b.byteLength;
});
</script></body></html>
EOF

P=$(free_port)
start_h2 srv "$DOC" --bind 127.0.0.1 --port "$P" --self-signed
wait_port "$P" || { echo "not ok - api_chromium server start"; cat "$TMP"/*.log; exit 1; }

# Chromium needs a writable home and profile; no sandbox (CI runs as root).
export HOME="$TMP/home"
mkdir -p "$HOME"
timeout 60 "$CHROME" --headless=new --no-sandbox --disable-gpu --no-first-run \
  --user-data-dir="$TMP/profile" --ignore-certificate-errors \
  --virtual-time-budget=15000 --dump-dom "https://127.0.0.1:$P/" \
  > "$TMP/dom.html" 2> "$TMP/chromium.err"
rc=$?
[ $rc = 0 ] && ok "chromium loads the page (exit 0)" || { notok "chromium loads the page" "exit $rc"; tail -5 "$TMP/chromium.err"; }
check "the browser used HTTP/2 (nextHopProtocol h2)" grep -q 'id="proto">proto=h2<' "$TMP/dom.html"
check "fetch() of a JSON document" grep -q 'id="json">json=hello from h2/42<' "$TMP/dom.html"
check "$N parallel fetches, every body right" grep -q "id=\"parts\">parts=$N all-match<" "$TMP/dom.html"
check "a 4 MB body arrives whole" grep -q 'id="big">big=4000000<' "$TMP/dom.html"
sleep 0.5 # the request log is written once per loop iteration
check "the server logged the page, the stylesheet and every fetch" sh -c "
  grep -q '^GET / 200 ' $TMP/srv.log && grep -q '^GET /style.css 200 ' $TMP/srv.log &&
  grep -q '^GET /data.json 200 ' $TMP/srv.log && grep -q '^GET /big.bin 200 4000000' $TMP/srv.log &&
  test \$(grep -c '^GET /img/p[0-9]*.txt 200 ' $TMP/srv.log) = $N"
kill -0 "$H2PID" 2>/dev/null && ok "server still running" || notok "server still running"
exit $FAILS

#!/bin/sh
# hpack_tool.sh: `h2 hpack` end to end on hpack-test-case stories:
# decode --check on stories of every implementation directory, encode |
# decode --check round trips, and bad input (garbage JSON, truncated hex,
# missing file, bad options) that must fail cleanly: a non-zero exit below
# 128 (no crash) and a message on stderr. Prints TAP lines ok / not ok.
# Env: BUILD (default build), H2_HPACK_TEST_CASE (default
# ../shared/hpack-test-case, relative to the repo root).
set -u
BUILD=${BUILD:-build}
H2="$BUILD/h2"
STORIES=${H2_HPACK_TEST_CASE:-../shared/hpack-test-case}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failures=0

ok() { n=$((n + 1)); echo "ok - $1"; }
not_ok() { n=$((n + 1)); failures=$((failures + 1)); echo "not ok - $1"; [ $# -gt 1 ] && echo "# $2"; }

if [ ! -x "$H2" ]; then
  not_ok "h2 program built" "$H2 is missing: run make BUILD=$BUILD first"
  exit 1
fi
if [ ! -d "$STORIES/raw-data" ]; then
  not_ok "hpack-test-case stories present" "not found at $STORIES (set H2_HPACK_TEST_CASE)"
  exit 1
fi

# expect_success NAME CMD...: exit 0 required.
expect_success() {
  name=$1; shift
  "$@" > "$tmp/out" 2> "$tmp/err"
  rc=$?
  if [ "$rc" = 0 ]; then ok "$name"; else not_ok "$name" "exit $rc: $(head -c 300 "$tmp/err")"; fi
}

# expect_failure NAME PATTERN CMD...: exit 1..127 and stderr matching PATTERN.
expect_failure() {
  name=$1; pattern=$2; shift 2
  "$@" > "$tmp/out" 2> "$tmp/err"
  rc=$?
  if [ "$rc" -ge 128 ]; then
    not_ok "$name" "crashed (exit $rc): $(head -c 300 "$tmp/err")"
  elif [ "$rc" = 0 ]; then
    not_ok "$name" "exit 0 on bad input"
  elif ! grep -q -- "$pattern" "$tmp/err"; then
    not_ok "$name" "exit $rc but stderr lacks '$pattern': $(head -c 300 "$tmp/err")"
  else
    ok "$name"
  fi
}

# decode --check, a few stories from each implementation directory.
for d in "$STORIES"/*/; do
  d=${d%/}
  dn=$(basename "$d")
  [ "$dn" = raw-data ] && continue
  for s in story_00 story_13 story_30; do
    [ -f "$d/$s.json" ] || continue
    expect_success "decode --check $dn/$s" "$H2" hpack decode --check "$d/$s.json"
  done
done

# decode prints the header list.
"$H2" hpack decode "$STORIES/nghttp2-change-table-size/story_00.json" > "$tmp/list" 2> "$tmp/err"
if [ $? = 0 ] && grep -q '^# seqno 0$' "$tmp/list" && grep -q '^:authority: yahoo.co.jp$' "$tmp/list"; then
  ok "decode prints header lists"
else
  not_ok "decode prints header lists" "$(head -c 300 "$tmp/list") $(head -c 300 "$tmp/err")"
fi

# decode from stdin.
expect_success "decode --check from stdin" sh -c "\"$H2\" hpack decode --check < \"$STORIES/go-hpack/story_05.json\""

# encode | decode --check round trips, several table sizes, with and without Huffman.
for s in story_00 story_09 story_20 story_31; do
  for opts in "" "--table-size 256" "--table-size 0 --no-huffman" "--table-size 65536" "--no-huffman"; do
    # shellcheck disable=SC2086
    "$H2" hpack encode $opts "$STORIES/raw-data/$s.json" > "$tmp/enc.json" 2> "$tmp/err"
    rc=$?
    if [ "$rc" != 0 ]; then
      not_ok "encode $opts raw-data/$s" "exit $rc: $(head -c 300 "$tmp/err")"
      continue
    fi
    expect_success "encode $opts | decode --check raw-data/$s" "$H2" hpack decode --check "$tmp/enc.json"
  done
done

# Our encoding must decode with nghttp2's reference decoder too, when present
# (python3-h2's hpack package): a cross-implementation check.
if /usr/bin/python3 -c 'import hpack' 2>/dev/null; then
  "$H2" hpack encode "$STORIES/raw-data/story_12.json" > "$tmp/enc12.json" 2>/dev/null
  if /usr/bin/python3 - "$tmp/enc12.json" > "$tmp/py" 2>&1 <<'EOF'
import json, sys, hpack
story = json.load(open(sys.argv[1]))
d = hpack.Decoder()
d.max_allowed_table_size = 1 << 20
for c in story["cases"]:
    if c.get("header_table_size") is not None:
        d.max_allowed_table_size = c["header_table_size"]
    got = [(k, v) for k, v in d.decode(bytes.fromhex(c["wire"]))]
    want = [next(iter(h.items())) for h in c["headers"]]
    if got != want:
        sys.exit("seqno %d: %r != %r" % (c["seqno"], got[:3], want[:3]))
print("ok")
EOF
  then ok "python hpack decodes h2's encoding of raw-data/story_12"
  else not_ok "python hpack decodes h2's encoding of raw-data/story_12" "$(head -c 300 "$tmp/py")"
  fi
fi

# Bad input: clean failures.
printf '{"cases": [{"wire": "8286", "headers": [}' > "$tmp/garbage.json"
expect_failure "garbage JSON" "line 1, column" "$H2" hpack decode --check "$tmp/garbage.json"
head -c 5000 /dev/urandom > "$tmp/random.bin"
expect_failure "random bytes" "line " "$H2" hpack decode "$tmp/random.bin"
printf '{"cases": [{"seqno": 0, "wire": "828", "headers": []}]}' > "$tmp/oddhex.json"
expect_failure "truncated hex (odd digits)" "odd number of hex digits" "$H2" hpack decode "$tmp/oddhex.json"
# A valid hex string whose header block is cut short: a decoding error.
printf '{"cases": [{"seqno": 0, "wire": "8241", "headers": []}]}' > "$tmp/cut.json"
expect_failure "truncated header block" "seqno 0: decoding failed" "$H2" hpack decode "$tmp/cut.json"
f="$STORIES/go-hpack/story_30.json"
head -c $(($(wc -c < "$f") / 2)) "$f" > "$tmp/truncated.json"
expect_failure "truncated story file" "line " "$H2" hpack decode --check "$tmp/truncated.json"
expect_failure "missing file" "No such file" "$H2" hpack decode "$tmp/does-not-exist.json"
expect_failure "directory as file" "Is a directory" "$H2" hpack decode "$tmp"
expect_failure "empty stdin" "<stdin>" sh -c "\"$H2\" hpack decode < /dev/null"
expect_failure "raw-data has no wire" "no \"wire\"" "$H2" hpack decode "$STORIES/raw-data/story_00.json"
# A mismatch must name the case and the field.
sed 's/"yahoo.co.jp"/"yahoo.co.jq"/' "$STORIES/nghttp2-change-table-size/story_00.json" > "$tmp/mismatch.json"
expect_failure "mismatch names seqno and field" "seqno 0: field 2: expected" "$H2" hpack decode --check "$tmp/mismatch.json"
expect_failure "unknown option" "unknown option" "$H2" hpack decode --bogus
expect_failure "bad --table-size" "table-size needs a number" "$H2" hpack encode --table-size -5 "$STORIES/raw-data/story_00.json"
expect_failure "unknown subcommand" "unknown subcommand" "$H2" hpack frobnicate
expect_success "decode --help" "$H2" hpack decode --help
expect_success "encode --help" "$H2" hpack encode --help

echo "# $n tests, $failures failed"
[ "$failures" = 0 ]

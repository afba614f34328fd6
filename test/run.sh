#!/bin/sh
# run.sh: runs every test that `make test` built and prints one closing line,
# "N passed, N failed". Called by `make test` after the build.
#
#  - cmocka unit tests: $BUILD/test/test_*   (counted test by test)
#  - libc-only link check of libh2core.a: $BUILD/libc_check
#  - interop tests: test/interop/*.sh and test/interop/*.py, run with a time
#    limit; each prints TAP-style lines "ok - NAME" / "not ok - NAME" (counted
#    line by line), or, printing none, counts as one test by its exit status.
#  - valgrind: the session API and TLS unit tests once more under valgrind
#    memcheck (errors and definite leaks fail; VALGRIND_TESTS lists them).
#    ASan builds see the same bugs only with `make SANITIZE=1`; this pass
#    runs in every `make test` (it found a use-after-free the plain run
#    could not show).
#  - fuzz smoke: every $BUILD/fuzz/fuzz_* for FUZZ_SECONDS (default 20) on a
#    copy of fuzz/corpus/NAME, with fuzz/NAME.dict when present. On failure
#    the report's first 40 lines are printed and the crash input and log are
#    kept in $BUILD/fuzz-artifacts/ (fuzz_failed below).
set -u
BUILD=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
INTEROP_TIMEOUT=${INTEROP_TIMEOUT:-300}
ONLY=${ONLY:-}           # e.g. ONLY=unit, ONLY=valgrind, ONLY=interop, ONLY=fuzz
# Not here: test_api_server (its EMFILE test needs the descriptors valgrind
# reserves) and test_tls_alloc (allocation-failure loops, minutes under
# valgrind); both run under ASan with SANITIZE=1.
VALGRIND_TESTS=${VALGRIND_TESTS:-"test_api test_api_frameerr test_api_deadline test_api_state test_api_info test_api_extras test_api_connect test_api_compat test_api_file test_api_origin test_api_flush test_api_padding test_api_settings test_api_mem test_tls test_tls_peer test_tls_auth test_loop_tcp"}
export BUILD
export CMOCKA_MESSAGE_OUTPUT=stdout
pass=0
fail=0
failed_names=""
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

count() { # $1 = name, $2 = exit status
  if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); failed_names="$failed_names $1"; fi
}

if [ -z "$ONLY" ] || [ "$ONLY" = unit ]; then
  for t in "$BUILD"/test/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.d|*.o) continue ;; esac
    name=$(basename "$t")
    echo "== $name"
    timeout 600 "$t" > "$log/out" 2>&1
    rc=$?
    cat "$log/out"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log/out" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log/out" | tail -n 1)
    p=${p:-0}; f=${f:-0}
    if [ "$p" = 0 ] && [ "$f" = 0 ]; then f=1; fi       # crashed before its summary
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi     # non-zero exit counts once
    pass=$((pass + p)); fail=$((fail + f))
    [ "$f" = 0 ] || failed_names="$failed_names $name"
  done
  # Stack frames of the libraries: every build writes gcc's -fstack-usage
  # report (.su) beside each object. A library function must not need more
  # than STACK_LIMIT octets of stack or an unbounded (dynamic) frame: an
  # embedder may call it from a thread with a small stack.
  STACK_LIMIT=${STACK_LIMIT:-16384}
  su=$(ls "$BUILD"/obj/hpack/*.su "$BUILD"/obj/h2core/*.su "$BUILD"/obj/evloop/*.su \
         "$BUILD"/obj/tls/*.su "$BUILD"/obj/api/*.su 2>/dev/null)
  if [ -n "$su" ]; then
    echo "== stack_check (library frames at most $STACK_LIMIT octets, none unbounded)"
    big=$(cat $su | awk -F'\t' -v lim="$STACK_LIMIT" '$2 + 0 > lim || $3 == "dynamic" { print }')
    if [ -z "$big" ]; then
      echo "largest: $(cat $su | sort -t"$(printf '\t')" -k2 -n -r | head -n 1)"
      count stack_check 0
    else
      echo "$big"
      count stack_check 1
    fi
  fi
  if [ -x "$BUILD/libc_check" ]; then
    echo "== libc_check (libh2core.a links with libc only)"
    "$BUILD/libc_check"; count libc_check $?
  fi
fi

if [ -z "$ONLY" ] || [ "$ONLY" = valgrind ]; then
  if command -v valgrind > /dev/null 2>&1; then
    for name in $VALGRIND_TESTS; do
      t="$BUILD/test/$name"
      [ -x "$t" ] || continue
      echo "== valgrind $name"
      timeout 600 valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
        --error-exitcode=99 "$t" > "$log/out" 2>&1
      rc=$?
      if [ "$rc" != 0 ]; then
        grep -E '^==[0-9]+==' "$log/out" | head -n 40
        tail -n 5 "$log/out"
      fi
      count "valgrind:$name" "$rc"
    done
  else
    echo "== valgrind: not installed (scripts/deps.sh installs it)"
    count valgrind 1
  fi
fi

if [ -z "$ONLY" ] || [ "$ONLY" = interop ]; then
  for s in test/interop/*.sh test/interop/*.py; do
    [ -f "$s" ] || continue
    name=$(basename "$s")
    echo "== interop $name"
    case "$s" in
      *.py) timeout -k 10 "$INTEROP_TIMEOUT" /usr/bin/python3 "$s" > "$log/out" 2>&1 ;;
      *)    timeout -k 10 "$INTEROP_TIMEOUT" sh "$s" > "$log/out" 2>&1 ;;
    esac
    rc=$?
    cat "$log/out"
    p=$(grep -c '^ok ' "$log/out")
    f=$(grep -c '^not ok ' "$log/out")
    if [ "$p" = 0 ] && [ "$f" = 0 ]; then
      count "$name" "$rc"
    else
      if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
      pass=$((pass + p)); fail=$((fail + f))
      [ "$f" = 0 ] || failed_names="$failed_names $name"
    fi
  done
fi

# fuzz_failed NAME BINARY RC ARTDIR: the report of a failed fuzz run. The
# sanitizer/libFuzzer report from a few lines before its first line (the
# harness's own "check failed" line comes just before it), 40 lines; the
# final stats; the crash inputs and the whole log kept in $BUILD/fuzz-artifacts/
# with the command that replays them.
fuzz_failed() {
  keep="$BUILD/fuzz-artifacts"
  mkdir -p "$keep"
  first=$(grep -n -m 1 -E '^==[0-9]+== ?ERROR|ERROR: libFuzzer|ERROR: [A-Za-z]+Sanitizer|runtime error:|^check failed|^SUMMARY: ' \
    "$log/out" | cut -d: -f1)
  if [ "$3" = 124 ] || [ "$3" = 137 ]; then
    echo "-- $1: killed by timeout (exit $3); last lines:"
    tail -n 20 "$log/out"
  elif [ -n "$first" ]; then
    start=$((first > 3 ? first - 3 : 1))
    echo "-- $1: exit $3; report (log lines $start-$((start + 39))):"
    sed -n "${start},$((start + 39))p" "$log/out"
    tail -n "+$((start + 40))" "$log/out" | grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)'
  else
    echo "-- $1: exit $3, no sanitizer report found; last lines:"
    tail -n 40 "$log/out"
  fi
  cp "$log/out" "$keep/$1.log"
  echo "-- full log: $keep/$1.log"
  for a in "$4"/*; do
    [ -f "$a" ] || continue
    cp "$a" "$keep/$1-$(basename "$a")"
    echo "-- kept input: $keep/$1-$(basename "$a") (replay: $2 $keep/$1-$(basename "$a"))"
  done
}

if [ -z "$ONLY" ] || [ "$ONLY" = fuzz ]; then
  for fz in "$BUILD"/fuzz/fuzz_*; do
    [ -x "$fz" ] || continue
    case "$fz" in *.d|*.o) continue ;; esac
    name=$(basename "$fz")
    corpus="$log/corpus_$name"
    mkdir -p "$corpus"
    [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$corpus/"
    dict=""
    [ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
    # Per-target flags. fuzz_conn_client: inputs up to 64 KiB. Left alone,
    # libFuzzer takes its largest seed (240 KB) as the limit and its mutants
    # grow to that size (326 exec/s, cov 2107 after 20 s); at 64 KiB: 522-793
    # exec/s, cov 2162-2188. Every repro_* seed (48 KB at most) stays whole;
    # the truncated seeds lose one branch of what they cover (conn_flow.c).
    opts=""
    case "$name" in
      fuzz_conn_client) opts="-max_len=65536" ;;
    esac
    art="$log/art_$name"
    mkdir -p "$art"
    echo "== fuzz smoke $name (${FUZZ_SECONDS}s)"
    # shellcheck disable=SC2086
    timeout -k 10 $((FUZZ_SECONDS + 120)) "$fz" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$art/" $dict $opts "$corpus" > "$log/out" 2>&1
    rc=$?
    if [ "$rc" = 0 ]; then
      tail -n 12 "$log/out"
    else
      fuzz_failed "$name" "$fz" "$rc" "$art"
    fi
    count "fuzz:$name" "$rc"
  done
fi

echo
[ -z "$failed_names" ] || echo "failed:$failed_names"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

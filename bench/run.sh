#!/bin/sh
# run.sh: runs every benchmark `make bench` built ($BUILD/bench/bench_*) and
# every bench/*.sh script; each prints RESULT lines:
#   RESULT name=<figure> unit=<unit> ours=<v> <peer>=<v> better=<x>
set -u
BUILD=${BUILD:-build}
export BUILD
rc=0
for b in "$BUILD"/bench/bench_*; do
  [ -x "$b" ] || continue
  case "$b" in *.d|*.o) continue ;; esac
  echo "== $(basename "$b")"
  "$b" || rc=1
done
for s in bench/*.sh; do
  [ -f "$s" ] || continue
  [ "$(basename "$s")" = run.sh ] && continue
  echo "== $(basename "$s")"
  sh "$s" || rc=1
done
exit $rc

#!/bin/sh
# conn_python_h2.sh: the bare connection engine (h2_conn through
# $BUILD/tools/conn_peer, both roles) against Debian's Python h2 library;
# runs test/tools/conn_python_h2.py, which prints the TAP lines.
# Bounded to 90 s; every process it started (the tool, the conn_peer server
# and clients it spawns) lives in one process group that is killed at the end.
BUILD=${BUILD:-build}
PEER="$BUILD/tools/conn_peer"
TOOL="$(dirname "$0")/../tools/conn_python_h2.py"
[ -x "$PEER" ] || { echo "not ok - conn_python_h2 # $PEER not built (make test-build)"; exit 1; }
/usr/bin/python3 -c 'import h2.connection' 2> /dev/null ||
  { echo "not ok - conn_python_h2 # /usr/bin/python3 has no h2 module (python3-h2)"; exit 1; }
# GNU timeout makes itself the leader of a new process group and signals the
# whole group when the time is up; its pid is that group's id.
timeout -k 5 90 /usr/bin/python3 "$TOOL" "$PEER" &
pg=$!
wait "$pg"
rc=$?
kill -s KILL -- "-$pg" 2> /dev/null
[ "$rc" = 124 ] && echo "not ok - conn_python_h2 # timed out after 90 s"
exit "$rc"

#!/bin/sh
# e2e.sh: end-to-end benchmark of `h2 serve` against nghttpd, h2o and Node's
# http2 server, all started here on free 127.0.0.1 ports, each server pinned
# to core 0 and the load generator (h2load) to core 1.
#
# Figures (one RESULT line per peer, measured in this run):
#   e2e.{h2c,tls}.c100m100.cpu_per_req   server CPU time (utime+stime from
#   e2e.{h2c,tls}.c10m10.cpu_per_req     /proc/PID/stat) per request, 13-byte body
#   e2e.download                         100 MiB single-stream h2c download
#                                        (vs a plain TCP pump, bench/e2e/pump.c;
#                                        medians of E2E_DL_REPEAT rounds; also
#                                        vs the pump reading the same file)
#   e2e.idle_rss_per_conn                VmRSS growth per idle h2c connection,
#                                        1,000 connections after one request each
# req/s and MiB/s are printed beside each figure on INFO lines.
#
# Environment: BUILD (default build), E2E_SECONDS (default 3: each load run
# is timed, h2load -D, so that the 10 ms tick of /proc/PID/stat is small
# against the CPU time measured),
# E2E_REPEAT (default 3; the best run counts), E2E_DL_REPEAT (download
# rounds, default 9), E2E_CONNS (default 1000),
# E2E_SERVERS (default "ours nghttpd h2o node"), E2E_PARTS (default
# "cpu download rss"). Needs h2load, nghttpd, h2o, node, openssl, python3.
set -u
BUILD=${BUILD:-build}
H2BIN=${H2BIN:-$BUILD/h2}
SECS=${E2E_SECONDS:-3}
REPEAT=${E2E_REPEAT:-3}
NCONNS=${E2E_CONNS:-1000}
SERVERS=${E2E_SERVERS:-ours nghttpd h2o node}
PARTS=${E2E_PARTS:-cpu download rss}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
CLK_TCK=$(getconf CLK_TCK)
BIG_BYTES=104857600

tmp=$(mktemp -d /tmp/h2e2e.XXXXXX)
chmod 755 "$tmp"
SPID=""
ALLPIDS=""  # servers kept running side by side (part_cpu)
cleanup() {
  for p in $SPID $ALLPIDS; do kill "$p" 2>/dev/null; done
  exec 3>&- 2>/dev/null
  sleep 0.2
  for p in $SPID $ALLPIDS; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

have() { command -v "$1" >/dev/null 2>&1; }
for t in h2load taskset; do have "$t" || { echo "e2e: $t not installed"; exit 1; }; done

free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() { # $1 port; waits up to 10 s for a listener
  $PY - "$1" <<'EOF'
import socket, sys, time
end = time.time() + 10
while time.time() < end:
    try:
        socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}
cpu_ticks() { # utime+stime of $1 in clock ticks (fields after the ')' of comm)
  sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a + 0 == 0 || a == "missing" || b == "missing") print "missing"; else printf "%.2f\n", b / a }'; }

# ---- content: a 13-byte body, a 100 MiB file, a TLS key pair ----------------
doc="$tmp/www"
mkdir -p "$doc"
printf 'Hello, h2!!\r\n' > "$doc/small"   # 13 bytes
printf 'index\n' > "$doc/index.html"
case " $PARTS " in *" download "*) head -c "$BIG_BYTES" /dev/urandom > "$doc/big" ;; esac
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=localhost -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1 ||
  { echo "e2e: openssl could not make a certificate"; exit 1; }
chmod 644 "$tmp/key.pem"

# ---- servers ----------------------------------------------------------------
# start_server NAME MODE(h2c|tls): sets SPID and PORT, returns 1 if it fails.
start_server() {
  PORT=$(free_port)
  SPID=""
  log="$tmp/$1.$2.log"
  case "$1" in
    ours)
      [ -x "$H2BIN" ] || return 1
      if [ "$2" = tls ]; then
        taskset -c 0 "$H2BIN" serve "$doc" --bind 127.0.0.1 --port "$PORT" --quiet \
          --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" > "$log" 2>&1 &
      else
        taskset -c 0 "$H2BIN" serve "$doc" --bind 127.0.0.1 --port "$PORT" --quiet --h2c > "$log" 2>&1 &
      fi
      SPID=$! ;;
    nghttpd)
      have nghttpd || return 1
      if [ "$2" = tls ]; then
        taskset -c 0 nghttpd -d "$doc" --address=127.0.0.1 "$PORT" "$tmp/key.pem" "$tmp/cert.pem" > "$log" 2>&1 &
      else
        taskset -c 0 nghttpd --no-tls -d "$doc" --address=127.0.0.1 "$PORT" > "$log" 2>&1 &
      fi
      SPID=$! ;;
    h2o)
      have h2o || return 1
      conf="$tmp/h2o.$2.conf"
      {
        echo "user: root"
        echo "num-threads: 1"
        echo "max-connections: 20000"
        echo "error-log: $tmp/h2o.$2.err"
        echo "listen:"
        echo "  port: $PORT"
        echo "  host: 127.0.0.1"
        if [ "$2" = tls ]; then
          echo "  ssl:"
          echo "    certificate-file: $tmp/cert.pem"
          echo "    key-file: $tmp/key.pem"
        fi
        echo "hosts:"
        echo "  \"default\":"
        echo "    paths:"
        echo "      \"/\":"
        echo "        file.dir: $doc"
      } > "$conf"
      taskset -c 0 h2o -c "$conf" > "$log" 2>&1 &
      SPID=$! ;;
    node)
      # Loaded in count mode, not timed mode: see run_load. Node 20's libuv
      # (>= 1.45) accepts one connection per loop iteration, so under load
      # the last TLS handshakes finish seconds late (h2load connect max
      # 10-12 s), and h2load 1.52 never stops clients that connect after
      # its -D window: a timed run against Node never ends.
      have node || return 1
      if [ "$2" = tls ]; then
        taskset -c 0 node "$HERE/e2e/node_server.js" "$PORT" "$doc" "$tmp/key.pem" "$tmp/cert.pem" > "$log" 2>&1 &
      else
        taskset -c 0 node "$HERE/e2e/node_server.js" "$PORT" "$doc" > "$log" 2>&1 &
      fi
      SPID=$! ;;
    *) return 1 ;;
  esac
  if ! wait_port "$PORT" || ! kill -0 "$SPID" 2>/dev/null; then
    stop_server
    return 1
  fi
  # The server must answer a request before it counts as up.
  if [ "$2" = tls ]; then url="https://127.0.0.1:$PORT/small"; else url="http://127.0.0.1:$PORT/small"; fi
  if ! timeout 10 h2load -n 1 -c 1 "$url" 2>/dev/null | grep -q '1 succeeded'; then
    stop_server
    return 1
  fi
  return 0
}
stop_server() {
  if [ -n "$SPID" ]; then
    kill "$SPID" 2>/dev/null
    i=0
    while kill -0 "$SPID" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
  fi
  SPID=""
}

# ---- CPU per request --------------------------------------------------------
# run_load URL C M: one timed h2load run; prints "cpu_us_per_req req_per_s mib_per_s"
# or "missing" when any request failed.
# Node runs in count mode (-n, about SECS seconds of its usual rate): its
# libuv accepts one connection per loop iteration, so at -c100 some TLS
# handshakes finish seconds late, and h2load 1.52 never stops the clients
# that connected after a -D window ends (the run never finishes). The figure
# is the same either way: server CPU over the run / requests answered.
run_load() { # URL C M [SERVER]
  if [ "${4:-}" = node ]; then span="-n $((SECS * 20000))"; else span="-D $SECS"; fi
  before=$(cpu_ticks "$SPID")
  # shellcheck disable=SC2086
  timeout $((SECS + 60)) taskset -c 1 h2load $span -c "$2" -m "$3" -t 1 "$1" > "$tmp/h2load.out" 2>&1
  after=$(cpu_ticks "$SPID")
  awk -v b="$before" -v a="$after" -v hz="$CLK_TCK" '
    /^requests:/ { done = $6 + 0; ok = $8 + 0; failed = $10 + 0 }
    /^finished in/ { t = $3; if (t ~ /ms,$/) secs = t / 1000; else if (t ~ /us,$/) secs = t / 1e6; else secs = t + 0 }
    /^traffic:/ { gsub(/[()]/, "", $3); bytes = $3 + 0 }
    END {
      # A timed run may end with a few requests cut off; more than 1% is a failure.
      if (ok == 0 || failed * 100 > done || secs <= 0 || b == "" || a == "") { print "missing"; exit }
      printf "%.2f %.0f %.1f\n", (a - b) * 1e6 / hz / ok, ok / secs, bytes / 1048576 / secs
    }' "$tmp/h2load.out"
}
# The servers of one mode run side by side (idle ones cost nothing) and the
# REPEAT runs go round-robin over them: ours, h2o, ..., ours, h2o, ... so a
# burst of load from elsewhere on the machine hits every server alike instead
# of the one whose turn it was. The best (lowest CPU/req) run of each counts.
part_cpu() {
  for mode in h2c tls; do
    scheme=http; [ "$mode" = tls ] && scheme=https
    up=""
    for s in $SERVERS; do
      if start_server "$s" "$mode"; then
        eval "pid_$s=\$SPID; port_$s=\$PORT"
        ALLPIDS="$ALLPIDS $SPID"
        up="$up $s"
      fi
      SPID=""
    done
    for cm in "100 100" "10 10"; do
      c=${cm% *}; m=${cm#* }
      fig="e2e.$mode.c${c}m${m}.cpu_per_req"
      for s in $SERVERS; do eval "best_$s=missing"; done
      r=0
      while [ $r -lt "$REPEAT" ]; do
        for s in $up; do
          eval "SPID=\$pid_$s; PORT=\$port_$s"
          res=$(run_load "$scheme://127.0.0.1:$PORT/small" "$c" "$m" "$s")
          eval "best=\$best_$s"
          if [ "$res" != missing ]; then
            if [ "$best" = missing ] || awk -v x="${res%% *}" -v y="${best%% *}" 'BEGIN { exit !(x < y) }'; then
              eval "best_$s=\$res"
            fi
          fi
        done
        r=$((r + 1))
      done
      SPID=""
      for s in $SERVERS; do
        eval "res=\$best_$s"
        eval "cpu_$s=\${res%% *}"
        [ "$res" = missing ] && echo "INFO $fig server=$s missing" ||
          echo "INFO $fig server=$s cpu_us_per_req=$(echo "$res" | cut -d' ' -f1) req_per_s=$(echo "$res" | cut -d' ' -f2) MiB_per_s=$(echo "$res" | cut -d' ' -f3)"
      done
      ours=${cpu_ours:-missing}
      first=1
      for s in $SERVERS; do
        [ "$s" = ours ] && continue
        eval "peer=\${cpu_$s:-missing}"
        if [ $first = 1 ]; then name=$fig; first=0; else name="$fig.vs_$s"; fi
        echo "RESULT name=$name unit=us ours=$ours $s=$peer better=$(ratio "$ours" "$peer")"
      done
    done
    for s in $up; do
      eval "SPID=\$pid_$s"
      stop_server
    done
    ALLPIDS=""
  done
}

# ---- download ---------------------------------------------------------------
# download_once URL: MiB/s of one single-stream download of /big, or missing.
download_once() {
  timeout 60 taskset -c 1 h2load -n 1 -c 1 -m 1 "$1" > "$tmp/dl.out" 2>&1
  awk -v want="$BIG_BYTES" '
    /^requests:/ { ok = $10 + 0 == 0 && $8 + 0 == 1 }
    /^finished in/ { t = $3; if (t ~ /ms,$/) secs = t / 1000; else if (t ~ /us,$/) secs = t / 1e6; else secs = t + 0 }
    /^traffic:/ { gsub(/[()]/, "", $3); bytes = $3 + 0 }
    END { if (!ok || secs <= 0 || bytes < want) print "missing"; else printf "%.1f\n", want / 1048576 / secs }' "$tmp/dl.out"
}

# pump_once [FILE]: MiB/s of one plain TCP transfer of BIG_BYTES from memory
# (or of FILE, read with pread: the file pump), or missing; adds the pump
# server's CPU time (ms, its own report) to pump_ms (fpump_ms for a file).
pump_once() {
  : > "$tmp/pump.port"
  if [ $# -gt 0 ]; then
    taskset -c 0 "$pump" serve-file "$1" > "$tmp/pump.port" 2> "$tmp/pump.err" &
  else
    taskset -c 0 "$pump" serve "$BIG_BYTES" > "$tmp/pump.port" 2> "$tmp/pump.err" &
  fi
  ppid=$!
  i=0
  while [ ! -s "$tmp/pump.port" ] && [ $i -lt 50 ]; do sleep 0.05; i=$((i + 1)); done
  v=$(timeout 30 taskset -c 1 "$pump" fetch "$(cat "$tmp/pump.port")" | sed -n 's/.*mib_per_s=//p')
  wait "$ppid" 2>/dev/null
  t=$(sed -n 's/^cpu_ms=//p' "$tmp/pump.err")
  if [ $# -gt 0 ]; then
    [ -n "$t" ] && fpump_ms=$(awk -v a="$fpump_ms" -v b="$t" 'BEGIN { print a + b }')
  else
    [ -n "$t" ] && pump_ms=$(awk -v a="$pump_ms" -v b="$t" 'BEGIN { print a + b }')
  fi
  echo "${v:-missing}"
}

# h2pump_once [FILE]: MiB/s of one h2load download (download_once) from the
# pump speaking HTTP/2 (serve-h2: from memory; serve-h2-file FILE), or
# missing. Measured by the same client as the servers: h2load's own ceiling.
h2pump_once() {
  : > "$tmp/pump.port"
  if [ $# -gt 0 ]; then
    taskset -c 0 "$pump" serve-h2-file "$1" > "$tmp/pump.port" 2> "$tmp/pump.err" &
  else
    taskset -c 0 "$pump" serve-h2 "$BIG_BYTES" > "$tmp/pump.port" 2> "$tmp/pump.err" &
  fi
  ppid=$!
  i=0
  while [ ! -s "$tmp/pump.port" ] && [ $i -lt 50 ]; do sleep 0.05; i=$((i + 1)); done
  v=missing
  [ -s "$tmp/pump.port" ] && v=$(download_once "http://127.0.0.1:$(cat "$tmp/pump.port")/big")
  wait "$ppid" 2>/dev/null
  echo "$v"
}

# median FILE: the median of the numbers in FILE (one per line; "missing"
# lines skipped), or missing.
median() {
  grep -v missing "$1" 2>/dev/null | sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) print "missing";
    else if (NR % 2) printf "%.1f\n", v[(NR + 1) / 2];
    else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# keep_best VAR VALUE: VAR = the larger of its value and VALUE (missing loses).
keep_best() {
  eval "cur=\$$1"
  [ "$2" = missing ] && return
  if [ "$cur" = missing ] || awk -v x="$2" -v y="$cur" 'BEGIN { exit !(x > y) }'; then eval "$1=\$2"; fi
}

# The servers run side by side; each round times the pump and then one
# download from each server, so the pump and the servers see the same
# outside load (a download lasts a fraction of a second: a burst of other
# work on the machine shows up as a slow run). Every server first serves one
# untimed download (buffers, page cache). The RESULT lines compare the
# MEDIAN of DL_REPEAT rounds: on this 2-core VM one transfer of the same
# program varies up to 2x from round to round, for the pump as for the
# servers, and a best-of-N ratio then mostly compares two lucky rounds. The
# best of each and every round's value are on the INFO lines.
DL_REPEAT=${E2E_DL_REPEAT:-9}
part_download() {
  pump="$tmp/pump"
  cc -O2 -o "$pump" "$HERE/e2e/pump.c" || { echo "e2e: cannot build pump.c"; return; }
  up=""
  for s in $SERVERS; do
    eval "dl_$s=missing"
    if start_server "$s" h2c; then
      eval "pid_$s=\$SPID; port_$s=\$PORT"
      ALLPIDS="$ALLPIDS $SPID"
      up="$up $s"
      download_once "http://127.0.0.1:$PORT/big" > /dev/null
    fi
    SPID=""
  done
  best_pump=missing
  best_fpump=missing
  pump_ms=0
  fpump_ms=0
  rm -f "$tmp"/dl.*.list
  for s in $up; do eval "ticks_$s=0"; done
  r=0
  while [ $r -lt "$DL_REPEAT" ]; do
    pump_once > "$tmp/pump.v"  # not in a subshell: pump_ms adds up here
    keep_best best_pump "$(cat "$tmp/pump.v")"
    cat "$tmp/pump.v" >> "$tmp/dl.pump.list"
    pump_once "$doc/big" > "$tmp/pump.v"
    keep_best best_fpump "$(cat "$tmp/pump.v")"
    cat "$tmp/pump.v" >> "$tmp/dl.fpump.list"
    h2pump_once >> "$tmp/dl.h2pump.list"
    h2pump_once "$doc/big" >> "$tmp/dl.h2fpump.list"
    for s in $up; do
      eval "PORT=\$port_$s; SPID=\$pid_$s"
      b=$(cpu_ticks "$SPID")
      download_once "http://127.0.0.1:$PORT/big" > "$tmp/dl.v"
      cat "$tmp/dl.v" >> "$tmp/dl.$s.list"
      keep_best "dl_$s" "$(cat "$tmp/dl.v")"
      a=$(cpu_ticks "$SPID")
      [ -n "$a" ] && [ -n "$b" ] && eval "ticks_$s=\$((ticks_$s + a - b))"
    done
    SPID=""
    r=$((r + 1))
  done
  for s in $up; do
    eval "SPID=\$pid_$s"
    stop_server
  done
  ALLPIDS=""
  # Server CPU per 100 MiB sent, over all timed rounds (10 ms ticks).
  per100() { awk -v t="$1" -v n="$DL_REPEAT" -v b="$BIG_BYTES" 'BEGIN { printf "%.0f", t / n * 104857600 / b }'; }
  med_pump=$(median "$tmp/dl.pump.list")
  echo "INFO e2e.download server=tcp_pump median_MiB_per_s=$med_pump best_MiB_per_s=$best_pump server_cpu_ms_per_100MiB=$(per100 "$pump_ms") rounds=$(tr '\n' ' ' < "$tmp/dl.pump.list")"
  med_fpump=$(median "$tmp/dl.fpump.list")
  echo "INFO e2e.download server=tcp_file_pump median_MiB_per_s=$med_fpump best_MiB_per_s=$best_fpump server_cpu_ms_per_100MiB=$(per100 "$fpump_ms") rounds=$(tr '\n' ' ' < "$tmp/dl.fpump.list")"
  med_h2pump=$(median "$tmp/dl.h2pump.list")
  med_h2fpump=$(median "$tmp/dl.h2fpump.list")
  echo "INFO e2e.download server=h2load_mem_pump median_MiB_per_s=$med_h2pump rounds=$(tr '\n' ' ' < "$tmp/dl.h2pump.list")"
  echo "INFO e2e.download server=h2load_file_pump median_MiB_per_s=$med_h2fpump rounds=$(tr '\n' ' ' < "$tmp/dl.h2fpump.list")"
  for s in $SERVERS; do
    eval "v=\$dl_$s; t=\${ticks_$s:-}"
    m=$(median "$tmp/dl.$s.list")
    eval "med_$s=\$m"
    echo "INFO e2e.download server=$s median_MiB_per_s=$m best_MiB_per_s=$v server_cpu_ms_per_100MiB=$([ -n "$t" ] && per100 "$(awk -v t="$t" -v hz="$CLK_TCK" 'BEGIN { print t * 1000 / hz }')" || echo missing) rounds=$(tr '\n' ' ' < "$tmp/dl.$s.list" 2>/dev/null)"
  done
  [ "${dl_ours:-missing}" != missing ] && [ "$best_pump" != missing ] &&
    echo "INFO e2e.download best_of_$DL_REPEAT ours/tcp_pump=$(awk -v a="$dl_ours" -v b="$best_pump" 'BEGIN { printf "%.2f\n", a / b }')"
  ours=${med_ours:-missing}
  better=missing
  [ "$ours" != missing ] && [ "$med_pump" != missing ] &&
    better=$(awk -v a="$ours" -v b="$med_pump" 'BEGIN { printf "%.2f\n", a / b }')
  echo "RESULT name=e2e.download unit=MiB/s ours=$ours tcp_pump=$med_pump better=$better"
  better=missing
  [ "$ours" != missing ] && [ "$med_fpump" != missing ] &&
    better=$(awk -v a="$ours" -v b="$med_fpump" 'BEGIN { printf "%.2f\n", a / b }')
  echo "RESULT name=e2e.download.vs_tcp_file_pump unit=MiB/s ours=$ours tcp_file_pump=$med_fpump better=$better"
  for ref in h2pump:h2load_mem_pump h2fpump:h2load_file_pump; do
    eval "peer=\$med_${ref%%:*}"
    better=missing
    [ "$ours" != missing ] && [ "$peer" != missing ] &&
      better=$(awk -v a="$ours" -v b="$peer" 'BEGIN { printf "%.2f\n", a / b }')
    echo "RESULT name=e2e.download.vs_${ref#*:} unit=MiB/s ours=$ours ${ref#*:}=$peer better=$better"
  done
  for s in $SERVERS; do
    [ "$s" = ours ] && continue
    eval "peer=\${med_$s:-missing}"
    better=missing
    [ "$ours" != missing ] && [ "$peer" != missing ] &&
      better=$(awk -v a="$ours" -v b="$peer" 'BEGIN { printf "%.2f\n", a / b }')
    echo "RESULT name=e2e.download.vs_$s unit=MiB/s ours=$ours $s=$peer better=$better"
  done
}

# ---- idle-connection memory ---------------------------------------------------
# idle_rss: KiB of VmRSS growth per idle connection for the running server.
idle_rss() {
  # Warm-up: one connection, one request, closed; then the baseline.
  timeout 20 $PY "$HERE/e2e/idle_conns.py" "$PORT" 1 /small 10 < /dev/null > /dev/null 2>&1 || { echo missing; return; }
  sleep 0.2
  base=$(rss_kib "$SPID")
  rm -f "$tmp/hold" "$tmp/idle.out"
  mkfifo "$tmp/hold"
  timeout 90 $PY "$HERE/e2e/idle_conns.py" "$PORT" "$NCONNS" /small 80 < "$tmp/hold" > "$tmp/idle.out" 2>&1 &
  cpid=$!
  exec 3> "$tmp/hold"
  i=0
  while ! grep -q '^ready' "$tmp/idle.out" 2>/dev/null && kill -0 "$cpid" 2>/dev/null && [ $i -lt 800 ]; do
    sleep 0.1; i=$((i + 1))
  done
  sleep 0.3
  if grep -q "^ready $NCONNS" "$tmp/idle.out"; then
    now=$(rss_kib "$SPID")
    awk -v a="$base" -v b="$now" -v n="$NCONNS" 'BEGIN { printf "%.2f\n", (b - a) / n }'
  else
    echo missing
  fi
  exec 3>&-
  wait "$cpid" 2>/dev/null
}

part_rss() {
  for s in $SERVERS; do
    [ "$s" = node ] && continue
    if start_server "$s" h2c; then
      v=$(idle_rss)
      stop_server
    else
      v=missing
    fi
    eval "rss_$s=\$v"
    echo "INFO e2e.idle_rss_per_conn server=$s KiB_per_conn=$v conns=$NCONNS"
  done
  ours=${rss_ours:-missing}
  first=1
  for s in $SERVERS; do
    [ "$s" = ours ] || [ "$s" = node ] && continue
    eval "peer=\${rss_$s:-missing}"
    if [ $first = 1 ]; then name=e2e.idle_rss_per_conn; first=0; else name="e2e.idle_rss_per_conn.vs_$s"; fi
    echo "RESULT name=$name unit=KiB ours=$ours $s=$peer better=$(ratio "$ours" "$peer")"
  done
}

for p in $PARTS; do
  case "$p" in
    cpu) part_cpu ;;
    download) part_download ;;
    rss) part_rss ;;
    *) echo "e2e: unknown part $p" ;;
  esac
done
exit 0

#!/bin/sh
# deps.sh: install, through apt-get, only the Debian packages h2 needs that are
# missing. `make test`, `make run`, `make fuzz` and `make bench` call it first.
# Safe to run again: it does nothing when everything is installed.
set -eu

PKGS="
build-essential
pkg-config
clang
libclang-rt-14-dev
libcmocka-dev
android-libboringssl-dev
openssl
curl
nghttp2-client
nghttp2-server
libnghttp2-dev
python3
python3-h2
nodejs
h2o
valgrind
chromium
"

missing=""
for p in $PKGS; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$st" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
  esac
done
# node may come from outside Debian (a newer install on PATH); accept any node.
case " $missing " in
  *" nodejs "*) if command -v node >/dev/null 2>&1; then missing=$(echo "$missing" | sed 's/ nodejs//'); fi ;;
esac

[ -z "$(echo "$missing" | tr -d ' ')" ] && exit 0

echo "deps.sh: installing missing Debian packages:$missing"
if [ "$(id -u)" = 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "deps.sh: these Debian packages are missing:$missing" >&2
  echo "deps.sh: not root and no password-less sudo; install them as root with:" >&2
  echo "    sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
# Debian's h2o package starts a system service on :80/:443 where an init
# system runs; our benchmarks start their own h2o, so stop that one if it runs.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl stop h2o >/dev/null 2>&1 || true; fi
echo "deps.sh: done"

#!/usr/bin/env bash
# setup.sh: install what faultline needs on Debian 12 (as root), build the bundled workload,
# then run one thing:
#   bash setup.sh demo   trace the bundled workload, print the histograms, write out/demo.*
#   bash setup.sh test   run the checks (fmt, lint, types, docs) and the whole test suite
#   bash setup.sh        only install and build
# It is safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")"

log() { printf 'setup: %s\n' "$*" >&2; }

# Debian packages: bpftrace (one engine), libbpf1 (the other), clang + libc6-dev + libbpf-dev
# (build the workload and the BPF object), linux-perf and
# strace (the kernel's own counters the tests compare against), tmux (a real terminal for the
# live view's tests), chromium (loads the HTML report headless in its tests), prometheus (a real
# server and promtool for the metrics tests), nodejs + npm (to fetch
# Deno from npm). util-linux (setpriv, taskset) is essential and always present.
need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in bpftrace clang libc6-dev libbpf-dev bpftool linux-perf strace tmux chromium prometheus libbpf1 ca-certificates; do
  have_pkg "$pkg" || need+=("$pkg")
done
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing packages: ${need[*]}; run this as root (or sudo apt-get install ${need[*]})"
    exit 1
  fi
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Deno, pinned in package.json and package-lock.json, from the npm registry.
if [ ! -x node_modules/.bin/deno ] || ! node_modules/.bin/deno --version >/dev/null 2>&1; then
  log "installing Deno from npm"
  npm ci --no-audit --no-fund --loglevel=error
fi
deno=node_modules/.bin/deno
# `deno` on PATH (root only), so the README's commands work as written.
if ! command -v deno >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  ln -sf "$PWD/$deno" /usr/local/bin/deno
  log "linked /usr/local/bin/deno to $deno"
fi
# npm: dependencies, checked against deno.lock.
"$deno" cache --frozen --quiet mod.ts trace.ts html.ts

# tracefs, where the tracepoints live.
if [ ! -d /sys/kernel/tracing/events ]; then
  if [ "$(id -u)" = 0 ]; then
    log "mounting tracefs on /sys/kernel/tracing"
    mount -t tracefs nodev /sys/kernel/tracing
  else
    log "tracefs is not mounted; as root: mount -t tracefs nodev /sys/kernel/tracing"
  fi
fi

bash scripts/build.sh

case "${1:-}" in
  demo) mkdir -p out && exec "$deno" task demo ;;
  test) "$deno" task check && exec "$deno" task test ;;
  "") ;;
  *) log "unknown action \"$1\"; use demo or test"; exit 2 ;;
esac

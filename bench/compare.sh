#!/usr/bin/env bash
# Spate against kinesalite, side by side, with `spate bench`.
#
# Usage: bench/compare.sh [--duration 10s] [--runs 3] [--write]
#   --duration D  length of each run (also SPATE_BENCH_DURATION; default 10s)
#   --runs N      runs per workload and server (also SPATE_BENCH_RUNS; default 3)
#   --write       append the Markdown section to bench/RESULTS.md
#
# It installs kinesalite from npm into ${SPATE_BENCH_CACHE:-$HOME/.cache/spate-bench} if it is
# missing (outside the clone; leveldown is built from source with node-gyp if its prebuilt
# binary does not load), builds spate in release (CARGO_TARGET_DIR is honoured), starts
# `spate serve --quotas off` (default fsync durability, a fresh data directory) and kinesalite
# (in memory) on free loopback ports, then runs each workload against both servers in
# alternation, each run on a fresh 4-shard stream:
#   put-records     100 records x 100 bytes per call, 64 connections
#   put-record      1 KiB records, 64 connections
#   get-latency     4 connections at 1000 records/s, GetRecords polled every 10 ms
#   fanout-latency  4 connections at 1000 records/s, SubscribeToShard (Spate only)
# The server not under test is paused (SIGSTOP) during each run, so neither's background work
# takes CPU from the other's measurement.
# Each server's CPU time (utime + stime, /proc/PID/stat) is sampled before and after every run;
# peak RSS is VmHWM from /proc/PID/status at the end. bench/compare_report.py prints the
# medians and the ratio Spate/kinesalite. Both servers are killed on exit, failed or not.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${SPATE_BENCH_CACHE:-$HOME/.cache/spate-bench}"
duration="${SPATE_BENCH_DURATION:-10s}"
runs="${SPATE_BENCH_RUNS:-3}"
write=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --write) write=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

work="$(mktemp -d "${TMPDIR:-/tmp}/spate-compare.XXXXXX")"
spate_pid=""
kinesalite_pid=""
cleanup() {
  for pid in $spate_pid $kinesalite_pid; do
    kill -CONT "$pid" 2>/dev/null || true # it may be paused (below)
    kill "$pid" 2>/dev/null || true
  done
  for pid in $spate_pid $kinesalite_pid; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work/spate-data"
  echo "compare.sh: logs and raw results in $work" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "compare.sh: $*" >&2; }

# --- kinesalite, from npm, outside the clone --------------------------------------------------
kinesalite_dir="$cache/kinesalite"
kinesalite_bin="$kinesalite_dir/node_modules/kinesalite/cli.js"
leveldown_loads() {
  (cd "$kinesalite_dir" && node -e "require('leveldown')") >/dev/null 2>&1
}
install_kinesalite() {
  mkdir -p "$kinesalite_dir"
  # npm 11 will not install into a prefix without a package.json.
  [[ -f $kinesalite_dir/package.json ]] ||
    echo '{"name": "spate-bench-kinesalite", "private": true}' >"$kinesalite_dir/package.json"
  if [[ ! -f $kinesalite_bin ]]; then
    log "installing kinesalite into $kinesalite_dir"
    npm install --prefix "$kinesalite_dir" --no-audit --no-fund kinesalite >&2
  fi
  if ! leveldown_loads; then
    # No prebuilt binary for this machine (or its download failed, on a closed network):
    # build leveldown from source with node-gyp, python3 and g++. With the node headers
    # installed (/usr/include/node), --nodedir keeps node-gyp from downloading them.
    log "leveldown's prebuilt binary does not load here: building it from source"
    local gyp
    gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
    local gyp_args=(rebuild --python="$(command -v python3)" -j "$(nproc)")
    local nodedir
    nodedir="$(dirname "$(dirname "$(command -v node)")")"
    [[ -f $nodedir/include/node/node.h ]] && gyp_args+=(--nodedir="$nodedir")
    if [[ -f $gyp ]]; then
      (cd "$kinesalite_dir/node_modules/leveldown" && node "$gyp" "${gyp_args[@]}") >&2
    else
      (cd "$kinesalite_dir/node_modules/leveldown" && npx --yes node-gyp "${gyp_args[@]}") >&2
    fi
    leveldown_loads || { log "leveldown still does not load"; exit 1; }
  fi
}
install_kinesalite

# --- spate, release --------------------------------------------------------------------------
log "building spate (release)"
(cd "$repo" && cargo build --release -p spate >&2)
spate="${CARGO_TARGET_DIR:-$repo/target}/release/spate"
[[ -n ${CARGO_TARGET_DIR:-} && $CARGO_TARGET_DIR != /* ]] && spate="$repo/$spate"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_for_port() {
  local port="$1" pid="$2" name="$3"
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { log "$name exited; see $work/$name.log"; exit 1; }
    sleep 0.05
  done
  log "$name is not listening on $port after 10 s"
  exit 1
}

spate_port="$(free_port)"
mkdir -p "$work/spate-data"
"$spate" serve --listen "127.0.0.1:$spate_port" --data-dir "$work/spate-data" --quotas off \
  >"$work/spate.log" 2>&1 &
spate_pid=$!
wait_for_port "$spate_port" "$spate_pid" spate

# In memory (no --path): kinesalite's default and its fastest mode. A huge shard limit, since
# every run creates a fresh 4-shard stream.
kinesalite_port="$(free_port)"
node "$kinesalite_bin" --port "$kinesalite_port" --createStreamMs 5 --deleteStreamMs 5 \
  --updateStreamMs 5 --shardLimit 100000 >"$work/kinesalite.log" 2>&1 &
kinesalite_pid=$!
wait_for_port "$kinesalite_port" "$kinesalite_pid" kinesalite
log "spate on $spate_port (pid $spate_pid), kinesalite on $kinesalite_port (pid $kinesalite_pid)"

clk_tck="$(getconf CLK_TCK)"
# CPU seconds (user + system) a process has used so far; fields 14 and 15 of /proc/PID/stat,
# counted after the command name, which may hold spaces.
cpu_secs() {
  local stat rest
  stat="$(<"/proc/$1/stat")"
  rest="${stat##*) }"
  read -r -a fields <<<"$rest"
  echo "$(( fields[11] + fields[12] )) $clk_tck" | awk '{ printf "%.4f", $1 / $2 }'
}

workload_args() {
  case "$1" in
    put-records) echo "put-records --records-per-call 100 --record-size 100 --connections 64" ;;
    put-record) echo "put-record --record-size 1KiB --connections 64" ;;
    get-latency) echo "get-latency --connections 4 --rate 1000 --poll-interval 10ms" ;;
    fanout-latency) echo "fanout-latency --connections 4 --rate 1000" ;;
  esac
}

# Other work on the machine skews every figure: the load average goes into the report.
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
: >"$work/runs.jsonl"
for workload in put-records put-record get-latency fanout-latency; do
  for run in $(seq 1 "$runs"); do
    for server in spate kinesalite; do
      if [[ $server == kinesalite && $workload == fanout-latency ]]; then
        continue # kinesalite has no SubscribeToShard
      fi
      if [[ $server == spate ]]; then
        port=$spate_port pid=$spate_pid other=$kinesalite_pid
      else
        port=$kinesalite_port pid=$kinesalite_pid other=$spate_pid
      fi
      # The server not under test is paused (SIGSTOP) for the run, so its background work
      # (kinesalite's garbage collector over the records of earlier runs, Spate's sealing)
      # does not take CPU from the one being measured on a small machine.
      kill -STOP "$other"
      stream="$workload-$server-$run-$RANDOM"
      log "$workload run $run on $server"
      before="$(cpu_secs "$pid")"
      # shellcheck disable=SC2046 # the workload's arguments are split on purpose
      "$spate" bench $(workload_args "$workload") --endpoint "http://127.0.0.1:$port" \
        --stream "$stream" --create-shards 4 --duration "$duration" --json \
        >"$work/$workload.$server.$run.json" 2>>"$work/bench.log"
      after="$(cpu_secs "$pid")"
      kill -CONT "$other"
      python3 -c '
import json, sys
server, workload, run, before, after, path = sys.argv[1:]
print(json.dumps({"server": server, "workload": workload, "run": int(run),
                  "cpu_secs": float(after) - float(before),
                  "report": json.load(open(path))}))' \
        "$server" "$workload" "$run" "$before" "$after" "$work/$workload.$server.$run.json" \
        >>"$work/runs.jsonl"
    done
  done
done

peak_rss() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
commit="$(git -C "$repo" rev-parse --short HEAD)"
git -C "$repo" diff --quiet HEAD -- crates Cargo.toml Cargo.lock || commit="$commit (modified)"
python3 -c '
import json, sys
keys = ["date", "nproc", "cpu", "kernel", "commit", "duration", "runs", "load_before",
        "load_after"]
machine = dict(zip(keys, sys.argv[1:10]))
machine["peak_rss_kib"] = {"spate": int(sys.argv[10]), "kinesalite": int(sys.argv[11])}
print(json.dumps(machine))' \
  "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" \
  "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" "$(uname -r)" \
  "$commit" "$duration" "$runs" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$(peak_rss "$spate_pid")" "$(peak_rss "$kinesalite_pid")" \
  >"$work/machine.json"

python3 "$repo/bench/compare_report.py" "$work"
if [[ $write == 1 ]]; then
  { echo; cat "$work/section.md"; } >>"$repo/bench/RESULTS.md"
  log "appended to bench/RESULTS.md"
else
  log "Markdown section: $work/section.md (--write appends it to bench/RESULTS.md)"
fi

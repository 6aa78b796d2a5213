#!/usr/bin/env bash
# Memory under a large retained backlog: writes SPATE_MEMORY_GIB GiB of records into a fresh
# server, then reads every shard back from its start, sampling the server's resident memory
# (VmRSS in /proc/<pid>/status) once a second through both phases. Prints the peak RSS of each
# phase, the kernel's high-water mark (VmHWM, since the server started) at the end of each, and the write and read MB/s
# that `spate bench` reports. Exits 1 if the peak RSS of either phase reaches SPATE_MEMORY_LIMIT_MIB.
#
# Settings (environment):
#   SPATE_MEMORY_GIB        GiB of record data to write and read back (default 10)
#   SPATE_MEMORY_LIMIT_MIB  RSS bound, MiB (default 512)
#   SPATE_MEMORY_SHARDS     shards of the stream (default 8)
#   SPATE_MEMORY_RECORD     bytes per record, with unit (default 100KiB; 50 records per call)
#   SPATE_MEMORY_PER_CALL   records per PutRecords call (default 50)
#   SPATE_MEMORY_WRITERS    concurrent PutRecords connections (default 8)
#   SPATE_MEMORY_READERS    shards read at once (default 4)
#   SPATE_MEMORY_DIR        parent of the data directory (default /work if it exists, else /tmp);
#                           the data directory is made fresh and deleted on exit
#   SPATE_MEMORY_PORT       listen port (default 45800)
#   SPATE_MEMORY_KEEP=1     keep the data directory and server log
#   CARGO_TARGET_DIR        where the release build goes (default <repo>/target)
#   SPATE_MEMORY_BIN        run this spate binary instead of building one
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
gib="${SPATE_MEMORY_GIB:-10}"
limit_mib="${SPATE_MEMORY_LIMIT_MIB:-512}"
shards="${SPATE_MEMORY_SHARDS:-8}"
record="${SPATE_MEMORY_RECORD:-100KiB}"
per_call="${SPATE_MEMORY_PER_CALL:-50}"
writers="${SPATE_MEMORY_WRITERS:-8}"
readers="${SPATE_MEMORY_READERS:-4}"
port="${SPATE_MEMORY_PORT:-45800}"
parent="${SPATE_MEMORY_DIR:-}"
if [[ -z "$parent" ]]; then
  if [[ -d /work ]]; then parent=/work; else parent=/tmp; fi
fi
target="${CARGO_TARGET_DIR:-$repo/target}"
endpoint="http://127.0.0.1:$port"

spate="${SPATE_MEMORY_BIN:-}"
if [[ -z "$spate" ]]; then
  echo "memory: building release" >&2
  (cd "$repo" && CARGO_TARGET_DIR="$target" cargo build --release -p spate --quiet)
  spate="$target/release/spate"
fi

# Bytes per record, from the same units `spate bench --record-size` takes.
record_bytes() {
  local text="$1" number unit
  number="${text%%[!0-9]*}"
  unit="${text#"$number"}"
  case "$unit" in
    "" | B) echo "$number" ;;
    k | K | KiB) echo $((number * 1024)) ;;
    M | MiB) echo $((number * 1024 * 1024)) ;;
    *) echo "memory: unknown size unit in $text" >&2; exit 2 ;;
  esac
}
size="$(record_bytes "$record")"
# awk: GiB may be fractional (SPATE_MEMORY_GIB=0.5 for a quick run).
count="$(awk -v gib="$gib" -v size="$size" 'BEGIN { printf "%d", gib * 1073741824 / size }')"
if ((count < 1)); then
  echo "memory: $gib GiB is less than one $record record" >&2
  exit 2
fi

data="$(mktemp -d "$parent/spate-memory.XXXXXX")"
log="$data.log"
server_pid=""
sampler_pid=""
cleanup() {
  if [[ -n "$sampler_pid" ]]; then kill "$sampler_pid" 2>/dev/null || true; fi
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ "${SPATE_MEMORY_KEEP:-0}" == 1 ]]; then
    echo "memory: kept $data and $log" >&2
  else
    rm -rf "$data" "$log"
  fi
}
trap cleanup EXIT

"$spate" serve --listen "127.0.0.1:$port" --data-dir "$data/data" --quotas off >"$log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "memory: the server did not start:" >&2
    cat "$log" >&2
    exit 2
  fi
  sleep 0.1
done

# A /proc/<pid>/status field in KiB (VmRSS, VmHWM).
status_kib() {
  awk -v field="$1:" '$1 == field { print $2 }' "/proc/$server_pid/status"
}
# Appends "<seconds since start> <VmRSS KiB>" to $1 once a second until killed.
sample_rss() {
  local out="$1" start
  start="$(date +%s)"
  while kill -0 "$server_pid" 2>/dev/null; do
    echo "$(($(date +%s) - start)) $(status_kib VmRSS)" >>"$out"
    sleep 1
  done
}
# Runs one phase: "<name> <bench arguments...>"; leaves peak RSS, VmHWM and MB/s in globals.
run_phase() {
  local name="$1" samples="$data/rss-$1.txt" report="$data/report-$1.json"
  shift
  : >"$samples"
  sample_rss "$samples" &
  sampler_pid=$!
  "$spate" bench "$@" --endpoint "$endpoint" --stream memory --json >"$report"
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=""
  echo "0 $(status_kib VmRSS)" >>"$samples"
  phase_peak_kib="$(awk 'BEGIN { peak = 0 } $2 > peak { peak = $2 } END { print peak }' "$samples")"
  phase_hwm_kib="$(status_kib VmHWM)"
  phase_mbps="$(python3 -c 'import json, sys; print("%.1f" % json.load(sys.stdin)["mb_per_sec"])' <"$report")"
  phase_records="$(python3 -c 'import json, sys; r = json.load(sys.stdin); print(r["records"], r["records_failed"], r["requests_failed"])' <"$report")"
  echo "memory: $name: peak VmRSS $((phase_peak_kib / 1024)) MiB, VmHWM $((phase_hwm_kib / 1024)) MiB, $phase_mbps MB/s (records, failed records, failed requests: $phase_records)" >&2
}

echo "memory: writing $count records of $size bytes ($gib GiB) into $shards shards, data in $data" >&2
run_phase write put-records --create-shards "$shards" --count "$count" --record-size "$record" \
  --records-per-call "$per_call" --connections "$writers"
write_peak=$phase_peak_kib write_hwm=$phase_hwm_kib write_mbps=$phase_mbps write_records=$phase_records

echo "memory: reading every shard back from TRIM_HORIZON" >&2
run_phase read read-back --connections "$readers"
read_peak=$phase_peak_kib read_hwm=$phase_hwm_kib read_mbps=$phase_mbps read_records=$phase_records

disk="$(du -sh "$data/data" | cut -f1)"
cat <<EOF
data written: $count records x $size bytes = $gib GiB into $shards shards ($disk on disk)
write: peak VmRSS $((write_peak / 1024)) MiB, VmHWM $((write_hwm / 1024)) MiB, $write_mbps MB/s (records, failed records, failed requests: $write_records)
read:  peak VmRSS $((read_peak / 1024)) MiB, VmHWM $((read_hwm / 1024)) MiB, $read_mbps MB/s (records, failed records, failed requests: $read_records)
limit: $limit_mib MiB
EOF
if ((${write_records%% *} != count || ${read_records%% *} != count)); then
  echo "memory: FAIL: $count records were to be written and read back" >&2
  exit 1
fi
# VmHWM is the process's high-water mark since it started, so the one read last covers both
# phases, including any peak shorter than the sampling interval.
if ((write_peak >= limit_mib * 1024 || read_peak >= limit_mib * 1024 || read_hwm >= limit_mib * 1024)); then
  echo "memory: FAIL: peak RSS reached the $limit_mib MiB limit" >&2
  exit 1
fi
echo "memory: ok" >&2

#!/usr/bin/env bash
# Kinesis Video: PutMedia ingest MB/s (against the disk's own fsync'd write rate) and the delay
# from a fragment's last byte to its listing in a LIVE HLS playlist; see bench/video.py.
#
# Usage: bench/video.sh [--streams N] [--fragments N] [--fragment-mb MB] [--runs N] [--write]
# Builds spate in release (CARGO_TARGET_DIR is honoured) and uses the tests' virtualenv (.venv,
# made by scripts/test-python) for boto3.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
cargo build --release -p spate --manifest-path "$repo/Cargo.toml" >&2
if [[ ! -x "$repo/.venv/bin/python" ]]; then
  python3 -m venv "$repo/.venv"
  "$repo/.venv/bin/python" -m pip install --quiet -r "$repo/tests/python/requirements.txt"
fi
exec "$repo/.venv/bin/python" "$repo/bench/video.py" --spate "$target/release/spate" "$@"

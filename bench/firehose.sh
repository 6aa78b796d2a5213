#!/usr/bin/env bash
# Firehose delivery throughput to S3 with GZIP (target: >= 200 MB/s on 2 cores); see
# bench/firehose.py for what is measured.
#
# Usage: bench/firehose.sh [--records N] [--record-size B] [--connections C] [--runs N]
#                          [--gzip-level 1-9] [--write]
# Builds spate in release (CARGO_TARGET_DIR is honoured), installs s3s-fs if missing
# (scripts/s3-server-bin) and uses the tests' virtualenv (.venv, made by scripts/test-python)
# for boto3.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
cargo build --release -p spate --manifest-path "$repo/Cargo.toml" >&2
s3s_fs="$("$repo/scripts/s3-server-bin")"
if [[ ! -x "$repo/.venv/bin/python" ]]; then
  python3 -m venv "$repo/.venv"
  "$repo/.venv/bin/python" -m pip install --quiet -r "$repo/tests/python/requirements.txt"
fi
exec "$repo/.venv/bin/python" "$repo/bench/firehose.py" --spate "$target/release/spate" \
  --s3s-fs "$s3s_fs" "$@"

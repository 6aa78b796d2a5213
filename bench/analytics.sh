#!/usr/bin/env bash
# Kinesis Data Analytics: a tumbling-window COUNT/SUM GROUP BY key over 1,000 keys, events/s
# per core and the delay from a window's close to its output row; see bench/analytics.py.
#
# Usage: bench/analytics.sh [--events N] [--rate R] [--seconds S] [--runs N] [--write]
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
exec "$repo/.venv/bin/python" "$repo/bench/analytics.py" --spate "$target/release/spate" "$@"

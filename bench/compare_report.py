#!/usr/bin/env python3
"""Summarises the runs of bench/compare.sh (python3 standard library only).

Reads RESULTS_DIR/runs.jsonl, one line per run: {"server", "workload", "run", "report" (the
`spate bench --json` object), "cpu_secs" (server CPU time, user + system, spent during the run)},
and RESULTS_DIR/machine.json ({"date", "nproc", "cpu", "kernel", "commit", "duration", "runs",
"load_before", "load_after" (/proc/loadavg: 1, 5 and 15 minutes), "peak_rss_kib": {server:
VmHWM}}). Prints the medians per workload and server with the ratio Spate/kinesalite, and
writes the same as a Markdown section to RESULTS_DIR/section.md.

Usage: compare_report.py RESULTS_DIR
"""

import json
import statistics
import sys
from pathlib import Path

SERVERS = ["spate", "kinesalite"]
WORKLOADS = ["put-records", "put-record", "get-latency", "fanout-latency"]


def figures(run: dict) -> dict[str, float]:
    """The figures of one run, by row name."""
    report = run["report"]
    records = report["records"]
    cpu = run["cpu_secs"]
    row = {
        "records/s": report["records_per_sec"],
        "MB/s": report["mb_per_sec"],
        "request p50 ms": report["latency_ms"]["p50"],
        "request p99 ms": report["latency_ms"]["p99"],
        "request p99.9 ms": report["latency_ms"]["p999"],
        "records per server CPU-s": records / cpu if cpu > 0 else float("nan"),
        "server CPU µs/record": cpu * 1e6 / records if records else float("nan"),
        "records failed": report["records_failed"],
    }
    if "put_to_get_ms" in report:
        row["put-to-get p50 ms"] = report["put_to_get_ms"]["p50"]
        row["put-to-get p99 ms"] = report["put_to_get_ms"]["p99"]
        row["put-to-get p99.9 ms"] = report["put_to_get_ms"]["p999"]
        row["read back %"] = 100.0 * report["records_received"] / records if records else 0.0
    return row


def fmt(value: float | None) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def main() -> int:
    results = Path(sys.argv[1])
    runs = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()
            if line.strip()]
    machine = json.loads((results / "machine.json").read_text())

    tables = []  # (workload, [(row, spate, kinesalite, ratio)])
    for workload in WORKLOADS:
        per_server: dict[str, dict[str, float]] = {}
        counts = {}
        for server in SERVERS:
            rows = [figures(run) for run in runs
                    if run["workload"] == workload and run["server"] == server]
            counts[server] = len(rows)
            if rows:
                per_server[server] = {name: statistics.median(row[name] for row in rows)
                                      for name in rows[0]}
        if not per_server:
            continue
        names = list(next(iter(per_server.values())).keys())
        lines = []
        for name in names:
            spate = per_server.get("spate", {}).get(name)
            kinesalite = per_server.get("kinesalite", {}).get(name)
            ratio = spate / kinesalite if spate is not None and kinesalite else None
            lines.append((name, spate, kinesalite, ratio))
        tables.append((workload, counts, lines))

    peak = machine.get("peak_rss_kib", {})
    header = (f"{machine['date']}: {machine['nproc']} CPUs ({machine['cpu']}), kernel "
              f"{machine['kernel']}, spate {machine['commit']}; {machine['runs']} runs of "
              f"{machine['duration']} per workload and server, medians")

    load = (f"load average (1, 5, 15 min) {machine.get('load_before', '?')} before the runs, "
            f"{machine.get('load_after', '?')} after, on {machine['nproc']} CPUs")
    print(header)
    print(load)
    for workload, counts, lines in tables:
        print(f"\n{workload} (runs: " + ", ".join(f"{s} {counts[s]}" for s in SERVERS) + ")")
        print(f"  {'':28} {'spate':>12} {'kinesalite':>12} {'spate/kin.':>11}")
        for name, spate, kinesalite, ratio in lines:
            print(f"  {name:28} {fmt(spate):>12} {fmt(kinesalite):>12} {fmt(ratio):>11}")
    print("\npeak RSS (VmHWM) over all runs: " + ", ".join(
        f"{server} {peak[server] / 1024:.0f} MiB" for server in SERVERS if server in peak))

    md = [f"## {machine['date']}", "",
          f"- machine: {machine['nproc']} CPUs, {machine['cpu']}, kernel {machine['kernel']}",
          f"- spate commit: `{machine['commit']}`",
          f"- {load}",
          f"- {machine['runs']} runs of {machine['duration']} per workload and server, "
          "alternating servers; medians below",
          "- peak RSS (VmHWM, whole session): " + ", ".join(
              f"{server} {peak[server] / 1024:.0f} MiB" for server in SERVERS if server in peak),
          ""]
    for workload, counts, lines in tables:
        md += [f"### {workload}", "",
               "| figure | spate | kinesalite | spate / kinesalite |",
               "|---|---:|---:|---:|"]
        for name, spate, kinesalite, ratio in lines:
            md.append(f"| {name} | {fmt(spate)} | {fmt(kinesalite)} | {fmt(ratio)} |")
        md.append("")
    (results / "section.md").write_text("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())

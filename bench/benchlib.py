"""What the Python benchmarks share: finding a port, waiting for a server, reading a process's
CPU time, naming the machine's CPU, running a workload several times in scratch directories,
and printing (and with --write appending to bench/RESULTS.md) a table of medians."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 30) -> None:
    """Waits until `url` answers anything over HTTP."""
    import urllib.error
    import urllib.request
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds process `pid` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def platform_cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def runs(count: int, prefix: str, one: Callable[[int, Path], None]) -> None:
    """Calls `one(run_number, scratch_dir)` `count` times, each in a fresh scratch directory
    that is removed afterwards."""
    for run in range(count):
        work = Path(tempfile.mkdtemp(prefix=prefix))
        try:
            one(run + 1, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def report(title: str, description: str, rows: list[tuple[str, str]], write: bool) -> None:
    """Prints a results section (a dated heading, the setup, a table of figures) and, when
    `write`, appends it to bench/RESULTS.md."""
    lines = [
        f"## {title}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        f"Machine: {os.cpu_count()} CPUs ({platform_cpu()}). {description}",
        "",
        "| Figure | Median |",
        "|---|---|",
        *(f"| {figure} | {value} |" for figure, value in rows),
        "",
    ]
    print("\n".join(lines))
    if write:
        with open(REPO / "bench" / "RESULTS.md", "a") as results_file:
            results_file.write("\n" + "\n".join(lines))

"""How long `ketsite check` takes on a project, run as a contributor runs it (a new process).

    .venv/bin/python scripts/time_check.py [--src DIR] [--runs N]

Prints min / median / max wall time of N runs of `ketsite check`, and where the time goes inside
one run (loading and validating the sources, rendering every page in memory).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    cmd = [sys.executable, "-m", "ketsite.cli", "check", "--src", str(args.src)]
    subprocess.run(cmd, capture_output=True, check=False)  # warm the OS file cache
    times = []
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(args.runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime)
    print(proc.stdout.strip() or proc.stderr.strip().splitlines()[-1])
    print(f"ketsite check, {args.runs} runs: wall min {min(times):.3f} s, "
          f"median {statistics.median(times):.3f} s, max {max(times):.3f} s; "
          f"CPU (user+sys) {cpu / args.runs:.3f} s per run")
    print(f"machine load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs (wall times grow with it, CPU time much less)")

    start = time.perf_counter()
    from ketsite.build import load_project, render_checked
    from ketsite.diagnostics import Diagnostics
    from ketsite.site.routes import LinkStyle
    imported = time.perf_counter()
    diags = Diagnostics()
    project = load_project(args.src, diags)
    loaded = time.perf_counter()
    files = render_checked(project, LinkStyle.PRETTY, diags)
    rendered = time.perf_counter()
    print(f"in one process: import {imported - start:.3f} s, load and validate "
          f"{loaded - imported:.3f} s, render {len(files)} files in memory "
          f"{rendered - loaded:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

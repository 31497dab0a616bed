"""Benchmark ketsite on a synthetic library of N papers and print a table of phase times.

    python benchmarks/run.py --n 10000 [--repeat 3] [--jobs 2] [--work DIR]

The library is generated once per (N, generator version) under ``--work`` (default
``$KETSITE_BENCH_DIR`` or ``<tmp>/ketsite-bench``) and reused. Each measurement runs in a fresh
process, so its peak memory (``getrusage`` of the process and its workers) is its own:

- ``cold``: full build, no cache of parsed sources, output folder removed first;
- ``cached``: full build again, parsed sources from ``.ketsite-cache/`` (a second build);
- ``warm-cli``: one paper's BibTeX entry edited (its title), then ``ketsite build --incremental``
  in a new process, against the state the previous incremental build left on disk; ``saved`` is
  how long after the command returned its forked process took to save the state for the next;
- ``warm-serve``: the same edit rebuilt by a long-running process that built the site before (as
  ``ketsite serve`` does): only the rebuild is timed;
- ``serve-page``: the same, timed until the pages are rebuilt — when ``ketsite serve`` reloads the
  open page — while the library-wide data files (feed, search index, exports) follow.

The edit is undone after each warm measurement, so the library stays as generated. Times are wall
clock; ``cpu`` is user+sys of the process and its workers (less sensitive to a busy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_PROCESS_START = time.perf_counter()  # warm-cli counts ketsite's imports, as a user waits for them
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import synth  # noqa: E402

COLUMNS = ("wall", "parse", "model", "render", "write", "pages", "pages/s", "rendered", "written",
           "rss MiB", "cpu", "saved")


def library(n: int, work: Path) -> Path:
    """The generated library for ``n`` papers, generated now if it is not there yet."""
    root = work / f"n{n}"
    marker = root / ".generated"
    stamp = f"{synth.GENERATOR_VERSION} {n}"
    if not (marker.is_file() and marker.read_text() == stamp):
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        t = time.perf_counter()
        count = synth.generate(n, root)
        marker.write_text(stamp)
        print(f"generated {count} source files for {n} papers in {time.perf_counter() - t:.1f}s "
              f"under {root}", file=sys.stderr)
    return root


def edit_target(root: Path) -> tuple[Path, str, str]:
    """A paper in the middle of the library, and its file's text before and after an edit."""
    bibs = sorted((root / "bib").glob("*.bib"))
    path = bibs[len(bibs) // 2]
    text = path.read_text(encoding="utf-8")
    start = text.index("  title", len(text) // 2)
    end = text.index("\n", start)
    line = text[start:end]
    edited = text[:start] + line.replace("= {", "= {Revised: ", 1) + text[end:]
    return path, text, edited


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _row(result, wall: float, cpu: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {
        "wall": wall,
        "parse": result.timings.get("parse", 0.0),
        "model": result.timings.get("model", 0.0),
        "render": result.timings.get("render", 0.0),
        "write": result.timings.get("write", 0.0),
        "pages": result.pages,
        "pages/s": result.rendered / wall if wall else 0.0,
        "rendered": result.rendered,
        "written": len(result.written),
        "rss MiB": result.peak_rss_mib,
        "cpu": cpu,
        "errors": result.diagnostics.error_count,
    }


def child(mode: str, root: Path, out: Path, jobs: int | None) -> dict[str, float]:
    """One measurement, in this (fresh) process."""
    from ketsite.build import build
    from ketsite.engine import Builder, state_lock

    if mode == "cold":
        shutil.rmtree(root / ".ketsite-cache", ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        t, c = time.perf_counter(), _cpu()
        result = build(root, out, jobs=jobs)
        return _row(result, time.perf_counter() - t, _cpu() - c)
    if mode == "cached":
        t, c = time.perf_counter(), _cpu()
        result = build(root, out, jobs=jobs)
        return _row(result, time.perf_counter() - t, _cpu() - c)
    path, before, after = edit_target(root)
    if mode == "warm-cli":
        build(root, out, jobs=jobs, incremental=True)  # state of the unedited library (not timed)
        path.write_text(after, encoding="utf-8")
        try:
            proc = subprocess.run(
                [sys.executable, str(HERE / "run.py"), "--child", "cli-incremental", "--root",
                 str(root), "--out", str(out)] + ([f"--jobs={jobs}"] if jobs else []),
                capture_output=True, text=True, check=True)
            row = json.loads(proc.stdout)
            # The command returns before its state is saved (by a forked process, for the next
            # --incremental build, which waits for it): how much longer that took.
            t = time.perf_counter()
            with state_lock(Builder(root, out, persist_state=True).state_path(), exclusive=False):
                row["saved"] = time.perf_counter() - t
            return row
        finally:
            path.write_text(before, encoding="utf-8")
    if mode == "cli-incremental":  # the timed new process of warm-cli
        t0 = _PROCESS_START
        c = _cpu()
        result = build(root, out, jobs=jobs, incremental=True, background_save=True)  # as the CLI
        # Wall time from process start: imports count, as they do for a user.
        row = _row(result, time.perf_counter() - t0, _cpu() - c)
        return row
    if mode in ("warm-serve", "serve-page"):
        from ketsite.serve import _is_data_file

        # In memory, as `ketsite serve` builds; serve-page stops the clock when the pages are
        # ready (the open page reloads then) and the data files are still to come.
        builder = Builder(root, None, jobs=jobs)
        builder.build()
        path.write_text(after, encoding="utf-8")
        try:
            t, c = time.perf_counter(), _cpu()
            result = builder.build(defer=_is_data_file if mode == "serve-page" else None)
            row = _row(result, time.perf_counter() - t, _cpu() - c)
            builder.finish_deferred()
        finally:
            path.write_text(before, encoding="utf-8")
        builder.build()  # back to the unedited site
        return row
    raise SystemExit(f"unknown mode {mode}")




def measure(mode: str, root: Path, out: Path, jobs: int | None) -> dict[str, float]:
    argv = [sys.executable, str(HERE / "run.py"), "--child", mode, "--root", str(root),
            "--out", str(out)] + ([f"--jobs={jobs}"] if jobs else [])
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark step {mode} failed (exit {proc.returncode})")
    row = json.loads(proc.stdout)
    if row.get("errors"):
        raise SystemExit(f"benchmark step {mode}: the synthetic library has {row['errors']} errors")
    return row


def fmt(value: float, column: str) -> str:
    if column in ("pages", "rendered", "written"):
        return str(int(value))
    if column in ("pages/s", "rss MiB"):
        return f"{value:.0f}"
    return f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="papers in the synthetic library")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (median shown)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPUs)")
    parser.add_argument("--work", type=Path, default=None, help="where libraries are generated")
    parser.add_argument("--modes", default="cold,cached,warm-cli,warm-serve,serve-page")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(child(args.child, args.root, args.out, args.jobs)))
        return 0

    work = args.work or Path(os.environ.get("KETSITE_BENCH_DIR")
                             or Path(tempfile.gettempdir()) / "ketsite-bench")
    root = library(args.n, work)
    out = work / f"n{args.n}-site"
    load_before = os.getloadavg()[0]
    rows = []
    for mode in args.modes.split(","):
        runs = [measure(mode, root, out, args.jobs) for _ in range(max(1, args.repeat))]
        row = {c: statistics.median(r.get(c, 0.0) for r in runs) for c in COLUMNS}
        rows.append((mode, row))
    load_after = os.getloadavg()[0]

    import platform

    print(f"ketsite benchmark: N={args.n} papers, {rows[0][1]['pages']:.0f} pages, "
          f"jobs={args.jobs or os.cpu_count()}, repeat={args.repeat}, "
          f"Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load average {load_before:.1f}→{load_after:.1f}")
    widths = {c: max(len(c), 8) for c in COLUMNS}
    header = "| mode       | " + " | ".join(c.rjust(widths[c]) for c in COLUMNS) + " |"
    print(header)
    print("|" + "-" * 12 + "|" + "|".join("-" * (widths[c] + 2) for c in COLUMNS) + "|")
    for mode, row in rows:
        cells = " | ".join(fmt(row[c], c).rjust(widths[c]) for c in COLUMNS)
        print(f"| {mode:<10} | {cells} |")
    print("times in seconds (wall; cpu = user+sys incl. workers); pages/s = routes rendered / wall;"
          " saved = state saved after the command returned (warm-cli)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

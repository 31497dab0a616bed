"""The command line: flags in, calls out, diagnostics to an exit code. No logic lives here.

Exit codes: 0 success, 1 content errors, 2 usage errors.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from ketsite import __version__
from ketsite.diagnostics import Diagnostics, Severity

EXIT_OK, EXIT_CONTENT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_TERMINATED = 128 + signal.SIGTERM  # the shell's code for a process ended by SIGTERM


class Terminated(BaseException):
    """SIGTERM (a CI runner's timeout, ``kill``, a container stopping) as an exception, so the
    ``finally`` clauses run: the half-written sibling of the output folder is removed and the
    previous site stays as it was, as after Ctrl-C. By default SIGTERM ends Python on the spot."""


def _terminated(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise Terminated


def _print_diagnostics(diags: Diagnostics) -> None:
    github = os.environ.get("GITHUB_ACTIONS") == "true"
    shown = diags.sorted()  # each problem once, however many stages found it
    for d in shown:
        print(d.format(), file=sys.stderr)
        if github:
            print(d.github_annotation())
    if shown:
        errors = sum(d.severity is Severity.ERROR for d in shown)
        print(f"{errors} error(s), {len(shown) - errors} warning(s)", file=sys.stderr)


def _project_dir(value: str) -> Path:
    path = Path(value)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"not a folder: {value}")
    return path


def _jobs(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a number of processes ≥ 1, not {value!r}")
    return int(value)


def cmd_check(args: argparse.Namespace) -> int:
    from ketsite.build import load_project, plan, render_checked
    from ketsite.site.routes import LinkStyle

    diags = Diagnostics()
    project = load_project(args.src, diags)
    if diags.has_errors:  # still report output-path collisions among what is valid
        plan(project, LinkStyle.PRETTY, diags)
    else:  # everything build does, in memory: a green check means it builds
        render_checked(project, LinkStyle.PRETTY, diags)
    _print_diagnostics(diags)
    if diags.has_errors:
        return EXIT_CONTENT
    corpus = project.corpus
    print(
        f"ok: {len(corpus.papers)} papers, {len(corpus.reviews)} reviews, "
        f"{len(corpus.conditions)} conditions, {len(corpus.authors)} authors"
    )
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    from ketsite.build import build
    from ketsite.output import OutputError
    from ketsite.site.routes import LinkStyle

    out = args.out if args.out is not None else args.src / "_site"
    print(f"building {args.src.resolve()} → {out}", file=sys.stderr)
    try:
        result = build(args.src, out, LinkStyle(args.links), jobs=args.jobs,
                       incremental=args.incremental, cache=not args.no_cache,
                       background_save=True)  # the state for the next --incremental
    except OutputError as exc:  # an output folder whose replacement would destroy something
        print(f"ketsite build: refusing to build: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # disk full, no permission: the previous output is still there
        print(f"ketsite: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        print("build failed; the output folder was not changed", file=sys.stderr)
        return EXIT_USAGE
    _print_diagnostics(result.diagnostics)
    if result.diagnostics.has_errors:
        print("build failed; the output folder was not changed", file=sys.stderr)
        return EXIT_CONTENT
    phases = ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items())
    print(f"built {result.pages} pages ({result.files} files) in {result.seconds:.2f}s ({phases})")
    if result.mode == "incremental":
        print(f"incremental: {result.rendered} rendered, {len(result.written)} written, "
              f"{len(result.removed)} removed")
    return EXIT_OK


def cmd_bundle(args: argparse.Namespace) -> int:
    from ketsite.bundle import bundle

    out = args.out if args.out is not None else args.src / "_site.zip"
    if out.suffix.lower() != ".zip":
        print(f"ketsite bundle: --out must name a .zip file, not {out}", file=sys.stderr)
        return EXIT_USAGE
    print(f"bundling {args.src.resolve()} → {out}", file=sys.stderr)
    result = bundle(args.src, out)
    _print_diagnostics(result.build.diagnostics)
    if result.build.diagnostics.has_errors:
        print("bundle failed; no zip was written", file=sys.stderr)
        return EXIT_CONTENT
    print(f"bundled {result.build.pages} pages ({result.files} files) into {out} "
          f"({result.size:,} bytes); unzip it and open index.html")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from ketsite.serve import serve

    return serve(args.src, host=args.host, port=args.port)


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range: {value}")
    return port


def cmd_new_paper(args: argparse.Namespace) -> int:
    from ketsite.contribute import UsageError, new_paper

    if args.file in (None, "-"):
        if sys.stdin.isatty():
            print("paste one BibTeX entry, then press Ctrl-D", file=sys.stderr)
        data, name = sys.stdin.buffer.read(), "<stdin>"
    else:
        path = Path(args.file)
        if not path.is_file():
            print(f"ketsite new paper: no such file: {args.file}", file=sys.stderr)
            return EXIT_USAGE
        if path.resolve().parent == (args.src / "bib").resolve():
            print(f"ketsite new paper: {args.file} is already in bib/; run ketsite check",
                  file=sys.stderr)
            return EXIT_USAGE
        data, name = path.read_bytes(), args.file
    diags = Diagnostics()
    try:
        added = new_paper(args.src, data, name, args.bib, diags, annotate=not args.no_annotation)
    except UsageError as exc:
        print(f"ketsite new paper: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _print_diagnostics(diags)
    if added is None:
        print("nothing was added", file=sys.stderr)
        return EXIT_CONTENT
    print(f"added '{added.key}' to {added.bib} at line {added.line}")
    if added.annotation:
        print(f"created {added.annotation}: fill in what the paper supports, then run "
              "ketsite check")
    return EXIT_OK


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ketsite", description="Build an evidence site from BibTeX and YAML sources."
    )
    parser.add_argument("--version", action="version", version=f"ketsite {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def with_src(p: argparse.ArgumentParser) -> None:
        p.add_argument("--src", type=_project_dir, default=Path("."),
                       help="project folder with bib/, content/ (default: current folder)")

    p = sub.add_parser("check", help="validate every source; write nothing",
                       description="Validate every source file and report all problems.")
    with_src(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("build", help="check, then render the site",
                       description="Check the sources, then render the site to the output folder.")
    with_src(p)
    p.add_argument("--out", type=Path, default=None, help="output folder (default: SRC/_site)")
    p.add_argument("--links", choices=("pretty", "files"), default="pretty",
                   help="'pretty' folder links for a web server, 'files' for opening from disk")
    p.add_argument("--incremental", action="store_true",
                   help="re-render only what changed since the last --incremental build of this "
                        "output folder (state kept in SRC/.ketsite-cache/)")
    p.add_argument("--jobs", type=_jobs, default=None,
                   help="worker processes for rendering (default: the CPUs available)")
    p.add_argument("--no-cache", action="store_true",
                   help="parse every source again instead of reusing SRC/.ketsite-cache/")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("bundle", help="build the offline site as one zip (works from file://)",
                       description="Check the sources, build the site with links that name their "
                       "files, and pack it into one reproducible zip that works offline.")
    with_src(p)
    p.add_argument("--out", type=Path, default=None,
                   help="the zip to write (default: SRC/_site.zip); it holds one folder named "
                   "after the zip, with index.html at its top")
    p.set_defaults(func=cmd_bundle)

    p = sub.add_parser("serve", help="preview the site, rebuilding and reloading on change",
                       description="Build the site in memory, serve it, rebuild when a source or "
                       "template changes and reload the browser.")
    with_src(p)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=_port, default=8000, help="port (default: 8000; 0: any free)")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("new", help="add a source: ketsite new paper [FILE|-]",
                       description="Add a new source, checked as ketsite check would.")
    new = p.add_subparsers(dest="what", metavar="WHAT")
    new.required = True
    p = new.add_parser(
        "paper", help="add one BibTeX entry to bib/ and scaffold its annotation",
        description="Read one BibTeX entry from FILE (or standard input), check it as "
        "ketsite check would, append it to a .bib file and create content/papers/<key>.yaml.",
    )
    with_src(p)
    p.add_argument("file", nargs="?", metavar="FILE",
                   help="a file with one entry; - or none: standard input")
    p.add_argument("--bib", default="bib/contributed.bib",
                   help="the .bib file to append to (default: bib/contributed.bib)")
    p.add_argument("--no-annotation", action="store_true",
                   help="do not create content/papers/<key>.yaml")
    p.set_defaults(func=cmd_new_paper)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help exits 0, usage errors 2
        return int(exc.code or 0)
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except Terminated:
        print("ketsite: stopped by SIGTERM", file=sys.stderr)
        return EXIT_TERMINATED
    except Exception as exc:  # a bug in ketsite must still not show a traceback to a contributor
        print(f"ketsite: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("please report this with the command you ran", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())

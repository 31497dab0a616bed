"""Size and render time of the files that show the whole library (indexes, search, feed, sitemap).

    python benchmarks/pages.py --src /tmp/ketsite-bench/n10000

Loads the project, plans its routes and renders, in this process and without writing anything,
every route of the kinds below (all pages of a paged index): per kind the number of files, the
largest file, all of them together, and the render time of the largest and of all. Nothing is
written to the project (no cache), so a shared benchmark library stays as it is.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from ketsite.build import load_project, plan  # noqa: E402
from ketsite.diagnostics import Diagnostics  # noqa: E402
from ketsite.generators import generate  # noqa: E402
from ketsite.render import Renderer  # noqa: E402
from ketsite.site.routes import LinkStyle  # noqa: E402

KINDS = ("papers", "authors", "reviews", "search", "feed", "sitemap", "sitemap-part")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, required=True)
    args = parser.parse_args()
    diags = Diagnostics()
    project = load_project(args.src, diags)
    ctx, _files, dirs = plan(project, LinkStyle.PRETTY, diags)
    if diags.has_errors:
        sys.exit("\n".join(d.format() for d in diags.sorted()))
    renderer = Renderer(dirs, ctx)
    for name in sorted({r.template for r in ctx.routes.routes.values() if r.template}):
        renderer.env.get_template(name)  # compile first: not part of any page's time
    print(f"{len(project.corpus.papers)} papers, {len(project.corpus.authors)} authors, "
          f"{len(project.corpus.reviews)} reviews")
    print("| file | files | largest (bytes) | all (bytes) | largest (s) | all (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in KINDS:
        routes = sorted((r for r in ctx.routes.routes.values() if r.kind == kind),
                        key=lambda r: r.path)
        if not routes:
            continue
        sizes, times = [], []
        for route in routes:
            t = time.perf_counter()
            data = renderer.render(route) if route.template else generate(route, ctx)
            times.append(time.perf_counter() - t)
            sizes.append(len(data))
        big = max(range(len(routes)), key=lambda i: sizes[i])
        print(f"| {routes[0].path if len(routes) == 1 else kind} | {len(routes)} | "
              f"{sizes[big]:,} | {sum(sizes):,} | {times[big]:.2f} | {sum(times):.2f} |")


if __name__ == "__main__":
    main()

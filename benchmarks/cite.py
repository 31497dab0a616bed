"""CPU milliseconds per reference and style of the cite panel (citeproc-py), over a project.

    python benchmarks/cite.py /tmp/ketsite-bench/n1000            # with the speed patches
    python benchmarks/cite.py /tmp/ketsite-bench/n1000 --plain    # plain citeproc-py

Every paper of the project is formatted in every style of the cite panel, ``--repeat`` times in
this one process (the first round includes parsing the styles and filling the speed patches'
memos); each round prints its process CPU time. ``--plain`` sets ``KETSITE_CITEPROC_SPEEDUPS=0``
before ketsite is imported, which leaves citeproc-py as released plus ketsite's date fix.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path, help="a ketsite project folder")
    parser.add_argument("--plain", action="store_true", help="without the speed patches")
    parser.add_argument("--repeat", type=int, default=2, help="rounds over all papers")
    args = parser.parse_args(argv)
    if args.plain:
        os.environ["KETSITE_CITEPROC_SPEEDUPS"] = "0"

    from ketsite.build import load_project
    from ketsite.diagnostics import Diagnostics
    from ketsite.scholarly import cite
    from ketsite.scholarly.csl import csl_item

    try:
        from ketsite.scholarly import citeproc_speed
    except ImportError:  # a ketsite from before the speed patches: measure it all the same
        patches = "absent"
    else:
        patches = "on" if citeproc_speed._applied else "off"

    project = load_project(args.project, Diagnostics())
    items = [csl_item(paper) for paper in project.corpus.papers.values()]
    styles = list(cite.STYLES.values())
    print(f"{len(items)} papers x {len(styles)} styles, speed patches {patches}, "
          f"load average {os.getloadavg()[0]:.1f}")
    for round_ in range(1, args.repeat + 1):
        start = time.process_time()
        for item in items:
            for style in styles:
                cite.format_item(item, style)
        cpu = time.process_time() - start
        print(f"round {round_}: {cpu:.2f} s CPU, "
              f"{cpu * 1000 / (len(items) * len(styles)):.2f} ms per reference and style")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

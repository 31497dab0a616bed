"""The contributor's safety nets are wired up: the pre-commit hook runs ``ketsite check`` on source
changes, and CI runs check, build and the tests on every pull request."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import yaml
from sitetools import REPO


def test_pre_commit_hook_runs_ketsite_check_on_source_changes():
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [h for repo in config["repos"] if repo["repo"] == "local" for h in repo["hooks"]]
    hook = next(h for h in hooks if h["id"] == "ketsite-check")
    assert hook["entry"] == "ketsite check" and hook["pass_filenames"] is False
    pattern = re.compile(hook["files"])
    for path in ("bib/reviews.bib", "content/papers/x.yaml", "ketsite.yaml", "templates/base.html"):
        assert pattern.search(path), path
    assert not pattern.search("tests/test_x.py")
    argv = shlex.split(hook["entry"])  # the hook, as pre-commit runs it from the repository root
    proc = subprocess.run([str(Path(REPO / ".venv" / "bin" / argv[0])), *argv[1:]], cwd=REPO,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: ")


def test_ci_runs_check_build_and_tests_on_pull_requests():
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text("utf-8"))
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as true
    assert "pull_request" in triggers
    runs = [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]
    assert any("ketsite check" in r for r in runs)
    assert any("ketsite build" in r for r in runs)
    assert any("pytest" in r for r in runs)

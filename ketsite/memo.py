"""Results of slow pure functions, kept between builds under a hash of their inputs.

Formatting a reference with citeproc-py takes milliseconds; a paper page shows it in two styles, so
at ten thousand papers it is most of a build — the same strings as last time for every paper that
did not change. A :class:`Memo` maps ``namespace:hash(inputs)`` to the result; the build loads it
from ``.ketsite-cache/memo.pickle``, worker processes send back what they computed, and the build
saves it. A key must cover every input of the function (and the versions of the code behind it).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_MISSING = object()


class Memo:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, Any] = {}
        self.new: dict[str, Any] = {}
        self._loaded = False

    def _load(self) -> None:
        self._loaded = True
        if self.path is None:
            return
        try:
            loaded = pickle.loads(self.path.read_bytes())
        except FileNotFoundError:
            return
        except Exception as exc:  # a damaged cache is a miss, never a failed build
            log.debug("ignoring unreadable memo %s: %s", self.path, exc)
            return
        if isinstance(loaded, dict):
            self.entries.update(loaded)

    def call(self, namespace: str, key: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``, or its result from an earlier call whose ``key`` was the same."""
        if not self._loaded:
            self._load()
        digest = namespace + ":" + hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
        value = self.entries.get(digest, _MISSING)
        if value is _MISSING:
            value = self.entries[digest] = self.new[digest] = fn(*args)
        return value

    def take_new(self) -> dict[str, Any]:
        """What this process computed since the last call (a worker sends it to the parent)."""
        new, self.new = self.new, {}
        return new

    def merge(self, new: dict[str, Any]) -> None:
        self.entries.update(new)
        self.new.update(new)

    def save(self) -> None:
        if self.path is None or not self.new:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".memo-", dir=self.path.parent)
            with os.fdopen(fd, "wb") as f:
                pickle.dump(self.entries, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
            self.new = {}
        except OSError as exc:
            log.debug("cannot save memo %s: %s", self.path, exc)

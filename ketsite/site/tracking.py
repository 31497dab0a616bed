"""What each page reads: corpus and route-table views that record every lookup.

An incremental rebuild must re-render exactly the pages whose bytes can change. Rather than a
hand-kept list per template ("a paper page shows its authors, its conditions…"), every page and
generated file is rendered against these read-recording views and remembers what it read: a key
of one mapping (``("papers", "smith2020")``), or a whole mapping when it iterates or counts one
(``("papers", ANY)``). After an edit, the entries whose values differ between the old and the new
corpus are compared with what each page read. Templates, view models and generators added later
are covered without being listed anywhere.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Mapping
from typing import Any

#: The key recorded when a page iterates over, counts, or compares a whole mapping.
ANY = "*"

Dep = tuple[str, Any]  # (mapping name, key or ANY)


class TrackedMapping(Mapping[Any, Any]):
    """A read-only view of a dict that adds each key looked up (or ANY) to ``deps``."""

    __slots__ = ("_name", "_data", "_deps")

    def __init__(self, name: str, data: Mapping[Any, Any], deps: set[Dep]) -> None:
        self._name = name
        self._data = data
        self._deps = deps

    def __getitem__(self, key: Any) -> Any:
        self._deps.add((self._name, key))
        return self._data[key]

    def get(self, key: Any, default: Any = None) -> Any:
        self._deps.add((self._name, key))
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        self._deps.add((self._name, key))
        return key in self._data

    def __iter__(self) -> Iterator[Any]:
        self._deps.add((self._name, ANY))
        return iter(self._data)

    def __len__(self) -> int:
        self._deps.add((self._name, ANY))
        return len(self._data)

    def keys(self):  # type: ignore[no-untyped-def, override]
        self._deps.add((self._name, ANY))
        return self._data.keys()

    def values(self):  # type: ignore[no-untyped-def, override]
        self._deps.add((self._name, ANY))
        return self._data.values()

    def items(self):  # type: ignore[no-untyped-def, override]
        self._deps.add((self._name, ANY))
        return self._data.items()

    def __eq__(self, other: object) -> bool:
        self._deps.add((self._name, ANY))
        return self._data == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TrackedMapping({self._name!r})"


class TrackedObject:
    """Any frozen dataclass of the site (the corpus) seen through recording views: its dict fields
    become :class:`TrackedMapping`; any other field, when read, records ``(name, ANY)``; its methods
    and properties run against this view, so what they read is recorded too."""

    def __init__(self, target: object, prefix: str, deps: set[Dep]) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_prefix", prefix)
        object.__setattr__(self, "_deps", deps)
        object.__setattr__(self, "_fields", {f.name for f in dataclasses.fields(target)})  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:
        target = object.__getattribute__(self, "_target")
        deps = object.__getattribute__(self, "_deps")
        prefix = object.__getattribute__(self, "_prefix")
        if name in object.__getattribute__(self, "_fields"):
            value = getattr(target, name)
            if isinstance(value, dict):
                view = TrackedMapping(prefix + name, value, deps)
                object.__setattr__(self, name, view)  # cached: later reads skip __getattr__
                return view
            deps.add((prefix + name, ANY))
            return value
        attr = getattr(type(target), name, None)
        if isinstance(attr, property) and attr.fget is not None:
            return attr.fget(self)
        if isinstance(attr, functools.cached_property):
            return attr.func(self)  # computed against this view (not cached), so reads are seen
        if callable(attr):
            return attr.__get__(self)  # a method, run against the recording view
        return getattr(target, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


class TrackedRoutes:
    """The route table seen through a recording view: ``get``/``has`` record ``("routes", key)``."""

    def __init__(self, table: Any, deps: set[Dep]) -> None:
        self._table = table
        self._deps = deps
        self.routes = TrackedMapping("routes", table.routes, deps)

    def get(self, kind: str, ident: str = "") -> Any:
        self._deps.add(("routes", (kind, ident)))
        return self._table.routes[(kind, ident)]

    def has(self, kind: str, ident: str = "") -> bool:
        self._deps.add(("routes", (kind, ident)))
        return (kind, ident) in self._table.routes

    def pages(self) -> list[Any]:
        # Only which pages exist and where (the sitemap): not what each route lists, which
        # changes with an edit of a paper listed on an index page.
        self._deps.add((PAGES, ANY))
        return self._table.pages()

    def __getattr__(self, name: str) -> Any:
        self._deps.add(("routes", ANY))
        return getattr(self._table, name)


#: The dependency of whatever reads the list of pages (kind, ident and path of each, in order).
PAGES = "route-pages"


def page_list(table: Any) -> list[tuple[Any, str]]:
    return table.page_paths  # type: ignore[no-any-return]


def whole(mapping: Mapping[Any, Any]) -> Mapping[Any, Any]:
    """The plain mapping behind ``mapping``, recording that all of it was read (``ANY``).

    For files listing the whole library, which look up every entry: one recorded read instead of
    tens of thousands, each a tuple added to a set, which cost more than the lookups themselves.
    """
    if isinstance(mapping, TrackedMapping):
        mapping._deps.add((mapping._name, ANY))
        return mapping._data
    return mapping


class Readers:
    """Which routes read each entry: the dependencies of every route, reversed.

    After an edit, the routes to render again are those that read an entry whose value changed.
    Testing every route's reads against the changed entries costs a pass over the whole route
    table (150,000 routes at ten thousand papers) per edit; a long-running process keeps this
    index instead and looks up only the changed entries. Kept exact: a route rendered again has
    its old reads replaced by its new ones.
    """

    def __init__(self, deps: Mapping[Any, frozenset[Dep]]) -> None:
        self.by_dep: dict[Dep, set[Any]] = {}
        by_dep = self.by_dep
        for key, reads in deps.items():
            for dep in reads:
                keys = by_dep.get(dep)
                if keys is None:
                    by_dep[dep] = {key}
                else:
                    keys.add(key)

    def replace(self, key: Any, old: frozenset[Dep], new: frozenset[Dep]) -> None:
        """Route ``key`` now reads ``new`` instead of ``old``."""
        if old is new:
            return
        by_dep = self.by_dep
        for dep in old - new:
            keys = by_dep.get(dep)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del by_dep[dep]
        for dep in new - old:
            keys = by_dep.get(dep)
            if keys is None:
                by_dep[dep] = {key}
            else:
                keys.add(key)

    def of(self, changed: set[Dep]) -> set[Any]:
        """The routes that read any of ``changed``."""
        found: set[Any] = set()
        by_dep = self.by_dep
        for dep in changed:
            keys = by_dep.get(dep)
            if keys:
                found |= keys
        return found

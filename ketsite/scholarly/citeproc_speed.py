"""Speed patches for citeproc-py: the same output, several times faster.

citeproc-py re-derives, for every reference it formats, answers that only depend on the parsed
style and locale (XPath look-ups of macros, terms, dates, layouts and options; attribute reads;
child lists) and walks long Python property chains for every variable it reads. ketsite parses
each style once and never changes it (:func:`ketsite.scholarly.cite._style`), so those answers are
kept. Every patch is either a memo of a pure function of the parsed style/locale trees or an
equivalent rewrite of a hot method, and says why in its docstring. ``tests/test_cite_speed.py``
formats the bundled and a synthetic library with these patches and in a subprocess without them,
and asserts that every string is identical.

The patches are written against one citeproc-py release (:data:`CITEPROC_VERSION`): with any other
installed version :func:`apply` changes nothing, so a citeproc-py upgrade can make formatting
slower, never different. ``KETSITE_CITEPROC_SPEEDUPS=0`` in the environment turns them off too
(:mod:`ketsite.scholarly.cite` reads it), for comparisons.

Where answers are kept: in module-level dicts keyed by the element's lxml proxy object (identity
hash). A key keeps its proxy alive, and lxml hands out the same proxy for a node for as long as one
is alive, so an answer is found again on every visit of that node. The style trees live as long as
the process anyway (one parse per style file).

Answers kept per *shape* of item (:func:`_shape_memo`): while a bibliography entry is rendered,
the item carries the memo of its shape — its type, which variables it has, its language, whether
it has a locator — the questions a style asks about an item besides the values of its variables.
Per shape are kept the branches of each ``cs:choose`` worth trying (a test the shape decides is
not evaluated again) and which elements render nothing: an element none of whose variables the
shape has renders the same for every item of the shape (:func:`_reads` says why), so once it has
rendered nothing it is passed over. Most of a style is conditions and groups for variables an item
lacks, so this is most of the gain of these patches after the per-element memos. A library has
far fewer shapes than papers (the bundled one 11 for 44 papers, the synthetic benchmark libraries
2); at most :data:`_MAX_SHAPES` are kept.

What citeproc-py itself mutates, and why no memo depends on it:

* ``Date_Part.process`` copies the attributes of a style's ``cs:date-part`` onto the locale's:
  no memo reads a ``cs:date-part``'s attributes (:func:`_attrs` refuses them).
* ``Names.process`` inserts a new ``Name`` element into a ``cs:names`` that has none, on every
  call (the new element is not found as a ``cs:name`` next time; Vancouver's author list does this
  for every reference): no memo keeps the children of a ``cs:names`` (:func:`_children` refuses
  them), searches for a CSL child of it do not see the new one (tagged ``Name``, outside the CSL
  namespace), the memoised ancestor and sibling queries of other elements do not change by it,
  and no answer is stored for such a created element (:func:`_parsed`), which would pile them
  up (its ``cs:et-al`` sibling is kept for the ``cs:names`` it is put first in).
  Unpatched, those elements pile up in the style tree: one more per reference formatted, and the
  searches among a ``cs:names``' children (``names_context.name``, the ``cs:et-al`` sibling) grow
  with them — at ten thousand references each one took ten times as long as at the first, a
  quadratic cost. The patched ``Names.process`` takes out what it put in once it has rendered.
"""

from __future__ import annotations

import importlib.metadata

from citeproc import model, source
from citeproc import string as strings

#: The citeproc-py release these patches were written and verified for.
CITEPROC_VERSION = "0.11.1"

_applied = False
_MISSING = object()


def installed_version() -> str:
    return importlib.metadata.version("citeproc-py")


def apply() -> bool:
    """Install the patches once; return whether they are active. With a citeproc-py release other
    than :data:`CITEPROC_VERSION` nothing is patched (they could be wrong for it)."""
    global _applied
    if _applied:
        return True
    if installed_version() != CITEPROC_VERSION:
        return False
    _patch_custom_dict()
    _patch_source()
    _patch_citation_item()
    _patch_tree_lookups()
    _patch_locale_lookups()
    _patch_names()
    _patch_dates()
    _patch_strings()
    _patch_rendering()
    _applied = True
    return True


def _parsed(element: object) -> bool:
    """Whether an element was parsed from a style or locale file, rather than created by
    citeproc-py while rendering (see the module docstring); only those have answers stored."""
    return element.sourceline is not None  # type: ignore[attr-defined]


# --- per-element facts, read once -----------------------------------------------------------------

_ATTRS: dict[object, dict | None] = {}
_CHILDREN: dict[object, tuple] = {}


def _attrs(element: object) -> dict | None:
    """An element's attributes as a dict, read once: lxml's ``get`` costs ~5× a dict look-up and
    citeproc-py asks the same elements for the same attributes on every reference. ``None`` for a
    ``cs:date-part``, whose attributes citeproc-py rewrites (callers then use ``element.get``)."""
    attrs = _ATTRS.get(element, _MISSING)
    if attrs is _MISSING:
        attrs = None if isinstance(element, model.Date_Part) else dict(element.attrib)
        if _parsed(element):
            _ATTRS[element] = attrs
    return attrs  # type: ignore[return-value]


def _get(element, name, default=None):  # type: ignore[no-untyped-def]
    """``element.get(name, default)`` from :func:`_attrs`."""
    attrs = _ATTRS.get(element, _MISSING)
    if attrs is _MISSING:
        attrs = _attrs(element)
    if attrs is None:
        return element.get(name, default)
    return attrs.get(name, default)


def _children(element: object) -> tuple:
    """An element's children, listed once (an lxml iteration costs microseconds per visit). A
    ``cs:names`` is listed afresh each time: citeproc-py may insert a ``cs:name`` into it."""
    children = _CHILDREN.get(element)
    if children is None:
        children = tuple(element.iterchildren())  # type: ignore[attr-defined]
        if not isinstance(element, model.Names) and _parsed(element):
            _CHILDREN[element] = children
    return children


# --- equivalent rewrites of the CSL-JSON item's property chains -----------------------------------

def _patch_custom_dict() -> None:
    variable_error = source.VariableError
    dict_getitem = dict.__getitem__

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        """Called ~700 times per reference: ``dict.__getitem__`` directly instead of through a new
        ``super()`` object (every CustomDict class of citeproc-py has ``dict`` next in its MRO)."""
        try:
            return dict_getitem(self, key)
        except KeyError:
            raise variable_error  # noqa: B904 — as the original

    source.CustomDict.__getitem__ = __getitem__


def _patch_source() -> None:
    json_cls = source.json.CiteProcJSON
    parse_string = json_cls.parse_string
    mixed_cls, string_cls = strings.MixedString, strings.String
    reference_cls = source.Reference
    custom_init = source.CustomDict.__init__
    optional = frozenset({"uri", "container_uri", "contributor", "date"} | set(source.VARIABLES))

    def fast_parse_string(self, string):  # type: ignore[no-untyped-def]
        """``CiteProcJSON.parse_string`` for a string without a nocase span (nearly all): the
        original appends the whole string as one String to an empty MixedString, which makes
        ``MixedString([String(string)])`` (an empty MixedString for an empty string)."""
        string = str(string)
        if self.start_tag in string.lower():
            return parse_string(self, string)
        return mixed_cls([string_cls(string)]) if string else mixed_cls()

    def reference_init(self, key, type, **args):  # type: ignore[no-untyped-def]  # noqa: A002
        """``Reference.__init__`` with its set of allowed variables (~150) built once, not for
        every reference; when they are all allowed, ``CustomDict.__init__``'s checks (nothing
        required, nothing unsupported to warn about) come down to its last step, ``update``."""
        self.key = key
        self.type = type
        if optional.issuperset(args):
            dict_update(self, args)
        else:
            custom_init(self, args, optional=optional)

    name_cls = source.Name
    name_init = name_cls.__init__
    name_parts = frozenset({"family", "given", "dropping-particle", "non-dropping-particle",
                            "suffix"})

    def fast_name_init(self, **args):  # type: ignore[no-untyped-def]
        """``Name.__init__`` for a name of the usual parts only: nothing is required, nothing is
        unsupported, so ``CustomDict.__init__`` only does its last step, ``update``."""
        if "literal" not in args and name_parts.issuperset(args):
            dict_update(self, args)
        else:
            name_init(self, **args)

    dict_update = dict.update
    json_cls.parse_string = fast_parse_string
    reference_cls.__init__ = reference_init
    name_cls.__init__ = fast_name_init


def _patch_citation_item() -> None:
    item_cls = source.CitationItem
    variable_error = source.VariableError
    dict_getitem = dict.__getitem__

    def bibliography(self):  # type: ignore[no-untyped-def]
        """``self.citation.bibliography``: both are entries of CustomDicts (whose ``__setattr__``
        stores there), read directly instead of through two ``__getattr__`` calls."""
        try:
            citation = dict_getitem(self, "citation")
        except KeyError:
            raise variable_error  # noqa: B904 — as the original
        if not isinstance(citation, source.CustomDict):
            return citation.bibliography
        try:
            return dict_getitem(citation, "bibliography")
        except KeyError:
            raise variable_error  # noqa: B904 — as the original

    def reference(self):  # type: ignore[no-untyped-def]
        """``self.bibliography.source[self.key]``, read ~100 times per reference."""
        bib = bibliography(self)
        try:
            key = dict_getitem(self, "key")
        except KeyError:
            raise variable_error  # noqa: B904 — as the original
        return bib.source[key]

    class Reference:
        """``CitationItem.reference`` as a non-data descriptor, so that a value pinned in the
        item's ``__dict__`` (see :func:`_patch_rendering`'s ``render_bibliography``) is read
        without a call. (CustomDict's ``__setattr__`` stores in the dict's entries, never in
        ``__dict__``, so nothing else can put a value there.)"""

        def __get__(self, item, owner=None):  # type: ignore[no-untyped-def]
            if item is None:
                return self
            return reference(item)

    item_cls.bibliography = property(bibliography)
    item_cls.reference = Reference()


# --- memos of pure functions of the parsed style --------------------------------------------------

_CALLS_VARIABLE: dict[object, bool] = {}


def _patch_tree_lookups() -> None:  # noqa: C901 — one closure per patched method
    element = model.CitationStylesElement
    objectified = model.SomewhatObjectifiedElement
    find_child = objectified.__getattr__
    children: dict[tuple[object, str], object] = {}

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        """``element.layout``, ``root.bibliography``, ``names.name``…: a search of the children
        (~100 macros precede APA's bibliography) on every reference. The children of a parsed
        element never change, except a ``cs:names``' (see the module docstring), but the
        elements citeproc-py puts there are tagged ``Name``, outside the CSL namespace the search
        is for: the answer is the same. Python attributes set later (``root.formatter``) are
        found before this is asked."""
        key = (self, name)
        hit = children.get(key, _MISSING)
        if hit is _MISSING:
            hit = find_child(self, name)
            if _parsed(self):
                children[key] = hit
        return hit

    objectified.__getattr__ = __getattr__

    xpath_search = element.xpath_search
    searches: dict[tuple[object, str], list] = {}

    def memo_xpath_search(self, expression):  # type: ignore[no-untyped-def]
        """Two queries asked for every reference: a ``cs:date-part`` of a style's date by its
        name (``Date_Part.process``; the names of date-parts are never changed, citeproc-py only
        copies attributes onto a locale's date-part from the style's one of the same name) and
        the ``cs:names`` a ``cs:substitute`` is in (``Substitute.render``). Their answers on a
        parsed element are fixed; other queries are asked as before. A copy of the list is
        returned, as XPath returns a new one."""
        if expression.startswith(cacheable) and _parsed(self):
            key = (self, expression)
            hit = searches.get(key)
            if hit is None:
                hit = searches[key] = xpath_search(self, expression)
            return list(hit)
        return xpath_search(self, expression)

    cacheable = ('./cs:date-part[@name="', "./parent::cs:names[1]")
    element.xpath_search = memo_xpath_search
    locale_cls = model.Locale
    roots: dict[object, object] = {}
    layouts: dict[object, object] = {}
    macros: dict[tuple[object, str], object] = {}
    get_macro = element.get_macro
    get_layout = element.get_layout

    def get_root(self):  # type: ignore[no-untyped-def]
        """Asked ~200 times per reference (formatter, terms, options); walks to the root each
        time, and an element of a parsed style never moves to another tree."""
        root = roots.get(self)
        if root is None:
            root = self.getroottree().getroot()
            if _parsed(self):
                roots[self] = root
        return root

    def get_formatter(self):  # type: ignore[no-untyped-def]
        """As the original, with the root from :func:`get_root`'s memo (called once per
        formatting step). The formatter itself is read each time: each bibliography sets it."""
        root = get_root(self)
        if isinstance(root, locale_cls):
            return root.style.formatter
        return root.formatter

    def memo_get_macro(self, name):  # type: ignore[no-untyped-def]
        """An XPath query over the whole style for every ``<text macro=…>`` rendered; a macro's
        element is fixed once the style is parsed."""
        root = get_root(self)
        hit = macros.get((root, name))
        if hit is None:
            hit = macros[root, name] = get_macro(self, name)
        return hit

    def memo_get_layout(self):  # type: ignore[no-untyped-def]
        """An ancestor-or-self XPath query for every variable rendered; ancestors are fixed."""
        hit = layouts.get(self)
        if hit is None:
            hit = get_layout(self)
            if _parsed(self):
                layouts[self] = hit
        return hit

    element.get_root = get_root
    element.get_formatter = get_formatter
    element.get_macro = memo_get_macro
    element.get_layout = memo_get_layout

    for cls in (model.Parent, model.Text):
        calls_variable = cls.calls_variable

        def memo_calls_variable(self, _original=calls_variable):  # type: ignore[no-untyped-def]
            """Re-walks a subtree (through its macros) for every child of every group rendered;
            depends only on the style's elements and their variable/macro attributes."""
            hit = _CALLS_VARIABLE.get(self)
            if hit is None:
                hit = _original(self)
                if _parsed(self):
                    _CALLS_VARIABLE[self] = hit
            return hit

        cls.calls_variable = memo_calls_variable


def _patch_locale_lookups() -> None:
    element = model.CitationStylesElement
    locale_cls = model.Locale
    get_term = element.get_term
    get_date = element.get_date
    get_locale_option = element.get_locale_option
    memos: dict[object, tuple[object, dict]] = {}

    def locale_memo(root):  # type: ignore[no-untyped-def]
        """The answers for a style root, valid as long as its list of locales is the same."""
        locales = root.__dict__.get("locales")
        hit = memos.get(root)
        if hit is None or hit[0] is not locales:
            hit = memos[root] = (locales, {})
        return hit[1]

    def memo_get_term(self, name, form=None, fallback_locale=True, zero_padded=False):  # type: ignore[no-untyped-def]
        """An XPath query into the locales for every term (punctuation, "et al.", months…); a
        style's locales are parsed with it and never change."""
        root = self.get_root()
        if isinstance(root, locale_cls):
            return get_term(self, name, form, fallback_locale, zero_padded)
        memo = locale_memo(root)
        key = ("term", name, form, fallback_locale, zero_padded)
        hit = memo.get(key, _MISSING)
        if hit is _MISSING:
            hit = memo[key] = get_term(self, name, form, fallback_locale, zero_padded)
        return hit

    def memo_get_date(self, form):  # type: ignore[no-untyped-def]
        """An XPath query into the locales for each localized date; the same element each time."""
        memo = locale_memo(self.get_root())
        key = ("date", form)
        hit = memo.get(key, _MISSING)
        if hit is _MISSING:
            hit = memo[key] = get_date(self, form)
        return hit

    def memo_get_locale_option(self, name):  # type: ignore[no-untyped-def]
        """Asked by every text element (punctuation-in-quote); the locales' options are fixed."""
        root = self.get_root()
        if isinstance(root, locale_cls):
            return get_locale_option(self, name)
        memo = locale_memo(root)
        key = ("option", name)
        hit = memo.get(key, _MISSING)
        if hit is _MISSING:
            hit = memo[key] = get_locale_option(self, name)
        return hit

    element.get_term = memo_get_term
    element.get_date = memo_get_date
    element.get_locale_option = memo_get_locale_option


def _patch_names() -> None:
    names_cls = model.Names
    name_cls = model.Name
    get_parent_delimiter = names_cls.get_parent_delimiter
    substitute = names_cls.substitute
    get_option = name_cls.get_option
    delimiters: dict[object, object] = {}
    substitutes: dict[object, object] = {}
    options: dict[tuple[object, str, object], object] = {}
    et_als: dict[object, list] = {}

    def memo_get_parent_delimiter(self, context=None):  # type: ignore[no-untyped-def]
        """An ancestor XPath query plus an attribute of the enclosing citation/bibliography."""
        key = self if context is None else context
        hit = delimiters.get(key, _MISSING)
        if hit is _MISSING:
            hit = get_parent_delimiter(self, context)
            if _parsed(key):
                delimiters[key] = hit
        return hit

    def memo_substitute(self):  # type: ignore[no-untyped-def]
        """A child XPath query; a ``cs:substitute`` is never added or removed."""
        hit = substitutes.get(self, _MISSING)
        if hit is _MISSING:
            hit = substitute(self)
            if _parsed(self):
                substitutes[self] = hit
        return hit

    def memo_get_option(self, name, context=None, sort_options=None):  # type: ignore[no-untyped-def]
        """~15 options per list of names, each an ancestor XPath query and attribute reads on
        the style: fixed, unless a sort key overrides the option (then asked afresh)."""
        if sort_options is not None:
            try:
                sort_options[name]
            except (TypeError, KeyError):
                pass
            else:
                return get_option(self, name, context, sort_options)
        key = (self, name, context)
        hit = options.get(key, _MISSING)
        if hit is _MISSING:
            shared = not _parsed(self) and context is not None and not len(self.attrib)
            if shared:
                # A Name created by Names.process (one per call): without attributes of its
                # own, its options are those of the context's citation/bibliography.
                key = (None, name, context)
                hit = options.get(key, _MISSING)
                if hit is not _MISSING:
                    return hit
            hit = get_option(self, name, context, sort_options)
            if (shared or _parsed(self)) and (context is None or _parsed(context)):
                options[key] = hit
        return hit

    et_al_expression = "./following-sibling::cs:et-al[1]"

    def et_al(self):  # type: ignore[no-untyped-def]
        """The original, with its sibling XPath query answered once (the ``cs:et-al`` siblings
        after a ``cs:name`` never change)."""
        key = self
        if not _parsed(self):
            # A Name created by Names.process, put first in a parsed cs:names: its following
            # siblings are that element's other children, the same each time.
            parent = self.getparent()
            key = None
            if parent is not None and _parsed(parent) and parent[0] is self:
                key = (parent, 0)
        found = et_als.get(key) if key is not None else None
        if found is None:
            found = self.xpath_search(et_al_expression)
            if key is not None:
                et_als[key] = found
        try:
            return found[0].render()
        except IndexError:
            return self.get_single_term(name="et-al")

    process = names_cls.process
    created_tag = name_cls.__name__

    def process_and_tidy(self, item, names_context=None, context=None, **kwargs):  # type: ignore[no-untyped-def]
        """The original, then the ``Name`` elements it inserted at the front of the
        ``cs:names`` removed again (each call makes its own; nothing looks for them later)."""
        target = self if names_context is None else names_context
        before = len(target)
        try:
            return process(self, item, names_context=names_context, context=context, **kwargs)
        finally:
            for _ in range(len(target) - before):
                first = target[0]
                # Its Python proxy is gone by now, so lxml hands back a plain element: known by
                # its tag, the class name without the CSL namespace every parsed element has.
                if first.tag != created_tag or _parsed(first):
                    break
                target.remove(first)

    names_cls.process = process_and_tidy
    names_cls.get_parent_delimiter = memo_get_parent_delimiter
    names_cls.substitute = memo_substitute
    name_cls.get_option = memo_get_option
    name_cls.et_al = et_al


def _patch_dates() -> None:
    date_cls = model.Date
    is_locale_date = date_cls.is_locale_date
    answers: dict[object, bool] = {}

    def memo_is_locale_date(self):  # type: ignore[no-untyped-def]
        """An ancestor XPath query, several times per date rendered; ancestors are fixed."""
        hit = answers.get(self)
        if hit is None:
            hit = is_locale_date(self)
            if _parsed(self):
                answers[self] = hit
        return hit

    date_cls.is_locale_date = memo_is_locale_date


# --- answers kept per shape of item --------------------------------------------------------------

_SHAPE = "_ketsite_shape"  # an item's entry in its ``__dict__`` while it is rendered
_KEYS = "_ketsite_keys"  # in a shape's memo: the variables present
_TYPE = "_ketsite_type"  # the type
_LOCATOR = "_ketsite_locator"  # whether the item has a locator
_PLANS = "_ketsite_plans"  # the branches of each cs:choose to try
_LANGUAGE = "_ketsite_language"  # the language's first two letters, or _MISSING
_UNKNOWN = object()
_SHAPES: dict[tuple, dict] = {}
_MAX_SHAPES = 1024
_READS: dict[object, frozenset | None] = {}


def _shape_memo(item, reference):  # type: ignore[no-untyped-def]
    """The memo of answers for items of the reference's shape: its type, which variables it has,
    its language, and whether the item has a locator (everything a style can ask about a
    reference other than the values of its variables). ``None`` when that cannot be told."""
    if type(reference) is not source.Reference:
        return None
    language = dict.get(reference, "language", _MISSING)
    if language is not _MISSING and type(language) is not str:
        return None
    keys = frozenset(reference)
    shape = (dict.get(reference, "type"), keys, language, "locator" in item)
    try:
        memo = _SHAPES.get(shape)
    except TypeError:  # an unhashable type
        return None
    if memo is None:
        if len(_SHAPES) >= _MAX_SHAPES:
            _SHAPES.clear()  # start afresh: ~15 KB each, and a few hundred make most libraries
        memo = _SHAPES[shape] = {_KEYS: keys, _TYPE: shape[0], _LOCATOR: shape[3], _PLANS: {},
                                 _LANGUAGE: language if language is _MISSING else language[:2]}
    return memo


def _pinned_memo(item):  # type: ignore[no-untyped-def]
    """The answers for the shape of the item being rendered, if pinned to it (else ``None``)."""
    try:
        return item.__dict__.get(_SHAPE)
    except AttributeError:
        return None


def _known(child, memo):  # type: ignore[no-untyped-def]
    """What the shape's memo knows of ``child``: ``True`` renders nothing (pass it over),
    ``_UNKNOWN`` to be learnt from this rendering (:func:`_learn`), ``False`` render it."""
    if memo is None:
        return False
    known = memo.get(child)
    if known is None:
        known = memo[child] = _nothing_test(child, memo)
    return known


def _learn(child, memo, known, rendered_nothing):  # type: ignore[no-untyped-def]
    """Record what rendering ``child`` showed, where the memo was waiting for it."""
    if known is _UNKNOWN:
        memo[child] = rendered_nothing


def _nothing_test(element, memo):  # type: ignore[no-untyped-def]
    """``_UNKNOWN`` if the element reads no variable the shape's items have (so rendering it for
    one of them tells for all, see :func:`_reads`), else ``False`` (it must be rendered)."""
    reads = _reads(element)
    return _UNKNOWN if reads is not None and memo[_KEYS].isdisjoint(reads) else False


def _reads(element, macros=()):  # type: ignore[no-untyped-def]  # noqa: C901, PLR0911, PLR0912
    """The variables (CSL-JSON item keys) whose values rendering the element may read, or
    ``None`` if that is not known here.

    When an item has none of them, every question the element's rendering asks about the item
    is one its *shape* answers (:func:`_shape_memo`): which type, which variables are present
    (conditions, substitutes, names), the language; each variable it looks up is missing and
    raises. The style and locale are fixed. The only other state it reads is the layout's list
    of variables already substituted, which decides whether a missing variable's text renders
    ``None`` or raises VariableError, and its parent (a group, a macro, a branch of a choose,
    the layout) treats both alike. So an element that rendered nothing there (failed for want
    of a variable or returned ``None``) for one item of the shape does so for every item of the
    shape, and its parent may pass it over (``group_process``, ``render_children``). It changes
    nothing meanwhile: only a substitute that renders text notes a variable, and then it and its
    ancestors render something.

    Not known (``None``): conditions on position or locator, citation numbers and locators
    (they read the citation, not the reference), and any element not listed."""
    hit = _READS.get(element, _MISSING)
    if hit is not _MISSING:
        return hit
    m = model
    attrs = _attrs(element)
    reads: set | None = set()

    def variables(name):  # type: ignore[no-untyped-def]
        names = attrs[name].split()
        return {*names, *(n.replace("-", "_") for n in names)}

    def union(children):  # type: ignore[no-untyped-def]
        for child in children:
            child_reads = _reads(child, macros)
            if child_reads is None:
                return None
            reads.update(child_reads)
        return reads

    if attrs is None or not _parsed(element):
        reads = None
    elif isinstance(element, (m.Group, m.Choose, m.Else, m.Macro, m.Substitute)):
        reads = union(element.iterchildren())
    elif isinstance(element, m.If):
        if "position" in attrs or "locator" in attrs:
            reads = None
        else:
            for name in ("variable", "is-numeric", "is-uncertain-date"):
                if name in attrs:
                    reads.update(variables(name))
            reads = union(element.iterchildren())
    elif isinstance(element, m.Text):
        if "variable" in attrs:
            if attrs["variable"] in ("citation-number", "locator"):
                reads = None
            else:
                reads.update(variables("variable"))
                reads.update([f"{v}_short" for v in reads])  # form="short" asks for these
        elif "macro" in attrs:
            try:
                macro = element.get_macro(attrs["macro"])
            except Exception:  # noqa: BLE001 — fails where the original renders it
                macro = None
            macro_reads = (None if macro is None or macro in macros
                           else _reads(macro, (*macros, macro)))
            reads = None if macro_reads is None else set(macro_reads)
        elif "term" not in attrs and "value" not in attrs:
            reads = None
    elif isinstance(element, (m.Number, m.Label, m.Date)):
        if attrs.get("variable") in (None, "citation-number", "locator"):
            reads = None
        else:
            reads.update(variables("variable"))
    elif isinstance(element, m.Names):
        if "variable" not in attrs:
            reads = None
        else:
            reads.update(variables("variable"))
            # cs:name, cs:et-al and cs:label are rendered for a present variable only
            reads = union(child for child in element.iterchildren()
                          if isinstance(child, m.Substitute))
    else:
        reads = None
    if reads is not None and any(v.startswith("page") for v in reads):
        reads.add("page")  # page-first is read from page
    hit = None if reads is None else frozenset(reads)
    _READS[element] = hit
    return hit


# --- an equivalent rewrite of citeproc-py's string seams -----------------------------------------

def _patch_strings() -> None:
    mixed_cls = strings.MixedString
    strip_first_char = strings._strip_first_char  # noqa: SLF001
    punctuation = strings.SEAM_PUNCTUATION

    def normalize_seam(left, other):  # type: ignore[no-untyped-def]
        """``normalize_seam``, which only compares the last character of ``left`` with the first
        of ``other``, without joining a MixedString's segments into a new string to find them
        (every concatenation, join and affix asks, with the whole entry so far as ``left``): the
        last character of ``''.join(map(str, segments))`` is that of the last segment that is
        not empty, and likewise for the first."""
        if type(left) is mixed_cls:
            last = ""
            for segment in reversed(left):
                segment = str(segment)  # noqa: PLW2901
                if segment:
                    last = segment[-1]
                    break
        else:
            left = str(left)
            last = left[-1] if left else ""
        if type(other) is mixed_cls:
            first = ""
            for segment in other:
                segment = str(segment)  # noqa: PLW2901
                if segment:
                    first = segment[0]
                    break
        else:
            other_str = str(other)
            first = other_str[0] if other_str else ""
        if not last or not first:
            return other
        if last == first and (first == " " or first in punctuation):
            return strip_first_char(other)
        return other

    # string.py's functions and methods find it as a global of their module; model.py imported
    # the name.
    strings.normalize_seam = normalize_seam
    model.normalize_seam = normalize_seam


# --- equivalent rewrites of the hottest rendering methods -----------------------------------------

def _patch_rendering() -> None:  # noqa: C901 — one closure per patched method
    m = model
    variable_error = source.VariableError
    reference_cls = source.Reference
    string_cls = m.String
    normalize_seam = m.normalize_seam
    join = m.join
    choose_cls = m.Choose
    if_cls = m.If
    condition_failed = m.ConditionFailed
    dict_get = dict.get

    format_attrs = ("font-style", "font-variant", "font-weight", "text-decoration",
                    "vertical-align")
    formatted_format = m.Formatted.format
    plain: dict[object, bool] = {}

    def format(self, string):  # type: ignore[no-untyped-def]
        """``Formatted.format`` reads five attributes and the formatter five times per rendered
        element, almost always to do nothing: that case is decided once per element. The
        formatter is asked for as the original does (it fails without one), except for an
        element of a style, whose ``get_formatter`` cannot fail (``root.formatter`` is found by
        a search of the children when it is not set)."""
        is_plain = plain.get(self)
        if is_plain is None:
            attrs = _attrs(self)
            is_plain = attrs is not None and not any(a in attrs for a in format_attrs)
            if is_plain and not isinstance(self.get_root(), m.Locale):
                is_plain = "in a style"
            if _parsed(self):
                plain[self] = is_plain
        if not is_plain:
            return formatted_format(self, string)
        if isinstance(string, (int, float)):
            string = str(string)
        if is_plain is True:
            self.get_formatter()  # as the original, which asks for it (and fails without one)
        return string

    affixes: dict[object, tuple[str, str]] = {}

    def wrap(self, string):  # type: ignore[no-untyped-def]
        """``Affixed.wrap`` with the affixes looked up once (but a ``cs:date-part``'s each
        time, see :func:`_attrs`); the seam adjustment is skipped for an empty prefix or suffix,
        for which it returns its argument unchanged."""
        if string is not None:
            hit = affixes.get(self)
            if hit is None:
                hit = (_get(self, "prefix", ""), _get(self, "suffix", ""))
                if _parsed(self) and _attrs(self) is not None:
                    affixes[self] = hit
            prefix, suffix = hit
            if prefix:
                string = normalize_seam(prefix, string)
            text = prefix + string
            if suffix:
                return text + normalize_seam(text, suffix)
            return text + ""
        return None

    def quote(self, string):  # type: ignore[no-untyped-def]
        """``Quoted.quote`` with cached attributes."""
        self.get_locale_option("punctuation-in-quote").lower()  # read (unused) as the original
        if _get(self, "quotes", "false").lower() == "true":
            open_quote = self.get_single_term(name="open-quote")
            close_quote = self.get_single_term(name="close-quote")
            string = open_quote + string + close_quote
        return string

    def strip_periods(self, string):  # type: ignore[no-untyped-def]
        """``StrippedPeriods.strip_periods`` with cached attributes."""
        if _get(self, "strip-periods", "false").lower() == "true":
            string = string.replace(".", "")
        return string

    text_case = m.TextCased.case

    def case(self, text, language=None):  # type: ignore[no-untyped-def]
        """``TextCased.case``, returning at once (cached attributes) without ``text-case``."""
        if _get(self, "text-case") is None:
            return text
        return text_case(self, text, language)

    def join_(self, strings, default_delimiter=""):  # type: ignore[no-untyped-def]
        """``Delimited.join`` with cached attributes."""
        delimiter = _get(self, "delimiter", default_delimiter)
        try:
            text = join((s for s in strings if s is not None), delimiter)
        except:  # noqa: E722 — as the original
            text = string_cls("")
        return text

    m.Formatted.format = format
    m.Affixed.wrap = wrap
    m.Quoted.quote = quote
    m.StrippedPeriods.strip_periods = strip_periods
    m.TextCased.case = case
    m.Delimited.join = join_

    text_process = m.Text.process
    languages: dict[object, str] = {}

    def default_language(root):  # type: ignore[no-untyped-def]
        hit = languages.get(root)
        if hit is None:
            hit = languages[root] = root.get("default-locale", "en")[:2]
        return hit

    def process(self, item, context=None, **kwargs):  # type: ignore[no-untyped-def]
        """``Text.process`` without raising and catching a VariableError per text element for
        an item without a language, and with cached attributes."""
        attrs = _attrs(self)
        if context is None:
            context = self
        try:
            reference = item.reference
        except variable_error:
            language = default_language(self.get_root())
        else:
            if type(reference) is reference_cls:  # its attributes are its dict entries
                value = dict_get(reference, "language", _MISSING)
                language = (default_language(self.get_root()) if value is _MISSING
                            else value[:2])
            else:
                try:
                    language = reference.language[:2]
                except variable_error:
                    language = default_language(self.get_root())
        if "variable" in attrs:
            text = self._variable(item, context)
        elif "macro" in attrs:
            text = self.get_macro(attrs["macro"]).render(item, context)
        elif "term" in attrs:
            text = self._term(item)
        elif "value" in attrs:
            text = string_cls(self.preformat(attrs["value"]))
        else:
            return text_process(self, item, context, **kwargs)  # fails as the original does
        return text, language

    m.Text.process = process

    def render_children(self, item, delimiter="", **kwargs):  # type: ignore[no-untyped-def]
        """``Parent.render_children`` over the cached list of children, passing over a child
        known to render nothing for items of this shape (:func:`_shape_memo`)."""
        memo = _pinned_memo(item)
        output = []
        for child in _children(self):
            known = _known(child, memo)
            if known is True:
                continue
            try:
                if isinstance(child, choose_cls):
                    text = child.render(item, delimiter=delimiter, **kwargs)
                else:
                    text = child.render(item, **kwargs)
            except variable_error:
                _learn(child, memo, known, True)
                continue
            _learn(child, memo, known, text is None)
            if text is not None:
                output.append(text)
        if output:
            return join(output, delimiter)
        else:
            return None

    m.Parent.render_children = render_children

    def calls_variable(child):  # type: ignore[no-untyped-def]
        """``child.calls_variable()``, from the memo when answered before: the method of every
        element class is a pure function of the style (a constant, an attribute, or the
        memoised walk of Parent/Text)."""
        hit = _CALLS_VARIABLE.get(child)
        if hit is None:
            hit = child.calls_variable()
            if _parsed(child):
                _CALLS_VARIABLE[child] = hit
        return hit

    group_plans: dict[object, tuple] = {}

    def group_plan(self):  # type: ignore[no-untyped-def]
        """A group's children, each with whether it calls a variable and is a cs:choose, and
        its delimiter: pure functions of the style, looked up once. Whether a child calls a
        variable is left to be asked when needed (``None``) if asking fails."""
        plan = group_plans.get(self)
        if plan is None:
            entries = []
            for child in _children(self):
                try:
                    calls = calls_variable(child)
                except Exception:  # noqa: BLE001 — raised again where the original asks
                    calls = None
                entries.append((child, calls, isinstance(child, choose_cls)))
            plan = (tuple(entries), _get(self, "delimiter", ""))
            if _parsed(self):
                group_plans[self] = plan
        return plan

    def group_process(self, item, context=None, **kwargs):  # type: ignore[no-untyped-def]
        """``Group.process`` over the group's plan (:func:`group_plan`), passing over a child
        known to render nothing for items of this shape (:func:`_shape_memo`)."""
        entries, delimiter = group_plan(self)
        memo = _pinned_memo(item)
        output = []
        variable_called = False
        variable_rendered = False
        for child, calls, is_choose in entries:
            if not variable_called:
                variable_called = calls_variable(child) if calls is None else calls
            known = _known(child, memo)
            if known is True:
                continue
            try:
                if is_choose:
                    child_text = child.render(item, context=context,
                                              delimiter=delimiter, **kwargs)
                else:
                    child_text = child.render(item, context=context, **kwargs)
            except variable_error:
                _learn(child, memo, known, True)
                continue
            _learn(child, memo, known, child_text is None)
            if child_text is not None:
                output.append(child_text)
                if not variable_rendered:
                    variable_rendered = calls_variable(child) if calls is None else calls
        if output and (not variable_called or variable_rendered):
            return join_(self, output)
        raise variable_error

    def group_render(self, item, context=None, **kwargs):  # type: ignore[no-untyped-def]
        """``Group.render``, that is ``markup(process(…))``, in one call."""
        text = group_process(self, item, context, **kwargs)
        if text:
            return wrap(self, format(self, text))
        return None

    m.Group.process = group_process
    m.Group.render = group_render

    # cs:if and cs:else-if: the test read from the attributes once, and evaluated from cs:choose
    # without raising ConditionFailed for every branch not taken.
    other_tests = (("is-numeric", "_is_numeric"), ("is-uncertain-date", "_is_uncertain_date"),
                   ("locator", "_locator"))
    specs: dict[object, tuple] = {}

    def if_spec(self):  # type: ignore[no-untyped-def]
        spec = specs.get(self)
        if spec is None:
            attrs = _attrs(self)
            types = variables = None
            if "type" in attrs:
                types = [typ.lower() for typ in attrs["type"].split()]
            if "variable" in attrs:
                variables = [var.replace("-", "_") for var in attrs["variable"].split()]
            others = tuple(method for attr, method in other_tests if attr in attrs)
            spec = (types, variables, others, "position" in attrs, attrs.get("match"))
            if _parsed(self):
                specs[self] = spec
        return spec

    def if_holds(self, item, context):  # type: ignore[no-untyped-def]
        """Whether the test of a cs:if/cs:else-if holds: ``If.render``'s, same order of reads."""
        types, variables, others, position, match = if_spec(self)
        results = []
        if types:
            reference_type = item.reference.type
            results += [typ == reference_type for typ in types]
        if variables is not None:
            reference = _MISSING  # read when first needed, as the original does
            for variable in variables:
                if variable == "locator":
                    results.append("locator" in item)
                else:
                    if reference is _MISSING:
                        reference = item.reference
                    results.append(variable in reference)
        for method in others:
            results += getattr(self, method)(item)
        if position:
            results += self._position(item, context)
        if match == "any":
            return any(results)
        elif match == "none":
            return not any(results)
        else:
            return all(results)

    def if_render(self, item, context=None, delimiter="", **kwargs):  # type: ignore[no-untyped-def]
        """``If.render`` with the test from :func:`if_holds`."""
        if not if_holds(self, item, context):
            raise condition_failed
        return self.render_children(item, context=context, delimiter=delimiter, **kwargs)

    m.If.render = if_render

    holds, evaluate, other = 1, 2, 3

    def shape_holds(self, memo):  # type: ignore[no-untyped-def]
        """The test of a cs:if/cs:else-if as :func:`if_holds` decides it for every item of the
        shape (type, variables present, locator present), or ``None`` if it reads more: a
        position, a locator's label, or whether a present variable is numeric or uncertain."""
        types, variables, others, position, match = if_spec(self)
        keys, reference_type, has_locator = memo[_KEYS], memo[_TYPE], memo[_LOCATOR]
        if position or "_locator" in others or (types and "type" not in keys):
            return None
        results = []
        if types:
            results += [typ == reference_type for typ in types]
        if variables is not None:
            results += [has_locator if variable == "locator" else variable in keys
                        for variable in variables]
        for attr, method in other_tests:
            if method in others:
                for variable in _attrs(self)[attr].split():
                    if variable.replace("-", "_") in keys:
                        return None
                    results.append(False)  # a missing variable is neither
        if match == "any":
            return any(results)
        elif match == "none":
            return not any(results)
        else:
            return all(results)

    def branches(self, memo):  # type: ignore[no-untyped-def]
        """The children of a cs:choose to try for items of the shape, in order: a branch whose
        test fails for all of them is left out, one whose test holds for all is marked so."""
        plans = memo[_PLANS]
        plan = plans.get(self)
        if plan is None:
            plan = []
            for child in _children(self):
                if isinstance(child, if_cls) and type(child).render is if_render:
                    test = shape_holds(child, memo)
                    if test is False:
                        continue
                    plan.append((child, evaluate if test is None else holds))
                else:
                    plan.append((child, other))
            plan = tuple(plan)
            if _parsed(self):
                plans[self] = plan
        return plan

    def choose_render(self, item, context=None, delimiter="", **kwargs):  # type: ignore[no-untyped-def]
        """``Choose.render``: a cs:if/cs:else-if whose test fails is passed over without raising
        and catching ConditionFailed, the original's way of moving on to the next branch. Tests
        decided by the item's shape (:func:`_shape_memo`) are not evaluated again."""
        memo = _pinned_memo(item)
        if memo is None:
            for child in _children(self):
                try:
                    if isinstance(child, if_cls) and type(child).render is if_render:
                        if not if_holds(child, item, context):
                            continue
                        return child.render_children(item, context=context,
                                                     delimiter=delimiter, **kwargs)
                    return child.render(item, context=context, delimiter=delimiter, **kwargs)
                except condition_failed:
                    continue
            return None
        for child, how in branches(self, memo):
            try:
                if how is other:
                    return child.render(item, context=context, delimiter=delimiter, **kwargs)
                if how is evaluate and not if_holds(child, item, context):
                    continue
                return child.render_children(item, context=context,
                                             delimiter=delimiter, **kwargs)
            except condition_failed:
                continue
        return None

    m.Choose.render = choose_render

    plans: dict[object, tuple[bool, bool, bool]] = {}
    contents: dict[object, tuple] = {}
    punctuation_checked: dict[object, tuple[object, object]] = {}
    variable_, macro_ = 1, 2
    text_variable = m.Text._variable
    macro_render = m.Macro.render

    def content_plan(self):  # type: ignore[no-untyped-def]
        """What a cs:text renders, from its attributes, looked up once: ``(variable_, name,
        its item key, the key of its short form or None, the element's tag)``, ``(macro_,
        macro element)``, or ``(None,)`` for the rest (a term, a value, a macro not found…),
        which :func:`process` renders as before. ``None`` when the element's class has other
        methods than these patches expect."""
        plan = contents.get(self, _MISSING)
        if plan is _MISSING:
            attrs = _attrs(self)
            plan = (None,)
            if type(self).process is not process or type(self)._variable is not text_variable:
                plan = None
            elif "variable" in attrs:
                variable = attrs["variable"]
                if not variable.startswith("page") and variable not in ("citation-number",
                                                                       "locator"):
                    short = (variable + "-short").replace("-", "_")
                    plan = (variable_, variable, variable.replace("-", "_"),
                            short if attrs.get("form") == "short" else None, self.tag)
            elif "macro" in attrs:
                try:
                    macro = self.get_macro(attrs["macro"])
                except Exception:  # noqa: BLE001 — fails again where the original renders it
                    macro = None
                if (type(macro).render is macro_render
                        and type(macro).render_children is render_children):
                    plan = (macro_, macro)
            if _parsed(self):
                contents[self] = plan
        return plan

    def text_render(self, item, context=None, **kwargs):  # type: ignore[no-untyped-def]
        """``Text.render`` (``process`` then ``markup``) with markup's steps that do nothing for
        this element (decided once from its attributes) skipped, the others run as before.
        While a bibliography entry is rendered (:func:`_shape_memo`), the most common contents
        are rendered here: a variable (``Text._variable`` with the attributes, the tag and the
        layout looked up once) and a macro (``Macro.render``'s one call made directly); the
        language is the shape's."""
        memo = _pinned_memo(item)
        content = None if memo is None else content_plan(self)
        kind = None if content is None else content[0]
        if kind is None:
            text, language = self.process(item, context, **kwargs)
        else:
            if context is None:
                context = self
            language = _MISSING  # read below if needed: the shape's, or the style's default
            if kind is variable_:
                _, variable, key, short, tag = content
                repressed = context.get_layout().repressed
                if tag in repressed and variable in repressed[tag]:
                    return None
                reference = item.reference
                if short is not None and short in reference:
                    key = short
                text = reference[key]
            else:
                text = render_children(content[1], item, context=context, sort_options=None)
        if not text:
            return None
        plan = plans.get(self)
        if plan is None:
            attrs = _attrs(self)
            plan = (attrs.get("strip-periods", "false").lower() == "true",
                    attrs.get("text-case") is not None,
                    attrs.get("quotes", "false").lower() == "true")
            if _parsed(self):
                plans[self] = plan
        strip, cased, quoted = plan
        if strip:
            text = text.replace(".", "")
        if cased:
            if language is _MISSING:
                language = memo[_LANGUAGE]
                if language is _MISSING:
                    language = default_language(self.get_root())
            text = text_case(self, text, language)
        text = format(self, text)
        checked = punctuation_checked.get(self)
        if checked is None or checked[0].__dict__.get("locales") is not checked[1]:
            # read (unused) as the original; once it is known to be a string for the style's
            # list of locales, the memo gives the same again (see memo_get_locale_option)
            option = self.get_locale_option("punctuation-in-quote")
            option.lower()
            root = self.get_root()
            if type(option) is str and _parsed(self) and not isinstance(root, m.Locale):
                punctuation_checked[self] = (root, root.__dict__.get("locales"))
        if quoted:
            text = self.get_single_term(name="open-quote") + text + self.get_single_term(
                name="close-quote")
        return wrap(self, text)

    m.Text.render = text_render

    reference_descriptor = source.CitationItem.__dict__["reference"]

    def render_bibliography(self, citation_items):  # type: ignore[no-untyped-def]
        """``Layout.render_bibliography`` with each item's ``reference`` (a chain of four
        look-ups, read ~100 times per reference) pinned while that item is rendered: rendering
        only reads the item, its citation, the bibliography and its source, so the chain's
        answer cannot change meanwhile. If the chain fails it is not pinned (and fails where
        the original would). With the reference, the memo of its shape is pinned
        (:func:`_shape_memo`)."""
        output_items = []
        for item in citation_items:
            pinned = False
            if type(item).__dict__.get("reference", reference_descriptor) is reference_descriptor:
                try:
                    item.__dict__["reference"] = reference_descriptor.__get__(item)
                    pinned = True
                except Exception:  # noqa: BLE001, S110 — raised again where it is read
                    pass
            try:
                if pinned:
                    item.__dict__[_SHAPE] = _shape_memo(item, item.__dict__["reference"])
                self.repressed = {}
                text = self.format(self.wrap(self.render_children(item)))
            finally:
                if pinned:
                    del item.__dict__["reference"]
                    item.__dict__.pop(_SHAPE, None)
            if text is not None:
                output_items.append(text)
        return output_items

    m.Layout.render_bibliography = render_bibliography

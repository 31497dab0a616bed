/* ketsite search page: MiniSearch over window.KETSITE_SEARCH, results grouped by type.
 *
 * A classic script (no modules, no fetch), so it runs from file:// as well as over http, and an
 * external file, so it runs under the site's Content-Security-Policy (script-src 'self').
 * Without it the page keeps its plain list of everything (#search-fallback).
 */
(function () {
  "use strict";

  var box = document.getElementById("search");
  var fallback = document.getElementById("search-fallback");
  if (!box) {
    return;
  }
  if (typeof window.MiniSearch !== "function" || !window.KETSITE_SEARCH) {
    console.error("ketsite search: the search library or its index did not load; " +
                  "showing the list of everything instead");
    return;
  }

  var data = window.KETSITE_SEARCH;
  var root = box.getAttribute("data-root") || "./";
  var pretty = box.getAttribute("data-links") === "pretty";
  var form = box.querySelector("form");
  var input = document.getElementById("q");
  var status = document.getElementById("search-status");
  var results = document.getElementById("results");

  /* Words as the index and the query both see them: without accents, in one Unicode form
     ("José" typed with a combining accent, "cafe" for "café", "Lukasz" for "Łukasz"), and
     Chinese, Japanese and Korean text, written without spaces, as single characters. */
  var SPACE_OR_PUNCTUATION = /[\n\r\p{Z}\p{P}]+/u;
  var CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]|[^\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+/g;
  var LETTERS = { "\u0142": "l", "\u00f8": "o", "\u00df": "ss", "\u00e6": "ae", "\u0153": "oe", "\u0111": "d", "\u0131": "i" };
  function tokenize(text) {
    var out = [];
    text.split(SPACE_OR_PUNCTUATION).forEach(function (word) {
      if (word) { Array.prototype.push.apply(out, word.match(CJK)); }
    });
    return out;
  }
  function processTerm(term) {
    return term.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[\u0142\u00f8\u00df\u00e6\u0153\u0111\u0131]/g, function (c) { return LETTERS[c]; });
  }

  var engine = new window.MiniSearch({
    idField: "id",
    fields: data.fields,
    storeFields: data.storeFields,
    tokenize: tokenize,
    processTerm: processTerm
  });
  engine.addAll(data.documents);

  var options = {
    prefix: true,
    // Typos are forgiven in longer words only; short ones would match almost anything.
    fuzzy: function (term) { return term.length > 4 ? 0.2 : 0; },
    boost: data.boost,
    combineWith: "AND"
  };

  /* The link to a site-relative path (papers/x/index.html) from this page. */
  function href(path) {
    if (pretty) {
      path = path.replace(/(^|\/)index\.html$/, "$1");
    }
    return (root + path) || "./";
  }

  /* Identifiers as people paste them: a DOI as a link or after "doi:", a PubMed or PMC link,
     "PMID:" or "PMC:" before the number. The prefixes are not in the index (AND finds nothing). */
  function normalise(query) {
    return query
      .replace(/\bhttps?:\/\/(?:dx\.)?doi\.org\//gi, " ")
      .replace(/\bhttps?:\/\/(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov|ncbi\.nlm\.nih\.gov\/pmc\/articles)\//gi, " ")
      .replace(/\b(?:doi|pmid|pmcid|pmc)\s*:\s*/gi, " ");
  }

  /* Abbreviations clinicians type for a route or a design: "IV ketamine" finds the papers
     recorded as intravenous as well as those whose text says "IV". Each word of the query must
     match (AND); an abbreviation matches itself or what it stands for (OR). */
  var ABBREVIATIONS = {
    iv: ["intravenous"], im: ["intramuscular"], sc: ["subcutaneous"], sq: ["subcutaneous"],
    po: ["oral"], rct: ["randomised", "randomized"], rcts: ["randomised", "randomized"]
  };
  function expand(query) {
    var words = tokenize(query);
    var any = words.some(function (w) { return ABBREVIATIONS.hasOwnProperty(processTerm(w)); });
    if (!any) { return query; }
    return {
      combineWith: "AND",
      queries: words.map(function (w) {
        var term = processTerm(w);
        if (!ABBREVIATIONS.hasOwnProperty(term)) { return w; }
        return { combineWith: "OR", queries: [w].concat(ABBREVIATIONS[term]) };
      })
    };
  }

  /* Results of a query, grouped by type in the index's order: {total, groups: [...]}. */
  function search(query) {
    query = normalise(query);
    var hits = query.trim() ? engine.search(expand(query), options) : [];
    var byType = {};
    hits.forEach(function (hit) {
      (byType[hit.type] = byType[hit.type] || []).push(hit);
    });
    var groups = [];
    data.types.forEach(function (t) {
      if (byType[t[0]]) {
        groups.push({ type: t[0], label: t[1], one: t[2], hits: byType[t[0]] });
      }
    });
    return { total: hits.length, groups: groups };
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  /* A title in its own language (a screen reader reads it so), a translation in brackets after
     it in the page's, as the site's pages mark them. */
  function titleIn(link, title, lang) {
    var cut = /\]$/.test(title) ? title.lastIndexOf(" [") : -1;
    var own = el("span", null, cut > 0 ? title.slice(0, cut) : title);
    own.lang = lang;
    link.appendChild(own);
    if (cut > 0) {
      var translated = el("span", null, title.slice(cut + 1));
      translated.lang = document.documentElement.lang;
      link.appendChild(document.createTextNode(" "));
      link.appendChild(translated);
    }
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  /* The status is a live region: said at every keystroke it reads "72 results for k", "41
     results for ke"…; it is said once the typing pauses. */
  var statusTimer = null;
  function announce(text) {
    clearTimeout(statusTimer);
    if (!text) { status.textContent = ""; return; }
    statusTimer = setTimeout(function () { status.textContent = text; }, 350);
  }

  function render(query, found) {
    results.replaceChildren();
    found.groups.forEach(function (group) {
      var section = el("section", "result-group");
      var heading = el("h2", null, group.label + " (" + group.hits.length + ")");
      heading.id = "results-" + group.type;
      section.setAttribute("aria-labelledby", heading.id);
      var list = el("ul", "result-list");
      group.hits.forEach(function (hit) {
        var item = el("li");
        var link = el("a", "result-link", hit.lang ? null : hit.title);
        if (hit.lang) { titleIn(link, hit.title, hit.lang); }
        link.href = href(hit.path);
        item.appendChild(link);
        if (hit.meta) {
          item.appendChild(el("span", "result-meta", hit.meta));
        }
        list.appendChild(item);
      });
      section.appendChild(heading);
      section.appendChild(list);
      results.appendChild(section);
    });
    if (!query.trim()) {
      announce("");
    } else if (!found.total) {
      announce("No results for \u201c" + query.trim() + "\u201d.");
    } else {
      announce(plural(found.total, "result") + " for \u201c" + query.trim() + "\u201d: " +
        found.groups.map(function (g) {
          return plural(g.hits.length, g.one);
        }).join(", ") + ".");
    }
  }

  function remember(query) {
    // Keeps the query in the address, so Back from a result returns to the same results.
    try {
      var url = new URL(window.location.href);
      if (query.trim()) { url.searchParams.set("q", query); } else { url.searchParams.delete("q"); }
      window.history.replaceState(null, "", url.href);
    } catch (err) {
      // Some file:// setups refuse history changes; searching still works.
    }
  }

  function run() {
    render(input.value, search(input.value));
  }

  function links() {
    return Array.prototype.slice.call(results.querySelectorAll("a.result-link"));
  }

  input.addEventListener("input", run);
  input.addEventListener("change", function () { remember(input.value); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") {
      var all = links();
      if (all.length) {
        event.preventDefault();
        remember(input.value);
        all[0].focus();
      }
    }
  });
  results.addEventListener("keydown", function (event) {
    var all = links();
    var at = all.indexOf(document.activeElement);
    if (at < 0) { return; }
    if (event.key === "ArrowDown" && at < all.length - 1) {
      event.preventDefault();
      all[at + 1].focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      (at > 0 ? all[at - 1] : input).focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      input.focus();
    }
  });
  results.addEventListener("click", function () { remember(input.value); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();  // the results are already on the page
    remember(input.value);
    run();
  });

  box.hidden = false;
  if (fallback) { fallback.hidden = true; }
  var initial = new URLSearchParams(window.location.search).get("q");
  if (initial !== null) { input.value = initial; }
  if (input.value) { run(); }

  // For tests and measurements: the same query function the page uses.
  window.ketsiteSearch = { search: search, href: href, documents: data.documents.length };
}());

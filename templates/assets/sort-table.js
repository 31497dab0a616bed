/* Sortable tables, as a progressive enhancement.
 *
 * A table marked `data-sortable` is complete and in a meaningful order without this script (the
 * server renders it sorted). With it, every column heading marked `data-sort="number|text"` becomes
 * a button; pressing it sorts the rows by that column (cells may give a `data-sort-value`), and
 * pressing it again reverses the order. `aria-sort` on the heading says which column sorts the
 * table and which way; ties keep the server's order. A cell with nothing recorded (an empty
 * `data-sort-value`) goes last in either order, in every column. No inline code, so the site's
 * Content-Security-Policy (script-src 'self') holds.
 */
(function () {
  "use strict";

  function value(row, index, type) {
    var cell = row.cells[index];
    var raw = cell.hasAttribute("data-sort-value") ? cell.getAttribute("data-sort-value") : cell.textContent;
    if (!raw.trim()) return null;
    if (type === "number") {
      var n = parseFloat(raw);
      return isNaN(n) ? null : n;
    }
    return raw.trim().toLowerCase();
  }

  function compare(a, b) {
    if (typeof a === "number") return a - b;
    return a.localeCompare(b);
  }

  function enhance(table) {
    var body = table.tBodies[0];
    if (!body) return;
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row, i) { row.setAttribute("data-server-order", String(i)); });
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    table.parentNode.insertBefore(status, table.nextSibling);
    var headings = Array.prototype.slice.call(table.querySelectorAll("thead th[data-sort]"));

    headings.forEach(function (th) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      while (th.firstChild) button.appendChild(th.firstChild);
      // the arrow is drawn in a hidden span: aria-sort says the order, not the button's name
      var arrow = document.createElement("span");
      arrow.className = "sort-arrow";
      arrow.setAttribute("aria-hidden", "true");
      button.appendChild(arrow);
      th.appendChild(button);

      button.addEventListener("click", function () {
        var direction = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
        var type = th.getAttribute("data-sort");
        var index = th.cellIndex;
        var sign = direction === "ascending" ? 1 : -1;
        var current = Array.prototype.slice.call(body.rows);
        current.sort(function (a, b) {
          var va = value(a, index, type);
          var vb = value(b, index, type);
          if (va === null || vb === null) {
            if (va !== vb) return va === null ? 1 : -1;
          } else {
            var c = compare(va, vb);
            if (c !== 0) return sign * c;
          }
          return Number(a.getAttribute("data-server-order")) - Number(b.getAttribute("data-server-order"));
        });
        current.forEach(function (row) { body.appendChild(row); });
        headings.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", direction);
        var name = th.getAttribute("data-sort-label") || button.textContent.trim();
        status.textContent = "Sorted by " + name + ", " + direction + ".";
      });
    });
    table.classList.add("is-sortable");
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

/* ketsite serve only: reloads the page when the site is rebuilt, shows build errors meanwhile.
 * Added to pages by the preview server (ketsite/serve.py), never written by `ketsite build`.
 * External file + Server-Sent Events, so it runs under the site's CSP (script-src/connect-src 'self').
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var loaded = script ? new URL(script.src).searchParams.get("v") : null;
  var banner = null;

  function showErrors(errors) {
    if (!banner) {
      banner = document.createElement("div");
      banner.id = "ketsite-build-errors";
      banner.setAttribute("role", "alert");
      // CSSOM styles are allowed by a CSP without 'unsafe-inline' (style attributes are not).
      var s = banner.style;
      s.position = "fixed"; s.left = "0"; s.right = "0"; s.bottom = "0"; s.zIndex = "1000";
      s.maxHeight = "50vh"; s.overflow = "auto"; s.padding = "0.75rem 1rem";
      s.background = "#fff3f0"; s.color = "#5c0b00"; s.borderTop = "3px solid #a3261b";
      s.font = "0.9rem/1.4 ui-monospace, monospace";
      document.body.appendChild(banner);
    }
    banner.replaceChildren();
    var title = document.createElement("strong");
    title.textContent = "Build failed: showing the last good version. ";
    var link = document.createElement("a");
    link.href = "/__ketsite/errors";
    link.textContent = "All errors";
    var list = document.createElement("pre");
    list.textContent = errors.join("\n");
    banner.appendChild(title);
    banner.appendChild(link);
    banner.appendChild(list);
  }

  // says which version this page shows: the server ends the stream once it has told it of another
  var source = new EventSource("/__ketsite/events" + (loaded ? "?v=" + encodeURIComponent(loaded) : ""));
  source.addEventListener("message", function (event) {
    var state = JSON.parse(event.data);
    if (String(state.version) !== loaded) {
      source.close();
      window.location.reload();
      return;
    }
    if (state.errors.length) {
      showErrors(state.errors);
    } else if (banner) {
      banner.remove();
      banner = null;
    }
  });
}());

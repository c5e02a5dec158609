// Usage graphs: each element [data-usage-chart="ID"] is drawn by Plotly from the JSON in
// <script type="application/json" id="ID"> ({"figure": {data, layout}, "config": {...}}),
// on page load and again whenever HTMX swaps new content in (CSP: no inline script).
(function () {
  "use strict";

  function draw(root) {
    if (!window.Plotly || !root.querySelectorAll) return;
    var nodes = Array.prototype.slice.call(root.querySelectorAll("[data-usage-chart]"));
    if (root.matches && root.matches("[data-usage-chart]")) nodes.push(root);
    for (var i = 0; i < nodes.length; i++) {
      var source = document.getElementById(nodes[i].getAttribute("data-usage-chart"));
      if (!source) continue;
      var spec = JSON.parse(source.textContent);
      window.Plotly.react(nodes[i], spec.figure.data, spec.figure.layout, spec.config || {});
    }
  }

  if (window.htmx) {
    // htmx fires htmx:load for the initial page and for every swapped fragment.
    document.addEventListener("htmx:load", function (event) { draw(event.target); });
  } else {
    document.addEventListener("DOMContentLoaded", function () { draw(document); });
  }
})();

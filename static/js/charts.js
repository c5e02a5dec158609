// Draws every Plotly chart of the page: an element with data-plotly holds its figure as JSON
// (the figure itself, or the id of a <script type="application/json"> element holding it).
// Runs on page load and again after each HTMX swap, so swapped-in charts are drawn too.
// No inline script anywhere: the Content-Security-Policy forbids it.
(function () {
  "use strict";

  function figureOf(element) {
    var source = element.getAttribute("data-plotly") || "";
    if (source.charAt(0) !== "{") {
      var holder = document.getElementById(source);
      source = holder ? holder.textContent : "";
    }
    return source ? JSON.parse(source) : null;
  }

  function drawCharts() {
    if (!window.Plotly) {
      return;
    }
    document.querySelectorAll("[data-plotly]").forEach(function (element) {
      if (element.getAttribute("data-plotly-drawn") === "true") {
        return;
      }
      var figure = figureOf(element);
      if (!figure) {
        return;
      }
      var config = Object.assign({responsive: true, displaylogo: false}, figure.config || {});
      window.Plotly.newPlot(element, figure.data || [], figure.layout || {}, config);
      element.setAttribute("data-plotly-drawn", "true");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawCharts);
  } else {
    drawCharts();
  }
  document.addEventListener("htmx:afterSwap", drawCharts);
})();

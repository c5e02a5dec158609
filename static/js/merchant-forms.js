// Merchant portal forms: let HTMX swap refused input (422) so that the re-rendered form
// shows its messages next to the fields (htmx 2 does not swap 4xx responses by default);
// other errors (400 CSRF, 403, 404) are left alone.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();

// A plain (non-HTMX) form with data-confirm asks before it is submitted.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

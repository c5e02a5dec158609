// Copy buttons: <button data-copy-target="#id"> copies the value of that input.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy-target]");
  if (!button) return;
  var field = document.querySelector(button.getAttribute("data-copy-target"));
  if (!field) return;
  field.select();
  var done = function () { button.textContent = "Copied"; };
  if (navigator.clipboard) { navigator.clipboard.writeText(field.value).then(done, done); }
  else { document.execCommand("copy"); done(); }
});

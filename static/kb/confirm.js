// Destructive tools (delete) are links to a page that asks to confirm (kb/moderation/confirm.html).
// With JavaScript, the same form opens in a dialog on the page instead; both POST the same form.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-confirm-dialog]");
    if (!link) return;
    var dialog = document.getElementById(link.getAttribute("data-confirm-dialog"));
    if (!dialog || typeof dialog.showModal !== "function") return; // the page asks instead
    event.preventDefault();
    dialog.showModal();
    var first = dialog.querySelector("input, button");
    if (first) first.focus();
  });
})();

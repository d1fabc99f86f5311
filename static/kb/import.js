// The import plan, a little better with JavaScript: the counts and each row's colour follow the
// choices as they change; typing a question number chooses "add"; undo asks first.
(function () {
  "use strict";
  var plan = document.getElementById("import-plan");
  if (plan) {
    var recount = function () {
      var counts = { "new": 0, add: 0, skip: 0 };
      plan.querySelectorAll("[data-entry]").forEach(function (entry) {
        var chosen = entry.querySelector("input[type=radio]:checked");
        var action = chosen ? chosen.value : "new";
        counts[action] += 1;
        entry.classList.remove("import-entry--new", "import-entry--add", "import-entry--skip");
        entry.classList.add("import-entry--" + action);
      });
      Object.keys(counts).forEach(function (action) {
        var shown = plan.querySelector('[data-count="' + action + '"]');
        if (shown) shown.textContent = counts[action];
      });
    };
    plan.addEventListener("change", recount);
    plan.addEventListener("input", function (event) {
      var target = event.target;
      if (!target.classList.contains("import-entry__target") || !target.value.trim()) return;
      var add = target.closest("[data-entry]").querySelector('input[type=radio][value="add"]');
      if (add && !add.checked) {
        add.checked = true;
        recount();
      }
    });
  }
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
})();

// @username completion in comment boxes, from the members taking part in this thread (the
// authors named on the page). Progressive: without it, typing @name works the same.
(function () {
  "use strict";
  function participants() {
    var names = new Set();
    document.querySelectorAll(".question-page a[href*='/users/']").forEach(function (link) {
      var match = link.getAttribute("href").match(/\/users\/([^/]+)\/?$/);
      if (match) names.add(decodeURIComponent(match[1]));
    });
    return Array.from(names).sort();
  }
  var names = null;
  function attach(box) {
    var list = document.createElement("ul");
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    box.insertAdjacentElement("afterend", list);
    function close() { list.hidden = true; list.textContent = ""; }
    function wordBefore() {
      var upto = box.value.slice(0, box.selectionStart);
      var match = upto.match(/(^|[^\w@])@([\w.+-]*)$/);
      return match ? match[2] : null;
    }
    function choose(name) {
      var start = box.selectionStart;
      var partial = wordBefore() || "";
      var before = box.value.slice(0, start - partial.length);
      box.value = before + name + " " + box.value.slice(start);
      var caret = before.length + name.length + 1;
      box.setSelectionRange(caret, caret);
      close();
      box.focus();
    }
    box.addEventListener("input", function () {
      var partial = wordBefore();
      if (partial === null) return close();
      names = names || participants();
      var found = names.filter(function (n) {
        return n.toLowerCase().indexOf(partial.toLowerCase()) === 0;
      }).slice(0, 6);
      list.textContent = "";
      found.forEach(function (name) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "mention-list__option";
        button.textContent = "@" + name;
        button.addEventListener("mousedown", function (event) { event.preventDefault(); });
        button.addEventListener("click", function () { choose(name); });
        item.appendChild(button);
        list.appendChild(item);
      });
      list.hidden = found.length === 0;
    });
    box.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "Escape") { close(); }
      if (event.key === "Tab" || event.key === "Enter") {
        var first = list.querySelector("button");
        if (first) { event.preventDefault(); first.click(); }
      }
    });
    box.addEventListener("blur", function () { setTimeout(close, 150); });
  }
  document.querySelectorAll(".comment-form textarea, .comment-form input[name='body']").forEach(attach);
})();

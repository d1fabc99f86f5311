/* Markdown editor helpers, progressive: the forms work without this file.
 *  - live preview: the server renders the text with the same renderer as posts (POST /preview/);
 *  - "put the merge into the editor" on the edit-conflict page;
 *  - a warning before leaving a page whose text was changed but not sent.
 * No inline scripts: everything is wired from data- attributes. */
(function () {
  "use strict";

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function setUpPreview(editor) {
    var input = editor.querySelector("textarea");
    var panel = editor.querySelector(".editor__preview");
    var output = editor.querySelector(".editor__preview-body");
    var status = editor.querySelector(".editor__status");
    var problems = editor.querySelector(".editor__problems");
    if (!input || !panel || !output) return;
    var timer = null;
    var controller = null;
    var lastSent = null;

    function showProblems(list) {
      problems.replaceChildren();
      (list || []).forEach(function (text) {
        var item = document.createElement("li");
        item.textContent = text;
        problems.appendChild(item);
      });
      problems.hidden = !list || list.length === 0;
    }

    function refresh() {
      var text = input.value;
      if (text === lastSent) return;
      lastSent = text;
      if (controller) controller.abort();
      if (!text.trim()) {
        output.replaceChildren();
        showProblems([]);
        panel.hidden = true;
        return;
      }
      controller = new AbortController();
      status.textContent = editor.dataset.textLoading || "";
      var data = new FormData();
      data.append("body", text);
      fetch(editor.dataset.previewUrl, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: {
          "X-CSRFToken": csrfToken(),
          Accept: "application/json",
          "Accept-Language": document.documentElement.lang,
        },
        signal: controller.signal,
      })
        .then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) throw new Error(body.error || response.status);
            return body;
          });
        })
        .then(function (body) {
          output.innerHTML = body.html; // sanitised on the server (kb.markdown, nh3)
          showProblems(body.problems);
          panel.hidden = false;
          status.textContent = "";
        })
        .catch(function (error) {
          if (error.name === "AbortError") return;
          lastSent = null;
          status.textContent = editor.dataset.textFailed || String(error);
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 400);
    });
    if (input.value.trim() && !output.innerHTML.trim()) refresh();
    else lastSent = input.value;
  }

  function setUpMergeButtons() {
    document.querySelectorAll("[data-use-merge]").forEach(function (button) {
      var source = document.getElementById(button.dataset.useMerge);
      var target = document.querySelector("form .editor textarea");
      if (!source || !target) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        target.value = source.value;
        target.dispatchEvent(new Event("input", { bubbles: true }));
        target.focus();
        target.scrollIntoView({ block: "center" });
      });
    });
  }

  function setUpLeaveWarning() {
    var editors = document.querySelectorAll(".editor");
    if (!editors.length) return;
    var message = editors[0].dataset.textLeave || "";
    var dirty = false;
    editors.forEach(function (editor) {
      var form = editor.closest("form");
      var input = editor.querySelector("textarea");
      if (!form || !input) return;
      var original = input.value;
      input.addEventListener("input", function () {
        dirty = input.value !== original;
      });
      form.addEventListener("submit", function () {
        dirty = false;
      });
    });
    window.addEventListener("beforeunload", function (event) {
      if (!dirty) return;
      event.preventDefault();
      event.returnValue = message;
    });
  }

  document.querySelectorAll(".editor[data-preview-url]").forEach(setUpPreview);
  setUpMergeButtons();
  setUpLeaveWarning();
})();

// Similar questions while a title is typed: progressive enhancement for
//   <input name="title" data-similar-url="/api/v1/search/similar/"
//          data-similar-heading="Similar questions (yours may already be answered)">
// Without JavaScript the form works as before. Results are built with textContent, never HTML.
(function () {
  "use strict";

  var DELAY_MS = 400;
  var MIN_LENGTH = 4;

  function render(box, heading, results) {
    box.textContent = "";
    if (!results.length) {
      box.hidden = true;
      return;
    }
    var title = document.createElement("p");
    title.className = "similar-questions__heading";
    title.textContent = heading;
    var list = document.createElement("ul");
    results.forEach(function (question) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      // html_url is absolute (SITE_URL); link within the site the page came from
      var address = new URL(question.html_url, window.location.href);
      link.href = address.pathname + address.search + address.hash;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = question.title;
      var facts = document.createElement("span");
      facts.className = "muted similar-questions__facts";
      facts.textContent = " · " + question.score + " · " + question.answer_count +
        (question.has_accepted_answer ? " ✓" : "");
      item.appendChild(link);
      item.appendChild(facts);
      list.appendChild(item);
    });
    box.appendChild(title);
    box.appendChild(list);
    box.hidden = false;
  }

  // Tags the title names (through the concept lexicon too): buttons that add one to the form's
  // tag field (<input name="tags">, comma- or space-separated).
  function renderTags(box, heading, tags, form) {
    box.textContent = "";
    var field = form ? form.querySelector("input[name=tags]") : null;
    if (!field) {
      box.hidden = true;
      return;
    }
    var taken = field.value.toLowerCase().split(/[\s,，、;；]+/);
    var fresh = tags.filter(function (name) {
      return taken.indexOf(name.toLowerCase()) === -1;
    });
    if (!fresh.length) {
      box.hidden = true;
      return;
    }
    var title = document.createElement("span");
    title.className = "muted";
    title.textContent = heading + " ";
    box.appendChild(title);
    fresh.forEach(function (name) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "tag";
      button.textContent = name;
      button.addEventListener("click", function () {
        var value = field.value.replace(/[\s,，]+$/, "");
        field.value = value ? value + ", " + name : name;
        button.remove();
        if (!box.querySelector("button")) box.hidden = true;
      });
      box.appendChild(button);
    });
    box.hidden = false;
  }

  function enhance(input) {
    var url = input.getAttribute("data-similar-url");
    var heading = input.getAttribute("data-similar-heading") || "Similar questions";
    var tagsHeading = input.getAttribute("data-similar-tags-heading") || "Suggested tags:";
    var box = document.createElement("div");
    box.className = "similar-questions";
    box.hidden = true;
    box.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", box);
    var tagBox = document.createElement("p");
    tagBox.className = "similar-tags";
    tagBox.hidden = true;
    box.insertAdjacentElement("afterend", tagBox);
    var timer = null;
    var controller = null;
    var last = "";

    function lookup() {
      var title = input.value.trim();
      if (title === last) {
        return;
      }
      last = title;
      if (controller) {
        controller.abort();
      }
      if (title.length < MIN_LENGTH) {
        render(box, heading, []);
        renderTags(tagBox, tagsHeading, [], input.form);
        return;
      }
      controller = new AbortController();
      var address = url + (url.indexOf("?") === -1 ? "?" : "&") + "title=" + encodeURIComponent(title);
      fetch(address, {
        headers: { Accept: "application/json", "Accept-Language": document.documentElement.lang },
        credentials: "same-origin",
        signal: controller.signal,
      })
        .then(function (response) {
          return response.ok ? response.json() : { results: [], tags: [] };
        })
        .then(function (body) {
          render(box, heading, body.results || []);
          renderTags(tagBox, tagsHeading, body.tags || [], input.form);
        })
        .catch(function () {
          /* aborted or offline: keep what is shown */
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(lookup, DELAY_MS);
    });
  }

  function start() {
    document.querySelectorAll("input[data-similar-url]").forEach(enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

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
      link.href = question.html_url;
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

  function enhance(input) {
    var url = input.getAttribute("data-similar-url");
    var heading = input.getAttribute("data-similar-heading") || "Similar questions";
    var box = document.createElement("div");
    box.className = "similar-questions";
    box.hidden = true;
    box.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", box);
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
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (body) {
          render(box, heading, body.results || []);
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

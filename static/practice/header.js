/* Practice in the header, on every page. A visitor's practice schedule lives in localStorage
   (see practice.js): show its due count next to "Practice". A member's page brings a schedule
   kept in this browser before sign-up or login into the account, then forgets it locally. */
(function () {
  "use strict";
  var KEY = "mianjing.practice.v1";
  var script = document.currentScript;

  function load() {
    try {
      var data = JSON.parse(window.localStorage.getItem(KEY) || "null");
      return data && data.cards ? data : null;
    } catch (error) {
      return null;
    }
  }

  var data = load();
  var importUrl = script && script.getAttribute("data-import-url");
  if (importUrl) {
    if (!data || !Object.keys(data.cards).length) return;
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    var cards = Object.keys(data.cards).map(function (id) {
      var card = data.cards[id];
      var copy = {};
      for (var name in card) copy[name] = card[name];
      copy.question = parseInt(id, 10);
      return copy;
    });
    fetch(importUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": token ? token.value : "",
        "Accept-Language": document.documentElement.lang || "zh-Hans",
      },
      body: JSON.stringify({ cards: cards }),
    }).then(function (response) {
      if (response.ok) {
        window.localStorage.removeItem(KEY);
        document.documentElement.setAttribute("data-practice-imported", "1");
      }
    });
    return;
  }
  var badge = document.querySelector("[data-practice-local]");
  if (!badge || !data) return;
  var now = Date.now();
  var due = Object.keys(data.cards).filter(function (id) {
    return Date.parse(data.cards[id].due) <= now;
  }).length;
  if (due) {
    badge.textContent = String(due);
    badge.hidden = false;
  }
})();

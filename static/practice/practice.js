/* Practice session: Space shows the answer, 1–4 grade it (not while typing in the answer box).
   A visitor (data-mode="local") keeps the schedule in localStorage: the server computes each
   step (POST schedule/, nothing stored) and picks the next question from the ids of the due and
   seen cards the browser sends (GET next/). */
(function () {
  "use strict";
  var KEY = "mianjing.practice.v1";
  var root = document.querySelector(".practice");
  if (!root) return;
  var reveal = document.getElementById("practice-reveal");
  var form = root.querySelector("[data-grade-form]");
  var local = root.getAttribute("data-mode") === "local";
  // The API answers in the language asked for: the page's, not the browser's.
  var LANGUAGE = document.documentElement.lang || "zh-Hans";

  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" ||
      target.tagName === "SELECT" || target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    if (!reveal) return;
    if (event.key === " " || event.key === "Spacebar") {
      if (!reveal.open) {
        event.preventDefault();
        reveal.open = true;
        reveal.querySelector("summary").focus();
      }
      return;
    }
    if (reveal.open && /^[1-4]$/.test(event.key)) {
      var button = form && form.querySelector('[data-key="' + event.key + '"]');
      if (button) {
        event.preventDefault();
        button.click();
      }
    }
  });

  if (reveal) {
    reveal.addEventListener("toggle", function () {
      if (reveal.open) {
        var first = form && form.querySelector("button");
        if (first && window.matchMedia("(min-width: 40rem)").matches) first.focus({ preventScroll: true });
      }
    });
  }

  if (!local) return;

  function load() {
    try {
      var data = JSON.parse(window.localStorage.getItem(KEY) || "null");
      return data && data.cards ? data : { cards: {} };
    } catch (error) {
      return { cards: {} };
    }
  }

  function save(data) {
    try {
      window.localStorage.setItem(KEY, JSON.stringify(data));
    } catch (error) { /* storage full or disabled: practise on without a schedule */ }
  }

  function dueAndSeen(data) {
    var now = Date.now();
    var ids = Object.keys(data.cards);
    var due = ids.filter(function (id) { return Date.parse(data.cards[id].due) <= now; });
    due.sort(function (a, b) { return Date.parse(data.cards[a].due) - Date.parse(data.cards[b].due); });
    return { due: due, seen: ids };
  }

  function goNext(data, current) {
    var lists = dueAndSeen(data);
    var query = root.getAttribute("data-query");
    var params = new URLSearchParams(query);
    params.set("due", lists.due.join(","));
    params.set("seen", lists.seen.join(","));
    return fetch(root.getAttribute("data-next-url") + "?" + params.toString(), {
      credentials: "same-origin",
      headers: { "Accept-Language": LANGUAGE },
    }).then(function (response) { return response.json(); }).then(function (body) {
      var target = new URLSearchParams(query);
      if (lists.due.length) target.set("due", lists.due.join(","));
      if (body.question) target.set("q", String(body.question.id));
      else target.set("q", "0");
      if (body.question && String(body.question.id) === current) return;
      window.location.assign(root.getAttribute("data-page-url") + "?" + target.toString());
    });
  }

  // Show the local due count, and start with a due card rather than the server's new pick.
  var data = load();
  var lists = dueAndSeen(data);
  var dueLabel = root.querySelector("[data-due]");
  if (dueLabel) dueLabel.setAttribute("data-local-due", String(lists.due.length));
  if (!root.hasAttribute("data-chosen") && lists.seen.length) {
    goNext(data, root.getAttribute("data-question"));
  }

  if (!form) return;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = event.submitter || document.activeElement;
    var grade = button && button.value;
    if (!grade) return;
    var question = form.querySelector("input[name=question]").value;
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var stored = load();
    var card = stored.cards[question] || null;
    var memory = card ? { state: card.state, step: card.step, stability: card.stability,
      difficulty: card.difficulty, due: card.due, last_review: card.last_review } : null;
    fetch(root.getAttribute("data-schedule-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token,
        "Accept-Language": LANGUAGE },
      body: JSON.stringify({ card: memory, grade: grade }),
    }).then(function (response) {
      if (!response.ok) throw new Error("schedule " + response.status);
      return response.json();
    }).then(function (next) {
      var reviews = (card && card.reviews) || [];
      reviews.push({ grade: grade, at: next.last_review, state_before: memory ? memory.state : 1 });
      next.reviews = reviews.slice(-200);
      stored.cards[question] = next;
      save(stored);
      return goNext(stored, null);
    }).catch(function () { form.submit(); });
  });
})();

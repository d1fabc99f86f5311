/* Votes and accepts in place, progressive: without this file each button is a POST form to the
 * page's own endpoint, which answers with a redirect and a message.
 *  - A vote button sends POST {"value": 1|-1} to the API (DELETE when it is already pressed, to
 *    withdraw the vote), then shows the score and the pressed state (aria-pressed) it answers with.
 *  - The asker's accept button sends POST (or DELETE) to the answer's accept endpoint and marks
 *    the accepted answer; the page lists it first from the next load on.
 *  - Refusals (403), the daily limit (429, with the time voting opens again) and an ended session
 *    (401, with a link to log in) are told in the post's aria-live region.
 * No inline scripts: everything is wired from data- attributes. */
(function () {
  "use strict";

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function send(url, method, body) {
    // The API answers in the language asked for: the page's, not the browser's.
    var headers = {
      "X-CSRFToken": csrfToken(),
      Accept: "application/json",
      "Accept-Language": document.documentElement.lang || "zh-Hans",
    };
    if (body) headers["Content-Type"] = "application/json";
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          return { response: response, data: data };
        });
    });
  }

  // The aria-live region of a post: empty (and invisible) until there is something to say.
  function statusOf(element) {
    var column = element.closest(".post__score");
    return column ? column.querySelector("[data-vote-status]") : null;
  }

  // Say `text` (and a link) beside `near`, the button it is about; no text empties the region.
  function say(status, text, link, near) {
    if (!status) return;
    status.replaceChildren();
    if (!text) return;
    status.style.top = near ? near.offsetTop + "px" : "";
    status.appendChild(document.createTextNode(text));
    if (link) {
      status.appendChild(document.createTextNode(" "));
      var anchor = document.createElement("a");
      anchor.href = link.href;
      anchor.textContent = link.text;
      status.appendChild(anchor);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "votes__status-close";
    close.setAttribute("aria-label", status.dataset.textClose || "×");
    close.textContent = "×";
    close.addEventListener("click", function () {
      say(status, "");
    });
    status.appendChild(close);
  }

  function formatTime(iso) {
    var when = new Date(iso);
    if (isNaN(when.getTime())) return iso;
    try {
      return when.toLocaleString(document.documentElement.lang || undefined, {
        dateStyle: "medium",
        timeStyle: "short",
      });
    } catch (error) {
      return when.toLocaleString();
    }
  }

  // Tell why the API said no.
  function explain(status, result, loginUrl, near) {
    var code = result.response.status;
    var error = (result.data && result.data.error) || {};
    if (code === 401) {
      var login = { href: loginUrl, text: status.dataset.textLoginLink };
      say(status, status.dataset.textLogin, login, near);
    } else if (code === 429 && error.reset_at) {
      say(status, status.dataset.textLimit.replace("{time}", formatTime(error.reset_at)), null, near);
    } else {
      say(status, error.message || status.dataset.textFailed, null, near);
    }
  }

  function busy(form, on) {
    if (on) form.setAttribute("aria-busy", "true");
    else form.removeAttribute("aria-busy");
  }

  // ---------- Votes ----------

  function showVote(form, score, vote) {
    form.querySelector("[data-vote-score]").textContent = String(score);
    form.querySelectorAll("button[data-vote]").forEach(function (button) {
      var pressed = Number(button.dataset.vote) === vote;
      button.setAttribute("aria-pressed", pressed ? "true" : "false");
      button.value = pressed ? "0" : button.dataset.vote;
      if (button.getAttribute("aria-disabled") !== "true") {
        button.title = pressed ? button.dataset.titleOn : button.dataset.titleOff;
      }
    });
  }

  function setUpVotes(form) {
    var status = statusOf(form);
    form.querySelectorAll("button[data-vote]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        if (button.getAttribute("aria-disabled") === "true") {
          say(status, button.dataset.refusal, null, button);
          return;
        }
        if (form.hasAttribute("aria-busy")) return;
        var pressed = button.getAttribute("aria-pressed") === "true";
        busy(form, true);
        say(status, "");
        send(
          form.dataset.voteApi,
          pressed ? "DELETE" : "POST",
          pressed ? null : { value: Number(button.dataset.vote) }
        )
          .then(function (result) {
            if (result.response.ok) showVote(form, result.data.score, result.data.vote);
            else explain(status, result, form.dataset.loginUrl, button);
          })
          .catch(function () {
            say(status, status.dataset.textFailed, null, button);
          })
          .finally(function () {
            busy(form, false);
          });
      });
    });
  }

  // ---------- Accept ----------

  function showAccepted(acceptedId) {
    document.querySelectorAll("form[data-accept-api]").forEach(function (form) {
      var button = form.querySelector("button");
      var accepted = form.dataset.answer === String(acceptedId);
      button.setAttribute("aria-pressed", accepted ? "true" : "false");
      button.value = accepted ? "0" : "1";
      button.title = accepted ? button.dataset.titleOn : button.dataset.titleOff;
      var article = form.closest(".answer");
      if (!article) return;
      article.classList.toggle("answer--accepted", accepted);
      var main = article.querySelector(".post__main");
      var label = main && main.querySelector(":scope > .accepted-label");
      if (accepted && main && !label) {
        label = document.createElement("p");
        label.className = "accepted-label";
        label.textContent = button.dataset.acceptedLabel;
        main.prepend(label);
      } else if (!accepted && label) {
        label.remove();
      }
    });
  }

  function setUpAccept(form) {
    var button = form.querySelector("button");
    var status = statusOf(form);
    var loginUrl = (form.closest(".post__score").querySelector("[data-login-url]") || form)
      .dataset.loginUrl;
    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (form.hasAttribute("aria-busy")) return;
      var accepted = button.getAttribute("aria-pressed") === "true";
      busy(form, true);
      say(status, "");
      send(form.dataset.acceptApi, accepted ? "DELETE" : "POST", null)
        .then(function (result) {
          if (result.response.ok) showAccepted(result.data.accepted_answer_id);
          else explain(status, result, loginUrl, button);
        })
        .catch(function () {
          say(status, status.dataset.textFailed, null, button);
        })
        .finally(function () {
          busy(form, false);
        });
    });
  }

  document.querySelectorAll("form[data-vote-api]").forEach(setUpVotes);
  document.querySelectorAll("form[data-accept-api]").forEach(setUpAccept);
  // Escape, or a click elsewhere, puts the messages away.
  function quietAll(except) {
    document.querySelectorAll("[data-vote-status]").forEach(function (status) {
      if (status !== except && status.firstChild) say(status, "");
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") quietAll(null);
  });
  document.addEventListener("click", function (event) {
    var column = event.target.closest && event.target.closest(".post__score");
    quietAll(column ? column.querySelector("[data-vote-status]") : null);
  });
})();

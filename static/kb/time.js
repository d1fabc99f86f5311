// Relative times ("3 minutes ago") from the absolute ones the server renders:
//   <time datetime="2026-12-02T11:34:09+08:00" data-relative>2026年12月2日 11:34</time>
// Pages are cached for anonymous visitors, so the server writes only the moment; the reader's
// browser says how long ago it was, in the page's language, and keeps the exact time as a tooltip.
(function () {
  "use strict";

  var STEPS = [
    ["second", 60],
    ["minute", 60],
    ["hour", 24],
    ["day", 30],
    ["month", 12],
    ["year", Infinity],
  ];

  function relative(format, then, now) {
    var amount = (then - now) / 1000;
    if (Math.abs(amount) < 10) {
      return format.format(0, "second");
    }
    for (var i = 0; i < STEPS.length; i++) {
      if (Math.abs(amount) < STEPS[i][1]) {
        return format.format(Math.round(amount), STEPS[i][0]);
      }
      amount /= STEPS[i][1];
    }
    return null;
  }

  function update() {
    if (!window.Intl || !Intl.RelativeTimeFormat) {
      return; // the exact time stays
    }
    var format = new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, {
      numeric: "auto",
    });
    var now = Date.now();
    var times = document.querySelectorAll("time[data-relative]");
    for (var i = 0; i < times.length; i++) {
      var then = Date.parse(times[i].getAttribute("datetime"));
      if (!isNaN(then)) {
        var text = relative(format, then, now);
        if (text) {
          times[i].textContent = text;
        }
      }
    }
  }

  update();
  window.setInterval(update, 60 * 1000);
})();

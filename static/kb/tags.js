/* Tag suggestions for the comma- or space-separated tag field: fills its <datalist> from
 * GET /tags/autocomplete/?q=<the word being typed> (names and aliases). Progressive: without it,
 * typing the names works the same. */
(function () {
  "use strict";

  var list = document.getElementById("tag-suggestions");
  if (!list || !list.dataset.autocompleteUrl) return;
  var url = list.dataset.autocompleteUrl;
  var separators = /[\s,，、;；]+/;

  function setUp(input) {
    var timer = null;
    var lastWord = null;

    function update() {
      var value = input.value;
      var words = value.split(separators);
      var word = words[words.length - 1];
      var head = value.slice(0, value.length - word.length);
      if (word === lastWord) return;
      lastWord = word;
      fetch(url + "?q=" + encodeURIComponent(word), {
        credentials: "same-origin",
        headers: { Accept: "application/json", "Accept-Language": document.documentElement.lang },
      })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (data) {
          if (input.value.slice(0, head.length) !== head) return; // typed on meanwhile
          var taken = words.slice(0, -1).map(function (name) {
            return name.toLowerCase();
          });
          list.replaceChildren();
          data.results.forEach(function (tag) {
            if (taken.indexOf(tag.name) !== -1) return;
            var option = document.createElement("option");
            option.value = head + tag.name;
            option.label = (tag.alias ? tag.alias + " → " : "") + tag.name + " (" + tag.count + ")";
            list.appendChild(option);
          });
        })
        .catch(function () {
          /* suggestions are a convenience; typing still works */
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 200);
    });
    input.addEventListener("focus", update);
  }

  document.querySelectorAll('input[list="tag-suggestions"]').forEach(setUp);
})();

// Completions for the search box, as a <datalist>: progressive enhancement only.
// Without this script the box is a plain search field and the site works the same.
// The server completes up to 50 characters (SUGGEST_MAX_CHARS in views.py); longer, we do not ask.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("q-suggestions");
  if (!input || !list || !window.fetch || !input.dataset.suggest) {
    return;
  }
  var timer = null;
  var latest = "";

  function show(words) {
    list.replaceChildren();
    words.forEach(function (word) {
      var option = document.createElement("option");
      option.value = word; // a property, never HTML
      list.appendChild(option);
    });
  }

  function ask(text) {
    latest = text;
    fetch(input.dataset.suggest + "?q=" + encodeURIComponent(text), {
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.ok ? response.json() : [];
      })
      .then(function (words) {
        if (text === latest && Array.isArray(words)) {
          show(words);
        }
      })
      .catch(function () {
        /* no suggestions this time: the search itself still works */
      });
  }

  input.addEventListener("input", function () {
    var text = input.value;
    clearTimeout(timer);
    if (text.trim().length < 2 || text.length > 50) {
      show([]);
      return;
    }
    timer = setTimeout(function () {
      ask(text);
    }, 150);
  });
})();

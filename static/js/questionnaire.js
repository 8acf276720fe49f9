// Progressive enhancement for the health questions: a question that depends
// on an answer on the same page is shown only when that answer is given.
// Without this script every question is shown with a hint, and the server
// ignores answers to questions that do not apply.
(function () {
  "use strict";
  var form = document.querySelector("form[data-questionnaire]");
  if (!form) { return; }
  var blocks = Array.prototype.slice.call(form.querySelectorAll("[data-show-if]"));

  function answerOf(code) {
    var radios = form.querySelectorAll('input[type="radio"][name="' + code + '"]');
    if (radios.length) {
      var checked = form.querySelector('input[type="radio"][name="' + code + '"]:checked');
      return checked ? checked.value.toLowerCase() : "";
    }
    var field = form.querySelector('[name="' + code + '"]');
    return field ? field.value.trim().toLowerCase() : null; // null: asked on another page
  }

  function update() {
    blocks.forEach(function (block) {
      var conditions = JSON.parse(block.getAttribute("data-show-if"));
      var shown = conditions.every(function (condition) {
        var answer = answerOf(condition.question);
        if (answer === null) { return true; } // the server already checked it
        return condition["in"].some(function (v) { return v.toLowerCase() === answer; });
      });
      block.hidden = !shown;
    });
  }

  form.addEventListener("change", update);
  update();
}());

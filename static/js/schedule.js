// The schedule's print button: shown only when scripts run (the browser's
// own Print command uses the same print stylesheet).
document.querySelectorAll(".js-print").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});

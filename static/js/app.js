// Progressive enhancement only: every form works without this file.
document.documentElement.classList.add("scripted");
document.querySelectorAll("select.js-autosubmit").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});

/* PRODUZIR console: a few small touches; every page works without it. No network. */
(function () {
  "use strict";
  // "select all" checkbox of a list: ticks the row checkboxes that belong to the same form
  document.querySelectorAll("input.select-all[data-form]").forEach(function (all) {
    all.addEventListener("change", function () {
      var form = all.getAttribute("data-form");
      document.querySelectorAll('input[type="checkbox"][name="case_id"][form="' + form + '"]')
        .forEach(function (box) { box.checked = all.checked; });
    });
  });
  // a form is sent once: its submit button is disabled while the page goes
  document.querySelectorAll("form[method='post']").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type='submit']").forEach(function (button) {
        window.setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  });
})();

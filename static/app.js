// affdesk: small progressive enhancements. Every page works without this file.
"use strict";

// "Select all on this page": a header checkbox that only makes sense with script.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target.id === "select-page") {
    document.querySelectorAll('#bulk input[name="ids"]').forEach(function (box) {
      box.checked = target.checked;
    });
  }
});

function revealScriptOnly(root) {
  (root || document).querySelectorAll("#select-page").forEach(function (el) {
    el.hidden = false;
  });
}
document.addEventListener("DOMContentLoaded", function () { revealScriptOnly(document); });
document.addEventListener("htmx:afterSettle", function () { revealScriptOnly(document); });

// Filters: leave empty fields out of the address, so a shared link reads cleanly.
document.addEventListener("htmx:configRequest", function (event) {
  if (event.detail.verb !== "get") { return; }
  var params = event.detail.parameters;
  var keys = typeof params.keys === "function" ? Array.from(new Set(params.keys())) : Object.keys(params);
  keys.forEach(function (key) {
    var values = typeof params.getAll === "function" ? params.getAll(key) : [params[key]];
    if (values.every(function (v) { return v === ""; })) { delete params[key]; }
  });
});

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
  // Filters: a select or checkbox applies at once; text fields wait for Enter or
  // Apply, so typing never starts requests that the next one would abort.
  var filters = target.closest && target.closest("#filters");
  if (filters && (target.tagName === "SELECT" || target.type === "checkbox") && window.htmx) {
    window.htmx.trigger(filters, "apply");
  }
});

function revealScriptOnly(root) {
  (root || document).querySelectorAll("#select-page, [data-keys-help]").forEach(function (el) {
    el.hidden = false;
  });
  // With script, picking a quick reply fills it in at once.
  (root || document).querySelectorAll("[data-no-js]").forEach(function (el) {
    el.hidden = true;
  });
  (root || document).querySelectorAll("#reply-body").forEach(grow);
}
document.addEventListener("DOMContentLoaded", function () { revealScriptOnly(document); });
document.addEventListener("htmx:afterSettle", function () { revealScriptOnly(document); });

// Filters: leave empty fields and defaults out of the address, so a shared link
// reads cleanly (a select says its default in data-default).
document.addEventListener("htmx:configRequest", function (event) {
  if (event.detail.verb !== "get") { return; }
  var params = event.detail.parameters;
  var form = event.detail.elt && event.detail.elt.closest ? event.detail.elt.closest("form") : null;
  var keys = typeof params.keys === "function" ? Array.from(new Set(params.keys())) : Object.keys(params);
  keys.forEach(function (key) {
    var values = typeof params.getAll === "function" ? params.getAll(key) : [params[key]];
    var field = form ? form.querySelector('[name="' + key + '"][data-default]') : null;
    var unchanged = field && values.length === 1 && values[0] === field.dataset.default;
    if (unchanged || values.every(function (v) { return v === ""; })) { delete params[key]; }
  });
});

// The reply box grows with its text, so a filled template shows whole.
function grow(box) {
  box.style.height = "auto";
  box.style.height = Math.min(box.scrollHeight + 4, window.innerHeight * 0.7) + "px";
}
document.addEventListener("input", function (event) {
  if (event.target.id === "reply-body") { grow(event.target); }
});

// Picking a quick reply replaces the text in the box: at once when the box is
// empty or holds the last template untouched, after asking when it holds typing.
var lastTemplate = "";
document.addEventListener("focusin", function (event) {
  if (event.target.id === "template_id") { lastTemplate = event.target.value; }
});
document.addEventListener("htmx:confirm", function (event) {
  var picker = event.detail.elt;
  if (!picker || picker.id !== "template_id") { return; }
  var box = document.getElementById("reply-body");
  var text = box ? box.value.trim() : "";
  var untouched = text === "" || (box.dataset.templateText || "").trim() === text;
  if (untouched) { return; }
  event.preventDefault();
  if (window.confirm("Replace the text you typed with this template?")) {
    event.detail.issueRequest(true);
  } else {
    picker.value = lastTemplate;
  }
});

// Keyboard: j/k move through the list, x ticks, Enter opens; in a thread r goes to
// the reply, n to the next ticket, Ctrl+Enter sends; ? lists the keys. Never while
// typing in a field (except Ctrl+Enter, which is meant for the reply box).
var KEYS = [
  ["j / k", "next / previous ticket in the list"],
  ["x", "tick or untick the ticket"],
  ["Enter", "open the ticket"],
  ["r", "write a reply (in a ticket)"],
  ["n", "next ticket of the list (in a ticket)"],
  ["Ctrl+Enter", "send the reply"],
  ["?", "show these keys"]
];

function typing(el) {
  return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
}

function rows() {
  return Array.prototype.slice.call(document.querySelectorAll("table[data-list] tbody tr"));
}

function moveTo(row) {
  rows().forEach(function (r) { r.classList.remove("current"); });
  if (!row) { return; }
  row.classList.add("current");
  var link = row.querySelector("a.title");
  if (link) { link.focus(); }
}

function showKeys() {
  var dialog = document.getElementById("keys-dialog");
  if (!dialog) {
    dialog = document.createElement("dialog");
    dialog.id = "keys-dialog";
    dialog.setAttribute("aria-labelledby", "keys-title");
    var html = '<h2 id="keys-title">Keyboard shortcuts</h2><dl class="keys">';
    KEYS.forEach(function (k) { html += "<dt><kbd>" + k[0] + "</kbd></dt><dd>" + k[1] + "</dd>"; });
    html += '</dl><form method="dialog"><button class="primary">Close</button></form>';
    dialog.innerHTML = html;
    document.body.appendChild(dialog);
  }
  if (!dialog.open) { dialog.showModal(); }
}

document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("[data-keys-help]")) { showKeys(); }
});

document.addEventListener("keydown", function (event) {
  var el = document.activeElement;
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && el && el.id === "reply-body") {
    event.preventDefault();
    var send = el.form && el.form.querySelector("[data-send]");
    if (send) {
      el.form.requestSubmit(send);
      // Sent: the keys are the page's again (n, r, j/k), not the box's.
      el.blur();
    }
    return;
  }
  // Escape leaves any field, so the page's keys work again.
  if (event.key === "Escape" && typing(el) && !event.defaultPrevented) {
    el.blur();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || typing(el)) { return; }
  var list = rows();
  var current = list.indexOf(document.querySelector("table[data-list] tbody tr.current"));
  if (current < 0 && el) { current = list.indexOf(el.closest ? el.closest("tr") : null); }
  switch (event.key) {
    case "j":
      if (list.length) { moveTo(list[Math.min(current + 1, list.length - 1)]); event.preventDefault(); }
      break;
    case "k":
      if (list.length) { moveTo(list[Math.max(current - 1, 0)]); event.preventDefault(); }
      break;
    case "x":
      if (current >= 0) {
        var box = list[current].querySelector('input[name="ids"]');
        if (box) { box.checked = !box.checked; }
        event.preventDefault();
      }
      break;
    case "Enter":
      if (current >= 0 && el === document.body) {
        var link = list[current].querySelector("a.title");
        if (link) { link.click(); }
      }
      break;
    case "r":
      var reply = document.getElementById("reply-body");
      if (reply) { reply.focus(); reply.scrollIntoView({ block: "center" }); event.preventDefault(); }
      break;
    case "n":
      var next = document.querySelector("[data-key-next]");
      if (next) { next.click(); event.preventDefault(); }
      break;
    case "?":
      showKeys();
      event.preventDefault();
      break;
  }
});

// Live updates: while someone writes a reply, the others on the ticket are told
// (at most every 3 seconds); "… is replying" fades 6 seconds after the last word.
var lastTyping = 0;
document.addEventListener("input", function (event) {
  var box = event.target;
  if (box.id !== "reply-body" || !box.dataset.typingUrl) { return; }
  var now = Date.now();
  if (now - lastTyping < 3000) { return; }
  lastTyping = now;
  var token = document.body.getAttribute("hx-headers");
  var headers = { "Content-Type": "application/x-www-form-urlencoded" };
  try { Object.assign(headers, JSON.parse(token || "{}")); } catch (e) { return; }
  fetch(box.dataset.typingUrl, { method: "POST", headers: headers, credentials: "same-origin" }).catch(function () {});
});
var typingTimer = null;
document.addEventListener("htmx:afterSwap", function (event) {
  var target = event.detail.target;
  if (!target) { return; }
  if (target.id === "typing") {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { target.textContent = ""; }, 6000);
  }
});
// The reply being typed has arrived: "… is replying" goes at once.
document.addEventListener("htmx:oobAfterSwap", function (event) {
  var target = event.detail.target;
  if (!target || target.id !== "thread-messages") { return; }
  var notice = document.getElementById("typing");
  if (notice) { clearTimeout(typingTimer); notice.textContent = ""; }
});

// Leaving the page: its event streams are closed first, so a stream cut off by the
// navigation is not reported as an error (the stream extension closes a source
// when its element is cleaned up).
function closeStreams() {
  if (!window.htmx) { return; }
  document.querySelectorAll("[sse-connect]").forEach(function (el) {
    window.htmx.trigger(el, "htmx:beforeCleanupElement");
  });
}
window.addEventListener("pagehide", closeStreams);

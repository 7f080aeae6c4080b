// Show errors from htmx requests instead of swallowing them (htmx does not swap 4xx/5xx
// other than 409 and 422 by configuration, see base.html: those carry the refusal's message).
(function () {
  function show(message) {
    var box = document.getElementById("errors");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  }
  function clear() {
    var box = document.getElementById("errors");
    if (box) { box.hidden = true; box.textContent = ""; }
  }
  var lang = document.documentElement.lang;
  document.addEventListener("htmx:beforeRequest", clear);
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    var text = lang === "en"
      ? "The request failed (" + xhr.status + "). Nothing was changed; please try again."
      : "処理できませんでした(" + xhr.status + ")。変更は保存されていません。もう一度お試しください。";
    if (xhr.status === 403) text = lang === "en" ? "Not allowed, or the page expired: reload and try again." : "権限がないか、ページの有効期限が切れました。再読み込みしてください。";
    if (xhr.status === 404) text = lang === "en" ? "Not found." : "見つかりません。";
    if (xhr.status === 413 || xhr.status === 429) {  // the server's own words name the limit
      var said = new DOMParser().parseFromString(xhr.responseText, "text/html").body.textContent.trim();
      if (said) text = said;
    }
    show(text);
  });
  document.addEventListener("htmx:sendError", function () {
    show(lang === "en" ? "The server could not be reached. Nothing was changed." : "サーバーに接続できません。変更は保存されていません。");
  });
})();

// Behaviour that used to be inline (the Content-Security-Policy allows no inline script):
// print buttons, and the progress bar of an upload form.
(function () {
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-print]");
    if (button) window.print();
  });
  document.addEventListener("htmx:xhr:progress", function (e) {
    var form = e.target.closest && e.target.closest("form");
    var bar = form && form.querySelector("[data-upload-progress]");
    if (!bar || !e.detail.lengthComputable) return;
    bar.hidden = false;
    bar.value = Math.round(e.detail.loaded / e.detail.total * 100);
  });
})();

// Success messages: a full page shows them in #toast itself; an htmx response carries them
// in HX-Trigger ("portal:toast", see portal/notify.py) and they are shown here.
(function () {
  document.body.addEventListener("portal:toast", function (e) {
    var box = document.getElementById("toast");
    if (!box || !e.detail || !e.detail.messages) return;
    box.textContent = "";
    e.detail.messages.forEach(function (text) {
      var p = document.createElement("p");
      p.textContent = text;
      box.appendChild(p);
    });
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("toast");
    if (box) box.textContent = "";
  });
})();

// "Select all" checkbox of a list with row checkboxes (bookings bulk actions).
document.addEventListener("change", function (e) {
  var all = e.target.closest && e.target.closest("[data-select-all]");
  if (!all) return;
  var table = all.closest("table");
  if (!table) return;
  table.querySelectorAll("tbody input[type=checkbox]").forEach(function (box) { box.checked = all.checked; });
});

// Focus after an htmx swap: an error (or a summary) in the new content gets the focus and
// is scrolled into view next to the button that caused it; otherwise the element that had
// the focus is found again in the new content, else the swapped region takes it, so the
// keyboard user is never dropped back to <body>.
(function () {
  var remembered = null;
  function describe(el) {
    if (!el || el === document.body) return null;
    return { id: el.id || null, name: el.getAttribute("name"), value: el.getAttribute("value"),
             tag: el.tagName, text: (el.textContent || "").trim() };
  }
  function findAgain(root, d) {
    if (!d) return null;
    if (d.id) { var byId = document.getElementById(d.id); if (byId) return byId; }
    var candidates = root.querySelectorAll(d.tag.toLowerCase());
    for (var i = 0; i < candidates.length; i++) {
      var c = candidates[i];
      if (d.name && c.getAttribute("name") === d.name && c.getAttribute("value") === d.value) return c;
      if (!d.name && d.text && (c.textContent || "").trim() === d.text) return c;
    }
    return null;
  }
  function focusable(el) {
    if (!el.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) el.setAttribute("tabindex", "-1");
    return el;
  }
  document.addEventListener("htmx:beforeSwap", function () { remembered = describe(document.activeElement); });
  document.addEventListener("htmx:afterSettle", function (e) {
    var target = e.detail.target;
    if (!target || !target.isConnected) target = document.getElementById("main");
    // the message next to the button that was pressed first, then any other error
    var error = null;
    ["[data-form-error]", "[data-focus-after-swap]", ".error[role=alert]", ".field-error[role=alert]", "p.error"].some(
      function (selector) { error = target.querySelector(selector); return !!error; });
    if (error) {
      focusable(error).focus({ preventScroll: true });
      error.scrollIntoView({ block: "center" });
      return;
    }
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    var again = findAgain(target, remembered);
    (again ? again : focusable(target)).focus({ preventScroll: !!again });
  });
})();

// A form with data-validate-url (the refund account of a cancellation) is checked by the
// server before its confirmation dialog: errors appear next to their fields and no
// dialog is shown; only a valid form asks "are you sure?" and is then sent.
(function () {
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (err) { return ""; }
  }
  function showErrors(form, errors) {
    form.querySelectorAll("p.error[data-field]").forEach(function (p) { p.remove(); });
    var first = null;
    Object.keys(errors).forEach(function (field) {
      var input = form.querySelector("[name='" + field + "']");
      var p = document.createElement("p");
      p.className = "error";
      p.setAttribute("data-field", field);
      p.textContent = errors[field];
      var anchor = input ? (input.closest("label") || input) : form.querySelector("button[type=submit]");
      anchor.insertAdjacentElement("afterend", p);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        if (!first) first = input;
      }
    });
    if (first) first.focus();
  }
  document.addEventListener("htmx:confirm", function (e) {
    var form = e.detail.elt;
    var url = form && form.getAttribute && form.getAttribute("data-validate-url");
    if (!url) return;
    e.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", url);
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      if (request.status === 204) {
        form.querySelectorAll("p.error[data-field]").forEach(function (p) { p.remove(); });
        if (!e.detail.question || window.confirm(e.detail.question)) e.detail.issueRequest(true);
      } else if (request.status === 422) {
        showErrors(form, JSON.parse(request.responseText).errors || {});
      } else {
        e.detail.issueRequest(false);  // let the server's own answer show
      }
    };
    request.send(new FormData(form));
  });
})();

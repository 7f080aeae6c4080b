// Show errors from htmx requests instead of swallowing them (htmx does not swap 4xx/5xx
// other than 422 by configuration, see base.html).
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

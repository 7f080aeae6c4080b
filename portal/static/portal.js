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
    show(text);
  });
  document.addEventListener("htmx:sendError", function () {
    show(lang === "en" ? "The server could not be reached. Nothing was changed." : "サーバーに接続できません。変更は保存されていません。");
  });
})();

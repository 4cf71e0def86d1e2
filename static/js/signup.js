// The sign-up page's two touches, in one file (one task on a slow phone, not two):
// 1. Pre-select the browser's IANA time zone; without JavaScript the server's default stays.
//    Not on a re-shown form (errors, or after "Preview"): that keeps the visitor's own choice.
//    Done when the visitor first touches the form, not at load: the first Intl call loads the
//    browser's time zone data, a 120 ms task on a mid-range phone that would block the page.
// 2. The preview, live: as the visitor ticks topics or types keywords, the server ranks the latest
//    listing for those choices (the digests' own code) and this swaps the section in. Without
//    JavaScript the "Preview my digest first" button posts the form and the page comes back.
(function () {
  var form = document.querySelector("form.signup");
  if (!form) return;

  function preselectTimeZone() {
    var box = form.querySelector("input[name=time_zone]");
    if (!box || form.hasAttribute("data-bound") || box.value !== box.defaultValue) return;
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (zone && /^[A-Za-z0-9_+\-\/]+$/.test(zone)) box.value = zone;  // the server checks it
  }

  function livePreview() {
    var target = document.getElementById("preview");
    if (!target || !window.fetch || !window.URLSearchParams) return;
    var timer = null;
    var latest = 0;

    function query() {
      var params = new URLSearchParams();
      form.querySelectorAll("input[name=topics]:checked").forEach(function (box) {
        params.append("topics", box.value);
      });
      var keywords = form.querySelector("input[name=keywords]");
      params.set("keywords", keywords ? keywords.value : "");
      return params.toString();
    }

    function refresh() {
      var asked = ++latest;  // only the answer to the last question is shown
      fetch(target.dataset.url + "?" + query(), { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) { if (asked === latest) target.innerHTML = html; })
        .catch(function () { /* the button still works */ });
    }

    form.addEventListener("change", function (event) {
      if (event.target.name === "topics") refresh();
    });
    form.addEventListener("input", function (event) {
      if (event.target.name !== "keywords") return;
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
  }

  var preselected = false;
  function preselectOnce() {
    if (preselected) return;
    preselected = true;
    preselectTimeZone();
  }
  ["focusin", "pointerdown", "submit"].forEach(function (name) {
    form.addEventListener(name, preselectOnce, true);  // capture: before the field's own handlers
  });
  livePreview();
})();

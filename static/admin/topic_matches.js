// Topic change form: refresh the count and list of recent matching papers as terms are edited.
(function () {
  "use strict";
  function init() {
    var box = document.getElementById("topic-matches");
    var include = document.getElementById("id_include_terms");
    var exclude = document.getElementById("id_exclude_terms");
    if (!box || !include) return;
    var timer = null;
    var latest = 0;
    function refresh() {
      var ask = ++latest;
      var params = new URLSearchParams({ include: include.value, exclude: exclude ? exclude.value : "" });
      fetch(box.dataset.url + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { if (ask === latest) box.innerHTML = html; })
        .catch(function () {});
    }
    function later() { clearTimeout(timer); timer = setTimeout(refresh, 300); }
    include.addEventListener("input", later);
    if (exclude) exclude.addEventListener("input", later);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

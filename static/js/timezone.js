// Pre-select the browser's IANA time zone on the sign-up form; without JavaScript the server's
// default stays selected. Only when the reader has not chosen one (a re-shown form keeps theirs).
(function () {
  var select = document.querySelector("form.signup select[name=time_zone]");
  if (!select || select.dataset.touched) return;
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || select.closest("form").querySelector(".notice-error")) return;
  for (var i = 0; i < select.options.length; i++) {
    if (select.options[i].value === zone) { select.value = zone; return; }
  }
})();

// Suggestions for the time zone box (subscribers.forms.TimeZoneInput): the browser's own list of
// IANA names, added on first focus so the page itself stays small. Without it the box still
// takes a typed name, which the server checks.
(function () {
  document.querySelectorAll("input[list=time-zone-names]").forEach(function (input) {
    input.addEventListener("focus", function () {
      var list = document.getElementById("time-zone-names");
      if (!list || list.options.length || !Intl.supportedValuesOf) return;
      var names = ["UTC"].concat(Intl.supportedValuesOf("timeZone").filter(function (name) {
        return name.indexOf("/") > 0;
      }));
      var fragment = document.createDocumentFragment();
      names.forEach(function (name) {
        var option = document.createElement("option");
        option.value = name;
        fragment.appendChild(option);
      });
      list.appendChild(fragment);
    }, { once: true });
  });
})();

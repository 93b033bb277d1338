(function () {
  "use strict";
  var boxes = document.querySelectorAll("input[name=sev]");
  var cat = document.getElementById("cat");
  var shown = document.getElementById("shown");
  function apply() {
    var sev = {};
    var all = true;
    boxes.forEach(function (b) { sev[b.value] = b.checked; if (!b.checked) { all = false; } });
    var c = cat.value;
    var n = 0;
    document.querySelectorAll(".finding").forEach(function (f) {
      var ok = sev[f.getAttribute("data-sev")] && (c === "" || f.getAttribute("data-cat") === c);
      f.hidden = !ok;
      if (ok) { n++; }
    });
    document.querySelectorAll("article.app").forEach(function (a) {
      a.hidden = a.querySelector(".finding:not([hidden])") === null;
    });
    shown.textContent = n + " findings shown" + (all && c === "" ? "" : " (filtered)");
  }
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  cat.addEventListener("change", apply);
  apply();
})();

// The alert form: choosing "Emergency" ticks and locks every channel box, since an
// emergency goes out on every channel (the server does the same: AlertForm); choosing
// another severity gives the officer's own ticks back.
(function () {
  "use strict";
  function setUp() {
    var severity = document.querySelector("select[name='severity']");
    var boxes = Array.prototype.slice.call(
      document.querySelectorAll("input[type='checkbox'][name='channels']"));
    if (!severity || !boxes.length) { return; }
    function apply() {
      var emergency = severity.value === "emergency";
      boxes.forEach(function (box) {
        if (emergency) {
          if (!box.disabled) { box.dataset.ticked = box.checked ? "1" : "0"; }
          box.checked = true;
          box.disabled = true;
        } else if (box.disabled) {
          box.disabled = false;
          if (box.dataset.ticked !== undefined) { box.checked = box.dataset.ticked === "1"; }
        }
      });
    }
    severity.addEventListener("change", apply);
    apply();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();

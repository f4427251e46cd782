/* Labels page: the print button (no inline handlers, so the CSP can forbid inline scripts). */
(function () {
  "use strict";
  var button = document.getElementById("print");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();

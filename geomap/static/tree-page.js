/* A tree's own page (what its QR label opens): its owner updates its health right here. */
(function () {
  "use strict";
  var geomap = window.geomap;
  var S = geomap.config().strings;
  var form = document.getElementById("tree-health");
  var status = form.querySelector(".save-status");
  var button = form.querySelector("button.save");
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    status.textContent = S.saving;
    status.className = "save-status ok";
    button.disabled = true;
    geomap.saveHealth(form.dataset.id, form.dataset.version, form.querySelector("select.health").value, S).then(function (result) {
      if (result.ok) {
        form.dataset.version = result.version;
        var select = form.querySelector("select.health"), cell = document.querySelector("tr[data-attr=health] td");
        if (cell) { cell.textContent = select.options[select.selectedIndex].text; }
      }
      status.textContent = result.text;
      status.className = "save-status " + (result.ok ? "ok" : "bad");
      button.disabled = false;
    });
  });
})();

/* Farmer's orchard page: update a tree's health through the API (session cookie, If-Match). */
(function () {
  "use strict";
  document.querySelectorAll("table.trees tr[data-id]").forEach(function (row) {
    var button = row.querySelector("button.save");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var status = row.querySelector(".status");
      var health = row.querySelector("select.health").value;
      fetch("/api/v1/layers/durian_trees/features/" + row.dataset.id, {
        method: "PATCH",
        credentials: "same-origin",
        headers: { "Content-Type": "application/merge-patch+json", "If-Match": '"v' + row.dataset.version + '"' },
        body: JSON.stringify({ properties: { health: health } })
      }).then(function (r) {
        return r.json().then(function (body) {
          if (r.ok) { row.dataset.version = body.properties.version; status.textContent = " ✓"; }
          else { status.textContent = " " + (body.detail || r.status); }
        });
      });
    });
  });
})();

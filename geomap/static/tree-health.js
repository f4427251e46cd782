/* Saving a tree's health through the API (session cookie, If-Match), shared by the orchard page and a
   tree's own page. Resolves to {ok, text, version}: always a plain sentence for the person, never API text. */
(function () {
  "use strict";
  var geomap = (window.geomap = window.geomap || {});
  geomap.saveHealth = function (id, version, health, S) {
    if (navigator.onLine === false) { return Promise.resolve({ ok: false, text: S.save_offline }); }
    return fetch("/api/v1/layers/durian_trees/features/" + encodeURIComponent(id), {
      method: "PATCH",
      credentials: "same-origin",
      headers: { "Content-Type": "application/merge-patch+json", "If-Match": '"v' + version + '"' },
      body: JSON.stringify({ properties: { health: health } })
    }).then(function (r) {
      if (!r.ok) { return { ok: false, text: S["save_" + r.status] || S.save_error }; }
      return r.json().then(function (body) {
        return { ok: true, text: "✓ " + S.saved, version: body.properties.version, health: body.properties.health };
      });
    }, function () {
      return { ok: false, text: S.save_offline };
    });
  };
})();

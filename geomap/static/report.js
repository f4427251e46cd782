/* Citizen-report pages: the form checks the photos before sending (≤ 3, each ≤ 10 MB) and stops a
   double send; the follow page copies or shares its link. The pages work without this script. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (form) {
    var input = document.getElementById("photos"), error = document.getElementById("photos-error");
    var max = parseInt(form.dataset.maxPhotos, 10), maxBytes = parseInt(form.dataset.maxBytes, 10);
    var problem = function () {
      var files = input.files || [];
      if (files.length > max) { return form.dataset.tooMany; }
      for (var i = 0; i < files.length; i++) { if (files[i].size > maxBytes) { return form.dataset.tooBig; } }
      return "";
    };
    var count = document.getElementById("photo-count");
    var show = function () {
      var n = (input.files || []).length;
      count.textContent = n ? count.dataset.some.replace("{n}", n) : count.dataset.none;
      var text = problem();
      error.textContent = text;
      error.hidden = !text;
      input.setAttribute("aria-invalid", text ? "true" : "false");
      return !text;
    };
    input.addEventListener("change", show);
    // How much of the 2,000 characters is used (the field stops there; pasted text is cut).
    var description = document.getElementById("description"), used = document.getElementById("description-count");
    var countChars = function () { used.textContent = used.dataset.text.replace("{n}", description.value.length); };
    description.addEventListener("input", countChars);
    if (description.value) { countChars(); }
    // Before sending: is this problem already reported? (then sending says "me too")
    var category = document.getElementById("category"), similar = document.getElementById("similar");
    category.addEventListener("change", function () {
      similar.hidden = true;
      if (!category.value) { return; }
      var lon = document.getElementById("spot-lon"), lat = document.getElementById("spot-lat");
      var u = "/api/v1/reports/similar?category=" + encodeURIComponent(category.value) + (form.dataset.assetCode
        ? "&asset_code=" + encodeURIComponent(form.dataset.assetCode)
        : "&lon=" + encodeURIComponent(lon.value) + "&lat=" + encodeURIComponent(lat.value));
      fetch(u).then(function (r) { return r.ok ? r.json() : { similar: null }; }).then(function (found) {
        if (!found.similar) { return; }
        similar.textContent = similar.dataset.text.replace("{n}", found.similar.interest_count);
        similar.hidden = false;
      }).catch(function () { /* offline: the server still folds it into the open report */ });
    });
    var sending = false;
    form.addEventListener("submit", function (event) {
      if (sending || !show()) { event.preventDefault(); if (!sending) { input.focus(); } return; }
      sending = true;
      var button = form.querySelector("button[type=submit]");
      button.textContent = form.dataset.sending;
      button.setAttribute("aria-busy", "true");
    });
    keepDraftAcrossLanguages(form, countChars);  // last: the checks above stand whatever happens here
  }
  // The language link loads the form again in the other language: what was typed comes along
  // (kept in this tab's sessionStorage for that one load; photos must be chosen again anyway).
  function keepDraftAcrossLanguages(form, countChars) {
    var KEY = "geomap-report-draft", FIELDS = ["category", "description", "reporter_name", "reporter_phone", "reporter_email"];
    var place = function (href) {
      var u = new URL(href, location.href);
      u.searchParams.delete("lang");
      return u.pathname + "?" + u.searchParams.toString();
    };
    var store = null;
    try { store = window.sessionStorage; } catch (e) { store = null; }
    if (!store) { return; }  // storage turned off: nothing is kept
    var saved = null;
    try { saved = JSON.parse(store.getItem(KEY) || "null"); } catch (e) { saved = null; }
    store.removeItem(KEY);
    // Only the load the link started: the same form (its language aside), within a minute.
    if (saved && saved.place === place(location.href) && Date.now() - saved.at < 60000) {
      FIELDS.forEach(function (name) {
        var field = form.elements[name];
        if (field && !field.value && saved.values[name]) { field.value = saved.values[name]; }
      });
      if (form.elements.description.value) { countChars(); }
      if (form.elements.category.value) { form.elements.category.dispatchEvent(new Event("change")); }  // "already reported?"
    }
    Array.prototype.forEach.call(document.querySelectorAll("a.lang-switch"), function (link) {
      link.addEventListener("click", function (event) {
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) { return; }  // a new tab
        var values = {};
        FIELDS.forEach(function (name) { if (form.elements[name]) { values[name] = form.elements[name].value; } });
        try { store.setItem(KEY, JSON.stringify({ place: place(link.href), at: Date.now(), values: values })); } catch (e) { /* full */ }
      });
    });
  }

  var copy = document.getElementById("copy-link"), status = document.getElementById("copy-status");
  if (copy) {
    copy.addEventListener("click", function () {
      var url = copy.dataset.url;
      var done = function () { status.textContent = copy.dataset.done; };
      var failed = function () { status.textContent = copy.dataset.failed; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(url).then(done, failed);
      } else { failed(); }
    });
  }
  var share = document.getElementById("share-link");
  if (share && navigator.share) {
    share.hidden = false;
    share.addEventListener("click", function () {
      navigator.share({ title: share.dataset.title, url: share.dataset.url }).catch(function () { /* the person closed the sheet */ });
    });
  }
})();

"""The field app (Sổ thực địa) served at ``/field``: an installable, offline-first web app
(manifest, service worker, IndexedDB) for volunteers and farmers capturing assets."""

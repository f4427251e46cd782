"""Citizen reports (phản ánh hiện trường): anyone reports a problem with an asset, the owning team
handles it, the reporter follows it. Open311 GeoReport v2 (:mod:`geomap.open311`) and the JSON
API (``geomap/api/routes/reports.py``) are thin layers over these modules.

How to use the reports service (for pages and other callers)
------------------------------------------------------------
Every function takes a SQLAlchemy ``Connection``; writes run in the caller's transaction
(``with engine.begin() as conn``) so a failure writes nothing. Errors are domain errors
(:mod:`geomap.errors`): ``InvalidInput`` with ``problems`` naming each field (``category``,
``asset_code``, ``location``, ``description``, ``reporter_phone``, ``file``…), ``TooManyRequests``
(``retry_after`` seconds), ``Conflict``, ``Forbidden``, ``NotFound``. A page turns them into a
friendly message in its language; the field names match the form's.

* Categories: ``categories.all_categories()`` / ``find_category("wifi_points.mat_ket_noi")``,
  declared per layer (``Layer.report_categories`` + the common "khac"); ``categories.describe``
  gives vi/en labels. For the form on ``/a/{code}``: ``layer.all_report_categories``.
* Create: ``create.create_report(conn, ReportInput(category=…, asset_code=… or lon/lat, description=…,
  reporter_name/phone/email=…, client_id=<uuid from the form>, device_id=<the phone's id>,
  client_addr=<address>), limits)`` → ``Created(report, follow_token, outcome)``; outcome
  ``created`` | ``replayed`` (same client_id) | ``me_too`` (an open report of the same problem —
  show "đã có người báo — bạn cũng gặp?"; its ``interest_count`` went up). To offer "me too"
  before submitting: ``create.similar_open_report(conn, ReportInput(...))`` (a short summary or
  None; ``GET /api/v1/reports/similar``). The follow page is ``/r/<follow_token>``
  (``api.routes.reports.follow_url``): the pages engineer serves it with
  ``queries.get_report_by_follow_token``.
* Photos: ``photos.add_report_photo(conn, home, report_id, data, token=follow_token)`` (≤ 3, the
  asset photos' bounds, EXIF/GPS removed); files via ``photos.report_photo_file``.
* Read: ``queries.get_report_public(conn, id)`` (published only), ``get_report_by_follow_token``,
  ``get_report_for(conn, id, principal)`` (team view with contact for the owning team/admin),
  ``list_reports(conn, ReportFilters(...), public=True)`` — the asset page's "open and recently
  fixed" is ``ReportFilters(asset_code=code, active=True)`` plus ``ReportFilters(asset_code=code,
  states=("fixed",), updated_since=<30 days ago>)``;
  the map layer is ``ReportFilters(bbox=…, active=True)``.
* Handle: ``queries.team_queue(conn, principal)`` (the team's active reports, oldest first, with
  contacts), ``handling.transition(conn, id, "acknowledged", principal, public_reason=None)``,
  ``handling.set_visible(conn, id, True, principal)``, ``handling.may_handle(principal, team_codes)``.
  A transition returns ``Handled(report, changed_layer)``: forget that layer's tiles.
* Views: public views never carry the reporter's contact (``views.COLUMNS`` does not select it);
  team views add ``reporter``, ``visible``, ``team_codes`` and each history entry's ``actor``.
* Webhooks: ``webhooks.configure_team(conn, team, webhook_url=…, auto_publish=…)``; deliveries are
  queued in the same transaction and sent by :class:`geomap.reports.delivery.WebhookWorker`.
"""

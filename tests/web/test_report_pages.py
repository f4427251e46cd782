"""The citizen-report pages without a browser: the form, its friendly errors, the follow page,
the asset page's list, and the team queue's permissions — content, not just status codes."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from geomap.services.accounts import add_user
from geomap.web import report_views
from tests.reports.helpers import EMAIL, NAME, PHONE, jpeg_with_gps
from tests.world import PASSWORD, World

CODE = "NB-WIFI-001"
ORIGIN = {"Origin": "http://testserver"}


def form(**overrides) -> dict:
    data = {"category": "mat_ket_noi", "description": "Wifi mất từ sáng", "reporter_name": NAME,
            "reporter_phone": PHONE, "reporter_email": EMAIL, "client_id": str(uuid.uuid4())}
    data.update(overrides)
    return data


def send(world: World, files=None, headers=ORIGIN, **overrides):
    return world.client.post(f"/a/{CODE}/report", data=form(**overrides), files=files or [],
                             headers=headers, follow_redirects=False)


def test_form_lists_the_layers_categories_and_says_contacts_stay_private(world: World):
    page = world.client.get(f"/a/{CODE}/report")
    assert page.status_code == 200
    assert 'value="mat_ket_noi"' in page.text and "Mất kết nối" in page.text and 'value="khac"' in page.text
    assert "không bao giờ hiện công khai" in page.text
    assert page.cookies.get("geomap_device")
    en = world.client.get(f"/a/{CODE}/report?lang=en")
    assert "Report a problem" in en.text and "never shown publicly" in en.text
    assert world.client.get("/a/NO-SUCH-CODE/report").status_code == 404


def test_report_with_photo_goes_to_the_follow_page_which_never_shows_the_contact(world: World):
    answer = send(world, files=[("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg"))])
    assert answer.status_code == 303, answer.text
    target = answer.headers["location"]
    assert re.fullmatch(r"/r/[A-Za-z0-9_-]{20,}\?sent=created", target)
    follow = world.client.get(target)
    assert follow.status_code == 200
    assert "Mới tiếp nhận" in follow.text and "Cảm ơn bạn" in follow.text and "Mất kết nối" in follow.text
    assert "chờ tổ kiểm tra" in follow.text  # not public until the team has looked at it
    assert "chỉ mở được trên máy chủ này" in follow.text  # the test server's public URL is loopback: said
    assert follow.headers["referrer-policy"] == "no-referrer" and "no-store" in follow.headers["cache-control"]
    for private in (NAME, PHONE, EMAIL):
        assert private not in follow.text
    thumb = re.search(r'<img src="([^"]+)"', follow.text).group(1).replace("&amp;", "&")
    assert world.client.get(thumb).headers["content-type"] == "image/jpeg"
    assert world.count("SELECT count(*) FROM report_photos") == 1


def test_me_too_says_it_was_already_reported(world: World):
    assert send(world).status_code == 303
    again = send(world, description="Vẫn mất wifi")
    assert again.headers["location"].endswith("sent=me_too")
    assert "Sự cố này đã được báo — cảm ơn bạn đã xác nhận" in world.client.get(again.headers["location"]).text
    assert world.count("SELECT count(*) FROM reports") == 1


def test_bad_input_comes_back_as_the_form_in_the_pages_language(world: World):
    bad = send(world, category="khac", description="", reporter_phone="gọi tôi")
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    assert "bắt buộc khi chọn “Khác”" in bad.text and "Số điện thoại không hợp lệ" in bad.text
    assert NAME in bad.text  # what was typed is kept
    photo = send(world, files=[("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg")),
                               ("photos", ("x.jpg", b"not a picture", "image/jpeg"))])
    assert photo.status_code == 422 and "JPEG hoặc PNG" in photo.text
    folder = world.client.app.state.settings.home_dir / "report-photos"
    assert not folder.exists() or list(folder.iterdir()) == []  # the good photo's file went with the report
    four = send(world, files=[("photos", (f"{i}.jpg", jpeg_with_gps((40, 40)), "image/jpeg")) for i in range(4)])
    assert four.status_code == 422 and "tối đa 3 ảnh" in four.text
    en = world.client.post(f"/a/{CODE}/report?lang=en", data=form(category=""), headers=ORIGIN, follow_redirects=False)
    assert en.status_code == 422 and "Choose what is wrong." in en.text
    assert world.count("SELECT count(*) FROM reports") == 0  # nothing half-written


def test_a_problem_at_a_spot_without_an_asset_is_reported_there(world: World):
    """``/report?lon=&lat=``: every layer's categories, grouped; what is wrong with the spot or the
    text comes back as messages with the rest kept; sent, it is a report without an asset, at the spot."""
    lon, lat = "105.97503", "20.25411"  # in Ninh Bình, nowhere near a tagged asset
    page = world.client.get(f"/report?lon={lon}&lat={lat}")
    assert page.status_code == 200 and "Báo sự cố tại một vị trí" in page.text
    assert '<optgroup label="Điểm wifi công cộng">' in page.text and 'value="wifi_points.mat_ket_noi"' in page.text
    assert 'name="lon" id="spot-lon" value="105.975030"' in page.text and "không bao giờ hiện công khai" in page.text
    far = world.client.get("/report?lon=2.35&lat=48.85")  # Paris: a page in the page's language, not JSON
    assert far.status_code == 422 and far.headers["content-type"].startswith("text/html") and "nằm ngoài Việt Nam" in far.text
    assert world.client.get("/report?lon=abc").status_code == 422

    def post(**data):
        return world.client.post("/report", data=form(**data), headers=ORIGIN, follow_redirects=False)

    bad = post(lon="2.35", lat="48.85", category="")
    assert bad.status_code == 422 and "nằm ngoài Việt Nam" in bad.text and "Hãy chọn loại sự cố." in bad.text
    assert NAME in bad.text and "Wifi mất từ sáng" in bad.text  # what was typed is kept
    wrong = post(lon=lon, lat=lat, category="mat_ket_noi")  # a bare category names no layer here
    assert wrong.status_code == 422 and "Hãy chọn loại sự cố." in wrong.text
    assert world.count("SELECT count(*) FROM reports") == 0
    sent = post(lon=lon, lat=lat, category="wifi_points.mat_ket_noi")
    assert sent.status_code == 303 and sent.headers["location"].startswith("/r/")
    follow = world.client.get(sent.headers["location"])
    assert "Mất kết nối" in follow.text and all(p not in follow.text for p in (NAME, PHONE, EMAIL))
    assert world.count(f"SELECT count(*) FROM reports WHERE asset_id IS NULL AND layer = 'wifi_points' AND "
                       f"ST_DWithin(geom, ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326), 0.000001)") == 1
    assert "Report a problem at a spot" in world.client.get(f"/report?lon={lon}&lat={lat}&lang=en").text


def test_line_breaks_count_once_as_the_page_counts_them(world: World):
    """A browser sends a textarea's line breaks as CRLF; what the page counted under 2,000 is accepted."""
    text = ("dòng\r\n" * 400).rstrip()  # 1,999 characters with LF, 2,398 with CRLF
    sent = send(world, category="khac", description=text)
    assert sent.status_code == 303, sent.text
    assert world.count("SELECT length(description) FROM reports") == 1999 and \
        world.count("SELECT count(*) FROM reports WHERE description LIKE '%' || chr(13) || '%'") == 0


def test_a_form_posted_from_another_site_is_refused(world: World):
    answer = send(world, headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403 and "text/html" in answer.headers["content-type"]
    assert world.count("SELECT count(*) FROM reports") == 0


def test_too_many_reports_from_one_phone_say_when_to_try_again(world: World):
    world.client.get(f"/a/{CODE}/report")  # the phone gets its id
    for i in range(10):
        assert send(world, category=["mat_ket_noi", "khac"][i % 2], description=f"lần {i}",
                    ).status_code == 303
    busy = send(world, description="lần nữa")
    assert busy.status_code == 429 and "Hãy thử lại sau khoảng" in busy.text and busy.headers["retry-after"]


def _sign_in(world: World, username: str) -> None:
    answer = world.client.post("/login", data={"username": username, "password": PASSWORD, "next": "/"},
                               follow_redirects=False)
    assert answer.status_code == 303


def test_queue_is_for_the_owning_team_and_its_transitions_show_on_the_follow_page(world: World):
    with world.engine.begin() as conn:
        add_user(conn, "nb_lead", "volunteer", team_code="NB-DOANTN-01", password=PASSWORD)
        add_user(conn, "dl_lead", "volunteer", team_code="DL-EAKLY-01", password=PASSWORD)
    follow = send(world).headers["location"].split("?")[0]
    assert world.client.get("/reports/queue").status_code == 401
    _sign_in(world, "dl_lead")
    assert "Không có sự cố nào." in world.client.get("/reports/queue").text  # another team's report is not listed
    _sign_in(world, "nb_lead")
    queue = world.client.get("/reports/queue")
    assert CODE in queue.text and PHONE in queue.text  # the owning team sees the contact
    report_id = re.search(r'data-id="([0-9a-f-]{36})"', queue.text).group(1)
    refused = world.client.post(f"/reports/{report_id}/state", data={"state": "rejected"}, headers=ORIGIN)
    assert refused.status_code == 422 and "lý do công khai" in refused.text
    done = world.client.post(f"/reports/{report_id}/state", data={"state": "in_progress", "public_reason": "Tổ đang thay bộ phát"},
                             headers=ORIGIN, follow_redirects=False)
    assert done.status_code == 303
    assert "Đã cập nhật: Đang xử lý" in world.client.get(done.headers["location"]).text
    page = world.client.get(follow)
    assert "Đang xử lý" in page.text and "Tổ đang thay bộ phát" in page.text and "chờ tổ kiểm tra" not in page.text
    asset = world.client.get(f"/a/{CODE}").text
    assert "Báo sự cố" in asset and "Đang xử lý" in asset and "Tổ đang thay bộ phát" in asset
    assert PHONE not in asset


def test_asset_page_lists_public_reports_open_or_recently_fixed(world: World):
    send(world)
    assert "Chưa có sự cố nào đang mở." in world.client.get(f"/a/{CODE}").text  # not public until checked
    report_id = world.client.get("/api/v1/reports/queue", headers=world.auth("other_volunteer")).json()[0]["id"]
    for state in ("acknowledged", "fixed"):
        moved = world.client.post(f"/api/v1/reports/{report_id}/transition", json={"state": state},
                                  headers=world.auth("other_volunteer"))
        assert moved.status_code == 200
    assert "Đã khắc phục" in world.client.get(f"/a/{CODE}").text
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=report_views.RECENT_FIXED_DAYS + 1)
    with world.engine.connect() as conn:
        assert [r["state"] for r in report_views.asset_reports(conn, CODE, "vi")] == ["fixed"]
        assert report_views.asset_reports(conn, CODE, "vi", now=later) == []


def test_overlong_text_is_a_message_not_json(world: World):
    long = send(world, description="x" * 30_000)
    assert long.status_code == 422 and long.headers["content-type"].startswith("text/html")
    assert "Mô tả quá dài" in long.text
    with world.engine.begin() as conn:
        add_user(conn, "nb_lead", "volunteer", team_code="NB-DOANTN-01", password=PASSWORD)
    send(world)
    _sign_in(world, "nb_lead")
    report_id = world.client.get("/api/v1/reports/queue", headers=world.auth("other_volunteer")).json()[0]["id"]
    odd = world.client.post(f"/reports/{report_id}/state", data={"state": "x" * 500, "public_reason": "y" * 9000},
                            headers=ORIGIN)
    assert odd.status_code == 422 and odd.headers["content-type"].startswith("text/html")
    assert "không hợp lệ" in odd.text


def test_a_chosen_vietnamese_stays_on_the_next_page_for_an_english_browser(world: World):
    """A phone set to English that chose "Tiếng Việt" must not get the report form in English."""
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    asset = world.client.get(f"/a/{CODE}?lang=vi", headers=english_browser)
    link = re.search(r'id="report-button" href="([^"]+)"', asset.text).group(1)
    assert link.endswith("?lang=vi")
    page = world.client.get(link, headers=english_browser)
    assert "Báo sự cố" in page.text and "Report a problem" not in page.text
    sent = world.client.post(link, data=form(), headers={**ORIGIN, **english_browser}, follow_redirects=False)
    assert sent.status_code == 303 and "lang=vi" in sent.headers["location"]
    follow = world.client.get(sent.headers["location"], headers=english_browser)
    assert "Theo dõi sự cố" in follow.text
    # The choice is remembered for the next page opened without ?lang= (the next QR code scanned).
    assert "Báo sự cố" in world.client.get(f"/a/{CODE}/report", headers=english_browser).text
    # Without a choice, the browser's language decides (English here), and links stay plain for Vietnamese.
    world.client.cookies.delete("geomap_lang")
    assert "Report a problem" in world.client.get(f"/a/{CODE}/report", headers=english_browser).text
    plain = world.client.get(f"/a/{CODE}")
    assert re.search(r'id="report-button" href="[^"?]+"', plain.text)

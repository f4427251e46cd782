"""``geomap teams reports`` sets a team's webhook and auto-publish; ``geomap teams deliveries`` shows the log."""

from __future__ import annotations

from sqlalchemy import text

from geomap.services.accounts import add_team
from tests.test_cli import run
from tests.world import NINH_BINH_AREA


def test_team_webhook_from_the_command_line(engine, db_url, tmp_path):
    with engine.begin() as conn:
        add_team(conn, "NB-DOANTN-01", "Tổ Ninh Bình", ["Ninh Bình"], [], ["wifi_points"], area_geojson=NINH_BINH_AREA)
    out = run(["teams", "reports", "NB-DOANTN-01", "--webhook-url", "https://ioc.ninhbinh.example/hook", "--auto-publish"],
              db_url, tmp_path).stdout
    assert "webhook https://ioc.ninhbinh.example/hook, auto-publish on" in out
    secret = out.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    with engine.connect() as conn:
        row = conn.execute(text("SELECT webhook_url, webhook_secret, auto_publish FROM team_report_settings")).one()
    assert row == ("https://ioc.ninhbinh.example/hook", secret, True) and len(secret) >= 40
    bad = run(["teams", "reports", "NB-DOANTN-01", "--webhook-url", "ftp://x"], db_url, tmp_path, check=False)
    assert bad.returncode != 0 and "webhook_url" in bad.stderr
    unknown = run(["teams", "reports", "KHONG-CO", "--check-first"], db_url, tmp_path, check=False)
    assert unknown.returncode != 0 and "no team" in unknown.stderr
    cleared = run(["teams", "reports", "NB-DOANTN-01", "--clear-webhook", "--check-first"], db_url, tmp_path).stdout
    assert "webhook none, auto-publish off" in cleared
    assert run(["teams", "deliveries", "NB-DOANTN-01"], db_url, tmp_path).returncode == 0

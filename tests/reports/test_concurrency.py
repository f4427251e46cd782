"""Citizens reporting the same problem at the same moment make one report, not several."""

from __future__ import annotations

import threading

from geomap.reports.create import Limits, create_report
from geomap.reports.submission import ReportInput
from tests.world import World


def test_simultaneous_reports_of_one_problem_make_one_report(world: World):
    n = 8
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def report(i: int) -> None:
        data = ReportInput(category="heritage_sites.xuong_cap", lon=105.9801 + i * 0.00001, lat=20.2551,
                           description="Tường bong tróc", device_id=f"same-moment-{i:03d}", client_addr=f"10.9.0.{i}")
        barrier.wait()
        with world.engine.begin() as conn:
            outcomes.append(create_report(conn, data, Limits()).outcome)

    threads = [threading.Thread(target=report, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["created"] + ["me_too"] * (n - 1)
    assert world.count("SELECT count(*) FROM reports") == 1
    assert world.count("SELECT interest_count FROM reports") == n

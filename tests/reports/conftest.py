"""Report tests run the app with a quick webhook worker (short poll and backoff)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geomap.settings import Settings


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test database, with webhooks retried within a fraction of a second."""
    return Settings(database_url=db_url, home=tmp_path / "home", prewarm_tiles=False, webhook_poll_s=0.05,
                    webhook_backoff_s=0.1, webhook_max_attempts=5, webhook_timeout_s=2.0)

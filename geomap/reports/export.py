"""Published reports as CSV: public columns only, text cells neutralised so that no spreadsheet
runs a formula typed into a description (:mod:`geomap.io.csvcells`)."""

from __future__ import annotations

import csv
import io

from geomap.io.csvcells import neutralise

COLUMNS = ("id", "category", "category_vi", "asset_code", "state", "state_vi", "public_reason", "interest_count",
           "description", "lon", "lat", "created_at", "updated_at")


def reports_csv(reports: list[dict]) -> str:
    """``reports`` (public views) as CSV text with a header row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for r in reports:
        flat = {**r, "asset_code": r["asset"]["code"] if r["asset"] else None,
                "lon": r["location"]["lon"], "lat": r["location"]["lat"]}
        writer.writerow([neutralise(flat[c]) if flat[c] is not None else "" for c in COLUMNS])
    return out.getvalue()

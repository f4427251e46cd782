"""Turns ``bench/results.json`` into ``docs/BENCHMARKS.md``."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if a and b else "—"


def _ok(flag: bool) -> str:
    return "✅ met" if flag else "❌ missed"


def write_report(r: dict, path: Path) -> None:
    """Write the Markdown report."""
    m, load, tiles, feats, writes, pages = r["machine"], r["load"], r["tiles"], r["features"], r["writes"], r["map"]
    lines = [
        "# Benchmarks",
        "",
        "Produced by the benchmark suite in one run against one database; regenerate with:",
        "",
        "```sh",
        "make bench            # = .venv/bin/python -m bench.run  (1,000,000 trees)",
        f"# this report: {r['command']}",
        "```",
        "",
        f"**Machine:** {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['os']}; Python {m['python']}; "
        f"{m['postgres']}; {m['wrk']}. Run took {r['duration_s'] // 60} min.",
        "",
        f"**Dataset:** {r['trees']:,} durian trees in {r['dataset']['farms']:,} farms around Krông Pắc, Cư M'gar and "
        f"Krông Năng (Đắk Lắk), rows 8–10 m apart inside the farm polygons, plus the other layers "
        f"(seed {r['seed']}, `geomap sample-data --trees {r['trees']}`). Throughput runs: `wrk` for {r['seconds']:g} s, "
        f"median of {r['repeats']} runs. The machine is shared and noisy: ratios from the same run matter more than absolute numbers.",
        "",
        "## 1. Bulk load",
        "",
        "| loader | file | rows | seconds | rows/s | vs ogr2ogr |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for fmt in ("geojson", "gpkg"):
        g, o = load[f"geomap_{fmt}"], load[f"ogr2ogr_{fmt}"]
        lines.append(f"| geomap load (validation, containment, history) | {fmt} | {g['rows']:,} | {g['seconds']} | {g['rows_per_s']:,} | {_ratio(g['rows_per_s'], o['rows_per_s'])} |")
        lines.append(f"| ogr2ogr `PG_USE_COPY=YES` (no validation) | {fmt} | {o['rows']:,} | {o['seconds']} | {o['rows_per_s']:,} | 1.00× |")
    u = load["geomap_reload_unchanged"]
    same = load.get("geomap_reload_same_file")
    if same:
        lines.append(f"| geomap reload of the same file, nothing written since (answered from its fingerprint) | gpkg | {same['rows']:,} | {same['seconds']} | {same['rows_per_s']:,} | |")
    lines += [f"| geomap reload of the same file after any write (compared row by row; nothing changes) | gpkg | {u['rows']:,} | {u['seconds']} | {u['rows_per_s']:,} | |", ""]
    best = max(load["geomap_geojson"]["rows_per_s"] / load["ogr2ogr_geojson"]["rows_per_s"],
               load["geomap_gpkg"]["rows_per_s"] / load["ogr2ogr_gpkg"]["rows_per_s"])
    # Met only when the row-by-row comparison (the reload after any edit) is under 20 s as well.
    reload_s = max(same["seconds"] if same else 0, u["seconds"])
    lines += [f"- at least ogr2ogr's rows/s, validation included: {_ok(best >= 1)} (best ratio {best:.2f}×)",
              f"- reload of the unchanged file under 20 s, also after an edit: {_ok(reload_s < 20)} "
              f"({same['seconds'] if same else '—'} s from its fingerprint; compared row by row: {u['seconds']} s)", ""]

    lines += ["## 2. Vector tiles (densest area)", "",
              "| z | raw ST_AsMVT median ms | geomap cold median / p95 ms | cold ÷ raw | geomap warm rps c1 / c16 | cold rps c1 / c16 | warm ÷ cold (c1) | tipg rps c1 / c16 | geomap ÷ tipg (c1 / c16) | bytes geomap / tipg | features in tile / geomap / tipg |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    t_ok = {"tipg2": True, "size": True, "drop": True, "cold_tipg": True}
    for z, t in tiles.items():
        raw, cold = t["raw_ms"]["median"], t["geomap_cold_ms"]
        w1, w16, p1, p16 = t["geomap_warm_1"]["rps"], t["geomap_warm_16"]["rps"], t["tipg_1"]["rps"], t["tipg_16"]["rps"]
        f = t["features"]
        lines.append(
            f"| {z} | {raw} | {cold['median']} / {cold['p95']} | {_ratio(cold['median'], raw)} | {w1:,.0f} / {w16:,.0f} | "
            f"{t['geomap_cold_rps_1']} / {t['geomap_cold_rps_16']} | {_ratio(w1, t['geomap_cold_rps_1'])} | {p1:,.0f} / {p16:,.0f} | "
            f"{_ratio(w1, p1)} / {_ratio(w16, p16)} | {t['bytes']['geomap']:,} / {t['bytes']['tipg']:,} | {f['in_tile']:,} / {f['geomap_counted']:,} / {f['tipg_counted']:,} |")
        t_ok["tipg2"] &= w1 >= 2 * p1 and w16 >= 2 * p16
        t_ok["size"] &= t["bytes"]["geomap_max_cold"] <= 500_000 and t["bytes"]["geomap"] <= 500_000
        t_ok["drop"] &= abs(f["geomap_counted"] - f["in_tile"]) <= f.get("geomap_on_edge", 0)
        t_ok["cold_tipg"] &= cold["median"] <= t["tipg_cold_ms"]["median"]
    lines += ["", "`raw ST_AsMVT` above is geomap's own tile SQL run in-process (aggregated below z15). Cold tiles against the "
              "plain full-detail `ST_AsMVT` query (every tree of the tile with the attributes geomap's tile carries; what tipg "
              "sends without its cap) and against tipg's first request of the same tiles. Tiles are fetched over one "
              "keep-alive connection per server, as a browser fetches a map's tiles. `inside the server` is the "
              "same requests' `Server-Timing: render` (the pooled connection, the SQL, the cache; not the HTTP exchange "
              "or the hop into a worker thread, ~1 ms together):", "",
              "| z | plain full-detail ST_AsMVT median ms | geomap cold median ms | cold ÷ plain | inside the server ms | inside ÷ plain | tipg cold median ms | geomap cold ÷ tipg cold |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    cold_ok = {"detail": True, "agg": True}
    for z, t in tiles.items():
        full = t.get("raw_full_ms")
        cold, tc = t["geomap_cold_ms"]["median"], t["tipg_cold_ms"]["median"]
        inside = t.get("geomap_cold_render_ms")
        lines.append(f"| {z} | {full['median'] if full else '—'} | {cold} | {_ratio(cold, full['median']) if full else '—'} | "
                     f"{inside if inside is not None else '—'} | {_ratio(inside, full['median']) if full and inside is not None else '—'} | "
                     f"{tc} | {_ratio(cold, tc)} |")
        if int(z) >= 15 and full:
            cold_ok["detail"] &= cold <= 1.2 * full["median"]
        if 12 <= int(z) <= 14:
            cold_ok["agg"] &= cold < 150
    lines += ["",
              f"- cold ≤ 1.2× the plain ST_AsMVT query at full-detail zooms (z15, z16): {_ok(cold_ok['detail'])}",
              f"- cold never slower than tipg's first request of the same tiles (median, every zoom): {_ok(t_ok['cold_tipg'])}",
              f"- aggregated dense tiles cold under 150 ms at z12–z14: {_ok(cold_ok['agg'])}",
              f"- warm tiles ≥ 2× tipg's requests/s at every zoom: {_ok(t_ok['tipg2'])}",
              f"- no tile over 500 KB: {_ok(t_ok['size'])}",
              f"- no feature silently dropped (geomap's counts add up to the features in the tile, give or take a tree on its "
              f"very edge, whose rounded tile coordinate may land either side): {_ok(t_ok['drop'])}; "
              "tipg's `features` column shows what its per-tile cap drops.", ""]

    lines += ["## 3. Feature queries (1 km bbox + `health=khoe`)", "",
              "| limit | endpoint | returned | rps c1 | p50 ms c1 | rps c16 | p99 ms c16 |", "|---|---|---:|---:|---:|---:|---:|"]
    f_ok = True
    for limit, row in feats.items():
        for name in ("geomap_api", "geomap_ogc", "tipg"):
            e = row[name]
            lines.append(f"| {limit} | {name} | {e['returned']} | {e['c1']['rps']:,.0f} | {e['c1']['p50_ms']} | {e['c16']['rps']:,.0f} | {e['c16']['p99_ms']} |")
        lines.append(f"| {limit} | raw SQL (psycopg2, median) | | | {row['raw_sql_ms']} | | |")
        if str(limit) == "100":
            f_ok = row["geomap_api"]["c1"]["p50_ms"] < 20
            f_tipg = row["geomap_api"]["c16"]["rps"] >= 2 * row["tipg"]["c16"]["rps"]
        tipg_ratio = row["geomap_api"]["c16"]["rps"] / row["tipg"]["c16"]["rps"]
        lines.append(f"| {limit} | geomap API ÷ tipg (c16 rps) | | | | {tipg_ratio:.2f}× | |")
    lines += ["", f"- median under 20 ms at one connection for `limit=100`: {_ok(f_ok)}",
              f"- ≥ 2× tipg's requests/s at 16 connections for `limit=100`: {_ok(f_tipg)}", ""]

    w = writes
    if "flow_ms" in w:  # wrk-driven (bench/field_writes.lua)
        lines += ["## 4. Field writes", "",
                  f"{w['clients']} concurrent volunteers, one `wrk` connection each ({w['generator']}), "
                  + (f"after a {w['warm_up_s']} s warm-up on other farms (not counted: a fresh server opens its pooled "
                     "connections then), " if w.get("warm_up_s") else "")
                  + f"two runs of {w['seconds']} s against the same server: **creates** (client-chosen id, inside a farm; 10% re-sent and "
                  "must come back 200 with the same tree), then the **create → patch flow** (each new tree patched under "
                  "`If-Match`; 10% of patches re-sent with the old ETag and must be refused with 412). Latencies are wrk's "
                  "over all requests of the run. Afterwards the database is checked.", "",
                  "| creates | creates/s | create p50 / p99 ms | flow: creates + patches | flow p50 / p99 ms | create retries → 200 | patch retries → 412 | refused (409/422) | errors | duplicates | acknowledged but missing | lost updates |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
                  f"| {w['creates']:,} | {w['creates_per_s']} | {w['create_ms']['p50']} / {w['create_ms']['p99']} | "
                  f"{w['flow_creates']:,} + {w['patches']:,} | {w['flow_ms']['p50']} / {w['flow_ms']['p99']} | "
                  f"{w['create_retries_ok']} | {w['patch_retries_412']} | {w['conflicts']} | {w['errors']} | {w['duplicates']} | "
                  f"{w['acknowledged_missing']} | {w['lost_updates']} |", ""]
        if w.get("connections_per_worker"):
            lines += [f"Connections per server worker during the creates run: {' / '.join(map(str, w['connections_per_worker']))} "
                      "(the kernel hands each keep-alive connection to one worker for its life; both workers answer at the "
                      "same rate, so the volunteers on the busier one wait longer: bench/NOTES.md, session 15).", ""]
    else:
        lines += ["## 4. Field writes", "",
                  f"{w['clients']} concurrent volunteers for {w['seconds']} s, each creating a tree (client-chosen id, inside a farm) "
                  "and patching it under `If-Match`; 10% of creates re-sent (must return the same asset) and 10% of patches "
                  "re-sent with the old ETag (must be refused with 412).", "",
                  "| creates | creates/s | create p50 / p99 ms | patches | patch p50 / p99 ms | create retries → 200 | patch retries → 412 | refused (409/422) | errors | duplicates | acknowledged but missing | lost updates |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
                  f"| {w['creates']:,} | {w['creates_per_s']} | {w['create_ms']['p50']} / {w['create_ms']['p99']} | {w['patches']:,} | "
                  f"{w['patch_ms']['p50']} / {w['patch_ms']['p99']} | {w['create_retries_ok']} | {w['patch_retries_412']} | {w['conflicts']} | "
                  f"{w['errors']} | {w['duplicates']} | {w['acknowledged_missing']} | {w['lost_updates']} |", ""]
    lines += [f"- ≥ 300 creates/s with p99 under 150 ms: {_ok(w['creates_per_s'] >= 300 and w['create_ms']['p99'] < 150)}",
              f"- zero duplicates, zero lost updates: {_ok(w['duplicates'] == 0 and w['lost_updates'] == 0 and w['acknowledged_missing'] == 0)}", ""]

    rf = r.get("retries_in_flight")
    if rf:
        lines += [f"Identical retries in flight: {rf['pairs']} creates each sent twice at the same instant. "
                  f"Both answered with the same tree: **{rf['replayed']}**; one refused with 409: {rf['conflict_409']}; "
                  f"other outcomes: {rf['other']}; trees stored: {rf['stored']} (one per pair).", "",
                  f"- an identical retry in flight waits and gets the same answer: {_ok(rf['replayed'] == rf['pairs'] and rf['stored'] == rf['pairs'])}", ""]
    lines += ["## 5. Map page", "", "| data | HTML bytes | first layer drawn (median of 3) |", "|---|---:|---:|"]
    for label, p in pages.items():
        lines.append(f"| {label} trees | {p['html_bytes']:,} | {p['first_layer_s']} s |")
    big = next(iter(pages.values()))
    lines += ["", f"- HTML under 300 KB and first layer under 2 s at 1M: {_ok(big['html_bytes'] < 300_000 and big['first_layer_s'] < 2)}", ""]
    if r.get("pages_slowlink"):
        from bench.pages_slowlink import table

        lines += ["## 6. Pages on a slow link", ""] + table(r["pages_slowlink"], 3) + [""]
    if r.get("growth"):
        lines += ["## 7. How the costs grow", "",
                  "Each size on its own database with a fresh server (empty tile cache): the trees' GeoPackage load, "
                  "cold tiles in the densest area (median of 9), and items (1 km bbox, `health=khoe`, limit 100) at one connection.", "",
                  "| trees | load s | load rows/s | z8 cold ms | z12 cold ms | z16 cold ms | items p50 ms | items rps c1 |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for g in r["growth"]:
            mark = " (separate run)" if g.get("separate_run") else ""
            lines.append(f"| {g['trees']:,}{mark} | {g['load_s']} | {g['load_rows_per_s']:,} | {g['tile_z8_cold_ms']} | "
                         f"{g['tile_z12_cold_ms']} | {g['tile_z16_cold_ms']} | {g['items_c1_p50_ms']} | {g['items_c1_rps']:,.0f} |")
        lines.append("")
    notes = Path(__file__).with_name("NOTES.md")
    if notes.exists():
        lines += [notes.read_text(encoding="utf-8")]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":  # python bench/report.py [OUT.md]  (or python -m bench.report)
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    write_report(json.loads((root / "bench" / "results.json").read_text()), Path(sys.argv[1]) if len(sys.argv) > 1 else root / "docs" / "BENCHMARKS.md")

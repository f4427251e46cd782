"""Seeded generator of realistic sample data for every layer (``geomap sample-data``).

Durian farms around Krông Pắc, Cư M'gar and Krông Năng (Đắk Lắk) with trees in rows 8–10 m
apart inside each farm polygon; wifi points and digital libraries at village cultural houses
in Ninh Bình; border markers along the Việt Nam – Lào border west of the former Quảng Nam
(now Đà Nẵng city); heritage sites with QR signs. Provinces and communes follow the two-level
administration in force since 1 July 2025; old district names appear in descriptions only.
The same seed always gives the same files.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import uuid
from pathlib import Path

import numpy as np
import shapely
from shapely.affinity import rotate

M_PER_DEG_LAT = 110_574.0

# (old district for descriptions, commune, centre lon, centre lat, team)
DURIAN_AREAS = [
    ("Krông Pắc", "xã Ea Kly", 108.300, 12.710, "DL-EAKLY-01"),
    ("Krông Pắc", "xã Ea Knuếc", 108.335, 12.690, "DL-EAKNUEC-01"),
    ("Cư M'gar", "xã Quảng Phú", 108.080, 12.830, "DL-QUANGPHU-01"),
    ("Cư M'gar", "xã Ea Kiết", 108.050, 12.860, "DL-EAKIET-01"),
    ("Krông Năng", "xã Krông Năng", 108.400, 12.980, "DL-KRONGNANG-01"),
    ("Krông Năng", "xã Phú Xuân", 108.430, 12.955, "DL-PHUXUAN-01"),
]
VILLAGES = ["buôn Ea Kmăt", "thôn 3", "thôn Tân Lập", "buôn Kô Đung", "thôn 7", "thôn Quyết Thắng", "buôn Drai"]
OWNERS = [
    "Nguyễn Văn Hùng", "Trần Thị Lan", "Y Kông Ayun", "H'Linh Niê", "Lê Văn Dũng", "Phạm Thị Hoa",
    "Y Bhăm Mlô", "Hoàng Văn Nam", "Đặng Thị Thu", "Võ Văn Tâm", "H'Hen Niê", "Bùi Quang Vinh",
    "Ngô Thị Mai", "Đỗ Văn Lợi", "Y Sa Êban", "Huỳnh Thị Ngọc",
]
VARIETIES = (["ri6", "monthong", "musang_king", "chuong_bo", "sau_huu", "khac"], [0.45, 0.33, 0.09, 0.06, 0.04, 0.03])
HEALTH = (["khoe", "sau_benh", "chet"], [0.945, 0.045, 0.01])

WIFI_SITES = [
    # commune, village, lon, lat, provider
    ("xã Đồng Hướng", "xóm 4", 106.0500, 20.0600, "viettel"),
    ("xã Kim Sơn", "xóm 2", 106.0800, 20.0450, "vnpt"),
    ("xã Quang Thiện", "xóm 6", 106.0650, 20.0850, "vnpt"),
    ("xã Quỳnh Lưu", "thôn Quỳnh Thượng", 105.7300, 20.3000, "viettel"),
    ("xã Nho Quan", "thôn Đồng Tâm", 105.7500, 20.3200, "mobifone"),
    ("xã Gia Viễn", "thôn Đông Thượng", 105.8700, 20.3300, "fpt"),
    ("xã Yên Mô", "thôn Phù Sa", 105.9900, 20.1300, "vnpt"),
    ("xã Yên Khánh", "xóm Tân Hưng", 106.0600, 20.1900, "viettel"),
    ("xã Hoa Lư", "thôn Văn Lâm", 105.9300, 20.2250, "vnpt"),
    ("xã Phát Diệm", "xóm Trì Chính", 106.0830, 20.0930, "mobifone"),
]
LIBRARY_SITES = [
    ("xã Đồng Hướng", "xóm 4", 106.0502, 20.0603, 6, 1200),
    ("xã Quỳnh Lưu", "thôn Quỳnh Thượng", 105.7303, 20.3002, 4, 800),
    ("xã Gia Viễn", "thôn Đông Thượng", 105.8702, 20.3303, 5, 950),
]
# The Việt Nam – Lào border west of the former Tây Giang and Nam Giang districts (approximate).
BORDER_PATH = [(107.265, 16.080), (107.215, 15.950), (107.235, 15.830), (107.330, 15.720), (107.400, 15.600), (107.470, 15.470)]
BORDER_COMMUNES = [("xã A Vương", "Tây Giang"), ("xã Tây Giang", "Tây Giang"), ("xã Hùng Sơn", "Tây Giang"), ("xã La Êê", "Nam Giang"), ("xã Đắc Pre", "Nam Giang"), ("xã Chơ Chun", "Nam Giang")]
HERITAGE = [
    ("NB-NONNUOC", "Núi Non Nước (núi Dục Thúy)", "danh_thang", "quoc_gia", "Ninh Bình", "phường Hoa Lư", 105.9800, 20.2550,
     "Ngọn núi bên sông Đáy, nơi lưu giữ nhiều bài thơ khắc trên vách đá của các bậc danh nhân."),
    ("NB-TRUONGHANSIEU", "Đền Trương Hán Siêu", "di_tich_lich_su", "quoc_gia", "Ninh Bình", "phường Hoa Lư", 105.9815, 20.2538,
     "Đền thờ danh nhân Trương Hán Siêu dưới chân núi Non Nước."),
    ("NB-NGUYENCONGTRU", "Đền Nguyễn Công Trứ", "di_tich_lich_su", "tinh", "Ninh Bình", "xã Quang Thiện", 106.0700, 20.0800,
     "Đền thờ Doanh điền sứ Nguyễn Công Trứ, người khai hoang lập nên vùng Kim Sơn (huyện Kim Sơn cũ)."),
    ("DN-KYANH", "Địa đạo Kỳ Anh", "dia_chi_do", "quoc_gia", "Đà Nẵng", "phường Điện Bàn", 108.2500, 15.8900,
     "Địa chỉ đỏ giáo dục truyền thống tại vùng đất Điện Bàn (tỉnh Quảng Nam cũ)."),
    ("DN-HOANGDIEU", "Nhà thờ Tổng đốc Hoàng Diệu", "di_tich_lich_su", "quoc_gia", "Đà Nẵng", "phường Điện Bàn Đông", 108.2620, 15.8840,
     "Di tích lưu niệm danh nhân Hoàng Diệu, Điện Bàn."),
    ("QT-THANHCO", "Thành cổ Quảng Trị", "dia_chi_do", "quoc_gia", "Quảng Trị", "phường Quảng Trị", 107.1950, 16.7520,
     "Địa chỉ đỏ ghi dấu 81 ngày đêm năm 1972."),
]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(bytes=rng.randbytes(16), version=4))


def _offset(lon: float, lat: float, dx: np.ndarray | float, dy: np.ndarray | float):
    """Move (lon, lat) by dx, dy metres (east, north)."""
    return lon + np.asarray(dx) / (M_PER_DEG_LAT * math.cos(math.radians(lat))), lat + np.asarray(dy) / M_PER_DEG_LAT


def _feature(fid: str, geometry, props: dict) -> dict:
    return {"type": "Feature", "id": fid, "geometry": shapely.geometry.mapping(geometry), "properties": props}


def _farm_polygon(rng: random.Random, lon: float, lat: float, area_ha: float) -> shapely.Polygon:
    """An irregular, slightly rotated quadrilateral of about ``area_ha`` hectares, in degrees."""
    ratio = rng.uniform(1.0, 2.2)
    w = math.sqrt(area_ha * 10_000 * ratio)
    h = area_ha * 10_000 / w
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    jittered = [(x + rng.uniform(-0.06, 0.06) * w, y + rng.uniform(-0.06, 0.06) * h) for x, y in corners]
    local = rotate(shapely.Polygon(jittered), rng.uniform(-25, 25), origin=(0, 0))
    xs, ys = np.array(local.exterior.coords).T
    gx, gy = _offset(lon, lat, xs, ys)
    return shapely.Polygon(np.column_stack([np.round(gx, 7), np.round(gy, 7)]))


def _trees_in(rng: random.Random, poly: shapely.Polygon, lon: float, lat: float, area_ha: float) -> np.ndarray:
    """Tree positions in rows 8–10 m apart inside ``poly`` (shapely points, lon/lat)."""
    nrng = np.random.default_rng(rng.randrange(2**32))
    spacing = rng.uniform(8.0, 10.0)
    angle = math.radians(rng.uniform(-25, 25))
    half = math.sqrt(area_ha * 10_000 * 2.2) / 2 + 60
    grid = np.arange(-half, half, spacing)
    gx, gy = (a.ravel() for a in np.meshgrid(grid, grid))
    x = gx * math.cos(angle) - gy * math.sin(angle) + nrng.normal(0, 0.4, gx.size)
    y = gx * math.sin(angle) + gy * math.cos(angle) + nrng.normal(0, 0.4, gx.size)
    lons, lats = _offset(lon, lat, x, y)
    pts = shapely.points(np.round(lons, 7), np.round(lats, 7))
    inner = poly.buffer(-0.00002)  # keep about 2 m off the boundary
    return pts[shapely.contains(inner, pts)]


def durian(seed: int = 7, n_trees: int = 10_000, min_farms: int = 24) -> tuple[list[dict], list[dict]]:
    """Farms and trees: ``n_trees`` trees filling farms in order, in at least ``min_farms`` farms."""
    rng = random.Random(seed)
    farms: list[dict] = []
    trees: list[dict] = []
    this_year = 2026
    f = 0
    while len(trees) < n_trees or f < min_farms:
        district, commune, clon, clat, team = DURIAN_AREAS[f % len(DURIAN_AREAS)]
        row, col = divmod(f // len(DURIAN_AREAS), 12)
        lon, lat = (float(v) for v in _offset(clon, clat, col * 350.0, row * 350.0))
        area = rng.uniform(0.8, 5.0)
        poly = _farm_polygon(rng, lon, lat, area)
        fcode = _ascii(f"DL-{commune.split(' ', 1)[1].upper().replace(' ', '').replace(chr(39), '')[:8]}-{f + 1:04d}")
        fid = _uuid(rng)
        owner = OWNERS[f % len(OWNERS)]
        farms.append(_feature(fid, shapely.MultiPolygon([poly]), {
            "code": fcode,
            "name": f"Vườn sầu riêng số {f + 1}, {VILLAGES[f % len(VILLAGES)]}",
            "status": "hoat_dong",
            "province": "Đắk Lắk",
            "commune": commune,
            "village": VILLAGES[f % len(VILLAGES)],
            "team_code": team,
            "gps_accuracy_m": round(rng.uniform(3, 12), 1),
            "owner_name": owner,
            "owner_phone": f"09{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
            "planting_area_code": f"VN-DLOR-{f + 101:04d}",
        }))
        f += 1
        budget = max(0, n_trees - len(trees))
        for i, pt in enumerate(_trees_in(rng, poly, lon, lat, area)[:budget]):
            variety = rng.choices(*VARIETIES)[0]
            year = rng.randint(2008, 2023)
            age = this_year - year
            health = rng.choices(*HEALTH)[0]
            height = round(min(18.0, 1.2 + age * rng.uniform(0.55, 0.8)), 1)
            props = {
                "code": f"{fcode}-T{i + 1:04d}",
                "name": f"Cây {i + 1} – {fcode}",
                "status": "hoat_dong" if health != "chet" else "ngung",
                "province": "Đắk Lắk",
                "commune": commune,
                "village": VILLAGES[f % len(VILLAGES)],
                "team_code": team,
                "gps_accuracy_m": round(rng.uniform(2, 15), 1),
                "farm_id": fid,
                "variety": variety,
                "planting_year": year,
                "health": health,
                "height_m": height,
                "canopy_m": round(min(14.0, 0.8 + age * rng.uniform(0.45, 0.7)), 1),
                "last_yield_kg": round(rng.uniform(40, 180) * min(1.0, (age - 4) / 6), 1) if age >= 5 and health != "chet" else None,
                "notes": "Phát hiện nấm hồng, cần phun thuốc" if health == "sau_benh" else None,
            }
            trees.append(_feature(_uuid(rng), pt, props))
    return farms, trees


def _ascii(s: str) -> str:
    import unicodedata

    s = s.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def ninh_binh(seed: int = 7) -> tuple[list[dict], list[dict]]:
    """Wifi points and digital libraries at village cultural houses in Ninh Bình."""
    rng = random.Random(seed + 1)
    wifi, libs = [], []
    for i, (commune, village, lon, lat, provider) in enumerate(WIFI_SITES):
        venue = f"Nhà văn hóa {village}, {commune}"
        wifi.append(_feature(_uuid(rng), shapely.Point(lon, lat), {
            "code": f"NB-WIFI-{i + 1:03d}",
            "name": f"Wifi miễn phí {village}, {commune}",
            "status": "hoat_dong" if i != 7 else "hong",
            "province": "Ninh Bình",
            "commune": commune,
            "village": village,
            "team_code": "NB-DOANTN-01",
            "gps_accuracy_m": round(rng.uniform(3, 10), 1),
            "venue": venue,
            "ssid": _ascii(f"Wifi-{commune.split(' ', 1)[1]}-{village}").replace(" ", ""),
            "provider": provider,
            "installed_on": (dt.date(2025, 3, 1) + dt.timedelta(days=rng.randint(0, 27))).isoformat(),
            "built_by": "Đoàn Thanh niên " + commune,
        }))
    for i, (commune, village, lon, lat, devices, titles) in enumerate(LIBRARY_SITES):
        libs.append(_feature(_uuid(rng), shapely.Point(lon, lat), {
            "code": f"NB-TVS-{i + 1:03d}",
            "name": f"Thư viện số {village}, {commune}",
            "status": "hoat_dong",
            "province": "Ninh Bình",
            "commune": commune,
            "village": village,
            "team_code": "NB-DOANTN-01",
            "gps_accuracy_m": round(rng.uniform(3, 10), 1),
            "venue": f"Nhà văn hóa {village}, {commune}",
            "devices": devices,
            "digital_titles": titles,
            "opening_hours": "Thứ Hai – Chủ nhật, 7:30–11:00 và 14:00–21:00",
        }))
    return wifi, libs


def border_markers(seed: int = 7, n: int = 36) -> list[dict]:
    """Markers spaced along the Việt Nam – Lào border path."""
    rng = random.Random(seed + 2)
    line = shapely.LineString(BORDER_PATH)
    out = []
    for i in range(n):
        pt = line.interpolate(i / (n - 1), normalized=True)
        kind = "moc_chinh" if i % 3 == 0 else ("moc_phu" if i % 3 == 1 else "coc_dau")
        number = f"{684 + i // 3}" + ("" if kind == "moc_chinh" else ("/1" if kind == "moc_phu" else "/2"))
        commune, old_district = BORDER_COMMUNES[min(len(BORDER_COMMUNES) - 1, i * len(BORDER_COMMUNES) // n)]
        out.append(_feature(_uuid(rng), shapely.Point(round(pt.x, 6), round(pt.y, 6)), {
            "code": f"BG-VNL-{number.replace('/', '-')}",
            "name": f"Mốc {number} biên giới Việt Nam – Lào",
            "status": "hoat_dong",
            "province": "Đà Nẵng",
            "commune": commune,
            "village": None,
            "team_code": "DN-BIENGIOI-01",
            "gps_accuracy_m": round(rng.uniform(4, 20), 1),
            "marker_number": number,
            "marker_type": kind,
            "border_line": "viet_nam_lao",
            "condition": rng.choices(["tot", "hu_hong_nhe", "hu_hong_nang"], [0.85, 0.12, 0.03])[0],
            "year_placed": rng.choice([2010, 2011, 2012, 2013, 2014, 2016]),
        }))
    return out


def heritage(seed: int = 7) -> list[dict]:
    """Heritage sites and red addresses with QR signs."""
    rng = random.Random(seed + 3)
    return [
        _feature(_uuid(rng), shapely.Point(lon, lat), {
            "code": code, "name": name, "status": "hoat_dong", "province": province, "commune": commune,
            "village": None, "team_code": None, "gps_accuracy_m": 5.0,
            "kind": kind, "rank": rank, "description": description,
        })
        for code, name, kind, rank, province, commune, lon, lat, description in HERITAGE
    ]


def generate(out_dir: Path, seed: int = 7, n_trees: int = 10_000) -> dict[str, int]:
    """Write one GeoJSON file per layer into ``out_dir``; return feature counts per layer."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    farms, trees = durian(seed, n_trees)
    wifi, libs = ninh_binh(seed)
    layers = {
        "farms": farms,
        "durian_trees": trees,
        "wifi_points": wifi,
        "digital_libraries": libs,
        "border_markers": border_markers(seed),
        "heritage_sites": heritage(seed),
    }
    for name, features in layers.items():
        with open(out_dir / f"{name}.geojson", "w", encoding="utf-8") as fh:
            json.dump({"type": "FeatureCollection", "features": features}, fh, ensure_ascii=False, separators=(",", ":"))
            fh.write("\n")
    return {name: len(features) for name, features in layers.items()}

// Live GPS with a running average of the fixes that are good enough: the volunteer watches the
// accuracy (metres) settle before saving.

/** Metres between two {lon, lat} points a few hundred metres apart at most (equirectangular). */
export function metresBetween(a, b) {
  const k = 111320, x = (b.lon - a.lon) * k * Math.cos((a.lat * Math.PI) / 180), y = (b.lat - a.lat) * k;
  return Math.sqrt(x * x + y * y);
}

/** How far (m) two fixes of these accuracies may lie apart and still be the same spot. */
function sameSpot(a, b) {
  return metresBetween(a, b) <= 1.5 * Math.max(a.accuracy, b.accuracy, 2);
}

/**
 * Accumulates fixes; the average weights each by 1/accuracy². Two fixes in a row that agree with
 * each other but not with the last fix averaged (more than 1.5 × their accuracy away: 6 m for 4 m
 * fixes, less than the 8 m to the next tree) mean the phone has moved: the average starts again
 * from those two, rather than saving a point between two trees and calling it more precise. One
 * stray fix alone is held back, not averaged and not a restart.
 */
export class Fixes {
  constructor() { this.reset(); }
  reset() { this.n = 0; this.w = 0; this.lon = 0; this.lat = 0; this.last = null; this.moved = false; this.stray = null; }
  add(lon, lat, accuracy) {
    const fix = { lon, lat, accuracy };
    if (this.last && !sameSpot(this.last, fix)) {
      if (!this.stray || !sameSpot(this.stray, fix)) { this.stray = fix; return; }  // wait for a second one
      const first = this.stray;
      this.reset();
      this.moved = true;  // the form says so: "moved, measuring again", until a few fixes agree
      this._take(first);
    }
    this.stray = null;
    this._take(fix);
    if (this.n >= 4) this.moved = false;
  }
  _take(fix) {
    const w = 1 / Math.max(fix.accuracy, 1) ** 2;
    this.n += 1;
    this.w += w;
    this.lon += fix.lon * w;
    this.lat += fix.lat * w;
    this.last = fix;
  }
  /** The averaged position and its accuracy (the best of the last fix and 1/sqrt(sum of weights)). */
  average() {
    if (!this.n) return null;
    const acc = Math.min(this.last.accuracy, 1 / Math.sqrt(this.w));
    return { lon: this.lon / this.w, lat: this.lat / this.w, accuracy: Math.round(acc * 10) / 10, n: this.n };
  }
}

/** Start watching; calls `onFix(average, lastFix)` / `onError(err)`; returns a stop function. */
export function watch(fixes, onFix, onError) {
  if (!("geolocation" in navigator)) { onError(new Error("no geolocation")); return () => {}; }
  const id = navigator.geolocation.watchPosition(
    (pos) => {
      fixes.add(pos.coords.longitude, pos.coords.latitude, pos.coords.accuracy);
      onFix(fixes.average(), fixes.last);
    },
    onError,
    { enableHighAccuracy: true, maximumAge: 0, timeout: 30000 },
  );
  return () => navigator.geolocation.clearWatch(id);
}

/**
 * The accuracy limits (m) for capturing on `layer`, as the server applies them: `max` is the
 * stricter of the layer's own `gps_accuracy_max_m` (GET /api/v1/layers) and the global limit
 * (GET /api/v1/field/me); a fix within `good` is saved as is, one within `max` only when the
 * volunteer marks it poor. A layer that declares its limit (trees: 10 m) has no "poor" band.
 */
export function accuracyLimits(layer, globalMax) {
  const own = layer && layer.gps_accuracy_max_m;
  if (own === null || own === undefined) return { good: Math.min(10, globalMax), max: globalMax };
  const max = Math.min(own, globalMax);
  return { good: max, max };
}

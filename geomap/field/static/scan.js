// QR labels from the camera: the browser's BarcodeDetector where it exists, otherwise jsQR
// (from npm, served by geomap) over video frames.
let jsQRLoading = null;

function loadJsQR() {
  if (!jsQRLoading) {
    jsQRLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/field/static/vendor/jsQR.js";
      script.onload = () => resolve(window.jsQR);
      script.onerror = reject;
      document.head.append(script);
    });
  }
  return jsQRLoading;
}

async function detector() {
  if ("BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) {
        const d = new window.BarcodeDetector({ formats: ["qr_code"] });
        return async (video) => { const codes = await d.detect(video); return codes.length ? codes[0].rawValue : null; };
      }
    } catch (err) { /* fall back to jsQR */ }
  }
  const jsQR = await loadJsQR();
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  return async (video) => {
    if (!video.videoWidth) return null;
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    ctx.drawImage(video, 0, 0);
    const found = jsQR(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height);
    return found ? found.data : null;
  };
}

/** Open the camera in `video` and call `onCode(text)` once a QR code is read; returns stop(). */
export async function startScan(video, onCode) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  video.srcObject = stream;
  await video.play();
  const detect = await detector();
  let stopped = false;
  const stop = () => { stopped = true; for (const track of stream.getTracks()) track.stop(); video.srcObject = null; };
  const tick = async () => {
    if (stopped) return;
    const text = await detect(video).catch(() => null);
    if (text) { stop(); onCode(text); return; }
    setTimeout(tick, 200);
  };
  tick();
  return stop;
}

/** The asset code a label carries: the last part of a geomap URL (…/a/CODE) or the text itself. */
export function codeOf(text) {
  const m = String(text).trim().match(/\/a\/([^/?#]+)/);
  return decodeURIComponent(m ? m[1] : String(text).trim());
}

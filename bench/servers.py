"""Starting and stopping the servers under test, and running ``wrk`` against them."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 120) -> None:
    """Wait until ``url`` answers 200."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


@dataclass
class Server:
    """A server process of the benchmark (loopback only)."""

    proc: subprocess.Popen

    @classmethod
    def start(cls, argv: list[str], env: dict[str, str], cwd: Path) -> "Server":
        log = open(Path(cwd) / "bench" / f"server-{argv[-1]}.log", "w")
        return cls(subprocess.Popen(argv, env={**os.environ, **env}, cwd=cwd, stdout=log, stderr=subprocess.STDOUT))

    def stop(self) -> None:
        """Stop it (SIGINT, then SIGKILL)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, connections: int, seconds: float) -> dict:
    """One wrk run: requests/s, latency p50/p99 (ms), non-2xx count."""
    threads = min(connections, 2)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--latency", url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: _ms(v) for p, v in re.findall(r"^\s+(50|99)%\s+(\S+)", out, flags=re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50_ms": lat.get("50"), "p99_ms": lat.get("99"), "errors": int(non2xx.group(1)) if non2xx else 0}


def wrk_median(url: str, connections: int, seconds: float, repeats: int) -> dict:
    """The run with the median requests/s out of ``repeats``."""
    runs = sorted((wrk(url, connections, seconds) for _ in range(repeats)), key=lambda r: r["rps"])
    best = dict(runs[len(runs) // 2])
    best["runs_rps"] = [round(r["rps"], 1) for r in runs]
    return best

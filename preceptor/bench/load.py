"""Load drivers: wrk where installed (Debian package `wrk`), else locust in headless mode.

Both hold a fixed number of connections open against one URL for a fixed time, sending the
signed-in browser's headers, and report requests/s, p50 and p99 latency and failed requests
(any answer but 200, and connection errors).
"""

import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

# wrk's Lua hooks: count answers other than 200 in each thread, and print one line of figures.
WRK_SCRIPT = """\
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_ok = 0 end
function response(status, headers, body) if status ~= 200 then not_ok = not_ok + 1 end end
function done(summary, latency, requests)
  local not_ok = 0
  for _, thread in ipairs(threads) do not_ok = not_ok + thread:get("not_ok") end
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), not_ok + e.connect + e.read + e.write + e.timeout))
end
"""

LOCUSTFILE = """\
import json
import os

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

HEADERS = json.loads(os.environ["BENCH_HEADERS"])
PATH = os.environ["BENCH_PATH"]


class Browser(FastHttpUser):
    wait_time = constant(0)

    @task
    def page(self):
        with self.client.get(PATH, headers=HEADERS, name="page", catch_response=True,
                             allow_redirects=False) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
"""


@dataclass
class Result:
    requests: int
    rps: float
    p50: float  # milliseconds
    p99: float
    failed: int


class Wrk:
    name = "wrk"

    def __init__(self, folder: Path, threads: int = 2):
        self.script = folder / "bench.lua"
        self.script.write_text(WRK_SCRIPT)
        self.threads = threads

    def describe(self) -> str:
        answer = subprocess.run(["wrk", "-v"], capture_output=True, text=True)  # noqa: S603, S607
        words = (answer.stdout or answer.stderr).split()
        return " ".join(words[:2]) if words else "wrk"

    def run(self, url: str, headers: dict[str, str], connections: int, seconds: int) -> Result:
        command = ["wrk", "-t", str(min(self.threads, connections)), "-c", str(connections), "-d", f"{seconds}s",
                   "--timeout", "10s", "-s", str(self.script)]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        answer = subprocess.run([*command, url], capture_output=True, text=True, check=True)  # noqa: S603
        line = next((line for line in answer.stdout.splitlines() if line.startswith("BENCH ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no figures:\n{answer.stdout}{answer.stderr}")
        requests, duration_us, p50_us, p99_us, failed = (int(word) for word in line.split()[1:])
        return Result(requests, requests / (duration_us / 1e6), p50_us / 1000, p99_us / 1000, failed)


class Locust:
    name = "locust"

    def __init__(self, folder: Path):
        self.folder = folder
        self.locustfile = folder / "locustfile.py"
        self.locustfile.write_text(LOCUSTFILE)

    def describe(self) -> str:
        return f"locust {version('locust')} (headless, FastHttpUser)"

    def run(self, url: str, headers: dict[str, str], connections: int, seconds: int) -> Result:
        base, _, path = url.partition("://")[2].partition("/")
        prefix = self.folder / "locust"
        command = [sys.executable, "-m", "locust", "-f", str(self.locustfile), "--headless", "--only-summary",
                   "--users", str(connections), "--spawn-rate", str(connections), "--run-time", f"{seconds}s",
                   "--host", f"http://{base}", "--csv", str(prefix), "--loglevel", "ERROR"]
        env = os.environ | {"BENCH_HEADERS": json.dumps(headers), "BENCH_PATH": "/" + path}
        # locust exits 1 when any request failed; the figures say how many.
        answer = subprocess.run(command, cwd=self.folder, env=env, capture_output=True, text=True)  # noqa: S603
        stats = Path(f"{prefix}_stats.csv")
        if not stats.exists():
            raise RuntimeError(f"locust wrote no figures:\n{answer.stdout}{answer.stderr}")
        with stats.open(newline="") as file:
            row = next(r for r in csv.DictReader(file) if r["Name"] == "Aggregated")
        stats.unlink()
        return Result(int(row["Request Count"]), float(row["Requests/s"]), float(row["50%"]), float(row["99%"]),
                      int(row["Failure Count"]))


def pick(choice: str, folder: Path) -> Wrk | Locust:
    """wrk when asked for or installed; locust otherwise (`pip install -e '.[bench]'`)."""
    if choice == "wrk" or (choice == "auto" and shutil.which("wrk")):
        if not shutil.which("wrk"):
            raise SystemExit("error: wrk is not installed (apt-get install wrk), try --driver locust")
        return Wrk(folder, threads=min(os.cpu_count() or 1, 4))
    if importlib.util.find_spec("locust") is None:
        raise SystemExit("error: neither wrk nor locust is installed: apt-get install wrk, "
                         "or pip install -e '.[bench]'")
    return Locust(folder)

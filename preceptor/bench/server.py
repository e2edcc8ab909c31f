"""gunicorn for the benchmark: started as `make serve` starts it (2 sync workers, --preload) on a
free loopback port, stopped however the run ends, and its workers' memory read from /proc."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .browser import Browser

ROOT = Path(__file__).resolve().parents[2]  # where wsgi.py is
WORKERS = 2


@dataclass
class Server:
    process: subprocess.Popen
    base: str  # e.g. http://127.0.0.1:40123

    def workers(self) -> list[int]:
        """The worker processes: the gunicorn master's children."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:  # the process ended while we looked
                continue
            if int(fields[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return sorted(children)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (VmRSS, which counts pages shared with the master too)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@contextmanager
def gunicorn(env: dict[str, str], log: Path) -> Iterator[Server]:
    """Serve `wsgi:app` until the block ends; wait until /healthz answers before yielding."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class", "sync", "--preload",
               "--bind", f"127.0.0.1:{port}", "--error-logfile", str(log), "wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,  # noqa: S603
                               stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}")
    try:
        _wait_until_up(server, log)
        yield server
    finally:
        _stop(process)


def _wait_until_up(server: Server, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    probe = Browser(server.base)
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.process.returncode}):\n{_tail(log)}")
        try:
            if probe.get("/healthz").status == 200 and len(server.workers()) == WORKERS:
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz within {seconds:.0f} s:\n{_tail(log)}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # gunicorn's graceful shutdown stops the workers too
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text().splitlines()[-lines:]) if log.exists() else "(no log)"

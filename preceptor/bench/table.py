"""The benchmark's printout: one Markdown table of pages against the targets of issue 9, the
workers' memory, and the machine it ran on (pasted as is into the README)."""

import os
import platform
from dataclasses import dataclass
from pathlib import Path

# Issue 9's targets.
MIN_RATIO = 0.25  # of /healthz throughput, same run
MAX_P99_MS = 150
MAX_FRAGMENT_SHARE = 0.15  # of the full page's bytes
MAX_RSS_MB = 200


@dataclass
class Row:
    name: str
    path: str
    status: int
    size: int  # response body bytes as sent (compressed when the server compresses)
    queries: int | None  # SQL statements for one request (X-SQL-Queries)
    rps: float | None = None
    p50: float | None = None  # milliseconds
    p99: float | None = None
    page: str | None = None  # for a fragment, the name of its full page
    encoding: str = ""  # Content-Encoding of the plain request
    failed: int = 0  # requests under load that did not answer 200


def flags(row: Row, rows: list[Row], healthz_rps: float | None) -> list[str]:
    """The targets this row misses, in words ([] when it meets them all)."""
    if row.status != 200:
        return [f"HTTP {row.status}"]
    missed = []
    if row.failed:
        missed.append(f"{row.failed} failed requests")
    if row.rps is not None and healthz_rps and row.rps / healthz_rps < MIN_RATIO:
        missed.append(f"throughput {row.rps / healthz_rps:.2f} < {MIN_RATIO}")
    if row.p99 is not None and row.p99 >= MAX_P99_MS:
        missed.append(f"p99 ≥ {MAX_P99_MS} ms")
    page = next((other for other in rows if other.name == row.page), None)
    if page is not None and page.size and row.size / page.size >= MAX_FRAGMENT_SHARE:
        missed.append(f"fragment {row.size / page.size:.0%} of page")
    return missed


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def markdown(rows: list[Row], healthz_rps: float | None) -> str:
    lines = ["| Page | Requests/s | p50 ms | p99 ms | Bytes | SQL/request | × /healthz | Targets |",
             "|---|--:|--:|--:|--:|--:|--:|---|"]
    for row in rows:
        ratio = f"{row.rps / healthz_rps:.2f}" if row.rps is not None and healthz_rps else "–"
        size = f"{row.size:,}" + (f" {row.encoding}" if row.encoding else "")
        cells = [row.name, f"{row.rps:,.0f}" if row.rps is not None else "–", _ms(row.p50), _ms(row.p99), size,
                 "–" if row.queries is None else str(row.queries), ratio,
                 "; ".join(flags(row, rows, healthz_rps)) or "ok"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def memory(workers: dict[int, float]) -> str:
    lines = [f"| gunicorn worker | RSS MB after the run | Target < {MAX_RSS_MB} MB |", "|---|--:|---|"]
    for pid, rss in workers.items():
        lines.append(f"| pid {pid} | {rss:.0f} | {'ok' if rss < MAX_RSS_MB else 'missed'} |")
    return "\n".join(lines)


def machine() -> str:
    """Cores, CPU, RAM, OS and Python of this machine, in one line."""
    cpu = next((line.partition(":")[2].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor() or "unknown CPU")
    kb = next((int(line.split()[1]) for line in _lines("/proc/meminfo") if line.startswith("MemTotal:")), 0)
    return (f"{os.cpu_count()} cores ({cpu}), {kb / 1024 / 1024:.1f} GiB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []

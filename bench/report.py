"""The result table, the machine it ran on, and docs/benchmarks.md."""
import json
import os
import platform
import re
import sqlite3
import subprocess
from importlib import metadata
from pathlib import Path

from .imports import imports_table

PACKAGES = ("flask", "werkzeug", "flask-smorest", "marshmallow", "webargs", "peewee", "gunicorn",
            "psycopg2-binary", "orjson")


def table(results):
    """One markdown table for every backend and case; `results` as runs.run_backend returns them. With
    the peer, its req/s, p50 and ratio to the same ceiling stand beside the service's; so do the second
    service's, given --with's settings."""
    peer = any("peer_rps" in row for row in results)
    beside = next((row["with_settings"] for row in results if "with_rps" in row), None)
    lines = ["| backend | case | req/s | p50 ms | p99 ms | ceiling req/s | ratio | target | met | errors |"
             + (" json-server req/s | p50 ms | ratio |" if peer else "")
             + (f" with {beside}: req/s | p50 ms | ratio |" if beside else ""),
             "|---|---|---:|---:|---:|---:|---:|---:|:-:|---:|" + ("---:|---:|---:|" if peer else "")
             + ("---:|---:|---:|" if beside else "")]
    for row in results:
        target = row["target"]
        met = "" if target is None else ("yes" if row["ratio"] >= target else "NO")
        line = (f"| {row['backend']} | {row['case']} | {row['rps']:.0f} | {row['p50_ms']:.1f} | "
                f"{row['p99_ms']:.1f} | {row['ceiling_rps']:.0f} | {row['ratio']:.2f} | "
                f"{'' if target is None else f'{target:.2f}'} | {met} | {row['errors']} |")
        if peer:
            line += (f" {row['peer_rps']:.0f} | {row['peer_p50_ms']:.1f} | {row['peer_ratio']:.2f} |"
                     if "peer_rps" in row else " | | |")
        if beside:
            line += f" {row['with_rps']:.0f} | {row['with_p50_ms']:.1f} | {row['with_ratio']:.2f} |"
        lines.append(line)
    return "\n".join(lines)


SCALE_LIMIT = 2.0  # a list's p50 at the larger size, at most this many times its p50 at the smaller


def scale_table(scale):
    """Each case's p50 at each size, and the growth; `scale` as runs.run_scale returns it."""
    lines = ["| backend | case | rows | p50 ms | p99 ms | req/s | rows | p50 ms | p99 ms | req/s | p50 growth | "
             f"within {SCALE_LIMIT:g}x |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|"]
    for backend, by_rows in scale.items():
        (small_rows, small), (large_rows, large) = sorted(by_rows.items())
        for before, after in zip(small, large):
            growth = after["p50_ms"] / before["p50_ms"] if before["p50_ms"] else float("inf")
            lines.append(f"| {backend} | {before['case']} | {small_rows:,} | {before['p50_ms']:.1f} | "
                         f"{before['p99_ms']:.1f} | {before['rps']:.0f} | {large_rows:,} | {after['p50_ms']:.1f} | "
                         f"{after['p99_ms']:.1f} | {after['rps']:.0f} | {growth:.2f}x | "
                         f"{'yes' if growth <= SCALE_LIMIT else 'NO'} |")
    return "\n".join(lines)


CSV_TARGETS = {"rows_per_s": 100_000, "first_bytes_s": 1.0, "rss_growth_mib": 20}


def csv_table(results):
    """One line per export, in the order taken; `results` as csv_exports.run_csv returns them."""
    lines = ["| backend | round | code | export | rows | rows/s | first bytes, s | worker RSS growth, MiB "
             "| on target |",
             "|---|---:|---|---|---:|---:|---:|---:|:-:|"]
    for result in results:
        met = (result["rows_per_s"] >= CSV_TARGETS["rows_per_s"] and result["first_bytes_s"] <= CSV_TARGETS[
            "first_bytes_s"] and result["rss_growth_mib"] < CSV_TARGETS["rss_growth_mib"])
        lines.append(f"| {result['backend']} | {result['round']} | {result['code']} | `{result['path']}` | "
                     f"{result['rows']:,} | {result['rows_per_s']:,.0f} | {result['first_bytes_s']:.3f} | "
                     f"{result['rss_growth_mib']:.1f} | {'yes' if met else 'NO'} |")
    return "\n".join(lines)


MEMORY_LIMIT = 0.10  # growth of a worker's RSS from after the warm-up to the end


def memory_run_table(memory_run):
    """RSS of each worker after the warm-up and at the end; `memory_run` as runs.run_memory returns it."""
    lines = ["| backend | requests after warm-up | RSS per worker after warm-up, MiB | at the end, MiB "
             "| largest growth | "
             f"within {MEMORY_LIMIT:.0%} |", "|---|---:|---|---|---:|:-:|"]
    for backend, samples in memory_run.items():
        (_, first), (answered, last) = samples[0], samples[-1]
        growth = max((after / before - 1 for before, after in zip(sorted(first), sorted(last))), default=0.0)
        lines.append(f"| {backend} | {answered:,} | {_mib(first)} | {_mib(last)} | {growth:+.1%} | "
                     f"{'yes' if growth <= MEMORY_LIMIT else 'NO'} |")
    return "\n".join(lines)


def memory_table(memory):
    lines = ["| backend | workers | RSS per worker before, MiB | after, MiB |", "|---|---:|---|---|"]
    for backend, (before, after) in memory.items():
        lines.append(f"| {backend} | {len(after)} | {_mib(before)} | {_mib(after)} |")
    return "\n".join(lines)


def _mib(kib_values):
    return ", ".join(f"{kib / 1024:.1f}" for kib in sorted(kib_values)) or "?"


def machine_info(pg_url=None):
    info = {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": _first_line(["wrk", "--version"]).split(" Copyright")[0],
    }
    info.update({name: _version(name) for name in PACKAGES})
    if pg_url:
        server = pg_url.rsplit("/", 1)[0] + "/postgres"
        info["postgresql"] = _first_line(["psql", server, "-AtXc", "SHOW server_version"])
    return info


def _cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _first_line(command):
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except OSError:
        return "?"
    return ((completed.stdout or completed.stderr).strip().splitlines() or ["?"])[0]


def markdown_block(label, run):
    """The section of docs/benchmarks.md for one run."""
    info = run["machine"]
    machine = ", ".join(f"{key} {value}" for key, value in info.items())
    settings = run["settings"]
    load = (f"Server: `gunicorn -c gunicorn.conf.py` with {settings['workers']} × {settings['worker_class']} "
            f"worker(s), {settings['threads']} thread(s) each. Load: wrk -t{settings['wrk_threads']} "
            f"-c{settings['connections']}, {settings['duration']} s per case.")
    if "combinations" in run:
        from .combinations import table_of as combinations_table
        from .runs import SCALE_ROWS

        body = combinations_table(SCALE_ROWS, run["combinations"])
        if "scale" in run:
            body += "\n\n" + scale_table(run["scale"])
        return "\n".join([f"### Run: {label}", "", f"{run['finished']}. Command: `{run['command']}`", "",
                          "Each combination's first page, asked of both services in turn over one connection each.",
                          "", f"Machine: {machine}.", "", body])
    if "scale" in run or "memory_run" in run or "csv" in run or "imports" in run:
        body = scale_table(run["scale"]) if "scale" in run else csv_table(run["csv"]) if "csv" in run else \
            imports_table(run["imports"]) if "imports" in run else memory_run_table(run["memory_run"])
        return "\n".join([f"### Run: {label}", "", f"{run['finished']}. Command: `{run['command']}`", "", load, "",
                          f"Machine: {machine}.", "", body])
    return "\n".join([
        f"### Run: {label}",
        "",
        f"{run['finished']}. Command: `{run['command']}`",
        "",
        f"Server: `gunicorn -c gunicorn.conf.py` with {settings['workers']} × {settings['worker_class']} "
        f"worker(s), {settings['threads']} thread(s) each. Load: wrk -t{settings['wrk_threads']} "
        f"-c{settings['connections']}, {settings['duration']} s per case, {settings['rows']:,} mentors and "
        f"{settings['rows']:,} pause records. Ratio: the case's req/s over the mean of the ceiling "
        "measured just before and just after it.",
        "",
        f"Machine: {machine}.",
        "",
        table(run["results"]),
        "",
        "Worker memory (VmRSS of each gunicorn worker of the service, before the first case and after the last):",
        "",
        memory_table(run["memory"]),
    ])


def update_docs(path, label, block):
    """Replace this label's block in `path`, or add it; every other part of the file is kept."""
    path = Path(path)
    begin, end = f"<!-- bench:{label}:begin -->", f"<!-- bench:{label}:end -->"
    text = path.read_text() if path.exists() else "# Benchmarks\n\nWritten by `python -m bench`.\n"
    section = f"{begin}\n{block}\n{end}"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def save_json(directory, label, run):
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{run['finished'].replace(':', '').replace(' ', 'T')}-{label}.json"
    path.write_text(json.dumps(run, indent=2))
    return path

"""What a request costs in CPU, under load: `python -m bench.cpu --cases list_page,list_paused
[--duration 8] [--rounds 3] [--rows 10000] PORT [PORT ...]`.

For running services (each a gunicorn listening on 127.0.0.1:PORT, seeded by bench/seed.py), each
case is driven with wrk (-t2 -c32) against each port in turn, round after round; the CPU time its
worker processes and, on PostgreSQL, their server backends spent meanwhile is read from /proc and
divided by the requests answered (errors counted apart). Backends are those of the workers' TCP
connections to PostgreSQL on 127.0.0.1; a process that ends during a run (a worker recycled) is
reported, as its CPU is lost. On a shared machine a ratio of req/s moves with whatever else
runs; the CPU a request takes moves much less, and tells where it goes (the service's Python, or
the database). Two checkouts side by side on one database (each served on its own port) compare a
change with the code before it.
"""
import argparse
import os
import re
import subprocess

import psycopg2

from . import loadgen
from .cases import CASES_BY_NAME

_TICKS = os.sysconf("SC_CLK_TCK")
_SOCKET_PID = re.compile(r"pid=(\d+)")
_TO_POSTGRESQL = re.compile(r"127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:(\d+)")


def cpu_seconds(pid):
    """User and system CPU of process `pid` so far (0 for one gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def service_processes(port):
    """The processes listening on `port`: a gunicorn's master and workers."""
    listening = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return {int(pid) for pid in _SOCKET_PID.findall(listening)}


def backends_of(processes, pg_url):
    """The PostgreSQL backends serving connections that `processes` opened (none without `pg_url`)."""
    if not pg_url:
        return set()
    client_ports = set()
    for line in subprocess.run(["ss", "-tnpH"], capture_output=True, text=True).stdout.splitlines():
        match = _TO_POSTGRESQL.search(line)
        if match and any(f"pid={pid}," in line for pid in processes):
            client_ports.add(int(match.group(1)))
    with psycopg2.connect(pg_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT pid, client_port FROM pg_stat_activity WHERE client_port IS NOT NULL")
        backends = {pid for pid, client_port in cursor.fetchall() if client_port in client_ports}
    connection.close()
    return backends


def measure(wrk, case, port, seconds, rows, tag, pg_url):
    """(req/s, CPU µs per request, of which the database's, errors) of `case` against the service on `port`."""
    url = f"http://127.0.0.1:{port}"
    # A second of the case first, so that the pool's connections are open (and their backends counted).
    loadgen.run(wrk, case, url, seconds=1, threads=2, connections=32, rows=rows, tag=f"{tag}w")
    processes = service_processes(port)
    backends = backends_of(processes, pg_url)
    before = {pid: cpu_seconds(pid) for pid in processes | backends}
    result = loadgen.run(wrk, case, url, seconds=seconds, threads=2, connections=32, rows=rows, tag=tag)
    spent = {pid: cpu_seconds(pid) - seconds_before for pid, seconds_before in before.items()}
    if gone := [pid for pid, seconds in spent.items() if seconds < 0]:
        print(f"processes {gone} ended during the run: their CPU is not counted")
        spent = {pid: max(seconds, 0.0) for pid, seconds in spent.items()}
    requests = max(result.requests, 1)
    return (result.rps, sum(spent.values()) / requests * 1e6,
            sum(spent[pid] for pid in backends) / requests * 1e6, result.errors)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ports", nargs="+", type=int)
    parser.add_argument("--cases", default="list_page")
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--pg-url", help="the PostgreSQL database the services use, to count its backends' CPU")
    args = parser.parse_args(argv)
    wrk = loadgen.find_wrk(print)
    print("| case | port | round | req/s | CPU µs per request | of which the database's | errors |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in args.cases.split(","):
        for round_number in range(1, args.rounds + 1):
            for port in args.ports:
                rps, cpu_us, database_us, errors = measure(wrk, CASES_BY_NAME[name], port, args.duration,
                                                           args.rows, f"cpu{round_number}p{port}", args.pg_url)
                print(f"| {name} | {port} | {round_number} | {rps:,.0f} | {cpu_us:,.0f} | {database_us:,.0f} "
                      f"| {errors} |", flush=True)


if __name__ == "__main__":
    main()

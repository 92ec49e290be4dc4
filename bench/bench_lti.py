"""Benchmark of the LTI tool: full launches per second with p50/p99 latency under 50 concurrent clients,
the tool's own CPU time per launch, and scores per second through the grade outbox.

Run: .venv/bin/python bench/bench_lti.py [--clients 50] [--rate 300] [--seconds 10] [--launches 4000]
                                         [--workers 2] [--scores 1000]

Processes: the tool (`course serve --workers N`, SQLite in a temp dir), a Moodle-like platform
(tests/lti_platform.py, own process) and this client (asyncio, one HTTP/1.1 keep-alive connection
and cookie per client and server). A full launch = GET /lti/login → the platform's auth endpoint
(signs the id_token with RS256) → POST /lti/launch (every security check, nonce used up, launch
stored) → GET the module page → GET the learner's saved state (what the page's runtime asks first).
All three share the machine's cores.

Two load shapes, because "50 concurrent clients" can mean either:
- rate: 50 clients, each starting a launch on a fixed schedule, together `--rate` launches per second
  (the goal's 300/s). Latency is counted from the scheduled start, so a launch that waits for its
  client's previous one counts the wait (no coordinated omission).
- saturation: 50 clients launching back to back, as fast as the machine allows: the capacity. Here
  mean latency = clients / throughput (Little's law), whatever the tool does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PLATFORM = """
import sys, time, json
sys.path.insert(0, {tests!r})
from lti_platform import MoodleLikePlatform
p = MoodleLikePlatform(port={port})
p.auto_tool_url = {tool!r}
p.redirect_uris = [{tool!r} + "/lti/launch"]
p.tool_jwks_url = {tool!r} + "/.well-known/jwks.json"
p.auto_lineitem = p.lineitem("bench")
for i in range({learners}):
    p.enrol("u%d" % i)
print(json.dumps({{"issuer": p.issuer, "client_id": p.client_id, "deployment": p.deployment_id,
                  "lineitem": p.auto_lineitem}}), flush=True)
while True:
    time.sleep(3600)
"""


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


class Connection:
    """A minimal HTTP/1.1 keep-alive client: httpx costs the client more CPU than the tool spends on a
    launch, and client and tool share the cores, so a lean client measures the tool more fairly."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.reader = self.writer = None

    async def request(self, method: str, target: str, headers: dict | None = None, body: bytes = b""):
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        for attempt in (1, 2):  # a kept-alive connection the server has closed meanwhile: reconnect once
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            first = await self.reader.readline()
            if first:
                break
            self.writer.close()
            self.reader = self.writer = None
        status = int(first.split()[1])
        received: dict[str, list[str]] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            received.setdefault(name.strip().lower(), []).append(value.strip())
        length = int(received.get("content-length", ["0"])[0])
        content = await self.reader.readexactly(length) if length else b""
        if "close" in received.get("connection", []):
            self.writer.close()
            self.reader = self.writer = None
        return status, received, content


async def one_launch(tool: Connection, platform: Connection, info: dict, tool_url: str, n: int) -> None:
    from lti_platform import form_fields

    query = urlencode({"iss": info["issuer"], "login_hint": f"u{n}", "target_link_uri": f"{tool_url}/lti/launch",
                       "lti_message_hint": f"auto:u{n % 500}:rl-{n % 7}:grundlagen",
                       "client_id": info["client_id"], "lti_deployment_id": info["deployment"]})
    status, headers, _ = await tool.request("GET", "/lti/login?" + query)
    assert status == 302, status
    cookie = headers["set-cookie"][0].split(";", 1)[0]
    location = urlsplit(headers["location"][0])
    status, _, page = await platform.request("GET", f"{location.path}?{location.query}")
    assert status == 200, status
    _, fields = form_fields(page.decode())
    status, headers, body = await tool.request("POST", "/lti/launch", {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}, urlencode(fields).encode())
    assert status == 303, body[:500]
    page_url = headers["location"][0]
    status, _, page = await tool.request("GET", page_url)
    assert status == 200, status
    csrf = page.split(b'"csrf":"', 1)[1].split(b'"', 1)[0].decode()  # reads need the launch's token too
    status, _, _ = await tool.request("GET", page_url.replace("/lti/play/", "/lti/state/"),  # the runtime's first ask
                                      {"X-CSRF-Token": csrf})
    assert status == 200, status


async def saturation(tool: str, platform: str, info: dict, clients: int, total: int) -> tuple[list[float], float]:
    """`clients` clients launching back to back until `total` launches are done."""
    counter = iter(range(total))
    latencies: list[float] = []

    async def client() -> None:
        tool_conn, platform_conn = Connection(tool), Connection(platform)
        for n in counter:
            started = time.perf_counter()
            await one_launch(tool_conn, platform_conn, info, tool, n)
            latencies.append(time.perf_counter() - started)
        close(tool_conn, platform_conn)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, time.perf_counter() - started


async def at_rate(tool: str, platform: str, info: dict, clients: int, rate: float,
                  seconds: float) -> tuple[list[float], float]:
    """`clients` clients taking turns on a fixed schedule of `rate` launches per second in all; each
    launch's latency runs from its scheduled start (if its client is still busy, the wait counts)."""
    total = int(rate * seconds)
    latencies: list[float] = []
    begin = time.perf_counter() + 0.05

    async def client(index: int) -> None:
        tool_conn, platform_conn = Connection(tool), Connection(platform)
        for n in range(index, total, clients):
            scheduled = begin + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await one_launch(tool_conn, platform_conn, info, tool, n)
            latencies.append(time.perf_counter() - scheduled)
        close(tool_conn, platform_conn)

    await asyncio.gather(*(client(i) for i in range(clients)))
    return latencies, time.perf_counter() - begin


def close(*connections: Connection) -> None:
    for conn in connections:
        if conn.writer:
            conn.writer.close()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children that are alive (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:  # fields[1]: parent pid
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def outbox(data: Path, info: dict, count: int) -> tuple[float, int]:
    from lti import ags
    from lti.config import Settings
    from lti.db import Launch, OutboxScore, Platform, make_engine, sessions
    from lti.outbound import OutboundClient, OutboundPolicy
    from sqlalchemy import func, select

    factory = sessions(make_engine(Settings(base_url="http://x", data_dir=data).db_url))
    with factory() as session:
        platform = session.scalar(select(Platform))
        for i in range(count):
            launch = Launch(id=f"bench-{i}", platform_id=platform.id, deployment_id=info["deployment"],
                            message_type="LtiResourceLinkRequest", user_id=f"u{i}", roles=[], deep_linking={},
                            ags={"lineitem": info["lineitem"], "scope": [ags.SCORE_SCOPE]})
            session.add(launch)
            ags.enqueue(session, launch, 50 + i % 50, True)
        session.commit()
    policy = ags.OutboxPolicy(base_delay=0.0)
    started = time.perf_counter()
    # The tool's own outbound client (vetted, bounded), in loopback development mode: the platform is local.
    with OutboundClient(OutboundPolicy(allow_loopback=True, timeout=5)) as client:
        while ags.run_once(factory, client, policy):
            pass
    elapsed = time.perf_counter() - started
    with factory() as session:
        delivered = session.scalar(select(func.count()).select_from(OutboxScore).where(OutboxScore.status == "delivered"))
    return elapsed, delivered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=300, help="launches per second offered in the rate phase")
    parser.add_argument("--seconds", type=float, default=10, help="length of the rate phase")
    parser.add_argument("--launches", type=int, default=4000, help="launches in the saturation phase")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes of the tool")
    parser.add_argument("--scores", type=int, default=1000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-lti-"))
    tool_port, platform_port = free_port(), free_port()
    tool = f"http://127.0.0.1:{tool_port}"
    env = dict(os.environ, COURSE_LTI_DATA=str(tmp / "data"))
    platform = subprocess.Popen([sys.executable, "-c", PLATFORM.format(tests=str(REPO / "tests"), port=platform_port,
                                                                       tool=tool, learners=max(args.scores, 500))],
                                stdout=subprocess.PIPE, text=True)
    info = json.loads(platform.stdout.readline())
    course = [sys.executable, "-c", "from course_builder.cli import main; main()"]
    subprocess.run(course + ["lti", "register", "--url", tool, "--issuer", info["issuer"], "--client-id",
                             info["client_id"], "--deployment-id", info["deployment"],
                             "--login-url", info["issuer"] + "/mod/lti/auth.php",
                             "--token-url", info["issuer"] + "/mod/lti/token.php",
                             "--jwks-url", info["issuer"] + "/mod/lti/certs.php"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    server = subprocess.Popen(course + ["serve", str(REPO / "tests" / "fixtures" / "mini"), "--port", str(tool_port),
                                        "--workers", str(args.workers), "--no-worker"], env=env,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for(tool + "/healthz")
        platform_url = info["issuer"]
        asyncio.run(saturation(tool, platform_url, info, 5, 200))  # warm-up: caches, JWKS, connections
        print(f"launches: {args.clients} concurrent clients, tool workers {args.workers}, {os.cpu_count()} cores "
              f"shared by tool, platform and clients")
        cpu = cpu_seconds(server.pid)
        latencies, elapsed = asyncio.run(at_rate(tool, platform_url, info, args.clients, args.rate, args.seconds))
        tool_cpu = (cpu_seconds(server.pid) - cpu) / len(latencies)
        p99 = percentile(latencies, 99)
        print(f"  rate phase: {args.rate:.0f} launches/s offered for {args.seconds:.0f} s "
              f"({len(latencies)} launches), {len(latencies) / elapsed:.1f}/s done")
        print(f"    p50 latency        {percentile(latencies, 50) * 1000:8.1f} ms")
        print(f"    p99 latency        {p99 * 1000:8.1f} ms   (goal <= 50 at >= 300/s; ratio {p99 * 1000 / 50:.2f})")
        print(f"    max latency        {max(latencies) * 1000:8.1f} ms")
        print(f"    tool CPU per launch {tool_cpu * 1000:7.2f} ms   (all tool processes; 2 cores = "
              f"{2 / tool_cpu:.0f} launches/s if the tool had them to itself)")
        latencies, elapsed = asyncio.run(saturation(tool, platform_url, info, args.clients, args.launches))
        rate = len(latencies) / elapsed
        print(f"  saturation: {len(latencies)} launches back to back")
        print(f"    full launches/s    {rate:8.1f}   (goal >= 300; ratio {rate / 300:.2f})")
        print(f"    p50 latency        {percentile(latencies, 50) * 1000:8.1f} ms")
        print(f"    p99 latency        {percentile(latencies, 99) * 1000:8.1f} ms   (mean {statistics.mean(latencies) * 1000:.1f} "
              f"ms = {args.clients} clients / {rate:.0f} per s)")
        seconds, delivered = outbox(tmp / "data", info, args.scores)
        print(f"outbox: {delivered}/{args.scores} scores delivered in {seconds:.2f} s = {delivered / seconds:.1f} scores/s "
              f"(one worker, sequential POSTs)")
    finally:
        server.terminate()
        platform.terminate()
        server.wait(timeout=10)
        platform.wait(timeout=10)


if __name__ == "__main__":
    main()

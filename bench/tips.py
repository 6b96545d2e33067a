"""Tip submission and status lookups per second on the local server, printed.

The public portal (yingji/tips/public.py) is protected per client address: at most
SUBMIT_LIMIT reports created per hour, an arithmetic challenge that refuses an answer sent
sooner than CHALLENGE_MIN_SECONDS after the form was shown, LOOKUP_LIMIT code lookups per ten
minutes, and every lookup padded to LOOKUP_MIN_SECONDS. The limits are module constants (no
environment variable sets them), so the benchmark does not lift them; it measures around them:

1. in process: services.submit_public_tip --tips times (the service path of a report);
2. the app for real: `gunicorn yingji.wsgi:application --workers W` on 127.0.0.1 (a free
   port, DEBUG=false, TRUSTED_PROXY=true so that each client thread is its own address by
   X-Real-IP) in the same temporary YINGJI_VAR_DIR;
3. GET /public/tips/new (the form with its challenge), one client then --clients clients;
4. POST /public/tips/new over HTTP: --submit-clients clients, each from its own address, send
   SUBMIT_LIMIT reports each (the limit). Each first loads its forms and answers the
   questions, then all wait out CHALLENGE_MIN_SECONDS once and post; the posting phase is
   timed (the forced wait is a latency, not work). One more report from one address shows
   the limit;
5. POST /public/tips/status with valid receipt codes: one client (bounded by the floor), then
   8 and 16 clients on distinct addresses sharing --lookups requests, and 8 clients sharing one
   address (past its limit every lookup is refused but still padded), each time with a probe
   loading the form page meanwhile (a padded lookup holds a sync worker for the whole floor).

Every loop has a fixed number of requests and a time cap (--cap seconds); only 127.0.0.1 is
contacted. The server is always stopped and the folder removed.

    .venv/bin/python bench/tips.py [--tips 500] [--workers 2] [--lookups 64] [--cap 120]
"""

import argparse
import http.client
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402
from enterprise_list import setup_django  # noqa: E402

GUNICORN = str(Path(sys.executable).parent / "gunicorn")
HOST = "127.0.0.1"
FORM = "/public/tips/new"
STATUS = "/public/tips/status"
CONTENT = "厂区东侧仓库堆放大量油漆桶，旁边有人吸烟，消防通道被货物堵死。第{n}号。"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHALLENGE_FIELD = re.compile(r'name="challenge" value="([^"]+)"')
ANSWER_ROW = re.compile(r'id="row-answer">\s*<label[^>]*>(.*?)</label>', re.S)
RECEIPT = re.compile(r'id="receipt-code"[^>]*>\s*(\d{4}(?: \d{4}){4})\s*<')


# -- the server ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """gunicorn on loopback in a subprocess; stop() always ends it (and only it)."""

    def __init__(self, var: Path, workers: int, log: Path) -> None:
        self.port = free_port()
        self.workers = workers
        self.log_path = log
        env = c.bench_env(var)
        env.update(DEBUG="false", TRUSTED_PROXY="true", LOG_LEVEL="WARNING")
        env.pop("GUNICORN_CMD_ARGS", None)
        with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [
                    GUNICORN,
                    "yingji.wsgi:application",
                    "--bind",
                    f"{HOST}:{self.port}",
                    "--workers",
                    str(workers),
                ],
                cwd=c.ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 60) -> float:
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                if Client(self.port).get(FORM).status == 200:
                    return time.perf_counter() - start
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        return self.log_path.read_bytes()[-4000:].decode(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM to the master: it stops its workers gracefully
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


# -- a small HTTP client ------------------------------------------------------------------------
@dataclass
class Reply:
    status: int
    body: str
    seconds: float
    location: str = ""


@dataclass
class Client:
    """One visitor: its own cookies and, behind the trusted proxy, its own address."""

    port: int
    ip: str | None = None
    cookies: dict = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict | None = None) -> Reply:
        headers = {"Accept-Language": "zh-hans"}
        if self.ip:
            headers["X-Real-IP"] = self.ip
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            seconds = time.perf_counter() - start
        finally:
            conn.close()
        for header in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Reply(
            resp.status, data.decode(errors="replace"), seconds, resp.getheader("Location", "")
        )

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, form: dict) -> Reply:
        return self.request("POST", path, form)


def csrf(reply: Reply) -> str:
    m = CSRF_FIELD.search(reply.body)
    if not m:
        raise SystemExit(f"no CSRF token in the page (HTTP {reply.status}):\n{reply.body[:1500]}")
    return m.group(1)


@dataclass
class Ticket:
    """A loaded report form: its tokens, the answer to its question, when it was shown."""

    csrf: str
    challenge: str
    answer: int
    shown: float


def load_form(client: Client) -> Ticket:
    shown = time.time()
    reply = client.get(FORM)
    if reply.status != 200:
        raise SystemExit(f"GET {FORM} → {reply.status}:\n{reply.body[:1500]}")
    row = ANSWER_ROW.search(reply.body)
    numbers = [int(n) for n in re.findall(r"\d+", row.group(1))] if row else []
    challenge = CHALLENGE_FIELD.search(reply.body)
    if len(numbers) != 2 or not challenge:
        raise SystemExit(f"cannot read the check question of {FORM}:\n{reply.body[:3000]}")
    return Ticket(csrf(reply), challenge.group(1), sum(numbers), shown)


def report(client: Client, ticket: Ticket, n: int) -> Reply:
    return client.post(
        FORM,
        {
            "csrfmiddlewaretoken": ticket.csrf,
            "content": CONTENT.format(n=n),
            "location": "城中区某工业园",
            "enterprise": "",
            "anonymous": "on",
            "answer": str(ticket.answer),
            "challenge": ticket.challenge,
            "website": "",
        },
    )


# -- running clients ----------------------------------------------------------------------------
@dataclass
class Outcome:
    latencies: list = field(default_factory=list)
    statuses: dict = field(default_factory=dict)
    wall: float = 0.0
    capped: bool = False

    def add(self, reply: Reply, kind: str) -> None:
        self.latencies.append(reply.seconds)
        self.statuses[kind] = self.statuses.get(kind, 0) + 1

    @property
    def n(self) -> int:
        return len(self.latencies)

    def line(self, unit: str) -> str:
        lat = self.latencies
        rate = self.n / self.wall if self.wall else 0.0
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items()))
        cap = " (time cap reached)" if self.capped else ""
        return (
            f"{self.n} in {self.wall:.2f} s = {rate:,.1f} {unit}/s; latency median "
            f"{c.median(lat) * 1000:,.0f} ms, p90 {c.percentile(lat, 90) * 1000:,.0f} ms, "
            f"max {max(lat) * 1000:,.0f} ms [{kinds}]{cap}"
        )


def run_clients(clients: list, work, cap: float) -> Outcome:
    """Every client runs `work.prepare` (untimed), then all start `work.run` together at
    `work.start_at()`; the wall time runs from that start to the last answer."""
    outcome = Outcome()
    lock = threading.Lock()
    ready = threading.Barrier(len(clients) + 1)
    go = threading.Barrier(len(clients) + 1)
    started: list[float] = []
    errors: list[BaseException] = []

    def body(i: int, client) -> None:
        state = None
        try:
            state = work.prepare(client, i)
        except BaseException as exc:  # noqa: BLE001  (raised again by the main thread)
            errors.append(exc)
        ready.wait()
        go.wait()
        if state is None:
            return
        try:
            work.run(client, i, state, outcome, lock, started[0] + cap)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [
        threading.Thread(target=body, args=(i, cl), daemon=True) for i, cl in enumerate(clients)
    ]
    for t in threads:
        t.start()
    ready.wait()
    started.append(work.start_at())
    go.wait()
    for t in threads:
        t.join(cap + 120)
    outcome.wall = time.perf_counter() - started[0]
    outcome.capped = outcome.wall > cap
    if errors:
        raise errors[0]
    return outcome


class GetForm:
    """Each client loads the report form `per_client` times."""

    def __init__(self, per_client: int) -> None:
        self.per_client = per_client

    def prepare(self, client, i):
        return True

    def start_at(self) -> float:
        return time.perf_counter()

    def run(self, client, i, state, outcome, lock, deadline) -> None:
        for _ in range(self.per_client):
            if time.perf_counter() > deadline:
                return
            reply = client.get(FORM)
            with lock:
                outcome.add(reply, f"HTTP {reply.status}")


class Submit:
    """Each client loads `per_client` forms, waits out the challenge once, then posts them."""

    def __init__(self, per_client: int, min_seconds: float) -> None:
        self.per_client = per_client
        self.min_seconds = min_seconds
        self.codes: list[str] = []
        self.spare: tuple | None = None  # one more loaded form, for the limit check

    def prepare(self, client, i):
        tickets = [load_form(client) for _ in range(self.per_client + (i == 0))]
        if i == 0:
            self.spare = (client, tickets.pop())
        return tickets

    def start_at(self) -> float:
        time.sleep(self.min_seconds)  # every form is loaded: wait out the challenge once
        return time.perf_counter()

    def run(self, client, i, tickets, outcome, lock, deadline) -> None:
        for k, ticket in enumerate(tickets):
            if time.perf_counter() > deadline:
                return
            reply = report(client, ticket, i * 100 + k)
            m = RECEIPT.search(reply.body)
            kind = "created" if reply.status == 200 and m else f"HTTP {reply.status} refused"
            with lock:
                outcome.add(reply, kind)
                if m:
                    self.codes.append(m.group(1).replace(" ", ""))


class Lookup:
    """Each client posts `per_client` receipt codes to the status page."""

    def __init__(self, per_client: int, codes: list[str]) -> None:
        self.per_client = per_client
        self.codes = codes

    def prepare(self, client, i):
        reply = client.get(STATUS)
        if reply.status != 200:
            raise SystemExit(f"GET {STATUS} → {reply.status}:\n{reply.body[:1500]}")
        return csrf(reply)

    def start_at(self) -> float:
        return time.perf_counter()

    def run(self, client, i, token, outcome, lock, deadline) -> None:
        for k in range(self.per_client):
            if time.perf_counter() > deadline:
                return
            code = self.codes[(i * self.per_client + k) % len(self.codes)]
            reply = client.post(STATUS, {"csrfmiddlewaretoken": token, "code": code})
            if reply.status == 302:
                kind = "found"
            elif reply.status == 200 and 'id="refused"' in reply.body:
                kind = "refused"
            else:
                kind = f"HTTP {reply.status}"
            with lock:
                outcome.add(reply, kind)


def clients_for(port: int, n: int, net: int) -> list[Client]:
    """n visitors with their own X-Real-IP addresses 10.<net>.<i // 250>.<i % 250 + 1>."""
    return [Client(port, f"10.{net}.{i // 250}.{i % 250 + 1}") for i in range(n)]


class Probe(threading.Thread):
    """Loads the report form once a second while a load runs: what other visitors see."""

    def __init__(self, port: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.client = Client(port, "10.250.0.1")
        self.stop_event = stop
        self.latencies: list[float] = []

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.latencies.append(self.client.get(FORM).seconds)
            self.stop_event.wait(1.0)


# -- main -----------------------------------------------------------------------------------
def in_process(n: int) -> tuple[list[str], list[float], float]:
    from yingji.tips import services

    codes, times = [], []
    start = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        _tip, code = services.submit_public_tip(
            content=CONTENT.format(n=i), location="城中区某工业园", anonymous=True
        )
        times.append(time.perf_counter() - t0)
        codes.append(code)
    return codes, times, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, default=500, help="in-process submissions")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn (sync) workers")
    parser.add_argument("--clients", type=int, default=8, help="clients loading the form")
    parser.add_argument("--pages", type=int, default=200, help="form loads per client count")
    parser.add_argument("--submit-clients", type=int, default=8, help="addresses posting reports")
    parser.add_argument("--lookups", type=int, default=64, help="lookups per concurrency level")
    parser.add_argument("--cap", type=float, default=120, help="time cap of each loop, seconds")
    args, _unknown = parser.parse_known_args()  # scripts/bench.sh passes its args to all

    with c.scratch_dir("tips") as work:
        var = work / "var"
        (var / "static").mkdir(parents=True)
        c.migrate(var)
        setup_django(var)

        from django.db import connection

        from yingji.core.services import create_user
        from yingji.tips import forms_public, public

        for i, role in enumerate(("leader", "duty_officer", "duty_officer")):
            create_user(by=None, username=f"bench-{role}-{i}", password="bench-pass-1", role=role)
        floor = public.LOOKUP_MIN_SECONDS
        print(
            f"portal limits (module constants, not settable from the environment): "
            f"{public.SUBMIT_LIMIT} reports/{public.SUBMIT_WINDOW // 60} min and "
            f"{public.ATTEMPT_LIMIT} posts/{public.ATTEMPT_WINDOW // 60} min per address; "
            f"challenge answers refused before {forms_public.CHALLENGE_MIN_SECONDS} s; "
            f"{public.LOOKUP_LIMIT} lookups/{public.LOOKUP_WINDOW // 60} min per address, "
            f"each padded to {floor} s"
        )

        # 1. the service path, in process
        codes, times, wall = in_process(args.tips)
        print(
            f"\n1. services.submit_public_tip in process (SQLite, {len(codes)} anonymous tips, "
            f"3 staff notified each): {len(codes) / wall:,.1f} tips/s; median "
            f"{c.median(times) * 1000:.1f} ms, p90 {c.percentile(times, 90) * 1000:.1f} ms"
        )
        connection.close()  # the server writes to the same database from here on

        server = Server(var, args.workers, work / "gunicorn.log")
        try:
            ready = server.wait_ready()
            print(
                f"\nserver: gunicorn yingji.wsgi:application --workers {args.workers} (sync) on "
                f"{HOST}:{server.port}, DEBUG=false, TRUSTED_PROXY=true; answered after "
                f"{ready:.1f} s"
            )
            http_part(server, args, codes, floor)
        finally:
            server.stop()
            print(f"(server stopped, exit {server.proc.returncode})")


def http_part(server: Server, args, codes: list[str], floor: float) -> None:
    from yingji.tips import forms_public, public

    port, cap = server.port, args.cap

    # warm every worker (the first request of each loads the URLconf and templates)
    run_clients(clients_for(port, 2 * args.workers, 0), GetForm(3), cap)

    # 2. the form page
    print(f"\n2. GET {FORM} (the form with a fresh signed challenge), {args.pages} requests:")
    one = run_clients(clients_for(port, 1, 1), GetForm(args.pages), cap)
    print(f"   1 client:  {one.line('pages')}")
    per = max(1, args.pages // args.clients)
    many = run_clients(clients_for(port, args.clients, 2), GetForm(per), cap)
    print(f"   {args.clients} clients: {many.line('pages')}")
    idle = c.median(one.latencies)

    # 3. reports over HTTP, within the limits
    limit = public.SUBMIT_LIMIT
    wait = forms_public.CHALLENGE_MIN_SECONDS + 0.05
    submit = Submit(limit, wait)
    clients = clients_for(port, args.submit_clients, 3)
    posted = run_clients(clients, submit, cap)
    print(
        f"\n3. POST {FORM} over HTTP: {args.submit_clients} clients, each its own X-Real-IP, "
        f"{limit} reports each (the per-address limit), forms loaded and the "
        f"{forms_public.CHALLENGE_MIN_SECONDS} s challenge wait passed before the clock starts:"
    )
    print(f"   {posted.line('reports')}")
    if submit.spare:
        client, ticket = submit.spare
        reply = report(client, ticket, 99_999)
        verdict = "refused (limit)" if reply.status == 429 else "NOT refused"
        print(
            f"   report {limit + 1} from one address: HTTP {reply.status}, {verdict}; "
            f"so one address sustains at most {limit}/{public.SUBMIT_WINDOW // 60} min"
        )
    codes = codes + submit.codes

    # 4. status lookups
    per_client = min(public.LOOKUP_LIMIT, args.lookups)
    print(
        f"\n4. POST {STATUS} with valid receipt codes; every lookup padded to {floor} s, "
        f"{args.workers} sync workers (ceiling {args.workers / floor:.0f} lookups/s when each "
        f"worker only sleeps):"
    )
    single = run_clients(clients_for(port, 1, 4), Lookup(per_client, codes), cap)
    print(
        f"   1 client, {per_client} lookups (≤ {public.LOOKUP_LIMIT} per address per "
        f"{public.LOOKUP_WINDOW // 60} min): {single.line('lookups')}"
    )
    print(
        f"     per client the floor bounds it to {1 / floor:.0f}/s; the limit to "
        f"{public.LOOKUP_LIMIT} per {public.LOOKUP_WINDOW // 60} min"
    )
    for n, shared in ((8, False), (16, False), (8, True)):
        each = max(1, args.lookups // n)
        clients = clients_for(port, n, 10 + n)
        if shared:  # one address: past its limit every lookup is refused, yet still padded
            clients = [Client(port, "10.9.0.1") for _ in range(n)]
        stop = threading.Event()
        probe = Probe(port, stop)
        probe.start()
        try:
            out = run_clients(clients, Lookup(each, codes), cap)
        finally:
            stop.set()
            probe.join(30)
        who = "one X-Real-IP for all" if shared else "distinct X-Real-IP"
        print(f"   {n} clients × {each} ({who}): {out.line('lookups')}")
        if probe.latencies:
            print(
                f"     meanwhile GET {FORM} took median {c.median(probe.latencies) * 1000:,.0f} "
                f"ms, max {max(probe.latencies) * 1000:,.0f} ms ({len(probe.latencies)} probes; "
                f"idle median {idle * 1000:,.0f} ms)"
            )


if __name__ == "__main__":
    main()

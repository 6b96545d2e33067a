"""Shared helpers for the benchmarks: scratch folders, the `yingji` command, and data.

Benchmarks print figures; they never pass or fail on them. Every benchmark works in its own
temporary YINGJI_VAR_DIR (never the developer's ./var) and removes it afterwards.
"""

import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from yingji.demo import district  # noqa: E402  (plain module: no Django needed)
from yingji.lib import uscc  # noqa: E402

# The `yingji` command of the interpreter running the benchmark (the project's .venv).
YINGJI = str(Path(sys.executable).parent / "yingji")

REGION_FIELDS = ["ref", "name", "level", "parent", "code"]
ENTERPRISE_FIELDS = [
    "ref",
    "name",
    "uscc",
    "sector",
    "features",
    "region",
    "address",
    "risk_grade",
    "status",
    "standardized",
    "contact_name",
    "contact_phone",
]
# sector → (weight, trades, feature pool); weights follow the demo district's mix.
SECTORS = {s: (count, trades, pool) for s, count, trades, pool in district.SECTORS}


# -- scratch folders and the command ------------------------------------------------------------
@contextlib.contextmanager
def scratch_dir(label: str) -> Iterator[Path]:
    """A temporary folder removed on exit (set BENCH_KEEP=1 to keep it for a look)."""
    path = Path(tempfile.mkdtemp(prefix=f"yingji-bench-{label}-"))
    try:
        yield path
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"(kept {path})")
        else:
            shutil.rmtree(path, ignore_errors=True)


def bench_env(var_dir: Path) -> dict[str, str]:
    """Environment for a child `yingji`: its own var folder, always SQLite."""
    env = dict(os.environ)
    env["YINGJI_VAR_DIR"] = str(var_dir)
    env.pop("DATABASE_URL", None)
    env.setdefault("YINGJI_FAST_HASHER", "1")
    return env


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_measured(args: list[str], env: dict[str, str]) -> Run:
    """Run a command; wall time and the child's own peak RSS (os.wait4, Linux KiB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        # wait4 gives this child's own rusage; RUSAGE_CHILDREN would be the max over all runs.
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode, stdout, stderr)


def yingji(var_dir: Path, *args: str, check: bool = True) -> Run:
    run = run_measured([YINGJI, *args], bench_env(var_dir))
    if check and run.returncode != 0:
        raise SystemExit(
            f"`yingji {' '.join(args)}` failed ({run.returncode}):\n{run.stdout}\n{run.stderr[-4000:]}"
        )
    return run


def migrate(var_dir: Path) -> Run:
    return yingji(var_dir, "migrate", "--noinput", "-v", "0")


# -- data -------------------------------------------------------------------------------------
def region_records() -> list[dict]:
    return list(district.regions())


def _org_code(n: int) -> str:
    """Nine characters of the USCC alphabet, distinct for every n (scrambled, not sequential)."""
    base = len(uscc.ALPHABET)
    x = (n * 7_919_923 + 104_729) % base**9  # an affine map mod 31^9: a bijection
    chars = []
    for _ in range(9):
        x, d = divmod(x, base)
        chars.append(uscc.ALPHABET[d])
    return "".join(reversed(chars))


def make_uscc(n: int) -> str:
    return uscc.make("91" + district.DISTRICT[0] + _org_code(n))


def enterprise_records(count: int, *, start: int = 1, seed: int = 2025) -> Iterator[dict]:
    """Valid enterprise records E-000001…: unique valid USCCs, villages that exist.

    Record n is the same whatever `start` is, so a database can be grown in steps.
    """
    villages = district.village_refs()
    sectors = list(SECTORS)
    weights = [SECTORS[s][0] for s in sectors]
    for n in range(start, start + count):
        rng = random.Random(seed * 1_000_003 + n)
        sector = rng.choices(sectors, weights)[0]
        _w, trades, pool = SECTORS[sector]
        city = "青海" if rng.random() < 0.7 else "西宁"
        name = f"{city}{rng.choice(district.NAME_WORDS)}{rng.choice(trades)}有限公司"
        k = rng.choice((0, 1, 1, 2)) if sector != "gas_station" else 1
        grade = rng.choices(["red", "orange", "yellow", "blue"], weights=(1, 4, 15, 30))[0]
        record = {
            "type": "enterprise",
            "ref": f"E-{n:06d}",
            "name": name,
            "uscc": make_uscc(n),
            "sector": sector,
            "region": rng.choice(villages),
            "address": f"城中区{rng.choice(district.VILLAGE_WORDS)}路{rng.randint(1, 300)}号",
            "risk_grade": grade,
            "standardized": rng.random() < 0.3,
            "contact_name": district._person(rng),
            "contact_phone": district._phone(rng),
        }
        if features := sorted(rng.sample(pool, min(k, len(pool)))):
            record["features"] = features
        if rng.random() < 0.02:
            record["status"] = "closed"
        yield record


def write_jsonl(path: Path, records: Iterable[dict]) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n


def write_xlsx(path: Path, sheets: dict[str, tuple[list[str], Iterable[dict]]]) -> int:
    """One sheet per type, row 1 the field names, list fields joined by ';'."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    n = 0
    for type_, (names, records) in sheets.items():
        ws = wb.create_sheet(type_)
        ws.append(names)
        for record in records:
            row = []
            for name in names:
                value = record.get(name)
                row.append(";".join(value) if isinstance(value, list) else value)
            ws.append(row)
            n += 1
    wb.save(path)
    return n


# -- printing ---------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values)


def mb(path: Path) -> float:
    return path.stat().st_size / 1e6

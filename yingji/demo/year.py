"""Years of inspection activity for the demo district, as `inspection` and `hazard` records.

The figures follow the bureau's 2025 annual report (section 三): 27,689 inspections, 367 of
them at industrial-trade enterprises and 35 at the 10 hazardous-chemicals enterprises;
8,431 general hazards (1,611 industrial-trade, 34 hazardous-chemicals), all but 9 closed by
31 December (99.89%). The current year runs at a similar rate up to yesterday, and each
hazard's place in the rectification loop is read off its timeline on the given day, so the
lists have open, submitted, reported and overdue hazards.

Everything is a pure function of the seed, the enterprise records and the day: the records
of a day do not depend on later days, so an import on a later day only adds and moves on.

The second half (`build`) runs the business acts the demo needs through the services:
checklists, plans, campaigns, conflicts, a double-random draw and visits under way today.
"""

import datetime
import json
import random
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from yingji.demo import district

D = datetime.date
ONE_DAY = datetime.timedelta(days=1)


# -- the year's figures ---------------------------------------------------------------------
@dataclass(frozen=True)
class Totals:
    """How much happens in one calendar year."""

    inspections: int
    inspections_it: int  # at industrial-trade enterprises
    inspections_hc: int  # at hazardous-chemicals enterprises
    hazards: int  # general hazards
    hazards_it: int
    hazards_hc: int
    pending: int  # general hazards still open on 31 December (a finished year only)
    majors: int

    def scaled(self, factor: float) -> "Totals":
        if factor == 1:
            return self
        return replace(
            self,
            inspections=round(self.inspections * factor),
            inspections_it=round(self.inspections_it * factor),
            inspections_hc=round(self.inspections_hc * factor),
            hazards=round(self.hazards * factor),
            hazards_it=round(self.hazards_it * factor),
            hazards_hc=round(self.hazards_hc * factor),
            pending=round(self.pending * factor),
            majors=max(1, round(self.majors * factor)),
        )


TOTALS = {
    # The 2025 annual report, section 三.
    2025: Totals(27689, 367, 35, 8431, 1611, 34, 9, 3),
    # The current year at a similar rate (the whole year; only days before today are kept).
    2026: Totals(28050, 372, 36, 8520, 1640, 31, 0, 1),
}


REPORT_YEAR = 2025


def totals_for(year: int) -> Totals:
    return TOTALS.get(year, TOTALS[2026])


# -- the calendar ----------------------------------------------------------------------------
def _days(start: D, end: D) -> set[D]:
    return {start + datetime.timedelta(days=i) for i in range((end - start).days + 1)}


# Public holidays and the weekend days worked instead (调休), per the State Council notices.
HOLIDAYS = {
    2025: (
        [
            (D(2025, 1, 1), D(2025, 1, 1)),
            (D(2025, 1, 28), D(2025, 2, 4)),
            (D(2025, 4, 4), D(2025, 4, 6)),
            (D(2025, 5, 1), D(2025, 5, 5)),
            (D(2025, 5, 31), D(2025, 6, 2)),
            (D(2025, 10, 1), D(2025, 10, 8)),
        ],
        [D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11)],
    ),
    2026: (
        [
            (D(2026, 1, 1), D(2026, 1, 3)),
            (D(2026, 2, 15), D(2026, 2, 23)),
            (D(2026, 4, 4), D(2026, 4, 6)),
            (D(2026, 5, 1), D(2026, 5, 5)),
            (D(2026, 6, 19), D(2026, 6, 21)),
            (D(2026, 9, 25), D(2026, 9, 27)),
            (D(2026, 10, 1), D(2026, 10, 7)),
        ],
        [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20)],
    ),
}


def workdays(year: int) -> list[D]:
    off: set[D] = set()
    extra: list[D] = []
    if year in HOLIDAYS:
        spans, extra = HOLIDAYS[year]
        for start, end in spans:
            off |= _days(start, end)
    days = _days(D(year, 1, 1), D(year, 12, 31))
    return sorted(d for d in days if (d.weekday() < 5 and d not in off) or d in extra)


# -- campaigns (the demo creates them through the services with these scopes) ---------------
@dataclass(frozen=True)
class CampaignSpec:
    title: str
    start: D
    end: D
    sector: str
    feature: str
    description: str

    def covers(self, ent: dict, day: D) -> bool:
        if not (self.start <= day <= self.end):
            return False
        if self.sector and ent["sector"] != self.sector:
            return False
        return not self.feature or self.feature in ent.get("features", ())


CAMPAIGNS = [
    CampaignSpec(
        "人员密集场所动火作业专项行动",
        D(2025, 3, 1),
        D(2025, 12, 31),
        "crowded_place",
        "hot_work",
        "依据《城中区加强人员密集场所动火作业安全管理工作方案》，重点检查动火作业审批、"
        "现场监护、可燃物清理和灭火器材配备，严查无证动火、违章动火。",
    ),
    CampaignSpec(
        "建筑保温材料安全隐患全链条整治行动",
        D(2025, 6, 1),
        D(2026, 12, 31),
        "",
        "insulation_material",
        "依据《城中区建筑保温材料安全隐患全链条整治行动实施方案》，覆盖保温材料生产、"
        "进场查验、施工动火和既有建筑使用全链条，重点排查易燃可燃保温材料和违规动火。",
    ),
]

# -- what the inspectors write -----------------------------------------------------------------
MODES = ("routine", "campaign", "double_random", "expert", "joint", "cross", "grid", "night")
MODE_WEIGHTS = {
    # routine, campaign, double_random, expert, joint, cross, grid, night
    "industrial_trade": (35, 10, 15, 10, 10, 10, 5, 5),
    "hazardous_chemicals": (25, 0, 10, 40, 15, 10, 0, 0),
    "gas_station": (40, 0, 20, 0, 10, 10, 0, 20),
    "crowded_place": (20, 15, 5, 3, 8, 7, 30, 15),
    "construction": (30, 25, 10, 0, 15, 15, 0, 5),
    "other": (30, 0, 10, 0, 5, 10, 35, 10),
}
# Inspections a year per enterprise, relative; sector and risk grade.
SECTOR_RATE = {"gas_station": 0.7, "crowded_place": 1.3, "construction": 1.1, "other": 0.85}
GRADE_RATE = {"red": 2.0, "orange": 1.5, "yellow": 1.0, "blue": 0.8}

# category | description | the sector or risk feature it applies to (blank: any)
HAZARD_TEXTS = [
    tuple(part.strip() for part in line.split("|"))
    for line in """
management | 未建立健全全员安全生产责任制，未明确各岗位的责任人员、责任范围和考核标准 |
management | 从业人员安全生产教育和培训记录不全，未建立安全生产教育和培训档案 |
management | 生产安全事故应急救援预案未定期组织演练，演练记录缺失 |
management | 事故隐患排查治理台账记录不完整，未如实记录隐患整改情况 |
management | 特种作业人员未按规定持证上岗 |
management | 未按规定为从业人员配备符合标准的劳动防护用品 |
management | 未向从业人员如实告知作业场所和工作岗位存在的危险因素 |
fire | 安全出口、疏散通道堆放杂物，影响疏散 |
fire | 灭火器压力不足或超过检验期限 |
fire | 应急照明灯和疏散指示标志损坏、不亮 |
fire | 消防设施未定期维护保养，无维保记录 |
electrical | 配电箱未上锁，未张贴“当心触电”警示标识 |
electrical | 电气线路私拉乱接，未穿管保护 |
electrical | 临时用电未按规定安装漏电保护装置 |
environment | 作业场所通道堆放物料，通道宽度不足 |
environment | 有较大危险因素的场所和设备未设置明显的安全警示标志 |
equipment | 设备传动部位安全防护罩缺失 |
equipment | 安全设备未经常性维护、保养，未定期检测 |
operation | 作业人员未按操作规程作业，存在违章操作行为 |
operation | 动火作业未办理动火审批手续，现场无专人监护 | hot_work
equipment | 除尘系统未按规定设置泄爆装置 | dust_explosion
environment | 粉尘爆炸危险场所积尘未及时清理 | dust_explosion
electrical | 粉尘爆炸危险场所电气设备不符合防爆要求 | dust_explosion
management | 粉尘防爆安全管理制度不健全，未建立粉尘清理制度 | dust_explosion
operation | 有限空间作业未执行“先通风、再检测、后作业”要求 | confined_space
environment | 有限空间出入口未设置安全警示标识 | confined_space
management | 未建立有限空间管理台账 | confined_space
equipment | 涉氨制冷车间未设置氨气浓度检测报警装置 | ammonia_refrigeration
equipment | 熔炼炉周边地面存在积水，未设置防止积水的措施 | metal_smelting
equipment | 用气场所未安装可燃气体浓度报警装置 | gas_use
equipment | 燃气管道连接使用的软管长度超过2米且老化 | gas_use
hazchem | 危险化学品未按规定分区、分类、分库储存 | hazardous_chemicals
hazchem | 储罐区防火堤局部破损，未及时修复 | hazardous_chemicals
equipment | 可燃有毒气体检测报警仪未按期检定 | hazardous_chemicals
operation | 特殊作业票证填写不规范，安全措施确认缺项 | hazardous_chemicals
management | 重大危险源安全包保责任人履职记录不全 | hazardous_chemicals
hazchem | 危险化学品安全技术说明书和安全标签不全 | hazardous_chemicals
operation | 卸油作业现场未设置警戒区域，未配备灭火器材 | gas_station
equipment | 加油机防撞设施缺失 | gas_station
equipment | 油气回收装置未按期检测 | gas_station
fire | 营业期间锁闭安全出口 | crowded_place
equipment | 后厨使用瓶装液化石油气，未安装燃气泄漏报警装置 | crowded_place
fire | 装修使用易燃可燃保温材料 | insulation_material
fire | 外墙保温材料进场未查验燃烧性能检测报告 | insulation_material
operation | 施工现场动火作业未配备灭火器材 | construction
equipment | 脚手架未按规定设置连墙件 | construction
environment | 临边、洞口防护设施缺失 | construction
""".strip().splitlines()
]
PLACES = {
    "industrial_trade": ["一号车间", "二号车间", "原料库", "成品库", "配电室", "厂区", "除尘间"],
    "hazardous_chemicals": ["储罐区", "装卸区", "仓库", "中控室", "厂区"],
    "gas_station": ["加油区", "卸油区", "站房", "配电间"],
    "crowded_place": ["一层后厨", "二层营业区", "地下一层", "库房", "楼梯间", "配电间"],
    "construction": ["施工现场", "材料堆放区", "生活区", "外立面"],
    "other": ["库房", "办公区", "作业区", "配电间", "车间"],
}
MAJOR_TEXTS = {
    "crowded_place": ("fire", "人员密集场所使用易燃可燃材料装修装饰，疏散通道被封堵"),
    "construction": ("fire", "在建工程外墙保温施工区域违规动火，未采取隔离和监护措施"),
    "other": ("operation", "有限空间作业未经审批，未进行通风检测即安排人员进入"),
    "industrial_trade": ("equipment", "粉尘爆炸危险场所除尘系统采用正压吹送，未采取防爆措施"),
    "gas_station": ("equipment", "埋地油罐渗漏检测报警装置失效"),
    "hazardous_chemicals": ("hazchem", "重大危险源未实现可燃有毒气体监测数据实时接入"),
}


def _names() -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for _username, role, full_name, _dept, _region in district.USERS:
        names.setdefault(role, []).append(full_name)
    return names


# -- generation ------------------------------------------------------------------------------
@dataclass
class Visit:
    ent: dict
    date: D
    mode: str
    methods: list[str]
    team: list[str]
    ref: str = ""


@dataclass
class Finding:
    visit: Visit
    seq: int  # creation order, which fixes the hazard's ref
    level: str
    category: str
    description: str
    deadline: D
    order_on: D  # when the rectification order was issued
    submit_on: D  # when evidence came in
    close_on: D  # when the re-inspection passed


def _allocate(
    rng: random.Random, ents: list[dict], total: int, minimum: dict[str, int], weight
) -> dict[str, int]:
    """Share `total` visits among enterprises: each its minimum, the rest at random by weight."""
    counts = {e["ref"]: minimum.get(e["ref"], 0) for e in ents}
    floor = sum(counts.values())
    if floor > total:  # the minimums do not fit: scale them down
        counts = {r: (n * total) // floor for r, n in counts.items()}
        floor = sum(counts.values())
    rest = [e for e in ents if weight(e) > 0]
    if rest and total > floor:
        for ref in rng.choices(
            [e["ref"] for e in rest], [weight(e) for e in rest], k=total - floor
        ):
            counts[ref] += 1
    return counts


def _dates(rng: random.Random, days: list[D], k: int) -> list[D]:
    """k dates spread over the year: one in each of k equal stretches of working days."""
    out = []
    for i in range(k):
        lo, hi = len(days) * i // k, max(len(days) * (i + 1) // k, len(days) * i // k + 1)
        out.append(days[rng.randrange(lo, min(hi, len(days)))])
    return out


def _mode(rng: random.Random, ent: dict, day: D) -> str:
    weights = list(MODE_WEIGHTS.get(ent["sector"], MODE_WEIGHTS["other"]))
    if not any(c.covers(ent, day) for c in CAMPAIGNS):
        weights[1] = 0
    return rng.choices(MODES, weights)[0]


def _visits(rng: random.Random, ents: list[dict], year: int, totals: Totals) -> list[Visit]:
    days = workdays(year)
    by_sector: dict[str, list[dict]] = {}
    for e in ents:
        by_sector.setdefault(e["sector"], []).append(e)
    it = by_sector.get("industrial_trade", [])
    hc = by_sector.get("hazardous_chemicals", [])
    rest = [e for e in ents if e["sector"] not in ("industrial_trade", "hazardous_chemicals")]

    def grade(e: dict) -> float:
        return GRADE_RATE.get(e.get("risk_grade", ""), 1.0) * rng.uniform(0.6, 1.4)

    counts: dict[str, int] = {}
    # Plan targets: dust-explosion enterprises once a quarter, every other one once a year.
    dust = {e["ref"] for e in it if "dust_explosion" in e.get("features", ())}
    counts.update(
        _allocate(
            rng,
            it,
            totals.inspections_it,
            {e["ref"]: 4 if e["ref"] in dust else 1 for e in it},
            lambda e: 0 if e["ref"] in dust else grade(e),
        )
    )
    # Hazardous chemicals: at least twice a year (the plan), experts on top.
    counts.update(
        _allocate(rng, hc, totals.inspections_hc, {e["ref"]: 2 for e in hc}, lambda e: 1.0)
    )
    # Gas stations at least once a year; crowded places, construction sites and the rest share
    # the remainder of the year's total.
    counts.update(
        _allocate(
            rng,
            rest,
            max(totals.inspections - totals.inspections_it - totals.inspections_hc, 0),
            {e["ref"]: 1 for e in rest if e["sector"] == "gas_station"},
            lambda e: SECTOR_RATE.get(e["sector"], 1.0) * grade(e),
        )
    )
    names = _names()
    inspectors = names.get("inspector", ["检查员"])
    visits = []
    for e in ents:
        it_like = e["sector"] in ("industrial_trade", "hazardous_chemicals")
        for day in _dates(rng, days, counts.get(e["ref"], 0)):
            mode = _mode(rng, e, day)
            if mode == "night" and rng.random() < 0.3:  # night checks also fall on weekends
                day = min(day + datetime.timedelta(days=rng.randint(1, 2)), D(year, 12, 31))
            r = rng.random()
            if it_like:  # 现场核查 + 台账查阅
                methods = (
                    ["onsite", "ledger"] if r < 0.75 else ["onsite"] if r < 0.95 else ["ledger"]
                )
            else:
                methods = (
                    ["onsite"] if r < 0.75 else ["onsite", "ledger"] if r < 0.95 else ["ledger"]
                )
            team = rng.sample(inspectors, min(2, len(inspectors)))
            if mode == "expert":
                team += names.get("expert", [])
            elif mode == "joint" and rng.random() < 0.4:
                team = names.get("leader", []) + team
            visits.append(Visit(e, day, mode, methods, team))
    visits.sort(key=lambda v: (v.date, v.ent["ref"], v.mode))
    for n, v in enumerate(visits, start=1):
        v.ref = f"I-{year}-{n:06d}"
    return visits


def _text(rng: random.Random, ent: dict) -> tuple[str, str]:
    tags = {ent["sector"], *ent.get("features", ())}
    specific = [t for t in HAZARD_TEXTS if t[2] and t[2] in tags]
    general = [t for t in HAZARD_TEXTS if not t[2]]
    category, text, _tag = rng.choice(specific if specific and rng.random() < 0.55 else general)
    place = rng.choice(PLACES.get(ent["sector"], PLACES["other"]))
    return category, f"{place}：{text}"


def _finding(rng: random.Random, visit: Visit, seq: int, level: str = "general") -> Finding:
    found = visit.date
    if level == "major":
        category, text = MAJOR_TEXTS.get(visit.ent["sector"], MAJOR_TEXTS["other"])
        days = 30
    else:
        category, text = _text(rng, visit.ent)
        days = rng.randint(7, 30)
    deadline = found + datetime.timedelta(days=days)
    order_on = found if rng.random() < 0.85 else found + datetime.timedelta(rng.randint(1, 3))
    profile = rng.random()
    if profile < 0.965:  # rectified in time
        submit = found + datetime.timedelta(days=rng.randint(1, max(days - 1, 1)))
        close = submit + datetime.timedelta(days=rng.randint(0, 4))
    elif profile < 0.995:  # late
        submit = deadline + datetime.timedelta(days=rng.randint(1, 15))
        close = submit + datetime.timedelta(days=rng.randint(1, 6))
    else:  # stalled for weeks
        submit = deadline + datetime.timedelta(days=rng.randint(20, 90))
        close = submit + datetime.timedelta(days=rng.randint(1, 10))
    submit = max(submit, order_on)
    close = max(close, submit)
    return Finding(visit, seq, level, category, text, deadline, order_on, submit, close)


def _findings(rng: random.Random, visits: list[Visit], totals: Totals) -> list[Finding]:
    def weight(v: Visit) -> float:
        return 1.5 if v.mode == "expert" else 1.0

    groups = {
        "it": [v for v in visits if v.ent["sector"] == "industrial_trade"],
        "hc": [v for v in visits if v.ent["sector"] == "hazardous_chemicals"],
    }
    groups["rest"] = [
        v for v in visits if v.ent["sector"] not in ("industrial_trade", "hazardous_chemicals")
    ]
    wanted = {
        "it": totals.hazards_it,
        "hc": totals.hazards_hc,
        "rest": max(totals.hazards - totals.hazards_it - totals.hazards_hc, 0),
    }
    findings: list[Finding] = []
    for key, group in groups.items():
        if group and wanted[key]:
            for v in rng.choices(group, [weight(v) for v in group], k=wanted[key]):
                findings.append(_finding(rng, v, len(findings)))
    # Major hazards, one sector after another, away from the industrial-trade and hazchem
    # figures of the report.
    sectors = ("crowded_place", "construction", "other")
    by_sector = {s: [v for v in groups["rest"] if v.ent["sector"] == s] for s in sectors}
    for i in range(totals.majors):
        pool = by_sector[sectors[i % len(sectors)]] or groups["rest"]
        if pool:
            findings.append(_finding(rng, rng.choice(pool), len(findings), "major"))
    return findings


def _close_the_year(rng: random.Random, findings: list[Finding], year: int, pending: int) -> None:
    """A finished year: everything closed by 31 December but `pending` general hazards."""
    end = D(year, 12, 31)
    late = [f for f in findings if f.close_on > end and f.level == "general"]
    if len(late) < pending:  # not enough natural ones: carry December findings over
        extra = [f for f in findings if f.visit.date.month == 12 and f not in late]
        for f in rng.sample(extra, min(pending - len(late), len(extra))):
            f.close_on = end + datetime.timedelta(days=rng.randint(3, 20))
            f.submit_on = min(f.submit_on, f.close_on)
            late.append(f)
    keep = set(map(id, rng.sample(late, min(pending, len(late)))))
    for f in findings:
        if f.close_on > end and id(f) not in keep:
            f.close_on = max(f.visit.date, end - datetime.timedelta(days=rng.randint(0, 6)))
            f.submit_on = min(f.submit_on, f.close_on)
            f.order_on = min(f.order_on, f.close_on)


def _seasonal_majors(findings: list[Finding]) -> None:
    """After the report year: a major hazard found in early April and one in early November."""
    for month, days in ((4, 30), (11, 45)):
        pool = [
            f
            for f in findings
            if f.visit.date.month == month
            and f.visit.date.day <= 10
            and f.visit.ent["sector"] in ("crowded_place", "construction", "other")
        ]
        if not pool:
            continue
        f = min(pool, key=lambda f: (f.visit.date, f.visit.ref))
        f.level = "major"
        f.category, f.description = MAJOR_TEXTS.get(f.visit.ent["sector"], MAJOR_TEXTS["other"])
        f.deadline = f.visit.date + datetime.timedelta(days=30)
        f.order_on = f.visit.date
        f.submit_on = f.visit.date + datetime.timedelta(days=days - 3)
        f.close_on = f.visit.date + datetime.timedelta(days=days)


@dataclass
class Activity:
    inspections: list[dict]
    hazards: list[dict]

    def records(self) -> Iterator[dict]:
        yield from self.inspections
        yield from self.hazards

    def summary(self, today: D) -> str:
        by_year = Counter(r["date"][:4] for r in self.inspections)
        found = Counter(r["found_on"][:4] for r in self.hazards)
        states = Counter(r["status"] for r in self.hazards)
        overdue = sum(
            1
            for r in self.hazards
            if r["status"] != "closed" and r.get("deadline") and r["deadline"] < today.isoformat()
        )
        years = ", ".join(f"{y}: {by_year[y]:,} inspections, {found[y]:,} hazards" for y in by_year)
        return (
            f"{years}; hazards now {states['closed']:,} closed, {states['open']} open, "
            f"{states['submitted']} submitted, {states['reported']} reported, {overdue} overdue"
        )


def generate(
    enterprises: Iterable[dict],
    *,
    years: Iterable[int],
    today: D,
    seed: int = 2025,
    scale: float = 1.0,
    totals: dict[int, Totals] | None = None,
) -> Activity:
    """Inspections and hazards of whole years, as seen on `today` (only days before it)."""
    ents = [e for e in enterprises if e.get("status", "active") == "active"]
    inspections, hazards = [], []
    for year in years:
        if year > today.year:
            continue

        # One random stream per stage, so that a stage that depends on the day (closing a
        # finished year) never shifts what the others draw.
        def rng(stage: str, year: int = year) -> random.Random:
            return random.Random(f"yingji-demo:{seed}:{year}:{stage}")

        t = (totals or {}).get(year) or totals_for(year).scaled(scale)
        visits = _visits(rng("visits"), ents, year, t)
        findings = _findings(rng("findings"), visits, t)
        if year > REPORT_YEAR:
            _seasonal_majors(findings)
        if year < today.year:
            _close_the_year(rng("year-end"), findings, year, t.pending)
        for v in visits:
            if v.date >= today:
                continue
            inspections.append(
                {
                    "type": "inspection",
                    "ref": v.ref,
                    "enterprise": v.ent["ref"],
                    "date": v.date.isoformat(),
                    "mode": v.mode,
                    "methods": v.methods,
                    "inspectors": v.team,
                    "status": "completed",
                }
            )
        findings = [f for f in findings if f.visit.date < today]
        findings.sort(key=lambda f: (f.visit.date, f.visit.ref, f.seq))
        for n, f in enumerate(findings, start=1):
            record = {
                "type": "hazard",
                "ref": f"H-{year}-{n:06d}",
                "enterprise": f.visit.ent["ref"],
                "inspection": f.visit.ref,
                "found_on": f.visit.date.isoformat(),
                "level": f.level,
                "category": f.category,
                "description": f.description,
            }
            if f.close_on < today:
                record.update(
                    status="closed",
                    deadline=f.deadline.isoformat(),
                    closed_on=f.close_on.isoformat(),
                )
            elif f.submit_on < today:
                record.update(status="submitted", deadline=f.deadline.isoformat())
            elif f.order_on < today:
                record.update(status="open", deadline=f.deadline.isoformat())
            else:
                record["status"] = "reported"
            hazards.append(record)
    return Activity(inspections, hazards)


def demo_activity(seed: int, today: D) -> Activity:
    """The demo district's 2025 and its current year up to yesterday."""
    years = range(2025, max(today.year, 2025) + 1)
    return generate(district.enterprises(seed), years=years, today=today, seed=seed)


# -- the demo: import, then the business acts through the services ------------------------------
def _normal(rt, record: dict) -> dict:
    """A record with defaults and empty values left out, enum lists in a fixed order."""
    out = {}
    for f in rt.fields:
        value = record.get(f.name)
        if value is None or value == "" or value == [] or value == f.default:
            continue
        out[f.name] = sorted(value) if f.many and f.kind == "enum" else value
    return out


def changed_records(records: Iterable[dict]) -> list[dict]:
    """The records that are new or differ from the database (as the export writes it)."""
    from yingji.core.interchange import REGISTRY

    by_type: dict[str, list[dict]] = {}
    for record in records:
        by_type.setdefault(record["type"], []).append(record)
    out = []
    for type_, group in by_type.items():
        rt = REGISTRY[type_]
        held = {r["ref"]: _normal(rt, r) for r in rt.export_records()}
        out += [r for r in group if held.get(r["ref"]) != _normal(rt, r)]
    return out


def import_changes(records: Iterable[dict], *, label: str, stdout, progress_factory=None):
    """Import what is new or changed; import nothing (no audit entry) when all is in place."""
    from yingji.core.interchange import import_file

    start = time.perf_counter()
    records = list(records)
    todo = changed_records(records)
    if not todo:
        stdout.write(f"{label}: {len(records):,} records, all in place")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{label}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for record in todo:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        result = import_file(path, actor=None, progress_factory=progress_factory)
    stdout.write(
        f"{label}: {len(records):,} records, imported {result.records:,} "
        f"({result.created:,} created, {result.updated:,} updated, "
        f"{result.unchanged:,} unchanged) in {time.perf_counter() - start:.1f} s"
    )
    return result


def build(*, seed: int, stdout, progress_factory=None) -> None:
    """Import the activity and run the acts; every step is skipped when already done."""
    from django.utils import timezone

    today = timezone.localdate()
    start = time.perf_counter()
    activity = demo_activity(seed, today)
    stdout.write(
        f"activity: generated in {time.perf_counter() - start:.1f} s ({activity.summary(today)})"
    )
    import_changes(
        activity.records(), label="activity", stdout=stdout, progress_factory=progress_factory
    )
    start = time.perf_counter()
    done = Acts(today=today, stdout=stdout).run()
    stdout.write(f"acts: {', '.join(done) or 'all in place'} ({time.perf_counter() - start:.1f} s)")


LAW = "《中华人民共和国安全生产法》"
# name, sector, items as "code | text | legal basis" lines
CHECKLISTS = [
    (
        "工贸企业通用检查表",
        "industrial_trade",
        f"""
1.1 | 是否建立健全并落实全员安全生产责任制 | {LAW}第二十二条
1.2 | 主要负责人和安全生产管理人员是否具备与本单位生产经营活动相应的安全生产知识和管理能力 | {LAW}第二十七条
1.3 | 是否对从业人员进行安全生产教育和培训，并建立安全生产教育和培训档案 | {LAW}第二十八条
1.4 | 特种作业人员是否经专门的安全作业培训并取得相应资格后上岗 | {LAW}第三十条
2.1 | 是否建立安全风险分级管控和隐患排查治理双重预防机制，如实记录隐患排查治理情况 | {LAW}第四十一条
2.2 | 有较大危险因素的场所和设施设备是否设置明显的安全警示标志 | {LAW}第三十五条
2.3 | 生产经营场所是否设有符合紧急疏散要求、标志明显、保持畅通的出口和疏散通道 | {LAW}第四十二条
3.1 | 动火、临时用电等危险作业是否安排专门人员进行现场安全管理 | {LAW}第四十三条
3.2 | 粉尘涉爆场所是否按规定设置除尘系统并及时规范清理积尘 | 《工贸企业粉尘防爆安全规定》
3.3 | 有限空间作业是否经审批，做到“先通风、再检测、后作业” | 《工贸企业有限空间作业安全规定》
4.1 | 是否制定生产安全事故应急救援预案并定期组织演练 | {LAW}第八十一条
""",
    ),
    (
        "危险化学品企业检查表",
        "hazardous_chemicals",
        f"""
1.1 | 是否设置安全生产管理机构或者配备专职安全生产管理人员 | {LAW}第二十四条
1.2 | 主要负责人和安全生产管理人员是否经安全生产知识和管理能力考核合格 | {LAW}第二十七条
2.1 | 是否委托具备资质的机构每3年对安全生产条件进行一次安全评价并落实整改 | 《危险化学品安全管理条例》第二十二条
2.2 | 作业场所是否设置相应的监测、监控、通风、防火、防爆、泄压、防静电、防泄漏等安全设施设备并经常性维护保养 | 《危险化学品安全管理条例》第二十条
2.3 | 危险化学品是否储存在专用仓库、专用场地或者专用储存室内并由专人负责管理，储存方式、方法和数量符合国家标准 | 《危险化学品安全管理条例》第二十四条
2.4 | 重大危险源是否登记建档，定期检测、评估、监控，并制定应急预案 | {LAW}第四十条
3.1 | 动火、受限空间等特殊作业是否办理作业许可并落实安全措施 | GB 30871-2022《危险化学品企业特殊作业安全规范》
3.2 | 是否为从业人员提供符合标准的劳动防护用品并监督正确佩戴、使用 | {LAW}第四十五条
4.1 | 是否制定生产安全事故应急救援预案，配备应急救援器材并定期组织演练 | {LAW}第八十一条
""",
    ),
]


def checklist_items(lines: str) -> list[dict]:
    items = []
    for line in lines.strip().splitlines():
        code, text, basis = (part.strip() for part in line.split("|"))
        items.append({"code": code, "text": text, "basis": basis})
    return items


PLANS = {
    2025: "2025年度安全生产监督检查计划",
    2026: "2026年度安全生产监督检查计划",
}
TARGETS = [
    # title, times, sector, feature
    ("危险化学品企业每年检查2次", 2, "hazardous_chemicals", ""),
    ("粉尘涉爆企业每季度检查1次", 4, "", "dust_explosion"),
    ("加油站每年检查1次", 1, "gas_station", ""),
    ("工贸企业每年检查全覆盖", 1, "industrial_trade", ""),
]
CONFLICTS = [
    # inspector username, sector of the enterprise, reason
    ("inspector", "crowded_place", "配偶在该单位担任管理人员"),
    ("inspector2", "industrial_trade", "曾在该企业任职，离职未满三年"),
    ("inspector", "hazardous_chemicals", "近亲属持有该企业股份"),
]
DRAW_TITLE = "2026年第四批“双随机、一公开”抽查（工贸企业）"
DRAW_SEED = "城中区应急管理局-2026-双随机-第4批"
DRAW_N = 12


class Acts:
    """The demo's business acts through the services, each skipped when already done."""

    def __init__(self, *, today: D, stdout) -> None:
        from django.contrib.auth import get_user_model

        self.today, self.stdout = today, stdout
        users = {u.username: u for u in get_user_model().objects.all()}
        self.leader = users["leader"]
        self.inspector = users["inspector"]
        self.inspector2 = users["inspector2"]
        self.expert = users.get("expert")
        self.done: list[str] = []

    def run(self) -> list[str]:
        for step in (
            self.checklists,
            self.plans,
            self.campaigns,
            self.conflicts,
            self.draw,
            self.visits_today,
            self.campaign_visits,
            self.sign_off_majors,
        ):
            self._step(step)
        return self.done

    def _step(self, step) -> None:
        from django.db import transaction
        from django.urls import NoReverseMatch

        try:
            with transaction.atomic():
                step()
        except NoReverseMatch as exc:  # a page the service links to is not wired yet
            self.stdout.write(f"acts: skipped {step.__name__} (no URL yet: {exc})")

    # -- plans, campaigns, checklists ----------------------------------------------------------
    def checklists(self) -> None:
        from yingji.inspections import services
        from yingji.inspections.models import ChecklistTemplate

        for name, sector, items in CHECKLISTS:
            if ChecklistTemplate.objects.filter(name=name).exists():
                continue
            services.save_checklist(
                by=self.inspector,
                name=name,
                sector=sector,
                items=checklist_items(items),
            )
            self.done.append(f"checklist {name}")

    def plans(self) -> None:
        from yingji.inspections import services
        from yingji.inspections.models import Plan

        for year, title in PLANS.items():
            if year > self.today.year or Plan.objects.filter(year=year, title=title).exists():
                continue
            plan = services.create_plan(
                by=self.leader,
                year=year,
                title=title,
                note="依据《" + str(year) + "年城中区安全生产工作要点和责任分工》制定。",
            )
            for title_, times, sector, feature in TARGETS:
                services.add_target(
                    plan, by=self.leader, title=title_, times=times, sector=sector, feature=feature
                )
            services.publish_plan(plan, by=self.leader)
            self.done.append(f"plan {year}")

    def campaigns(self) -> None:
        from yingji.inspections import services
        from yingji.inspections.models import Campaign

        for c in CAMPAIGNS:
            if c.start > self.today or Campaign.objects.filter(title=c.title).exists():
                continue
            services.create_campaign(
                by=self.leader,
                title=c.title,
                start=c.start,
                end=c.end,
                sector=c.sector,
                feature=c.feature,
                description=c.description,
            )
            self.done.append(f"campaign {c.title}")

    # -- conflicts and the draw ----------------------------------------------------------------
    def _draw_candidates(self) -> list[str]:
        from yingji.enterprises.models import Enterprise

        qs = Enterprise.objects.search(sector="industrial_trade", status="active")
        return sorted(qs.values_list("ref", flat=True))

    def conflicts(self) -> None:
        from yingji.core import audit
        from yingji.enterprises.models import Enterprise
        from yingji.inspections.models import InspectorConflict
        from yingji.lib import draw as drawlib

        if InspectorConflict.objects.exists():
            return
        # The industrial-trade conflict is one the draw below does not pick: with a pool of two
        # inspectors and two per enterprise, a conflicted pick could not be staffed.
        candidates = self._draw_candidates()
        pool = sorted([self.inspector.username, self.inspector2.username])
        drawn = {
            r
            for r, _ in drawlib.run(
                drawlib.Inputs(DRAW_SEED, tuple(candidates), tuple(pool), {}, DRAW_N)
            )
        }
        users = {"inspector": self.inspector, "inspector2": self.inspector2}
        for i, (username, sector, reason) in enumerate(CONFLICTS):
            qs = Enterprise.objects.filter(sector=sector, status="active").order_by("ref")
            if sector == "industrial_trade":
                qs = qs.exclude(ref__in=drawn)
            ent = qs[i * 7 % max(qs.count(), 1)] if qs.exists() else None
            if ent is None:
                continue
            conflict = InspectorConflict.objects.create(
                inspector=users[username], enterprise=ent, reason=reason
            )
            audit.created(conflict, actor=self.leader)
        self.done.append("conflicts")

    def draw(self) -> None:
        from yingji.inspections import services
        from yingji.inspections.models import Draw

        if self.today.year < 2026 or Draw.objects.filter(title=DRAW_TITLE).exists():
            return
        d = services.prepare_draw(
            by=self.inspector,
            title=DRAW_TITLE,
            year=self.today.year,
            n=DRAW_N,
            pool=[self.inspector, self.inspector2],
            per_enterprise=2,
            sector="industrial_trade",
        )
        services.publish_draw(d, by=self.inspector, seed=DRAW_SEED)
        services.execute_draw(d, by=self.inspector, date=self.today + datetime.timedelta(days=3))
        self.done.append(f"draw of {DRAW_N}")

    # -- visits under way today ----------------------------------------------------------------
    def visits_today(self) -> None:
        from yingji.enterprises.models import Enterprise
        from yingji.inspections.models import Inspection

        if Inspection.objects.filter(
            created_by=self.inspector, status=Inspection.Status.IN_PROGRESS
        ).exists():
            return
        linked = Enterprise.objects.filter(accounts__user__username="enterprise").first()
        it = linked or Enterprise.objects.filter(sector="industrial_trade", status="active").first()
        hc = Enterprise.objects.filter(sector="hazardous_chemicals", status="active").first()
        cp = (
            Enterprise.objects.filter(sector="crowded_place", status="active")
            .with_feature("hot_work")
            .first()
        )
        plans = [
            (
                it,
                "routine",
                [
                    (
                        "electrical",
                        "配电箱未上锁，未张贴“当心触电”警示标识",
                        "《中华人民共和国安全生产法》第三十五条",
                    ),
                    (
                        "management",
                        "从业人员安全生产教育和培训档案不全",
                        "《中华人民共和国安全生产法》第二十八条",
                    ),
                ],
            ),
            (
                hc,
                "expert",
                [
                    (
                        "hazchem",
                        "危险化学品未按规定分区、分类储存",
                        "《危险化学品安全管理条例》第二十四条",
                    ),
                ],
            ),
            (
                cp,
                "night",
                [
                    ("fire", "营业期间锁闭二层安全出口", "《中华人民共和国安全生产法》第四十二条"),
                    (
                        "operation",
                        "后厨动火作业无专人现场监护",
                        "《中华人民共和国安全生产法》第四十三条",
                    ),
                ],
            ),
        ]
        for ent, mode, findings in plans:
            if ent is not None:
                self._visit(ent, mode, findings)
        self.done.append("visits under way today")

    def _visit(self, ent, mode: str, findings: list[tuple[str, str, str]]):
        from yingji.hazards import services as hz
        from yingji.inspections import services

        insp = services.schedule_inspection(
            by=self.inspector,
            enterprise=ent,
            date=self.today,
            mode=mode,
            inspectors=[self.inspector, self.inspector2],
            experts=[self.expert] if mode == "expert" and self.expert else [],
            onsite=True,
            ledger=mode != "night",
        )
        services.start_inspection(insp, by=self.inspector)
        if insp.checklist:
            items = [i["code"] for i in insp.checklist.items]
            answers = {code: "ok" for code in items}
            for code in items[-len(findings) :]:
                answers[code] = "hazard"
            services.record_answers(insp, by=self.inspector, answers=answers)
        hazards = [
            hz.report_hazard(
                by=self.inspector,
                enterprise=ent,
                found_on=self.today,
                description=text,
                category=category,
                legal_basis=basis,
                inspection=insp,
            )
            for category, text, basis in findings
        ]
        hz.issue_order(
            hazards,
            by=self.inspector,
            deadline=self.today + datetime.timedelta(days=15),
            requirements="责令于期限内完成整改，整改完成后提交整改报告及照片。",
        )
        return insp

    def campaign_visits(self) -> None:
        """A few visits of the running campaign, done through the services (they count)."""
        from yingji.inspections import services
        from yingji.inspections.models import Campaign, Inspection

        campaign = Campaign.objects.filter(start__lte=self.today, end__gte=self.today).first()
        if campaign is None or Inspection.objects.filter(campaign=campaign).exists():
            return
        ents = list(campaign.enterprises().order_by("ref")[:8])
        for i, ent in enumerate(ents):
            day = self.today - datetime.timedelta(days=2 + 3 * i)
            insp = services.schedule_inspection(
                by=self.inspector,
                enterprise=ent,
                date=day,
                mode="campaign",
                campaign=campaign,
                inspectors=[self.inspector, self.inspector2],
            )
            services.start_inspection(insp, by=self.inspector)
            if insp.checklist:
                services.record_answers(
                    insp,
                    by=self.inspector,
                    answers={i["code"]: "ok" for i in insp.checklist.items},
                    summary="现场检查未发现保温材料相关隐患。",
                )
            services.complete_inspection(insp, by=self.inspector)
        self.done.append(f"{len(ents)} campaign visits")

    def sign_off_majors(self) -> None:
        from yingji.hazards import services as hz
        from yingji.hazards.models import Hazard

        qs = Hazard.objects.filter(level="major", signed_off_at__isnull=True).exclude(
            status=Hazard.Status.CLOSED
        )
        for hazard in qs:
            hz.sign_off_major(hazard, by=self.leader)
            self.done.append(f"major hazard {hazard.ref} signed off")

"""Warnings, forwarded weather items, bulletins, weather-station messages and video
roll-calls of the demo district, shaped like the 2025 annual report (section 四(二)).

2025: 412 forwarded weather items (转发气象信息400余条), 300 warnings (预警信息300次), 23
disaster-prevention bulletins (提示信息23期) and 156 messages of the district weather station
(气象工作站气象信息150余条), more of them in the flood season (June to September). Warnings
and bulletins go to every town and village, forwards and station messages to the 8 towns;
nearly every unit acknowledges within minutes, a few late, a handful never. Roll-calls
(视频点调) reach all 8 towns and 61 villages in the year; the few units that missed one were
followed up. The current year has a lighter sample of the same up to yesterday, and one
warning issued through the services as the demo is built, partly acknowledged, so the live
board has something to show.

The ledger part is interchange records (`alert`, `rollcall`), a pure function of the seed
and the day, imported like the other demo ledgers; units, contacts, templates, the live
warning and the follow-ups go through the services (or, where none exists, the ORM with an
audit entry), each skipped when already done.
"""

import datetime
import random
import zoneinfo

from yingji.demo import district

D = datetime.date
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")

# Items a year by kind and month (January first); 2025 as in the report.
MONTHLY = {
    2025: {
        "warning": [12, 14, 22, 26, 24, 34, 46, 44, 32, 20, 14, 12],  # 300
        "weather_forward": [28, 26, 30, 32, 34, 40, 48, 46, 40, 32, 28, 28],  # 412
        "bulletin": [1, 1, 2, 2, 2, 3, 3, 3, 2, 2, 1, 1],  # 23
        "station_message": [8, 8, 10, 12, 14, 18, 20, 20, 16, 12, 9, 9],  # 156
    },
    # The current year: a sample at the same seasons, to keep the demo small.
    2026: {
        "warning": [1, 1, 2, 2, 2, 4, 5, 5, 3, 2, 2, 1],
        "weather_forward": [3, 3, 3, 4, 4, 5, 6, 6, 5, 4, 3, 3],
        "bulletin": [0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0],
        "station_message": [1, 1, 1, 2, 2, 2, 3, 3, 2, 1, 1, 1],
    },
}
CODE = {"warning": "W", "weather_forward": "F", "bulletin": "B", "station_message": "S"}
LEVEL_NAMES = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}

# hazard: (name, issuer, months it happens in (weight per month), level weights b/y/o/r)
HAZARDS = {
    "rainstorm": ("暴雨", "城中区气象台", [0, 0, 0, 1, 2, 8, 12, 12, 6, 1, 0, 0], (40, 40, 15, 5)),
    "flash_flood": (
        "山洪灾害",
        "城中区水利局",
        [0, 0, 0, 0, 1, 4, 8, 8, 3, 0, 0, 0],
        (30, 40, 22, 8),
    ),
    "geological": (
        "地质灾害气象风险",
        "西宁市自然资源局",
        [0, 0, 1, 1, 1, 4, 6, 6, 4, 1, 0, 0],
        (30, 45, 20, 5),
    ),
    "thunder": ("雷电", "城中区气象台", [0, 0, 0, 1, 3, 5, 6, 6, 3, 0, 0, 0], (30, 55, 15, 0)),
    "hail": ("冰雹", "城中区气象台", [0, 0, 0, 0, 2, 4, 4, 4, 2, 0, 0, 0], (0, 40, 50, 10)),
    "gale": ("大风", "城中区气象台", [3, 4, 7, 8, 6, 2, 1, 1, 2, 3, 4, 3], (55, 35, 10, 0)),
    "dust": ("沙尘暴", "城中区气象台", [1, 2, 5, 6, 4, 1, 0, 0, 0, 1, 1, 1], (0, 70, 25, 5)),
    "forest_fire": (
        "森林草原火险",
        "城中区森林草原防灭火指挥部",
        [6, 7, 8, 8, 5, 1, 0, 0, 1, 4, 6, 6],
        (30, 45, 20, 5),
    ),
    "cold": ("寒潮", "城中区气象台", [5, 4, 3, 1, 0, 0, 0, 0, 1, 3, 5, 5], (45, 40, 15, 0)),
    "snow": ("暴雪", "城中区气象台", [4, 4, 3, 1, 0, 0, 0, 0, 0, 1, 3, 4], (40, 45, 15, 0)),
    "frost": ("霜冻", "城中区气象台", [0, 0, 1, 3, 3, 0, 0, 0, 2, 3, 1, 0], (60, 35, 5, 0)),
    "fog": ("大雾", "城中区气象台", [2, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3], (40, 50, 10, 0)),
}
ADVICE = {
    "rainstorm": "请各镇（街道）、村（社区）加强值班值守，做好城市内涝、低洼地带和地下空间的"
    "防范，及时转移危险区域群众。",
    "flash_flood": "山洪沟道沿线村（社区）立即组织巡查，做好人员转移准备，严禁群众进入河道、沟道。",
    "geological": "请对辖区地质灾害隐患点加密巡查，发现险情立即组织避让转移并报告。",
    "thunder": "请提醒户外作业人员避险，暂停高空、户外作业，注意防范雷电引发的火灾。",
    "hail": "请提醒群众注意防范冰雹，妥善安置车辆和设施农业，减少户外活动。",
    "gale": "请加固广告牌、临时搭建物和建筑工地围挡，停止高空作业，严防火灾。",
    "dust": "请提醒群众减少外出，关好门窗，户外作业人员做好防护，注意交通安全。",
    "forest_fire": "请严格野外火源管控，加强林区、草场巡护，严禁一切野外用火。",
    "cold": "请做好防寒保暖和设施农业防冻，加强燃气、取暖安全检查，防范一氧化碳中毒。",
    "snow": "请做好道路除雪防滑和危旧房屋、大棚检查，保障群众生活和交通安全。",
    "frost": "请提醒农户做好农作物防冻措施。",
    "fog": "请提醒驾驶人减速慢行，注意交通安全。",
}
FORWARDS = [
    ("转发：西宁市气象台{md}天气预报", "今天白天到夜间，城中区多云转阴，局地有阵雨，气温5～18℃。"),
    (
        "转发：青海省气象台重要天气报告",
        "受冷空气影响，未来三天我省东部农业区将有一次明显降温降水过程。",
    ),
    (
        "转发：西宁市未来三天天气趋势预报",
        "未来三天以多云天气为主，午后局地有分散性阵雨，注意防范短时强降水。",
    ),
    ("转发：西宁市气象台周天气预报", "本周前期晴到多云，后期受弱冷空气影响有一次降水过程。"),
    (
        "转发：青海省气象台降水天气过程预报",
        "预计未来48小时东部地区有中到大雨，局地暴雨，需防范次生灾害。",
    ),
]
STATIONS = [
    ("城中区气象工作站：{md}短时临近预报", "未来2小时南川河沿线有短时强降水，小时雨量可达20毫米。"),
    ("城中区气象工作站：{md}降水实况", "截至8时，辖区累计降水量最大为总寨镇18.6毫米。"),
    ("城中区气象工作站：{md}天气提示", "今天午后至夜间有雷阵雨，局地伴有短时大风和冰雹。"),
]
BULLETIN_TOPICS = [
    "元旦春节期间安全防范",
    "春节期间森林草原防火",
    "春季森林草原防灭火",
    "春季大风沙尘天气防范",
    "清明节期间野外用火管控",
    "地质灾害防治",
    "“五一”假期安全防范",
    "汛前准备和隐患排查",
    "“5·12”防灾减灾日宣传",
    "主汛期防汛防灾",
    "强降雨天气防范",
    "山洪灾害防御",
    "暑期户外活动安全",
    "“七下八上”防汛关键期",
    "地质灾害汛期巡查",
    "强对流天气防范",
    "秋汛防范",
    "国庆中秋假期安全防范",
    "秋冬季森林草原防火",
    "“11·9”消防宣传月",
    "冬季燃气和取暖安全",
    "寒潮降温天气防范",
    "冬季道路结冰防范",
]
ROLLCALL_TOPICS = [
    "值班值守视频点调",
    "汛期值班值守视频点调",
    "节假日值班值守抽查",
    "森林草原防火视频点调",
    "夜间值班值守抽查",
]
FOLLOW_UPS = [
    "已电话联系值班人员，系视频设备故障，已督促维修",
    "值班人员临时外出，已电话提醒并在全区通报",
    "网络中断，已改用电话点名，值班人员在岗",
    "已约谈值班负责人，落实24小时值班制度",
]


def _at(day: D, rng: random.Random, hours: tuple[int, int]) -> datetime.datetime:
    hour = rng.randint(*hours)
    return datetime.datetime(day.year, day.month, day.day, hour, rng.randrange(60), tzinfo=TZ)


def _days_of(rng: random.Random, year: int, month: int, n: int) -> list[D]:
    last = (D(year + month // 12, month % 12 + 1, 1) - datetime.timedelta(days=1)).day
    return sorted(D(year, month, rng.randint(1, last)) for _ in range(n))


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(TZ).isoformat()


def _regions() -> tuple[list[str], list[str]]:
    towns, villages = [], []
    for r in district.regions():
        if r["level"] == "town":
            towns.append(r["ref"])
        elif r["level"] == "village":
            villages.append(r["ref"])
    return towns, villages


def _acks(
    rng: random.Random, refs: list[str], issued: datetime.datetime, now: datetime.datetime
) -> list[str]:
    """Most units within minutes, some late, a handful never; none after now."""
    out = []
    for ref in refs:
        r = rng.random()
        if r < 0.9:
            delay = rng.randint(40, 360)
        elif r < 0.985:
            delay = rng.randint(360, 1200)
        elif r < 0.9988:
            delay = rng.randint(1200, 7200)  # late: called up the ladder first
        else:
            continue
        moment = issued + datetime.timedelta(seconds=delay)
        if moment < now:
            out.append(f"{ref}@{_iso(moment)}")
    return out


def _warning(rng: random.Random, day: D) -> tuple[str, str, str, datetime.datetime]:
    month = day.month - 1
    kinds = [h for h, spec in HAZARDS.items() if spec[2][month]]
    hazard = rng.choices(kinds, [HAZARDS[h][2][month] for h in kinds])[0]
    name, issuer, _months, weights = HAZARDS[hazard]
    level = rng.choices(list(LEVEL_NAMES), weights)[0]
    issued = _at(day, rng, (6, 22) if rng.random() < 0.9 else (0, 5))
    return hazard, level, f"{issuer}发布{name}{LEVEL_NAMES[level]}预警", issued


def alert_records(seed: int, now: datetime.datetime) -> list[dict]:
    """The `alert` records of 2025 and of the current year issued before today."""
    towns, villages = _regions()
    everyone = sorted(towns + villages)
    today = now.astimezone(TZ).date()
    records = []
    for year in range(2025, today.year + 1):
        rng = random.Random(seed * 7 + year)
        monthly = MONTHLY.get(year, MONTHLY[2026])
        numbers = dict.fromkeys(CODE, 0)
        for kind in CODE:
            for month, n in enumerate(monthly[kind], start=1):
                for day in _days_of(rng, year, month, n):
                    numbers[kind] += 1
                    record = _item(rng, kind, day, numbers[kind], year)
                    issued = datetime.datetime.fromisoformat(record["issued_at"])
                    refs = everyone if kind in ("warning", "bulletin") else towns
                    acks = _acks(rng, refs, issued, now)
                    if day >= today:
                        continue  # the rest of the year has not happened yet
                    record["recipients"] = refs
                    if acks:
                        record["acks"] = acks
                    lifted = record.get("lifted_at")
                    if lifted and datetime.datetime.fromisoformat(lifted) > now:
                        del record["lifted_at"]
                    records.append(record)
    return records


def _item(rng: random.Random, kind: str, day: D, n: int, year: int) -> dict:
    record = {"type": "alert", "ref": f"YJ-{year}-{CODE[kind]}{n:04d}", "kind": kind}
    md = f"{day.month}月{day.day}日"
    if kind == "warning":
        hazard, level, title, issued = _warning(rng, day)
        hours = rng.choice((12, 24, 24, 48))
        record.update(
            issued_at=_iso(issued),
            title=title,
            level=level,
            hazard_type=hazard,
            body=f"{title}。{ADVICE[hazard]}",
            valid_until=_iso(issued + datetime.timedelta(hours=hours)),
        )
        if rng.random() < 0.7:  # lifted before the end of its validity
            lifted = issued + datetime.timedelta(hours=rng.randint(3, hours - 1))
            record["lifted_at"] = _iso(lifted)
    elif kind == "bulletin":
        issued = _at(day, rng, (9, 17))
        # The topic of the season: the list runs from New Year to winter.
        season = (day.timetuple().tm_yday - 1) * len(BULLETIN_TOPICS) // 366
        topic = BULLETIN_TOPICS[season]
        record.update(
            issued_at=_iso(issued),
            title=f"城中区防灾减灾救灾提示信息（{year}年第{n}期）——{topic}",
            hazard_type="other",
            body=f"各镇（街道）、村（社区）：为做好{topic}工作，现将有关事项提示如下，请认真抓好落实。",
            valid_until=_iso(issued + datetime.timedelta(days=7)),
        )
    else:
        title, body = rng.choice(FORWARDS if kind == "weather_forward" else STATIONS)
        hours = (8, 10) if rng.random() < 0.6 else (15, 18)
        issued = _at(day, rng, hours)
        record.update(
            issued_at=_iso(issued),
            title=title.format(md=md),
            body=body,
            public=False,
            valid_until=_iso(
                issued + datetime.timedelta(hours=24 if kind != "station_message" else 12)
            ),
        )
    return record


def rollcall_records(seed: int, now: datetime.datetime, alerts: list[dict]) -> list[dict]:
    """Roll-calls: twice a month (weekly in the flood season) with every town and a rotating
    dozen of villages, and one after each red warning with every town and village."""
    towns, villages = _regions()
    today = now.astimezone(TZ).date()
    records = []
    for year in range(2025, today.year + 1):
        rng = random.Random(seed * 11 + year)
        rotation = 0
        calls: list[tuple[datetime.datetime, list[str], str, str]] = []
        for month in range(1, 13):
            n = 4 if 6 <= month <= 9 else 2
            for day in _days_of(rng, year, month, n):
                held = _at(day, rng, (19, 21))
                chosen = [villages[(rotation + i) % len(villages)] for i in range(12)]
                rotation += 12
                topic = ROLLCALL_TOPICS[1] if 6 <= month <= 9 else rng.choice(ROLLCALL_TOPICS)
                calls.append((held, sorted(towns + chosen), topic, ""))
        for record in alerts:
            if record["kind"] == "warning" and record.get("level") == "red":
                issued = datetime.datetime.fromisoformat(record["issued_at"])
                if issued.year != year:
                    continue
                # Drawn from the warning's own stream, so a new day's warning moves nothing.
                delay = random.Random(f"{seed}-{record['ref']}").randint(30, 60)
                held = issued + datetime.timedelta(minutes=delay)
                name = record["title"].split("发布")[-1]
                calls.append(
                    (held, sorted(towns + villages), f"{name}防御工作视频点调", record["ref"])
                )
        calls.sort()
        for number, (held, targets, topic, alert_ref) in enumerate(calls, start=1):
            if held >= now:
                continue
            answers = random.Random(f"{seed}-{held.isoformat()}")
            record = {
                "type": "rollcall",
                "ref": f"DD-{year}-{number:03d}",
                "held_at": _iso(held),
                "targets": targets,
                "responded": [t for t in targets if answers.random() > 0.025],
                "topic": topic,
            }
            if alert_ref:
                record["alert"] = alert_ref
            records.append(record)
    return records


def records(seed: int, now: datetime.datetime) -> list[dict]:
    alerts = alert_records(seed, now)
    return [*alerts, *rollcall_records(seed, now, alerts)]


# -- units, contacts and templates -----------------------------------------------------------
TEAMS = [
    ("城中区防汛抢险半专业救援队", "南川河"),
    ("城中区森林草原防灭火半专业救援队", "南山"),
    ("城中区城市管理应急抢险队", "城管"),
]
# name, kind, hazard, level, headline, instructions, valid hours, public
TEMPLATES = [
    *[
        (
            f"暴雨{LEVEL_NAMES[level]}预警",
            "warning",
            "rainstorm",
            level,
            f"城中区气象台发布暴雨{LEVEL_NAMES[level]}预警",
            f"预计未来{hours}小时内城中区将出现强降雨，{text}",
            ADVICE["rainstorm"],
            hours,
        )
        for level, hours, text in (
            ("blue", 12, "降雨量将达50毫米以上，或者已达50毫米以上且降雨可能持续。"),
            ("yellow", 6, "降雨量将达50毫米以上，或者已达50毫米以上且降雨可能持续。"),
            ("orange", 3, "降雨量将达50毫米以上，或者已达50毫米以上且降雨可能持续。"),
            ("red", 3, "降雨量将达100毫米以上，或者已达100毫米以上且降雨可能持续。"),
        )
    ],
    (
        "山洪灾害预警",
        "warning",
        "flash_flood",
        "",
        "城中区发布山洪灾害预警",
        "山洪灾害监测站点降雨量已接近或超过预警指标，沟道水位上涨，可能发生山洪灾害。",
        ADVICE["flash_flood"],
        12,
    ),
    (
        "森林草原火险预警",
        "warning",
        "forest_fire",
        "",
        "城中区发布森林草原火险预警",
        "近期气温偏高、降水偏少、风力较大，森林草原火险等级高，极易发生火灾。",
        ADVICE["forest_fire"],
        72,
    ),
    (
        "地质灾害气象风险黄色预警",
        "warning",
        "geological",
        "yellow",
        "西宁市自然资源局发布地质灾害气象风险黄色预警",
        "受持续降雨影响，南山片区发生崩塌、滑坡、泥石流等地质灾害的风险较高。",
        ADVICE["geological"],
        24,
    ),
    (
        "寒潮蓝色预警",
        "warning",
        "cold",
        "blue",
        "城中区气象台发布寒潮蓝色预警",
        "预计48小时内最低气温将下降8℃以上，最低气温小于等于4℃，陆地平均风力可达5级以上。",
        ADVICE["cold"],
        48,
    ),
    (
        "大风蓝色预警",
        "warning",
        "gale",
        "blue",
        "城中区气象台发布大风蓝色预警",
        "预计24小时内可能受大风影响，平均风力可达6级以上，或者阵风7级以上。",
        ADVICE["gale"],
        24,
    ),
    (
        "大风黄色预警",
        "warning",
        "gale",
        "yellow",
        "城中区气象台发布大风黄色预警",
        "预计12小时内可能受大风影响，平均风力可达8级以上，或者阵风9级以上。",
        ADVICE["gale"],
        12,
    ),
    (
        "暴雪黄色预警",
        "warning",
        "snow",
        "yellow",
        "城中区气象台发布暴雪黄色预警",
        "预计12小时内降雪量将达6毫米以上，或者已达6毫米以上且降雪可能持续。",
        ADVICE["snow"],
        12,
    ),
    (
        "冰雹橙色预警",
        "warning",
        "hail",
        "orange",
        "城中区气象台发布冰雹橙色预警",
        "预计6小时内可能出现冰雹天气，并可能造成雹灾。",
        ADVICE["hail"],
        6,
    ),
    (
        "雷电黄色预警",
        "warning",
        "thunder",
        "yellow",
        "城中区气象台发布雷电黄色预警",
        "预计6小时内可能发生雷电活动，可能会造成雷电灾害事故。",
        ADVICE["thunder"],
        6,
    ),
    (
        "沙尘暴黄色预警",
        "warning",
        "dust",
        "yellow",
        "城中区气象台发布沙尘暴黄色预警",
        "预计12小时内可能出现沙尘暴天气，能见度小于1000米。",
        ADVICE["dust"],
        12,
    ),
    (
        "防灾减灾救灾提示信息",
        "bulletin",
        "other",
        "",
        "城中区防灾减灾救灾提示信息",
        "各镇（街道）、村（社区）：现将近期防灾减灾救灾有关事项提示如下，请认真抓好落实。",
        "",
        168,
    ),
]
LIVE_TEMPLATE = "暴雨黄色预警"


def _contacts(rng: random.Random, name: str, ref: str, head: str) -> list[dict]:
    def phone() -> str:
        return "138" + "".join(rng.choice("0123456789") for _ in range(8))

    return [
        {
            "role": "duty",
            "name": f"{name}值班室",
            "phone": phone(),
            "email": f"zb{ref}@example.com",
        },
        {
            "role": "head",
            "name": f"{district._person(rng)}（{head}）",
            "phone": phone(),
            "email": f"head{ref}@example.com",
        },
        {
            "role": "deputy",
            "name": f"{district._person(rng)}（{'副' + head if head != '书记' else '主任'}）",
            "phone": phone(),
            "email": f"deputy{ref}@example.com",
        },
    ]


class Setup:
    """Units, contacts, templates, the live warning and follow-ups; each skipped when done."""

    def __init__(self, *, seed: int, stdout) -> None:
        from django.contrib.auth import get_user_model

        self.seed, self.stdout = seed, stdout
        users = {u.username: u for u in get_user_model().objects.all()}
        self.duty, self.users = users["duty"], users
        self.done: list[str] = []

    def step(self, act) -> None:
        from django.db import transaction

        with transaction.atomic():
            act()

    def units(self) -> None:
        """A unit for every town and village with its ladder of three, and three teams."""
        from yingji.alerts import units as unit_services
        from yingji.alerts.models import Contact, Unit
        from yingji.core import audit
        from yingji.core.models import Region

        rng = random.Random(self.seed + 31)
        regions = list(Region.objects.filter(level__in=("town", "village")).order_by("path"))
        have = {u.region_id: u for u in Unit.objects.filter(region__isnull=False)}
        made = [
            Unit(kind=Unit.Kind.REGION, region=r, name=r.name) for r in regions if r.pk not in have
        ]
        if made:
            Unit.objects.bulk_create(made)
            made = list(Unit.objects.filter(region_id__in=[u.region_id for u in made]))
            audit.append(
                [audit.Change("create", u, None, audit.snapshot(u)) for u in made],
                actor=self.duty,
            )
            have.update({u.region_id: u for u in made})
        staffed = set(Contact.objects.values_list("unit_id", flat=True).distinct())
        officers = {
            u.region.ref: u
            for u in self.users.values()
            if u.region_id
            and u.role
            in (
                "town_officer",
                "village_officer",
            )
        }
        added = 0
        for region in regions:
            unit = have[region.pk]
            contacts = _contacts(
                rng, region.name, region.ref, "主任" if region.level == "town" else "书记"
            )
            if unit.pk in staffed:
                continue
            for contact in contacts:
                user = officers.get(region.ref) if contact["role"] == "duty" else None
                unit_services.add_contact(unit, by=self.duty, user=user, **contact)
                added += 1
        for name, short in TEAMS:
            if Unit.objects.filter(kind=Unit.Kind.TEAM, name=name).exists():
                continue
            unit = unit_services.create_unit(by=self.duty, name=name, kind=Unit.Kind.TEAM)
            for contact in _contacts(rng, name, f"team{TEAMS.index((name, short)) + 1}", "队长"):
                unit_services.add_contact(unit, by=self.duty, **contact)
                added += 1
        if made or added:
            self.done.append(f"{len(made)} units, {added} contacts")

    def templates(self) -> None:
        from yingji.alerts.models import AlertTemplate
        from yingji.core import audit

        known = set(AlertTemplate.objects.values_list("name", flat=True))
        made = 0
        for name, kind, hazard, level, headline, body, instructions, hours in TEMPLATES:
            if name in known:
                continue
            template = AlertTemplate.objects.create(
                name=name,
                kind=kind,
                hazard_type=hazard,
                level=level,
                headline=headline,
                body=body,
                instructions=instructions,
                valid_hours=hours,
            )
            audit.created(template, actor=self.duty)
            made += 1
        if made:
            self.done.append(f"{made} alert templates")

    def live_warning(self) -> None:
        """A rainstorm warning to the demo town issued now: some units have answered, the
        town's and the demo village's own duty phones have not (their officers can)."""
        from yingji.alerts import services
        from yingji.alerts.models import Alert, AlertTemplate, Call
        from yingji.core.models import Region

        template = AlertTemplate.objects.get(name=LIVE_TEMPLATE)
        if Alert.objects.filter(template=template, source=Alert.Source.MANUAL).exists():
            return
        homes = {username: ref for username, _role, _name, _dept, ref in district.USERS}
        keep = {homes["town"], homes["village"]}
        town = Region.objects.get(ref=homes["town"])
        alert = services.from_template(template, by=self.duty, regions=[town])
        alert = services.issue(alert, by=self.duty)
        rng = random.Random(self.seed + 47)
        answered = 0
        for recipient in alert.recipients.select_related("unit__region").order_by("unit__name"):
            if recipient.unit.region and recipient.unit.region.ref in keep:
                continue
            if rng.random() < 0.6:
                call = Call.objects.filter(recipient=recipient).order_by("step", "pk").first()
                if call is not None:
                    services.acknowledge_token(call.token)
                    answered += 1
        self.done.append(f"live warning to {alert.recipients.count()} units ({answered} answered)")

    def live_rollcall(self) -> None:
        """A roll-call of the units the live warning went to; two villages have not answered
        yet, so the missed list has something waiting for a follow-up."""
        from yingji.alerts import rollcalls
        from yingji.alerts.models import Alert, RollCall

        live = Alert.objects.filter(
            template__name=LIVE_TEMPLATE, source=Alert.Source.MANUAL, status="issued"
        ).first()
        if live is None or RollCall.objects.filter(alert=live).exists():
            return
        regions = sorted(
            (
                r.unit.region
                for r in live.recipients.select_related("unit__region")
                if r.unit.region_id
            ),
            key=lambda region: region.path,
        )
        rng = random.Random(self.seed + 59)
        missed = regions[-2:]
        rollcalls.record_rollcall(
            by=self.duty,
            topic=f"{live.headline}防御工作视频点调",
            targets=regions,
            answered={r: district._person(rng) for r in regions if r not in missed},
            remarks={r: "视频未接通，电话无人接听" for r in missed},
            alert=live,
        )
        self.done.append(f"roll-call after the live warning ({len(missed)} missed)")

    def follow_ups(self, now: datetime.datetime) -> None:
        """Missed roll-calls older than three days have been followed up."""
        from yingji.alerts import rollcalls

        rng = random.Random(self.seed + 53)
        waiting = rollcalls.missed(self.duty).filter(
            rollcall__held_at__lt=now - datetime.timedelta(days=3)
        )
        n = 0
        for entry in waiting:
            rollcalls.follow_up(entry, by=self.duty, note=rng.choice(FOLLOW_UPS))
            n += 1
        if n:
            self.done.append(f"{n} missed roll-calls followed up")


def build(*, seed: int, stdout, progress_factory=None) -> None:
    """Units and templates, the year's alerts and roll-calls, then the acts on them."""
    import time

    from django.utils import timezone

    import yingji.alerts.interchange  # noqa: F401  (registers `alert` and `rollcall`)
    from yingji.demo import year

    start = time.perf_counter()
    now = timezone.now()
    setup = Setup(seed=seed, stdout=stdout)
    setup.step(setup.units)
    setup.step(setup.templates)
    year.import_changes(
        records(seed, now), label="alerts", stdout=stdout, progress_factory=progress_factory
    )
    setup.step(lambda: setup.follow_ups(now))
    setup.step(setup.live_warning)
    setup.step(setup.live_rollcall)
    stdout.write(
        f"alerts: {', '.join(setup.done) or 'all in place'} ({time.perf_counter() - start:.1f} s)"
    )

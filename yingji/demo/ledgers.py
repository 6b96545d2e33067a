"""The demo's tips and enforcement ledgers, shaped like the 2025 report (sections 三, 四).

2025: the 12345 hotline forwarded 27 tips, all closed; the reporting platform took 148, of
which 88 were verified true, 19 reporters waived their reward and 21 tips were rewarded with
2,500 yuan in all; 11 penalties came to 92,750 yuan, 8 supervision letters were issued and
104 enterprises were given warning interviews. The current year runs at a similar pace.
"""

import datetime
import random
from collections.abc import Iterator

from yingji.demo import district

D = datetime.date
TIP_TEXTS = [
    "夜间违规动火作业，未见审批和监护人员",
    "消防通道被货物堵塞，安全出口上锁",
    "员工未经培训进入有限空间作业",
    "仓库内违规存放油漆和稀释剂",
    "燃气管道私拉乱接，有异味",
    "粉尘车间除尘器长期不开",
    "加油站卸油时无人监护",
    "工地脚手架无防护网，工人未系安全带",
    "餐馆液化气钢瓶放在后厨门口",
    "KTV包间内堆放易燃装饰材料",
]
REWARDS_PAID = [100] * 15 + [150] * 4 + [200] * 2  # 21 tips, 2,500 yuan
PENALTIES = [5000, 8000, 10000, 12000, 6000, 9000, 7500, 10250, 8000, 9000, 8000]  # 92,750
BASIS = "《中华人民共和国安全生产法》第一百零一条"


def _day(rng: random.Random, year: int, last: D) -> D:
    start = D(year, 1, 1)
    span = (min(last, D(year, 12, 31)) - start).days
    return start + datetime.timedelta(days=rng.randint(0, max(span, 0)))


def _tips(
    rng: random.Random,
    year: int,
    last: D,
    hotline: int,
    platform: int,
    verified: int,
    waived: int,
    paid: list[int],
) -> Iterator[dict]:
    enterprises = [e["ref"] for e in district.enterprises() if "status" not in e]
    for n in range(hotline):
        received = _day(rng, year, last)
        closed = min(received + datetime.timedelta(days=rng.randint(3, 12)), last)
        yield {
            "type": "tip",
            "ref": f"TIP-{year}-H{n + 1:03d}",
            "channel": "hotline_12345",
            "received_on": received.isoformat(),
            "enterprise": rng.choice(enterprises),
            "content": rng.choice(TIP_TEXTS),
            "anonymous": True,
            "status": "closed",
            "verified": rng.random() < 0.6,
            "closed_on": closed.isoformat(),
        }
    channels = ["platform"] * 7 + ["phone"] * 2 + ["letter", "visit"]
    for n in range(platform):
        received = _day(rng, year, last)
        is_true = n < verified
        record = {
            "type": "tip",
            "ref": f"TIP-{year}-P{n + 1:03d}",
            "channel": rng.choice(channels),
            "received_on": received.isoformat(),
            "enterprise": rng.choice(enterprises),
            "content": rng.choice(TIP_TEXTS),
            "anonymous": rng.random() < 0.7,
            "verified": is_true,
        }
        closed = received + datetime.timedelta(days=rng.randint(5, 20))
        if closed <= min(last, D(year, 12, 31)) and n % 37 != 5:
            record.update(status="closed", closed_on=closed.isoformat())
        else:
            record["status"] = "verified" if is_true else "verifying"
        if is_true and n < waived:
            record["reward_status"] = "waived"
        elif is_true and n - waived < len(paid):
            amount = paid[n - waived]
            pay_day = min(received + datetime.timedelta(days=rng.randint(20, 40)), last)
            record.update(
                reward_status="paid",
                reward_amount=f"{amount}.00",
                reward_paid_on=max(pay_day, received).isoformat(),
            )
        yield record


def _enforcement(
    rng: random.Random, year: int, last: D, penalties: list[int], letters: int, interviews: int
) -> Iterator[dict]:
    enterprises = [e["ref"] for e in district.enterprises() if "status" not in e]
    for n, amount in enumerate(penalties, start=1):
        yield {
            "type": "enforcement",
            "ref": f"ENF-{year}-P{n:03d}",
            "kind": "penalty",
            "enterprise": rng.choice(enterprises),
            "date": _day(rng, year, last).isoformat(),
            "amount": f"{amount}.00",
            "basis": BASIS,
            "document_no": f"城应急罚决〔{year}〕{n}号",
        }
    for n in range(1, letters + 1):
        yield {
            "type": "enforcement",
            "ref": f"ENF-{year}-L{n:03d}",
            "kind": "supervision_letter",
            "enterprise": rng.choice(enterprises),
            "date": _day(rng, year, last).isoformat(),
            "basis": "请于十五日内完成隐患整改并书面报告。",
            "document_no": f"城应急督〔{year}〕{n}号",
        }
    # One interview per enterprise interviewed (the report counts enterprises).
    for n, ref in enumerate(rng.sample(enterprises, interviews), start=1):
        yield {
            "type": "enforcement",
            "ref": f"ENF-{year}-V{n:03d}",
            "kind": "interview",
            "enterprise": ref,
            "date": _day(rng, year, last).isoformat(),
            "basis": "约谈企业主要负责人，通报隐患问题，督促落实主体责任",
        }


def records(seed: int, today: D) -> list[dict]:
    rng = random.Random(seed + 5)
    yesterday = today - datetime.timedelta(days=1)
    out = [
        *_tips(rng, 2025, D(2025, 12, 31), 27, 148, 88, 19, REWARDS_PAID),
        *_enforcement(rng, 2025, D(2025, 12, 31), PENALTIES, 8, 104),
    ]
    for year in range(2026, today.year + 1):
        out += [
            *_tips(rng, year, yesterday, 20, 110, 60, 12, [100] * 14),
            *_enforcement(rng, year, yesterday, PENALTIES[:7], 5, 60),
        ]
    return out

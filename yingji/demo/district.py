"""A deterministic demo district, 城中区, written as interchange records.

Going through the importer rather than the ORM keeps the demo honest: it is built by the
same path a bureau's own data takes.
"""

import random
from collections.abc import Iterator

from yingji.lib import uscc

DISTRICT = ("630103", "城中区")
# (name, number of villages/communities, village word)
TOWNS = [
    ("人民街街道", 6, "社区"),
    ("南滩街道", 6, "社区"),
    ("仓门街街道", 5, "社区"),
    ("礼让街街道", 6, "社区"),
    ("饮马街街道", 6, "社区"),
    ("南川东路街道", 7, "社区"),
    ("南川西路街道", 6, "社区"),
    ("总寨镇", 19, "村"),
]
VILLAGE_WORDS = [
    "南关",
    "北关",
    "东川",
    "西台",
    "新华",
    "团结",
    "建设",
    "和平",
    "兴海",
    "水井巷",
    "莫家街",
    "玉井巷",
    "南山",
    "北山",
    "花园",
    "红星",
    "光明",
    "胜利",
    "五一",
    "解放",
    "民主",
    "文化",
    "新民",
    "东岳",
    "塘坝",
    "泉儿湾",
    "杨家寨",
    "总南",
    "总北",
    "谢家寨",
    "王家庄",
    "清河",
    "金十字",
    "逯家寨",
    "上山庄",
    "下山庄",
    "新庄",
    "大寺沟",
    "星家",
    "田家寨",
    "阳光",
    "康乐",
    "南园",
    "安宁",
    "园林",
    "瑞景",
    "南京路",
    "万达",
    "宏觉",
    "七一路",
    "雪峰",
    "城南",
    "水磨",
    "朝阳",
    "长江路",
    "宁湖",
    "德令哈路",
    "山川",
    "泉湾",
    "富民",
    "昆仑",
]
NAME_WORDS = [
    "鑫源",
    "华泰",
    "昆仑",
    "高原",
    "青海湖",
    "雪域",
    "三江",
    "祥和",
    "宏达",
    "恒信",
    "金鼎",
    "瑞丰",
    "兴隆",
    "安泰",
    "天佑",
    "德宝",
    "龙腾",
    "博远",
    "海纳",
    "聚鑫",
    "永盛",
    "汇通",
    "明珠",
    "长城",
    "金诺",
    "润泽",
    "嘉禾",
    "新源",
    "福瑞",
    "泰和",
    "鼎盛",
    "众合",
    "康达",
    "宁远",
    "丰泽",
    "凯旋",
    "东方",
    "柴达木",
    "河湟",
    "西海",
]
SECTORS = [
    # sector, count, trades, features pool
    (
        "hazardous_chemicals",
        10,
        ["化工", "气体", "危险化学品经营"],
        ["hazchem_storage", "hot_work", "confined_space"],
    ),
    ("gas_station", 24, ["加油站", "石化加油站"], ["hazchem_storage"]),
    (
        "industrial_trade",
        196,
        [
            "面粉",
            "家具制造",
            "木业",
            "金属制品",
            "食品加工",
            "包装印刷",
            "冷链仓储",
            "铝业",
            "机械制造",
            "饲料",
        ],
        [
            "dust_explosion",
            "confined_space",
            "ammonia_refrigeration",
            "hot_work",
            "metal_smelting",
            "gas_use",
        ],
    ),
    (
        "crowded_place",
        720,
        ["商贸", "餐饮", "酒店", "超市", "KTV", "影城", "商场", "网吧", "培训学校", "养老院"],
        ["gas_use", "hot_work", "insulation_material"],
    ),
    (
        "construction",
        90,
        ["建筑工程", "建设工程", "装饰工程", "市政工程"],
        ["hot_work", "insulation_material", "confined_space"],
    ),
    (
        "other",
        460,
        ["物业管理", "物流", "汽车维修", "仓储", "洗涤", "印务"],
        ["confined_space", "gas_use", "hot_work"],
    ),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰飞红梅海波"


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))


def _uscc(rng: random.Random, used: set[str]) -> str:
    while True:
        org = "".join(rng.choice(uscc.ALPHABET[:10] + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
        code = uscc.make("91" + DISTRICT[0] + org)
        if code not in used:
            used.add(code)
            return code


def regions() -> Iterator[dict]:
    code, name = DISTRICT
    yield {"type": "region", "ref": code, "name": name, "level": "district", "code": code}
    words = iter(VILLAGE_WORDS)
    for t, (town, n_villages, word) in enumerate(TOWNS, start=1):
        town_ref = f"{code}{t:03d}"
        yield {
            "type": "region",
            "ref": town_ref,
            "name": town,
            "level": "town",
            "parent": code,
            "code": town_ref,
        }
        for v in range(1, n_villages + 1):
            yield {
                "type": "region",
                "ref": f"{town_ref}{v:03d}",
                "name": next(words) + word,
                "level": "village",
                "parent": town_ref,
                "code": f"{town_ref}{v:03d}",
            }


def village_refs() -> list[str]:
    return [r["ref"] for r in regions() if r["level"] == "village"]


def enterprises(seed: int = 2025, scale: float = 1.0) -> Iterator[dict]:
    rng = random.Random(seed)
    villages = village_refs()
    used: set[str] = set()
    names: set[str] = set()
    n = 0
    for sector, count, trades, pool in SECTORS:
        for _ in range(max(1, round(count * scale)) if sector != "hazardous_chemicals" else count):
            n += 1
            village = rng.choice(villages)
            while True:
                name = f"青海{rng.choice(NAME_WORDS)}{rng.choice(trades)}有限公司"
                if name in names:
                    name = f"西宁{rng.choice(NAME_WORDS)}{rng.choice(NAME_WORDS)}{rng.choice(trades)}有限公司"
                if name not in names:
                    names.add(name)
                    break
            k = rng.choice((0, 1, 1, 2)) if sector != "gas_station" else 1
            features = sorted(rng.sample(pool, min(k, len(pool))))
            grade = rng.choices(["red", "orange", "yellow", "blue"], weights=(1, 4, 15, 30))[0]
            if sector == "hazardous_chemicals":
                grade = rng.choice(["red", "orange"])
            record = {
                "type": "enterprise",
                "ref": f"E-{n:05d}",
                "name": name,
                "uscc": _uscc(rng, used),
                "sector": sector,
                "region": village,
                "address": f"城中区{rng.choice(VILLAGE_WORDS)}路{rng.randint(1, 300)}号",
                "risk_grade": grade,
                "standardized": sector == "gas_station" or rng.random() < 0.3,
                "contact_name": _person(rng),
                "contact_phone": _phone(rng),
            }
            if features:
                record["features"] = features
            if rng.random() < 0.02:
                record["status"] = "closed"
            yield record


DEPARTMENTS = [
    ("办公室", "综合协调、文电、财务"),
    ("安全生产综合监督管理股", "工贸、危化、人员密集场所监管"),
    ("应急指挥中心", "值班值守、预警发布、视频点调"),
    ("防灾减灾救灾股", "自然灾害防治、应急预案、救援队伍"),
    ("政策法规股", "合法性审查、普法宣传、政务公开"),
    ("执法大队", "执法检查、隐患整改、举报核查"),
]
DEMO_PASSWORD = "yingji-demo-2025"
# username, role, full name, department index, region ref
USERS = [
    ("leader", "leader", "马局长", 0, None),
    ("inspector", "inspector", "李检查员", 5, None),
    ("inspector2", "inspector", "赵检查员", 1, None),
    ("duty", "duty_officer", "王值班员", 2, None),
    ("legal", "legal", "陈法规员", 4, None),
    ("town", "town_officer", "刘主任(人民街街道)", None, "630103001"),
    ("village", "village_officer", "张书记(南关社区)", None, "630103001001"),
    ("enterprise", "enterprise", "企业安全员", None, None),
    ("expert", "expert", "周专家", None, None),
    ("admin", "admin", "系统管理员", 0, None),
]

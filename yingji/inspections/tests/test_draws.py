"""Double-random draws: frozen inputs, published seed, one run, verifiable by anyone."""

import contextlib
import datetime
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from yingji.core import audit
from yingji.core.models import AuditEntry, Notification
from yingji.core.services import create_user
from yingji.enterprises.models import Enterprise
from yingji.inspections import services
from yingji.inspections.models import Draw, Inspection, InspectorConflict
from yingji.lib import draw as drawlib
from yingji.lib import uscc

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2025, 6, 10, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@contextlib.contextmanager
def refused(exc=ValidationError, match=None):
    """Expect the act to be refused and to leave no row behind."""
    counted = [AuditEntry, Notification, Draw, Inspection]
    before = {m.__name__: m.objects.count() for m in counted}
    with pytest.raises(exc, match=match) as info:
        yield info
    assert {m.__name__: m.objects.count() for m in counted} == before


class Pool:
    """Six more 工贸 enterprises (E-01…E-06) and four more inspectors (insp1…insp4)."""

    def __init__(self, world) -> None:
        self.world = world
        self.enterprises = [
            Enterprise.objects.create(
                ref=f"E-{n:02d}",
                name=f"工贸企业{n}",
                uscc=uscc.make(f"91630103{n + 100:09d}"),
                sector="industrial_trade",
                region=world.village1 if n % 2 else world.village2,
            )
            for n in range(1, 7)
        ]
        self.inspectors = [
            create_user(
                by=None,
                username=f"insp{n}",
                password="x-long-password",
                role="inspector",
                full_name=f"检查员{n}",
            )
            for n in range(1, 5)
        ]

    def prepare(self, by=None, **kw):
        kw.setdefault("title", "2025年第二季度双随机抽查")
        kw.setdefault("year", 2025)
        kw.setdefault("n", 3)
        kw.setdefault("pool", self.inspectors)
        kw.setdefault("sector", "industrial_trade")
        return services.prepare_draw(by=by or self.world.inspector, **kw)

    def published(self, seed="2025-06-10 公证抽签", **kw):
        return services.publish_draw(self.prepare(**kw), by=self.world.inspector, seed=seed)

    def drawn(self, seed="2025-06-10 公证抽签", date=None, **kw):
        return services.execute_draw(self.published(seed, **kw), by=self.world.inspector, date=date)


@pytest.fixture
def pool(world) -> Pool:
    return Pool(world)


INDUSTRIAL = ["E-01", "E-02", "E-03", "E-04", "E-05", "E-06", "E-A"]


# -- prepare ----------------------------------------------------------------------------------
def test_prepare_freezes_candidates_pool_and_conflicts(world, pool):
    insp1, insp2, insp3, insp4 = pool.inspectors
    InspectorConflict.objects.create(inspector=insp2, enterprise=pool.enterprises[2], reason="亲属")
    InspectorConflict.objects.create(inspector=insp2, enterprise=world.ent_a)
    InspectorConflict.objects.create(inspector=insp1, enterprise=world.ent_b)  # not a candidate
    outsider = create_user(by=None, username="insp9", password="x-long-password", role="inspector")
    InspectorConflict.objects.create(inspector=outsider, enterprise=world.ent_a)  # not in the pool
    retired = create_user(by=None, username="insp0", password="x-long-password", role="inspector")
    retired.is_active = False
    retired.save()
    # Anyone but an active inspector in the pool is refused, not silently dropped.
    for stranger in (retired, world.leader, world.expert):
        with refused(match="only hold active inspectors"):
            pool.prepare(pool=[insp1, insp2, stranger])
    draw = pool.prepare(pool=[insp4, insp3, insp2, insp1])
    draw.refresh_from_db()
    assert draw.status == "prepared"
    assert draw.candidates == INDUSTRIAL
    assert draw.pool == ["insp1", "insp2", "insp3", "insp4"]
    assert draw.conflicts == {"insp2": ["E-03", "E-A"]}
    assert draw.criteria == {
        "sector": "industrial_trade",
        "feature": "",
        "risk_grade": "",
        "region": "",
    }
    assert (draw.seed, draw.inputs_digest, draw.result) == ("", "", [])
    assert audit.history(draw).get().action == "create"


def test_the_candidate_filter_narrows_by_area_and_risk(world, pool):
    assert pool.prepare(n=1, region=world.town1).candidates == ["E-01", "E-03", "E-05", "E-A"]
    draw = pool.prepare(n=1, sector="", risk_grade="red")
    assert (draw.candidates, draw.criteria["risk_grade"]) == (["E-B"], "red")
    assert pool.prepare(n=1, region=world.village2).criteria["region"] == "V2"


def test_later_enterprise_changes_do_not_alter_the_frozen_list(world, pool):
    draw = pool.prepare(n=7)
    Enterprise.objects.create(
        ref="E-NEW",
        name="新设工贸企业",
        uscc=uscc.make("91630103000009999"),
        sector="industrial_trade",
        region=world.village1,
    )
    Enterprise.objects.filter(ref="E-01").update(status="closed")
    Enterprise.objects.filter(ref="E-02").update(sector="other")
    InspectorConflict.objects.create(inspector=pool.inspectors[0], enterprise=world.ent_a)
    draw.refresh_from_db()
    assert draw.candidates == INDUSTRIAL
    assert draw.conflicts == {}
    draw = services.publish_draw(draw, by=world.inspector, seed="s")
    assert draw.candidates == INDUSTRIAL


@pytest.mark.parametrize("n", [0, 8])
def test_it_refuses_to_draw_outside_1_to_the_number_of_candidates(pool, n):
    with refused(match="between 1 and 7 enterprises") as info:
        pool.prepare(n=n)
    assert "n" in info.value.message_dict


def test_it_refuses_a_pool_smaller_than_the_inspectors_per_enterprise(world, pool):
    with refused(match="at least 3 active inspectors") as info:
        pool.prepare(pool=pool.inspectors[:2], per_enterprise=3)
    assert "pool" in info.value.message_dict
    with refused(match="only hold active inspectors"):
        pool.prepare(pool=[world.leader, world.duty, pool.inspectors[0]])
    with refused(match="at least 1 active inspectors"):
        pool.prepare(per_enterprise=0)


@pytest.mark.parametrize("who", ["duty", "legal", "town", "ent_a", "expert"])
def test_only_planners_prepare_draws(world, pool, who):
    with refused(PermissionDenied):
        pool.prepare(by=world.users[who])


# -- publish ----------------------------------------------------------------------------------
def test_publishing_fixes_the_seed_and_the_digest(world, pool):
    draw = services.publish_draw(pool.prepare(), by=world.leader, seed="  公证处 2025-06-10  ")
    draw.refresh_from_db()
    assert draw.status == "published"
    assert draw.seed == "公证处 2025-06-10"
    assert draw.published_at == timezone.now()
    expected = drawlib.Inputs(
        seed="公证处 2025-06-10",
        candidates=tuple(INDUSTRIAL),
        pool=("insp1", "insp2", "insp3", "insp4"),
        conflicts={},
        n=3,
        per_enterprise=2,
    )
    assert draw.inputs_digest == expected.digest()
    entry = audit.history(draw).last()
    assert (entry.action, entry.note, entry.actor) == ("update", "inputs published", world.leader)
    assert entry.after["inputs_digest"] == expected.digest()


def test_a_random_seed_is_chosen_when_none_is_given(world, pool):
    a = services.publish_draw(pool.prepare(), by=world.inspector)
    b = services.publish_draw(pool.prepare(), by=world.inspector, seed="   ")
    assert len(a.seed) == 32 and int(a.seed, 16) >= 0
    assert a.seed != b.seed
    assert a.inputs_digest != b.inputs_digest


def test_inputs_cannot_be_published_twice(world, pool):
    draw = pool.published(seed="first")
    with refused(match="already published"):
        services.publish_draw(draw, by=world.inspector, seed="second")
    draw.refresh_from_db()
    assert draw.seed == "first"
    drawn = services.execute_draw(draw, by=world.inspector)
    with refused(match="already published"):
        services.publish_draw(drawn, by=world.leader, seed="third")


@pytest.mark.parametrize("who", ["duty", "ent_a", "expert"])
def test_only_planners_publish_draws(world, pool, who):
    draw = pool.prepare()
    with refused(PermissionDenied):
        services.publish_draw(draw, by=world.users[who], seed="x")
    draw.refresh_from_db()
    assert draw.status == "prepared"


# -- execute ----------------------------------------------------------------------------------
def test_execute_plans_one_double_random_inspection_per_drawn_enterprise(world, pool):
    draw = pool.published(n=4)
    expected = drawlib.run(draw.inputs())  # anyone can compute this from the published inputs
    day = datetime.date(2025, 6, 20)
    draw = services.execute_draw(draw, by=world.leader, date=day)
    draw.refresh_from_db()
    assert (draw.status, draw.drawn_at) == ("drawn", timezone.now())
    assert draw.result == [[ref, users] for ref, users in expected]
    inspections = Inspection.objects.filter(draw=draw)
    assert inspections.count() == 4
    for ref, usernames in expected:
        insp = inspections.get(enterprise__ref=ref)
        assert (insp.mode, insp.status, insp.date, insp.created_by) == (
            "double_random",
            "planned",
            day,
            world.leader,
        )
        assert sorted(u.username for u in insp.inspectors.all()) == usernames
        assert insp.inspector_names == "、".join(f"检查员{u[-1]}" for u in usernames)
        assert [(e.action, e.note) for e in audit.history(insp)] == [("create", "draw")]
    notes = [(e.action, e.note) for e in audit.history(draw)]
    assert notes == [("create", ""), ("update", "inputs published"), ("update", "drawn")]


def test_drawn_visits_are_dated_today_unless_told(world, pool):
    draw = pool.drawn()
    assert {i.date for i in Inspection.objects.filter(draw=draw)} == {TODAY}


def test_drawn_visits_use_the_enterprises_current_checklist_like_any_other(world, pool):
    checklist = services.save_checklist(
        by=world.inspector,
        name="工贸企业检查表",
        items=[{"code": "1.1", "text": "安全生产责任制"}],
        sector="industrial_trade",
    )
    draw = pool.drawn(n=7)
    insp = Inspection.objects.get(draw=draw, enterprise=world.ent_a)
    assert insp.checklist == checklist
    # …so the drawn inspectors can fill it in.
    inspector = insp.inspectors.first()
    services.start_inspection(insp, by=inspector)
    services.record_answers(insp, by=inspector, answers={"1.1": "ok"})


def test_each_drawn_enterprise_gets_distinct_inspectors_spread_over_the_pool(world, pool):
    draw = pool.drawn(n=6, per_enterprise=2)
    load = {}
    for _ref, usernames in draw.result:
        assert len(set(usernames)) == 2
        for u in usernames:
            load[u] = load.get(u, 0) + 1
    assert sorted(load.values()) == [3, 3, 3, 3]  # 12 places over 4 inspectors


@pytest.mark.parametrize("seed", [f"seed-{i}" for i in range(12)])
def test_it_never_draws_an_inspector_for_an_enterprise_they_conflict_with(world, pool, seed):
    insp1, insp2, insp3, insp4 = pool.inspectors
    # Three of the four inspectors conflict with most candidates, so few choices are left.
    banned = {insp1: INDUSTRIAL[:5], insp2: INDUSTRIAL[2:], insp3: INDUSTRIAL[::2]}
    for inspector, refs in banned.items():
        for ref in refs:
            InspectorConflict.objects.create(
                inspector=inspector, enterprise=Enterprise.objects.get(ref=ref)
            )
    draw = pool.drawn(seed=seed, n=7, per_enterprise=1)
    for insp in Inspection.objects.filter(draw=draw).prefetch_related("inspectors"):
        for inspector in insp.inspectors.all():
            assert not InspectorConflict.objects.filter(
                inspector=inspector, enterprise=insp.enterprise
            ).exists(), f"{inspector} drawn for {insp.enterprise.ref}"


def test_it_refuses_to_draw_when_conflicts_leave_too_few_inspectors(world, pool):
    for inspector in pool.inspectors[:3]:
        InspectorConflict.objects.create(inspector=inspector, enterprise=world.ent_a)
    draw = pool.published(n=7)
    with refused(match="too few inspectors without a conflict for E-A"):
        services.execute_draw(draw, by=world.inspector)
    draw.refresh_from_db()
    assert (draw.status, draw.result) == ("published", [])


def test_a_conflict_declared_after_the_inputs_were_frozen_is_still_respected(world, pool):
    # One candidate and two inspectors per enterprise out of two: both are always drawn.
    draw = pool.published(n=1, sector="", risk_grade="red", pool=pool.inspectors[:2])
    InspectorConflict.objects.create(
        inspector=pool.inspectors[0], enterprise=world.ent_b, reason="配偶在该企业任职"
    )
    # The published inputs can no longer be drawn without breaking the conflict: a redraw
    # (with a reason) is the way forward, never an assignment the rule forbids.
    with refused(match="conflict"):
        services.execute_draw(draw, by=world.inspector)
    assert not Inspection.objects.filter(inspectors=pool.inspectors[0], enterprise=world.ent_b)


def test_a_draw_cannot_be_executed_twice(world, pool):
    draw = pool.drawn()
    with refused(match="only once"):
        services.execute_draw(draw, by=world.inspector)
    assert Inspection.objects.filter(draw=draw).count() == 3


def test_a_draw_cannot_be_executed_before_its_inputs_are_published(world, pool):
    draw = pool.prepare()
    with refused(match="Only a draw with published inputs can be drawn"):
        services.execute_draw(draw, by=world.inspector)


def test_it_refuses_to_draw_from_inputs_changed_after_publication(world, pool):
    draw = pool.published()
    Draw.objects.filter(pk=draw.pk).update(candidates=["E-01", "E-02", "E-03"])
    with refused(match="no longer match what was published"):
        services.execute_draw(draw, by=world.inspector)


@pytest.mark.parametrize("who", ["duty", "ent_a", "expert"])
def test_only_planners_execute_draws(world, pool, who):
    draw = pool.published()
    with refused(PermissionDenied):
        services.execute_draw(draw, by=world.users[who])


# -- verify -----------------------------------------------------------------------------------
def test_a_drawn_draw_verifies(pool):
    assert services.verify_draw(pool.drawn()) == (True, "ok")


def test_the_same_inputs_always_draw_the_same_result(world, pool):
    a, b = pool.drawn(seed="same"), pool.drawn(seed="same")
    assert a.result == b.result
    assert pool.drawn(seed="other", n=7).result != pool.drawn(seed="same", n=7).result


def test_verify_says_when_a_draw_is_not_drawn_yet(pool):
    assert services.verify_draw(pool.prepare()) == (False, "not drawn")
    assert services.verify_draw(pool.published()) == (False, "not drawn")


def test_verify_notices_a_changed_result(pool):
    draw = pool.drawn()
    result = [list(pair) for pair in draw.result]
    result[0][0] = next(ref for ref in INDUSTRIAL if ref not in {r for r, _ in result})
    Draw.objects.filter(pk=draw.pk).update(result=result)
    draw.refresh_from_db()
    assert services.verify_draw(draw) == (False, "result differs from the recomputation")


def test_verify_notices_changed_inputs(pool):
    draw = pool.drawn()
    Draw.objects.filter(pk=draw.pk).update(candidates=draw.candidates[:-1])
    draw.refresh_from_db()
    assert services.verify_draw(draw) == (False, "inputs changed since publication")


# -- redraw -----------------------------------------------------------------------------------
def test_a_redraw_needs_a_reason(world, pool):
    first = pool.drawn()
    for reason in ["", "   "]:
        with refused(match="A redraw needs a reason") as info:
            pool.prepare(replaces=first, reason=reason)
        assert "reason" in info.value.message_dict


def test_a_redraw_records_what_it_replaces_and_why(world, pool):
    first = pool.drawn()
    again = pool.prepare(replaces=first, reason="抽中企业已停产")
    again.refresh_from_db()
    assert (again.replaces, again.reason) == (first, "抽中企业已停产")
    assert list(first.redraws.all()) == [again]
    assert audit.history(again).get().after["replaces_id"] == first.pk
    again = services.execute_draw(
        services.publish_draw(again, by=world.inspector), by=world.inspector
    )
    assert services.verify_draw(again) == (True, "ok")
    assert services.verify_draw(first) == (True, "ok")

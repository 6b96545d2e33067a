"""Business acts of inspections: plans, campaigns, checklists, draws and the visit itself."""

import datetime
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yingji.core import audit
from yingji.core.numbering import issue_number
from yingji.core.roles import Role
from yingji.enterprises.models import Enterprise, Feature, RiskGrade, Sector
from yingji.inspections.models import (
    Campaign,
    ChecklistTemplate,
    ChecklistVersion,
    Draw,
    Inspection,
    InspectorConflict,
    Mode,
    Plan,
    PlanTarget,
)
from yingji.lib import draw as drawlib

PLANNERS = {Role.LEADER, Role.INSPECTOR, Role.ADMIN}


def _require(user, roles) -> None:
    if not user.is_active or user.role not in roles:
        raise PermissionDenied


def _save_new(obj, by):
    obj.full_clean()
    obj.save()
    audit.created(obj, actor=by)
    return obj


# -- plans and campaigns ----------------------------------------------------------------------
@transaction.atomic
def create_plan(*, by, year: int, title: str, note: str = "") -> Plan:
    """Start the year's inspection plan."""
    _require(by, PLANNERS)
    return _save_new(Plan(year=year, title=title, note=note, created_by=by), by)


@transaction.atomic
def add_target(
    plan: Plan, *, by, title: str, times: int, sector: str = "", feature: str = "", region=None
) -> PlanTarget:
    _require(by, PLANNERS)
    if plan.status == Plan.Status.PUBLISHED and by.role != Role.LEADER:
        raise ValidationError({"plan": _("Only a leader may change a published plan.")})
    target = PlanTarget(
        plan=plan, title=title, times=times, sector=sector, feature=feature, region=region
    )
    return _save_new(target, by)


@transaction.atomic
def publish_plan(plan: Plan, *, by) -> Plan:
    """A leader publishes the plan; its targets then count progress."""
    _require(by, {Role.LEADER})
    if not plan.targets.exists():
        raise ValidationError(_("A plan needs at least one target before it is published."))
    with audit.tracking(plan, actor=by):
        plan.status, plan.published_at = Plan.Status.PUBLISHED, timezone.now()
        plan.save(update_fields=["status", "published_at"])
    return plan


@transaction.atomic
def create_campaign(
    *,
    by,
    title: str,
    start,
    end,
    sector: str = "",
    feature: str = "",
    region=None,
    description: str = "",
) -> Campaign:
    """Open a special campaign (专项行动) with its scope and period."""
    _require(by, PLANNERS)
    campaign = Campaign(
        title=title,
        start=start,
        end=end,
        sector=sector,
        feature=feature,
        region=region,
        description=description,
        created_by=by,
    )
    return _save_new(campaign, by)


# -- checklists --------------------------------------------------------------------------------
def _clean_items(items) -> list[dict]:
    if not isinstance(items, list) or not items:
        raise ValidationError({"items": _("A checklist needs at least one item.")})
    cleaned, codes = [], set()
    for i, item in enumerate(items, start=1):
        text = str(item.get("text", "")).strip() if isinstance(item, dict) else ""
        code = str(item.get("code", i)).strip() if isinstance(item, dict) else ""
        if not text:
            raise ValidationError({"items": _("Item %(n)d has no text.") % {"n": i}})
        if code in codes:
            raise ValidationError({"items": _("Item code %(c)s appears twice.") % {"c": code}})
        codes.add(code)
        cleaned.append({"code": code, "text": text, "basis": str(item.get("basis", "")).strip()})
    return cleaned


@transaction.atomic
def save_checklist(
    *,
    by,
    name: str,
    items,
    sector: str = "",
    feature: str = "",
    template: ChecklistTemplate | None = None,
) -> ChecklistVersion:
    """Create a checklist or add a new version; earlier inspections keep their version."""
    _require(by, PLANNERS)
    items = _clean_items(items)
    if template is None:
        template = _save_new(ChecklistTemplate(name=name, sector=sector, feature=feature), by)
    current = template.current()
    version = ChecklistVersion(
        template=template,
        items=items,
        created_by=by,
        version=(current.version + 1) if current else 1,
    )
    return _save_new(version, by)


# -- double-random draws -----------------------------------------------------------------------
@transaction.atomic
def prepare_draw(
    *,
    by,
    title: str,
    year: int,
    n: int,
    pool,
    per_enterprise: int = 2,
    sector: str = "",
    feature: str = "",
    region=None,
    risk_grade: str = "",
    replaces: Draw | None = None,
    reason: str = "",
) -> Draw:
    """Freeze the candidate list, the inspector pool and their conflicts."""
    _require(by, PLANNERS)
    if replaces is not None and not reason.strip():
        raise ValidationError({"reason": _("A redraw needs a reason.")})
    qs = Enterprise.objects.search(
        sector=sector, feature=feature, risk_grade=risk_grade, region=region, status="active"
    )
    candidates = sorted(qs.values_list("ref", flat=True))
    inspectors = list(
        get_user_model().objects.filter(
            pk__in=[u.pk for u in pool], role=Role.INSPECTOR, is_active=True
        )
    )
    if len(inspectors) != len({u.pk for u in pool}):
        raise ValidationError({"pool": _("The pool may only hold active inspectors.")})
    allowed = {"sector": Sector.values, "feature": Feature.values, "risk_grade": RiskGrade.values}
    given = {"sector": sector, "feature": feature, "risk_grade": risk_grade}
    bad = {k: v for k, v in given.items() if v and v not in allowed[k]}
    if bad:
        raise ValidationError({k: _("Unknown value “%(v)s”.") % {"v": v} for k, v in bad.items()})
    usernames = sorted(u.username for u in inspectors)
    conflicts: dict[str, list[str]] = {}
    # Conflicts are few; the candidates may be tens of thousands (too many SQL parameters).
    in_scope = set(candidates)
    for username, ref in InspectorConflict.objects.filter(inspector__in=inspectors).values_list(
        "inspector__username", "enterprise__ref"
    ):
        if ref in in_scope:
            conflicts.setdefault(username, []).append(ref)
    draw = Draw(
        title=title,
        year=year,
        n=n,
        per_enterprise=per_enterprise,
        criteria={
            "sector": sector,
            "feature": feature,
            "risk_grade": risk_grade,
            "region": region.ref if region else "",
        },
        candidates=candidates,
        pool=usernames,
        conflicts={k: sorted(v) for k, v in conflicts.items()},
        replaces=replaces,
        reason=reason,
        created_by=by,
    )
    errors = {}
    if n < 1 or n > len(candidates):
        errors["n"] = _("Choose between 1 and %(max)d enterprises (the candidates).") % {
            "max": len(candidates)
        }
    if per_enterprise < 1 or per_enterprise > len(usernames):
        errors["pool"] = _("The pool needs at least %(n)d active inspectors.") % {
            "n": max(per_enterprise, 1)
        }
    if errors:
        raise ValidationError(errors)
    return _save_new(draw, by)


@transaction.atomic
def publish_draw(draw: Draw, *, by, seed: str = "") -> Draw:
    """Fix the seed and publish the inputs; from now on they cannot change."""
    _require(by, PLANNERS)
    draw = Draw.objects.select_for_update().get(pk=draw.pk)
    if draw.status != Draw.Status.PREPARED:
        raise ValidationError(_("This draw's inputs are already published."))
    with audit.tracking(draw, actor=by, note="inputs published"):
        draw.seed = seed.strip() or secrets.token_hex(16)
        draw.inputs_digest = draw.inputs().digest()
        draw.published_at = timezone.now()
        draw.status = Draw.Status.PUBLISHED
        draw.save(update_fields=["seed", "inputs_digest", "published_at", "status"])
    return draw


@transaction.atomic
def execute_draw(draw: Draw, *, by, date: datetime.date | None = None) -> Draw:
    """Run the published draw once and plan one inspection per drawn enterprise."""
    _require(by, PLANNERS)
    draw = Draw.objects.select_for_update().get(pk=draw.pk)
    if draw.status != Draw.Status.PUBLISHED:
        raise ValidationError(_("Only a draw with published inputs can be drawn, and only once."))
    if draw.inputs().digest() != draw.inputs_digest:
        raise ValidationError(_("The draw's inputs no longer match what was published."))
    candidates = set(draw.candidates)
    declared = {
        (u, ref)
        for u, ref in InspectorConflict.objects.filter(
            inspector__username__in=draw.pool
        ).values_list("inspector__username", "enterprise__ref")
        if ref in candidates
    }
    frozen = {(u, ref) for u, refs in draw.conflicts.items() for ref in refs}
    if declared - frozen:
        # The frozen inputs stay as published (so they can be verified); a redraw takes the
        # new conflict in.
        raise ValidationError(
            _(
                "A conflict of interest was declared after the inputs were published; "
                "prepare a redraw with that reason."
            )
        )
    try:
        result = drawlib.run(draw.inputs())
    except drawlib.DrawError as exc:
        raise ValidationError(str(exc)) from exc
    users = {u.username: u for u in get_user_model().objects.filter(username__in=draw.pool)}
    enterprises = {e.ref: e for e in Enterprise.objects.filter(ref__in=[r for r, _ in result])}
    day = date or timezone.localdate()
    for ref, usernames in result:
        insp = Inspection.objects.create(
            enterprise=enterprises[ref],
            date=day,
            mode=Mode.DOUBLE_RANDOM,
            draw=draw,
            created_by=by,
            checklist=default_checklist(enterprises[ref]),
            inspector_names="、".join(users[u].full_name or u for u in usernames),
        )
        insp.inspectors.set([users[u] for u in usernames])
        audit.created(insp, actor=by, note="draw")
    with audit.tracking(draw, actor=by, note="drawn"):
        draw.result = [[ref, usernames] for ref, usernames in result]
        draw.status, draw.drawn_at = Draw.Status.DRAWN, timezone.now()
        draw.save(update_fields=["result", "status", "drawn_at"])
    return draw


def verify_draw(draw: Draw) -> tuple[bool, str]:
    """Recompute a drawn draw from its published inputs; say whether it matches."""
    if draw.status != Draw.Status.DRAWN:
        return False, "not drawn"
    if draw.inputs().digest() != draw.inputs_digest:
        return False, "inputs changed since publication"
    try:
        again = [[ref, users] for ref, users in drawlib.run(draw.inputs())]
    except drawlib.DrawError as exc:
        return False, f"the inputs cannot be drawn: {exc}"
    if again != draw.result:
        return False, "result differs from the recomputation"
    return True, "ok"


# -- the inspection itself ---------------------------------------------------------------------
def _is_inspector_of(insp: Inspection, user) -> bool:
    if user.role in (Role.LEADER, Role.ADMIN):
        return True
    if insp.self_inspection:
        return user.role == Role.ENTERPRISE and insp.enterprise.accounts.filter(user=user).exists()
    return insp.inspectors.filter(pk=user.pk).exists() or (
        user.role == Role.EXPERT and insp.experts.filter(pk=user.pk).exists()
    )


@transaction.atomic
def schedule_inspection(
    *,
    by,
    enterprise: Enterprise,
    date,
    mode: str = Mode.ROUTINE,
    inspectors=(),
    experts=(),
    plan=None,
    campaign=None,
    checklist=None,
    onsite: bool = True,
    ledger: bool = False,
) -> Inspection:
    """Plan a visit (from the plan, a campaign, a tip or on the spot)."""
    _require(by, PLANNERS)
    inspectors = list(inspectors) or ([by] if by.role == Role.INSPECTOR else [])
    if not inspectors:
        raise ValidationError({"inspectors": _("Name at least one inspector.")})
    if any(u.role not in (Role.INSPECTOR, Role.LEADER) for u in inspectors):
        raise ValidationError({"inspectors": _("Only inspectors and leaders can inspect.")})
    if any(u.role != Role.EXPERT for u in experts):
        raise ValidationError({"experts": _("Only experts can be invited as experts.")})
    if not (onsite or ledger):
        raise ValidationError({"onsite": _("Choose at least one method.")})
    if mode == Mode.CAMPAIGN and campaign is None:
        raise ValidationError({"campaign": _("Choose the campaign.")})
    if checklist is None:
        checklist = default_checklist(enterprise)
    insp = Inspection(
        enterprise=enterprise,
        date=date,
        mode=mode,
        plan=plan,
        campaign=campaign,
        checklist=checklist,
        onsite=onsite,
        ledger=ledger,
        created_by=by,
        inspector_names="、".join(u.full_name or u.username for u in inspectors),
    )
    insp.full_clean()
    insp.save()
    insp.inspectors.set(inspectors)
    insp.experts.set(list(experts))
    audit.created(insp, actor=by)
    return insp


def default_checklist(enterprise: Enterprise) -> ChecklistVersion | None:
    """The current version of the most specific checklist for an enterprise."""
    templates = ChecklistTemplate.objects.filter(sector__in=["", enterprise.sector])
    best = None
    for t in templates:
        score = (t.sector == enterprise.sector) * 2 + (
            bool(t.feature) and t.feature in enterprise.feature_list
        )
        if t.feature and t.feature not in enterprise.feature_list:
            continue
        if best is None or score > best[0]:
            best = (score, t)
    return best[1].current() if best else None


@transaction.atomic
def start_self_inspection(*, by, checklist: ChecklistVersion | None = None) -> Inspection:
    """An enterprise checks itself with the same checklists (企业自查)."""
    if by.role != Role.ENTERPRISE or not hasattr(by, "enterprise_account"):
        raise PermissionDenied
    enterprise = by.enterprise_account.enterprise
    insp = Inspection(
        enterprise=enterprise,
        date=timezone.localdate(),
        self_inspection=True,
        status=Inspection.Status.IN_PROGRESS,
        created_by=by,
        checklist=checklist or default_checklist(enterprise),
        inspector_names=by.full_name or by.username,
    )
    insp.full_clean()
    insp.save()
    audit.created(insp, actor=by, note="self-inspection")
    return insp


@transaction.atomic
def start_inspection(insp: Inspection, *, by) -> Inspection:
    if not _is_inspector_of(insp, by):
        raise PermissionDenied
    if insp.status != Inspection.Status.PLANNED:
        raise ValidationError(_("Only a planned inspection can be started."))
    with audit.tracking(insp, actor=by):
        insp.status = Inspection.Status.IN_PROGRESS
        insp.save(update_fields=["status"])
    return insp


ANSWERS = {"ok", "hazard", "na"}


@transaction.atomic
def record_answers(
    insp: Inspection,
    *,
    by,
    answers: dict,
    summary: str | None = None,
    onsite: bool | None = None,
    ledger: bool | None = None,
) -> Inspection:
    """Save the checklist answers (符合 / 有隐患 / 不适用) as the visit goes."""
    if not _is_inspector_of(insp, by):
        raise PermissionDenied
    if insp.status != Inspection.Status.IN_PROGRESS:
        raise ValidationError(_("Answers can only be recorded while the inspection is under way."))
    codes = {item["code"] for item in insp.checklist.items} if insp.checklist else set()
    bad = [k for k, v in answers.items() if k not in codes or v not in ANSWERS]
    if bad:
        raise ValidationError(
            {
                "answers": _("Unknown checklist item or answer: %(x)s")
                % {"x": ", ".join(sorted(bad))}
            }
        )
    if not (
        (insp.onsite if onsite is None else onsite) or (insp.ledger if ledger is None else ledger)
    ):
        raise ValidationError({"onsite": _("Choose at least one method.")})
    with audit.tracking(insp, actor=by):
        insp.answers = {**insp.answers, **answers}
        if summary is not None:
            insp.summary = summary
        if onsite is not None:
            insp.onsite = onsite
        if ledger is not None:
            insp.ledger = ledger
        insp.save(update_fields=["answers", "summary", "onsite", "ledger"])
    return insp


@transaction.atomic
def complete_inspection(insp: Inspection, *, by) -> Inspection:
    """Sign the on-site record (现场检查记录): it gets its number and the visit counts."""
    if not _is_inspector_of(insp, by):
        raise PermissionDenied
    if insp.status != Inspection.Status.IN_PROGRESS:
        raise ValidationError(_("Only an inspection under way can be completed."))
    if insp.checklist:
        missing = [i["code"] for i in insp.checklist.items if i["code"] not in insp.answers]
        if missing:
            raise ValidationError(
                {
                    "answers": _("Answer every checklist item first (missing: %(codes)s).")
                    % {"codes": ", ".join(missing)}
                }
            )
    with audit.tracking(insp, actor=by):
        if not insp.self_inspection:
            insp.record_no = issue_number(
                "inspection_record", insp.date.year, by=by, subject=insp.enterprise.name
            ).text
        insp.status = Inspection.Status.COMPLETED
        insp.completed_at = timezone.now()
        insp.save(update_fields=["record_no", "status", "completed_at"])
    return insp

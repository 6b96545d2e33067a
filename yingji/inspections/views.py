from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from yingji.core import ledger
from yingji.core.access import capability_required, get_visible
from yingji.core.actions import perform
from yingji.core.ledger import docx_response
from yingji.core.views import history_context
from yingji.enterprises.models import Enterprise
from yingji.inspections import ledgers, services
from yingji.inspections.forms import (
    AnswersForm,
    CampaignForm,
    ChecklistForm,
    DrawForm,
    InspectionFilterForm,
    PlanForm,
    ScheduleForm,
    TargetForm,
)
from yingji.inspections.models import (
    Campaign,
    ChecklistTemplate,
    ChecklistVersion,
    Draw,
    Inspection,
    Plan,
)

PAGE_SIZE = 25


def _post(request) -> bool:
    return request.method == "POST"


# -- inspections -------------------------------------------------------------------------------
def _inspections(request):
    form = InspectionFilterForm(request.GET or None)
    qs = Inspection.objects.visible_to(request.user).select_related("enterprise__region__parent")
    if request.GET:
        qs = form.filter(qs)
    return form, qs.order_by("-date", "-pk")


@capability_required("inspection.view")
def inspection_list(request: HttpRequest) -> HttpResponse:
    form, qs = _inspections(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "inspections/list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@capability_required("inspection.view")
def inspection_ledger(request: HttpRequest) -> HttpResponse:
    """The inspection ledger (检查台账) of the filtered list."""
    _form, qs = _inspections(request)
    return ledger.sheet_response(ledgers.sheet(qs))


@capability_required("inspection.plan")
def inspection_new(request: HttpRequest) -> HttpResponse:
    initial = {}
    if ent_ref := request.GET.get("enterprise"):
        initial["enterprise"] = ent_ref
    form = ScheduleForm(request.POST or None, initial=initial)
    if _post(request) and form.is_valid():
        d = form.cleaned_data
        insp = perform(
            request,
            lambda: services.schedule_inspection(
                by=request.user,
                enterprise=d["enterprise"],
                date=d["date"],
                mode=d["mode"],
                inspectors=list(d["inspectors"]),
                experts=list(d["experts"]),
                plan=d["plan"],
                campaign=d["campaign"],
                checklist=d["checklist"],
                onsite=d["onsite"],
                ledger=d["ledger"],
            ),
            form=form,
            success=_("Inspection planned."),
        )
        if insp:
            return redirect(insp)
    return render(
        request, "inspections/form.html", {"form": form, "title": _("Plan an inspection")}
    )


@capability_required("inspection.self")
def self_inspection_new(request: HttpRequest) -> HttpResponse:
    if _post(request):
        insp = perform(
            request,
            lambda: services.start_self_inspection(by=request.user),
            success=_("Self-inspection started."),
        )
        if insp:
            return redirect(insp)
    return redirect("inspections-list")


# Domain apps that build on inspections (hazards) add panels to the inspection page:
# callables (request, inspection) → (template, context) or None.
DETAIL_PANELS: list = []


@capability_required("inspection.view")
def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    insp = get_visible(
        Inspection.objects.select_related(
            "enterprise__region__parent", "checklist__template", "plan", "campaign", "draw"
        ).prefetch_related("inspectors", "experts"),
        request.user,
        pk=pk,
    )
    can_conduct = services._is_inspector_of(insp, request.user)
    answers = AnswersForm(request.POST if "answers" in request.POST else None, inspection=insp)
    # Panels (findings, orders) post to their own views and may re-render this page.
    if _post(request) and {"start", "answers", "complete"} & set(request.POST):
        if not can_conduct:
            raise PermissionDenied
        if _inspection_action(request, insp, answers):
            return redirect(insp)
    items = [
        {**item, "answer": insp.answers.get(item["code"]), "field": answers[f"item_{item['code']}"]}
        for item in (insp.checklist.items if insp.checklist else [])
    ]
    panels = [p for p in (panel(request, insp) for panel in DETAIL_PANELS) if p is not None]
    return render(
        request,
        "inspections/detail.html",
        {
            "insp": insp,
            "items": items,
            "answers_form": answers,
            "can_conduct": can_conduct,
            "panels": panels,
            "history": history_context(insp),
        },
    )


def _inspection_action(request, insp, answers):
    user, post = request.user, request.POST
    if "start" in post:
        return perform(
            request,
            lambda: services.start_inspection(insp, by=user),
            success=_("Inspection started."),
        )
    if "answers" in post and answers.is_valid():
        d = answers.cleaned_data
        return perform(
            request,
            lambda: services.record_answers(
                insp,
                by=user,
                answers=answers.answers(),
                summary=d["summary"],
                onsite=d["onsite"],
                ledger=d["ledger"],
            ),
            form=answers,
            success=_("Saved."),
        )
    if "complete" in post:
        return perform(
            request,
            lambda: services.complete_inspection(insp, by=user),
            success=_("Inspection completed and its record numbered."),
        )
    return None


@capability_required("inspection.view")
def inspection_record_docx(request: HttpRequest, pk: int) -> HttpResponse:
    from yingji.inspections.documents import render_inspection_record

    insp = get_visible(Inspection.objects.select_related("enterprise"), request.user, pk=pk)
    if insp.status != Inspection.Status.COMPLETED or not insp.record_no:
        raise PermissionDenied
    return docx_response(render_inspection_record(insp), f"现场检查记录-{insp.record_no}.docx")


# -- plans, campaigns, checklists --------------------------------------------------------------
@capability_required("plan.view")
def plan_list(request: HttpRequest) -> HttpResponse:
    form = PlanForm(request.POST or None)
    if _post(request):
        if not request.user.can("inspection.plan"):
            raise PermissionDenied
        if form.is_valid():
            plan = perform(
                request,
                lambda: services.create_plan(by=request.user, **form.cleaned_data),
                form=form,
            )
            if plan:
                return redirect(plan)
    plans = Plan.objects.prefetch_related("targets")
    campaigns = Campaign.objects.select_related("region")
    return render(
        request, "inspections/plans.html", {"plans": plans, "campaigns": campaigns, "form": form}
    )


@capability_required("plan.view")
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=pk)
    form = TargetForm(request.POST if _post(request) and "target" in request.POST else None)
    if _post(request):
        if not request.user.can("inspection.plan"):
            raise PermissionDenied
        if "publish" in request.POST:
            perform(
                request,
                lambda: services.publish_plan(plan, by=request.user),
                success=_("Plan published."),
            )
            return redirect(plan)
        if form.is_valid() and perform(
            request,
            lambda: services.add_target(plan, by=request.user, **form.cleaned_data),
            form=form,
        ):
            return redirect(plan)
    targets = [(t, t.progress()) for t in plan.targets.select_related("region", "plan")]
    return render(
        request,
        "inspections/plan.html",
        {"plan": plan, "targets": targets, "form": form, "history": history_context(plan)},
    )


@capability_required("plan.view")
def campaign_new(request: HttpRequest) -> HttpResponse:
    if not request.user.can("inspection.plan"):
        raise PermissionDenied
    form = CampaignForm(request.POST or None)
    if _post(request) and form.is_valid():
        campaign = perform(
            request,
            lambda: services.create_campaign(by=request.user, **form.cleaned_data),
            form=form,
            success=_("Campaign opened."),
        )
        if campaign:
            return redirect(campaign)
    return render(request, "inspections/form.html", {"form": form, "title": _("Open a campaign")})


@capability_required("plan.view")
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("region"), pk=pk)
    recent = (
        Inspection.objects.visible_to(request.user)
        .filter(campaign=campaign)
        .select_related("enterprise")
        .order_by("-date")[:50]
    )
    return render(
        request,
        "inspections/campaign.html",
        {"campaign": campaign, "progress": campaign.progress(), "recent": recent},
    )


@capability_required("plan.view")
def checklist_list(request: HttpRequest) -> HttpResponse:
    form = ChecklistForm(request.POST or None)
    if _post(request):
        if not request.user.can("inspection.plan"):
            raise PermissionDenied
        template = None
        if tid := request.POST.get("template"):
            template = get_object_or_404(ChecklistTemplate, pk=tid)
        if form.is_valid() and perform(
            request,
            lambda: services.save_checklist(
                by=request.user, template=template, **form.cleaned_data
            ),
            form=form,
            success=_("Checklist saved."),
        ):
            return redirect("inspections-checklists")
    templates = ChecklistTemplate.objects.prefetch_related(
        Prefetch("versions", queryset=ChecklistVersion.objects.order_by("-version"))
    )
    return render(request, "inspections/checklists.html", {"templates": templates, "form": form})


# -- draws -------------------------------------------------------------------------------------
@capability_required("draw.view")
def draw_list(request: HttpRequest) -> HttpResponse:
    form = DrawForm(request.POST or None)
    if _post(request):
        if not request.user.can("inspection.plan"):
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            draw = perform(
                request,
                lambda: services.prepare_draw(
                    by=request.user,
                    title=d["title"],
                    year=d["year"],
                    n=d["n"],
                    per_enterprise=d["per_enterprise"],
                    pool=list(d["pool"]),
                    sector=d["sector"],
                    feature=d["feature"],
                    region=d["region"],
                    risk_grade=d["risk_grade"],
                ),
                form=form,
                success=_("Draw prepared: check the inputs, then publish them."),
            )
            if draw:
                return redirect(draw)
    draws = Draw.objects.all()
    return render(request, "inspections/draws.html", {"draws": draws, "form": form})


@capability_required("draw.view")
def draw_detail(request: HttpRequest, pk: int) -> HttpResponse:
    draw = get_object_or_404(Draw.objects.select_related("replaces"), pk=pk)
    if _post(request):
        if not request.user.can("inspection.plan"):
            raise PermissionDenied
        post = request.POST
        if "publish" in post:
            perform(
                request,
                lambda: services.publish_draw(draw, by=request.user, seed=post.get("seed", "")),
                success=_("Inputs and seed published."),
            )
        elif "execute" in post:
            perform(
                request,
                lambda: services.execute_draw(draw, by=request.user),
                success=_("Drawn: the inspections are planned."),
            )
        elif "redraw" in post:
            new = perform(
                request,
                lambda: services.prepare_draw(
                    by=request.user,
                    title=draw.title,
                    year=draw.year,
                    n=draw.n,
                    per_enterprise=draw.per_enterprise,
                    pool=list(get_user_model().objects.filter(username__in=draw.pool)),
                    replaces=draw,
                    reason=post.get("reason", ""),
                    **_criteria(draw),
                ),
                success=_("A new draw is prepared; the old one stays on record."),
            )
            if new:
                return redirect(new)
        return redirect(draw)
    verified = services.verify_draw(draw) if draw.status == Draw.Status.DRAWN else None
    names = dict(
        Enterprise.objects.filter(ref__in=[r for r, _u in draw.result]).values_list("ref", "name")
    )
    people = {u.username: str(u) for u in get_user_model().objects.filter(username__in=draw.pool)}
    planned = dict(draw.inspections.values_list("enterprise__ref", "pk"))
    result = [
        (ref, names.get(ref, ref), [people.get(u, u) for u in users], planned.get(ref))
        for ref, users in draw.result
    ]
    return render(
        request, "inspections/draw.html", {"draw": draw, "verified": verified, "result": result}
    )


def _criteria(draw: Draw) -> dict:
    from yingji.core.models import Region

    c = draw.criteria
    region = Region.objects.filter(ref=c.get("region")).first() if c.get("region") else None
    return {
        "sector": c.get("sector", ""),
        "feature": c.get("feature", ""),
        "region": region,
        "risk_grade": c.get("risk_grade", ""),
    }


def enterprise_panel(request, enterprise):
    inspections = (
        Inspection.objects.visible_to(request.user)
        .filter(enterprise=enterprise)
        .order_by("-date", "-pk")
    )
    return "inspections/_enterprise_panel.html", {
        "inspections": inspections[:20],
        "total": inspections.count(),
        "enterprise": enterprise,
        "can_plan": request.user.can("inspection.plan"),
    }


def public_draw_list(request: HttpRequest) -> HttpResponse:
    """The public page of double-random draws (双随机、一公开): inputs and results."""
    draws = Draw.objects.exclude(status=Draw.Status.PREPARED).order_by("-published_at")
    return render(request, "inspections/public_draws.html", {"draws": draws})


def public_draw_json(request: HttpRequest, pk: int) -> JsonResponse:
    draw = get_object_or_404(Draw.objects.exclude(status=Draw.Status.PREPARED), pk=pk)
    names = dict(
        Inspection.objects.filter(draw=draw).values_list("enterprise__ref", "enterprise__name")
    )
    return JsonResponse(
        {
            "id": draw.pk,
            "title": draw.title,
            "status": draw.status,
            "published_at": draw.published_at,
            "drawn_at": draw.drawn_at,
            "inputs": {
                "seed": draw.seed,
                "candidates": draw.candidates,
                "pool": draw.pool,
                "conflicts": draw.conflicts,
                "n": draw.n,
                "per_enterprise": draw.per_enterprise,
            },
            "inputs_sha256": draw.inputs_digest,
            "algorithm": "yingji.lib.draw.run: rank candidates by HMAC-SHA256(seed, 'E:'+ref), take "
            "the first n; give each the per_enterprise inspectors without a conflict "
            "with the fewest assignments so far, ties by HMAC-SHA256(seed, "
            "'I:'+ref+':'+inspector)",
            "result": [
                {"enterprise": ref, "name": names.get(ref, ""), "inspectors": users}
                for ref, users in draw.result
            ],
        },
        json_dumps_params={"ensure_ascii": False},
    )

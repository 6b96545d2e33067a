from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yingji.core import attachments, ledger
from yingji.core.access import capability_required, get_visible
from yingji.core.actions import perform
from yingji.core.ledger import docx_response
from yingji.core.roles import Role
from yingji.core.views import history_context
from yingji.hazards import ledgers, services
from yingji.hazards.forms import (
    EvidenceForm,
    FindingForm,
    HazardFilterForm,
    OrderForm,
    ReinspectForm,
)
from yingji.hazards.models import Hazard, RectificationOrder, Reinspection
from yingji.inspections.models import Inspection
from yingji.inspections.services import _is_inspector_of

PAGE_SIZE = 25
# Apps built on hazards (enforcement) add panels to a hazard's page:
# callables (request, hazard) → (template, context) or None.
DETAIL_PANELS: list = []


def _hazards(request):
    form = HazardFilterForm(request.GET or None)
    qs = Hazard.objects.visible_to(request.user).select_related(
        "enterprise__region__parent", "responsible", "order"
    )
    if request.GET:
        qs = form.filter(qs)
    return form, qs.order_by("-found_on", "-pk")


@capability_required("hazard.view")
def hazard_list(request: HttpRequest) -> HttpResponse:
    form, qs = _hazards(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "hazards/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "today": timezone.localdate(),
            "can_self_report": request.user.role == Role.ENTERPRISE,
        },
    )


@capability_required("hazard.view")
def hazard_ledger(request: HttpRequest) -> HttpResponse:
    """The hazard ledger (隐患台账) of the filtered list."""
    _form, qs = _hazards(request)
    return ledger.sheet_response(ledgers.sheet(qs))


@capability_required("hazard.view")
def hazard_detail(request: HttpRequest, pk: int) -> HttpResponse:
    hazard = get_visible(
        Hazard.objects.select_related(
            "enterprise__region__parent", "inspection", "order", "responsible", "signed_off_by"
        ),
        request.user,
        pk=pk,
    )
    user = request.user
    own = user.role == Role.ENTERPRISE and hazard.enterprise.accounts.filter(user=user).exists()
    evidence_form = EvidenceForm(
        request.POST if "evidence" in request.POST else None, request.FILES or None
    )
    reinspect_form = ReinspectForm(request.POST if "reinspect" in request.POST else None)
    if request.method == "POST":
        done = _hazard_action(request, hazard, own, evidence_form, reinspect_form)
        if done:
            return redirect(hazard)
    evidence = list(hazard.evidence.select_related("submitted_by"))
    files = {e.pk: list(attachments.for_owner(e)) for e in evidence}
    ctx = {
        "hazard": hazard,
        "evidence": [(e, files[e.pk]) for e in evidence],
        "photos": attachments.for_owner(hazard),
        "reinspections": hazard.reinspections.select_related("by"),
        "evidence_form": evidence_form,
        "reinspect_form": reinspect_form,
        "can_submit": (own or user.can("hazard.act")) and hazard.status == Hazard.Status.OPEN,
        "can_reinspect": user.can("hazard.act")
        and hazard.status in (Hazard.Status.OPEN, Hazard.Status.SUBMITTED),
        "can_sign_off": user.role == Role.LEADER
        and hazard.level == Hazard.Level.MAJOR
        and hazard.signed_off_at is None,
        "history": history_context(hazard),
        "panels": [p for p in (panel(request, hazard) for panel in DETAIL_PANELS) if p],
    }
    return render(request, "hazards/detail.html", ctx)


def _hazard_action(request, hazard, own, evidence_form, reinspect_form):
    user, post = request.user, request.POST
    if "evidence" in post:
        if not (own or user.can("hazard.act")):
            raise PermissionDenied
        if not evidence_form.is_valid():
            return None
        d = evidence_form.cleaned_data
        return perform(
            request,
            lambda: services.submit_evidence(hazard, by=user, note=d["note"], files=d["files"]),
            form=evidence_form,
            success=_("Evidence submitted; the inspector will re-inspect."),
        )
    if not user.can("hazard.act"):
        raise PermissionDenied
    if "reinspect" in post and reinspect_form.is_valid():
        d = reinspect_form.cleaned_data
        return perform(
            request,
            lambda: services.reinspect(
                hazard,
                by=user,
                passed=d["passed"],
                opinion=d["opinion"],
                date=d["date"],
                new_deadline=d["new_deadline"],
            ),
            form=reinspect_form,
            success=_("Re-inspection recorded."),
        )
    if "sign_off" in post:
        return perform(
            request,
            lambda: services.sign_off_major(hazard, by=user),
            success=_("Signed off and listed for supervision."),
        )
    return None


@capability_required("hazard.board")
def overdue_board(request: HttpRequest) -> HttpResponse:
    """Overdue hazards by town, sector and inspector, for whoever follows them up."""
    today = timezone.localdate()
    overdue = Hazard.objects.visible_to(request.user).overdue(today)
    by_town = (
        overdue.values(
            "enterprise__region__parent__name",
            "enterprise__region__level",
            "enterprise__region__name",
        )
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    towns: dict[str, int] = {}
    for row in by_town:
        name = (
            row["enterprise__region__parent__name"]
            if row["enterprise__region__level"] == "village"
            else row["enterprise__region__name"]
        )
        towns[name] = towns.get(name, 0) + row["n"]
    from yingji.enterprises.models import Sector

    sector_labels = dict(Sector.choices)
    by_sector = [
        (sector_labels.get(r["enterprise__sector"], r["enterprise__sector"]), r["n"])
        for r in overdue.values("enterprise__sector").annotate(n=Count("pk")).order_by("-n")
    ]
    by_inspector = list(
        overdue.values("responsible__full_name", "responsible__username")
        .annotate(n=Count("pk"), major=Count("pk", filter=Q(level="major")))
        .order_by("-n")
    )
    rows = overdue.select_related("enterprise__region__parent", "responsible", "order").order_by(
        "deadline", "pk"
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "hazards/overdue.html",
        {
            "towns": sorted(towns.items(), key=lambda kv: -kv[1]),
            "by_sector": by_sector,
            "by_inspector": by_inspector,
            "page": page,
            "today": today,
            "total": page.paginator.count,
        },
    )


@capability_required("hazard.view")
def self_report(request: HttpRequest) -> HttpResponse:
    if request.user.role != Role.ENTERPRISE or not hasattr(request.user, "enterprise_account"):
        raise PermissionDenied
    enterprise = request.user.enterprise_account.enterprise
    form = FindingForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        hazard = perform(
            request,
            lambda: services.report_hazard(
                by=request.user,
                enterprise=enterprise,
                found_on=d["found_on"],
                level=d["level"],
                category=d["category"],
                description=d["description"],
                legal_basis=d["legal_basis"],
                photos=d["photos"],
            ),
            form=form,
            success=_("Hazard reported to the bureau."),
        )
        if hazard:
            return redirect(hazard)
    return render(request, "hazards/self_report.html", {"form": form, "enterprise": enterprise})


def _back_to_inspection(request, insp, **bound) -> HttpResponse:
    """Show the inspection page again with the refused form, its errors and what was typed."""
    from yingji.inspections.views import inspection_detail

    for name, form in bound.items():
        setattr(request, name, form)
    response = inspection_detail(request, insp.pk)
    response.status_code = 400
    return response


@require_POST
@capability_required("inspection.view")
def finding_create(request: HttpRequest, inspection_pk: int) -> HttpResponse:
    insp = get_visible(
        Inspection.objects.select_related("enterprise"), request.user, pk=inspection_pk
    )
    form = FindingForm(request.POST, request.FILES)
    if form.is_valid():
        d = form.cleaned_data
        done = perform(
            request,
            lambda: services.report_hazard(
                by=request.user,
                enterprise=insp.enterprise,
                inspection=insp,
                found_on=d["found_on"],
                level=d["level"],
                category=d["category"],
                description=d["description"],
                legal_basis=d["legal_basis"],
                photos=d["photos"],
            ),
            form=form,
            success=_("Finding recorded."),
        )
        if done:
            return redirect(insp)
    return _back_to_inspection(request, insp, finding_form=form)


@require_POST
@capability_required("hazard.act")
def order_create(request: HttpRequest, inspection_pk: int) -> HttpResponse:
    insp = get_visible(
        Inspection.objects.select_related("enterprise"), request.user, pk=inspection_pk
    )
    form = OrderForm(request.POST, hazards=insp.hazards.filter(status=Hazard.Status.REPORTED))
    if form.is_valid():
        d = form.cleaned_data
        done = perform(
            request,
            lambda: services.issue_order(
                list(d["hazards"]),
                by=request.user,
                deadline=d["deadline"],
                requirements=d["requirements"],
            ),
            form=form,
            success=_("Rectification order issued."),
        )
        if done:
            return redirect(insp)
    return _back_to_inspection(request, insp, order_form=form)


@capability_required("hazard.view")
def order_docx(request: HttpRequest, pk: int) -> HttpResponse:
    from yingji.hazards.documents import render_order

    order = get_visible(
        RectificationOrder.objects.select_related("enterprise"), request.user, pk=pk
    )
    return docx_response(render_order(order), f"责令限期整改指令书-{order.number}.docx")


@capability_required("hazard.view")
def reinspection_docx(request: HttpRequest, pk: int) -> HttpResponse:
    from yingji.hazards.documents import render_reinspection

    re = get_visible(Reinspection.objects.select_related("hazard__enterprise"), request.user, pk=pk)
    return docx_response(render_reinspection(re), f"整改复查意见书-{re.number}.docx")


def inspection_panel(request, insp: Inspection):
    """The findings and the order form on an inspection's page."""
    reported = insp.hazards.filter(status=Hazard.Status.REPORTED)
    return "hazards/_inspection_panel.html", {
        "hazards": insp.hazards.select_related("order").order_by("pk"),
        "finding_form": getattr(request, "finding_form", None) or FindingForm(),
        "order_form": getattr(request, "order_form", None) or OrderForm(hazards=reported),
        "can_find": insp.status == Inspection.Status.IN_PROGRESS
        and _is_inspector_of(insp, request.user),
        "can_order": request.user.can("hazard.act") and reported.exists(),
        "insp": insp,
    }


def enterprise_panel(request, enterprise):
    hazards = (
        Hazard.objects.visible_to(request.user)
        .filter(enterprise=enterprise)
        .select_related("order")
        .order_by("-found_on", "-pk")
    )
    return "hazards/_enterprise_panel.html", {
        "hazards": hazards[:20],
        "total": hazards.count(),
        "enterprise": enterprise,
    }

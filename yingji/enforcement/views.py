from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from yingji.core import attachments, ledger
from yingji.core.access import capability_required, get_visible
from yingji.core.actions import perform
from yingji.core.ledger import docx_response
from yingji.core.roles import Role
from yingji.core.views import history_context
from yingji.enforcement import forms, ledgers, services
from yingji.enforcement.models import Case, Interview, Penalty, Referral, SupervisionLetter
from yingji.hazards.models import Hazard
from yingji.inspections.models import Inspection

PAGE_SIZE = 25


@capability_required("enforcement.view")
def case_list(request: HttpRequest) -> HttpResponse:
    form = forms.CaseFilterForm(request.GET or None)
    qs = Case.objects.visible_to(request.user).select_related("enterprise")
    if form.is_valid():
        d = form.cleaned_data
        if d.get("q"):
            qs = qs.filter(enterprise__name__icontains=d["q"].strip())
        if d.get("status"):
            qs = qs.filter(status=d["status"])
        related = {
            "penalty": Penalty,
            "letter": SupervisionLetter,
            "interview": Interview,
            "referral": Referral,
        }
        if model := related.get(d.get("kind")):
            qs = qs.filter(Exists(model.objects.filter(case=OuterRef("pk"))))
    page = Paginator(qs.order_by("-opened_on", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "enforcement/list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@capability_required("enforcement.view")
def acts_ledger(request: HttpRequest) -> HttpResponse:
    """The enforcement ledger (执法台账): every act in scope, one row each."""
    return ledger.sheet_response(ledgers.build(user=request.user))


@capability_required("enforcement.act")
def case_new(request: HttpRequest) -> HttpResponse:
    hazard = inspection = None
    initial = {}
    if hid := request.GET.get("hazard") or request.POST.get("hazard"):
        hazard = get_visible(Hazard.objects.select_related("enterprise"), request.user, pk=hid)
        initial = {"enterprise": hazard.enterprise.uscc, "title": hazard.description[:80]}
    elif iid := request.GET.get("inspection") or request.POST.get("inspection"):
        inspection = get_visible(
            Inspection.objects.select_related("enterprise"), request.user, pk=iid
        )
        initial = {"enterprise": inspection.enterprise.uscc}
    elif ref := request.GET.get("enterprise"):
        initial = {"enterprise": ref}
    form = forms.CaseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        case = perform(
            request,
            lambda: services.open_case(
                by=request.user,
                enterprise=d["enterprise"],
                title=d["title"],
                hazard=hazard,
                inspection=inspection,
                opened_on=d["opened_on"],
            ),
            form=form,
            success=_("Case opened."),
        )
        if case:
            return redirect(case)
    return render(
        request,
        "enforcement/case_new.html",
        {"form": form, "hazard": hazard, "inspection": inspection},
    )


def _attach_all(referral, files, by):
    for f in files:
        attachments.attach(referral, f, by=by)
    return referral


# action name → (form class or None, the act's model or None for the case itself, who, call)
ACTIONS = {
    "penalty": (
        forms.PenaltyForm,
        None,
        "enforcement.act",
        lambda case, obj, d, u: services.draft_penalty(case, by=u, **d),
    ),
    "notice": (
        forms.DateForm,
        Penalty,
        "enforcement.act",
        lambda case, obj, d, u: services.serve_penalty_notice(obj, by=u, served_on=d["date"]),
    ),
    "statement": (
        forms.StatementForm,
        Penalty,
        "enforcement.act",
        lambda case, obj, d, u: services.record_statement(obj, by=u, **d),
    ),
    "hearing": (
        forms.HearingForm,
        Penalty,
        "enforcement.act",
        lambda case, obj, d, u: services.record_hearing(obj, by=u, **d),
    ),
    "withdraw_referral": (
        forms.WithdrawForm,
        Referral,
        "enforcement.act",
        lambda case, obj, d, u: services.withdraw_referral(obj, by=u, **d),
    ),
    "approve_penalty": (
        None,
        Penalty,
        "enforcement.act",
        lambda case, obj, d, u: services.approve_penalty(obj, by=u),
    ),
    "decide": (
        forms.DateForm,
        Penalty,
        "enforcement.act",
        lambda case, obj, d, u: services.decide_penalty(obj, by=u, decided_on=d["date"]),
    ),
    "payment": (
        forms.DateForm,
        Penalty,
        "enforcement.act",
        lambda case, obj, d, u: services.record_payment(obj, by=u, paid_on=d["date"]),
    ),
    "withdraw": (
        forms.WithdrawForm,
        Penalty,
        "enforcement.act",
        lambda case, obj, d, u: services.withdraw_penalty(obj, by=u, **d),
    ),
    "letter": (
        forms.LetterForm,
        None,
        "enforcement.act",
        lambda case, obj, d, u: services.issue_letter(case, by=u, **d),
    ),
    "reply": (
        forms.ReplyForm,
        SupervisionLetter,
        "enforcement.act",
        lambda case, obj, d, u: services.record_reply(obj, by=u, **d),
    ),
    "interview": (
        forms.InterviewForm,
        None,
        "enforcement.act",
        lambda case, obj, d, u: services.record_interview(case, by=u, **d),
    ),
    "follow_up": (
        forms.FollowUpForm,
        Interview,
        "enforcement.act",
        lambda case, obj, d, u: services.record_follow_up(obj, by=u, **d),
    ),
    "referral": (
        forms.ReferralForm,
        None,
        "enforcement.act",
        lambda case, obj, d, u: services.draft_referral(case, by=u, **d),
    ),
    "documents": (
        forms.DocumentsForm,
        Referral,
        "enforcement.act",
        lambda case, obj, d, u: _attach_all(obj, d["files"], u),
    ),
    "approve_referral": (
        None,
        Referral,
        "enforcement.act",
        lambda case, obj, d, u: services.approve_referral(obj, by=u),
    ),
    "send": (
        forms.DateForm,
        Referral,
        "enforcement.act",
        lambda case, obj, d, u: services.send_referral(obj, by=u, sent_on=d["date"]),
    ),
    "result": (
        forms.ResultForm,
        Referral,
        "enforcement.act",
        lambda case, obj, d, u: services.record_referral_result(obj, by=u, **d),
    ),
    "close": (
        forms.CloseForm,
        None,
        "enforcement.act",
        lambda case, obj, d, u: services.close_case(case, by=u, **d),
    ),
}


@capability_required("enforcement.view")
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_visible(
        Case.objects.select_related("enterprise", "hazard", "inspection"), request.user, pk=pk
    )
    bound = None
    if request.method == "POST":
        name = request.POST.get("action", "")
        if name not in ACTIONS:
            raise Http404
        form_class, model, capability, call = ACTIONS[name]
        if not request.user.can(capability):
            raise PermissionDenied
        obj = None
        if model is not None:
            obj = model.objects.filter(case=case, pk=request.POST.get("target")).first()
            if obj is None:
                raise Http404
        form = (
            form_class(
                request.POST, request.FILES, auto_id=_auto_id(name, request.POST.get("target"))
            )
            if form_class
            else None
        )
        if form is None or form.is_valid():
            data = form.cleaned_data if form else {}
            if perform(
                request, lambda: call(case, obj, data, request.user), form=form, success=_("Done.")
            ):
                return redirect(case)
        bound = (name, request.POST.get("target", ""), form)
    return render(request, "enforcement/case.html", _case_context(request, case, bound))


def _auto_id(name, target) -> str:
    """Field ids unique on the page: several acts may show the same form at once."""
    return f"id_{name}_{target or 'new'}_%s"


def _form(bound, name, target, form_class, **initial):
    """The submitted form when it is this one (to show its errors), else a fresh one."""
    if bound and bound[0] == name and bound[1] == str(target or ""):
        return bound[2]
    return form_class(initial=initial, auto_id=_auto_id(name, target)) if form_class else None


def _case_context(request, case, bound) -> dict:
    user = request.user
    penalties = list(case.penalties.select_related("approved_by"))
    letters = list(case.letters.all())
    interviews = list(case.interviews.all())
    referrals = list(case.referrals.select_related("approved_by"))
    timeline = []
    for p in penalties:
        timeline.append(
            (
                p.notified_on or p.decided_on or case.opened_on,
                "penalty",
                p,
                {
                    "notice": _form(bound, "notice", p.pk, forms.DateForm),
                    "statement": _form(bound, "statement", p.pk, forms.StatementForm),
                    "hearing": _form(bound, "hearing", p.pk, forms.HearingForm),
                    "decide": _form(bound, "decide", p.pk, forms.DateForm),
                    "payment": _form(bound, "payment", p.pk, forms.DateForm),
                    "withdraw": _form(bound, "withdraw", p.pk, forms.WithdrawForm),
                },
            )
        )
    for x in letters:
        timeline.append(
            (x.issued_on, "letter", x, {"reply": _form(bound, "reply", x.pk, forms.ReplyForm)})
        )
    for x in interviews:
        timeline.append(
            (
                x.held_on,
                "interview",
                x,
                {"follow_up": _form(bound, "follow_up", x.pk, forms.FollowUpForm)},
            )
        )
    for x in referrals:
        timeline.append(
            (
                x.sent_on or x.created_at.date(),
                "referral",
                x,
                {
                    "documents": _form(bound, "documents", x.pk, forms.DocumentsForm),
                    "send": _form(bound, "send", x.pk, forms.DateForm),
                    "withdraw": _form(bound, "withdraw_referral", x.pk, forms.WithdrawForm),
                    "result": _form(bound, "result", x.pk, forms.ResultForm),
                    "files": list(attachments.for_owner(x)),
                },
            )
        )
    timeline.sort(key=lambda row: (row[0], row[1]))
    return {
        "case": case,
        "timeline": timeline,
        "can_act": user.can("enforcement.act"),
        "is_leader": user.role == Role.LEADER and user.is_active,
        "repeat": services.repeat_interviews(case.enterprise),
        "new_forms": {
            "penalty": _form(bound, "penalty", "", forms.PenaltyForm),
            "letter": _form(bound, "letter", "", forms.LetterForm, addressee=case.enterprise.name),
            "interview": _form(bound, "interview", "", forms.InterviewForm),
            "referral": _form(bound, "referral", "", forms.ReferralForm),
            "close": _form(bound, "close", "", forms.CloseForm),
        },
        "history": history_context(case),
    }


def _document(request, model, pk, attr: str, render_name: str, label: str):
    from yingji.enforcement import documents

    obj = get_visible(model.objects.select_related("case__enterprise"), request.user, pk=pk)
    number = getattr(obj, attr)
    if not number:
        raise Http404
    data = getattr(documents, render_name)(obj)
    return docx_response(data, f"{label}-{number}.docx")


@capability_required("enforcement.view")
def penalty_notice_docx(request, pk):
    return _document(request, Penalty, pk, "notice_no", "render_penalty_notice", "行政处罚告知书")


@capability_required("enforcement.view")
def penalty_decision_docx(request, pk):
    return _document(
        request, Penalty, pk, "decision_no", "render_penalty_decision", "行政处罚决定书"
    )


@capability_required("enforcement.view")
def letter_docx(request, pk):
    return _document(
        request, SupervisionLetter, pk, "number", "render_supervision_letter", "督办函"
    )


@capability_required("enforcement.view")
def referral_docx(request, pk):
    return _document(request, Referral, pk, "number", "render_referral", "案件移送书")


@capability_required("enforcement.act")
def referral_package(request, pk):
    """The whole case file as one .zip with an index, for the receiving authority."""
    from yingji.enforcement.package import build_referral_package

    referral = get_visible(Referral.objects.select_related("case__enterprise"), request.user, pk=pk)
    if referral.status == Referral.Status.DRAFT:
        raise Http404
    response = HttpResponse(build_referral_package(referral), content_type="application/zip")
    from django.utils.http import content_disposition_header

    response["Content-Disposition"] = content_disposition_header(
        True, f"案件移送-{referral.number}.zip"
    )
    return response


def enterprise_panel(request, enterprise):
    if not request.user.can("enforcement.view"):
        return None
    cases = Case.objects.visible_to(request.user).filter(enterprise=enterprise)
    return "enforcement/_enterprise_panel.html", {
        "cases": cases.order_by("-opened_on")[:20],
        "total": cases.count(),
        "repeat": services.repeat_interviews(enterprise, timezone.localdate()),
        "enterprise": enterprise,
        "can_act": request.user.can("enforcement.act"),
    }


def hazard_panel(request, hazard):
    if not request.user.can("enforcement.view"):
        return None
    cases = Case.objects.visible_to(request.user).filter(hazard=hazard)
    return "enforcement/_hazard_panel.html", {
        "cases": cases,
        "hazard": hazard,
        "can_act": request.user.can("enforcement.act"),
    }

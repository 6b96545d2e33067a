from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from yingji.core import attachments, ledger
from yingji.core.access import capability_required, get_visible
from yingji.core.actions import perform
from yingji.core.views import history_context
from yingji.enterprises.models import Enterprise
from yingji.tips import forms, ledgers, services
from yingji.tips.models import Tip

PAGE_SIZE = 25


def _tips(request):
    form = forms.TipFilterForm(request.GET or None)
    qs = Tip.objects.visible_to(request.user).select_related("enterprise", "assignee")
    if request.GET:
        qs = form.filter(qs)
    return form, qs.order_by("-received_at", "-pk")


@capability_required("tip.view")
def tip_list(request: HttpRequest) -> HttpResponse:
    form, qs = _tips(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tips/list.html",
        {"form": form, "page": page, "query": query.urlencode(), "today": timezone.localdate()},
    )


@capability_required("tip.view")
def tip_ledger(request: HttpRequest) -> HttpResponse:
    """The tips ledger (举报台账): no reporter identity in it."""
    _form, qs = _tips(request)
    return ledger.sheet_response(ledgers.sheet(qs))


@capability_required("tip.intake")
def tip_new(request: HttpRequest) -> HttpResponse:
    """Enter a tip received by phone, letter or visit; the code is shown once to pass on."""
    form = forms.IntakeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        enterprise = Enterprise.objects.filter(
            name=d["enterprise_name"].strip(), status="active"
        ).first()
        result = perform(
            request,
            lambda: services.record_tip(
                by=request.user,
                channel=d["channel"],
                content=d["content"],
                received_on=d["received_on"],
                location=d["location"],
                enterprise=enterprise,
                enterprise_name="" if enterprise else d["enterprise_name"],
                anonymous=d["anonymous"],
                name=d["name"],
                contact=d["contact"],
                photos=d["photos"],
            ),
            form=form,
        )
        if result:
            tip, code = result
            return render(request, "tips/receipt.html", {"tip": tip, "code": code})
    return render(request, "tips/new.html", {"form": form})


ACTIONS = {
    "assign": (forms.AssignForm, "tip.intake", lambda t, d, u: services.assign(t, by=u, **d)),
    "duplicate": (
        forms.DuplicateForm,
        "tip.intake",
        lambda t, d, u: services.link_duplicate(t, by=u, **d),
    ),
    "transfer": (forms.TransferForm, "tip.handle", lambda t, d, u: services.transfer(t, by=u, **d)),
    "start": (None, "tip.handle", lambda t, d, u: services.start_verification(t, by=u)),
    "inspect": (None, "tip.handle", lambda t, d, u: services.inspect_from_tip(t, by=u)),
    "verification": (
        forms.VerificationForm,
        "tip.handle",
        lambda t, d, u: services.record_verification(t, by=u, **d),
    ),
    "question": (
        forms.QuestionForm,
        "tip.handle",
        lambda t, d, u: services.ask_reporter(t, by=u, **d),
    ),
    "propose": (
        forms.RewardForm,
        "tip.handle",
        lambda t, d, u: services.propose_reward(t, by=u, **d),
    ),
    "approve": (None, "tip.identity", lambda t, d, u: services.approve_reward(t, by=u)),
    "payment": (
        forms.PaymentForm,
        "tip.handle",
        lambda t, d, u: services.record_reward_payment(t, by=u, **d),
    ),
    "close": (forms.CloseForm, "tip.handle", lambda t, d, u: services.close_tip(t, by=u, **d)),
}


@capability_required("tip.view")
def tip_detail(request: HttpRequest, pk: int) -> HttpResponse:
    tip = get_visible(
        Tip.objects.select_related("enterprise", "assignee", "duplicate_of", "inspection"),
        request.user,
        pk=pk,
    )
    bound, identity = None, None
    if request.method == "POST":
        name = request.POST.get("action", "")
        if name == "identity":
            identity = services.reveal_identity(tip, by=request.user)
        elif name in ACTIONS:
            form_class, capability, call = ACTIONS[name]
            if not request.user.can(capability):
                raise PermissionDenied
            form = form_class(request.POST, auto_id=f"id_{name}_%s") if form_class else None
            if form is None or form.is_valid():
                data = form.cleaned_data if form else {}
                done = perform(
                    request, lambda: call(tip, data, request.user), form=form, success=_("Done.")
                )
                if done:
                    if name == "inspect":
                        messages.info(request, _("An inspection is planned for the tip."))
                    return redirect(tip)
            bound = (name, form)
        else:
            raise Http404
    initial = {"assign": {"deadline": tip.deadline, "assignee": tip.assignee_id}}
    forms_ = {
        name: (
            bound[1]
            if bound and bound[0] == name
            else form_class(initial=initial.get(name), auto_id=f"id_{name}_%s")
        )
        for name, (form_class, _cap, _call) in ACTIONS.items()
        if form_class
    }
    return render(
        request,
        "tips/detail.html",
        {
            "tip": tip,
            "forms": forms_,
            "identity": identity,
            "photos": attachments.for_owner(tip),
            "messages_": [(m, list(attachments.for_owner(m))) for m in tip.messages.all()],
            "suggested": services.suggested_reward(tip) if tip.verified else None,
            "history": history_context(tip),
        },
    )

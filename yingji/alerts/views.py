"""Staff pages of alerts: the list, the form, the live board (叫应 board), the one-tap
acknowledgement link, the officers' to-acknowledge list and the recipient units.

Views only parse input and call `services` (alerts-core) or `units` (the unit edits); every
state change happens there, transactional and audited.
"""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from yingji.alerts import forms, services, units
from yingji.alerts.models import Alert, Call, Contact, Dispatch, Recipient, Unit
from yingji.core.access import capability_required, get_visible
from yingji.core.actions import perform
from yingji.core.views import HOME_PANELS, history_context

PAGE_SIZE = 25


# -- the list ------------------------------------------------------------------------------------
@capability_required("alert.view")
def alert_list(request: HttpRequest) -> HttpResponse:
    form = forms.AlertFilterForm(request.GET or None)
    qs = Alert.objects.visible_to(request.user)
    if request.GET:
        qs = form.filter(qs)
    qs = (
        qs.select_related("created_by")
        .prefetch_related("regions")
        .with_counts(request.user)
        .order_by("-issued_at", "-created_at", "-pk")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "alerts/list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


# -- writing -------------------------------------------------------------------------------------
def _save_alert(request, form: forms.AlertForm, alert: Alert | None):
    """Create or update the draft and, for "Issue", issue it: both or neither."""
    fields = form.service_fields()
    then_issue = request.POST.get("then") == "issue"

    def act():
        with transaction.atomic():
            if alert is None:
                saved = services.create_draft(by=request.user, **fields)
            else:
                saved = services.update_draft(alert, by=request.user, **fields)
            if then_issue:
                saved = services.issue(saved, by=request.user)
        return saved

    saved = perform(request, act, form=form)
    if not saved:
        return None
    if not then_issue:
        messages.success(request, _("The draft is saved."))
    elif saved.status == Alert.Status.PENDING_APPROVAL:
        messages.success(request, _("Sent to the leaders for approval."))
    else:
        messages.success(request, _("Issued."))
    return redirect(saved)


def _form_page(request, form, alert=None) -> HttpResponse:
    return render(request, "alerts/form.html", {"form": form, "alert": alert})


def _prefill(request, initial: dict) -> dict:
    """A template chosen in the form (htmx GET with the form's fields) fills in its text;
    the area and recipients ticked so far stay."""
    pk = request.GET.get("template", "")
    templates = forms.AlertForm.base_fields["template"].queryset
    template = templates.filter(pk=int(pk)).first() if pk.isdigit() else None
    if template is not None:
        initial.update(forms.template_initial(template))
    for name in ("regions", "extra_units", "sectors"):
        if name in request.GET:
            initial[name] = request.GET.getlist(name)
    return initial


@capability_required("alert.issue")
def alert_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = forms.AlertForm(request.POST, user=request.user)
        if form.is_valid() and (response := _save_alert(request, form, None)):
            return response
        return _form_page(request, form)
    form = forms.AlertForm(initial=_prefill(request, {}), user=request.user)
    return _form_page(request, form)


@capability_required("alert.issue")
def alert_edit(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_visible(Alert.objects.all(), request.user, pk=pk)
    if alert.status != Alert.Status.DRAFT:
        messages.error(request, _("Only a draft can be changed."))
        return redirect(alert)
    if request.method == "POST":
        form = forms.AlertForm(request.POST, user=request.user)
        if form.is_valid() and (response := _save_alert(request, form, alert)):
            return response
        return _form_page(request, form, alert)
    initial = _prefill(request, forms.alert_initial(alert))
    return _form_page(request, forms.AlertForm(initial=initial, user=request.user), alert)


# -- the board -----------------------------------------------------------------------------------
def _board_recipients(alert: Alert, user) -> list[Recipient]:
    """The alert's recipients the viewer may see (a town sees the units of its area), with
    their calls and dispatches: three queries whatever the number of units."""
    qs = alert.recipients.all()
    if not user.district_wide:
        qs = qs.filter(unit__in=Unit.objects.visible_to(user))
    return list(
        qs.select_related("unit", "ack_user", "ack_contact")
        .prefetch_related(
            Prefetch(
                "calls", Call.objects.select_related("contact", "user").order_by("step", "pk")
            ),
            Prefetch(
                "dispatches",
                Dispatch.objects.select_related("notification", "webhook").order_by("at", "pk"),
            ),
        )
        .order_by("unit__kind", "unit__region__path", "unit__name", "pk")
    )


def _outcome(dispatch: Dispatch) -> dict:
    """A dispatch's delivery result from its outbox row (notification or webhook)."""
    row = dispatch.notification or dispatch.webhook
    if row is None:
        return {"status": "", "label": "—", "attempts": 0, "error": ""}
    return {
        "status": row.status,
        "label": row.get_status_display(),
        "attempts": row.attempts,
        "error": row.last_error,
    }


def board_context(alert: Alert, user) -> dict:
    rows = []
    for r in _board_recipients(alert, user):
        calls = list(r.calls.all())
        by_call: dict = {}
        for d in r.dispatches.all():
            by_call.setdefault(d.call_id, []).append((d, _outcome(d)))
        # The latest rung called: one contact, or several people above the unit (叫醒).
        top = max((c.step for c in calls), default=0)
        escalations = [c for c in calls if c.step == top and top > 0]
        who = (
            r.ack_name
            or (r.ack_contact.name if r.ack_contact else "")
            or (str(r.ack_user) if r.ack_user else "")
        )
        rows.append(
            {
                "r": r,
                "acked": r.acknowledged_at is not None,
                "who": who,
                "escalated_to": escalations,
                "escalation_step": top,
                "calls": [(c, by_call.get(c.pk, [])) for c in calls],
                "other_dispatches": by_call.get(None, []),
            }
        )
    counts = {
        "units": len(rows),
        "acknowledged": sum(row["acked"] for row in rows),
        "escalated": sum(row["r"].escalated_at is not None for row in rows),
    }
    counts["unanswered"] = counts["units"] - counts["acknowledged"]
    return {
        "alert": alert,
        "rows": rows,
        "counts": counts,
        "live": alert.status == Alert.Status.ISSUED,
        "now": timezone.now(),
    }


@capability_required("alert.view")
def alert_board(request: HttpRequest, pk: int) -> HttpResponse:
    """The board alone, polled by the detail page every few seconds while the alert is out."""
    alert = get_visible(Alert.objects.all(), request.user, pk=pk)
    return render(request, "alerts/_board.html", board_context(alert, request.user))


# -- detail and actions --------------------------------------------------------------------------
def _can_phone(user) -> bool:
    return user.can("alert.ack") and user.district_wide


def _in_app_recipients(alert: Alert, user) -> list[Recipient]:
    """Units of this alert the viewer may acknowledge for in the app."""
    if not user.can("alert.ack"):
        return []
    return list(services.pending_for(user).filter(alert=alert).select_related("unit"))


ACTIONS = {
    # name: (may the user do it, the form or None, the service call)
    "issue": (
        lambda u: u.can("alert.issue"),
        None,
        lambda a, d, u: services.issue(a, by=u),
    ),
    "approve": (
        lambda u: u.can("alert.approve"),
        None,
        lambda a, d, u: services.approve(a, by=u),
    ),
    "reject": (
        lambda u: u.can("alert.approve"),
        forms.RejectForm,
        lambda a, d, u: services.reject(a, by=u, reason=d["reason"]),
    ),
    "cancel": (
        lambda u: u.can("alert.issue"),
        None,
        lambda a, d, u: services.cancel(a, by=u),
    ),
    "lift": (
        lambda u: u.can("alert.issue"),
        None,
        lambda a, d, u: services.lift(a, by=u),
    ),
    "phone": (
        _can_phone,
        forms.PhoneAckForm,
        lambda a, d, u: services.record_phone_ack(
            d["recipient"], by=u, name=d["name"], note=d["note"]
        ),
    ),
}

SUCCESS = {
    "issue": gettext_lazy("Issued."),
    "approve": gettext_lazy("Approved and issued."),
    "reject": gettext_lazy("Sent back to the writer."),
    "cancel": gettext_lazy("Cancelled."),
    "lift": gettext_lazy("Lifted."),
    "phone": gettext_lazy("The phone acknowledgement is recorded."),
}


def _action_forms(alert: Alert, bound: tuple | None = None) -> dict:
    made = {}
    for name, (_may, form_class, _call) in ACTIONS.items():
        if form_class is None:
            continue
        if bound and bound[0] == name:
            made[name] = bound[1]
            continue
        kwargs = {"alert": alert} if form_class is forms.PhoneAckForm else {}
        made[name] = form_class(auto_id=f"id_{name}_%s", **kwargs)
    return made


def _detail_page(request, alert: Alert, bound=None, status: int = 200) -> HttpResponse:
    alert = (
        Alert.objects.select_related(
            "template", "created_by", "approved_by", "issued_by", "lifted_by"
        )
        .prefetch_related("regions", "extra_units")
        .get(pk=alert.pk)
    )
    user = request.user
    ctx = board_context(alert, user)
    ctx.update(
        {
            "forms": _action_forms(alert, bound),
            "mine": _in_app_recipients(alert, user),
            "can_phone": _can_phone(user),
            "sectors": _sector_labels(alert.sectors),
            "history": history_context(alert),
        }
    )
    return render(request, "alerts/detail.html", ctx, status=status)


def _sector_labels(sectors: str) -> list[str]:
    from yingji.enterprises.models import Sector

    labels = dict(Sector.choices)
    return [labels.get(s, s) for s in sectors.split(",") if s]


@capability_required("alert.view")
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_visible(Alert.objects.all(), request.user, pk=pk)
    return _detail_page(request, alert)


def _next_url(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@require_POST
@capability_required("alert.view")
def alert_action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """One act on the alert, by name; a refused act shows why on the detail page."""
    alert = get_visible(Alert.objects.all(), request.user, pk=pk)
    user = request.user
    if name == "ack":
        return _ack_in_app(request, alert)
    if name not in ACTIONS:
        raise Http404
    may, form_class, call = ACTIONS[name]
    if not may(user):
        raise PermissionDenied
    form = None
    if form_class is not None:
        kwargs = {"alert": alert} if form_class is forms.PhoneAckForm else {}
        form = form_class(request.POST, auto_id=f"id_{name}_%s", **kwargs)
        if not form.is_valid():
            return _detail_page(request, alert, bound=(name, form), status=422)
    data = form.cleaned_data if form else {}
    done = perform(request, lambda: call(alert, data, user), form=form)
    if done is None:
        if form is not None:
            return _detail_page(request, alert, bound=(name, form), status=422)
        return redirect(alert)
    if name == "phone" and done is False:
        messages.info(request, _("This unit had already acknowledged."))
    else:
        messages.success(request, SUCCESS[name])
    return redirect(alert)


def _ack_in_app(request, alert: Alert) -> HttpResponse:
    """The officer's own acknowledgement, from the to-acknowledge list or the detail page: a
    unit outside the viewer's area is 404; whether they may answer for it, the service says."""
    if not request.user.can("alert.ack"):
        raise PermissionDenied
    rid = request.POST.get("recipient", "")
    recipient = None
    if rid.isdigit():
        recipient = (
            Recipient.objects.filter(
                alert=alert, pk=int(rid), unit__in=Unit.objects.visible_to(request.user)
            )
            .select_related("unit", "alert")
            .first()
        )
    if recipient is None:
        raise Http404
    try:
        done, error = services.acknowledge_in_app(recipient, by=request.user), ""
    except ValidationError as exc:
        done, error = None, " ".join(exc.messages)
    recipient.refresh_from_db()
    if request.htmx:
        ctx = {"r": recipient, "done": done, "error": error}
        return render(request, "alerts/_mine_row.html", ctx)
    if error:
        messages.error(request, error)
    elif done:
        messages.success(request, _("Acknowledged."))
    else:
        messages.info(request, _("This unit had already acknowledged."))
    return redirect(_next_url(request, alert.get_absolute_url()))


# -- the one-tap link ----------------------------------------------------------------------------
def _answered_by(r: Recipient) -> str:
    if r.ack_name:
        return r.ack_name
    if r.ack_contact_id:
        return r.ack_contact.name
    return str(r.ack_user) if r.ack_user_id else ""


# The link is the credential: its token is unguessable and names one person at one unit, and
# no session's authority is used, so a forged cross-site post could do nothing the link's
# holder cannot. Exempt from CSRF so that phone browsers that drop cookies (the in-app
# browsers of SMS and chat apps) can still acknowledge; the form carries the token anyway.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def ack_link(request: HttpRequest, token: str) -> HttpResponse:
    """The page an SMS or email link opens: GET only shows (link previewers fetch it), the
    big button posts the acknowledgement."""
    call = (
        Call.objects.select_related(
            "recipient__alert", "recipient__unit", "recipient__ack_contact", "recipient__ack_user"
        )
        .filter(token=token)
        .first()
    )
    if call is None:
        raise Http404
    recipient = call.recipient
    already = recipient.acknowledged_at is not None
    just_now, error = False, ""
    if request.method == "POST" and not already:
        try:
            recipient = services.acknowledge_token(token)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        except Recipient.DoesNotExist:
            raise Http404 from None
        else:
            recipient = Recipient.objects.select_related(
                "alert", "unit", "ack_contact", "ack_user"
            ).get(pk=recipient.pk)
            just_now = recipient.acknowledged_at is not None
    ctx = {
        "alert": recipient.alert,
        "unit": recipient.unit,
        "call": call,
        "recipient": recipient,
        "already": already,
        "just_now": just_now,
        "error": error,
        "answered_by": _answered_by(recipient),
    }
    return render(request, "alerts/ack.html", ctx)


# -- what I have to acknowledge ------------------------------------------------------------------
def _pending(user):
    return (
        services.pending_for(user)
        .select_related("alert", "unit")
        .order_by("-alert__issued_at", "alert_id", "unit__name")
    )


@capability_required("alert.ack")
def alert_mine(request: HttpRequest) -> HttpResponse:
    page = Paginator(_pending(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "alerts/mine.html", {"page": page})


def home_panel(user):
    """The officer's unanswered alerts on the home page (nothing when there are none)."""
    if not user.can("alert.ack"):
        return None
    pending = list(_pending(user)[:5])
    if not pending:
        return None
    return "alerts/_home_panel.html", {"pending": pending}


# An unanswered warning comes before everything else on the home page, the figures too.
home_panel.home_order = -10
if home_panel not in HOME_PANELS:
    HOME_PANELS.append(home_panel)


# -- units and contacts --------------------------------------------------------------------------
@capability_required("alert.view")
def unit_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    qs = Unit.objects.visible_to(request.user)
    if kind in Unit.Kind.values:
        qs = qs.filter(kind=kind)
    qs = (
        qs.select_related("region", "enterprise")
        .annotate(n_contacts=Count("contacts"))
        .order_by("kind", "name", "pk")
    )
    form = forms.UnitForm(request.POST or None)
    if request.method == "POST":
        if not request.user.can("alert.units"):
            raise PermissionDenied
        if form.is_valid():
            unit = perform(
                request,
                lambda: units.create_unit(by=request.user, **form.cleaned_data),
                form=form,
                success=_("The unit is added."),
            )
            if unit:
                return redirect("alerts-unit", pk=unit.pk)
    page = Paginator(qs, PAGE_SIZE * 2).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/units.html",
        {"page": page, "kind": kind, "kinds": Unit.Kind.choices, "form": form, "query": ""},
        status=422 if form.errors else 200,
    )


def _contact_of(unit: Unit, request) -> Contact:
    cid = request.POST.get("contact", "")
    contact = unit.contacts.filter(pk=int(cid)).first() if cid.isdigit() else None
    if contact is None:
        raise Http404
    return contact


UNIT_ACTIONS = {
    "robot": forms.RobotForm,
    "add": forms.ContactForm,
    "edit": forms.ContactForm,
    "up": None,
    "down": None,
    "remove": None,
}


def _unit_call(name: str, unit: Unit, contact, data: dict, user):
    if name == "robot":
        return units.update_unit(unit, by=user, **data)
    if name == "add":
        return units.add_contact(unit, by=user, **data)
    if name == "edit":
        return units.update_contact(contact, by=user, **data)
    if name == "remove":
        return units.remove_contact(contact, by=user)
    return units.move_contact(contact, by=user, offset=-1 if name == "up" else 1)


@capability_required("alert.view")
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    unit = get_visible(Unit.objects.select_related("region", "enterprise"), request.user, pk=pk)
    bound = None
    if request.method == "POST":
        name = request.POST.get("action", "")
        if name not in UNIT_ACTIONS:
            raise Http404
        if not request.user.can("alert.units"):
            raise PermissionDenied
        contact = _contact_of(unit, request) if name not in ("robot", "add") else None
        form_class = UNIT_ACTIONS[name]
        form = None
        if form_class is not None:
            prefix = f"c{contact.pk}" if contact else None
            form = form_class(request.POST, prefix=prefix)
        if form is None or form.is_valid():
            data = form.cleaned_data if form else {}
            done = perform(
                request,
                lambda: _unit_call(name, unit, contact, data, request.user),
                form=form,
                success=_("Saved."),
            )
            if done:
                return redirect("alerts-unit", pk=unit.pk)
        bound = (name, contact.pk if contact else None, form)
    return _unit_page(request, unit, bound)


def _unit_page(request, unit: Unit, bound) -> HttpResponse:
    ladder = list(unit.contacts.select_related("user").order_by("position", "pk"))

    def pick(name, cid, make):
        if bound and bound[0] == name and bound[1] == cid and bound[2] is not None:
            return bound[2]
        return make()

    edit_forms = [
        (
            c,
            pick(
                "edit",
                c.pk,
                lambda c=c: forms.ContactForm(
                    prefix=f"c{c.pk}",
                    initial={
                        "role": c.role,
                        "name": c.name,
                        "phone": c.phone,
                        "email": c.email,
                        "user": c.user_id,
                    },
                ),
            ),
        )
        for c in ladder
    ]
    robot_form = pick(
        "robot",
        None,
        lambda: forms.RobotForm(initial={"robot_kind": unit.robot_kind, "active": unit.active}),
    )
    add_form = pick("add", None, forms.ContactForm)
    ctx = {
        "unit": unit,
        "ladder": edit_forms,
        "robot_form": robot_form,
        "add_form": add_form,
        "open": bound[0] if bound else "",
        "history": history_context(unit),
    }
    return render(request, "alerts/unit.html", ctx, status=422 if bound else 200)


@capability_required("alert.view")
def unit_stats(request: HttpRequest) -> HttpResponse:
    """Acknowledgement rate and median minutes per unit over a period (default this year)."""
    today = timezone.localdate()
    form = forms.PeriodForm(
        request.GET if "start" in request.GET else None,
        initial={"start": datetime.date(today.year, 1, 1), "end": today},
    )
    start, end = datetime.date(today.year, 1, 1), today
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    rows = []
    if not form.errors:
        scope = Unit.objects.visible_to(request.user)
        figures = services.unit_figures(start, end, units=scope)
        rows = [(unit, fig) for unit, fig in figures.items() if fig["sent"]]
    return render(
        request,
        "alerts/unit_stats.html",
        {"form": form, "rows": rows, "start": start, "end": end},
        status=422 if form.errors else 200,
    )

"""Pages of video roll-calls (视频点调): the list, one roll-call, recording one, and the units
that missed a call and still wait for a follow-up.

Everyone with `alert.view` reads (town and village officers the roll-calls that reached their
area, and only their area's entries); recording, corrections and follow-ups need
`rollcall.manage` and go through `rollcalls`.
"""

import datetime

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yingji.alerts import rollcalls
from yingji.alerts.models import Alert, RollCall
from yingji.core.access import capability_required, get_visible
from yingji.core.actions import perform
from yingji.core.fields import DateInput
from yingji.core.views import history_context

PAGE_SIZE = 25


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class FilterForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=DateInput())
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=DateInput())
    missed = forms.BooleanField(label=gettext_lazy("With missed units only"), required=False)

    def filter(self, qs):
        if not self.is_valid():
            return qs.none()
        d = self.cleaned_data
        qs = rollcalls.held_between(qs, d["start"], d["end"])
        if d["missed"]:
            qs = qs.filter(n_answered__lt=F("n_called"))
        return qs


class RollCallForm(forms.Form):
    held_at = forms.DateTimeField(
        label=gettext_lazy("Held at"), widget=DateTimeInput(), required=False
    )
    topic = forms.CharField(label=gettext_lazy("Topic"), max_length=200, required=False)
    alert = forms.ModelChoiceField(
        label=gettext_lazy("Following the alert"),
        queryset=Alert.objects.none(),
        required=False,
        help_text=gettext_lazy("The warning the roll-call checks on, if any."),
    )
    note = forms.CharField(
        label=gettext_lazy("Remarks"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The alerts of the last month: the ones a roll-call follows up.
        since = timezone.now() - datetime.timedelta(days=31)
        self.fields["alert"].queryset = Alert.objects.issued().filter(issued_at__gte=since)


class FollowUpForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("What was done"), max_length=300)


def _rows(regions, data=None, entries=None) -> list[dict]:
    """One row per town or village of the roll-call form, from the posted data or defaults.

    Field names carry the region id: t-<id> called, a-<id> answered, n-<id> who answered,
    r-<id> remark.
    """
    rows = []
    for region in regions:
        pk = region.pk
        entry = entries.get(pk) if entries is not None else None
        if data is not None:
            row = {
                "called": f"t-{pk}" in data,
                "answered": f"a-{pk}" in data,
                "name": data.get(f"n-{pk}", "")[:200],
                "remark": data.get(f"r-{pk}", "")[:400],
            }
        elif entry is not None:
            row = {
                "called": True,
                "answered": entry.answered,
                "name": entry.answered_by,
                "remark": entry.remark,
            }
        else:
            row = {"called": True, "answered": False, "name": "", "remark": ""}
        rows.append({"region": region, "entry": entry, **row})
    return rows


def _answers(rows: list[dict]) -> tuple[list, dict, dict]:
    called = [r["region"] for r in rows if r["called"]]
    answered = {r["region"]: r["name"] for r in rows if r["called"] and r["answered"]}
    remarks = {r["region"]: r["remark"] for r in rows if r["called"] and r["remark"].strip()}
    return called, answered, remarks


# -- the list ------------------------------------------------------------------------------------
@capability_required("alert.view")
def rollcall_list(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    qs = rollcalls.with_counts(RollCall.objects.visible_to(request.user), request.user)
    if request.GET:
        qs = form.filter(qs)
    qs = qs.select_related("alert", "held_by").order_by("-held_at", "-pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "alerts/rollcall_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "n_missed": rollcalls.missed(request.user).count(),
        },
    )


# -- one roll-call -------------------------------------------------------------------------------
@capability_required("alert.view")
def rollcall_detail(request: HttpRequest, pk: int) -> HttpResponse:
    call = get_visible(RollCall.objects.select_related("alert", "held_by"), request.user, pk=pk)
    entries = list(
        rollcalls.entries_visible_to(request.user)
        .filter(rollcall=call)
        .select_related("region__parent")
        .order_by("region__path")
    )
    manage = request.user.can("rollcall.manage")
    rows = None
    follow_form, follow_entry = FollowUpForm(), None
    if request.method == "POST":
        if not manage:
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "answers":
            # Every unit of the roll-call is on the form; the ones left unticked did not answer.
            posted = {k: v for k, v in request.POST.items() if not k.startswith("t-")}
            posted.update({f"t-{e.region_id}": "on" for e in entries})
            rows = _rows([e.region for e in entries], posted)
            _called, answered, remarks = _answers(rows)

            def save() -> bool:
                rollcalls.update_entries(call, by=request.user, answered=answered, remarks=remarks)
                return True  # saved, whether or not anything changed

            if perform(request, save, success=_("The answers are saved.")):
                return redirect(call)
        elif action == "follow_up":
            follow_entry = next(
                (e for e in entries if str(e.pk) == request.POST.get("target")), None
            )
            if follow_entry is None:
                raise Http404
            follow_form = FollowUpForm(request.POST)
            if follow_form.is_valid() and perform(
                request,
                lambda: rollcalls.follow_up(
                    follow_entry, by=request.user, note=follow_form.cleaned_data["note"]
                ),
                form=follow_form,
                success=_("The follow-up is recorded."),
            ):
                return redirect(call)
        else:
            raise Http404
    by_region = {e.region_id: e for e in entries}
    if rows is None:
        rows = _rows([e.region for e in entries], entries=by_region)
    else:
        for row in rows:
            row["entry"] = by_region[row["region"].pk]
    return render(
        request,
        "alerts/rollcall_detail.html",
        {
            "call": call,
            "rows": rows,
            "n_called": len(entries),
            "n_answered": sum(1 for e in entries if e.answered),
            "manage": manage,
            "follow_form": follow_form,
            "follow_entry": follow_entry,
            "open_entries": [e for e in entries if not e.answered and not e.followed_up_at],
            "history": history_context(call),
        },
    )


# -- recording one -------------------------------------------------------------------------------
@capability_required("rollcall.manage")
def rollcall_new(request: HttpRequest) -> HttpResponse:
    regions = list(rollcalls.callable_regions().order_by("path"))
    if request.method == "POST":
        form = RollCallForm(request.POST)
        rows = _rows(regions, request.POST)
        if form.is_valid():
            d = form.cleaned_data
            targets, answered, remarks = _answers(rows)
            call = perform(
                request,
                lambda: rollcalls.record_rollcall(
                    by=request.user,
                    held_at=d["held_at"],
                    topic=d["topic"],
                    targets=targets,
                    answered=answered,
                    remarks=remarks,
                    alert=d["alert"],
                    note=d["note"],
                ),
                form=form,
                success=_("The roll-call is recorded."),
            )
            if call:
                return redirect(call)
    else:
        initial = {"held_at": timezone.localtime().replace(second=0, microsecond=0)}
        alert = _alert_from_query(request)
        rows = _rows(regions)
        if alert is not None:
            # Calling after a warning: the towns and villages it went to.
            reached = set(
                alert.recipients.filter(unit__region__isnull=False).values_list(
                    "unit__region_id", flat=True
                )
            )
            for row in rows:
                row["called"] = row["region"].pk in reached
            initial.update(alert=alert, topic=alert.headline[:200])
        form = RollCallForm(initial=initial)
    return render(request, "alerts/rollcall_new.html", {"form": form, "rows": rows})


def _alert_from_query(request: HttpRequest) -> Alert | None:
    pk = request.GET.get("alert", "")
    if not pk.isdigit():
        return None
    return Alert.objects.visible_to(request.user).issued().filter(pk=pk).first()


# -- missed roll-calls ---------------------------------------------------------------------------
@capability_required("alert.view")
def rollcall_missed(request: HttpRequest) -> HttpResponse:
    qs = rollcalls.missed(request.user)
    manage = request.user.can("rollcall.manage")
    follow_form, follow_entry = FollowUpForm(), None
    if request.method == "POST":
        if not manage:
            raise PermissionDenied
        target = request.POST.get("target", "")
        follow_entry = qs.filter(pk=target).first() if target.isdigit() else None
        if follow_entry is None:
            raise Http404
        follow_form = FollowUpForm(request.POST)
        if follow_form.is_valid() and perform(
            request,
            lambda: rollcalls.follow_up(
                follow_entry, by=request.user, note=follow_form.cleaned_data["note"]
            ),
            form=follow_form,
            success=_("The follow-up is recorded."),
        ):
            return redirect("alerts-rollcall-missed")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/rollcall_missed.html",
        {
            "page": page,
            "manage": manage,
            "follow_form": follow_form,
            "follow_entry": follow_entry,
        },
    )

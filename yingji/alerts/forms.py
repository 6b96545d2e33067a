"""Forms of the alert pages; the rules themselves live in services.py and units.py."""

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yingji.alerts.models import Alert, AlertTemplate, Contact, HazardType, Kind, Level, Unit
from yingji.core.fields import DateInput
from yingji.core.models import Region
from yingji.enterprises.models import Sector

ALL = [("", _("All"))]


class DateTimeInput(forms.DateTimeInput):
    """The browser's date-and-time picker (local time, ISO text)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class AreaTreeWidget(forms.CheckboxSelectMultiple):
    """The district, its towns and their villages as one indented checkbox tree; ticking a
    town covers its villages (a small script greys them out)."""

    template_name = "alerts/widgets/area_tree.html"

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        region = getattr(value, "instance", None)
        if region is not None:
            option["level"] = region.level
            option["attrs"]["data-region"] = region.pk
            option["attrs"]["data-parent"] = region.parent_id or ""
        return option


class AlertFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=ALL + Kind.choices)
    level = forms.ChoiceField(label=_("Level"), required=False, choices=ALL + Level.choices)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=ALL + Alert.Status.choices
    )
    hazard_type = forms.ChoiceField(
        label=_("Hazard type"), required=False, choices=ALL + HazardType.choices
    )
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def filter(self, qs):
        """The alerts matching the filters; a period counts the issue time (or, for an alert
        never issued, the time it was written), in local dates."""
        if not self.is_valid():
            return qs.none()
        d = self.cleaned_data
        for name in ("kind", "level", "status", "hazard_type"):
            if d.get(name):
                qs = qs.filter(**{name: d[name]})
        if d.get("start"):
            since = _local_midnight(d["start"])
            qs = qs.filter(
                Q(issued_at__gte=since) | Q(issued_at__isnull=True, created_at__gte=since)
            )
        if d.get("end"):
            until = _local_midnight(d["end"] + datetime.timedelta(days=1))
            qs = qs.filter(Q(issued_at__lt=until) | Q(issued_at__isnull=True, created_at__lt=until))
        return qs


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


class AlertForm(forms.Form):
    """A warning as written by the duty officer: from a template or from scratch."""

    template = forms.ModelChoiceField(
        label=_("Template"),
        queryset=AlertTemplate.objects.filter(active=True),
        required=False,
        empty_label=_("— none: write it —"),
        help_text=_("Choosing a template fills in the text; then tick the area and issue."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.WARNING)
    hazard_type = forms.ChoiceField(
        label=_("Hazard type"), required=False, choices=[("", "—"), *HazardType.choices]
    )
    level = forms.ChoiceField(label=_("Level"), required=False, choices=[("", "—"), *Level.choices])
    headline = forms.CharField(label=_("Headline"), max_length=200)
    body = forms.CharField(
        label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    instructions = forms.CharField(
        label=_("What to do"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    valid_from = forms.DateTimeField(label=_("Valid from"), required=False, widget=DateTimeInput())
    valid_until = forms.DateTimeField(
        label=_("Valid until"), required=False, widget=DateTimeInput()
    )
    public = forms.BooleanField(
        label=_("Publish on the public warning page"), required=False, initial=True
    )
    regions = forms.ModelMultipleChoiceField(
        label=_("Target area"),
        queryset=Region.objects.none(),
        required=False,
        widget=AreaTreeWidget,
        help_text=_("A town covers its villages; the district covers every town and village."),
    )
    extra_units = forms.ModelMultipleChoiceField(
        label=_("Also to"),
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Rescue teams and other bodies."),
    )
    sectors = forms.MultipleChoiceField(
        label=_("Enterprises of the sectors"),
        choices=Sector.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Active enterprises of these sectors inside the area receive it too."),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["regions"].queryset = (
            Region.objects.visible_to(user).select_related(None).order_by("path")
        )
        extra = Unit.objects.filter(active=True, kind__in=(Unit.Kind.TEAM, Unit.Kind.OTHER))
        self.fields["extra_units"].queryset = extra.order_by("kind", "name")
        if not self.is_bound and not extra.exists():
            del self.fields["extra_units"]  # no team or other body to choose yet

    def clean(self):
        d = super().clean()
        start, end = d.get("valid_from"), d.get("valid_until")
        if start and end and end <= start:
            self.add_error("valid_until", _("The end of validity must come after its start."))
        return d

    def service_fields(self) -> dict:
        """The cleaned data as services.create_draft / update_draft take it."""
        d = dict(self.cleaned_data)
        d["regions"] = list(d["regions"])
        d["extra_units"] = list(d.get("extra_units") or ())
        d["sectors"] = list(d["sectors"])
        return d


def template_initial(template: AlertTemplate, now=None) -> dict:
    """A template's values as the form's initial data; valid from now for its hours."""
    now = timezone.localtime(now or timezone.now()).replace(second=0, microsecond=0)
    return {
        "template": template.pk,
        "kind": template.kind,
        "hazard_type": template.hazard_type,
        "level": template.level,
        "headline": template.headline,
        "body": template.body,
        "instructions": template.instructions,
        "public": template.public,
        "valid_from": now,
        "valid_until": now + datetime.timedelta(hours=template.valid_hours),
    }


def alert_initial(alert: Alert) -> dict:
    """A draft's values for the edit form."""
    return {
        "template": alert.template_id,
        "kind": alert.kind,
        "hazard_type": alert.hazard_type,
        "level": alert.level,
        "headline": alert.headline,
        "body": alert.body,
        "instructions": alert.instructions,
        "public": alert.public,
        "valid_from": alert.valid_from and timezone.localtime(alert.valid_from),
        "valid_until": alert.valid_until and timezone.localtime(alert.valid_until),
        "regions": [r.pk for r in alert.regions.all()],
        "extra_units": [u.pk for u in alert.extra_units.all()],
        "sectors": [s for s in alert.sectors.split(",") if s],
    }


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is sent back"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class PhoneAckForm(forms.Form):
    """A unit that answered the duty officer's phone call (电话叫应)."""

    recipient = forms.ModelChoiceField(label=_("Unit"), queryset=None)
    name = forms.CharField(label=_("Who answered"), max_length=100)
    note = forms.CharField(label=_("Remark"), max_length=300, required=False)

    def __init__(self, *args, alert: Alert, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recipient"]
        field.queryset = (
            alert.recipients.filter(acknowledged_at__isnull=True)
            .select_related("unit")
            .order_by("unit__name")
        )
        field.label_from_instance = lambda r: r.unit.name


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=DateInput())
    end = forms.DateField(label=_("To"), widget=DateInput())

    def clean(self):
        d = super().clean()
        if d.get("start") and d.get("end") and d["end"] < d["start"]:
            self.add_error("end", _("The end of the period must not come before its start."))
        return d


# -- units and contacts -------------------------------------------------------------------------
class UnitForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(Unit.Kind.TEAM, Unit.Kind.TEAM.label), (Unit.Kind.OTHER, Unit.Kind.OTHER.label)],
        help_text=_("Towns, villages and enterprises come from the registry."),
    )


class RobotForm(forms.Form):
    robot_kind = forms.ChoiceField(
        label=_("Group robot"), required=False, choices=[("", _("none")), *Unit.Robot.choices]
    )
    robot_url = forms.CharField(
        label=_("Group robot webhook"),
        required=False,
        max_length=500,
        help_text=_("Leave empty to keep the address stored; it holds the robot's key."),
    )
    clear_robot = forms.BooleanField(label=_("Remove the robot"), required=False)
    active = forms.BooleanField(label=pgettext_lazy("unit", "Receives alerts"), required=False)


class ContactForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Contact.Role.choices)
    name = forms.CharField(label=_("Name"), max_length=100)
    phone = forms.CharField(label=_("Mobile phone"), max_length=32, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    user = forms.ModelChoiceField(
        label=_("Account"),
        queryset=None,
        required=False,
        help_text=_("The person's platform account, so they can acknowledge in the app."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("role", "username")
        )

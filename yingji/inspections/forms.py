import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yingji.core.fields import DateInput
from yingji.core.models import Region
from yingji.core.roles import Role
from yingji.enterprises.forms import RegionChoiceField
from yingji.enterprises.models import Enterprise, Feature, RiskGrade, Sector
from yingji.inspections.models import Campaign, ChecklistVersion, Inspection, Mode, Plan


def _regions():
    return Region.objects.exclude(level=Region.Level.DISTRICT).select_related("parent")


class ScopeFields(forms.Form):
    sector = forms.ChoiceField(
        label=_("Sector"), required=False, choices=[("", _("All sectors")), *Sector.choices]
    )
    feature = forms.ChoiceField(
        label=_("Risk feature"), required=False, choices=[("", _("All features")), *Feature.choices]
    )
    region = RegionChoiceField(
        label=_("Area"), required=False, queryset=_regions(), empty_label=_("Whole district")
    )


class EnterpriseRefField(forms.CharField):
    """An enterprise given by its credit code, reference or exact name."""

    def clean(self, value):
        value = super().clean(value).strip()
        ent = (
            Enterprise.objects.filter(uscc=value.upper()).first()
            or Enterprise.objects.filter(ref=value).first()
            or Enterprise.objects.filter(name=value).first()
        )
        if ent is None:
            raise forms.ValidationError(_("No enterprise with this credit code or name."))
        if ent.status != Enterprise.Status.ACTIVE:
            raise forms.ValidationError(_("This enterprise is closed."))
        return ent


def _people(role):
    return get_user_model().objects.filter(role=role, is_active=True).order_by("username")


class PlanForm(forms.Form):
    year = forms.IntegerField(
        label=_("Year"), min_value=2000, max_value=2100, initial=lambda: timezone.localdate().year
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class TargetForm(ScopeFields):
    title = forms.CharField(label=_("Target"), max_length=200)
    times = forms.IntegerField(
        label=_("Inspections per enterprise per year"), min_value=1, max_value=52, initial=1
    )
    field_order = ["title", "sector", "feature", "region", "times"]


class CampaignForm(ScopeFields):
    title = forms.CharField(label=_("Title"), max_length=200)
    start = forms.DateField(label=_("Start"), widget=DateInput())
    end = forms.DateField(label=_("End"), widget=DateInput())
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    field_order = ["title", "start", "end", "sector", "feature", "region", "description"]


class ChecklistForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    sector = forms.ChoiceField(
        label=_("Sector"), required=False, choices=[("", _("All sectors")), *Sector.choices]
    )
    feature = forms.ChoiceField(
        label=_("Risk feature"), required=False, choices=[("", _("All features")), *Feature.choices]
    )
    items = forms.CharField(
        label=_("Items"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("One item a line: code | what to check | legal basis"),
    )

    def clean_items(self) -> list[dict]:
        items = []
        for n, line in enumerate(self.cleaned_data["items"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) < 2 or not parts[1]:
                raise forms.ValidationError(
                    _("Line %(n)d: write “code | what to check | legal basis”.") % {"n": n}
                )
            items.append(
                {"code": parts[0], "text": parts[1], "basis": parts[2] if len(parts) > 2 else ""}
            )
        return items


class DrawForm(ScopeFields):
    title = forms.CharField(label=_("Title"), max_length=200)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    risk_grade = forms.ChoiceField(
        label=_("Risk grade"), required=False, choices=[("", _("All grades")), *RiskGrade.choices]
    )
    n = forms.IntegerField(label=_("Enterprises to draw"), min_value=1)
    per_enterprise = forms.IntegerField(
        label=_("Inspectors per enterprise"), min_value=1, max_value=5, initial=2
    )
    pool = forms.ModelMultipleChoiceField(
        label=_("Inspector pool"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    field_order = [
        "title",
        "year",
        "sector",
        "feature",
        "region",
        "risk_grade",
        "n",
        "per_enterprise",
        "pool",
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pool"].queryset = _people(Role.INSPECTOR)
        self.fields["year"].initial = timezone.localdate().year


class ScheduleForm(forms.Form):
    enterprise = EnterpriseRefField(label=_("Enterprise (credit code or name)"), max_length=200)
    date = forms.DateField(label=_("Date"), widget=DateInput())
    mode = forms.ChoiceField(label=_("Mode"), choices=Mode.choices)
    onsite = forms.BooleanField(label=_("On-site check"), required=False, initial=True)
    ledger = forms.BooleanField(label=_("Ledger review"), required=False, initial=True)
    inspectors = forms.ModelMultipleChoiceField(
        label=_("Inspectors"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    experts = forms.ModelMultipleChoiceField(
        label=_("Experts"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    plan = forms.ModelChoiceField(label=_("Plan"), queryset=Plan.objects.all(), required=False)
    campaign = forms.ModelChoiceField(
        label=_("Campaign"), queryset=Campaign.objects.all(), required=False
    )
    checklist = forms.ModelChoiceField(
        label=_("Checklist"),
        required=False,
        queryset=ChecklistVersion.objects.select_related("template"),
        help_text=_("Leave empty to use the current checklist for the enterprise's sector."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["inspectors"].queryset = (
            get_user_model()
            .objects.filter(role__in=[Role.INSPECTOR, Role.LEADER], is_active=True)
            .order_by("role", "username")
        )
        self.fields["experts"].queryset = _people(Role.EXPERT)
        self.fields["date"].initial = timezone.localdate()

    def clean(self):
        data = super().clean()
        if not (data.get("onsite") or data.get("ledger")):
            self.add_error("onsite", _("Choose at least one method."))
        return data


class InspectionFilterForm(forms.Form):
    q = forms.CharField(label=_("Enterprise"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Inspection.Status.choices]
    )
    mode = forms.ChoiceField(
        label=_("Mode"), required=False, choices=[("", _("All")), *Mode.choices]
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def filter(self, qs):
        if not self.is_valid():
            return qs.none()
        d = self.cleaned_data
        if d.get("q"):
            qs = qs.filter(enterprise__name__icontains=d["q"].strip())
        if d.get("status"):
            qs = qs.filter(status=d["status"])
        if d.get("mode"):
            qs = qs.filter(mode=d["mode"])
        if d.get("date_from"):
            qs = qs.filter(date__gte=d["date_from"])
        if d.get("date_to"):
            qs = qs.filter(date__lte=d["date_to"])
        return qs


class AnswersForm(forms.Form):
    """One radio group per checklist item, plus the summary and methods."""

    summary = forms.CharField(
        label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    onsite = forms.BooleanField(label=_("On-site check"), required=False)
    ledger = forms.BooleanField(label=_("Ledger review"), required=False)

    CHOICES = [
        ("ok", _("Compliant")),
        ("hazard", pgettext_lazy("checklist answer", "Hazard")),
        ("na", _("Not applicable")),
    ]

    def __init__(self, *args, inspection: Inspection, **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            {
                "summary": inspection.summary,
                "onsite": inspection.onsite,
                "ledger": inspection.ledger,
            },
        )
        super().__init__(*args, **kwargs)
        self.items = inspection.checklist.items if inspection.checklist else []
        for item in self.items:
            self.fields[f"item_{item['code']}"] = forms.ChoiceField(
                label=f"{item['code']} {item['text']}",
                required=False,
                choices=self.CHOICES,
                widget=forms.RadioSelect,
                initial=inspection.answers.get(item["code"]),
                help_text=item.get("basis", ""),
            )

    def answers(self) -> dict:
        return {
            item["code"]: self.cleaned_data[f"item_{item['code']}"]
            for item in self.items
            if self.cleaned_data.get(f"item_{item['code']}")
        }


def default_deadline() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=15)

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yingji.core.fields import DateInput, MultipleFileField
from yingji.core.models import Region
from yingji.enterprises.models import Sector
from yingji.hazards.models import Category, Hazard
from yingji.inspections.forms import default_deadline

DATE = DateInput()


class FindingForm(forms.Form):
    level = forms.ChoiceField(label=_("Level"), choices=Hazard.Level.choices)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}))
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=300, required=False)
    found_on = forms.DateField(label=_("Found on"), widget=DATE)
    photos = MultipleFileField(label=_("Photos"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["found_on"].initial = timezone.localdate()


class OrderForm(forms.Form):
    hazards = forms.ModelMultipleChoiceField(
        label=_("Hazards"), queryset=Hazard.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    deadline = forms.DateField(label=_("Deadline"), widget=DATE)
    requirements = forms.CharField(
        label=_("Requirements"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, hazards, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hazards"].queryset = hazards
        self.fields["hazards"].initial = list(hazards)
        self.fields["deadline"].initial = default_deadline()


class EvidenceForm(forms.Form):
    note = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}))
    files = MultipleFileField(label=_("Photos or documents"))


class ReinspectForm(forms.Form):
    passed = forms.TypedChoiceField(
        label=_("Result"),
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        choices=[
            ("1", _("Rectified: close the hazard")),
            ("0", _("Not rectified: set a new deadline")),
        ],
    )
    date = forms.DateField(label=_("Date"), widget=DATE)
    opinion = forms.CharField(label=_("Opinion"), widget=forms.Textarea(attrs={"rows": 3}))
    new_deadline = forms.DateField(label=_("New deadline"), required=False, widget=DATE)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate()


class HazardFilterForm(forms.Form):
    q = forms.CharField(label=_("Enterprise or description"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("not_closed", _("Not closed")), *Hazard.Status.choices],
    )
    level = forms.ChoiceField(
        label=_("Level"), required=False, choices=[("", _("All")), *Hazard.Level.choices]
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    sector = forms.ChoiceField(
        label=_("Sector"), required=False, choices=[("", _("All sectors")), *Sector.choices]
    )
    town = forms.ModelChoiceField(
        label=_("Town"),
        required=False,
        queryset=Region.objects.filter(level=Region.Level.TOWN),
        empty_label=_("All towns"),
    )
    found_from = forms.DateField(label=_("Found from"), required=False, widget=DATE)
    found_to = forms.DateField(label=_("Found to"), required=False, widget=DATE)

    def filter(self, qs):
        if not self.is_valid():
            return qs.none()
        d = self.cleaned_data
        if q := (d.get("q") or "").strip():
            from django.db.models import Q

            qs = qs.filter(Q(enterprise__name__icontains=q) | Q(description__icontains=q))
        if d.get("status") == "not_closed":
            qs = qs.exclude(status=Hazard.Status.CLOSED)
        elif d.get("status"):
            qs = qs.filter(status=d["status"])
        if d.get("level"):
            qs = qs.filter(level=d["level"])
        if d.get("overdue"):
            qs = qs.overdue()
        if d.get("sector"):
            qs = qs.filter(enterprise__sector=d["sector"])
        if d.get("town"):
            qs = qs.filter(enterprise__region__path__startswith=d["town"].path)
        if d.get("found_from"):
            qs = qs.filter(found_on__gte=d["found_from"])
        if d.get("found_to"):
            qs = qs.filter(found_on__lte=d["found_to"])
        return qs

from django import forms
from django.utils.translation import gettext_lazy as _

from yingji.core.models import Region
from yingji.enterprises.models import Enterprise, Feature, RiskGrade, Sector
from yingji.enterprises.services import EDITABLE


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        if obj.level == Region.Level.VILLAGE and obj.parent_id:
            return f"{obj.parent.name} / {obj.name}"
        return obj.name


def place_choices(user):
    """Towns and villages the user may place an enterprise in."""
    qs = Region.objects.exclude(level=Region.Level.DISTRICT).select_related("parent")
    if not user.district_wide and user.region_id:
        qs = qs.filter(path__startswith=user.region.path)
    return qs


class EnterpriseForm(forms.ModelForm):
    feature_list = forms.MultipleChoiceField(
        label=_("Risk features"),
        choices=Feature.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Enterprise
        # The service's list is the one truth; risk features have their own form field.
        fields = [f for f in EDITABLE if f != "feature_list"]

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"] = RegionChoiceField(
            queryset=place_choices(user), label=_("Town / village")
        )
        self.order_fields(["name", "uscc", "sector", "feature_list"])
        if self.instance.pk:
            self.fields["feature_list"].initial = self.instance.feature_list
        self.fields["uscc"].widget.attrs.update(
            {"maxlength": 18, "autocapitalize": "characters", "spellcheck": "false"}
        )

    def clean_uscc(self) -> str:
        return self.cleaned_data["uscc"].strip().upper()

    def _post_clean(self) -> None:
        # The service validates the model (with the same rules for forms, API and import);
        # running it here too would report each error twice.
        pass

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in EDITABLE}


class EnterpriseFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or credit code"), required=False)
    sector = forms.ChoiceField(
        label=_("Sector"), required=False, choices=[("", _("All sectors")), *Sector.choices]
    )
    feature = forms.ChoiceField(
        label=_("Risk feature"),
        required=False,
        choices=[("", _("All features")), *Feature.choices],
    )
    risk_grade = forms.ChoiceField(
        label=_("Risk grade"),
        required=False,
        choices=[("", _("All grades")), *RiskGrade.choices],
    )
    region = forms.ModelChoiceField(
        label=_("Town / village"),
        required=False,
        queryset=Region.objects.none(),
        empty_label=_("All places"),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("active", _("Active")), ("closed", _("Closed")), ("all", _("All"))],
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"] = RegionChoiceField(
            queryset=Region.objects.visible_to(user)
            .exclude(level=Region.Level.DISTRICT)
            .select_related("parent")
            if user.can("region.view")
            else Region.objects.none(),
            label=_("Town / village"),
            required=False,
            empty_label=_("All places"),
        )

    def filter(self, qs):
        if not self.is_valid():
            return qs.none()
        data = self.cleaned_data
        return qs.search(
            q=data.get("q") or "",
            sector=data.get("sector") or "",
            feature=data.get("feature") or "",
            risk_grade=data.get("risk_grade") or "",
            region=data.get("region"),
            status=data.get("status") or "active",
        )

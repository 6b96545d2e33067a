from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yingji.core.fields import DateInput, MultipleFileField
from yingji.core.roles import Role
from yingji.tips.models import Channel, Tip


class TipFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("open", pgettext_lazy("tip", "Not closed")), *Tip.Status.choices],
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All")), *Channel.choices]
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def filter(self, qs):
        if not self.is_valid():
            return qs.none()
        d = self.cleaned_data
        if q := (d.get("q") or "").strip():
            from django.db.models import Q

            qs = qs.filter(
                Q(content__icontains=q)
                | Q(enterprise__name__icontains=q)
                | Q(enterprise_name__icontains=q)
                | Q(hotline_ticket=q)
            )
        if d.get("status") == "open":
            qs = qs.exclude(status=Tip.Status.CLOSED)
        elif d.get("status"):
            qs = qs.filter(status=d["status"])
        if d.get("channel"):
            qs = qs.filter(channel=d["channel"])
        if d.get("overdue"):
            qs = qs.overdue()
        return qs


class IntakeForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Received by"),
        choices=[
            (Channel.PHONE, Channel.PHONE.label),
            (Channel.LETTER, Channel.LETTER.label),
            (Channel.VISIT, Channel.VISIT.label),
        ],
    )
    received_on = forms.DateField(
        label=_("Received on"), widget=DateInput(), initial=timezone.localdate
    )
    content = forms.CharField(
        label=_("What was reported"), widget=forms.Textarea(attrs={"rows": 4})
    )
    enterprise_name = forms.CharField(
        label=_("Enterprise concerned"), required=False, max_length=200
    )
    location = forms.CharField(label=_("Where"), required=False, max_length=300)
    anonymous = forms.BooleanField(
        label=_("The reporter stays anonymous"), required=False, initial=True
    )
    name = forms.CharField(label=_("Reporter's name"), required=False, max_length=64)
    contact = forms.CharField(label=_("Reporter's phone or email"), required=False, max_length=100)
    photos = MultipleFileField(label=_("Photos or scans"))


def _handlers():
    return (
        get_user_model()
        .objects.filter(role__in=[Role.INSPECTOR, Role.LEADER], is_active=True)
        .order_by("role", "username")
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Handler"), queryset=None)
    deadline = forms.DateField(label=_("Handling deadline"), widget=DateInput(), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = _handlers()


class DuplicateForm(forms.Form):
    of = forms.CharField(label=_("Reference of the original tip"), max_length=64)

    def clean_of(self):
        tip = Tip.objects.filter(ref=self.cleaned_data["of"].strip()).first()
        if tip is None:
            raise forms.ValidationError(_("No tip with this reference."))
        return tip


class TransferForm(forms.Form):
    to = forms.CharField(label=_("Transferred to"), max_length=200)
    answer = forms.CharField(
        label=_("What the reporter is told"), widget=forms.Textarea(attrs={"rows": 2})
    )


class VerificationForm(forms.Form):
    verified = forms.TypedChoiceField(
        label=_("Result"),
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        choices=[("1", _("Verified true")), ("0", _("Unfounded"))],
    )
    findings = forms.CharField(
        label=_("What was checked and found"), widget=forms.Textarea(attrs={"rows": 3})
    )


class QuestionForm(forms.Form):
    question = forms.CharField(
        label=_("Question to the reporter"), widget=forms.Textarea(attrs={"rows": 2})
    )


class RewardForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Reward (yuan)"),
        required=False,
        max_digits=10,
        decimal_places=2,
        help_text=_("Leave empty for the rule's amount."),
    )


class PaymentForm(forms.Form):
    paid_on = forms.DateField(
        label=pgettext_lazy("reward", "Paid on"), widget=DateInput(), initial=timezone.localdate
    )
    method = forms.CharField(label=_("Payment method"), max_length=100)


class CloseForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer to the reporter"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    closed_on = forms.DateField(
        label=pgettext_lazy("tip", "Closed on"), widget=DateInput(), initial=timezone.localdate
    )

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yingji.core.fields import DateInput, MultipleFileField
from yingji.enforcement.models import Case
from yingji.inspections.forms import EnterpriseRefField

DATE = DateInput()


def _today_field(label, required=True):
    return forms.DateField(label=label, widget=DATE, required=required, initial=timezone.localdate)


class CaseForm(forms.Form):
    enterprise = EnterpriseRefField(label=_("Enterprise (credit code or name)"), max_length=200)
    title = forms.CharField(label=_("Case title"), max_length=200)
    opened_on = _today_field(_("Opened on"))


class CaseFilterForm(forms.Form):
    q = forms.CharField(label=_("Enterprise"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Case.Status.choices]
    )
    kind = forms.ChoiceField(
        label=_("Containing"),
        required=False,
        choices=[
            ("", _("Any act")),
            ("penalty", _("Administrative penalty")),
            ("letter", _("Supervision letter")),
            ("interview", _("Warning interview")),
            ("referral", _("Case referral")),
        ],
    )


class PenaltyForm(forms.Form):
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=300)
    facts = forms.CharField(label=_("Facts"), widget=forms.Textarea(attrs={"rows": 3}))
    amount = forms.DecimalField(
        label=_("Amount (yuan)"), max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )


class StatementForm(forms.Form):
    statement = forms.CharField(
        label=_("Statement of the party"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    hearing_requested = forms.BooleanField(label=_("Hearing requested"), required=False)


class HearingForm(forms.Form):
    held_on = _today_field(_("Hearing held on"))
    summary = forms.CharField(label=_("Hearing record"), widget=forms.Textarea(attrs={"rows": 2}))


class DateForm(forms.Form):
    date = _today_field(_("Date"))


class LetterForm(forms.Form):
    addressee = forms.CharField(label=_("Addressee"), max_length=200)
    content = forms.CharField(label=_("Content"), widget=forms.Textarea(attrs={"rows": 3}))
    deadline = forms.DateField(label=_("Reply by"), widget=DATE)
    issued_on = _today_field(_("Issued on"))


class ReplyForm(forms.Form):
    reply = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 2}))
    replied_on = _today_field(_("Replied on"))


class InterviewForm(forms.Form):
    held_on = _today_field(_("Held on"))
    attendees = forms.CharField(label=_("Attendees"), widget=forms.Textarea(attrs={"rows": 2}))
    topics = forms.CharField(label=_("Topics"), widget=forms.Textarea(attrs={"rows": 2}))
    commitments = forms.CharField(
        label=_("Commitments"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    follow_up_on = forms.DateField(label=_("Follow-up check on"), required=False, widget=DATE)


class FollowUpForm(forms.Form):
    result = forms.CharField(label=_("Follow-up result"), widget=forms.Textarea(attrs={"rows": 2}))
    checked_on = _today_field(_("Checked on"))


class ReferralForm(forms.Form):
    authority = forms.CharField(
        label=_("Receiving authority"),
        max_length=200,
        initial=_("City Emergency Management Bureau"),
    )
    reason = forms.CharField(
        label=_("Reason and legal basis"), widget=forms.Textarea(attrs={"rows": 3})
    )


class DocumentsForm(forms.Form):
    files = MultipleFileField(label=_("Documents (photos or PDF)"))


class ResultForm(forms.Form):
    result = forms.CharField(label=_("Result"), widget=forms.Textarea(attrs={"rows": 2}))
    result_on = _today_field(_("Received on"))


class CloseForm(forms.Form):
    note = forms.CharField(label=_("How the case ended"), widget=forms.Textarea(attrs={"rows": 2}))
    closed_on = _today_field(pgettext_lazy("case", "Closed on"))


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason for withdrawal"), max_length=200)

"""The enforcement ledger (执法台账): every act, one row each, penalties first."""

import datetime

from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yingji.core import ledger
from yingji.enforcement.models import Interview, Penalty, Referral, SupervisionLetter

TITLE = gettext_lazy("Enforcement ledger")
HEADERS = [
    (gettext_lazy("Kind"), 12),
    (gettext_lazy("Date"), 12, ledger.DATE),
    (gettext_lazy("Enterprise"), 36),
    (gettext_lazy("Credit code"), 22),
    (gettext_lazy("Document number"), 24),
    (gettext_lazy("Amount (yuan)"), 14, ledger.MONEY),
    (gettext_lazy("Status"), 12),
    (gettext_lazy("Legal basis / content"), 48),
]
# Each act's date: a penalty's is its decision, or its notice before it is decided.
DATE_FIELDS = {
    Penalty: "act_date",
    SupervisionLetter: "issued_on",
    Interview: "held_on",
    Referral: "sent_on",
}


def acts(*, start=None, end=None, user=None, region=None) -> dict:
    """The four act querysets, in scope and (when given) dated in [start, end]."""
    out = {}
    for model, field in DATE_FIELDS.items():
        qs = model.objects.select_related("case__enterprise")
        if model is Penalty:
            qs = qs.annotate(act_date=Coalesce("decided_on", "notified_on"))
        qs = ledger.in_scope(qs, user=user, region=region, region_field="case__enterprise__region")
        if start is not None or end is not None:
            qs = ledger.in_period(qs, field, start, end).order_by(field, "pk")
        out[model] = qs
    return out


def rows(querysets: dict):
    for p in querysets[Penalty]:
        yield (
            _("Administrative penalty"),
            p.decided_on or p.notified_on,
            p.case.enterprise.name,
            p.case.enterprise.uscc,
            p.decision_no or p.notice_no,
            p.amount,
            p.get_status_display(),
            p.legal_basis,
        )
    for x in querysets[SupervisionLetter]:
        yield (
            _("Supervision letter"),
            x.issued_on,
            x.case.enterprise.name,
            x.case.enterprise.uscc,
            x.number,
            None,
            _("Replied") if x.replied_on else _("Awaiting reply"),
            x.content,
        )
    for x in querysets[Interview]:
        yield (
            _("Warning interview"),
            x.held_on,
            x.case.enterprise.name,
            x.case.enterprise.uscc,
            "",
            None,
            "",
            x.topics,
        )
    for x in querysets[Referral]:
        yield (
            _("Case referral"),
            x.sent_on,
            x.case.enterprise.name,
            x.case.enterprise.uscc,
            x.number,
            None,
            x.get_status_display(),
            x.reason,
        )


def build(
    *,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    user=None,
    region=None,
) -> ledger.Sheet:
    """The acts dated in [start, end]; without a period every act, undated drafts included."""
    qs = acts(start=start, end=end, user=user, region=region)
    return ledger.Sheet("enforcement", TITLE, HEADERS, rows(qs))

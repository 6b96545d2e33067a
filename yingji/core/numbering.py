"""Document numbers such as 城应急责改〔2025〕12号: unique and gapless per type and year.

The counter row is locked for the rest of the caller's transaction, so a number is only
consumed when the business act that uses it commits; a rolled-back act leaves no gap.
"""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from yingji.core.models import DocumentCounter, IssuedNumber

# doc_type → (short word in the number, human name). Apps add their own in AppConfig.ready.
DOC_TYPES: dict[str, tuple[str, str]] = {
    "rectification_order": ("责改", _("Rectification order")),
    "reinspection_opinion": ("复查", _("Re-inspection opinion")),
    "inspection_record": ("检记", _("On-site inspection record")),
    "supervision_letter": ("督", _("Supervision letter")),
    "penalty_notice": ("罚告", _("Penalty notice")),
    "penalty_decision": ("罚决", _("Penalty decision")),
    "referral": ("移", _("Case referral")),
}


def register(doc_type: str, word: str, name) -> None:
    DOC_TYPES[doc_type] = (word, name)


def format_number(doc_type: str, year: int, seq: int) -> str:
    word = DOC_TYPES[doc_type][0]
    return f"{settings.DOC_PREFIX}{word}〔{year}〕{seq}号"


def issue_number(doc_type: str, year: int, *, by=None, subject: str = "") -> IssuedNumber:
    """Take the next number of a type and year; call inside the act's transaction."""
    if doc_type not in DOC_TYPES:
        raise KeyError(f"unknown document type {doc_type!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("issue_number must run inside transaction.atomic()")
    # Create the row if missing without racing: a concurrent creator makes this a no-op.
    DocumentCounter.objects.bulk_create(
        [DocumentCounter(doc_type=doc_type, year=year)], ignore_conflicts=True
    )
    counter = DocumentCounter.objects.select_for_update().get(doc_type=doc_type, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return IssuedNumber.objects.create(
        doc_type=doc_type,
        year=year,
        seq=counter.last,
        text=format_number(doc_type, year, counter.last),
        issued_by=by,
        subject=subject[:200],
    )

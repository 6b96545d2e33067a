"""The `enforcement` record type: one record per act, each in a case of its own on import."""

import datetime
import decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from yingji.core import audit
from yingji.core.interchange import Field, Problem, RecordType, register
from yingji.enforcement.models import Case, Interview, Penalty, Referral, SupervisionLetter

# Model fields as the record names them, for error messages.
RECORD_FIELD = {
    "number": "document_no",
    "decision_no": "document_no",
    "legal_basis": "basis",
    "content": "basis",
    "topics": "basis",
    "reason": "basis",
    "decided_on": "date",
    "issued_on": "date",
    "held_on": "date",
    "sent_on": "date",
}
# Fields a ledger row does not carry, left blank on import.
LEDGER_BLANKS = ["addressee", "attendees", "authority", "created_by", "facts"]

KINDS = {
    "penalty": Penalty,
    "supervision_letter": SupervisionLetter,
    "interview": Interview,
    "referral": Referral,
}


class EnforcementType(RecordType):
    type = "enforcement"
    model = Penalty  # refs are looked up across all four act tables, see `existing`
    fields = (
        Field("enterprise", kind="ref", required=True, ref_type="enterprise"),
        Field("kind", kind="enum", required=True, choices=tuple(KINDS)),
        Field("date", kind="date", required=True),
        Field("amount", kind="decimal"),
        Field("basis", max_length=300),
        Field("document_no", max_length=64),
    )

    def check(self, data: dict) -> list[tuple[str, str]]:
        problems = []
        if data["kind"] == "penalty":
            if "amount" not in data or decimal.Decimal(data["amount"]) <= 0:
                problems.append(("amount", _("a penalty needs a positive amount")))
            if not data.get("basis"):
                problems.append(("basis", _("a penalty needs its legal basis")))
        elif "amount" in data:
            problems.append(("amount", _("only a penalty has an amount")))
        if data["kind"] == "interview" and data.get("document_no"):
            problems.append(
                ("document_no", _("only a penalty, a letter or a referral has a number"))
            )
        return problems

    def _existing(self, refs: list[str]) -> dict:
        found = {}
        for kind, model in KINDS.items():
            for act in model.objects.filter(ref__in=refs).select_related("case"):
                found[act.ref] = (kind, act)
        return found

    def _carried(self, kind: str, data: dict) -> dict:
        """The act's fields that a record carries; an update changes these and no others."""
        date = datetime.date.fromisoformat(data["date"])
        no, basis = data.get("document_no", ""), data.get("basis", "")
        if kind == "penalty":
            return {
                "amount": decimal.Decimal(data["amount"]),
                "legal_basis": basis,
                "decision_no": no,
                "decided_on": date,
            }
        if kind == "supervision_letter":
            return {"content": basis, "issued_on": date, "number": no or f"imported-{data['_ref']}"}
        if kind == "interview":
            return {"held_on": date, "topics": basis}
        return {"reason": basis, "number": no, "sent_on": date}

    def _new(self, kind: str, data: dict) -> dict:
        """A new act from a record: the carried fields plus what the ledger implies."""
        values = self._carried(kind, data)
        basis, date = data.get("basis", ""), values.get("decided_on")
        if kind == "penalty":
            values.update(facts=basis, status=Penalty.Status.DECIDED, notified_on=date)
        elif kind == "supervision_letter":
            values.update(addressee="", deadline=values["issued_on"])
        elif kind == "interview":
            values.update(attendees="")
        else:
            values.update(authority=basis, status=Referral.Status.SENT)
        return values

    def _problems(self, ctx, loc: str, exc: ValidationError) -> None:
        for name, messages in exc.message_dict.items():
            ctx.problems.append(Problem(loc, RECORD_FIELD.get(name, name), "; ".join(messages)))

    def write(self, batch, ctx) -> list[audit.Change]:
        ctx.prefetch("enterprise", (d["enterprise"] for _r, _l, d in batch))
        existing = self._existing([ref for ref, _l, _d in batch])
        changes = []
        for ref, loc, data in batch:
            kind, enterprise_id = data["kind"], ctx.resolve("enterprise", data["enterprise"])
            data = {**data, "_ref": ref}
            if ref in existing:
                old_kind, act = existing[ref]
                if old_kind != kind:
                    ctx.problems.append(Problem(loc, "kind", _("an act cannot change its kind")))
                    continue
                if act.case.enterprise_id != enterprise_id:
                    ctx.problems.append(
                        Problem(loc, "enterprise", _("an act cannot move to another enterprise"))
                    )
                    continue
                before = audit.snapshot(act)
                for name, value in self._carried(kind, data).items():
                    setattr(act, name, value)
                try:
                    act.full_clean(exclude=["case", *LEDGER_BLANKS])
                except ValidationError as exc:
                    self._problems(ctx, loc, exc)
                    continue
                after = audit.snapshot(act)
                if after != before:
                    act.save()
                    changes.append(audit.Change("update", act, before, after, note="import"))
                continue
            date = datetime.date.fromisoformat(data["date"])
            case = Case(
                enterprise_id=enterprise_id,
                title=str(_("Imported record")),
                opened_on=date,
                status=Case.Status.CLOSED,
                closed_on=date,
            )
            act = KINDS[kind](ref=ref, case=case, **self._new(kind, data))
            try:
                act.full_clean(exclude=["case", *LEDGER_BLANKS])
            except ValidationError as exc:
                self._problems(ctx, loc, exc)
                continue
            case.save()
            act.case = case
            act.save()
            case_change = audit.Change("create", case, None, audit.snapshot(case), note="import")
            case_change.counted = False  # the act is the record; its case comes with it
            changes.append(case_change)
            changes.append(audit.Change("create", act, None, audit.snapshot(act), note="import"))
        return changes

    def export_records(self, user=None, queryset=None):
        """Acts as ledger rows; drafts (no date, no number yet) are not in a ledger."""
        for kind, model in KINDS.items():
            qs = model.objects.select_related("case__enterprise").order_by("pk")
            if user is not None:
                qs = qs.visible_to(user)
            for act in qs.iterator(chunk_size=2000):
                record = {
                    "type": self.type,
                    "ref": act.ref,
                    "enterprise": act.case.enterprise.ref,
                    "kind": kind,
                }
                if kind == "penalty":
                    if act.decided_on is None:
                        continue
                    date, no = act.decided_on, act.decision_no
                    record.update(amount=str(act.amount), basis=act.legal_basis)
                elif kind == "supervision_letter":
                    date, no = act.issued_on, act.number
                    record["basis"] = act.content
                elif kind == "interview":
                    date, no = act.held_on, ""
                    record["basis"] = act.topics
                else:
                    if act.sent_on is None:
                        continue
                    date, no = act.sent_on, act.number
                    record["basis"] = act.reason
                record["date"] = date.isoformat()
                if no:
                    record["document_no"] = no
                if not record.get("basis"):
                    record.pop("basis", None)
                yield record


register(EnforcementType())

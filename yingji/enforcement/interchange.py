"""The `enforcement` record type: one record per act, each in a case of its own on import."""

import datetime
import decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from yingji.core import audit
from yingji.core.interchange import Field, Problem, RecordType, register
from yingji.enforcement.models import Case, Interview, Penalty, Referral, SupervisionLetter

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
        return problems

    def _existing(self, refs: list[str]) -> dict:
        found = {}
        for kind, model in KINDS.items():
            for act in model.objects.filter(ref__in=refs).select_related("case"):
                found[act.ref] = (kind, act)
        return found

    def _values(self, kind: str, data: dict) -> dict:
        date = datetime.date.fromisoformat(data["date"])
        no, basis = data.get("document_no", ""), data.get("basis", "")
        if kind == "penalty":
            return {
                "amount": decimal.Decimal(data["amount"]),
                "legal_basis": basis,
                "facts": basis,
                "decision_no": no,
                "decided_on": date,
                "status": Penalty.Status.DECIDED,
            }
        if kind == "supervision_letter":
            return {
                "addressee": "",
                "content": basis,
                "issued_on": date,
                "deadline": date,
                "number": no or f"imported-{data['_ref']}",
            }
        if kind == "interview":
            return {"held_on": date, "attendees": "", "topics": basis}
        return {
            "authority": basis,
            "reason": basis,
            "number": no,
            "sent_on": date,
            "status": Referral.Status.SENT,
        }

    def write(self, batch, ctx) -> list[audit.Change]:
        ctx.prefetch("enterprise", (d["enterprise"] for _r, _l, d in batch))
        existing = self._existing([ref for ref, _l, _d in batch])
        changes = []
        for ref, loc, data in batch:
            kind, enterprise_id = data["kind"], ctx.resolve("enterprise", data["enterprise"])
            values = self._values(kind, {**data, "_ref": ref})
            if ref in existing:
                old_kind, act = existing[ref]
                if old_kind != kind or act.case.enterprise_id != enterprise_id:
                    ctx.problems.append(
                        Problem(
                            loc, "kind", _("an imported act cannot change its kind or enterprise")
                        )
                    )
                    continue
                before = audit.snapshot(act)
                for name, value in values.items():
                    setattr(act, name, value)
                after = audit.snapshot(act)
                if after != before:
                    act.save()
                    changes.append(audit.Change("update", act, before, after, note="import"))
                continue
            case = Case.objects.create(
                ref=f"C-{ref}"[:64],
                enterprise_id=enterprise_id,
                title=str(_("Imported record")),
                opened_on=values.get("decided_on") or datetime.date.fromisoformat(data["date"]),
                status=Case.Status.CLOSED,
                closed_on=datetime.date.fromisoformat(data["date"]),
            )
            act = KINDS[kind](ref=ref, case=case, **values)
            try:
                act.full_clean(
                    exclude=[
                        "case",
                        "addressee",
                        "attendees",
                        "authority",
                        "reason",
                        "legal_basis",
                        "facts",
                        "content",
                        "topics",
                    ]
                )
            except ValidationError as exc:
                for fname, messages in exc.message_dict.items():
                    ctx.problems.append(Problem(loc, fname, "; ".join(messages)))
                continue
            act.save()
            changes.append(audit.Change("create", case, None, audit.snapshot(case), note="import"))
            changes.append(audit.Change("create", act, None, audit.snapshot(act), note="import"))
        return changes

    def export_records(self, user=None, queryset=None):
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
                    date, no = act.decided_on or act.notified_on, act.decision_no
                    record.update(amount=str(act.amount), basis=act.legal_basis)
                elif kind == "supervision_letter":
                    date, no = act.issued_on, act.number
                    record["basis"] = act.content
                elif kind == "interview":
                    date, no = act.held_on, ""
                    record["basis"] = act.topics
                else:
                    date, no = act.sent_on or act.case.opened_on, act.number
                    record["basis"] = act.reason
                if date is None:
                    continue  # a draft penalty has no date to export yet
                record["date"] = date.isoformat()
                if no:
                    record["document_no"] = no
                if not record.get("basis"):
                    record.pop("basis", None)
                yield record


register(EnforcementType())

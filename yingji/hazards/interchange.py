"""The `hazard` record type."""

from django.utils.translation import gettext as _

from yingji.core.interchange import Field, RecordType, register
from yingji.hazards.models import Category, Hazard


class HazardType(RecordType):
    type = "hazard"
    model = Hazard
    fields = (
        Field("enterprise", kind="ref", required=True, ref_type="enterprise"),
        Field("found_on", kind="date", required=True),
        Field("level", kind="enum", required=True, choices=tuple(Hazard.Level.values)),
        Field("inspection", kind="ref", ref_type="inspection"),
        Field("category", kind="enum", choices=tuple(Category.values), default="other"),
        Field("description", max_length=2000),
        Field("deadline", kind="date"),
        Field("status", kind="enum", required=True, choices=tuple(Hazard.Status.values)),
        Field("closed_on", kind="date"),
    )

    def check(self, data: dict) -> list[tuple[str, str]]:
        problems = []
        found = data["found_on"]
        if data.get("deadline") and data["deadline"] < found:
            problems.append(("deadline", _("the deadline cannot be before the date found")))
        if data["status"] == "closed" and not data.get("closed_on"):
            problems.append(("closed_on", _("a closed hazard needs its closing date")))
        if data.get("closed_on") and data["status"] != "closed":
            problems.append(("closed_on", _("only a closed hazard has a closing date")))
        if data.get("closed_on") and data["closed_on"] < found:
            problems.append(("closed_on", _("the closing date cannot be before the date found")))
        return problems

    def model_values(self, data: dict, ctx) -> dict:
        values = super().model_values(data, ctx)
        values["source"] = (
            Hazard.Source.INSPECTION if values.get("inspection_id") else (Hazard.Source.IMPORT)
        )
        return values


register(HazardType())

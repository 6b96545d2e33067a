"""The `inspection` record type."""

from yingji.core.interchange import Field, RecordType, register
from yingji.inspections.models import Inspection, Mode

METHODS = ("onsite", "ledger")


class InspectionType(RecordType):
    type = "inspection"
    model = Inspection
    fields = (
        Field("enterprise", kind="ref", required=True, ref_type="enterprise"),
        Field("date", kind="date", required=True),
        Field("mode", kind="enum", required=True, choices=tuple(Mode.values)),
        Field("methods", kind="enum", many=True, choices=METHODS),
        Field("inspectors", kind="str", many=True, max_length=64),
        Field("status", kind="enum", choices=tuple(Inspection.Status.values), default="completed"),
    )

    def model_values(self, data: dict, ctx) -> dict:
        values = super().model_values(data, ctx)
        methods = values.pop("methods") or ["onsite"]
        values["onsite"], values["ledger"] = "onsite" in methods, "ledger" in methods
        values["inspector_names"] = "、".join(values.pop("inspectors") or [])
        return values

    def export_value(self, f: Field, obj: Inspection) -> object:
        if f.name == "methods":
            return [m for m in METHODS if getattr(obj, m)]
        if f.name == "inspectors":
            return [n for n in obj.inspector_names.split("、") if n]
        return super().export_value(f, obj)


register(InspectionType())

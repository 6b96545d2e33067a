"""The `enterprise` record type."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from yingji.core.interchange import Field, RecordType, register
from yingji.core.models import Region
from yingji.enterprises.models import Enterprise, Feature, RiskGrade, Sector
from yingji.enterprises.validators import validate_phone, validate_uscc


def _uscc(value: str) -> None:
    if value != value.upper():
        raise ValidationError(_("use capital letters"))
    validate_uscc(value)


class EnterpriseType(RecordType):
    type = "enterprise"
    model = Enterprise
    fields = (
        Field("name", required=True, max_length=200),
        Field("uscc", required=True, validators=(_uscc,)),
        Field("sector", kind="enum", required=True, choices=tuple(Sector.values)),
        Field("features", kind="enum", many=True, choices=tuple(Feature.values)),
        Field("region", kind="ref", required=True, ref_type="region"),
        Field("address", max_length=300),
        Field("risk_grade", kind="enum", choices=tuple(RiskGrade.values)),
        Field("status", kind="enum", choices=tuple(Enterprise.Status.values), default="active"),
        Field("standardized", kind="bool", default=False),
        Field("contact_name", max_length=64),
        Field("contact_phone", max_length=32, validators=(validate_phone,)),
    )

    def unique_keys(self, data: dict) -> dict[str, str]:
        if data.get("status", "active") == "active":
            return {"uscc": data["uscc"]}
        return {}

    def unique_clash_in_db(self, key: str, values: list[str]) -> dict[str, str]:
        rows = Enterprise.objects.filter(uscc__in=values, status="active")
        return dict(rows.values_list("uscc", "ref"))

    def model_values(self, data: dict, ctx) -> dict:
        values = super().model_values(data, ctx)
        features = values.pop("features") or []
        values["features"] = ("," + ",".join(features) + ",") if features else ""
        return values

    def prepare(self, obj: Enterprise, ctx) -> None:
        levels = ctx.memo("region_levels", lambda: dict(Region.objects.values_list("pk", "level")))
        if levels.get(obj.region_id) == Region.Level.DISTRICT:
            raise ValidationError({"region": _("choose a town or village, not the district")})

    def export_value(self, f: Field, obj: Enterprise) -> object:
        if f.name == "features":
            return obj.feature_list
        return super().export_value(f, obj)


register(EnterpriseType())

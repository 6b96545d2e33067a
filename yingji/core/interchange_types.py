"""The `region` record type."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from yingji.core.interchange import Field, RecordType, register
from yingji.core.models import Region

LEVEL_ORDER = {"district": 0, "town": 1, "village": 2}


class RegionType(RecordType):
    type = "region"
    model = Region
    fields = (
        Field("name", required=True, max_length=100),
        Field("level", kind="enum", required=True, choices=tuple(Region.Level.values)),
        Field("parent", kind="ref", ref_type="region"),
        Field("code", max_length=12),
    )

    def phase(self, data: dict) -> int:
        return LEVEL_ORDER[data["level"]]

    def check(self, data: dict) -> list[tuple[str, str]]:
        if data["level"] == "district" and data.get("parent"):
            return [("parent", _("a district has no parent region"))]
        if data["level"] != "district" and not data.get("parent"):
            return [("parent", _("a %(level)s needs a parent region") % {"level": data["level"]})]
        return []

    def prepare(self, obj: Region, ctx) -> None:
        if obj.parent_id and obj.parent_id != getattr(obj.parent, "pk", None):
            obj.parent = Region.objects.get(pk=obj.parent_id)
        if obj.parent_id:
            expected = Region.PARENT_LEVEL[obj.level]
            if obj.parent.level != expected:
                # The parent's level may come from this same file, so this is checked while
                # writing; the import then rolls back whole and reports the line.
                raise ValidationError(
                    {
                        "parent": _("the parent of a %(level)s must be a %(parent)s")
                        % {"level": obj.level, "parent": expected}
                    }
                )
        obj.path = obj.compute_path()


register(RegionType())

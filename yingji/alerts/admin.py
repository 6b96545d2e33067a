"""Admin: templates and recipient units are kept here (every change audited); alerts, their
recipients and deliveries are browsed only — they change through the services."""

from django.contrib import admin
from django.db import models, transaction

from yingji.alerts.models import (
    Alert,
    AlertTemplate,
    Contact,
    Dispatch,
    IngestEvent,
    Recipient,
    RollCall,
    Unit,
)
from yingji.core import audit


class AuditedAdmin(admin.ModelAdmin):
    """Each save and delete, inline rows included, is one audited act."""

    def save_model(self, request, obj, form, change) -> None:
        with transaction.atomic():
            if change:
                before = audit.snapshot(type(obj).objects.get(pk=obj.pk))
                obj.save()
                audit.record(
                    "update", obj, actor=request.user, before=before, after=audit.snapshot(obj)
                )
            else:
                obj.save()
                audit.created(obj, actor=request.user, note="admin")

    def delete_model(self, request, obj) -> None:
        with transaction.atomic():
            audit.record("delete", obj, actor=request.user, before=audit.snapshot(obj))
            obj.delete()

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change) -> None:
        with transaction.atomic():
            old = {
                o.pk: audit.snapshot(o)
                for o in formset.model.objects.filter(
                    pk__in=[f.instance.pk for f in formset.forms if f.instance.pk]
                )
            }
            instances = formset.save(commit=False)
            for obj in formset.deleted_objects:
                audit.record("delete", obj, actor=request.user, before=old.get(obj.pk))
                obj.delete()
            for obj in instances:
                is_new = obj.pk is None
                obj.save()
                if is_new:
                    audit.created(obj, actor=request.user, note="admin")
                else:
                    audit.record(
                        "update",
                        obj,
                        actor=request.user,
                        before=old.get(obj.pk),
                        after=audit.snapshot(obj),
                    )
            formset.save_m2m()


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AlertTemplate)
class AlertTemplateAdmin(AuditedAdmin):
    list_display = ("name", "kind", "hazard_type", "level", "valid_hours", "active")
    list_filter = ("kind", "hazard_type", "level", "active")
    search_fields = ("name", "headline")


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 1
    fields = ("position", "role", "name", "phone", "email", "user")
    raw_id_fields = ("user",)


@admin.register(Unit)
class UnitAdmin(AuditedAdmin):
    list_display = ("name", "kind", "region", "enterprise", "robot_kind", "active")
    list_filter = ("kind", "robot_kind", "active")
    search_fields = ("name", "region__name", "enterprise__name")
    raw_id_fields = ("region", "enterprise")
    inlines = [ContactInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class RecipientInline(admin.TabularInline):
    model = Recipient
    extra = 0
    can_delete = False
    fields = ("unit", "state", "step", "delivered_at", "acknowledged_at", "ack_method", "ack_name")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("headline", "kind", "level", "status", "issued_at", "source")
    list_filter = ("kind", "level", "status", "source")
    search_fields = ("headline", "ref", "source_id")
    date_hierarchy = "created_at"
    inlines = [RecipientInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by", "issued_by")


@admin.register(Dispatch)
class DispatchAdmin(ReadOnlyAdmin):
    list_display = ("recipient", "channel", "at", "notification", "webhook")
    list_filter = ("channel",)
    list_select_related = ("recipient__alert", "recipient__unit", "notification", "webhook")


@admin.register(IngestEvent)
class IngestEventAdmin(ReadOnlyAdmin):
    list_display = ("source", "event_id", "hazard_type", "level", "region", "received_at")
    list_filter = ("source", "hazard_type", "level")
    search_fields = ("event_id",)


@admin.register(RollCall)
class RollCallAdmin(ReadOnlyAdmin):
    list_display = ("ref", "held_at", "topic", "held_by")
    search_fields = ("ref", "topic")

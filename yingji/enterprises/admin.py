from django.contrib import admin

from yingji.enterprises.models import Enterprise, EnterpriseAccount


class AccountInline(admin.TabularInline):
    model = EnterpriseAccount
    extra = 0


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    """Browsing only; registration changes go through the app's pages so they are audited."""

    list_display = ("name", "uscc", "sector", "risk_grade", "region", "status")
    list_filter = ("sector", "risk_grade", "status")
    search_fields = ("name", "uscc", "ref")
    inlines = [AccountInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

import datetime

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yingji.core import attachments, audit
from yingji.core.access import capability_required
from yingji.core.forms import ImportForm, ThrottledLoginForm
from yingji.core.imports import get_progress, start_import
from yingji.core.models import Attachment, AuditEntry, Department, ImportJob, Notification, Region


class LoginView(auth_views.LoginView):
    form_class = ThrottledLoginForm
    template_name = "core/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "core/password_change.html"
    success_url = reverse_lazy("core-home")

    def form_valid(self, form):
        messages.success(self.request, _("Your password has been changed."))
        return super().form_valid(form)


# Domain apps add panels to the home page (core imports no domain app): callables taking
# the user and returning (template name, context) or None. A panel's `home_order` attribute
# (default 100, lower first) places it whatever the order the apps registered in: the
# dashboard (stats) sets 0, so whoever may see the figures lands on them.
HOME_PANELS: list = []


@login_required
def home(request: HttpRequest) -> HttpResponse:
    ordered = sorted(HOME_PANELS, key=lambda panel: getattr(panel, "home_order", 100))
    panels = [p for p in (panel(request.user) for panel in ordered) if p is not None]
    notifications = request.user.notifications.filter(channel="inapp")[:5]
    return render(request, "core/home.html", {"panels": panels, "notifications": notifications})


@capability_required("region.view")
def region_list(request: HttpRequest) -> HttpResponse:
    regions = (
        Region.objects.visible_to(request.user)
        .select_related("parent")
        .annotate(n_enterprises=Count("enterprises", filter=Q(enterprises__status="active")))
    )
    return render(request, "core/region_list.html", {"regions": regions})


@login_required
def department_list(request: HttpRequest) -> HttpResponse:
    departments = Department.objects.annotate(n_staff=Count("user"))
    return render(request, "core/department_list.html", {"departments": departments})


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    notes = request.user.notifications.filter(channel=Notification.Channel.INAPP)
    page = Paginator(notes, 30).get_page(request.GET.get("page"))
    return render(request, "core/inbox.html", {"page": page})


@require_POST
@login_required
def inbox_read(request: HttpRequest) -> HttpResponse:
    request.user.notifications.filter(
        channel=Notification.Channel.INAPP, read_at__isnull=True
    ).update(read_at=timezone.now())
    return redirect("core-inbox")


@capability_required("audit.view")
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.select_related("actor").order_by("-seq")
    if q := request.GET.get("type"):
        entries = entries.filter(target_type=q)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_log.html", {"page": page})


@login_required
def attachment_download(request: HttpRequest, pk) -> FileResponse:
    att = get_object_or_404(Attachment.objects.select_related("owner_type"), pk=pk)
    if attachments.owner_visible(att, request.user) is None:
        raise Http404
    return FileResponse(
        att.file.open("rb"),
        content_type=att.content_type,
        as_attachment=request.GET.get("inline") != "1",
        filename=att.original_name,
    )


@capability_required("enterprise.import")
def import_new(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = start_import(form.cleaned_data["file"], by=request.user)
        return redirect("core-import-detail", pk=job.pk)
    jobs = ImportJob.objects.filter(created_by=request.user)[:10]
    return render(request, "core/import_new.html", {"form": form, "jobs": jobs})


def _own_job(request: HttpRequest, pk) -> ImportJob:
    job = get_object_or_404(ImportJob, pk=pk)
    if job.created_by_id != request.user.pk and not request.user.can("audit.view"):
        raise PermissionDenied
    return job


@capability_required("enterprise.import")
def import_detail(request: HttpRequest, pk) -> HttpResponse:
    job = _own_job(request, pk)
    template = "core/_import_status.html" if request.htmx else "core/import_detail.html"
    return render(request, template, {"job": job, "progress": get_progress(job.pk)})


def _readable(field, value, related: dict):
    """A stored snapshot value as a person reads it (labels, names, local times)."""
    if value is None or value == "":
        return None
    if field is None:
        return value
    if field.choices:
        return dict(field.choices).get(value, value)
    if field.is_relation:
        return related.get((field.attname, value), value)
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        return date_format(timezone.localtime(moment), "Y-m-d H:i")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return value


def history_context(obj) -> list[dict]:
    """The record's latest audit entries, with fields, choices, links and times readable."""
    fields = {f.attname: f for f in obj._meta.concrete_fields}
    entries = list(audit.history(obj).order_by("-seq")[:100])
    # One query per related model for the names of every id the entries mention.
    wanted: dict = {}
    for entry in entries:
        for name, old, new in entry.changes():
            field = fields.get(name)
            if field is not None and field.is_relation:
                wanted.setdefault(field, set()).update(v for v in (old, new) if v is not None)
    related = {}
    for field, ids in wanted.items():
        for target in field.related_model._default_manager.filter(pk__in=ids):
            related[(field.attname, target.pk)] = str(target)
    rows = []
    for entry in entries:
        changes = []
        for name, old, new in entry.changes():
            if name == "updated_at":
                continue
            field = fields.get(name)
            label = field.verbose_name if field is not None else name
            changes.append(
                (name, label, _readable(field, old, related), _readable(field, new, related))
            )
        rows.append({"entry": entry, "changes": changes})
    return rows

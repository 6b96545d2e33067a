import tempfile

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yingji.core import attachments
from yingji.core.access import capability_required, get_visible
from yingji.core.actions import perform
from yingji.core.forms import UploadForm
from yingji.core.interchange import REGISTRY, jsonl_lines, write_xlsx
from yingji.core.views import history_context
from yingji.enterprises import services
from yingji.enterprises.forms import EnterpriseFilterForm, EnterpriseForm
from yingji.enterprises.models import Enterprise, Sector

PAGE_SIZE = 25
# Apps that build on the registry (inspections, hazards…) add panels to an enterprise's page:
# callables (request, enterprise) → (template, context) or None.
DETAIL_PANELS: list = []


def home_panel(user) -> tuple[str, dict]:
    """Counts for the home page, inside the user's scope."""
    qs = Enterprise.objects.visible_to(user).filter(status=Enterprise.Status.ACTIVE)
    by_sector = dict(qs.values_list("sector").annotate(n=Count("pk")).order_by())
    labels = dict(Sector.choices)
    return "enterprises/_home_panel.html", {
        "total": sum(by_sector.values()),
        "by_sector": [(key, labels[key], by_sector.get(key, 0)) for key in Sector.values],
    }


def _filtered(request: HttpRequest):
    form = EnterpriseFilterForm(request.GET or None, user=request.user)
    qs = Enterprise.objects.visible_to(request.user)
    qs = form.filter(qs) if request.GET else qs.filter(status=Enterprise.Status.ACTIVE)
    return form, qs


@capability_required("enterprise.view")
def enterprise_list(request: HttpRequest) -> HttpResponse:
    form, qs = _filtered(request)
    qs = qs.select_related("region__parent").order_by("name", "pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_edit": request.user.can("enterprise.edit"),
        "can_export": request.user.can("enterprise.export"),
        "can_import": request.user.can("enterprise.import"),
    }
    template = "enterprises/_table.html" if request.htmx else "enterprises/list.html"
    return render(request, template, ctx)


@capability_required("enterprise.export")
def enterprise_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The filtered list in the interchange format (so it can be edited and imported back)."""
    _form, qs = _filtered(request)
    chosen, querysets = [REGISTRY["enterprise"]], {"enterprise": qs}
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "jsonl":
        response = StreamingHttpResponse(
            jsonl_lines(chosen, querysets=querysets), content_type="application/jsonl"
        )
        response["Content-Disposition"] = f'attachment; filename="enterprises-{stamp}.jsonl"'
        return response
    tmp = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it)
    for _row in write_xlsx(tmp, chosen, querysets=querysets):
        pass
    tmp.seek(0)
    return FileResponse(tmp, as_attachment=True, filename=f"enterprises-{stamp}.xlsx")


@capability_required("enterprise.view")
def enterprise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ent = get_visible(Enterprise.objects.select_related("region__parent"), request.user, pk=pk)
    ctx = {
        "ent": ent,
        "history": history_context(ent),
        "attachments": attachments.for_owner(ent),
        "upload_form": UploadForm(),
        "can_edit": Enterprise.objects.editable_by(request.user).filter(pk=pk).exists(),
        "can_upload": request.user.can("attachment.upload"),
        "panels": [p for p in (panel(request, ent) for panel in DETAIL_PANELS) if p is not None],
    }
    return render(request, "enterprises/detail.html", ctx)


def _save(request: HttpRequest, form: EnterpriseForm, ent: Enterprise | None):
    """Run the service and map its field errors back onto the form."""
    if ent is None:
        return perform(
            request, lambda: services.create_enterprise(by=request.user, **form.values()), form=form
        )
    return perform(
        request,
        lambda: services.update_enterprise(ent, by=request.user, **form.values()),
        form=form,
    )


@capability_required("enterprise.edit")
def enterprise_create(request: HttpRequest) -> HttpResponse:
    form = EnterpriseForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid() and (ent := _save(request, form, None)):
        messages.success(request, _("Enterprise registered."))
        return redirect(ent)
    return render(request, "enterprises/form.html", {"form": form, "ent": None})


@capability_required("enterprise.edit")
def enterprise_edit(request: HttpRequest, pk: int) -> HttpResponse:
    ent = get_visible(Enterprise.objects.editable_by(request.user), request.user, pk=pk)
    form = EnterpriseForm(request.POST or None, instance=ent, user=request.user)
    if request.method == "POST" and form.is_valid() and (saved := _save(request, form, ent)):
        messages.success(request, _("Changes saved."))
        return redirect(saved)
    return render(request, "enterprises/form.html", {"form": form, "ent": ent})


@require_POST
@capability_required("attachment.upload")
def enterprise_upload(request: HttpRequest, pk: int) -> HttpResponse:
    ent = get_visible(Enterprise.objects, request.user, pk=pk)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachments.attach(
                ent,
                form.cleaned_data["file"],
                by=request.user,
                caption=form.cleaned_data["caption"],
            )
        except ValidationError as exc:
            form.add_error("file", exc)
    if form.errors:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        messages.success(request, _("File uploaded."))
    return redirect(ent)

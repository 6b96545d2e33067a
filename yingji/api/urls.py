"""The REST API: each app's router mounted under /api/v1/."""

from django.core.exceptions import PermissionDenied, ValidationError
from ninja import NinjaAPI

from yingji.alerts.api import router as alerts_router
from yingji.alerts.api_cap import router as cap_router
from yingji.alerts.api_rollcall import router as rollcall_router
from yingji.api.auth import ActiveSessionAuth, TokenAuth
from yingji.core.api import router as core_router
from yingji.enforcement.api import router as enforcement_router
from yingji.enterprises.api import router as enterprise_router
from yingji.hazards.api import router as hazard_router
from yingji.inspections.api import router as inspection_router
from yingji.stats.api import router as stats_router
from yingji.tips.api import router as tips_router

api = NinjaAPI(
    title="yingji API",
    version="1",
    description="REST API of the district emergency management platform. "
    "Authenticate with the browser session or `Authorization: Bearer <token>` "
    "(create a token with `yingji token create USER NAME`).",
    auth=[TokenAuth(), ActiveSessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": "invalid", "errors": errors}, status=422)


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return api.create_response(request, {"detail": "forbidden"}, status=403)


api.add_router("/", core_router)
api.add_router("/enterprises", enterprise_router)
api.add_router("/", inspection_router)
api.add_router("/hazards", hazard_router)
api.add_router("/enforcement", enforcement_router)
api.add_router("/tips", tips_router)
# The CAP feed and the ingest endpoint come first: /alerts/feed must not match /alerts/{id}.
api.add_router("/alerts", cap_router)
api.add_router("/alerts", alerts_router)
api.add_router("/rollcalls", rollcall_router)
api.add_router("/stats", stats_router)

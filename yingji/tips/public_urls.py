"""The public tip portal, mounted at /public/tips/ (no account; the code is never in a URL)."""

from django.urls import path

from yingji.tips import public

urlpatterns = [
    path("new", public.tip_new, name="public-tip-new"),
    path("enterprises", public.enterprise_search, name="public-tip-enterprises"),
    path("status", public.tip_status, name="public-tip-status"),
    path("status/answer", public.tip_answer, name="public-tip-answer"),
    path("status/claim", public.tip_claim, name="public-tip-claim"),
    path("status/waive", public.tip_waive, name="public-tip-waive"),
    path("status/leave", public.tip_leave, name="public-tip-leave"),
]

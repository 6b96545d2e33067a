from django.conf import settings

from yingji.core.roles import CAPABILITIES


def site(request) -> dict:
    """Site name, unread count and the viewer's capabilities (as `can.enterprise_edit`)."""
    user = getattr(request, "user", None)
    unread, can = 0, {}
    if user is not None and user.is_authenticated:
        unread = user.notifications.filter(channel="inapp", read_at__isnull=True).count()
        can = {name.replace(".", "_"): user.can(name) for name in CAPABILITIES}
    return {"SITE_NAME": settings.SITE_NAME, "unread_count": unread, "can": can}

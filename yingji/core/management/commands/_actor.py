from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def resolve_actor(username: str | None):
    """The user a command acts as; none means the system itself."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no such user: {username}")
    return user

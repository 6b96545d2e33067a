"""Business acts of the core domain: users and API tokens."""

from django.db import transaction

from yingji.core import audit
from yingji.core.models import ApiToken


def create_api_token(user, name: str, *, by) -> tuple[ApiToken, str]:
    """Create a token; the key is returned once and only its hash is kept."""
    key = ApiToken.new_key()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name[:100], prefix=key[3:11], key_hash=ApiToken.hash_key(key)
        )
        audit.record("create", token, actor=by, after=audit.snapshot(token))
    return token, key


def revoke_api_token(prefix: str, *, by) -> int:
    with transaction.atomic():
        tokens = list(ApiToken.objects.select_for_update().filter(prefix=prefix, revoked=False))
        for token in tokens:
            before = audit.snapshot(token)
            token.revoked = True
            token.save(update_fields=["revoked"])
            audit.record(
                "update",
                token,
                actor=by,
                before=before,
                after=audit.snapshot(token),
            )
    return len(tokens)


def create_user(
    *,
    by,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    email: str = "",
    region=None,
    department=None,
    is_staff: bool = False,
):
    """Create an account with its role and scope."""
    from django.contrib.auth import get_user_model

    user = get_user_model()(
        username=username,
        role=role,
        full_name=full_name,
        email=email,
        region=region,
        department=department,
        is_staff=is_staff,
        is_superuser=is_staff,
    )
    user.set_password(password)
    user.full_clean()
    with transaction.atomic():
        user.save()
        audit.record("create", user, actor=by, after=audit.snapshot(user))
    return user

"""Reporters' identities are encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256)."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.TIPS_KEY
    if not key:
        # Development and tests only: production sets TIPS_KEY (docs/deploy.md), kept apart
        # from the database backups.
        key = base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest())
    return Fernet(key)


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode() if text else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return "?"


def code_hash(code: str) -> str:
    from yingji.lib.secrets import digest

    return digest(code, settings.SECRET_KEY)

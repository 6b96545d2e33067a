"""Small secrets helpers that know nothing of Django."""

import hashlib
import hmac
import secrets


def receipt_code(digits: int = 20) -> str:
    """A random receipt code of decimal digits (never derived from an id)."""
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def digest(code: str, pepper: str) -> str:
    """Keyed hash of a code: the database stores this, never the code."""
    return hmac.new(pepper.encode(), code.encode(), hashlib.sha256).hexdigest()

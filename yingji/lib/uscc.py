"""统一社会信用代码 (GB 32100-2015): 18 characters, the last a check character."""

from operator import getitem

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Position 1: registration authority; position 2: entity type within it.
AUTHORITIES = "123456789ANY"
# Precomputed: an import checks 100k+ codes, and ALPHABET.index in a Python loop was a
# visible part of its validation. Per position, character → its value times the weight.
_WEIGHTED = tuple({c: i * w for i, c in enumerate(ALPHABET)} for w in WEIGHTS)
_CHARS = frozenset(ALPHABET)


def _check(first17: str) -> str:
    return ALPHABET[(31 - sum(map(getitem, _WEIGHTED, first17)) % 31) % 31]


def check_character(first17: str) -> str:
    """Return the check character for the first 17 characters of a code."""
    if len(first17) != 17 or not _CHARS.issuperset(first17):
        raise ValueError(f"not 17 characters of the code alphabet: {first17!r}")
    return _check(first17)


def problem(code: str) -> str | None:
    """Say what is wrong with a code, or None when it is valid."""
    if len(code) != 18:
        return "length"
    if not _CHARS.issuperset(code):
        return "charset"
    if code[0] not in AUTHORITIES:
        return "authority"
    if not code[2:8].isdigit():
        return "division"
    if _check(code[:17]) != code[17]:
        return "check"
    return None


def make(first17: str) -> str:
    """Complete 17 characters into a valid code (for demo data and tests)."""
    return first17 + check_character(first17)

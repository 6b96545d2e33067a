"""统一社会信用代码 (GB 32100-2015): 18 characters, the last a check character."""

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Position 1: registration authority; position 2: entity type within it.
AUTHORITIES = "123456789ANY"


def check_character(first17: str) -> str:
    """Return the check character for the first 17 characters of a code."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Say what is wrong with a code, or None when it is valid."""
    if len(code) != 18:
        return "length"
    if any(c not in ALPHABET for c in code):
        return "charset"
    if code[0] not in AUTHORITIES:
        return "authority"
    if not code[2:8].isdigit():
        return "division"
    if check_character(code[:17]) != code[17]:
        return "check"
    return None


def make(first17: str) -> str:
    """Complete 17 characters into a valid code (for demo data and tests)."""
    return first17 + check_character(first17)

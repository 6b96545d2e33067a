import pytest

from yingji.lib import uscc


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L", "91310000MA1FL1MMXL"])
def test_it_accepts_published_codes(code):
    assert uscc.problem(code) is None


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("91350100M000100Y4", "length"),
        ("91350100M000100Y44", "check"),
        ("91350100M000100O43", "charset"),
        ("Z1350100M000100Y43", "charset"),
        ("B1350100M000100Y43", "authority"),
        ("9135A100M000100Y43", "division"),
    ],
)
def test_it_names_what_is_wrong(code, problem):
    assert uscc.problem(code) == problem


def test_make_completes_a_valid_code():
    code = uscc.make("91630103MA7ABCDEF")
    assert uscc.problem(code) is None
    assert code[:17] == "91630103MA7ABCDEF"

"""`yingji stats`: the same figures as compute(), as JSON or a table; bad input exits 2."""

import io
import json

import pytest
from django.core.management import call_command, execute_from_command_line
from django.utils import translation

from yingji.core.models import Region
from yingji.stats import figures
from yingji.stats.tests import test_figures
from yingji.stats.tests.test_figures import DISTRICT_2025, TOWN1_2025

year = test_figures.year  # the imported dataset (a fixture)


def run(*args) -> str:
    out = io.StringIO()
    call_command("stats", *args, stdout=out)
    return out.getvalue()


def exit_code(capsys, *args) -> tuple[int, str]:
    """Run as the `yingji` command line does: the exit status and what went to stderr."""
    with pytest.raises(SystemExit) as exc:
        execute_from_command_line(["yingji", "stats", *args])
    return exc.value.code, capsys.readouterr().err


def test_json_is_the_figures_object(year):
    got = json.loads(run("--start", "2025-01-01", "--end", "2025-12-31", "--format", "json"))
    assert got == DISTRICT_2025
    assert list(got) == list(figures.KEYS)


def test_region_by_ref_or_code(year):
    Region.objects.filter(pk=year.town1.pk).update(code="630103001")
    args = ["--start", "2025-01-01", "--end", "2025-12-31", "--format", "json"]
    assert json.loads(run(*args, "--region", "T1")) == TOWN1_2025
    assert json.loads(run(*args, "--region", "630103001")) == TOWN1_2025
    assert json.loads(run(*args, "--region", "630103")) == DISTRICT_2025


def test_table_lists_every_key_with_value_and_label(year):
    with translation.override("en"):
        text = run("--start", "2025-01-01", "--end", "2025-12-31")
        labels = {key: str(label) for key, label in figures.LABELS.items()}
    lines = text.splitlines()
    assert len(lines) == len(figures.KEYS)
    for line, key in zip(lines, figures.KEYS, strict=True):
        cells = line.split()
        assert cells[0] == key
        value = DISTRICT_2025[key]
        assert cells[1] == ("—" if value is None else str(value))
        assert line.endswith(labels[key])
    # Values are aligned: every value ends in the same column.
    ends = {line.index(line.split()[1]) + len(line.split()[1]) for line in lines}
    assert len(ends) == 1


def test_an_empty_period_shows_dashes_for_rates(db):
    text = run("--start", "2031-01-01", "--end", "2031-01-31")
    rate = next(
        line for line in text.splitlines() if line.startswith("hazards.general.rectification_rate")
    )
    assert rate.split()[1] == "—"


def test_missing(db):
    assert json.loads(run("--missing", "--format", "json")) == figures.missing()
    lines = run("--missing").splitlines()
    assert [line.split()[0] for line in lines] == figures.missing()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--start", "2025-13-01", "--end", "2025-12-31"], "--start"),
        (["--start", "2025-01-01", "--end", "31.12.2025"], "--end"),
        (["--start", "2025-02-01", "--end", "2025-01-31"], "--end"),
        (["--start", "2025-01-01"], "--start and --end"),
        (["--start", "2025-01-01", "--end", "2025-12-31", "--region", "NOWHERE"], "NOWHERE"),
        (["--start", "2025-01-01", "--end", "2025-12-31", "--format", "xml"], "xml"),
    ],
)
def test_bad_input_exits_2_with_a_message(db, capsys, args, message):
    with translation.override("en"):
        code, err = exit_code(capsys, *args)
    assert code == 2
    assert message in err

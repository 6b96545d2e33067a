"""`yingji draw verify DRAW_ID`: anyone can recompute a draw from its published inputs."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from yingji.core.services import create_user
from yingji.inspections import services
from yingji.inspections.models import Draw


@pytest.fixture
def drawn(world) -> Draw:
    pool = [
        create_user(by=None, username=f"insp{n}", password="x-long-password", role="inspector")
        for n in range(1, 4)
    ]
    draw = services.prepare_draw(by=world.inspector, title="双随机", year=2025, n=1, pool=pool)
    draw = services.publish_draw(draw, by=world.inspector, seed="公证 2025-06-10")
    return services.execute_draw(draw, by=world.inspector)


def verify(draw_id) -> int:
    try:
        call_command("draw", "verify", str(draw_id))
    except SystemExit as exc:
        return exc.code
    return 0


def test_an_untouched_draw_verifies(drawn, capsys):
    assert verify(drawn.pk) == 0
    out = capsys.readouterr().out
    assert out.strip() == (
        f"draw {drawn.pk} verified: the published inputs "
        f"(sha256 {drawn.inputs_digest}) give the recorded result"
    )


def test_a_tampered_result_fails_verification(drawn, capsys):
    ((ref, users),) = drawn.result
    other = ({"E-A", "E-B"} - {ref}).pop()  # the enterprise that was not drawn
    Draw.objects.filter(pk=drawn.pk).update(result=[[other, users]])
    assert verify(drawn.pk) == 1
    captured = capsys.readouterr()
    assert "result differs from the recomputation" in captured.err
    assert "verified" not in captured.out


def test_tampered_inspectors_in_the_result_fail_verification(drawn, capsys):
    ((ref, _users),) = drawn.result
    Draw.objects.filter(pk=drawn.pk).update(result=[[ref, ["insp1", "insp2", "insp3"]]])
    assert verify(drawn.pk) == 1
    assert "result differs" in capsys.readouterr().err


def test_tampered_candidates_fail_verification(drawn, capsys):
    Draw.objects.filter(pk=drawn.pk).update(candidates=["E-A"])
    assert verify(drawn.pk) == 1
    assert "inputs changed since publication" in capsys.readouterr().err


def test_tampered_inputs_with_a_matching_digest_fail_verification(drawn, capsys):
    # Someone rewrites the inputs and their digest so that nothing can be drawn from them.
    draw = Draw.objects.get(pk=drawn.pk)
    draw.candidates = []
    Draw.objects.filter(pk=drawn.pk).update(candidates=[], inputs_digest=draw.inputs().digest())
    assert verify(drawn.pk) == 1
    assert "cannot be drawn" in capsys.readouterr().err


def test_a_draw_not_yet_drawn_does_not_verify(world, capsys):
    draw = services.prepare_draw(
        by=world.inspector, title="双随机", year=2025, n=1, pool=[world.inspector], per_enterprise=1
    )
    assert verify(draw.pk) == 1
    assert "not drawn" in capsys.readouterr().err


def test_an_unknown_draw_is_a_command_error(db):
    with pytest.raises(CommandError, match="no draw with id 999"):
        call_command("draw", "verify", "999")

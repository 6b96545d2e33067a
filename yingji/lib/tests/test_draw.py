import pytest

from yingji.lib.draw import DrawError, Inputs, run


def inputs(**kw):
    base = dict(
        seed="2025-03-01-lottery-27145",
        candidates=tuple(f"E{i}" for i in range(50)),
        pool=("a", "b", "c", "d", "e"),
        conflicts={"a": ["E7"]},
        n=10,
    )
    base.update(kw)
    return Inputs(**base)


def test_the_same_inputs_give_the_same_draw():
    assert run(inputs()) == run(inputs(candidates=tuple(reversed(inputs().candidates))))


def test_another_seed_gives_another_draw():
    assert run(inputs()) != run(inputs(seed="another"))


def test_it_picks_n_distinct_enterprises_and_pairs_without_conflicts():
    result = run(inputs(n=50, conflicts={"a": ["E1", "E2"], "b": ["E1"]}))
    assert len({ref for ref, _ in result}) == 50
    for ref, inspectors in result:
        assert len(inspectors) == 2 and len(set(inspectors)) == 2
        if ref == "E1":
            assert not {"a", "b"} & set(inspectors)
        if ref == "E2":
            assert "a" not in inspectors


def test_the_load_is_spread_over_the_pool():
    counts = {}
    for _ref, inspectors in run(inputs(n=50)):
        for u in inspectors:
            counts[u] = counts.get(u, 0) + 1
    assert max(counts.values()) - min(counts.values()) <= 1


@pytest.mark.parametrize(
    "kw",
    [
        dict(n=0),
        dict(n=51),
        dict(pool=("a",)),
        dict(seed=""),
        dict(
            conflicts={
                "a": [f"E{i}" for i in range(50)],
                "b": [f"E{i}" for i in range(50)],
                "c": [f"E{i}" for i in range(50)],
                "d": [f"E{i}" for i in range(50)],
            }
        ),
    ],
)
def test_impossible_draws_are_refused(kw):
    with pytest.raises(DrawError):
        run(inputs(**kw))


def test_the_digest_covers_every_input():
    assert inputs().digest() == inputs(candidates=tuple(reversed(inputs().candidates))).digest()
    assert inputs().digest() != inputs(n=11).digest()
    assert inputs().digest() != inputs(conflicts={}).digest()

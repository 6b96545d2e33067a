import threading

import pytest
from django.db import connections, transaction

from yingji.core.models import IssuedNumber
from yingji.core.numbering import issue_number


def _issue(doc_type="rectification_order", year=2025):
    with transaction.atomic():
        return issue_number(doc_type, year).text


@pytest.mark.django_db
def test_numbers_run_per_type_and_year():
    assert _issue() == "城应急责改〔2025〕1号"
    assert _issue() == "城应急责改〔2025〕2号"
    assert _issue(year=2026) == "城应急责改〔2026〕1号"
    assert _issue("supervision_letter") == "城应急督〔2025〕1号"


@pytest.mark.django_db
def test_a_rolled_back_act_leaves_no_gap():
    assert _issue() == "城应急责改〔2025〕1号"
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        issue_number("rectification_order", 2025)
        raise ZeroDivisionError
    assert _issue() == "城应急责改〔2025〕2号"


@pytest.mark.django_db(transaction=True)
def test_it_refuses_unknown_types_and_bare_calls():
    with pytest.raises(KeyError), transaction.atomic():
        issue_number("nonsense", 2025)
    with pytest.raises(RuntimeError):
        issue_number("rectification_order", 2025)


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuers_get_unique_gapless_numbers():
    """Threads with their own connections race for numbers; row locks must serialise them."""
    threads, per_thread, results, errors = 8, 15, [], []
    barrier = threading.Barrier(threads)

    def work():
        try:
            barrier.wait()
            for _ in range(per_thread):
                results.append(_issue())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    expected = {f"城应急责改〔2025〕{n}号" for n in range(1, threads * per_thread + 1)}
    assert sorted(results) == sorted(expected)
    assert IssuedNumber.objects.count() == threads * per_thread

"""Tests of ``kgraph.infer.budget``: the time and triple limits of one inference run, and the error they raise."""

from __future__ import annotations

import time

import pytest

from kgraph.infer.budget import Budget, BudgetExceeded


def test_an_unlimited_budget_never_raises() -> None:
    budget = Budget()
    budget.spend(1_000_000)
    budget.check()
    assert budget.inferred == 1_000_000


def test_spend_adds_up_and_stops_only_past_the_limit() -> None:
    budget = Budget(max_inferred=10)
    budget.spend(4)
    budget.spend(6)
    assert budget.inferred == 10
    with pytest.raises(BudgetExceeded) as raised:
        budget.spend(1)
    assert str(raised.value) == "inference stopped at 11 inferred triples, past its limit of 10"
    assert (raised.value.inferred, raised.value.seconds, raised.value.limit) == (11, None, 10)


def test_check_raises_once_the_time_is_up() -> None:
    budget = Budget(seconds=5, started=time.monotonic() - 7.25)
    with pytest.raises(BudgetExceeded) as raised:
        budget.check()
    assert raised.value.inferred is None
    assert raised.value.limit == 5
    assert 7.25 <= raised.value.seconds < 8
    assert str(raised.value).startswith("inference stopped at 7.")
    assert str(raised.value).endswith(" s, past its limit of 5")


def test_check_passes_within_the_time() -> None:
    budget = Budget(seconds=60)
    budget.check()
    assert 0 <= budget.elapsed() < 60


def test_spend_within_the_triple_limit_still_checks_the_time() -> None:
    budget = Budget(seconds=0.5, max_inferred=100, started=time.monotonic() - 1)
    with pytest.raises(BudgetExceeded) as raised:
        budget.spend(1)
    assert raised.value.seconds is not None
    assert budget.inferred == 1


def test_a_fractional_limit_is_worded_without_trailing_zeros() -> None:
    assert str(BudgetExceeded(seconds=2.04, limit=1.5)) == "inference stopped at 2.0 s, past its limit of 1.5"

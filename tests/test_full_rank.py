"""A full covariance of full rank (no factor structure to find): the dual solver's Newton steps through the
names (conjugate gradients on products with C) agree with the dense steps and with the conic program, and
they keep to the time budget (checked with the call's own stage records and a fake clock, never a stopwatch)."""

import numpy as np
import pandas as pd
import pytest
from books import small_book
from budget_records import TickClock, counted_seconds
from checks import assert_feasible

from krg_liquidity import Portfolio, liquidate
from krg_liquidity.core.plan import Budget
from krg_liquidity.solve import dual as dual_module


def full_rank_book(seed: int, n: int):
    """(holdings, covariance): half a factor model's correlation, half a sample correlation of 3n days, at the
    factor model's volatilities (full rank: nothing low-rank to find)."""
    holdings, covariance, _ = small_book(seed, n=n)
    c = covariance.to_numpy()
    sample = np.corrcoef(np.random.default_rng(seed).normal(size=(3 * n, n)), rowvar=False)
    vol = np.sqrt(np.diag(c))
    mixed = pd.DataFrame(0.5 * c + 0.5 * sample * np.outer(vol, vol), index=covariance.index,
                         columns=covariance.columns)
    return holdings, mixed


class Counting:
    """Counts the Newton steps solved through the names (so a test knows which path ran)."""

    def __init__(self, monkeypatch):
        self.calls = 0
        original = dual_module.DualSolver._wide_step

        def counted(solver, *args):
            self.calls += 1
            return original(solver, *args)

        monkeypatch.setattr(dual_module.DualSolver, "_wide_step", counted)


CASES = [(0, 30, 0.01), (1, 45, 0.03), (2, 60, 0.05), (3, 40, 0.02)]  # (seed, names, band inside the risk ratio)
FLOOR_CASES = [(0, 30, 0.01), (1, 45, 0.05), (2, 60, 0.03), (3, 40, 0.02)]  # 60 names at +0.05: out of reach


@pytest.mark.parametrize("seed, n, inside", CASES)
def test_a_binding_ceiling_agrees_with_the_dense_steps_and_the_conic_program(monkeypatch, seed, n, inside):
    holdings, covariance = full_rank_book(seed, n)
    book = Portfolio(holdings, covariance)
    assert book.risk().top.shape == (n, n)  # full rank: the Cholesky factor's n rows
    cash = 0.15 * book.net_value_usd
    free = liquidate(book, cash)
    band = (0.0, free.risk_after / free.risk_before - inside)
    dense = liquidate(book, cash, risk_band=band)
    conic = liquidate(book, cash, risk_band=band, engine="conic")
    counting = Counting(monkeypatch)
    monkeypatch.setattr(dual_module, "WIDE", 8)  # a 30-60 name book takes the path of a 2,500-name one
    wide = liquidate(book, cash, risk_band=band)
    assert counting.calls > 0 and "conjugate-gradient steps" in wide.stages[-1]["detail"]
    assert wide.method == dense.method == "dual" and wide.status == "optimal"
    assert wide.cost_usd == pytest.approx(dense.cost_usd, rel=1e-9)
    assert wide.cost_usd == pytest.approx(conic.cost_usd, rel=1e-6)
    np.testing.assert_allclose(wide.trades["shares_traded"], dense.trades["shares_traded"], rtol=1e-6,
                               atol=1e-6 * holdings["shares"].abs().max())
    assert wide.risk_after / wide.risk_before == pytest.approx(band[1], rel=1e-8)  # the ceiling binds
    assert wide.marginal_cost_bps == pytest.approx(dense.marginal_cost_bps, rel=1e-7)
    assert_feasible(holdings, wide, cash, covariance=covariance, risk_band=band)


@pytest.mark.parametrize("seed, n, inside", FLOOR_CASES)
def test_a_binding_floor_agrees_with_the_dense_steps_and_the_conic_program(monkeypatch, seed, n, inside):
    holdings, covariance = full_rank_book(seed, n)
    book = Portfolio(holdings, covariance)
    cash = 0.15 * book.net_value_usd
    free = liquidate(book, cash)
    band = (free.risk_after / free.risk_before + inside, 10.0)
    dense = liquidate(book, cash, risk_band=band)
    conic = liquidate(book, cash, risk_band=band, engine="conic")
    monkeypatch.setattr(dual_module, "WIDE", 8)  # the certificate's curvature bound then takes the wide path too
    wide = liquidate(book, cash, risk_band=band)
    assert wide.method == dense.method == "dual+convex-concave"
    assert wide.status == dense.status
    assert wide.cost_usd == pytest.approx(dense.cost_usd, rel=1e-9)
    assert wide.cost_usd <= conic.cost_usd * (1 + 1e-6)
    assert wide.lower_bound_usd == pytest.approx(dense.lower_bound_usd, rel=1e-6)
    assert wide.lower_bound_usd <= conic.cost_usd * (1 + 1e-9)
    assert wide.risk_after / wide.risk_before >= band[0] * (1 - 1e-9)
    assert_feasible(holdings, wide, cash, covariance=covariance, risk_band=band)


@pytest.mark.parametrize("seed", range(2))
def test_a_ceiling_with_a_floor_cut_agrees(monkeypatch, seed):
    """Both ends of a band that bind in turn: cuts and the ceiling's rows together in one Newton step."""
    holdings, covariance = full_rank_book(seed + 10, 50)
    book = Portfolio(holdings, covariance)
    cash = 0.15 * book.net_value_usd
    free = liquidate(book, cash)
    r = free.risk_after / free.risk_before
    band = (r + 0.01, r + 0.015)
    dense = liquidate(book, cash, risk_band=band, raise_on_failure=False)
    monkeypatch.setattr(dual_module, "WIDE", 8)
    wide = liquidate(book, cash, risk_band=band, raise_on_failure=False)
    assert wide.status == dense.status and wide.method == dense.method
    if dense.success:
        assert wide.cost_usd == pytest.approx(dense.cost_usd, rel=1e-8)
        assert_feasible(holdings, wide, cash, covariance=covariance, risk_band=band)


class WorkClock:
    """A fake clock that moves ``tick`` per read and ``product`` seconds per product with C: a stage that does
    many products between two looks at its budget overruns it, whatever the machine's speed."""

    def __init__(self, tick: float, product: float):
        self.reads, self.product = TickClock(tick), product
        self.offset = 0.0

    def __call__(self) -> float:
        return self.reads() + self.offset


@pytest.mark.parametrize("kind", ["ceiling", "floor"])
@pytest.mark.parametrize("limit", [0.1, 1.0, 5.0])
def test_each_product_with_the_covariance_is_inside_the_budget(monkeypatch, kind, limit):
    """Each product with C costs 3% of the limit on the fake clock: the call ends within 10% + 50 ms of its
    budget by its own records, as "timeout" named at the stage under way when it ran out, or answers in time."""
    holdings, covariance = full_rank_book(5, 60)
    book = Portfolio(holdings, covariance)
    cash = 0.15 * book.net_value_usd
    free = liquidate(book, cash)
    r = free.risk_after / free.risk_before
    band = (0.0, r - 0.02) if kind == "ceiling" else (r + 0.02, 10.0)
    book.risk()  # factored before the fake clock
    monkeypatch.setattr(dual_module, "WIDE", 8)
    monkeypatch.setattr(dual_module, "DEFLATED", 1)  # a weak preconditioner: many products per Newton step
    clock = WorkClock(1e-4 * limit, 0.03 * limit)
    original = dual_module.DualSolver.c_times

    def costly(solver, x):
        clock.offset += clock.product
        return original(solver, x)

    monkeypatch.setattr(dual_module.DualSolver, "c_times", costly)
    monkeypatch.setattr(Budget, "clock", staticmethod(clock))
    result = liquidate(book, cash, risk_band=band, time_limit=limit, raise_on_failure=False)
    assert counted_seconds(result.stages) <= 1.1 * limit + 0.05
    assert counted_seconds(result.stages) <= limit + 1.5 * clock.product  # at most one product past the budget
    assert clock.offset >= 0.4 * limit  # the products were a large share of what the call spent
    assert result.status in ("timeout", "feasible", "optimal")
    if result.status != "optimal":  # cut short, and said so at the stage that ran out
        assert any(stage["outcome"] == "timeout" for stage in result.stages)
    if kind == "ceiling":  # its products alone take more than the budget: it runs out inside the dual stage
        assert result.status == "timeout" and "raise time_limit" in result.message
        assert (result.stages[-1]["stage"], result.stages[-1]["outcome"]) == ("dual", "timeout")

"""krg.SolverOptions: one value for how a solve runs, its checks when built, and what reaches the solvers."""

import warnings

import pytest

import krg_liquidity as krg
from krg_liquidity import InputError, SolverOptions

BAND = (0.9, 0.99)  # the unconstrained optimum leaves 1.005x today's risk: the ceiling binds, the conic ladder runs


@pytest.fixture(scope="module")
def book():
    return krg.Portfolio(*krg.load_example())


@pytest.mark.parametrize("kwargs, words", [
    ({"engine": "fast"}, "engine='fast'"),
    ({"time_limit": -1}, "time_limit"),
    ({"ladder": ("NOT_A_SOLVER",)}, "NOT_A_SOLVER not installed with cvxpy: choose from"),
    ({"ladder": ()}, "give solver names as cvxpy spells them"),
    ({"solver_parameters": {"CLARABEL": 3}}, "solver_parameters"),
])
def test_bad_options_are_refused_when_built(kwargs, words):
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        SolverOptions(**kwargs)


def test_ladder_names_are_normalized_and_the_installed_list_is_named():
    assert SolverOptions(ladder="clarabel").ladder == ("CLARABEL",)
    with pytest.raises(InputError, match="CLARABEL"):  # the message lists what is installed
        SolverOptions(ladder=("NOPE",))


def test_options_and_the_keywords_are_not_both_given(book):
    with pytest.raises(InputError, match="engine"):
        krg.liquidate(book, 1e9, engine="conic", options=SolverOptions())
    with pytest.raises(InputError, match="time_limit"):
        krg.liquidate(book, 1e9, time_limit=5, options=SolverOptions())


def test_the_conic_engine_through_options_equals_the_keyword(book):
    by_keyword = krg.liquidate(book, 1e9, risk_band=BAND, engine="conic")
    by_options = krg.liquidate(book, 1e9, risk_band=BAND, options=SolverOptions(engine="conic"))
    assert by_options.cost_usd == pytest.approx(by_keyword.cost_usd, rel=1e-9)
    assert by_options.attempts and by_options.attempts[0]["solver"] == "CLARABEL"


def test_solver_parameters_reach_the_solver_and_stay_on_the_result(book):
    """A parameter is passed on (it is on the recorded attempt) and acts: one iteration cannot solve."""
    asked = SolverOptions(engine="conic", ladder=("CLARABEL",), solver_parameters={"clarabel": {"max_iter": 1}})
    result = krg.liquidate(book, 1e9, risk_band=BAND, options=asked, raise_on_failure=False)
    assert result.attempts, "the conic attempts are kept on the result"
    assert all(a["solver"] == "CLARABEL" and a["options"]["max_iter"] == 1 for a in result.attempts)
    assert not result.success  # one interior-point iteration does not reach a verified answer
    roomy = SolverOptions(engine="conic", ladder=("CLARABEL",), solver_parameters={"CLARABEL": {"max_iter": 200}})
    solved = krg.liquidate(book, 1e9, risk_band=BAND, options=roomy)
    assert solved.success and solved.attempts[-1]["options"]["max_iter"] == 200


def test_another_installed_solver_can_be_put_on_the_ladder(book):
    result = krg.liquidate(book, 1e9, risk_band=BAND, raise_on_failure=False,
                           options=SolverOptions(engine="conic", ladder=("SCS",)))
    assert {a["solver"] for a in result.attempts} == {"SCS"}


def test_method_is_the_former_name_of_engine(book):
    with pytest.warns(DeprecationWarning, match="engine="):
        old = krg.liquidate(book, 1e9, risk_band=BAND, method="conic")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = krg.liquidate(book, 1e9, risk_band=BAND, engine="conic")
    assert old.cost_usd == pytest.approx(new.cost_usd, rel=1e-12)
    with pytest.raises(InputError, match="former name of engine"):
        krg.liquidate(book, 1e9, engine="conic", method="auto")


def _orders():
    import pandas as pd

    return pd.DataFrame({"symbol": ["A", "B"], "shares": [-200_000, -50_000], "adv": [2e6, 1e6],
                         "price": [50.0, 20.0], "volatility": [0.3, 0.2]})


def test_a_liquidation_refuses_the_schedules_own_engine(book):
    with pytest.raises(InputError, match="schedules' structured solver"):
        krg.liquidate(book, 1e9, engine="interior-point")
    with pytest.raises(InputError, match="schedules' structured solver"):
        krg.max_cash(book, options=SolverOptions(engine="interior-point"))


def test_schedules_take_the_same_options_value():
    """One keyword for the engine across liquidations and schedules, and the same SolverOptions value:
    its ladder and parameters reach the schedule's conic program (recorded on each attempt)."""
    plain = krg.optimize_basket_schedule(_orders(), periods=13, engine="conic")
    asked = SolverOptions(engine="conic", ladder=("CLARABEL",), solver_parameters={"CLARABEL": {"max_iter": 400}})
    given = krg.optimize_basket_schedule(_orders(), periods=13, options=asked)
    conic = [a for a in given.attempts if a["engine"] == "conic"]
    assert conic and all(a["solver"] == "CLARABEL" and a["options"]["max_iter"] == 400 for a in conic)
    assert given.objective_usd == pytest.approx(plain.objective_usd, rel=1e-6)
    starved = SolverOptions(engine="conic", ladder=("CLARABEL",), solver_parameters={"CLARABEL": {"max_iter": 1}})
    with pytest.raises(krg.LiquidationError):  # one iteration cannot solve it: the parameter acts
        krg.optimize_basket_schedule(_orders(), periods=13, options=starved)
    with pytest.raises(InputError, match="engine"):
        krg.optimize_basket_schedule(_orders(), periods=13, engine="conic", options=asked)
    frontier = krg.schedule_frontier(_orders(), [0.0, 1.0], periods=13, options=asked)
    assert list(frontier["status"]) == ["optimal", "optimal"]


def test_an_inaccurate_solver_answer_proves_no_gap():
    """SCS stopped by its iteration limit returns "optimal_inaccurate": an answer that keeps every limit is kept,
    but as "feasible" with no proven gap, never as the optimum (such an answer was once $3.5M from it)."""
    book = krg.Portfolio(*krg.load_example())
    inaccurate = 0
    for iterations in (450, 500, 550, 600):
        options = SolverOptions(engine="conic", ladder=("SCS",),
                                solver_parameters={"SCS": {"max_iters": iterations, "eps_abs": 1e-9, "eps_rel": 1e-9}})
        result = krg.liquidate(book, 1e9, options=options, raise_on_failure=False)
        accepted = [a["status"] for a in result.attempts if a["accepted"]]
        if accepted == ["optimal_inaccurate"]:
            inaccurate += 1
            assert result.status == "feasible" and result.gap != result.gap  # NaN: nothing proven
            assert result.gap_text() == "no proven gap (nothing bounds the optimum)"
            assert result.max_violation <= 1e-6
    assert inaccurate, "no attempt stopped inaccurate: pick iteration limits that make SCS stop short"

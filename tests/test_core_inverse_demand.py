"""Inverse demand families, derivatives and the Assumption 4.1 check."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from liqstress.errors import InputError
from liqstress.models.inverse_demand import Exponential, Linear, Power, UserCallable, from_dict

FAMILIES = [Linear(0.04), Exponential(0.07), Power(0.3, 0.6), Power(2.0, 1.0)]


@pytest.mark.parametrize("f", FAMILIES, ids=lambda f: f.kind)
def test_derivatives_match_finite_differences(f):
    u = np.linspace(0.1, 9.0, 50)
    h = 1e-5
    assert np.allclose(f.d1(u), (f(u + h) - f(u - h)) / (2 * h), rtol=1e-6, atol=1e-9)
    assert np.allclose(f.d2(u), (f.d1(u + h) - f.d1(u - h)) / (2 * h), rtol=1e-5, atol=1e-8)
    assert f(0.0) == 1.0


@settings(max_examples=60, deadline=None)
@given(st.floats(0.1, 100.0), st.floats(0.01, 2.0), st.sampled_from(["linear", "exponential"]))
def test_family_threshold_agrees_with_grid_check_of_callable(S, ratio, kind):
    """The exact family thresholds (beta < 1/(2S), beta < 1/S) agree with the numeric grid
    check applied to the same function given as a user callable."""
    bound = 1 / (2 * S) if kind == "linear" else 1 / S
    beta = ratio * bound
    if abs(ratio - 1) < 1e-3:  # too close to the boundary for a grid to decide
        return
    fam = Linear(beta) if kind == "linear" else Exponential(beta)
    cal = UserCallable(fam, fam.d1, fam.d2)
    def ok(fn):
        try:
            fn.check_assumption(S)
            return True
        except InputError:
            return False
    assert ok(fam) == (ratio < 1)
    assert ok(cal) == ok(fam)


def test_power_family_needs_gamma_at_most_one():
    Power(1.0, 1.0).check_assumption(100.0)
    with pytest.raises(InputError, match="gamma"):
        Power(1.0, 1.5).check_assumption(1.0)
    # and the grid check independently finds (iii) failing for gamma > 1 at large u
    g = Power(1.0, 1.5)
    with pytest.raises(InputError, match=r"Assumption 4.1\(iii\)"):
        UserCallable(g, g.d1, g.d2).check_assumption(10.0)


def test_callable_violations_name_condition_and_point():
    with pytest.raises(InputError, match=r"\(i\) f\(0\) = 1"):
        UserCallable(lambda u: 0.9 - 0.01 * u).check_assumption(1.0)
    with pytest.raises(InputError, match=r"\(ii\) f' < 0 fails at u="):
        UserCallable(lambda u: 1.0 + 0.0 * u).check_assumption(1.0)
    with pytest.raises(InputError, match=r"\(iv\) f'' >= 0 fails at u="):
        UserCallable(lambda u: 1 - 0.001 * u - 0.01 * u**2).check_assumption(2.0)
    # concave-in-value failure (v): f = 1/(1+u)^0.5 - small cubic bump
    f = UserCallable(lambda u: np.exp(-0.3 * u) + 0.02 * np.sin(3 * u) * u**2 / 10)
    with pytest.raises(InputError):
        f.check_assumption(5.0)
    # a valid callable with numerical derivatives passes
    UserCallable(lambda u: 1.0 / (1.0 + 0.2 * u)).check_assumption(10.0)


def test_from_dict_errors():
    assert from_dict({"kind": "power", "beta": 1, "gamma": 0.5}) == Power(1.0, 0.5)
    with pytest.raises(InputError, match="inverse_demand.beta"):
        from_dict({"kind": "linear"})
    with pytest.raises(InputError, match="inverse_demand.kind"):
        from_dict({"kind": "quadratic", "beta": 1})
    with pytest.raises(InputError, match="beta > 0"):
        Linear(-0.1).check_assumption(1.0)


def test_system_round_trip_yaml_and_json_with_numpy_parameters(tmp_path):
    from liqstress.models.system import System, load_system

    f = Exponential(np.float64(0.05))
    s = System.from_arrays(np.array([1.0, 0.5]), np.array([4.0, 5.0]), np.array([3.2, 3.0]), f, alpha=np.float64(0.3))
    for name in ("s.yaml", "s.json"):
        s.save(tmp_path / name)
        r = load_system(tmp_path / name)
        assert r.f == Exponential(0.05) and r.alpha == 0.3 and np.array_equal(r.c, s.c)

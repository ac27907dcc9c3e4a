"""The random-system generator of the gap study is valid (docs/model.md §2.1, Assumption 4.1) and
reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqstress.errors import InputError
from liqstress.research.random_systems import KINDS, random_system, random_systems
from liqstress.solvers.clearing import clear, ell


def _assumption_41_numeric(f, S: float, m: int = 4001) -> None:
    """Assumption 4.1 checked with finite differences of f alone (independent of f.d1/f.d2)."""
    u = np.linspace(0.0, S, m)
    h = S / (m - 1)
    fu = f(u)
    assert abs(fu[0] - 1.0) < 1e-12  # (i)
    d1 = np.gradient(fu, h)
    d2 = np.gradient(d1, h)
    assert np.all(np.diff(fu) < 0)  # (ii) strictly decreasing
    mv = u * fu
    assert np.all(np.diff(mv) > 0)  # (iii) u f(u) increasing
    assert np.all(d2[2:-2] >= -1e-6)  # (iv) convex
    assert np.all(np.diff(mv, 2) <= 1e-12)  # (v) u f(u) concave
    assert np.all(fu > 0)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    index=st.integers(0, 10_000),
    n=st.integers(1, 12),
    kind=st.sampled_from((None,) + KINDS),
    alpha=st.one_of(st.none(), st.floats(0.0, 1.0)),
)
def test_random_system_is_valid(seed, index, n, kind, alpha):
    s = random_system(seed, index, n, kind=kind, alpha=alpha)
    assert s.n == n
    assert np.all(s.s > 0) and np.all(s.c >= 0)
    assert np.all(s.L > s.c)  # every bank has to sell (no p_liquid)
    assert 0.0 <= s.alpha <= 1.0
    if alpha is not None:
        assert s.alpha == pytest.approx(alpha, abs=1e-12)
    if kind is not None:
        assert s.f.kind == kind
    _assumption_41_numeric(s.f, s.S)
    # the documented families sit strictly inside the valid range of beta
    if s.f.kind == "linear":
        assert 0 < s.f.beta < 1 / (2 * s.S)
    elif s.f.kind == "exponential":
        assert 0 < s.f.beta < 1 / s.S
    else:
        assert s.f.beta > 0 and 0 < s.f.gamma <= 1
    # Lemma 4.2 at x = 0: sales at clearing stay within the holdings
    e = ell(s)
    assert np.all(e >= 0) and np.all(e <= s.s + 1e-12)


def test_reproducible_and_independent_of_count():
    a = random_systems(5, 3, [2, 3])
    b = random_systems(5, 6, [2, 3])
    assert [sid for sid, _ in a] == [sid for sid, _ in b[:3]]
    for (_, x), (_, y) in zip(a, b):
        assert x.to_dict() == y.to_dict()
    assert [s.n for _, s in b] == [2, 3, 2, 3, 2, 3]
    c = random_systems(6, 3, [2, 3])
    assert a[0][1].to_dict() != c[0][1].to_dict()


def test_stress_is_exercised():
    """Many banks are insolvent without early sales (V_i < L_i), so the gap is not
    trivially zero; and the three families all appear."""
    systems = random_systems(11, 60, [3])
    insolvent = sum(int(np.sum(clear(s).values < s.L - 1e-9)) for _, s in systems)
    assert 0.2 * 180 < insolvent < 0.9 * 180
    assert {s.f.kind for _, s in systems} == set(KINDS)


def test_p_liquid_gives_banks_that_never_sell():
    s = random_system(1, 0, 30, p_liquid=1.0)
    assert np.all(s.L < s.c)
    assert np.allclose(ell(s), 0.0)


@pytest.mark.parametrize("kw,field", [({"n": 0}, "banks"), ({"n": 2, "alpha": 1.5}, "alpha"), ({"n": 2, "kind": "cubic"}, "kind")])
def test_bad_parameters_are_named(kw, field):
    with pytest.raises(InputError) as err:
        random_system(0, 0, **kw)
    assert err.value.field == field

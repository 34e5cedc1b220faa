import numpy as np
import pytest

import biomech as bm

CASES = {
    "standing": {},
    "psoas_300": {"settings": {"psoas": bm.MuscleSetting(tension_N=300)}},
    "sitting": {"support": bm.Support("sitting")},
    "lying_lifted": {"support": bm.Support("lying", legs="lifted"),
                     "settings": {"psoas": bm.MuscleSetting(tension_N=800)}},
    "lying_supported": {"support": bm.Support("lying")},
    "load": {"loads": (bm.Load("L3", (0.15, 0.15), mass_kg=10),)},
    "settings": {"settings": {"psoas": bm.MuscleSetting(resting_length_scale=0.85),
                              "iliacus": bm.MuscleSetting(activation=0.3)}},
}


@pytest.fixture(scope="module")
def model():
    return bm.build_model()


@pytest.mark.parametrize("name", list(CASES))
def test_analytic_stiffness_equals_finite_differences_and_is_symmetric(model, name):
    p = bm.prepare(model, **CASES[name])
    rng = np.random.default_rng(20261121)
    u_ref = np.linalg.lstsq(p.B, p.q_ref - p.q_c, rcond=None)[0]
    for k in range(4):
        u = u_ref + (rng.uniform(-1, 1, size=len(u_ref)) * np.radians(5) if k else 0.0)
        J = p.reduced_jacobian(u)
        F = p.reduced_jacobian_fd(u)
        np.testing.assert_allclose(J, F, rtol=1e-5, atol=1e-4 * max(1.0, np.max(np.abs(F))))
        np.testing.assert_allclose(J, J.T, atol=1e-6 * max(1.0, np.max(np.abs(J))))

# The analytic stiffness (docs/model.md §8, "Speed"): statics.jacobian / reduced_jacobian is the
# exact ∂R/∂q of the generalized forces. Checked against central differences of the residual,
# for symmetry (all forces derive from a potential), and by solving with both: the solver's
# answers must not change when it switches from finite differences to the analytic Jacobian.
# Also a quick run of the benchmark script.

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

import biomech as bm

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261121
DEG = math.pi / 180.0
RTOL, ATOL = 1e-5, 1e-6          # analytic vs central differences (N·m/rad)
SYM_RTOL = 1e-6                  # symmetry, relative to the largest entry
Q_TOL = 1e-8                     # rad: solver answers with the analytic vs the FD Jacobian

_S, _M = bm.Support, bm.MuscleSetting
PROBLEMS = {
    "standing": dict(support=_S("standing")),
    "standing_psoas300": dict(support=_S("standing"), settings={"psoas": _M(tension_N=300)}),
    "sitting": dict(support=_S("sitting")),
    "lying_legs_lifted": dict(support=_S("lying", legs="lifted"),
                              settings={"psoas": _M(tension_N=200), "iliacus": _M(tension_N=200)}),
    "lying_legs_supported": dict(support=_S("lying", legs="supported")),
    "load_on_L3": dict(support=_S("standing"), loads=(bm.Load("L3", (0.15, 0.14), mass_kg=10),)),
    "psoas_activation_0.3": dict(support=_S("standing"), settings={"psoas": _M(activation=0.3)}),
    "psoas_resting_length_0.85": dict(support=_S("standing"),
                                      settings={"psoas": _M(resting_length_scale=0.85)}),
}
CONTACT_PROBLEMS = {"sitting", "lying_legs_lifted", "lying_legs_supported"}


@pytest.fixture(scope="module")
def problems(model):
    return {name: bm.prepare(model, **kw) for name, kw in PROBLEMS.items()}


def _u_of(p, q):
    return np.linalg.lstsq(p.B, q - p.q_c, rcond=None)[0]


def _postures(p):
    """(label, u): the reference posture, the equilibrium and random postures within ±5° of
    each (seeded), all compatible with the support's constraint q = q_c + B u."""
    rng = np.random.default_rng(SEED)
    u_ref = _u_of(p, p.q_ref)
    u_eq = _u_of(p, bm.solve_equilibrium(problem=p).q)
    out = [("reference", u_ref), ("equilibrium", u_eq)]
    for k in range(3):
        out.append((f"reference{k:+d}", u_ref + rng.uniform(-5, 5, len(u_ref)) * DEG))
        out.append((f"equilibrium{k:+d}", u_eq + rng.uniform(-5, 5, len(u_eq)) * DEG))
    return out


def _contact_loaded(p, u):
    _, _, cf = bm.statics.contact_forces(p, bm.geometry(p, p.q_c + p.B @ u))
    return bool(len(cf) and np.any(np.abs(cf) > 0))


@pytest.mark.parametrize("name", PROBLEMS)
def test_analytic_jacobian_equals_central_differences(name, problems):
    p = problems[name]
    loaded = []
    for label, u in _postures(p):
        J = bm.statics.reduced_jacobian(p, u)
        J_fd = bm.statics.reduced_jacobian_fd(p, u)
        np.testing.assert_allclose(J, J_fd, rtol=RTOL, atol=ATOL, err_msg=f"{name} at {label}")
        loaded.append(_contact_loaded(p, u))
    if name in CONTACT_PROBLEMS:
        # the contact stiffness is exercised: the support carries load at some of the postures
        # (at the equilibrium at least) and none at others (the reference, where it just touches)
        assert loaded[1] and any(loaded) and not all(loaded), loaded


@pytest.mark.parametrize("name", PROBLEMS)
def test_analytic_jacobian_is_symmetric(name, problems):
    p = problems[name]
    for label, u in _postures(p):
        J = bm.statics.reduced_jacobian(p, u)
        scale = float(np.max(np.abs(J)))
        assert np.max(np.abs(J - J.T)) <= SYM_RTOL * scale, f"{name} at {label}"
        # independently of the analytic code: the finite-difference Jacobian is symmetric too
        J_fd = bm.statics.reduced_jacobian_fd(p, u)
        assert np.max(np.abs(J_fd - J_fd.T)) <= 1e-5 * scale + 1e-5, f"{name} at {label}"


def test_jacobian_paths_agree(problems):
    # jacobian(q) and jacobian(q, geo) (segment quantities recomputed from a geometry); the
    # solver's fused evaluation gives exactly reduced_residual and reduced_jacobian; the
    # residual is exactly the sum of the generalized forces by source
    for name, p in problems.items():
        for label, u in _postures(p)[:3]:
            q = p.q_c + p.B @ u
            J = bm.jacobian(p, q)
            np.testing.assert_allclose(bm.jacobian(p, q, bm.geometry(p, q)), J, rtol=1e-12, atol=1e-9)
            R, jac, geo = bm.statics._reduced_state(p, u)
            np.testing.assert_array_equal(R, bm.statics.reduced_residual(p, u))
            np.testing.assert_array_equal(jac(), bm.statics.reduced_jacobian(p, u))
            np.testing.assert_array_equal(geo.q, q)
            g = bm.generalized_forces(p, q)
            np.testing.assert_array_equal(
                bm.residual(p, q), g["gravity"] + g["external"] + g["contact"] + g["passive"] + g["muscle"])


def _fd_state(p, u):
    # the solver as it was: the Jacobian by central differences (h = 1e-6) of the residual
    q = p.q_c + p.B @ u
    return (bm.statics.reduced_residual(p, u), (lambda: bm.statics.reduced_jacobian_fd(p, u)),
            bm.geometry(p, q))


@pytest.mark.parametrize("name", PROBLEMS)
@pytest.mark.parametrize("start", ["reference", "perturbed"])
def test_solver_answers_unchanged_by_the_analytic_jacobian(name, start, problems, monkeypatch):
    p = problems[name]
    q0 = None
    if start == "perturbed":
        rng = np.random.default_rng(SEED)
        q0 = p.q_c + p.B @ (_u_of(p, p.q_ref) + rng.uniform(-3, 3, p.B.shape[1]) * DEG)
    new = bm.solve_equilibrium(problem=p, q0=q0)
    with monkeypatch.context() as mp:
        mp.setattr(bm.statics, "_reduced_state", _fd_state)
        old = bm.solve_equilibrium(problem=p, q0=q0)
    assert (new.converged, new.stable, new.message) == (old.converged, old.stable, old.message)
    np.testing.assert_allclose(new.q, old.q, rtol=0, atol=Q_TOL)
    assert new.iterations <= old.iterations
    assert new.max_residual_Nm < p.tolerance_Nm or not old.converged
    if new.converged:
        eig_scale = float(np.max(np.abs(old.stiffness_eigenvalues)))
        np.testing.assert_allclose(new.stiffness_eigenvalues, old.stiffness_eigenvalues,
                                   rtol=0, atol=1e-6 * eig_scale)


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_script_runs(capsys):
    # the script's fast measurements, and its JSON (the slow ones, subprocesses and sweeps of the
    # recruited modes, run the same code paths; `scripts/bench.py` alone runs them all)
    bench = _load_bench()
    assert bench.__doc__ and "median" in bench.__doc__
    slow = {"sweep_upright_101", "sweep_inverse_101", "baseline_slsqp_fd_upright", "import",
            "run_with_figure", "cli_sweep_point", "viewer_update", "solve_upright_psoas300"}
    assert bench.main(["--repeat", "2", "--json", "--skip", ",".join(sorted(slow))]) == 0
    doc = json.loads(capsys.readouterr().out)
    res = doc["results"]
    measured = set(bench.MEASUREMENTS) - slow
    assert measured <= set(res) and not slow & set(res)
    for name in measured:
        assert res[name]["median_s"] > 0 and res[name]["iqr_s"] >= 0 and res[name]["n"] >= 2
    for name, target in bench.TARGETS.items():
        if name in measured:
            assert res[name]["target_s"] == target and isinstance(res[name]["meets_target"], bool)
    assert res["sweep_psoas_101"]["solved"] == 101
    base = res["baseline_hybr_psoas300"]
    assert base["max_residual_Nm"] < 1e-6 and base["max_difference_from_biomech_rad"] < 1e-6
    assert base["speedup"] > 0
    assert bench.main(["--repeat", "1", "--skip", ",".join(bench.MEASUREMENTS)]) == 0
    assert "measurement" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# the upright mode's derivatives (recruitment.held_balance, upright.target_gradient)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("support", [bm.Support("standing", thigh_inclination_deg=5),
                                     bm.Support("sitting"), bm.Support("lying", legs="lifted")],
                         ids=lambda s: s.kind)
def test_held_balance_derivatives_match_central_differences(support):
    from biomech.recruitment import _line_terms, free_lines, held_balance
    model = bm.make_model()
    p = bm.prepare(model, support=support, settings={
        "psoas": bm.MuscleSetting(tension_N=300), "hamstrings": bm.MuscleSetting(resting_length_scale=0.9)})
    free = free_lines(p)
    rng = np.random.default_rng(7)
    a = rng.uniform(0.0, 0.3, free.sum())
    q = p.q_ref + rng.normal(0.0, 0.03, 7)
    R, J, A, fl, dfl, _ = held_balance(p, q, free, a)
    A2, r0, fl2 = _line_terms(p, bm.geometry(p, q), free)      # the recruitment's own terms
    np.testing.assert_allclose(R, r0 + A2 @ a, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(A, A2)
    h = 1e-6
    J_fd = np.column_stack([(held_balance(p, q + e, free, a)[0] - held_balance(p, q - e, free, a)[0]) / (2 * h)
                            for e in np.eye(7) * h])
    np.testing.assert_allclose(J, J_fd, rtol=0, atol=1e-6 * np.abs(J_fd).max())
    dfl_fd = np.column_stack([(held_balance(p, q + e, free, a)[3] - held_balance(p, q - e, free, a)[3]) / (2 * h)
                              for e in np.eye(7) * h])
    np.testing.assert_allclose(dfl, dfl_fd, rtol=0, atol=1e-6)


@pytest.mark.parametrize("kind", ["trunk_inclination_deg", "sagittal_vertical_axis_mm", "thorax_angle_deg"])
@pytest.mark.parametrize("support", [bm.Support("standing"), bm.Support("sitting"), bm.Support("lying")],
                         ids=lambda s: s.kind)
def test_upright_target_gradient_matches_central_differences(kind, support):
    from biomech.upright import target_and_gradient, target_value
    p = bm.prepare(bm.make_model(), support=support)
    q = p.q_ref + np.random.default_rng(3).normal(0.0, 0.05, 7)
    h = 1e-6
    fd = np.array([(target_value(p, q + e, kind) - target_value(p, q - e, kind)) / (2 * h) for e in np.eye(7) * h])
    np.testing.assert_allclose(target_and_gradient(p, bm.geometry(p, q), kind)[1], fd, rtol=0,
                               atol=1e-7 * max(1.0, np.abs(fd).max()))

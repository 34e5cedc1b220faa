# The analytic derivatives (docs/model.md §8, "Speed"): statics.jacobian / reduced_jacobian is the
# exact ∂R/∂q of the generalized forces. Checked against central differences of the residual
# (with an error bound from first principles: `conftest.fd_jacobian`), for symmetry (all forces
# derive from a potential), and by solving with both: the solver's answers must not change when
# it switches from finite differences to the analytic Jacobian. The upright mode's derivatives
# (equilibrium of the held posture, targets, the support's reaction, the tissue effort) are
# checked the same way. Also a quick run of the benchmark script.

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

import biomech as bm
from biomech import statics

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261121
DEG = math.pi / 180.0
EPS = np.finfo(float).eps
FD_H = 1e-6                      # rad, the step of the central differences
Q_TOL = 1e-8                     # rad: solver answers with the analytic vs the FD Jacobian

_S, _M = bm.Support, bm.MuscleSetting
_PSOAS_ILIACUS = {"psoas": _M(tension_N=200), "iliacus": _M(tension_N=200)}
# equilibrium-mode problems (the ankles and knees held) and, "free", problems of the upright
# mode (every joint free: the leg laws, the foot's balance and the shank muscles all count)
PROBLEMS = {
    "standing": dict(support=_S("standing")),
    "standing_psoas300": dict(support=_S("standing"), settings={"psoas": _M(tension_N=300)}),
    "sitting": dict(support=_S("sitting")),
    "sitting_backrest": dict(support=_S("sitting", backrest_inclination_deg=10)),
    "lying_legs_lifted": dict(support=_S("lying", legs="lifted"), settings=_PSOAS_ILIACUS),
    "lying_legs_supported": dict(support=_S("lying", legs="supported")),
    "load_on_L3": dict(support=_S("standing"), loads=(bm.Load("L3", (0.15, 0.14), mass_kg=10),)),
    "psoas_activation_0.3": dict(support=_S("standing"), settings={"psoas": _M(activation=0.3)}),
    "psoas_resting_length_0.85": dict(support=_S("standing"),
                                      settings={"psoas": _M(resting_length_scale=0.85)}),
    "abdominal_pressure_8kPa": dict(support=_S("standing"), abdominal_pressure_kPa=8.0),
    "lying_pressure_8kPa": dict(support=_S("lying"), abdominal_pressure_kPa=8.0),
    "standing_free": dict(support=_S("standing"), locked_joints=()),
    "sitting_free": dict(support=_S("sitting"), locked_joints=()),
    "lying_free": dict(support=_S("lying"), locked_joints=()),
}
CONTACT_PROBLEMS = {k for k, kw in PROBLEMS.items() if kw["support"].kind != "standing"}
# the upright cases of conftest.CASES solved on the same problems as the "free" ones: their
# postures are where the upright mode uses these derivatives
UPRIGHT_OF = {"standing_free": "upright_standing", "sitting_free": "upright_sitting",
              "lying_free": "upright_lying"}
FORWARD = [k for k in PROBLEMS if k not in UPRIGHT_OF]


@pytest.fixture(scope="module")
def problems(model):
    return {name: bm.prepare(model, **kw) for name, kw in PROBLEMS.items()}


@pytest.fixture(scope="module")
def postures(problems, solve_case):
    """{name: [(label, u)]}: the reference posture, the equilibrium (the upright solution for the
    "free" problems) and random postures within ±5° of each (seeded), within the physiological
    ranges, all compatible with the support's constraint q = q_c + B u."""
    out = {}
    for name, p in problems.items():
        rng = np.random.default_rng(SEED)
        q_eq = solve_case(UPRIGHT_OF[name]).q if name in UPRIGHT_OF else bm.solve_equilibrium(problem=p).q
        u_ref, u_eq = _u_of(p, p.q_ref), _u_of(p, q_eq)
        lo, hi = _u_of(p, p.q_low), _u_of(p, p.q_high)
        post = [("reference", u_ref), ("equilibrium", u_eq)]
        for k in range(3):
            post.append((f"reference{k:+d}", np.clip(u_ref + rng.uniform(-5, 5, len(u_ref)) * DEG, lo, hi)))
            post.append((f"equilibrium{k:+d}", np.clip(u_eq + rng.uniform(-5, 5, len(u_eq)) * DEG, lo, hi)))
        out[name] = post
    return out


def _u_of(p, q):
    return np.linalg.lstsq(p.B, q - p.q_c, rcond=None)[0]


def _penetrations(p, u):
    return statics._contact_state(p, bm.geometry(p, p.q_c + p.B @ u))[3]


@pytest.mark.parametrize("name", PROBLEMS)
def test_analytic_jacobian_equals_central_differences(name, problems, postures, fd_jacobian_bound):
    p = problems[name]
    for label, u in postures[name]:
        J = statics.reduced_jacobian(p, u)
        J_fd, bound = fd_jacobian_bound(p, u, FD_H)
        excess = np.abs(J - J_fd) - bound
        i, j = np.unravel_index(np.argmax(excess), J.shape)
        assert excess.max() <= 0.0, (f"{name} at {label}: ∂R/∂u[{i}, {j}] = {J[i, j]:.9g} analytic, "
                                     f"{J_fd[i, j]:.9g} by differences, bound {bound[i, j]:.3g}")
    if name in CONTACT_PROBLEMS:
        # the contact stiffness is exercised: the support carries load at the equilibrium, and
        # some contact is open (one-sided) at some posture
        pens = np.array([_penetrations(p, u) for _, u in postures[name]])
        assert np.any(pens[1] > 0) and np.any(pens < 0), pens


@pytest.mark.parametrize("name", PROBLEMS)
def test_analytic_jacobian_is_symmetric(name, problems, postures, fd_jacobian_bound):
    p = problems[name]
    for label, u in postures[name]:
        J = statics.reduced_jacobian(p, u)
        # conservative forces: exactly symmetric, up to the rounding of sums of ~10³ terms
        scale = float(np.max(np.abs(J)))
        assert np.max(np.abs(J - J.T)) <= 1e3 * EPS * scale, f"{name} at {label}"
        # independently of the analytic code: the finite-difference Jacobian is symmetric too,
        # within its own error bound
        J_fd, bound = fd_jacobian_bound(p, u, FD_H)
        assert np.all(np.abs(J_fd - J_fd.T) <= bound + bound.T), f"{name} at {label}"


def test_jacobian_paths_agree(problems, postures):
    # jacobian(q) and jacobian(q, geo) (segment quantities recomputed from a geometry); the
    # solver's fused evaluation gives exactly reduced_residual and reduced_jacobian; the
    # residual is exactly the sum of the generalized forces by source
    for name, p in problems.items():
        for label, u in postures[name][:3]:
            q = p.q_c + p.B @ u
            J = bm.jacobian(p, q)
            np.testing.assert_allclose(bm.jacobian(p, q, bm.geometry(p, q)), J, rtol=1e-12,
                                       atol=1e3 * EPS * np.abs(J).max())
            R, jac, at = statics._reduced_state(p, u)
            np.testing.assert_array_equal(R, statics.reduced_residual(p, u))
            np.testing.assert_array_equal(jac(), statics.reduced_jacobian(p, u))
            np.testing.assert_array_equal(at["geometry"].q, q)
            g = bm.generalized_forces(p, q)
            for k in (*statics.SOURCES, "muscle_forces"):     # what the result carries to its report
                np.testing.assert_array_equal(at[k], g[k])
            np.testing.assert_array_equal(
                bm.residual(p, q), g["gravity"] + g["external"] + g["contact"] + g["passive"] + g["muscle"] + g["abdominal_pressure"])
            np.testing.assert_array_equal(bm.stiffness(p, q), -J)


def test_passive_moments_depend_on_their_own_joint_only(problems, rng):
    # the leg laws are evaluated with the neighbouring joints at the reference posture
    # (the partners of problem.leg_joints), so every passive moment depends on its own joint alone: a
    # diagonal passive stiffness, as a potential requires (the full Riener & Edrich laws have
    # unequal cross-derivatives)
    for name in ("standing_free", "sitting_free", "lying_free"):
        p = problems[name]
        hip, knee, ankle = (p.model.joint_index(j) for j in ("hip", "knee", "ankle"))
        assert [k[3] for k in p.leg_joints] == [(-p.q_ref[hip], p.q_ref[knee], p.q_ref[ankle])] * 3
        q = p.q_ref + rng.uniform(-0.05, 0.05, p.model.n_joints)
        m0, dm0 = statics.passive_moments(p, q)
        for j in range(p.model.n_joints):
            dq = np.zeros(p.model.n_joints)
            dq[j] = 0.02
            m1 = statics.passive_moments(p, q + dq)[0]
            others = np.arange(p.model.n_joints) != j
            np.testing.assert_array_equal(m1[others], m0[others])
        # and the reported slopes are their derivatives (central differences, h = 1e-6 rad:
        # truncation h² M''' / 6 and rounding eps |M| / h, both < 1e-7 N·m/rad here)
        h = FD_H
        fd = np.array([(statics.passive_moments(p, q + h * e)[0][j] - statics.passive_moments(p, q - h * e)[0][j])
                       / (2 * h) for j, e in enumerate(np.eye(p.model.n_joints))])
        np.testing.assert_allclose(dm0, fd, rtol=1e-6, atol=1e-6)


def _fd_state(p, u):
    # the solver as it was: the Jacobian by central differences (h = 1e-6) of the residual
    q = p.q_c + p.B @ u
    return (statics.reduced_residual(p, u), (lambda: statics.reduced_jacobian_fd(p, u)),
            bm.generalized_forces(p, q))


@pytest.mark.parametrize("name", FORWARD)
@pytest.mark.parametrize("start", ["reference", "perturbed"])
def test_solver_answers_unchanged_by_the_analytic_jacobian(name, start, problems, monkeypatch,
                                                           fd_jacobian_bound):
    p = problems[name]
    q0 = None
    if start == "perturbed":
        rng = np.random.default_rng(SEED)
        q0 = p.q_c + p.B @ (_u_of(p, p.q_ref) + rng.uniform(-3, 3, p.B.shape[1]) * DEG)
    new = bm.solve_equilibrium(problem=p, q0=q0)
    with monkeypatch.context() as mp:
        mp.setattr(statics, "_reduced_state", _fd_state)
        old = bm.solve_equilibrium(problem=p, q0=q0)
    assert (new.code, new.stable) == (old.code, old.stable), (new.message, old.message)
    np.testing.assert_allclose(new.q, old.q, rtol=0, atol=Q_TOL)
    assert new.iterations <= old.iterations
    assert new.max_residual_Nm < p.tolerance_Nm or not old.converged
    if new.converged:
        # Weyl: eigenvalues of two symmetric matrices differ by at most the spectral norm of
        # their difference, which the elementwise bound of the differences dominates (both
        # answers are the same posture to Q_TOL, so the same bound holds for both)
        _, bound = fd_jacobian_bound(p, _u_of(p, new.q), FD_H)
        tol = np.linalg.norm(bound, 2)
        np.testing.assert_allclose(new.stiffness_eigenvalues, old.stiffness_eigenvalues, rtol=0, atol=tol)


def test_a_rejected_step_is_shortened_to_the_least_energy_along_it(rng):
    # statics.ray_fraction: where the forces change linearly along a step (a quadratic energy,
    # R = −K (u − u*)), a step that overshoots the least energy along it k-fold is shortened to
    # exactly that point; a step along which the force did not turn gets NaN (a shift must
    # shorten it), a tiny fraction at least `RAY_MIN_FRACTION`; rows of a batch are independent
    A = rng.normal(size=(5, 5))
    K = A @ A.T + 5 * np.eye(5)
    u, u_star = rng.normal(size=5), rng.normal(size=5)
    R = lambda x: -K @ (x - u_star)                              # noqa: E731
    d = np.linalg.solve(K, R(u))                                 # the Newton step: u* exactly
    for k in (1.5, 5.0, 9.0):
        du = k * d
        # the trapezoidal work is exact here: the energy is lower after k Newton steps iff k < 2
        assert bool(statics.lowers_energy(R(u), R(u + du), du, np.abs(R(u)).max(), 1e-8)) == (k < 2)
        alpha = statics.ray_fraction(R(u), R(u + du), du)
        np.testing.assert_allclose(alpha, 1.0 / k, rtol=1e-12)
        np.testing.assert_allclose(u + alpha * du, u_star, atol=1e-12)
    assert np.isnan(statics.ray_fraction(R(u), R(u + 0.5 * d), 0.5 * d))        # short of it
    assert statics.ray_fraction(R(u), R(u + 100 * d), 100 * d) == statics.RAY_MIN_FRACTION
    rows = np.stack([R(u), R(u)]), np.stack([R(u + 5 * d), R(u + 0.5 * d)]), np.stack([5 * d, 0.5 * d])
    out = statics.ray_fraction(*rows)
    assert out[0] == pytest.approx(0.2) and np.isnan(out[1])


def test_psoas_pull_from_the_reference_posture_takes_the_shortened_steps(model, monkeypatch):
    # psoas 300 N from the reference posture: the first capped Newton steps overshoot the
    # energy's minimum along them (measured fivefold); shortened along the step they are taken
    # with fewer evaluations of the forces than by growing the shift alone, to the same posture
    p = bm.prepare(model, support=bm.Support("standing"), settings={"psoas": bm.MuscleSetting(tension_N=300.0)})
    calls = []
    state = statics._reduced_state
    monkeypatch.setattr(statics, "_reduced_state", lambda *a: calls.append(1) or state(*a))
    new, n_new = bm.solve_equilibrium(problem=p), len(calls)
    monkeypatch.setattr(statics, "ray_fraction", lambda R, R_new, du: np.nan)
    old, n_old = bm.solve_equilibrium(problem=p), len(calls) - n_new
    assert new.code is old.code is bm.Status.SOLVED
    np.testing.assert_allclose(new.q, old.q, rtol=0, atol=Q_TOL)
    assert n_new < n_old


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_script_runs(capsys, model):
    # the script's fast measurements, and its JSON (the slow ones, subprocesses and sweeps of the
    # recruited modes, run the same code paths; `scripts/bench.py` alone runs them all)
    bench = _load_bench()
    assert bench.__doc__ and "median" in bench.__doc__
    slow = (set(bench.SLOW) | {"run_with_figure", "cli_sweep_point", "viewer_update", "import",
                               "baseline_slsqp_fd_upright", "solve_upright_psoas300",
                               "solve_default_standing"}) & set(bench.MEASUREMENTS)
    slow -= {"sweep_psoas_101"}
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
    # the sweep counts the points solved, warm-started (and, failing that, from the reference
    # posture): at least those a solve from the reference posture alone succeeds at (the slack
    # psoas end of the sweep may fall: the body tips over the heels)
    tensions = np.linspace(0.0, 800.0, 101)
    cold = sum(bm.solve_equilibrium(model, support=bm.Support("standing"),
                                    settings={"psoas": bm.MuscleSetting(tension_N=float(t))}).success
               for t in tensions)
    assert cold >= 90 and cold <= res["sweep_psoas_101"]["solved"] <= 101
    base = res["baseline_hybr_psoas300"]
    assert base["max_residual_Nm"] < 1e-6 and base["max_difference_from_biomech_rad"] < 1e-6
    assert base["speedup"] > 0
    assert bench.main(["--repeat", "1", "--skip", ",".join(bench.MEASUREMENTS)]) == 0
    assert "measurement" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# the upright mode's derivatives (recruitment.held_balance, upright.target_and_gradient,
# balance.reaction_gradient, tissues.tissue_cost), at generic postures near the reference
# ---------------------------------------------------------------------------------------------
_UPRIGHT_SUPPORTS = [_S("standing", thigh_inclination_deg=5), _S("sitting"), _S("sitting", backrest_inclination_deg=10),
                     _S("lying", legs="lifted"), _S("lying")]
_IDS = ["standing", "sitting", "sitting_backrest", "lying_lifted", "lying_supported"]


POSTURE_ROUNDING_RAD = 1e-13     # positions rounded by ~10⁻¹⁴ m on levers of ≥ 10 cm


def _rounding(D, h=FD_H):
    """Rounding error (…, 1) of central differences with step h of a quantity whose derivative
    is D (…, n_joints): δθ Σ_j |D_j| / h, plus 10³ eps of the largest entry."""
    D = np.abs(D)
    return POSTURE_ROUNDING_RAD * D.sum(-1, keepdims=True) / h + 1e3 * EPS * D.max()


def _central(f, q, h=FD_H):
    """Central differences (…, n_joints) of f (array-valued) at q, and those with step 2h."""
    cols = [[(np.asarray(f(q + e)) - np.asarray(f(q - e))) / (2 * s) for e in np.eye(len(q)) * s]
            for s in (h, 2 * h)]
    return np.stack(cols[0], -1), np.stack(cols[1], -1)


@pytest.mark.parametrize("support", _UPRIGHT_SUPPORTS, ids=_IDS)
def test_held_balance_derivatives_match_central_differences(support, model):
    from biomech.recruitment import _line_terms, free_lines, held_balance
    p = bm.prepare(model, support=support, locked_joints=(), settings={
        "psoas": bm.MuscleSetting(tension_N=300), "hamstrings": bm.MuscleSetting(resting_length_scale=0.9)})
    free = free_lines(p)
    rng = np.random.default_rng(7)
    a = rng.uniform(0.0, 0.3, free.sum())
    q = p.q_ref + rng.normal(0.0, 0.03, p.model.n_joints)
    R, J, A, fl, dfl, _ = held_balance(p, q, free, a)
    A2, r0, fl2 = _line_terms(p, bm.geometry(p, q), free)      # the recruitment's own terms
    np.testing.assert_allclose(R, r0 + A2 @ a, rtol=0, atol=1e3 * EPS * max(1.0, np.abs(r0).max()))
    np.testing.assert_array_equal(A, A2)
    np.testing.assert_array_equal(fl, fl2)
    # the FD error: truncation (Richardson, |D_2h − D_h|), and rounding: the positions are
    # rounded by ~10⁻¹⁴ m, i.e. the posture is known to δθ = 10⁻¹³ rad (on levers ≥ 10 cm), which
    # moves a quantity by δθ Σ_j |∂/∂q_j|; the difference quotient divides that by h
    J_fd, J_2h = _central(lambda x: held_balance(p, x, free, a)[0], q)
    np.testing.assert_array_less(np.abs(J - J_fd), np.abs(J_2h - J_fd) + _rounding(J))
    dfl_fd, dfl_2h = _central(lambda x: held_balance(p, x, free, a)[3], q)
    np.testing.assert_array_less(np.abs(dfl - dfl_fd), np.abs(dfl_2h - dfl_fd) + _rounding(dfl))


@pytest.mark.parametrize("kind", ["head_angle_deg", "trunk_inclination_deg", "sagittal_vertical_axis_mm",
                                  "thorax_angle_deg", "thigh_inclination_deg", "knee_flexion_deg",
                                  "pelvic_tilt_deg"])
@pytest.mark.parametrize("support", [_S("standing"), _S("sitting"), _S("lying")], ids=lambda s: s.kind)
def test_upright_target_gradient_matches_central_differences(kind, support, model):
    from biomech.upright import TARGETS, target_and_gradient, target_value
    assert kind in TARGETS
    p = bm.prepare(model, support=support, locked_joints=())
    q = p.q_ref + np.random.default_rng(3).normal(0.0, 0.05, p.model.n_joints)
    fd, fd_2h = _central(lambda x: target_value(p, x, kind), q)
    value, grad = target_and_gradient(p, bm.geometry(p, q), kind)
    assert value == target_value(p, q, kind)
    # geometric quantities (deg, mm) of rigid-body kinematics: truncation |D_2h − D_h| and
    # rounding eps·|value|/h (values < 10³, so < 10⁻⁶)
    np.testing.assert_array_less(np.abs(grad - fd), np.abs(fd_2h - fd) + 1e-6)


@pytest.mark.parametrize("locked", [None, ()], ids=["held", "free"])
@pytest.mark.parametrize("support", _UPRIGHT_SUPPORTS, ids=_IDS)
def test_balance_reaction_gradient_matches_central_differences(support, locked, model):
    # the normal forces at the two ends of the root's resting patch (heel and forefoot; the
    # back at T8 and T5) as functions of q, with every weight, load and contact force, against
    # balance.reaction_gradient, which the upright mode's balance constraint uses
    from biomech.balance import reaction, reaction_gradient
    loads = (bm.Load("L3", (0.15, 0.14), mass_kg=10),) if support.kind == "standing" else ()
    p = bm.prepare(model, support=support, loads=loads, locked_joints=locked)
    rng = np.random.default_rng(11)
    weight = float(np.abs(p.weight).sum())
    for q in (p.q_ref + rng.normal(0.0, 0.03, p.model.n_joints), p.q_ref + rng.normal(0.0, 0.03, p.model.n_joints)):
        def normal_forces(x):
            r = reaction(p, bm.geometry(p, x))
            return np.array([r.a_N, r.b_N])
        grad = reaction_gradient(p, bm.geometry(p, q))
        fd, fd_2h = _central(normal_forces, q)
        # N_b = M / L with M a sum of moments of forces ≤ 10⁴ N on ≤ 2 m, L ≥ 9 cm: its
        # rounding is ~10⁴·2/0.09·eps; over h, < 10⁻³ N/rad; plus truncation |D_2h − D_h|
        L = float(np.linalg.norm(reaction(p, bm.geometry(p, q)).b - reaction(p, bm.geometry(p, q)).a))
        forces = weight + float(np.abs(statics.contact_forces(p, bm.geometry(p, q))[2]).sum()) + 10 * 9.81 * len(loads)
        np.testing.assert_array_less(np.abs(grad - fd), np.abs(fd_2h - fd) + 100 * EPS * forces * 2.0 / L / FD_H)
        # and the reaction moves: the gradient is not trivially zero
        assert np.abs(grad).max() > 1.0


@pytest.mark.parametrize("support", [_S("standing"), _S("sitting"), _S("lying")], ids=lambda s: s.kind)
def test_tissue_cost_gradient_matches_central_differences(support, model):
    # ½ Σ (M_j / M_ref,j)² over the free spinal joints (those with an intervertebral law; the
    # leg laws are left out, biomech/tissues.py), M_ref by the sign of M
    from biomech.tissues import tissue_cost
    p = bm.prepare(model, support=support, locked_joints=())
    joints = np.flatnonzero(np.isfinite(p.tissue_ref[0]) & p.B.any(1))
    spinal = [j for j, law in enumerate(p.model.passive) if isinstance(law, bm.IntervertebralLaw)]
    assert joints.tolist() == spinal

    def cost(x):
        M, dM = statics.passive_moments(p, x)
        return tissue_cost(M, dM, p.tissue_ref, joints)
    rng = np.random.default_rng(5)
    for q in (p.q_ref, p.q_ref + rng.normal(0.0, 0.03, p.model.n_joints)):
        value, grad = cost(q)
        M = statics.passive_moments(p, q)[0]
        ref = np.where(M >= 0, p.tissue_ref[0], p.tissue_ref[1])
        np.testing.assert_allclose(value, 0.5 * np.sum((M / ref)[joints] ** 2), rtol=1e-12)
        fd, fd_2h = _central(lambda x: cost(x)[0], q)
        np.testing.assert_array_less(np.abs(grad - fd), np.abs(fd_2h - fd) + 1e-8 * max(1.0, value))


def test_forces_and_jacobian_are_generalized_forces_and_jacobian_from_one_evaluation():
    # statics.forces_and_jacobian (a solved posture's report): the same numbers as the two
    # functions alone, for one posture and a batch; free_coordinates is B's least-squares inverse
    model = bm.make_model()
    rng = np.random.default_rng(SEED + 1)
    for p in (bm.prepare(model, settings={"psoas": _M(tension_N=300)}),
              bm.prepare(model, support=_S("lying"), locked_joints=())):
        for q in (p.q_ref + rng.normal(0.0, 0.03, p.q_ref.shape), p.q_ref + rng.normal(0.0, 0.03, (3,) + p.q_ref.shape)):
            sources, J = statics.forces_and_jacobian(p, q)
            alone = statics.generalized_forces(p, q)
            for k in statics.SOURCES + ("muscle_forces", "pressure_Pa"):
                np.testing.assert_array_equal(sources[k], alone[k], err_msg=k)
            np.testing.assert_array_equal(J, statics.jacobian(p, q))
            u = statics.free_coordinates(p, q)
            np.testing.assert_allclose(u, np.linalg.lstsq(p.B, (q - p.q_c).T, rcond=None)[0].T, rtol=0, atol=1e-15)
            np.testing.assert_array_equal(statics.joint_angles(p, u)[..., p.B.any(1)], q[..., p.B.any(1)])

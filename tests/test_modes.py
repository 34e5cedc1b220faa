import json
import subprocess
import sys

import numpy as np
import scipy.linalg
import scipy.optimize
import pytest

import biomech as bm
import biomech.recruitment as rc
from biomech.inverse import PostureTarget, solve_inverse
from biomech.names import JOINTS
from biomech.recruitment import Criterion, _line_terms, free_lines, recruit
from biomech.balance import balance_margins, reaction
from biomech.statics import _contact_state, passive_moments
from biomech.tissues import tissue_cost
from biomech.upright import UprightTarget, solve_upright, target_and_gradient, target_value


@pytest.fixture(scope="module")
def model():
    return bm.make_model()


def problem(model, **kw):
    # the equilibrium mode's and the inverse mode's problem: the ankles and knees held
    return bm.prepare(model, **kw)


def free_problem(model, **kw):
    # the upright mode's problem: every joint free, the person stands on the feet alone
    return bm.prepare(model, locked_joints=(), **kw)


UPRIGHT_CASES = {
    "relaxed": {},
    "psoas_400": {"settings": {"psoas": bm.MuscleSetting(tension_N=400)}},
    "tight_psoas": {"settings": {"psoas": bm.MuscleSetting(resting_length_scale=0.8)}},
    "anterior_load": {"loads": (bm.Load("L3", (0.15, 0.15), mass_kg=10),)},
    # 50 kg held far forward: some lines need full activation (4 at a = 1 when the tissue term
    # counts the spine only; 40 kg at 0.4 m no longer saturated any, the legs taking more)
    "saturating_load": {"loads": (bm.Load("L3", (0.45, 0.15), mass_kg=50),)},
}


@pytest.fixture(scope="module")
def upright_results(model):
    return {k: solve_upright(free_problem(model, **kw)) for k, kw in UPRIGHT_CASES.items()}


def upright_objective(p, q, criterion=Criterion()):
    """What solve_upright minimises at posture q: the muscles' term at the least-effort
    activations that hold q (½ Σa², or ½ ‖a f_L‖_p² for the stress criterion) plus the tissue
    term w · ½ Σ (M/M_ref)², and a large penalty where the muscles cannot hold q."""
    rec = recruit(p, q, criterion=criterion)
    muscles = rec.effort if criterion.name == "activation_squared" \
        else rec.effort ** (2.0 / criterion.exponent)
    penalty = rec.objective - rec.effort                     # the shortfall's
    return 0.5 * muscles + penalty + criterion.tissue_weight * tissue_term(p, q)


def tissue_term(p, q):
    M, dM = passive_moments(p, q)
    joints = np.flatnonzero(np.isfinite(p.tissue_ref[0]) & p.B.any(1))
    return tissue_cost(M, dM, p.tissue_ref, joints)[0]


def margins(p, q):
    """The support's normal forces that must not be negative (N)."""
    geo = bm.geometry(p, q)
    contact = _contact_state(p, geo) if len(p.contact_body) else None
    return balance_margins(p, reaction(p, geo, contact=contact))


def aim(p, q, kind):
    return target_and_gradient(p, bm.geometry(p, q), kind)


def perturbations(p, q, kept: dict, rng, count=12, size=2e-3):
    """Feasible postures near q: random directions tangent to the targets' level set, one
    Gauss-Newton step back onto it, within the ranges and balanced on the support."""
    kinds = list(kept)
    G = np.array([aim(p, q, k)[1] for k in kinds])
    for _ in range(count):
        d = rng.normal(size=len(q))
        d -= G.T @ np.linalg.solve(G @ G.T, G @ d)
        for h in (size, -size):
            x = q + h * d / np.linalg.norm(d)
            values, grads = zip(*(aim(p, x, k) for k in kinds))
            Gx = np.array(grads)
            x = x - Gx.T @ np.linalg.solve(Gx @ Gx.T, np.array(values) - np.array([kept[k] for k in kinds]))
            if np.all((x >= p.q_low) & (x <= p.q_high)) and margins(p, x).min() >= 0:
                yield x


@pytest.mark.parametrize("key", list(UPRIGHT_CASES))
def test_upright_solution_is_an_equilibrium_that_keeps_the_target(upright_results, key):
    r = upright_results[key]
    assert r.success, r.message
    # recompute the residual on the problem that holds the recruited activations
    p = r.problem
    assert p.locked == ()                                    # every joint free
    g = bm.generalized_forces(p, r.q)
    total = g["gravity"] + g["external"] + g["contact"] + g["passive"] + g["muscle"] + g["abdominal_pressure"]
    assert np.max(np.abs(p.B.T @ total)) < 1e-6
    # the default target: the gaze level
    assert abs(target_value(p, r.q, "head_angle_deg")) < 1e-5
    assert np.all(r.recruitment.shortfall == 0)
    act = r.recruitment.activation
    assert np.all((act >= -1e-12) & (act <= 1 + 1e-12))
    # balanced on the feet: heel and forefoot both push
    assert margins(p, r.q).min() >= -1e-6
    assert np.all((r.q >= p.q_low - 1e-9) & (r.q <= p.q_high + 1e-9))


def test_a_line_that_would_need_more_than_full_activation_is_held_at_full(upright_results):
    r = upright_results["saturating_load"]
    assert r.success, r.message
    act = r.recruitment.activation[r.recruitment.free]
    assert np.sum(act >= 1 - 1e-9) >= 1 and act.max() <= 1 + 1e-12


@pytest.mark.parametrize("key", list(UPRIGHT_CASES))
def test_no_feasible_small_posture_change_lowers_the_upright_effort(model, upright_results, key):
    # the effort counts the passive tissues (default weight 1): muscles and tissues together
    r = upright_results[key]
    p = free_problem(model, **UPRIGHT_CASES[key])
    best = upright_objective(p, r.q)
    tried = 0
    for q in perturbations(p, r.q, {"head_angle_deg": 0.0}, np.random.default_rng(20261121)):
        assert upright_objective(p, q) >= best - 1e-6 * max(1.0, best)
        tried += 1
    assert tried >= 12


def test_the_tissue_term_changes_the_posture(model, upright_results):
    # without the tissues the muscles alone decide: a posture of less muscle effort and more
    # tissue load; the more the tissues weigh, the less they carry
    p = free_problem(model)
    r = {w: solve_upright(p, criterion=Criterion(tissue_weight=w)) for w in (0.0, 1.0, 5.0)}
    assert all(x.success for x in r.values()), {w: x.message for w, x in r.items()}
    assert np.max(np.abs(r[0.0].q - r[1.0].q)) > 1e-3
    np.testing.assert_allclose(r[1.0].q, upright_results["relaxed"].q, atol=1e-6)  # the default
    tissue = {w: tissue_term(p, x.q) for w, x in r.items()}
    muscles = {w: recruit(p, x.q).effort for w, x in r.items()}
    assert tissue[0.0] > tissue[1.0] > tissue[5.0]
    assert muscles[0.0] < muscles[1.0] < muscles[5.0]
    # each is the optimum of its own weight
    for w, x in r.items():
        crit = Criterion(tissue_weight=w)
        best = upright_objective(p, x.q, crit)
        for other in r.values():
            assert upright_objective(p, other.q, crit) >= best - 1e-6 * max(1.0, best)


TARGET_COMBINATIONS = [
    {"head_angle_deg": 0.0, "trunk_inclination_deg": 5.0},
    {"head_angle_deg": 0.0, "pelvic_tilt_deg": 20.0},
    {"sagittal_vertical_axis_mm": 30.0, "knee_flexion_deg": 15.0},
    {"head_angle_deg": -10.0, "thorax_angle_deg": -3.0, "thigh_inclination_deg": 5.0},
    {"head_angle_deg": 0.0, "knee_flexion_deg": 20.0, "pelvic_tilt_deg": 10.0,
     "trunk_inclination_deg": 0.0},
]
#: how closely a target is kept (deg; mm for the SVA)
TARGET_TOL = {"sagittal_vertical_axis_mm": 1e-3}


@pytest.fixture(scope="module")
def combination_results(model):
    p = free_problem(model)
    return [solve_upright(p, UprightTarget(**c)) for c in TARGET_COMBINATIONS]


@pytest.mark.parametrize("k", range(len(TARGET_COMBINATIONS)),
                         ids=["+".join(c) for c in TARGET_COMBINATIONS])
def test_upright_keeps_any_combination_of_targets(combination_results, k):
    r = combination_results[k]
    assert r.success, r.message
    p = r.problem
    for kind, value in TARGET_COMBINATIONS[k].items():
        assert target_value(p, r.q, kind) == pytest.approx(value, abs=TARGET_TOL.get(kind, 1e-5)), kind
    g = bm.generalized_forces(p, r.q)
    total = g["gravity"] + g["external"] + g["contact"] + g["passive"] + g["muscle"] + g["abdominal_pressure"]
    assert np.max(np.abs(p.B.T @ total)) < 1e-6
    assert margins(p, r.q).min() >= -1e-6
    assert np.all((r.q >= p.q_low - 1e-9) & (r.q <= p.q_high + 1e-9))
    # a target given replaces the default gaze level: it is kept only where asked
    if "head_angle_deg" not in TARGET_COMBINATIONS[k]:
        assert abs(target_value(p, r.q, "head_angle_deg")) > 1e-3


@pytest.mark.parametrize("k", [0, 4], ids=["head+trunk", "four"])
def test_a_combination_of_targets_is_kept_with_least_effort(model, combination_results, k):
    r = combination_results[k]
    p = free_problem(model)
    best = upright_objective(p, r.q)
    tried = 0
    for q in perturbations(p, r.q, TARGET_COMBINATIONS[k], np.random.default_rng(11), count=8):
        assert upright_objective(p, q) >= best - 1e-6 * max(1.0, best)
        tried += 1
    assert tried >= 8


def test_an_unreachable_combination_of_targets_is_not_an_answer(model):
    r = solve_upright(free_problem(model), UprightTarget(knee_flexion_deg=140.0,
                                                         thigh_inclination_deg=-50.0))
    # no hidden reserve: either the targets are missed or the muscles fall short, and it says so
    assert not r.success and not r.converged
    assert r.code in (bm.Status.TARGET_MISSED, bm.Status.SHORTFALL)
    assert ("the postural target was not reached" if r.code == bm.Status.TARGET_MISSED
            else "the muscles cannot hold this posture") in r.message


@pytest.mark.parametrize("support", [
    bm.Support("sitting"),
    bm.Support("sitting", thigh_inclination_deg=80.0),
    bm.Support("sitting", backrest_inclination_deg=20.0)], ids=["seat", "seat-80", "backrest"])
def test_sitting_keeps_the_seat_and_the_gaze(model, support):
    r = solve_upright(free_problem(model, support=support))
    assert r.success, r.message
    assert target_value(r.problem, r.q, "head_angle_deg") == pytest.approx(0.0, abs=1e-5)
    assert target_value(r.problem, r.q, "thigh_inclination_deg") == pytest.approx(support.thigh_deg, abs=1e-5)
    assert np.all((r.q >= r.problem.q_low - 1e-9) & (r.q <= r.problem.q_high + 1e-9))
    names = [c["name"] for c in bm.to_dict(r, mode="upright")["support"]["contacts"]]
    assert ("backrest" in names) == (support.backrest_inclination_deg is not None)


def test_a_backrest_carries_the_back(model):
    r = solve_upright(free_problem(model, support=bm.Support("sitting", backrest_inclination_deg=20.0)))
    assert r.success, r.message
    pushes = [c["force_N"] for c in bm.to_dict(r, mode="upright")["support"]["contacts"]
              if c["name"] == "backrest"]
    assert sum(np.hypot(*f) for f in pushes) > 1.0


def test_lying_keeps_nothing_the_table_holds_the_body(model):
    r = solve_upright(free_problem(model, support=bm.Support("lying")))
    assert r.success, r.message
    assert UprightTarget().kept(r.problem.support) == {}
    assert margins(r.problem, r.q).min() >= -1e-6


@pytest.mark.parametrize("key", list(UPRIGHT_CASES))
def test_activations_satisfy_the_kkt_conditions_of_the_effort_problem(model, upright_results, key):
    # min ½Σa² s.t. A a = b, 0 ≤ a ≤ 1  <=>  a = clip(Aᵀλ, 0, 1) for some λ
    r = upright_results[key]
    p = free_problem(model, **UPRIGHT_CASES[key])
    free = free_lines(p)
    A, _, _ = _line_terms(p, bm.geometry(p, r.q), free)
    A = p.B.T @ A
    a = r.recruitment.activation[free]
    inside = (a > 1e-9) & (a < 1 - 1e-9)
    lam = np.linalg.lstsq(A[:, inside].T, a[inside], rcond=None)[0]
    # where the lines inside their bounds do not span every joint (a joint held by saturated
    # lines alone), λ is fixed only up to the null space N of their rows: some λ + N z must put
    # the lines at 1 at t ≥ 1 and those at 0 at t ≤ 0 (a feasibility LP in z)
    null = scipy.linalg.null_space(A[:, inside].T)
    if null.shape[1]:
        t0, tz = A.T @ lam, A.T @ null
        top, low = a >= 1 - 1e-9, a <= 1e-9
        lp = scipy.optimize.linprog(np.zeros(null.shape[1]), A_ub=np.vstack([-tz[top], tz[low]]),
                                    b_ub=np.concatenate([t0[top] - 1 + 1e-6, -t0[low] + 1e-6]),
                                    bounds=[(None, None)] * null.shape[1])
        assert lp.status == 0, lp.message
        lam = lam + null @ lp.x
    np.testing.assert_allclose(np.clip(A.T @ lam, 0, 1), a, atol=1e-6)


@pytest.mark.parametrize("key", list(UPRIGHT_CASES))
def test_inverse_of_an_upright_posture_gives_the_same_forces(model, upright_results, key):
    r = upright_results[key]
    p = free_problem(model, **UPRIGHT_CASES[key])
    angles = {j: float(np.degrees(r.q[k])) for k, j in enumerate(model.joints)}
    inv = solve_inverse(p, PostureTarget(joint_angles_deg=angles))
    assert inv.success, inv.message
    np.testing.assert_allclose(bm.posture_report(inv).muscle_force, bm.posture_report(r).muscle_force,
                               atol=1e-4, rtol=1e-6)


def test_inverse_realises_the_spinopelvic_parameters(model):
    p = problem(model)
    r = solve_inverse(p, PostureTarget(pelvic_tilt_deg=10, lumbar_lordosis_deg=66, trunk_inclination_deg=0))
    assert r.success, r.message
    m = bm.posture_report(r).metrics
    assert m["pelvic_tilt_deg"] == pytest.approx(10, abs=1e-8)
    assert m["lumbar_lordosis_deg"] == pytest.approx(66, abs=1e-8)
    assert m["trunk_inclination_deg"] == pytest.approx(0, abs=1e-8)
    ss = solve_inverse(p, PostureTarget(sacral_slope_deg=42, lumbar_lordosis_deg=66, trunk_inclination_deg=0))
    np.testing.assert_allclose(ss.q, r.q, atol=1e-9)          # PI = 52: SS 42 is PT 10


def test_unreachable_posture_reports_the_joint_and_a_positive_shortfall(model):
    # 3 kN pushing down 10 cm in front of L5: only L5_S1 (and the hip) feel its moment, far more
    # extension than the L5_S1 extensors can give
    load = bm.Load("L5", (0.10, 0.11), force_N=(0.0, -3000.0))
    r = solve_inverse(problem(model, loads=(load,)), PostureTarget())
    assert not r.success and not r.converged
    short = r.recruitment.shortfall
    assert JOINTS[int(np.argmax(np.abs(short)))] == "L5_S1"
    assert short[JOINTS.index("L5_S1")] > 0                  # extension missing
    assert "L5_S1 falls short by" in r.message
    doc = bm.to_dict(r, mode="inverse")
    assert doc["scenario"]["mode"] == "inverse"
    assert doc["recruitment"]["shortfall_Nm"]["L5_S1"] > 0
    json.dumps(doc, allow_nan=False)


def test_json_header_mode_follows_the_result_never_a_guess(model, upright_results):
    # a recruited result does not record which solver made it: to_dict asks rather than guess
    held = upright_results["relaxed"]
    with pytest.raises(bm.ModelError, match=r"pass mode='upright' or mode='inverse'"):
        bm.to_dict(held)
    assert bm.to_dict(held, mode="upright")["scenario"] == {"name": "python-api", "file": "",
                                                            "mode": "upright"}
    measured = solve_inverse(problem(model), PostureTarget())
    assert bm.to_dict(measured, mode="inverse")["scenario"]["mode"] == "inverse"
    eq = bm.solve_equilibrium(model)
    assert bm.to_dict(eq)["scenario"]["mode"] == "equilibrium"
    for result, wrong in ((held, "equilibrium"), (eq, "upright"), (eq, "inverse")):
        with pytest.raises(bm.ModelError, match="does not fit"):
            bm.to_dict(result, mode=wrong)
        with pytest.raises(bm.ModelError, match="does not fit"):
            bm.to_dict(result, scenario={"name": "x", "file": "", "mode": wrong})
    with pytest.raises(bm.ModelError, match="mode must be one of"):
        bm.to_dict(held, mode="recruited")
    with pytest.raises(bm.ModelError, match="contradicts"):
        bm.to_dict(held, mode="inverse", scenario={"name": "x", "file": "", "mode": "upright"})


def test_out_of_range_inverse_posture_is_an_input_error(model):
    with pytest.raises(bm.ModelError, match="T12_L1 at .* outside its physiological range"):
        solve_inverse(problem(model), PostureTarget(lumbar_lordosis_deg=45, trunk_inclination_deg=0))


def test_stress_power_criterion_gives_a_balanced_different_solution(model):
    p = problem(model)
    a2 = solve_inverse(p, PostureTarget())
    p3 = solve_inverse(p, PostureTarget(), criterion=Criterion("stress_power", 3.0))
    assert a2.success and p3.success
    assert np.max(np.abs(a2.recruitment.activation - p3.recruitment.activation)) > 1e-3


@pytest.mark.parametrize("exponent", [2.0, 3.0, 4.0])
def test_least_effort_activation_matches_an_independent_solver(exponent):
    # min Σ w x^p / p s.t. A x = b, 0 ≤ x ≤ 1 on random small problems: the dual Newton
    # iteration against scipy's trust-constr on the primal
    from scipy.optimize import Bounds, LinearConstraint, minimize

    from biomech.least_effort import least_effort_activation
    rng = np.random.default_rng(7)
    for _ in range(5):
        A = rng.normal(size=(3, 9))
        w = rng.uniform(0.2, 2.0, 9)
        b = A @ rng.uniform(0.0, 0.6, 9)                       # feasible by construction
        x, _, res = least_effort_activation(A, b, np.ones(9), power=exponent, weight=w)
        assert res < 1e-9 and np.all((x >= 0) & (x <= 1))
        ref = minimize(lambda y: float(np.sum(w * np.abs(y) ** exponent)) / exponent, np.full(9, 0.3),
                       jac=lambda y: w * np.abs(y) ** (exponent - 1) * np.sign(y), method="trust-constr",
                       constraints=[LinearConstraint(A, b, b)], bounds=Bounds(0.0, 1.0),
                       options={"gtol": 1e-12, "xtol": 1e-14, "maxiter": 5000})
        cost = float(np.sum(w * x ** exponent)) / exponent
        assert cost <= float(ref.fun) + 1e-7


@pytest.mark.parametrize("exponent", [3.0, 4.0])
def test_stress_criterion_activations_satisfy_their_kkt_conditions(model, exponent):
    # min Σ (a f_L)^p s.t. A a = b, 0 ≤ a ≤ 1  <=>  a = clip((Aᵀλ / f_L^p)^(1/(p−1)), 0, 1)
    p = problem(model, settings={"psoas": bm.MuscleSetting(tension_N=200)})
    r = solve_inverse(p, PostureTarget(), criterion=Criterion("stress_power", exponent))
    assert r.success, r.message
    free = free_lines(p)
    A, _, fl = _line_terms(p, bm.geometry(p, r.q), free)
    a = r.recruitment.activation[free]
    inside = (a > 1e-6) & (a < 1 - 1e-9)
    lam = np.linalg.lstsq(A[:, inside].T, fl[inside] ** exponent * a[inside] ** (exponent - 1), rcond=None)[0]
    t = np.maximum(A.T @ lam, 0.0)
    np.testing.assert_allclose(np.clip((t / fl ** exponent) ** (1 / (exponent - 1)), 0, 1), a, atol=1e-4)


@pytest.mark.parametrize("exponent", [2.0, 4.0])
def test_upright_posture_minimises_the_stress_criterion_it_was_given(model, exponent):
    # with exponent 2 the criterion is Σ (a f_L)², not Σ a² (they were once confused)
    crit = Criterion("stress_power", exponent)
    p = free_problem(model, settings={"psoas": bm.MuscleSetting(tension_N=300)})
    r = solve_upright(p, criterion=crit)
    assert r.success, r.message
    best = upright_objective(p, r.q, crit)
    tried = 0
    for q in perturbations(p, r.q, {"head_angle_deg": 0.0}, np.random.default_rng(3), count=8):
        assert upright_objective(p, q, crit) >= best - 1e-6 * max(1.0, best)
        tried += 1
    assert tried >= 8
    # the posture of least Σ a² costs more under Σ (a f_L)^p
    plain = solve_upright(p).q
    assert np.max(np.abs(plain - r.q)) > 1e-4
    assert best < upright_objective(p, plain, crit)


def test_stress_criterion_falls_back_to_slsqp_where_the_dual_iteration_stalls(model, monkeypatch):
    # the dual of Σ (a f_L)^p, p > 2, is not smooth where an activation leaves 0 and its Newton
    # iteration can stall there (2 of 570 random postures); SLSQP then finishes the job
    p = problem(model)
    crit = Criterion("stress_power", 3.0)
    free = free_lines(p)
    A, r0, fl = _line_terms(p, bm.geometry(p, p.q_ref), free)
    Ab, bb, upper = p.B.T @ A, -(p.B.T @ r0), np.ones(int(free.sum()))
    x_dual, res = rc._least_effort(Ab, bb, upper, fl, crit)
    assert res < 1e-9
    real = rc.least_effort_activation

    def stalling(*args, **kw):
        x, s, res = real(*args, **kw)
        return (0.9 * x, s, 1.0) if kw.get("power", 2.0) > 2.0 else (x, s, res)

    monkeypatch.setattr(rc, "least_effort_activation", stalling)
    x, res = rc._least_effort(Ab, bb, upper, fl, crit)
    assert res < 1e-6
    assert rc._effort(x, fl, crit) == pytest.approx(rc._effort(x_dual, fl, crit), rel=1e-4)


def test_stress_criterion_recruitment_needs_no_slsqp_at_relaxed_standing(model, monkeypatch):
    # the dual Newton iteration solves the stress criterion by itself here (measured 4 ms,
    # against 0.75 s with SLSQP on the primal: scripts/bench.py); the fallback is not taken
    p = problem(model)
    crit = Criterion("stress_power", 3.0)

    def no_fallback(*args, **kwargs):
        raise AssertionError("the SLSQP fallback was taken")
    monkeypatch.setattr(rc, "_stress_power_slsqp", no_fallback)
    assert solve_inverse(p, PostureTarget(), criterion=crit).success


def test_other_upright_targets(model):
    p = problem(model)
    r = solve_upright(p, UprightTarget(sagittal_vertical_axis_mm=30.0))
    assert r.success and abs(target_value(r.problem, r.q, "sagittal_vertical_axis_mm") - 30) < 1e-4
    r = solve_upright(p, UprightTarget(thorax_angle_deg=-5.0))
    assert r.success and abs(target_value(r.problem, r.q, "thorax_angle_deg") + 5) < 1e-5


def test_upright_shortfall_exits_1_through_the_cli(tmp_path):
    f = tmp_path / "heavy.toml"
    f.write_text('[scenario]\nname = "heavy"\ndescription = "Too heavy."\nmode = "inverse"\n'
                 '[[loads]]\nbody = "L5"\npoint_m = [0.10, 0.11]\nforce_N = [0.0, -3000.0]\n')
    res = subprocess.run([sys.executable, "-m", "biomech", "run", str(f), "--out", str(tmp_path / "r"),
                          "--no-plots", "--json"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1, res.stderr
    doc = json.loads(res.stdout)
    assert doc["status"]["converged"] is False and "L5_S1 falls short" in doc["status"]["message"]


def test_a_scenario_file_with_a_target_combination_solves_and_reaches_its_targets(tmp_path):
    from biomech.runner import run_scenario
    from biomech.scenario import load_scenario
    f = tmp_path / "posture.toml"
    f.write_text('[scenario]\nname = "tilted"\ndescription = "A pelvis tilted on purpose, gaze level."\n'
                 "[upright]\nhead_angle_deg = 0.0\npelvic_tilt_deg = 18.0\nknee_flexion_deg = 10.0\n"
                 "tissue_weight = 0.5\n")
    sc = load_scenario(f)
    assert sc.mode == "upright" and sc.criterion.tissue_weight == 0.5
    (point,) = run_scenario(sc).points
    assert point.result.success, point.result.message
    assert point.result.problem.locked == ()
    m = point.report.metrics
    assert m["head_angle_deg"] == pytest.approx(0.0, abs=1e-5)
    assert m["pelvic_tilt_deg"] == pytest.approx(18.0, abs=1e-5)
    assert m["knee_flexion_deg"] == pytest.approx(10.0, abs=1e-5)
    assert point.result.criterion == Criterion(tissue_weight=0.5)


def test_a_swept_target_is_reached_at_every_point_with_the_others_kept(tmp_path):
    from biomech.runner import run_scenario
    from biomech.scenario import load_scenario
    f = tmp_path / "lean.toml"
    f.write_text('[scenario]\nname = "lean"\ndescription = "Leaning forward, gaze level."\n'
                 "[upright]\nhead_angle_deg = 0.0\n"
                 '[sweep]\n"upright.trunk_inclination_deg" = [0.0, 10.0, 20.0]\n')
    run = run_scenario(load_scenario(f))
    assert [pt.values for pt in run.points] == [(0.0,), (10.0,), (20.0,)]
    for pt in run.points:
        assert pt.result.success, pt.result.message
        assert pt.report.metrics["trunk_inclination_deg"] == pytest.approx(pt.values[0], abs=1e-5)
        assert pt.report.metrics["head_angle_deg"] == pytest.approx(0.0, abs=1e-5)
    sva = [pt.report.metrics["sagittal_vertical_axis_mm"] for pt in run.points]
    assert sva[0] < sva[1] < sva[2]                       # leaning forward moves C7 forward

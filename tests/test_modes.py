import json
import subprocess
import sys

import numpy as np
import pytest

import biomech as bm
import biomech.recruitment as rc
from biomech.inverse import PostureTarget, solve_inverse
from biomech.names import JOINTS
from biomech.recruitment import Criterion, _line_terms, free_lines, recruit
from biomech.upright import UprightTarget, solve_upright, target_value


@pytest.fixture(scope="module")
def model():
    return bm.make_model()


def problem(model, **kw):
    return bm.prepare(model, **kw)


UPRIGHT_CASES = {
    "relaxed": {},
    "psoas_400": {"settings": {"psoas": bm.MuscleSetting(tension_N=400)}},
    "tight_psoas": {"settings": {"psoas": bm.MuscleSetting(resting_length_scale=0.8)}},
    "anterior_load": {"loads": (bm.Load("L3", (0.15, 0.15), mass_kg=10),)},
    # 40 kg held far forward: without the bound a ≤ 1 some line would need > 2x full activation
    "saturating_load": {"loads": (bm.Load("L3", (0.4, 0.15), mass_kg=40),)},
}


@pytest.fixture(scope="module")
def upright_results(model):
    return {k: solve_upright(problem(model, **kw)) for k, kw in UPRIGHT_CASES.items()}


@pytest.mark.parametrize("key", list(UPRIGHT_CASES))
def test_upright_solution_is_an_equilibrium_that_keeps_the_target(upright_results, key):
    r = upright_results[key]
    assert r.success, r.message
    # recompute the residual on the problem that holds the recruited activations
    p = r.problem
    g = bm.generalized_forces(p, r.q)
    total = g["gravity"] + g["external"] + g["contact"] + g["passive"] + g["muscle"]
    assert np.max(np.abs(p.B.T @ total)) < 1e-6
    assert abs(target_value(p, r.q, "trunk_inclination_deg")) < 1e-5
    assert np.all(r.recruitment.shortfall == 0)
    act = r.recruitment.activation
    assert np.all((act >= -1e-12) & (act <= 1 + 1e-12))


def test_a_line_that_would_need_more_than_full_activation_is_held_at_full(upright_results):
    r = upright_results["saturating_load"]
    assert r.success, r.message
    act = r.recruitment.activation[r.recruitment.free]
    assert np.sum(act >= 1 - 1e-9) >= 1 and act.max() <= 1 + 1e-12


@pytest.mark.parametrize("key", list(UPRIGHT_CASES))
def test_no_feasible_small_posture_change_lowers_the_upright_effort(model, upright_results, key):
    r = upright_results[key]
    p = problem(model, **UPRIGHT_CASES[key])
    best = recruit(p, r.q).objective
    rng = np.random.default_rng(20261121)
    for _ in range(12):
        d = rng.normal(size=7)
        # project onto the target's level set: remove the component along its gradient
        grad = np.array([(target_value(p, r.q + e, "trunk_inclination_deg")
                          - target_value(p, r.q - e, "trunk_inclination_deg")) / 2e-6 for e in np.eye(7) * 1e-6])
        d -= grad * (grad @ d) / (grad @ grad)
        for h in (2e-3, -2e-3):
            q = r.q + h * d / np.linalg.norm(d)
            # one Newton correction back onto the target
            q = q - grad * (target_value(p, q, "trunk_inclination_deg")) / (grad @ grad)
            assert recruit(p, q).objective >= best - 1e-6 * max(1.0, best)


@pytest.mark.parametrize("key", list(UPRIGHT_CASES))
def test_activations_satisfy_the_kkt_conditions_of_the_effort_problem(model, upright_results, key):
    # min ½Σa² s.t. A a = b, 0 ≤ a ≤ 1  <=>  a = clip(Aᵀλ, 0, 1) for some λ
    r = upright_results[key]
    p = problem(model, **UPRIGHT_CASES[key])
    free = free_lines(p)
    A, _, _ = _line_terms(p, bm.geometry(p, r.q), free)
    a = r.recruitment.activation[free]
    inside = (a > 1e-9) & (a < 1 - 1e-9)
    lam = np.linalg.lstsq(A[:, inside].T, a[inside], rcond=None)[0]
    np.testing.assert_allclose(np.clip(A.T @ lam, 0, 1), a, atol=1e-6)


@pytest.mark.parametrize("key", list(UPRIGHT_CASES))
def test_inverse_of_an_upright_posture_gives_the_same_forces(model, upright_results, key):
    r = upright_results[key]
    p = problem(model, **UPRIGHT_CASES[key])
    angles = {j: float(np.degrees(r.q[k])) for k, j in enumerate(JOINTS)}
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
    p = problem(model, settings={"psoas": bm.MuscleSetting(tension_N=300)})
    r = solve_upright(p, criterion=crit)
    assert r.success, r.message
    best = recruit(p, r.q, criterion=crit).objective
    rng = np.random.default_rng(3)
    grad = np.array([(target_value(p, r.q + e, "trunk_inclination_deg")
                      - target_value(p, r.q - e, "trunk_inclination_deg")) / 2e-6 for e in np.eye(7) * 1e-6])
    for _ in range(8):
        d = rng.normal(size=7)
        d -= grad * (grad @ d) / (grad @ grad)
        for h in (2e-3, -2e-3):
            q = r.q + h * d / np.linalg.norm(d)
            q = q - grad * target_value(p, q, "trunk_inclination_deg") / (grad @ grad)
            assert recruit(p, q, criterion=crit).objective >= best * (1 - 1e-6)
    # the posture of least Σ a² costs more under Σ (a f_L)² (measured: 0.3 % more)
    plain = solve_upright(p).q
    assert best < recruit(p, plain, criterion=crit).objective * (1 - 1e-3)


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

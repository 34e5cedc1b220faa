# The model into OpenSim (`biomech export`, `biomech.export.to_osim`; docs/api.md §4).
#
# OpenSim (`pip install -e '.[opensim]'`) loads every exported file, and at the solved posture:
# * its bodies, centres of mass, coordinates, path points and musculotendon lengths are ours;
# * its moment arms (`Muscle.computeMomentArm`) equal ours for every line at every joint;
# * its passive coordinate forces are our passive laws, at the solved angle and across the range;
# * its inverse dynamics at zero velocity and acceleration, with every line pulling with its
#   solved tension (the muscles' actuation overridden), balances at every coordinate as ours
#   does, and the muscles alone give our muscle generalized forces;
# * lying with the legs supported, its constraint keeps the femur's orientation.
# Without OpenSim these tests skip, except in CI (CI=true), which must have it.

import contextlib
import io
import math
import os
from pathlib import Path

import numpy as np
import pytest

import biomech as bm
from biomech.cli import main
from biomech.export import evaluate_expression, passive_expressions, to_osim
from biomech.passive import hip_passive_moment, intervertebral_moment
from biomech.results import to_dict
from biomech.runner import run_scenarios, scenario_header
from biomech.scenario import load_scenario

try:
    import opensim as osim
except ImportError:                      # pragma: no cover - depends on the environment
    if os.environ.get("CI"):
        raise RuntimeError("CI must install OpenSim for tests/test_export.py: "
                           "pip install -e '.[test,opensim]'") from None
    osim = None

needs_opensim = pytest.mark.skipif(osim is None, reason="OpenSim is not installed "
                                   "(pip install -e '.[opensim]')")

ROOT = Path(__file__).resolve().parents[1]
# (file, sweep point): standing, sitting, lying with both kinds of legs, an external load, a
# tight psoas (scaled l_opt), the upright mode along a sweep, the inverse mode
CASES = [("neutral_standing.toml", 0), ("sitting.toml", 0), ("lying.toml", 0),
         ("supine_leg_raise.toml", 0), ("pregnancy_load.toml", 0), ("tight_psoas_upright.toml", 0),
         ("psoas_tension_upright.toml", 8), ("hyperlordosis_inverse.toml", 0)]
IDS = [f.removesuffix(".toml") for f, _ in CASES]
ARM_TOL_M = 1e-8          # required 0.01 mm; both sides are exact geometry (measured ≈ 1e-16 m)
ID_TOL_NM = 0.01          # required; measured ≤ 2.2e-9 N·m, our solver's own residual


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """{case: (result, document, .osim path)} for every case."""
    folder = tmp_path_factory.mktemp("osim")
    scenarios = [load_scenario(ROOT / "scenarios" / f) for f, _ in CASES]
    out = {}
    for (f, k), sc, run in zip(CASES, scenarios, run_scenarios(scenarios)):
        res = run.points[k].result
        assert res.success, (f, res.message)
        head = scenario_header(sc)
        path = folder / f"{sc.name}.osim"
        path.write_text(to_osim(res, scenario=head, point=k if sc.sweep else None))
        out[f.removesuffix(".toml")] = (res, to_dict(res, scenario=head), path)
    return out


def load(path, *, coupler=True):
    """An OpenSim model and its initial state; ``coupler=False`` leaves the table's constraint
    on the legs (lying, legs supported) unenforced."""
    m = osim.Model(str(path))
    if not coupler and m.getConstraintSet().contains("table_legs"):
        m.updConstraintSet().get("table_legs").set_isEnforced(False)
    return m, m.initSystem()


def vec(v, n=3):
    return np.array([v.get(i) for i in range(n)])


# ---------------------------------------------------------------------------------------------
def test_passive_expressions_are_the_laws(exported):
    """The text of each passive expression, read back, is our law at every angle of its range."""
    res, doc, _ = exported["neutral_standing"]
    p, model = res.problem, res.problem.model
    expr = passive_expressions(res, doc)
    for k, j in enumerate(bm.JOINTS):
        for q in np.linspace(p.q_low[k], p.q_high[k], 41):
            if k == 0:
                ours = hip_passive_moment(q, p.knee_rad, float(p.hip_scale[0]))[0]
            else:
                law = model.intervertebral[j]
                ours = intervertebral_moment(np.array([law.coefficients()]),
                                             np.array([q - model.rest_angle[k]]))[0][0]
            assert evaluate_expression(expr[j], q) == pytest.approx(float(ours), rel=1e-12, abs=1e-12), (j, q)


def test_a_model_hip_scale_is_exported():
    """A model built with its own hip passive scale exports that scale."""
    res = bm.solve_equilibrium(bm.make_model(hip_stiffness_scale=2.0))
    doc = to_dict(res)
    expr = passive_expressions(res, doc)["hip"]
    assert evaluate_expression(expr, res.q[0]) == pytest.approx(doc["joints"]["hip"]["passive_moment_Nm"], rel=1e-12)
    assert evaluate_expression(expr, 0.3) == pytest.approx(hip_passive_moment(0.3, 0.0, 2.0)[0], rel=1e-12)


def test_a_tight_psoas_exports_its_shortened_fibres(exported):
    """`resting_length_scale` 0.8 shortens l_opt (not l_ts), also once the upright mode has
    recruited the psoas (its holding problem sets the lines' activations)."""
    res, doc, _ = exported["tight_psoas_upright"]
    model = res.problem.model
    for i in model.group_lines("psoas"):
        mu = doc["muscles"][model.muscle_names[i]]
        assert mu["optimal_fiber_length_m"] == pytest.approx(0.8 * model.optimal_fiber_length[i], rel=1e-15)
        assert mu["tendon_slack_length_m"] == model.tendon_slack_length[i]


def test_names_and_structure(exported):
    _, doc, path = exported["lying"]
    text = path.read_text()
    for name in [*bm.BODIES, *bm.JOINTS, *doc["muscles"]]:
        assert f'name="{name}"' in text, name
    assert text.count("<Thelen2003Muscle ") == len(doc["muscles"]) == 113
    assert text.count("<PinJoint ") == 7 and text.count("<WeldJoint ") == 1
    assert text.count("<ExpressionBasedCoordinateForce ") == 7
    assert 'name="table_legs"' in text and 'name="table"' in text
    assert text.count('name="table_weight_') == 8


# ---------------------------------------------------------------------------------------------
@needs_opensim
@pytest.mark.parametrize("export_case", IDS)
def test_opensim_has_our_posture(exported, export_case):
    res, doc, path = exported[export_case]
    m, s = load(path)
    m.realizePosition(s)
    np.testing.assert_allclose(vec(m.getGravity()), [*doc["gravity_m_s2"], 0.0], rtol=0, atol=0)
    for name, b in doc["bodies"].items():
        body = m.getBodySet().get(name)
        assert body.getMass() == b["mass_kg"]
        com = vec(body.findStationLocationInGround(s, body.getMassCenter()))
        np.testing.assert_allclose(com, [*b["com_m"], 0.0], rtol=0, atol=1e-14)
    cs = m.getCoordinateSet()
    for k, j in enumerate(bm.JOINTS):
        c = cs.get(j)
        assert c.getValue(s) == pytest.approx(res.q[k], abs=1e-12)
        assert (c.getRangeMin(), c.getRangeMax()) == (res.problem.q_low[k], res.problem.q_high[k])
        centre = vec(m.getJointSet().get(j).getParentFrame().getPositionInGround(s))
        np.testing.assert_allclose(centre, [*doc["joints"][j]["center_m"], 0.0], rtol=0, atol=1e-14)
    muscles = m.getMuscles()
    for name, mu in doc["muscles"].items():
        ms = muscles.get(name)
        assert ms.getLength(s) == pytest.approx(mu["length_m"], abs=1e-14)
        assert (ms.getMaxIsometricForce(), ms.getOptimalFiberLength(), ms.getTendonSlackLength()) == \
            (mu["max_isometric_force_N"], mu["optimal_fiber_length_m"], mu["tendon_slack_length_m"])
        assert ms.getPennationAngleAtOptimalFiberLength() == pytest.approx(math.radians(mu["pennation_deg"]), abs=1e-15)
        pts = ms.getGeometryPath().getPathPointSet()
        assert pts.getSize() == len(mu["path"])
        for i, pt in enumerate(mu["path"]):
            station = pts.get(i)
            ground = vec(station.getParentFrame().findStationLocationInGround(s, station.getLocation(s)))
            np.testing.assert_allclose(ground, [*pt["point_m"], pt["lateral_m"]], rtol=0, atol=1e-14)
            assert station.getParentFrame().getName() == pt["body"]


@needs_opensim
@pytest.mark.parametrize("export_case", IDS)
def test_opensim_moment_arms_equal_ours(exported, export_case):
    # OpenSim computes a moment arm as the generalized force of a unit tension; with the
    # table's constraint on the legs enforced it projects through the constraint (inertia
    # weighted), so the per-joint arms are read with it unenforced
    _, doc, path = exported[export_case]
    m, s = load(path, coupler=False)
    cs, muscles = m.getCoordinateSet(), m.getMuscles()
    worst = 0.0
    for name, mu in doc["muscles"].items():
        ms = muscles.get(name)
        for j in bm.JOINTS:
            diff = abs(ms.computeMomentArm(s, cs.get(j)) - mu["moment_arms_m"].get(j, 0.0))
            worst = max(worst, diff)
    assert worst <= ARM_TOL_M


def _inverse_dynamics(m, s, tensions):
    """OpenSim's generalized forces {coordinate: N·m} that hold the state at zero velocity and
    acceleration with every muscle pulling with the given tension."""
    muscles = m.getMuscles()
    for name, t in tensions.items():
        ms = muscles.get(name)
        ms.overrideActuation(s, True)
        ms.setOverrideActuation(s, t)
    cs = m.getCoordinateSet()
    index = {}
    for k in range(cs.getSize()):                # the mobility of each coordinate
        for i in range(cs.getSize()):
            cs.get(i).setSpeedValue(s, 1.0 if i == k else 0.0)
        u = s.getU()
        index[cs.get(k).getName()] = next(i for i in range(u.size()) if u.get(i) == 1.0)
        cs.get(k).setSpeedValue(s, 0.0)
    m.realizeVelocity(s)
    tau = osim.InverseDynamicsSolver(m).solve(s, osim.Vector(s.getNU(), 0.0))
    return {name: tau.get(i) for name, i in index.items()}


@needs_opensim
@pytest.mark.parametrize("export_case", IDS)
def test_opensim_inverse_dynamics_balances(exported, export_case):
    res, doc, path = exported[export_case]
    m = osim.Model(str(path))
    legs = [c for c in doc["support"]["contacts"] if c["name"] == "table_legs"]
    for c in legs:
        # the inverse dynamics ignores constraints: the table's hold on the legs (the reaction
        # of the `table_legs` constraint) is applied as the moment the result reports
        hold = osim.PrescribedForce("table_legs_moment", m.getBodySet().get(c["body"]))
        hold.setForceIsInGlobalFrame(True)
        hold.setTorqueFunctions(osim.Constant(0.0), osim.Constant(0.0), osim.Constant(c["moment_Nm"]))
        m.addForce(hold)
    s = m.initSystem()
    tension = {n: mu["force_N"] for n, mu in doc["muscles"].items()}
    with_muscles = _inverse_dynamics(m, s, tension)
    ours = bm.residual(res.problem, res.q)           # the generalized-force residual of our balance
    for c in legs:                               # plus the table's moment on the legs (B's kernel)
        ours = ours + res.problem.S[bm.BODIES.index(c["body"])] * c["moment_Nm"]
    for k, j in enumerate(bm.JOINTS):
        assert abs(with_muscles[j]) <= ID_TOL_NM, (j, with_muscles[j])
        # and the same number: what OpenSim needs is minus what is left of ours
        assert with_muscles[j] == pytest.approx(-ours[k], abs=1e-6), j
    # the muscles alone: OpenSim's generalized forces of the 3D path forces are ours
    without = _inverse_dynamics(m, s, {n: 0.0 for n in tension})
    tau_m = doc["diagnostics"]["generalized_forces_Nm"]["muscle"]
    for j in bm.JOINTS:
        assert without[j] - with_muscles[j] == pytest.approx(tau_m[j], abs=1e-6), j


@needs_opensim
def test_opensim_passive_forces_are_our_laws(exported):
    res, doc, path = exported["sitting"]             # knee flexed: the hip law depends on it
    m, s = load(path)
    cs, forces = m.getCoordinateSet(), m.getForceSet()
    p = res.problem
    for k, j in enumerate(bm.JOINTS):
        f = osim.ExpressionBasedCoordinateForce.safeDownCast(forces.get(f"{j}_passive"))
        m.realizePosition(s)
        assert f.calcExpressionForce(s) == pytest.approx(doc["joints"][j]["passive_moment_Nm"], rel=1e-12, abs=1e-12)
        q0 = cs.get(j).getValue(s)
        for q in np.linspace(p.q_low[k], p.q_high[k], 7):
            cs.get(j).setValue(s, q, False)
            m.realizePosition(s)
            if k == 0:
                ours = hip_passive_moment(q, p.knee_rad, float(p.hip_scale[0]))[0]
            else:
                law = p.model.intervertebral[j]
                ours = intervertebral_moment(np.array([law.coefficients()]),
                                             np.array([q - p.model.rest_angle[k]]))[0][0]
            assert f.calcExpressionForce(s) == pytest.approx(float(ours), rel=1e-12, abs=1e-12), (j, q)
        cs.get(j).setValue(s, q0, False)


@needs_opensim
def test_opensim_table_holds_the_legs_orientation(exported):
    _, doc, path = exported["lying"]
    m, s = load(path)
    cs = m.getCoordinateSet()
    femur = m.getBodySet().get("femur")
    m.realizePosition(s)
    before = femur.getTransformInGround(s).R().toMat33()
    hip = cs.get("hip").getValue(s)
    cs.get("L4_L5").setValue(s, cs.get("L4_L5").getValue(s) + 0.05, True)    # assembles
    m.realizePosition(s)
    after = femur.getTransformInGround(s).R().toMat33()
    assert cs.get("hip").getValue(s) == pytest.approx(hip - 0.05, abs=1e-7)
    np.testing.assert_allclose([[after.get(i, j) for j in range(3)] for i in range(3)],
                               [[before.get(i, j) for j in range(3)] for i in range(3)], rtol=0, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# the command
def export(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["export", *map(str, args)])
        except SystemExit as e:                  # argparse
            code = e.code
    return code, out.getvalue(), err.getvalue()


def test_export_command_writes_what_to_osim_gives(exported, tmp_path):
    res, _, path = exported["psoas_tension_upright"]
    out = tmp_path / "upright.osim"
    code, stdout, _ = export(ROOT / "scenarios" / "psoas_tension_upright.toml", "--osim", out, "--point", 8)
    assert code == 0 and str(out) in stdout and "sweep point 8" in stdout
    assert out.read_text() == path.read_text()
    assert not [f for f in tmp_path.iterdir() if f.name.startswith(".")]   # no temporary file left


def test_export_help_has_an_example():
    code, stdout, _ = export("--help")
    assert code == 0 and "example" in stdout and "--point" in stdout and "--osim" in stdout


def test_export_of_an_unsolved_posture_exits_1_and_writes(tmp_path):
    (tmp_path / "weak.toml").write_text(f'''
extends = "{(ROOT / "scenarios" / "neutral_standing.toml").as_posix()}"
[scenario]
name = "weak"
description = "No back extensors: the trunk falls."
[muscles.erector_spinae]
activation = 0.0
[muscles.multifidus]
activation = 0.0
''')
    out = tmp_path / "weak.osim"
    code, _, stderr = export(tmp_path / "weak.toml", "--osim", out)
    assert code == 1 and "did not solve" in stderr
    assert "trunk fell" in out.read_text().split("-->")[0]


@pytest.mark.parametrize("args, message", [
    (["missing.toml", "--osim", "{tmp}/a.osim"], "not found"),
    (["neutral_standing.toml", "--osim", "{tmp}/a.xml"], "must end in .osim"),
    (["neutral_standing.toml", "--osim", "{tmp}/no/such/folder/a.osim"], "does not exist"),
    (["neutral_standing.toml", "--osim", "{tmp}/a.osim", "--point", "1"], "not a sweep"),
    (["psoas_tension_upright.toml", "--osim", "{tmp}/a.osim", "--point", "9"], "0-8"),
    (["psoas_tension_upright.toml", "--osim", "{tmp}/a.osim", "--point", "-1"], "0-8"),
    (["psoas_tension_upright.toml", "--osim", "{tmp}/a.osim", "--point", "two"], "invalid int"),
    (["neutral_standing.toml"], "--osim"),
])
def test_export_bad_input_exits_2_and_writes_nothing(tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    args[0] = str(ROOT / "scenarios" / args[0])
    code, stdout, stderr = export(*args)
    assert code == 2 and message in stderr and not stdout
    assert not list(tmp_path.rglob("*.osim")) and not list(tmp_path.rglob(".*"))

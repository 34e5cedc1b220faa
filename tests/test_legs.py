# Two legs (issue 15, docs/model.md §1b and §7): the lumped legs split into a right and a left
# branch from the pelvis. A symmetric posture of the two-legged model is the lumped model's; each
# leg lies where its `Leg` says; the hands hold a knee drawn to the chest; the physics identities
# hold on the bigger, asymmetric model, from its JSON too.

import contextlib
import dataclasses
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

import biomech as bm
from biomech.cli import main
from biomech.errors import ScenarioError
from biomech.runner import document_bytes, dumps, run_document, run_scenario
from biomech.scenario import load_scenario
from biomech.statics import geometry, landmark
from biomech.upright import solve_upright
from test_json_balance import body_loads, imbalance, path_length, sides

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "scenarios" / "exercises"
DEG = math.pi / 180.0


@pytest.fixture(scope="module")
def two(model):
    return bm.two_legs(model)


def leg_name(name):
    return name if name not in ("hip", "knee", "ankle", "femur", "shank", "foot") else name + "_right"


# ---------------------------------------------------------------------------------------------
def test_the_split_keeps_every_total(model, two):
    assert (two.n_bodies, two.n_joints) == (model.n_bodies + 3, model.n_joints + 3)
    assert two.sides == ("right", "left") and two.leg_suffixes == ("_right", "_left")
    assert two.bodies[:3] == ("foot_right", "shank_right", "femur_right")
    assert two.bodies[-3:] == ("femur_left", "shank_left", "foot_left")
    assert two.joints[-3:] == ("hip_left", "knee_left", "ankle_left")
    for j in ("hip", "knee", "ankle"):                  # the distal body is the inferior one
        for side in two.sides:
            k = two.joint_index(f"{j}_{side}")
            assert two.bodies[two.joint_inferior[k]].endswith(side)
    assert math.isclose(float(np.sum(two.mass)), float(np.sum(model.mass)), rel_tol=1e-15)
    # every split line: two halves of the lumped force, each with the lumped tone
    for i, name in enumerate(model.muscle_names):
        if name + "_right" in two.muscle_names:
            r, le = two.muscle_names.index(name + "_right"), two.muscle_names.index(name + "_left")
            assert two.max_isometric_force[r] == two.max_isometric_force[le] == 0.5 * model.max_isometric_force[i]
            assert two.baseline_activation[r] == two.baseline_activation[le] == model.baseline_activation[i]
            assert (two.muscle_side[r], two.muscle_side[le]) == ("right", "left")
        else:
            k = two.muscle_names.index(name)
            assert two.max_isometric_force[k] == model.max_isometric_force[i] and two.muscle_side[k] == ""
    split = {n.removesuffix("_right") for n in two.muscle_names if n.endswith("_right")}
    assert split == set(bm.anatomy.leg_line_names())
    assert {"psoas_L1_TP", "iliacus_main", "soleus_main"} <= split
    assert not {"erector_spinae_IL_L1", "rectus_abdominis_main"} & split
    # one leg's passive law is half the lumped legs' at the same angles
    for j in ("hip", "knee", "ankle"):
        lumped = model.passive[model.joint_index(j)]
        one = two.passive[two.joint_index(j + "_left")]
        assert (one.joint, one.scale, one.legs, lumped.legs) == (j, lumped.scale, 1, 2)
        args = (0.1, 0.3, 0.2, 0.1)
        assert bm.passive.leg_passive_moment(j, *args, one.factor)[0] == pytest.approx(
            0.5 * bm.passive.leg_passive_moment(j, *args, lumped.factor)[0], rel=1e-14)
    with pytest.raises(bm.ModelError, match="already has two legs"):
        bm.two_legs(two)
    with pytest.raises(bm.ModelError, match="fit the tone on the model with the legs lumped"):
        bm.fit_tone(two)
    with pytest.raises(bm.ModelError, match="LegLaw.legs must be 1 or 2"):
        bm.LegLaw("hip", legs=3)


@pytest.mark.parametrize("legs", ["supported", "lifted"])
@pytest.mark.parametrize("mode", ["equilibrium", "upright"])
def test_a_symmetric_posture_is_the_lumped_one(model, two, legs, mode):
    support = bm.Support("lying", legs=legs)
    settings = {"psoas": bm.MuscleSetting(tension_N=300.0)}
    results = []
    for m in (model, two):
        if mode == "equilibrium":
            results.append(bm.solve_equilibrium(m, support=support, settings=settings))
        else:
            results.append(solve_upright(bm.prepare(m, support=support, settings=settings, locked_joints=())))
    r1, r2 = results
    assert r1.success and r2.success, (r1.message, r2.message)
    q2 = dict(zip(two.joints, r2.q))
    for j, q in zip(model.joints, r1.q):
        # the same equations, each leg's half adding to the lumped whole: equal to rounding in
        # the equilibrium mode, to SLSQP's tolerance in the upright mode
        assert abs(q2[leg_name(j)] - q) < (1e-9 if mode == "equilibrium" else 1e-4) * DEG, j
    for j in ("hip", "knee", "ankle"):
        assert abs(q2[j + "_right"] - q2[j + "_left"]) < (1e-9 if mode == "equilibrium" else 1e-4) * DEG
    rep1, rep2 = bm.posture_report(r1), bm.posture_report(r2)
    for k in ("pelvic_tilt_deg", "lumbar_lordosis_deg", "sacral_slope_deg"):
        assert rep2.metrics[k] == pytest.approx(rep1.metrics[k], abs=1e-7 if mode == "equilibrium" else 1e-3)
    for k in bm.metrics.LEG_METRICS:
        assert math.isnan(rep2.metrics[k])
        assert rep2.metrics[k + "_right"] == pytest.approx(rep1.metrics[k], abs=1e-7 if mode == "equilibrium" else 1e-3)
    force1 = dict(zip(model.muscle_names, rep1.muscle_force))
    force2 = dict(zip(two.muscle_names, rep2.muscle_force))
    tol = 1e-6 if mode == "equilibrium" else 0.5                       # N
    for name, f in force1.items():
        both = force2[name + "_right"] + force2[name + "_left"] if name + "_right" in force2 else force2[name]
        assert both == pytest.approx(f, abs=tol), name
    # each leg's joints carry half the lumped legs' load
    half = np.array([0.5 if j in ("hip", "knee", "ankle") else 1.0 for j in model.joints])
    np.testing.assert_allclose(rep2.compression[:model.n_joints], half * rep1.compression,
                               atol=1e-5 if mode == "equilibrium" else 1.0)


# ---------------------------------------------------------------------------------------------
def test_each_leg_lies_as_its_position_says(two):
    s = bm.Support("lying", right_leg=bm.Leg("bent"), left_leg=bm.Leg("held", hip_flexion_deg=110))
    p = bm.prepare(two, support=s)
    geo = geometry(p, p.q_ref)
    q = dict(zip(two.joints, p.q_ref))
    # bent: the knee at 90°, the sole flat on the table (the foot at −90° in the lying frame,
    # toes towards the table's end), the lower of heel and forefoot level with the back's patch
    assert q["knee_right"] == pytest.approx(90 * DEG)
    assert geo.angles[two.body_index("foot_right")] == pytest.approx(-90 * DEG, abs=1e-12)
    heel, fore = landmark(p, geo, "heel_right"), landmark(p, geo, "forefoot_right")
    back = landmark(p, geo, "thorax_middle_back_inferior")
    assert min(heel[0], fore[0]) == pytest.approx(back[0], abs=1e-9)
    # held: the hip and knee at their flexion, the hands' spring at its rest length there
    assert (-q["hip_left"], q["knee_left"]) == pytest.approx((110 * DEG, 120 * DEG))
    assert p.hand_names == ("hands_left",) and len(p.hand_body) == 1
    knee, shoulder = landmark(p, geo, "knee_front_left"), landmark(p, geo, "shoulder")
    assert p.hand_rest[0] == pytest.approx(float(np.linalg.norm(shoulder - knee)), abs=1e-12)
    # the table under each leg: the bent foot's heel and forefoot, nothing under the held leg,
    # each with half the support's stiffness
    legs = {c.landmark: c.share for c in p.contacts if c.landmark.endswith(("_right", "_left"))}
    assert legs == {"heel_right": 0.5, "forefoot_right": 0.5}
    # the knee the support holds in every mode: the held one (the hands); the bent leg's foot
    # grips the table instead (friction)
    assert bm.prepare(two, support=s, locked_joints=()).locked == ("knee_left",)
    assert [c.landmark for c in p.contacts if c.grip] == ["heel_right", "forefoot_right"]
    # two legs on the table: as the lumped legs (the same hip rotation lays each down)
    lumped = bm.prepare(bm.make_model(), support=bm.Support("lying"))
    table = bm.prepare(two, support=bm.Support("lying", right_leg=bm.Leg("table")))
    for j in ("hip", "knee", "ankle"):
        for sfx in ("_right", "_left"):
            assert table.q_ref[two.joint_index(j + sfx)] == pytest.approx(
                lumped.q_ref[lumped.model.joint_index(j)], abs=1e-12)


def test_hanging_and_lifted_legs(two):
    s = bm.Support("lying", right_leg=bm.Leg("hanging"), left_leg=bm.Leg("lifted", hip_flexion_deg=30))
    p = bm.prepare(two, support=s)
    q = dict(zip(two.joints, p.q_ref))
    assert (-q["hip_right"], q["knee_right"], -q["hip_left"]) == pytest.approx((0.0, 90 * DEG, 30 * DEG))
    assert not [c for c in p.contacts if c.landmark.endswith(("_right", "_left"))]
    # the upright mode keeps a lifted leg at its hip flexion: the person holds it up (the other
    # knee bent, the foot on the table, as the single-leg raise is taught)
    s = bm.Support("lying", right_leg=bm.Leg("lifted", hip_flexion_deg=30), left_leg=bm.Leg("bent"))
    r = solve_upright(bm.prepare(two, support=s, locked_joints=()))
    assert r.success, r.message
    rep = bm.posture_report(r)
    assert rep.metrics["hip_flexion_deg_right"] == pytest.approx(30.0, abs=1e-4)
    force = dict(zip(two.muscle_names, rep.muscle_force))
    flexors = ("iliacus_main", "rectus_femoris_main")
    assert sum(force[f + "_right"] for f in flexors) > 5 * sum(force[f + "_left"] for f in flexors)


def test_a_short_hip_flexor_lifts_the_hanging_thigh(two):
    """The Thomas test: a shorter iliopsoas on the hanging side holds its thigh higher (its
    passive tension rises earlier), and the test's thigh angle is the thigh's inclination."""
    s = bm.Support("lying", left_leg=bm.Leg("held"), right_leg=bm.Leg("hanging"))
    angle = {}
    for scale in (1.0, 0.95, 0.9, 0.85):
        short = {g: bm.MuscleSetting(resting_length_scale=scale) for g in ("psoas_right", "iliacus_right")}
        r = solve_upright(bm.prepare(two, support=s, settings=short, locked_joints=()))
        assert r.success, r.message
        rep = bm.posture_report(r)
        angle[scale] = rep.metrics["thigh_inclination_deg_right"]
        # the tested thigh hangs: its psoas is longer than in relaxed standing unless shortened
        # (the thigh in extension); the held side's is much shorter
        left = rep.length_change_percent[two.group_lines("psoas_left")]
        assert np.all(left < -5.0)
    assert angle[1.0] < angle[0.95] < angle[0.9] < angle[0.85]
    assert angle[1.0] < 0.0 < angle[0.85]        # below the table's level; above it when short


# ---------------------------------------------------------------------------------------------
ASYMMETRIC = {
    # the Thomas test (the hands' spring), and a straight-leg raise beside a bent leg whose foot
    # grips the table (the friction's spring)
    "held_hanging": dict(left_leg=bm.Leg("held"), right_leg=bm.Leg("hanging")),
    "bent_lifted": dict(left_leg=bm.Leg("bent"), right_leg=bm.Leg("lifted", hip_flexion_deg=30)),
    # the bridge: the pelvis lifted on both bent legs, the upper back the root
    "bridge": dict(left_leg=bm.Leg("bent", hip_flexion_deg=10), right_leg=bm.Leg("bent", hip_flexion_deg=10)),
    # standing: the half-kneeling lunge, the back knee gripping the floor (the root: the front foot)
    "lunge": dict(kind="standing", right_leg=bm.Leg("floor", hip_flexion_deg=100),
                  left_leg=bm.Leg("kneeling", hip_flexion_deg=-10)),
}


@pytest.fixture(scope="module", params=sorted(ASYMMETRIC))
def asymmetric(request, two):
    s = bm.Support(**{"kind": "lying", **ASYMMETRIC[request.param]})
    settings = {"psoas_right": bm.MuscleSetting(tension_N=150.0), "iliacus": bm.MuscleSetting(activation=0.05)}
    p = bm.prepare(two, support=s, settings=settings)
    return p, bm.solve_equilibrium(problem=p)


def test_identities_on_the_asymmetric_model(asymmetric):
    from biomech.balance import reaction, reaction_gradient
    p, r = asymmetric
    # the equilibrium mode holds the knees and ankles: the lunge's legs are then one rigid chain
    # through the floor, the kneeling knee keeps only the reference posture's load, and the body
    # tips back over the front heel (its honest status); the identities hold all the same
    assert r.success or (p.support.kind == "standing" and r.code == bm.Status.FALLEN and r.max_residual_Nm < 1e-6), r.message
    n = p.model.n_joints
    assert np.max(np.abs(p.B.T @ bm.residual(p, r.q))) < 1e-6
    rep = bm.posture_report(r)
    names = [c["name"] for c in bm.results.support_contacts(p, rep)]
    if len(p.hand_body):
        # the hands' spring pulls (or pushes) the knee and the shoulder equally and oppositely
        assert names[-4:-2] == ["hands_left_knee", "hands_left_shoulder"]
        np.testing.assert_allclose(rep.contact_forces[-2], -rep.contact_forces[-1], atol=1e-12)
    elif p.support.kind == "standing":
        # the kneeling knee grips the floor (friction along world x), the instep slides
        grip = np.flatnonzero(p.contact_grip)
        assert [p.contacts[k].landmark for k in grip] == ["tibial_tuberosity_left"]
        assert names[:2] == ["floor", "floor"] and not np.any(rep.contact_forces[p.contact_grip == 0.0, 0])
    else:
        # the bent feet grip the table: their contacts carry friction along the table (world y)
        grip = np.flatnonzero(p.contact_grip)
        bent = [sfx for sfx, side in zip(p.model.leg_suffixes, p.model.sides) if p.support.leg(side).position == "bent"]
        assert [p.contacts[k].landmark for k in grip] == [n + sfx for sfx in bent for n in ("heel", "forefoot")]
        assert np.abs(rep.contact_forces[grip, 1]).max() > 1.0
        assert not np.any(rep.contact_forces[p.contact_grip == 0.0, 1])
    # the exact Jacobian (the hands' and the friction's springs included) is the derivative of
    # the residual, and the balance gradient that of the reaction
    rng = np.random.default_rng(7)
    for q in (r.q, r.q + rng.uniform(-0.03, 0.03, n)):
        J = bm.jacobian(p, q)
        h = 1e-6
        for j in range(n):
            e = np.zeros(n)
            e[j] = h
            fd = (bm.residual(p, q + e) - bm.residual(p, q - e)) / (2 * h)
            np.testing.assert_allclose(J[:, j], fd, rtol=1e-5, atol=1e-7 * max(1.0, np.abs(J).max()))
        np.testing.assert_allclose(J, J.T, atol=1e-8 * np.abs(J).max())
        grad = reaction_gradient(p, geometry(p, q))
        for j in range(n):
            e = np.zeros(n)
            e[j] = h
            ra, rb = reaction(p, geometry(p, q + e)), reaction(p, geometry(p, q - e))
            fd = np.array([ra.a_N - rb.a_N, ra.b_N - rb.b_N]) / (2 * h)
            np.testing.assert_allclose(grad[:, j], fd, rtol=1e-5, atol=1e-3)
    # moment arms are −dL/dq at every joint of both legs
    geo = geometry(p, r.q)
    for j in range(n):
        e = np.zeros(n)
        e[j] = 1e-6
        fd = -(geometry(p, r.q + e).length - geometry(p, r.q - e).length) / 2e-6
        np.testing.assert_allclose(-geo.dLdq[:, j], fd, atol=1e-8)
    # settings by side: only the right psoas carries 150 N; the iliacus on both sides
    psoas = p.model.group_lines("psoas")
    right = p.model.group_lines("psoas_right")
    assert set(right) < set(psoas) and len(right) == len(psoas) // 2
    assert rep.muscle_force[right].sum() == pytest.approx(150.0)
    assert p.lines.fixed_tension[right].all() and not p.lines.fixed_tension[p.model.group_lines("psoas_left")].any()


def test_the_kneeling_lunge_closes_through_the_floor(two):
    """Half-kneeling on two legs: the reference posture puts the kneeling leg's tuberosity and
    instep on the floor's plane (the root's heel) with the pelvis in its calibrated orientation and
    the given hips; the default mode keeps the hips, balances over the foot and the knee (the
    centre of pressure of every floor force under the centre of mass), lengthens the back leg's
    psoas and shortens the front one's, from relaxed standing; extending the back hip further
    lengthens them more."""
    from biomech.supports import FLOOR_CONTACTS
    from biomech.upright import solve_upright

    def lunge(back):
        return bm.Support("standing", right_leg=bm.Leg("floor", hip_flexion_deg=100),
                          left_leg=bm.Leg("kneeling", hip_flexion_deg=back))
    p = bm.prepare(two, support=lunge(-10.0), locked_joints=())
    geo = geometry(p, p.q_ref)
    m = p.model
    assert m.bodies[p.root] == "foot_right" and p.patch.a == "heel_right"
    y = [landmark(p, geo, n + "_left")[1] for n in FLOOR_CONTACTS["kneeling"]]
    np.testing.assert_allclose(y, landmark(p, geo, "heel_right")[1], atol=1e-9)
    assert geo.angles[m.body_index("pelvis")] == pytest.approx(m.reference_pelvis_angle, abs=1e-9)
    from biomech.metrics import leg_metrics
    assert leg_metrics(p, geo, "_right")["hip_flexion_deg"] == pytest.approx(100.0)
    assert leg_metrics(p, geo, "_left")["hip_flexion_deg"] == pytest.approx(-10.0)
    runs = {}
    for back in (0.0, -10.0):
        r = solve_upright(bm.prepare(two, support=lunge(back), locked_joints=()))
        assert r.success, r.message
        runs[back] = rep = bm.posture_report(r)
        assert rep.metrics["hip_flexion_deg_left"] == pytest.approx(back, abs=1e-4)
        assert rep.metrics["hip_flexion_deg_right"] == pytest.approx(100.0, abs=1e-4)
        # with two legs the centre of pressure is that of every floor force: the root's and the knee's
        normal = np.concatenate([[rep.root_reaction.a_N, rep.root_reaction.b_N], rep.contact_forces[:, 1]])
        x = np.concatenate([[rep.root_reaction.a[0], rep.root_reaction.b[0]], rep.contact_points[:, 0]])
        ankle = landmark(r.problem, rep.geometry, "ankle_right")[0]
        assert rep.metrics["centre_of_pressure_mm"] == pytest.approx((normal @ x / normal.sum() - ankle) * 1e3)
        assert rep.metrics["centre_of_pressure_mm"] == pytest.approx(rep.metrics["centre_of_mass_mm"], abs=1.0)
        assert rep.contact_forces[0, 1] > 0.5 * float(np.abs(p.weight).sum()) * 0.5   # the knee carries load
    psoas_left, psoas_right = m.group_lines("psoas_left"), m.group_lines("psoas_right")
    for back, rep in runs.items():
        assert np.all(rep.length_change_percent[psoas_right] < -5.0)
    assert np.all(runs[-10.0].length_change_percent[psoas_left] > 0.0)
    assert np.all(runs[-10.0].length_change_percent[psoas_left] > runs[0.0].length_change_percent[psoas_left])


def test_the_bridge_lifts_the_pelvis(two):
    """A bent leg with a hip flexion of its own lifts the pelvis: the reference posture rests the
    upper back (the root) on the table, flexes the spine below it by one angle shared among
    `BRIDGE_JOINTS`, and lays each sole flat with its heel on the table; the default mode keeps
    the hips there with the buttocks off the table, hip extensors at work and the hip flexors idle,
    and the psoas longer than in hook lying."""
    from biomech.supports import BRIDGE_JOINTS
    legs = dict(right_leg=bm.Leg("bent", hip_flexion_deg=10), left_leg=bm.Leg("bent", hip_flexion_deg=10))
    s = bm.Support("lying", **legs)
    assert s.bridge and not bm.Support("lying", right_leg=bm.Leg("bent")).bridge
    p = bm.prepare(two, support=s, locked_joints=())
    m = p.model
    geo = geometry(p, p.q_ref)
    assert m.bodies[p.root] == "thorax_upper" and p.patch.a == "thorax_upper_back_inferior"
    table = landmark(p, geo, p.patch.a)[0]
    for sfx in m.leg_suffixes:
        assert landmark(p, geo, "heel" + sfx)[0] == pytest.approx(table, abs=1e-9)
        assert geo.angles[m.body_index("foot" + sfx)] == pytest.approx(-0.5 * math.pi, abs=1e-9)
        assert -p.q_ref[m.joint_index("hip" + sfx)] == pytest.approx(10 * DEG)
    lift = np.array([p.q_ref[m.joint_index(j)] - m.reference_angle[m.joint_index(j)] for j in BRIDGE_JOINTS])
    rom = np.array([m.passive[m.joint_index(j)].rom_flexion_rad for j in BRIDGE_JOINTS])
    np.testing.assert_allclose(lift / rom, lift[0] / rom[0], rtol=1e-9)      # shared by range
    assert lift[0] < 0.0                                                      # a flexion: it curls
    r = solve_upright(p)
    assert r.success, r.message
    rep = bm.posture_report(r)
    for sfx in m.leg_suffixes:
        assert rep.metrics["hip_flexion_deg" + sfx] == pytest.approx(10.0, abs=1e-4)
    assert landmark(p, rep.geometry, "buttock")[0] > table + 0.05
    assert not rep.contact_forces[[c.landmark for c in p.contacts].index("buttock")].any()
    force = {g: rep.muscle_force[m.group_lines(g)].sum() for g in ("gluteus_maximus", "psoas", "iliacus")}
    assert force["gluteus_maximus"] > 300.0 and force["psoas"] + force["iliacus"] < 10.0
    hook = bm.posture_report(solve_upright(bm.prepare(two, locked_joints=(), support=bm.Support(
        "lying", right_leg=bm.Leg("bent"), left_leg=bm.Leg("bent")))))
    psoas = m.group_lines("psoas")
    assert np.all(rep.length_change_percent[psoas] > hook.length_change_percent[psoas] + 5.0)
    with pytest.raises(bm.ModelError, match="the bent legs' feet cannot both lie flat"):
        bm.prepare(two, support=bm.Support("lying", right_leg=bm.Leg("bent", hip_flexion_deg=10),
                                           left_leg=bm.Leg("bent", hip_flexion_deg=30)))
    with pytest.raises(bm.ModelError, match="takes the other leg bent on the table or lifted, not 'table'"):
        bm.Support("lying", right_leg=bm.Leg("bent", hip_flexion_deg=10), left_leg=bm.Leg("table"))


def test_standing_on_one_leg(two):
    """Standing on the right leg, the left lifted: the default mode keeps the lifted leg's hip
    and knee (its foot off the floor), balances over the one foot and holds the lifted thigh with
    the left hip flexors; a lifted leg whose foot would be under the floor is refused."""
    for leg, hip, knee in ((bm.Leg("lifted"), 0.0, 90.0), (bm.Leg("lifted", hip_flexion_deg=60), 60.0, 90.0)):
        p = bm.prepare(two, support=bm.Support("standing", right_leg=bm.Leg("floor"), left_leg=leg),
                       locked_joints=())
        r = solve_upright(p)
        assert r.success, r.message
        rep = bm.posture_report(r)
        assert rep.metrics["hip_flexion_deg_left"] == pytest.approx(hip, abs=1e-4)
        assert rep.metrics["knee_flexion_deg_left"] == pytest.approx(knee, abs=1e-4)
        floor = landmark(p, rep.geometry, "heel_right")[1]
        assert min(landmark(p, rep.geometry, n)[1] for n in ("heel_left", "forefoot_left")) > floor + 0.1
        assert not len(p.contact_body)                        # one foot: the root's patch only
        assert rep.metrics["centre_of_pressure_mm"] == pytest.approx(rep.metrics["centre_of_mass_mm"], abs=1e-3)
    flexors = rep.muscle_force[np.concatenate([two.group_lines("psoas_left"), two.group_lines("iliacus_left")])]
    assert flexors.sum() > 10.0                               # the thigh held at 60°
    with pytest.raises(bm.ModelError, match="the lifted leg's foot would be .* under the floor"):
        bm.prepare(two, support=bm.Support("standing", right_leg=bm.Leg("floor"),
                                           left_leg=bm.Leg("lifted", knee_flexion_deg=0)))


def test_both_feet_on_the_floor(model, two, tmp_path):
    """Standing on both feet: the floor holds the second foot too (a closed chain), its forces
    unknowns of the default mode's programme. A symmetric stance is the lumped model's, each foot
    carrying half; the held problem of the result carries the floor's forces, with which every
    joint balances, the foot stays where the floor holds it, and the Jacobian, the reaction's
    gradient and the chain's constraint Jacobian are exact; one side's psoas shifts weight to the
    other foot. Only the default mode solves it."""
    from biomech.balance import reaction, reaction_gradient, reaction_per_force
    from biomech.external import floor_state
    from biomech.statics import floor_constraints
    lumped = solve_upright(bm.prepare(model, support=bm.Support("standing"), locked_joints=()))
    r = solve_upright(bm.prepare(two, support=bm.Support("standing"), locked_joints=()))
    assert r.success and lumped.success, r.message
    m = two
    for j in model.joints:
        assert r.q[m.joint_index(j if j in m.joints else j + "_right")] == pytest.approx(
            lumped.q[model.joint_index(j)], abs=1e-5 * DEG), j
    assert np.array_equal(r.q[[m.joint_index(j + "_right") for j in ("hip", "knee", "ankle")]],
                          r.q[[m.joint_index(j + "_left") for j in ("hip", "knee", "ankle")]]) or \
        np.allclose(r.q[[m.joint_index(j + "_right") for j in ("hip", "knee", "ankle")]],
                    r.q[[m.joint_index(j + "_left") for j in ("hip", "knee", "ankle")]], atol=1e-7)
    rep, ref = bm.posture_report(r), bm.posture_report(lumped)
    p = r.problem
    half = 0.5 * np.array([ref.root_reaction.a_N, ref.root_reaction.b_N])
    np.testing.assert_allclose(p.floor_force[:, 1], half, rtol=1e-4)
    np.testing.assert_allclose([rep.root_reaction.a_N, rep.root_reaction.b_N], half, rtol=1e-4)
    names = [c["name"] for c in bm.results.support_contacts(p, rep)]
    assert names == ["floor", "floor", "heel", "forefoot"]
    # identities on the held problem, at the solution and near it
    assert np.abs(p.B.T @ bm.residual(p, r.q)).max() < 1e-6
    assert np.abs(floor_constraints(p, rep.geometry)[0]).max() < 1e-9
    rng = np.random.default_rng(3)
    n, h = m.n_joints, 1e-6
    for q in (r.q, r.q + rng.uniform(-0.03, 0.03, n)):
        J, C = bm.jacobian(p, q), floor_constraints(p, geometry(p, q))[1]
        G = reaction_gradient(p, geometry(p, q))
        for j in range(n):
            e = np.zeros(n)
            e[j] = h
            fd = (bm.residual(p, q + e) - bm.residual(p, q - e)) / (2 * h)
            np.testing.assert_allclose(J[:, j], fd, rtol=1e-5, atol=1e-7 * max(1.0, np.abs(J).max()))
            fd_c = (floor_constraints(p, geometry(p, q + e))[0] - floor_constraints(p, geometry(p, q - e))[0]) / (2 * h)
            np.testing.assert_allclose(C[:, j], fd_c, atol=1e-8)
            ra, rb = reaction(p, geometry(p, q + e)), reaction(p, geometry(p, q - e))
            np.testing.assert_allclose(G[:, j], np.array([ra.a_N - rb.a_N, ra.b_N - rb.b_N]) / (2 * h), rtol=1e-5, atol=1e-3)
    geo = rep.geometry
    pts = floor_state(p, geo)[1][[0, 0, 1]]
    dirs = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    base = reaction(dataclasses.replace(p, floor_force=np.zeros((2, 2))), geo)
    for k in range(3):                                    # the reaction is linear in the floor's forces
        f = np.zeros((2, 2))
        f[k // 2 if k < 2 else 1, 0 if k == 0 else 1] = 1.0
        one = reaction(dataclasses.replace(p, floor_force=f), geo)
        np.testing.assert_allclose([one.a_N - base.a_N, one.b_N - base.b_N],
                                   reaction_per_force(p, geo, pts[k:k + 1], dirs[k:k + 1])[:, 0], atol=1e-9)
    # one side's psoas: the weight goes to the other foot
    pulled = solve_upright(bm.prepare(two, support=bm.Support("standing"), locked_joints=(),
                                      settings={"psoas_left": bm.MuscleSetting(tension_N=200.0)}))
    assert pulled.success, pulled.message
    left = pulled.problem.floor_force[:, 1].sum()
    right = bm.posture_report(pulled).root_reaction.normal_N
    assert left < right - 50.0
    with pytest.raises(bm.ModelError, match="the equilibrium mode does not solve both feet on the floor"):
        bm.solve_equilibrium(two, support=bm.Support("standing"))
    with pytest.raises(bm.ModelError, match="the inverse mode does not solve both feet"):
        bm.inverse.solve_inverse(bm.prepare(two, support=bm.Support("standing")), bm.inverse.PostureTarget(pelvic_tilt_deg=12.0))
    with pytest.raises(bm.ModelError, match="needs the other leg's knee bent"):
        bm.prepare(two, support=bm.Support("standing", left_leg=bm.Leg("floor", hip_flexion_deg=20)))
    path = tmp_path / "feet.toml"
    path.write_text(f'extends = "{(ROOT / "scenarios" / "neutral_standing.toml").as_posix()}"\n[scenario]\n'
                    'name = "feet"\nmode = "equilibrium"\n[support.left_leg]\nposition = "floor"\n')
    with pytest.raises(ScenarioError, match='scenario.mode: mode "equilibrium" with both feet on the floor'):
        load_scenario(path)


def test_the_json_of_two_legs_balances(tmp_path):
    """From the command line's JSON alone (as tests/test_json_balance.py): every sub-chain, each
    foot included, balances; the moment arms are −dL/dq of the rebuilt paths; the hands appear
    as two equal and opposite support forces."""
    feet = tmp_path / "feet.toml"                   # both feet on the floor, one side's psoas pulling
    feet.write_text(f'extends = "{(ROOT / "scenarios" / "neutral_standing.toml").as_posix()}"\n[scenario]\n'
                    'name = "feet"\n[support.left_leg]\nposition = "floor"\n[muscles.psoas_left]\ntension_N = 200\n')
    files = [EXERCISES / f for f in ("thomas_test.toml", "supine_psoas_stretch.toml", "constructive_rest.toml",
                                     "kneeling_lunge.toml", "bridge.toml")] + [feet]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", *map(str, files), "--json", "--no-plots", "--workers", "1", "--out", str(tmp_path)])
    docs = json.loads(out.getvalue())
    assert code == 0
    # the command line encodes each line's entry in one pass (results.muscles_fragment): the
    # same bytes as encoding the plain document
    for f in files:
        run = run_scenario(load_scenario(f))
        assert document_bytes(run) == dumps(run_document(run)), f.name
    for doc in docs:
        assert doc["status"]["converged"], doc["status"]["message"]
        assert {"foot_right", "foot_left", "femur_left"} <= set(doc["bodies"])
        loads = body_loads(doc)
        chains = [(name, side[k], doc["joints"][name]["center_m"]) for name, side in sides(doc).items() for k in (0, 1)]
        chains += [(b, {b}, v["com_m"]) for b, v in doc["bodies"].items()]
        for label, bodies, about in chains:
            f, m, f_scale, m_scale = imbalance(loads, bodies, about)
            assert f <= 1e-6 * f_scale and m <= 1e-6 * m_scale, (doc["scenario"]["name"], label)
        side = sides(doc)
        for name, mus in doc["muscles"].items():
            for joint, arm in mus["moment_arms_m"].items():
                c, up = doc["joints"][joint]["center_m"], side[joint][0]
                fd = -(path_length(mus["path"], up, c, 1e-5) - path_length(mus["path"], up, c, -1e-5)) / 2e-5
                assert abs(fd - arm) <= 1e-9, (name, joint)
        sup = doc["support"]
        assert {sup["right_leg"]["position"], sup["left_leg"]["position"]} <= {"held", "hanging", "table", "bent",
                                                                            "floor", "kneeling"}
        hands = [c for c in sup["contacts"] if c["name"].startswith("hands_")]
        if "held" in (sup["right_leg"]["position"], sup["left_leg"]["position"]):
            assert [h["body"] for h in hands] == ["femur_left", "thorax_upper"]
            assert hands[0]["force_N"] == pytest.approx([-f for f in hands[1]["force_N"]])
        else:
            assert not hands
        for k in ("hip_flexion_deg", "knee_flexion_deg"):
            assert doc["metrics"][k] is None and isinstance(doc["metrics"][k + "_left"], float)


# ---------------------------------------------------------------------------------------------
def test_bad_leg_input_is_refused(model, two, tmp_path):
    with pytest.raises(bm.ModelError, match=r"Leg.position must be one of .* \(did you mean 'hanging'\?\)"):
        bm.Leg("hangin")
    with pytest.raises(bm.ModelError, match="takes the hip flexion that lays it there"):
        bm.Leg("table", hip_flexion_deg=20)
    with pytest.raises(bm.ModelError, match="Leg.knee_flexion_deg must be a number from 0 to 150"):
        bm.Leg("held", knee_flexion_deg=170)
    with pytest.raises(bm.ModelError, match=r"a leg standing is floor, kneeling, lifted, got 'held'"):
        bm.Support("standing", left_leg=bm.Leg("held"))
    with pytest.raises(bm.ModelError, match=r"a leg lying is .*, got 'kneeling'"):
        bm.Support("lying", left_leg=bm.Leg("kneeling"))
    with pytest.raises(bm.ModelError, match="applies to lying on the back and to standing only"):
        bm.Support("lying", lying_on="front", left_leg=bm.Leg("table"))
    with pytest.raises(bm.ModelError, match="applies to lying on the back and to standing only"):
        bm.Support("sitting", left_leg=bm.Leg("floor"))
    with pytest.raises(bm.ModelError, match="needs a foot on the floor .* kneeling on both knees is not built"):
        bm.Support("standing", right_leg=bm.Leg("kneeling"), left_leg=bm.Leg("lifted"))
    with pytest.raises(bm.ModelError, match="takes the knee flexion that lays its knee and its instep on the floor"):
        bm.Leg("kneeling", knee_flexion_deg=90)
    with pytest.raises(bm.ModelError, match="tibial_tuberosity_left, instep_left cannot reach the floor"):
        bm.prepare(two, support=bm.Support("standing", left_leg=bm.Leg("kneeling")))
    with pytest.raises(bm.ModelError, match="needs a model with two legs"):
        bm.prepare(model, support=bm.Support("lying", left_leg=bm.Leg("held")))
    with pytest.raises(bm.ModelError, match="stands or lies on its back in this version"):
        bm.prepare(two, support=bm.Support("sitting"))

    with pytest.raises(bm.ModelError, match=r"unknown muscle group or line 'psoas_lef' \(did you mean 'psoas_left'\?\)"):
        bm.prepare(two, support=bm.Support("lying"), settings={"psoas_lef": bm.MuscleSetting(activation=0.1)})
    with pytest.raises(bm.ModelError, match="unknown muscle group or line 'psoas_left'"):
        bm.prepare(model, support=bm.Support("lying"), settings={"psoas_left": bm.MuscleSetting(activation=0.1)})

    def scenario(body):
        path = tmp_path / "s.toml"
        path.write_text(f'extends = "{(ROOT / "scenarios" / "lying.toml").as_posix()}"\n'
                        f'[scenario]\nname = "s"\n{body}')
        return path
    cases = {
        '[support.left_leg]\nposition = "hung"\n': ("support.left_leg.position", "hanging"),
        '[support.left_leg]\nposition = "held"\nhip_flex_deg = 100\n': ("support.left_leg.hip_flex_deg", "hip_flexion_deg"),
        '[support]\nleft_leg = 3\n': ("support.left_leg", "is not a table"),
        '[muscles.psoas_left]\nactivation = 0.1\n': ("muscles.psoas_left", "the legs are lumped"),
        '[muscles.psoas_L3_TP_right]\nactivation = 0.1\n': ("muscles.psoas_L3_TP_right", "the legs are lumped"),
    }
    for body, (key, hint) in cases.items():
        with pytest.raises(ScenarioError) as err:
            load_scenario(scenario(body))
        text = str(err.value)
        assert key in text and hint in text, text
    # a side's muscle with two legs is fine, and so is a load on a leg of its own
    ok = load_scenario(scenario('[support.left_leg]\nposition = "held"\n[muscles.psoas_left]\nactivation = 0.1\n'))
    assert ok.support.left_leg == bm.Leg("held") and dict(ok.muscles)["psoas_left"].activation == 0.1
    with pytest.raises(ScenarioError, match="upright.thigh_inclination_deg: a leg's target with two legs"):
        load_scenario(scenario('[support.left_leg]\nposition = "held"\n[upright]\nthigh_inclination_deg = 10.0\n'))
    with pytest.raises(bm.ModelError, match="with two legs, name the leg"):
        solve_upright(bm.prepare(two, support=bm.Support("lying"), locked_joints=()),
                      bm.upright.UprightTarget(knee_flexion_deg=10.0))
    standing = tmp_path / "k.toml"                     # a kneeling leg that cannot reach the floor
    standing.write_text(f'extends = "{(ROOT / "scenarios" / "neutral_standing.toml").as_posix()}"\n'
                        '[scenario]\nname = "k"\n[support.left_leg]\nposition = "kneeling"\n')
    with pytest.raises(ScenarioError, match=r"support: the legs cannot stand as given: .* cannot reach the floor"):
        load_scenario(standing)
    with pytest.raises(ScenarioError, match='mode "inverse" with a leg of its own'):
        load_scenario(scenario('mode = "inverse"\n[inverse]\npelvic_tilt_deg = 12.0\n'
                               '[support.left_leg]\nposition = "held"\n'))


def test_the_figure_draws_both_legs_and_the_hands(two):
    from biomech.viz import drawing
    s = bm.Support("lying", left_leg=bm.Leg("held"), right_leg=bm.Leg("hanging"))
    r = bm.solve_equilibrium(two, support=s)
    sk = drawing.skeleton(bm.posture_report(r))
    parts = [role for role, _ in drawing.bone_parts(sk)]
    assert parts.count("limb_far") == parts.count("limb") == len(drawing.LEG_PARTS)
    # the near leg is the right one (it faces the viewer), the far one the left
    assert np.allclose(sk["femur_head"].mean(0), sk["landmarks"]["hip_centre"], atol=1e-9)
    far_knee = sk["landmarks"]["knee_left"]
    assert np.min(np.linalg.norm(sk["patella_far"] - far_knee, axis=1)) < 0.06
    (shoulder, knee, tension), = sk["hands"]
    np.testing.assert_allclose(shoulder, sk["landmarks"]["shoulder"])
    np.testing.assert_allclose(knee, sk["landmarks"]["knee_front_left"])
    text = drawing.values_text(bm.posture_report(r).metrics, sk)
    assert "R/L" in text and "nan" not in text


def test_the_exercise_comparison_shows_each_side(model, two):
    """biomech compare's side-by-side bars: with two legs, the psoas length and the hip flexion
    get a bar for each side (the Thomas test stretches one psoas and shortens the other), the
    overlay's table and bar chart the leg angles of each side; no NaN anywhere."""
    import matplotlib
    matplotlib.use("Agg")
    from biomech.viz import figures
    lying = bm.posture_report(bm.solve_equilibrium(model, support=bm.Support("lying")))
    thomas = bm.posture_report(bm.solve_equilibrium(two, support=bm.Support(
        "lying", left_leg=bm.Leg("held"), right_leg=bm.Leg("hanging"))))
    fig = figures.side_by_side_figure([lying, thomas], ["lying", "thomas"])
    psoas_ax, _, _, hip_ax = fig.axes
    assert len(psoas_ax.patches) == len(hip_ax.patches) == 3
    right, left = (figures._psoas_length_percent(thomas, s) for s in ("_right", "_left"))
    heights = sorted(p.get_height() for p in psoas_ax.patches)
    assert heights == pytest.approx(sorted([figures._psoas_length_percent(lying), right, left]))
    assert right > 0.0 > left                  # the hanging leg's psoas lengthens, the held one's shortens
    assert {t.get_text() for t in psoas_ax.texts} >= {"R", "L"}
    table = figures._difference_table([lying, thomas], ["lying", "thomas"])
    assert "HFR" in table and "HFL" in table and "LpsR" in table and "nan" not in table
    keys = figures._difference_keys([lying, thomas])
    assert np.all(np.isfinite(figures._difference_values(thomas, keys)))
    assert np.all(np.isfinite(figures._difference_values(lying, keys)))


def test_the_exercise_library_runs_in_the_default_mode(tmp_path):
    """scenarios/exercises/: every file opens with a comment, is listed in scenarios/README.md,
    runs in the default (upright) mode with two legs, and solves: an equilibrium of every free
    joint with no shortfall (their figures: test_the_figure_draws_both_legs and the CI's run of
    the README's main job)."""
    files = sorted(EXERCISES.glob("*.toml"))
    assert {f.stem for f in files} >= {"thomas_test", "thomas_test_short_hip_flexor", "supine_psoas_stretch",
                                       "double_knee_to_chest", "constructive_rest", "single_leg_raise",
                                       "kneeling_lunge", "bridge"}
    readme = (ROOT / "scenarios" / "README.md").read_text()
    for f in files:
        assert f"`exercises/{f.name}`" in readme and f.read_text().lstrip().startswith("#")
        sc = load_scenario(f)
        assert sc.mode == "upright" and sc.support.two_legs
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", str(EXERCISES), "--json", "--no-plots", "--workers", "1", "--out", str(tmp_path)])
    docs = json.loads(out.getvalue())
    assert code == 0 and len(docs) == len(files)
    for doc in docs:
        st = doc["status"]
        assert st["code"] == "solved" and st["converged"] and st["max_residual_Nm"] < 1e-6, st
        assert not any(doc["recruitment"]["shortfall_Nm"].values())
        assert (tmp_path / doc["scenario"]["name"] / "result.json").exists()
        held = set(doc["support"]["held_joints"])           # only the knees a leg's position holds
        legs = {side: doc["support"][f"{side}_leg"]["position"] for side in ("right", "left")}
        assert held == {f"knee_{s}" for s, pos in legs.items() if pos == "held"}


def test_the_viewer_shows_two_legs():
    """`biomech view` of an exercise: it solves and redraws as the sliders move; the thigh
    inclination slider is left out (each leg has its own position)."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from biomech.viz.viewer import LiveViewer
    fig = Figure(figsize=(13, 8.5), dpi=100)
    FigureCanvasAgg(fig)
    v = LiveViewer(fig, load_scenario(EXERCISES / "thomas_test.toml"))
    fig.canvas.draw()
    assert "thigh_inclination_deg" not in {c.key for c in v.controls}
    pt0 = v.last_report.metrics["pelvic_tilt_deg"]
    v.update({"psoas": 400.0})
    assert v.last_result.success and v.last_report.metrics["pelvic_tilt_deg"] != pt0

"""How the inverse mode turns spinopelvic parameters into joint angles on each support, and
what it says when a target cannot be realised (docs/scenarios.md, [inverse])."""

import dataclasses
import pickle
import re

import numpy as np
import pytest

import biomech as bm
from biomech.inverse import PostureTarget, TargetError, posture_from_target, solve_inverse, \
    target_posture
from biomech.metrics import clinical_metrics
from biomech.names import JOINTS
from biomech.upright import solve_upright

DEG = np.pi / 180


@pytest.fixture(scope="module")
def model():
    return bm.make_model()


def metrics(problem, q):
    return clinical_metrics(problem, bm.geometry(problem, q))


def on_support(problem, q):
    """q lies on the support's constraint q = B u + q_c (the held joints at their reference)."""
    u = np.linalg.lstsq(problem.B, q - problem.q_c, rcond=None)[0]
    return np.allclose(problem.B @ u + problem.q_c, q, atol=1e-12)


LEGS = ["supported", "lifted"]


@pytest.mark.parametrize("legs", LEGS)
def test_lying_pelvic_tilt_is_realised_by_the_lumbar_spine(model, legs):
    # it raised LinAlgError (singular matrix): lying, the hip cannot tilt the pelvis
    p = bm.prepare(model, support=bm.Support("lying", legs=legs))
    ref = metrics(p, p.q_ref)
    q = posture_from_target(p, PostureTarget(pelvic_tilt_deg=22.0))
    m = metrics(p, q)
    assert m["pelvic_tilt_deg"] == pytest.approx(22.0, abs=1e-9)
    # the pelvis turns against the thorax (held by the table) through the lumbar levels: the
    # lordosis flattens by what the pelvis tilts back, T12_L1 and the trunk stay as they were
    assert m["lumbar_lordosis_deg"] == pytest.approx(ref["lumbar_lordosis_deg"] - (22.0 - ref["pelvic_tilt_deg"]),
                                                     abs=1e-6)
    assert q[JOINTS.index("T12_L1")] == p.q_ref[JOINTS.index("T12_L1")]
    assert m["trunk_inclination_deg"] == pytest.approx(ref["trunk_inclination_deg"], abs=1e-12)
    # the hip keeps its reference angle (no rule couples it to the spine any more: supported
    # legs rest on the table through contacts), the held ankles and knees theirs
    assert q[JOINTS.index("hip")] == p.q_ref[JOINTS.index("hip")]
    assert on_support(p, q)
    res = solve_inverse(p, PostureTarget(pelvic_tilt_deg=22.0))
    np.testing.assert_allclose(res.q, q, atol=1e-12)          # the posture is the one asked for
    assert res.message


@pytest.mark.parametrize("legs", LEGS)
def test_lying_pelvic_tilt_with_lordosis_takes_the_rest_at_T12_L1(model, legs):
    p = bm.prepare(model, support=bm.Support("lying", legs=legs))
    q = posture_from_target(p, PostureTarget(pelvic_tilt_deg=20.0, lumbar_lordosis_deg=58.0))
    m = metrics(p, q)
    assert (m["pelvic_tilt_deg"], m["lumbar_lordosis_deg"]) == (pytest.approx(20.0, abs=1e-9),
                                                                pytest.approx(58.0, abs=1e-9))
    assert q[JOINTS.index("T12_L1")] != p.q_ref[JOINTS.index("T12_L1")]
    assert q[JOINTS.index("hip")] == p.q_ref[JOINTS.index("hip")]
    assert on_support(p, q)


@pytest.mark.parametrize("legs", LEGS)
def test_lying_a_lordosis_target_leaves_the_hip_at_its_reference(model, legs):
    p = bm.prepare(model, support=bm.Support("lying", legs=legs))
    hip = JOINTS.index("hip")
    q = posture_from_target(p, PostureTarget(lumbar_lordosis_deg=50.0))
    assert q[hip] == p.q_ref[hip]
    assert metrics(p, q)["lumbar_lordosis_deg"] == pytest.approx(50.0, abs=1e-9)
    assert on_support(p, q)


@pytest.mark.parametrize("legs", LEGS)
def test_lying_trunk_inclination_is_fixed_by_the_table(model, legs):
    p = bm.prepare(model, support=bm.Support("lying", legs=legs))
    fixed = metrics(p, p.q_ref)["trunk_inclination_deg"]
    with pytest.raises(TargetError, match=rf"fixed at {fixed:+.2f}° and cannot be 5°") as info:
        posture_from_target(p, PostureTarget(trunk_inclination_deg=5.0))
    assert info.value.key == ("inverse", "trunk_inclination_deg")
    assert info.value.allowed.endswith(f"(or give {fixed:.2f})")
    q = posture_from_target(p, PostureTarget(trunk_inclination_deg=round(fixed, 2)))
    np.testing.assert_array_equal(q, p.q_ref)     # the fixed value itself is accepted


@pytest.mark.parametrize("legs", LEGS)
def test_lying_a_hip_angle_is_the_legs_own(model, legs):
    # the removed rule refused a supported hip other than the one the spine gave: now a hip
    # angle, as any joint angle given, is imposed as it is, the others keep their reference
    p = bm.prepare(model, support=bm.Support("lying", legs=legs))
    q = posture_from_target(p, PostureTarget(joint_angles_deg={"hip": 10.0, "L5_S1": 2.0}))
    assert q[JOINTS.index("hip")] == pytest.approx(10.0 * DEG)
    assert q[JOINTS.index("L5_S1")] == pytest.approx(2.0 * DEG)
    others = [k for k, j in enumerate(JOINTS) if j not in ("hip", "L5_S1")]
    np.testing.assert_array_equal(q[others], p.q_ref[others])
    assert on_support(p, q)


def test_out_of_range_names_the_key_and_what_it_can_reach(model):
    p = bm.prepare(model)
    with pytest.raises(TargetError) as info:
        target_posture(p, PostureTarget(pelvic_tilt_deg=70.0))
    err = info.value
    assert err.key == ("inverse", "pelvic_tilt_deg")
    assert "puts hip at" in err.what and "outside its physiological range" in err.what
    high = float(err.allowed.split(" to ")[1].split(" ")[0])
    # the reachable bound is where the hip meets its range: just inside works, just outside not
    assert target_posture(p, PostureTarget(pelvic_tilt_deg=high - 0.1)) is not None
    with pytest.raises(TargetError):
        target_posture(p, PostureTarget(pelvic_tilt_deg=high + 0.1))
    with pytest.raises(TargetError) as info:
        target_posture(p, PostureTarget(sacral_slope_deg=-25.0))
    assert info.value.key == ("inverse", "sacral_slope_deg")
    assert "allowed here: sacral_slope_deg from" in info.value.allowed


def test_a_joint_no_target_moves_is_blamed_on_the_support(model):
    # sitting with the knee flexed as far as the thigh, the foot stays flat and only the hip
    # leaves its range: the support's thigh inclination put it there
    p = bm.prepare(model, support=bm.Support("sitting", thigh_inclination_deg=150.0,
                                             knee_flexion_deg=150.0))
    with pytest.raises(TargetError, match="puts the hip at") as info:
        target_posture(p, PostureTarget(lumbar_lordosis_deg=55.0))
    assert info.value.key == ("support", "thigh_inclination_deg")
    found = re.search(r"allowed here: thigh_inclination_deg from ([-\d.]+) to ([-\d.]+)",
                      info.value.allowed)
    assert found
    high = float(found[2])
    inside = bm.prepare(model, support=bm.Support("sitting", thigh_inclination_deg=high - 0.5,
                                                  knee_flexion_deg=high - 0.5))
    assert target_posture(inside, PostureTarget(lumbar_lordosis_deg=55.0)) is not None


def test_a_leg_joint_out_of_range_names_the_joint(model):
    p = bm.prepare(model, support=bm.Support("standing", thigh_inclination_deg=150.0))
    with pytest.raises(TargetError, match=r"puts ankle at \+[\d.]+°, outside its physiological range"):
        target_posture(p, PostureTarget(lumbar_lordosis_deg=55.0))


def test_an_ankle_no_target_moves_is_blamed_on_the_support(model):
    p = bm.prepare(model, support=bm.Support("standing", thigh_inclination_deg=150.0))
    with pytest.raises(TargetError) as info:
        target_posture(p, PostureTarget(lumbar_lordosis_deg=55.0))
    assert info.value.key == ("support", "thigh_inclination_deg")


def test_target_error_is_a_model_error_and_pickles():
    err = TargetError(("inverse", "pelvic_tilt_deg"), "what", "allowed: x")
    assert isinstance(err, bm.ModelError)
    back = pickle.loads(pickle.dumps(err))       # raised in worker processes too
    assert (back.key, back.what, back.allowed, str(back)) == (err.key, err.what, err.allowed, str(err))
    assert str(err) == "inverse.pelvic_tilt_deg: what; allowed: x"


def test_a_value_just_outside_a_range_is_shown_apart_from_its_end(model):
    p = bm.prepare(model)
    k = JOINTS.index("L5_S1")
    just_out = p.q_high[k] / DEG + 0.004
    with pytest.raises(TargetError) as info:
        target_posture(p, PostureTarget(joint_angles_deg={"L5_S1": just_out}))
    at, end = re.search(r"at ([+-][\d.]+)°, outside its physiological range \([+-][\d.]+° to "
                        r"([+-][\d.]+)°\)", info.value.what).groups()
    assert at != end and float(at) > float(end)
    assert info.value.key == ("inverse", "joint_angles_deg", "L5_S1")


TARGETS = [{"pelvic_tilt_deg": 18.0},
           {"lumbar_lordosis_deg": 50.0},
           {"sacral_slope_deg": 35.0, "lumbar_lordosis_deg": 55.0},
           {"pelvic_tilt_deg": 10.0, "lumbar_lordosis_deg": 58.0, "trunk_inclination_deg": 0.0}]


@pytest.mark.parametrize("kind, given", [
    pytest.param(kind, given, id=f"{kind}-{'+'.join(given)}")
    for kind in ("standing", "sitting") for given in TARGETS])
def test_standing_and_sitting_targets_are_realised_exactly(model, kind, given):
    p = bm.prepare(model, support=bm.Support(kind))
    ref = metrics(p, p.q_ref)
    q = target_posture(p, PostureTarget(**given))
    m = metrics(p, q)
    for key, value in given.items():
        assert m[key] == pytest.approx(value, abs=1e-8), key
    if "pelvic_tilt_deg" not in given and "sacral_slope_deg" not in given:
        assert m["pelvic_tilt_deg"] == pytest.approx(ref["pelvic_tilt_deg"], abs=1e-9)
    # the legs stay as the support holds them, the joints within their ranges
    assert on_support(p, q)
    for j in ("ankle", "knee"):
        assert q[JOINTS.index(j)] == p.q_ref[JOINTS.index(j)]
    assert np.all((q >= p.q_low) & (q <= p.q_high))


@pytest.mark.parametrize("support", [
    bm.Support("standing"), bm.Support("lying"), bm.Support("lying", legs="lifted"),
    bm.Support("sitting"), bm.Support("sitting", thigh_inclination_deg=80.0)],
    ids=["standing", "lying", "lying-lifted", "sitting", "sitting-80"])
def test_the_empty_target_is_the_reference_posture_within_the_ranges(model, support):
    # an inverse file without targets asks for the support's reference posture: it must be one
    p = bm.prepare(model, support=support)
    assert np.all((p.q_ref >= p.q_low) & (p.q_ref <= p.q_high)), [
        j for j, q, lo, hi in zip(model.joints, p.q_ref, p.q_low, p.q_high) if not lo <= q <= hi]
    np.testing.assert_array_equal(target_posture(p, PostureTarget()), p.q_ref)
    if support.kind == "sitting":           # the pelvis rolled back onto the seat (not by 90°)
        standing = bm.prepare(model, support=bm.Support("standing"))
        assert metrics(standing, standing.q_ref)["pelvic_tilt_deg"] \
            < metrics(p, p.q_ref)["pelvic_tilt_deg"] < 90.0


@pytest.mark.parametrize("mode", ["inverse", "upright"])
def test_a_recruited_result_keeps_the_geometry_and_forces_its_report_needs(model, mode):
    """A recruited result carries the geometry and the generalized forces at its posture (the
    recruitment's, the kinematics not depending on the lines): its report is the one computed
    afresh, quantity for quantity."""
    if mode == "inverse":
        r = solve_inverse(bm.prepare(model, support=bm.Support("standing")),
                          PostureTarget(pelvic_tilt_deg=18.0, lumbar_lordosis_deg=50.0))
    else:
        r = solve_upright(bm.prepare(model, support=bm.Support("sitting"), locked_joints=()))
    assert np.array_equal(r.geometry.q, r.q) and np.array_equal(r.sources["geometry"].q, r.q)
    kept, fresh = bm.posture_report(r), bm.posture_report(dataclasses.replace(r, geometry=None, sources=None))
    for name in ("muscle_force", "compression", "shear", "passive_moment", "moment_arm", "body_forces"):
        np.testing.assert_array_equal(getattr(kept, name), getattr(fresh, name), err_msg=name)
    assert kept.tau.keys() == fresh.tau.keys()
    for k in kept.tau:
        np.testing.assert_array_equal(kept.tau[k], fresh.tau[k], err_msg=k)
    assert kept.metrics.keys() == fresh.metrics.keys()
    for k, v in kept.metrics.items():                        # equal, or both NaN
        assert v == fresh.metrics[k] or (v != v and fresh.metrics[k] != fresh.metrics[k]), k

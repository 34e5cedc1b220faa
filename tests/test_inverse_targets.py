"""How the inverse mode turns spinopelvic parameters into joint angles on each support, and
what it says when a target cannot be realised (docs/scenarios.md, [inverse])."""

import pickle
import re

import numpy as np
import pytest

import biomech as bm
from biomech.inverse import PostureTarget, TargetError, posture_from_target, solve_inverse, \
    target_posture
from biomech.metrics import clinical_metrics
from biomech.names import JOINTS

DEG = np.pi / 180


@pytest.fixture(scope="module")
def model():
    return bm.make_model()


def metrics(problem, q):
    return clinical_metrics(problem, bm.geometry(problem, q))


def on_support(problem, q):
    """q lies on the support's constraint q = B u + q_c (lying with supported legs: Σq fixed)."""
    u = np.linalg.lstsq(problem.B, q - problem.q_c, rcond=None)[0]
    return np.allclose(problem.B @ u + problem.q_c, q, atol=1e-12)


def test_lying_pelvic_tilt_is_realised_by_the_lumbar_spine(model):
    # it raised LinAlgError (singular matrix): lying, the hip cannot tilt the pelvis
    p = bm.prepare(model, support=bm.Support("lying"))
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
    assert on_support(p, q)                       # the hip followed: the legs stay on the table
    assert solve_inverse(p, PostureTarget(pelvic_tilt_deg=22.0)).converged


def test_lying_pelvic_tilt_with_lordosis_takes_the_rest_at_T12_L1(model):
    p = bm.prepare(model, support=bm.Support("lying"))
    q = posture_from_target(p, PostureTarget(pelvic_tilt_deg=20.0, lumbar_lordosis_deg=58.0))
    m = metrics(p, q)
    assert (m["pelvic_tilt_deg"], m["lumbar_lordosis_deg"]) == (pytest.approx(20.0, abs=1e-9),
                                                                pytest.approx(58.0, abs=1e-9))
    assert q[JOINTS.index("T12_L1")] != p.q_ref[JOINTS.index("T12_L1")]
    assert on_support(p, q)


def test_lying_with_supported_legs_the_hip_follows_a_lordosis_target(model):
    # the hip stayed at its reference angle, off the support's constraint
    p = bm.prepare(model, support=bm.Support("lying"))
    q = posture_from_target(p, PostureTarget(lumbar_lordosis_deg=50.0))
    assert on_support(p, q)
    lifted = bm.prepare(model, support=bm.Support("lying", legs="lifted"))
    assert posture_from_target(lifted, PostureTarget(lumbar_lordosis_deg=50.0))[0] == lifted.q_ref[0]


def test_lying_trunk_inclination_is_fixed_by_the_table(model):
    p = bm.prepare(model, support=bm.Support("lying"))
    fixed = metrics(p, p.q_ref)["trunk_inclination_deg"]
    with pytest.raises(TargetError, match=r"fixed at -4\.38° and cannot be 5°") as info:
        posture_from_target(p, PostureTarget(trunk_inclination_deg=5.0))
    assert info.value.key == ("inverse", "trunk_inclination_deg")
    q = posture_from_target(p, PostureTarget(trunk_inclination_deg=round(fixed, 2)))
    np.testing.assert_array_equal(q, p.q_ref)     # the fixed value itself is accepted


def test_lying_supported_hip_angle_must_follow_the_spine(model):
    p = bm.prepare(model, support=bm.Support("lying"))
    with pytest.raises(TargetError, match="the hip follows the spine") as info:
        posture_from_target(p, PostureTarget(joint_angles_deg={"hip": 10.0, "L5_S1": 2.0}))
    assert info.value.key == ("inverse", "joint_angles_deg", "hip")
    q = posture_from_target(p, PostureTarget(joint_angles_deg={"L5_S1": 3.0}))
    assert on_support(p, q) and q[1] == pytest.approx(3.0 * DEG)


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
    p = bm.prepare(model, support=bm.Support("standing", thigh_inclination_deg=150.0))
    with pytest.raises(TargetError, match="puts the hip at") as info:
        target_posture(p, PostureTarget(lumbar_lordosis_deg=55.0))
    assert info.value.key == ("support", "thigh_inclination_deg")
    assert "allowed here: thigh_inclination_deg from" in info.value.allowed


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

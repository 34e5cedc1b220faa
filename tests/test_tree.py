# A model is a tree sized by itself (issue 12): a model with more bodies — a head on the thorax
# and a second leg hanging from the pelvis (a branch) — is solved and reported like the default
# one, and the physics identities hold on it.

import json

import numpy as np
import pytest

import biomech as bm

TOL_NM = 1e-6


@pytest.fixture(scope="module")
def bigger():
    base = bm.build_model()
    c7 = base.landmarks["C7"][1]
    neck = bm.IntervertebralLaw(k0_Nm_per_rad=5.0, rom_extension_rad=0.3, rom_flexion_rad=0.4,
                                test_moment_Nm=5.0)
    m = bm.attach_body(base, "head", to="thorax", joint="C7_T1", joint_in_parent_m=c7,
                       joint_in_body_m=(0.0, 0.0), mass_kg=4.0, com_m=(0.02, 0.12), passive=neck,
                       range_deg=(-40, 30))
    pelvis_hip = base.landmarks["hip_centre"][1]
    hip2 = bm.IntervertebralLaw(k0_Nm_per_rad=5.0, rom_extension_rad=0.4, rom_flexion_rad=1.5,
                                test_moment_Nm=20.0)
    m = bm.attach_body(m, "other_leg", to="pelvis", joint="hip_other", joint_in_parent_m=pelvis_hip,
                       joint_in_body_m=(0.0, 0.0), mass_kg=3.0, com_m=(0.0, -0.2), passive=hip2,
                       range_deg=(-60, 60), distal=True)
    return bm.fit_tone(m)


def test_counts_and_names_come_from_the_model(bigger):
    assert (bigger.n_bodies, bigger.n_joints) == (10, 9)
    assert bigger.bodies[-2:] == ("head", "other_leg") and bigger.joints[-2:] == ("C7_T1", "hip_other")
    j = bigger.joint_index("hip_other")
    assert bigger.bodies[bigger.joint_inferior[j]] == "other_leg"       # distal = inferior
    assert bigger.bodies[bigger.joint_superior[j]] == "pelvis"
    with pytest.raises(bm.ModelError, match="already has a body"):
        bm.attach_body(bigger, "head", to="thorax", joint="x", joint_in_parent_m=(0, 0),
                       joint_in_body_m=(0, 0), mass_kg=1, com_m=(0, 0),
                       passive=bigger.passive[1], range_deg=(-10, 10))
    with pytest.raises(bm.ModelError, match=r"unknown body 'thorx' \(did you mean 'thorax'\?\)"):
        bm.attach_body(bigger, "hand", to="thorx", joint="x", joint_in_parent_m=(0, 0),
                       joint_in_body_m=(0, 0), mass_kg=1, com_m=(0, 0),
                       passive=bigger.passive[1], range_deg=(-10, 10))


@pytest.mark.parametrize("support", [bm.Support("standing"), bm.Support("sitting"),
                                     bm.Support("lying", legs="lifted")])
def test_the_bigger_model_solves_and_balances(bigger, support):
    r = bm.solve_equilibrium(bigger, support=support,
                             settings={"psoas": bm.MuscleSetting(tension_N=150)})
    assert r.success, r.message
    p = r.problem
    assert r.q.shape == (9,) and np.max(np.abs(bm.residual(p, r.q))) < TOL_NM
    # every free body balances: the net force on each body other than the held one is zero,
    # and its moment is that of the passive joint moments acting on it
    rep = bm.posture_report(r)
    net = rep.body_forces.copy()
    for j in range(p.model.n_joints):                 # reaction: inferior on superior
        net[p.superior[j]] += rep.reaction[j]
        net[p.inferior[j]] -= rep.reaction[j]
    free = np.arange(p.model.n_bodies) != p.root
    np.testing.assert_allclose(net[free], 0.0, atol=1e-8 * max(1.0, np.abs(rep.body_forces).max()))
    # moment arms are −dL/dq at every joint of the tree
    h = 1e-6
    for j in range(p.model.n_joints):
        e = np.zeros(9)
        e[j] = h
        fd = (bm.geometry(p, r.q + e).length - bm.geometry(p, r.q - e).length) / (2 * h)
        np.testing.assert_allclose(rep.moment_arm[:, j], -fd, rtol=0, atol=1e-8)
    # the stiffness is the derivative of the residual
    K = bm.stiffness(p, r.q)
    fdK = np.column_stack([-(bm.residual(p, r.q + np.eye(9)[k] * h) - bm.residual(p, r.q - np.eye(9)[k] * h))
                           / (2 * h) for k in range(9)])
    np.testing.assert_allclose(K, fdK, rtol=1e-5, atol=1e-4 * np.abs(fdK).max())


def test_the_bigger_model_is_reported_the_same_way(bigger):
    r = bm.solve_equilibrium(bigger)
    doc = json.loads(json.dumps(bm.to_dict(r), allow_nan=False))
    assert list(doc["bodies"]) == list(bigger.bodies)
    assert doc["joints"]["C7_T1"]["inferior"] == "thorax" and doc["joints"]["C7_T1"]["superior"] == "head"
    assert doc["joints"]["hip_other"]["inferior"] == "other_leg"
    np.testing.assert_allclose(sum(b["mass_kg"] for b in doc["bodies"].values()),
                               bigger.mass.sum() + bigger.leg_mass.sum(), rtol=1e-12)
    # the default anatomy's metrics are unchanged in meaning: the pelvis and lumbar spine do
    # not know about the new bodies except through their loads
    assert set(bm.METRICS) <= set(doc["metrics"])

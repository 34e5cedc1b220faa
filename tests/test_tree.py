# A model is a tree sized by itself (issues 12 and 13): the default model is already a tree of
# 13 bodies (feet to head); a model with more bodies — a helmet strapped on the head and a second
# leg hanging from the pelvis (a branch) — is solved and reported like the default one, and the
# physics identities hold on it.

import json

import numpy as np
import pytest

import biomech as bm
from biomech.names import BODIES, JOINTS

TOL_NM = 1e-6


@pytest.fixture(scope="module")
def bigger():
    base = bm.build_model()
    glabella = base.landmarks["glabella"][1]
    strap = bm.IntervertebralLaw(k0_Nm_per_rad=50.0, rom_extension_rad=0.1, rom_flexion_rad=0.1,
                                 test_moment_Nm=20.0)
    m = bm.attach_body(base, "helmet", to="head", joint="strap", joint_in_parent_m=glabella + (-0.1, 0.05),
                       joint_in_body_m=(0.0, 0.0), mass_kg=1.5, com_m=(-0.01, 0.02), passive=strap,
                       range_deg=(-20, 20))
    pelvis_hip = base.landmarks["hip_centre"][1]
    hip2 = bm.IntervertebralLaw(k0_Nm_per_rad=5.0, rom_extension_rad=0.4, rom_flexion_rad=1.5,
                                test_moment_Nm=20.0)
    m = bm.attach_body(m, "other_leg", to="pelvis", joint="hip_other", joint_in_parent_m=pelvis_hip,
                       joint_in_body_m=(0.0, 0.0), mass_kg=3.0, com_m=(0.0, -0.2), passive=hip2,
                       range_deg=(-60, 60), distal=True)
    return bm.fit_tone(m)


def test_the_default_model_is_a_tree_of_its_own_size(model):
    assert (model.n_bodies, model.n_joints) == (len(BODIES), len(JOINTS))
    assert model.n_joints == model.n_bodies - 1
    for support in (bm.Support("standing"), bm.Support("sitting"), bm.Support("lying")):
        p = bm.prepare(model, support=support)
        # the path signs: the root moves with nothing, every other body with the joints between
        # it and the root (+1 with the root on the joint's inferior side, −1 on its superior side)
        assert p.S.shape == (model.n_bodies, model.n_joints) and not p.S[p.root].any()
        for j in range(model.n_joints):
            inf, sup = int(p.inferior[j]), int(p.superior[j])
            far = sup if p.S[sup, j] else inf
            assert p.S[far, j] == (1.0 if far == sup else -1.0)
            assert p.S[inf if far == sup else sup, j] == 0.0
        assert p.q_ref.shape == (model.n_joints,) and p.B.shape == (model.n_joints, p.n_free)


def test_counts_and_names_come_from_the_model(bigger):
    assert (bigger.n_bodies, bigger.n_joints) == (len(BODIES) + 2, len(JOINTS) + 2)
    assert bigger.bodies[-2:] == ("helmet", "other_leg") and bigger.joints[-2:] == ("strap", "hip_other")
    assert bigger.bodies[:len(BODIES)] == BODIES and bigger.joints[:len(JOINTS)] == JOINTS
    j = bigger.joint_index("hip_other")
    assert bigger.bodies[bigger.joint_inferior[j]] == "other_leg"       # distal = inferior
    assert bigger.bodies[bigger.joint_superior[j]] == "pelvis"
    j = bigger.joint_index("strap")
    assert bigger.bodies[bigger.joint_inferior[j]] == "head"
    assert bigger.bodies[bigger.joint_superior[j]] == "helmet"
    with pytest.raises(bm.ModelError, match="already has a body"):
        bm.attach_body(bigger, "head", to="thorax_upper", joint="x", joint_in_parent_m=(0, 0),
                       joint_in_body_m=(0, 0), mass_kg=1, com_m=(0, 0),
                       passive=bigger.passive[3], range_deg=(-10, 10))
    with pytest.raises(bm.ModelError, match="already has a joint"):
        bm.attach_body(bigger, "hand", to="thorax_upper", joint="C7_T1", joint_in_parent_m=(0, 0),
                       joint_in_body_m=(0, 0), mass_kg=1, com_m=(0, 0),
                       passive=bigger.passive[3], range_deg=(-10, 10))
    with pytest.raises(bm.ModelError, match=r"unknown body 'thorax_uper' \(did you mean 'thorax_upper'\?\)"):
        bm.attach_body(bigger, "hand", to="thorax_uper", joint="x", joint_in_parent_m=(0, 0),
                       joint_in_body_m=(0, 0), mass_kg=1, com_m=(0, 0),
                       passive=bigger.passive[3], range_deg=(-10, 10))
    with pytest.raises(bm.ModelError, match="passive must be a passive law"):
        bm.attach_body(bigger, "hand", to="thorax_upper", joint="x", joint_in_parent_m=(0, 0),
                       joint_in_body_m=(0, 0), mass_kg=1, com_m=(0, 0), passive=1.0, range_deg=(-10, 10))
    with pytest.raises(bm.ModelError, match="range_deg must bracket 0"):
        bm.attach_body(bigger, "hand", to="thorax_upper", joint="x", joint_in_parent_m=(0, 0),
                       joint_in_body_m=(0, 0), mass_kg=1, com_m=(0, 0),
                       passive=bigger.passive[3], range_deg=(5, 10))
    # a leg joint's law works on a branch too (a LegLaw is a passive law)
    leg = bm.attach_body(bigger, "hand", to="thorax_upper", joint="x", joint_in_parent_m=(0, 0),
                         joint_in_body_m=(0, 0), mass_kg=1, com_m=(0, 0), passive=bm.LegLaw("knee"),
                         range_deg=(-10, 10))
    assert leg.passive[-1] == bm.LegLaw("knee")


@pytest.mark.parametrize("support", [bm.Support("standing"), bm.Support("sitting"),
                                     bm.Support("lying", legs="lifted")], ids=lambda s: s.kind)
def test_the_bigger_model_solves_and_balances(bigger, support):
    r = bm.solve_equilibrium(bigger, support=support,
                             settings={"psoas": bm.MuscleSetting(tension_N=150)})
    assert r.success, r.message
    p = r.problem
    n = p.model.n_joints
    assert r.q.shape == (n,) and np.max(np.abs(p.B.T @ bm.residual(p, r.q))) < TOL_NM
    # the held ankles and knees stay at their reference angles, the new joints are free
    held = [p.model.joint_index(j) for j in p.locked]
    assert p.locked == ("ankle", "knee")
    np.testing.assert_array_equal(r.q[held], p.q_ref[held])
    assert p.B[[p.model.joint_index("strap"), p.model.joint_index("hip_other")]].any(1).all()
    # every free body balances: the net force on each body other than the held one is zero,
    # and its moment is that of the passive (and held) joint moments acting on it
    rep = bm.posture_report(r)
    net = rep.body_forces.copy()
    moment = rep.body_moments.copy()
    for j in range(n):                 # reaction: inferior on superior
        c = rep.geometry.centres[j]
        net[p.superior[j]] += rep.reaction[j]
        net[p.inferior[j]] -= rep.reaction[j]
        arm = c[0] * rep.reaction[j][1] - c[1] * rep.reaction[j][0]
        joint_moment = rep.passive_moment[j] + rep.held_moment[j]
        moment[p.superior[j]] += arm + joint_moment
        moment[p.inferior[j]] -= arm + joint_moment
    free = np.arange(p.model.n_bodies) != p.root
    np.testing.assert_allclose(net[free], 0.0, atol=1e-8 * max(1.0, np.abs(rep.body_forces).max()))
    np.testing.assert_allclose(moment[free], 0.0, atol=1e-8 * max(1.0, np.abs(rep.body_moments).max()))
    # moment arms are −dL/dq at every joint of the tree
    h = 1e-6
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        fd = (bm.geometry(p, r.q + e).length - bm.geometry(p, r.q - e).length) / (2 * h)
        np.testing.assert_allclose(rep.moment_arm[:, j], -fd, rtol=0, atol=1e-8)
    # the stiffness is the derivative of the residual
    K = bm.stiffness(p, r.q)
    fdK = np.column_stack([-(bm.residual(p, r.q + np.eye(n)[k] * h) - bm.residual(p, r.q - np.eye(n)[k] * h))
                           / (2 * h) for k in range(n)])
    np.testing.assert_allclose(K, fdK, rtol=1e-5, atol=1e-4 * np.abs(fdK).max())


@pytest.mark.parametrize("support", [bm.Support("standing"), bm.Support("lying", legs="lifted")],
                         ids=lambda s: s.kind)
def test_the_support_carries_the_new_bodies(bigger, support):
    # the floor (or the table) carries the whole weight, the new bodies' included: the support's
    # forces, the weights and the loads sum to zero; the head's joint carries the helmet
    r = bm.solve_equilibrium(bigger, support=support).raise_for_status()
    doc = bm.to_dict(r)
    g = np.array(doc["gravity_m_s2"])
    weight = sum(b["mass_kg"] for b in doc["bodies"].values()) * g
    np.testing.assert_allclose(sum(np.array(c["force_N"]) for c in doc["support"]["contacts"]), -weight,
                               rtol=0, atol=1e-9 * np.abs(weight).sum())
    assert doc["support"]["contacts"][-1]["body"] == ("foot" if support.kind == "standing" else "thorax_middle")
    if support.kind == "standing":     # the strap: the helmet hangs on it, nothing else does
        np.testing.assert_allclose(doc["joints"]["strap"]["reaction_force_N"], -1.5 * g, rtol=1e-9)


def test_the_bigger_model_is_reported_the_same_way(bigger):
    r = bm.solve_equilibrium(bigger)
    doc = json.loads(json.dumps(bm.to_dict(r), allow_nan=False))
    assert list(doc["bodies"]) == list(bigger.bodies) and list(doc["joints"]) == list(bigger.joints)
    assert doc["joints"]["strap"]["inferior"] == "head" and doc["joints"]["strap"]["superior"] == "helmet"
    assert doc["joints"]["hip_other"]["inferior"] == "other_leg"
    assert doc["joints"]["hip_other"]["held_moment_Nm"] == 0.0
    np.testing.assert_allclose(sum(b["mass_kg"] for b in doc["bodies"].values()), bigger.mass.sum(), rtol=1e-12)
    np.testing.assert_allclose(bigger.mass.sum(), bigger.subject.body_mass_kg + 4.5, rtol=1e-6)
    # the default anatomy's metrics are unchanged in meaning: the pelvis and lumbar spine do
    # not know about the new bodies except through their loads
    assert set(bm.METRICS) <= set(doc["metrics"])
    assert [c["name"] for c in doc["support"]["contacts"]] == ["heel", "forefoot"]

# Lying on the side and prone (docs/model.md §7). On the side gravity and the table's push act
# across the sagittal plane, so no sagittal external force loads the model: no gravity and no
# contacts in the plane, a zero reaction on the root, equilibrium of the joints, little disc load
# in the default mode. Prone the table in front carries the body, pushing only, and every joint
# balances. Bad combinations are errors (API and scenario file).

import numpy as np
import pytest

import biomech as bm
from biomech.balance import balance_checked, reaction
from biomech.scenario import ScenarioError, load_scenario
from biomech.upright import UprightTarget, solve_upright

SIDE = bm.Support("lying", lying_on="side")


def test_no_sagittal_load_and_a_zero_reaction(model):
    p = bm.prepare(model, support=SIDE)
    assert np.all(p.gravity == 0.0) and len(p.contact_body) == 0 and not balance_checked(p)
    r = bm.solve_equilibrium(problem=p)
    assert r.success, r.message
    g = bm.generalized_forces(p, r.q)
    assert np.all(g["gravity"] == 0.0) and np.all(g["contact"] == 0.0)
    assert np.max(np.abs(p.B.T @ bm.residual(p, r.q))) < 1e-6
    rx = reaction(p, r.geometry)
    assert abs(rx.a_N) < 1e-9 and abs(rx.b_N) < 1e-9 and abs(rx.friction_N) < 1e-9
    # the support's forces in the JSON are zero too, and every joint still balances
    doc = bm.to_dict(r)
    assert doc["support"]["lying_on"] == "side" and doc["gravity_m_s2"] == [0.0, 0.0]
    assert all(c["force_N"] == [0.0, 0.0] for c in doc["support"]["contacts"])


def test_the_default_mode_rests_with_little_load(model):
    p = bm.prepare(model, support=SIDE, locked_joints=())
    r = solve_upright(p, UprightTarget())
    assert r.success, r.message
    rep = bm.posture_report(r)
    standing = bm.posture_report(solve_upright(bm.prepare(model, locked_joints=()), UprightTarget()))
    # with no sagittal load the discs carry only what the muscles and tissues add
    j = model.joint_index("L4_L5")
    assert 0.0 <= rep.compression[j] < 0.2 * standing.compression[j]


def test_bad_combinations_are_errors(tmp_path):
    with pytest.raises(bm.ModelError, match="lying_on = 'side' applies to lying only"):
        bm.Support("standing", lying_on="side")
    with pytest.raises(bm.ModelError, match="did you mean 'side'"):
        bm.Support("lying", lying_on="sde")
    with pytest.raises(bm.ModelError, match="lying on the back only"):
        bm.Support("lying", lying_on="side", legs="lifted")
    f = tmp_path / "bad.toml"
    f.write_text('[scenario]\nname = "bad"\ndescription = "x"\n[support]\nkind = "sitting"\nlying_on = "side"\n')
    with pytest.raises(ScenarioError, match=r"support\.lying_on.*applies to lying"):
        load_scenario(f)


def test_prone_lying_rests_on_the_front(model):
    # face down: gravity along +x into the table in front, the table pushes on the chest's patch
    # and the front contacts only, and every joint balances
    support = bm.Support("lying", lying_on="front")
    p = bm.prepare(model, support=support, locked_joints=())
    assert p.gravity[0] > 0 and np.all(p.contact_normal == [-1.0, 0.0])
    r = solve_upright(p, UprightTarget())
    assert r.success, r.message
    doc = bm.to_dict(r, mode="upright")
    names = [c["name"] for c in doc["support"]["contacts"]]
    assert names[-2:] == ["front_T8", "front_T5"] and set(names[:-2]) == {"table"}
    assert all(c["force_N"][0] <= 1e-9 for c in doc["support"]["contacts"])        # pushes only
    total = np.sum([c["force_N"] for c in doc["support"]["contacts"]], axis=0)
    np.testing.assert_allclose(total, [-9.81 * p.mass.sum(), 0.0], atol=1e-6)        # carries the body
    tau = doc["diagnostics"]["generalized_forces_Nm"]          # at the recruited activations
    for joint in doc["joints"]:
        assert abs(sum(tau[k][joint] for k in tau)) < 1e-6, joint

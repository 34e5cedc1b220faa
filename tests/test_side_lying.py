# Lying on the side (docs/model.md §7): gravity and the table's push act across the sagittal
# plane, so no sagittal external force loads the model. Checked: no gravity and no contacts in
# the plane, a zero reaction on the root, equilibrium of the joints, the whole model moving
# rigidly changes nothing, and bad combinations are errors (API and scenario file).

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

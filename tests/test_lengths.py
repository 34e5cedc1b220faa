"""Muscle lengths as a result (issue 15, "psoas length as a first-class result"): each line's
change from relaxed standing, its fibre strain and normalised fibre length, checked by
identities: zero at relaxed standing, −r·δq to first order for a small joint rotation, the
fibre taking the line's whole change (rigid tendon), the force-length curve's own l̃; and what
the JSON and the CSV carry."""

import json
import warnings

import numpy as np
import pytest

import biomech as bm
from biomech.muscles import fiber_curves, force_length_active
from biomech.problem import prepare
from biomech.results import length_changes, posture_report, relaxed_standing_lengths, to_dict
from biomech.statics import geometry


@pytest.fixture(scope="module")
def model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return bm.make_model()


def test_relaxed_standing_is_the_zero_of_every_length_change(model):
    p = prepare(model, support=bm.Support("standing"))
    change, pct, norm, strain = length_changes(p, geometry(p, p.q_ref).length)
    np.testing.assert_allclose(change, 0.0, atol=1e-15)
    np.testing.assert_allclose(pct, 0.0, atol=1e-12)
    np.testing.assert_allclose(strain, 0.0, atol=1e-12)
    assert relaxed_standing_lengths(model) is relaxed_standing_lengths(model)    # once per model


def test_a_small_rotation_changes_each_length_by_minus_its_moment_arm(model):
    # dL = −r dq: the moment arm reported is −∂L/∂q (conventions §5)
    p = prepare(model, support=bm.Support("standing"))
    geo0 = geometry(p, p.q_ref)
    for joint in ("hip", "L4_L5", "knee"):
        j = model.joint_index(joint)
        dq = np.zeros(model.n_joints)
        dq[j] = 1e-6
        change = length_changes(p, geometry(p, p.q_ref + dq).length)[0]
        np.testing.assert_allclose(change, geo0.dLdq[:, j] * 1e-6, rtol=1e-4, atol=1e-13)


def test_fibres_take_the_whole_change_and_l_tilde_is_the_force_length_input(model):
    rep = posture_report(bm.solve_equilibrium(model, support=bm.Support("sitting")))
    p = rep.result.problem
    L = rep.geometry.length
    rest = relaxed_standing_lengths(model)
    np.testing.assert_allclose(rep.length_change, L - rest, atol=1e-15)
    np.testing.assert_allclose(rep.length_change_percent, 100 * (L - rest) / rest, rtol=1e-12)
    np.testing.assert_allclose(rep.fiber_strain_percent, 100 * (L - rest) / (rest - p.lines.lts), rtol=1e-12)
    # the active force-length factor the model uses is f_L(l̃) of the reported l̃
    fl = fiber_curves(p.lines, L)[0]
    np.testing.assert_allclose(force_length_active(rep.fiber_length_norm)[0], fl, rtol=1e-12)
    # sitting flexes the hips ~70°: the hip flexors shorten, the gluteus maximus lengthens
    assert np.all(rep.length_change_percent[model.group_lines("psoas")] < -5.0)
    assert np.all(rep.length_change_percent[model.group_lines("gluteus_maximus")] > 0.0)
    # a fibre is shorter than its line: the same change is a larger strain
    ps = model.group_lines("psoas")
    assert np.all(np.abs(rep.fiber_strain_percent[ps]) > np.abs(rep.length_change_percent[ps]))


def test_a_shorter_resting_length_shows_in_the_fibre_not_the_line(model):
    short = bm.MuscleSetting(resting_length_scale=0.85)
    p = prepare(model, support=bm.Support("standing"), settings={"psoas": short})
    ps = model.group_lines("psoas")
    change, _pct, norm, _strain = length_changes(p, geometry(p, p.q_ref).length)
    p0 = prepare(model, support=bm.Support("standing"))
    norm0 = length_changes(p0, geometry(p0, p0.q_ref).length)[2]
    np.testing.assert_allclose(change[ps], 0.0, atol=1e-15)                 # same path
    np.testing.assert_allclose(norm[ps], norm0[ps] / 0.85, rtol=1e-12)      # stretched fibres


def test_json_and_csv_carry_the_lengths(model, tmp_path):
    from biomech.runner import metrics_row
    rep = posture_report(bm.solve_equilibrium(model, support=bm.Support("sitting")))
    doc = json.loads(json.dumps(to_dict(rep.result, report=rep)))
    ps = model.group_lines("psoas")
    for i in ps:
        line = doc["muscles"][model.muscle_names[i]]
        assert line["length_change_mm"] == pytest.approx(1000 * rep.length_change[i], abs=1e-9)
        assert line["length_change_percent"] == pytest.approx(rep.length_change_percent[i])
        assert line["fiber_length_normalized"] == pytest.approx(rep.fiber_length_norm[i])
        assert line["fiber_strain_percent"] == pytest.approx(rep.fiber_strain_percent[i])
    row = metrics_row(rep)
    assert row["psoas_length_change_percent"] == pytest.approx(float(np.mean(rep.length_change_percent[ps])))
    assert row["psoas_fiber_strain_percent"] == pytest.approx(float(np.mean(rep.fiber_strain_percent[ps])))

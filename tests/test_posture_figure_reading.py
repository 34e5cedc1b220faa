"""The posture figure read at a glance (issue 19): the lying figure says what means something
lying, a posture that is not an answer says which kind, the centres of mass and pressure are
where the balance puts them, and no text covers another in the figures of the library's
everyday postures. Headless (Agg)."""

import dataclasses
import math
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import biomech as bm  # noqa: E402
from biomech import viz  # noqa: E402
from biomech.balance import NO_LOAD_N, centre_of_mass, reaction  # noqa: E402
from biomech.status import Status  # noqa: E402
from biomech.viz import drawing  # noqa: E402

from test_figure_reading import _describe, overlapping_texts  # noqa: E402
from test_viz_body import _upright, model  # noqa: E402,F401  (the model fixture)


@pytest.fixture(scope="module")
def standing(model):
    return _upright(model, bm.Support("standing"))


@pytest.fixture(scope="module")
def sitting(model):
    return _upright(model, bm.Support("sitting"))


@pytest.fixture(scope="module")
def lying_lifted(model):
    """The frozen-tone supine leg raise without the hip flexors' pull: the legs settle where the
    equilibrium puts them, not at the support's reference angle."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return bm.posture_report(bm.solve_equilibrium(
            model, support=bm.Support("lying", legs="lifted", thigh_inclination_deg=30.0)))


def _texts(out, key):
    return "\n".join(t.get_text() for t in out[key] if hasattr(t, "get_text"))


# ------------------------------------------------------------------------------------------
def test_lying_has_no_plumb_line_and_says_where_the_legs_are(lying_lifted):
    fig = Figure()
    ax = fig.add_subplot()
    out = viz.plot_posture(ax, lying_lifted)
    assert "SVA" not in _texts(out, "angle_texts") and "plumb" not in _texts(out, "angle_texts")
    box = _texts(out, "values")
    assert "SVA" not in box and "trunk inclination" not in box
    sk = drawing.skeleton(lying_lifted)
    # the legs' angle above the table, from the drawn thigh and gravity
    up = -sk["gravity"] / np.linalg.norm(sk["gravity"])
    thigh = sk["landmarks"]["knee"] - sk["landmarks"]["hip_centre"]
    angle = math.degrees(math.asin(float(thigh @ up) / np.linalg.norm(thigh)))
    assert drawing.leg_angle_deg(sk) == pytest.approx(angle, abs=1e-9)
    (row,) = [r for r in box.splitlines() if r.startswith("LEG")]
    assert row.split() == ["LEG", drawing.fmt(angle, "°"), "legs", "above", "the", "table"]
    assert "file's reference: 30°" in box                       # the legs are lifted: both shown
    # standing keeps its plumb line and SVA
    assert "SVA" in drawing.values_text(lying_lifted.metrics)


def test_a_posture_that_is_not_an_answer_says_which_kind(standing):
    for code, word in ((Status.FALLEN, "FALLEN"), (Status.NOT_CONVERGED, "NOT CONVERGED"),
                       (Status.COLLAPSED, "COLLAPSED"), (Status.SHORTFALL, "SHORTFALL"),
                       (Status.TARGET_MISSED, "TARGET MISSED")):
        res = dataclasses.replace(standing.result, code=code, message="why, from the solver")
        note = drawing.status_note(res)
        assert note.startswith(word) and note.endswith("why, from the solver"), code
    assert drawing.status_note(standing.result) is None


def test_centre_of_mass_and_pressure_are_drawn_where_the_balance_puts_them(standing):
    fig = Figure()
    ax = fig.add_subplot()
    out = viz.plot_posture(ax, standing)
    p, geo = standing.result.problem, standing.geometry
    points = [a.get_xydata()[0] for a in out["balance"] if hasattr(a, "get_xydata")
              and len(a.get_xydata()) == 1]
    com, cop = centre_of_mass(p, geo), reaction(p, geo).centre_of_pressure
    assert any(np.allclose(pt, com, atol=1e-12) for pt in points)
    assert any(np.allclose(pt, cop, atol=1e-12) for pt in points)
    ankle = drawing.skeleton(standing)["landmarks"]["ankle"]
    assert (cop[0] - ankle[0]) * 1000 == pytest.approx(standing.metrics["centre_of_pressure_mm"])
    # in balance the plumb line of the centre of mass falls on the centre of pressure (the
    # only horizontal forces are the floor's friction, zero with no horizontal load)
    assert abs(com[0] - cop[0]) < 0.002
    labels = [t.get_text() for t in out["balance"] if hasattr(t, "get_text")]
    assert labels == ["COM", "COP"]


def test_feet_without_load_have_no_centre_of_pressure(sitting):
    p, geo = sitting.result.problem, sitting.geometry
    r = reaction(p, geo)
    if r.normal_N >= NO_LOAD_N:
        pytest.skip("the feet carry load in this sitting posture")
    assert np.all(np.isnan(r.centre_of_pressure))
    assert math.isnan(sitting.metrics["centre_of_pressure_mm"])
    assert drawing.skeleton(sitting)["cop"] is None


@pytest.mark.parametrize("which", ["standing", "sitting", "lying_lifted"])
def test_no_text_overlaps_in_the_posture_figure(which, request):
    rep = request.getfixturevalue(which)
    fig = viz.posture_figure(rep, title=which, highlight=["psoas", "rectus_abdominis"])
    pairs = overlapping_texts(fig)
    assert not pairs, _describe(pairs)

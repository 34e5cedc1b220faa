"""The whole body in the figures (biomech.viz.drawing): feet to head, the thorax that bends with
the model, the support surfaces and forces, the lying view. Headless (Agg)."""

import dataclasses
import re
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

import biomech as bm
from biomech import viz
from biomech.problem import prepare
from biomech.upright import solve_upright
from biomech.viz import drawing
from biomech.viz.viewer import PostureView


@pytest.fixture(scope="module")
def model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return bm.make_model()


def _upright(model, support, **kw):
    """A posture of the default (upright) mode; drawn whether or not it is an answer."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return bm.posture_report(solve_upright(prepare(model, support=support, locked_joints=(), **kw)))


@pytest.fixture(scope="module")
def standing(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return bm.posture_report(bm.solve_equilibrium(model, support=bm.Support("standing")))


@pytest.fixture(scope="module")
def sitting(model):
    return _upright(model, bm.Support("sitting", backrest_inclination_deg=15))


@pytest.fixture(scope="module")
def lying(model):
    return _upright(model, bm.Support("lying", legs="supported"))


def _distance_to_line(point, xy):
    """Distance (m) of a point (2,) from the line through xy (2, 2)."""
    d, r = xy[1] - xy[0], np.asarray(point) - xy[0]
    return abs(d[0] * r[1] - d[1] * r[0]) / np.linalg.norm(d)


def _weight(rep):
    return np.asarray(rep.result.problem.weight).sum(0)


# ------------------------------------------------------------------------------------------
def test_the_skeleton_runs_from_the_sole_to_the_top_of_the_head(standing):
    sk = drawing.skeleton(standing)
    lm = sk["landmarks"]
    s = standing.result.problem.model.subject.height_m / drawing.REFERENCE_HEIGHT_M
    # the sole lies on the heel and forefoot contact points, and the floor line through them
    assert sk["foot"][:, 1].min() == pytest.approx(min(lm["heel"][1], lm["forefoot"][1]), abs=1e-3)
    ((name, floor),) = sk["surfaces"]
    assert name == "floor" and np.allclose(floor[:, 1], lm["heel"][1], atol=1e-9)
    assert floor[:, 0].min() < lm["heel"][0] < lm["forefoot"][0] < floor[:, 0].max()
    # bones between their joints: the tibia from the knee to the ankle, the femur to the knee
    for key, top, bottom in (("tibia", "knee", "ankle"), ("femur_shaft", "hip_centre", "knee")):
        y = sk[key][:, 1]
        assert y.max() < lm[top][1] + 0.03 * s and y.min() > lm[bottom][1] - 0.03 * s, key
    # the head around its landmarks, its top a head's height above the sole
    head = sk["head"]
    assert head[:, 0].min() <= lm["occiput"][0] + 1e-9 and head[:, 0].max() >= lm["glabella"][0]
    stature = head[:, 1].max() - sk["foot"][:, 1].min()
    assert stature == pytest.approx(standing.result.problem.model.subject.height_m, rel=0.04)
    # 5 lumbar, 12 thoracic, C7 and C6-C2; the C7 body around the C7 landmark
    assert len(sk["vertebrae"]) == 5 and len(sk["thoracic"]) == 12 and len(sk["cervical"]) == 5
    c7 = sk["c7_body"]
    assert c7[:, 0].min() < lm["C7"][0] < c7[:, 0].max() and c7[:, 1].min() < lm["C7"][1] < c7[:, 1].max()
    # the column climbs from T12 to C2
    centres = [xy.mean(0)[1] for xy in [*sk["thoracic"], sk["c7_body"], *sk["cervical"]]]
    assert np.all(np.diff(centres) > 0)


def test_the_thorax_bends_where_the_model_does(standing):
    """Turning T8/T9 moves T8-T1, the rib cage above it and the head with the superior bodies
    and leaves T12-T9 where they were."""
    model = standing.result.problem.model
    j = model.joint_index("T8_T9")
    delta = 0.2
    q = np.array(standing.result.q, float)
    q[j] += delta
    bent = bm.posture_report(dataclasses.replace(standing.result, q=q))
    a, b = drawing.skeleton(standing), drawing.skeleton(bent)
    c = a["centres"][j]
    R = np.array([[np.cos(delta), -np.sin(delta)], [np.sin(delta), np.cos(delta)]])
    for k in range(12):
        moved = c + (a["thoracic"][k] - c) @ R.T if k >= 4 else a["thoracic"][k]
        np.testing.assert_allclose(b["thoracic"][k], moved, atol=1e-9)
    np.testing.assert_allclose(b["head"], c + (a["head"] - c) @ R.T, atol=1e-9)
    np.testing.assert_allclose(b["vertebrae"][4][1], a["vertebrae"][4][1], atol=1e-12)   # L1
    # the cage bends: its lowest part stays, its top turns with the upper segments
    lo = np.argmin(a["thorax"][:, 1])
    hi = np.argmax(a["thorax"][:, 1])
    np.testing.assert_allclose(b["thorax"][lo], a["thorax"][lo], atol=1e-9)
    np.testing.assert_allclose(b["thorax"][hi], c + R @ (a["thorax"][hi] - c), atol=1e-9)


def test_the_support_forces_drawn_carry_the_body(standing, sitting, lying):
    for rep, names in ((standing, {"floor"}), (sitting, {"floor", "seat", "backrest"}), (lying, {"table"})):
        sk = drawing.skeleton(rep)
        assert {n for n, _ in sk["surfaces"]} == names
        total = sum(np.asarray(f) for _n, _p, f in sk["supports"])
        if rep.result.success:       # a posture in equilibrium: the supports hold its weight
            np.testing.assert_allclose(total, -_weight(rep), atol=1e-6 * np.linalg.norm(_weight(rep)))
    # each arrow drawn ends on the body where its force acts, labelled with its magnitude
    fig = Figure()
    ax = fig.add_subplot()
    out = viz.plot_posture(ax, standing, legend=False)
    arrows = [a for a in out["forces"] if isinstance(a, FancyArrowPatch)]
    labels = [a.get_text() for a in out["forces"] if hasattr(a, "get_text")]
    sk = drawing.skeleton(standing)
    assert len(arrows) == 2 and len(labels) == 2                          # heel and forefoot
    expected = sorted(f"{np.linalg.norm(f):.0f} N" for _n, _p, f in sk["supports"])
    assert sorted(labels) == expected
    assert sum(float(re.match(r"(\d+) N", t).group(1)) for t in labels) == pytest.approx(
        np.linalg.norm(_weight(standing)), abs=1.0)


def test_sitting_draws_the_seat_under_its_contacts(sitting):
    sk = drawing.skeleton(sitting)
    p = sitting.result.problem
    seat = [xy for n, xy in sk["surfaces"] if n == "seat"]
    assert seat and all(abs(xy[0, 1] - xy[1, 1]) < 1e-9 for xy in seat)        # horizontal
    names = {c.landmark for c in bm.supports.contact_specs(p.support)}
    for name, point, force in sk["supports"]:
        if name in names and np.linalg.norm(force) > 0:            # a loaded contact touches its surface
            gap = min(_distance_to_line(point, xy) for _n, xy in sk["surfaces"])
            assert gap < 0.02, name


def test_lying_is_drawn_on_a_horizontal_table_with_gravity_down(lying):
    sk = drawing.skeleton(lying)
    R = drawing.view_rotation(sk["gravity"])
    turned = drawing.transform(sk, R)
    g = turned["gravity"]
    assert g[1] < 0 and abs(g[0]) < 1e-9 * abs(g[1])
    ((name, table),) = turned["surfaces"]
    assert name == "table" and abs(table[0, 1] - table[1, 1]) < 1e-9          # horizontal
    assert turned["head"][:, 1].min() > table[0, 1] - 0.03                    # on it, not under it
    assert turned["head"][:, 0].mean() < turned["foot"][:, 0].mean()         # head left, feet right
    assert turned["landmarks"]["ASIS"][1] > turned["landmarks"]["PSIS"][1]   # face up
    # the view: turned, no radiographic constructions (they are measured in the model's frame)
    fig = Figure()
    ax = fig.add_subplot()
    out = viz.plot_posture(ax, lying, gravity_down=True, legend=False)
    assert not out["angles"] and out["values"] and "toward the feet" in ax.get_xlabel()
    np.testing.assert_allclose(out["bones"][-1].get_xydata(), table, atol=1e-12)   # the table line
    # the figure: the whole model across the top, the lumbopelvic region below it
    fig = viz.posture_figure(lying)
    whole, zoom = fig.axes[0], fig.axes[1]
    assert whole.get_position().y0 > zoom.get_position().y1
    assert "gravity" in [t.get_text() for t in zoom.texts]                    # the model frame


def test_an_external_load_is_drawn_where_it_acts(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = bm.solve_equilibrium(model, support=bm.Support("standing"),
                                   loads=(bm.Load("L3", (0.15, 0.15), mass_kg=10.0),))
    rep = bm.posture_report(res)
    fig = Figure()
    ax = fig.add_subplot()
    out = viz.plot_posture(ax, rep, legend=False)
    texts = [a.get_text() for a in out["forces"] if hasattr(a, "get_text")]
    assert f"load {10.0 * 9.80665:.0f} N" in texts
    (arrow,) = [a for a in out["forces"] if isinstance(a, FancyArrowPatch)
                and np.allclose(a._posA_posB[0], rep.load_points[0])]
    tail, head = map(np.asarray, arrow._posA_posB)
    assert head[1] < tail[1] and abs(head[0] - tail[0]) < 1e-12             # down, from the point


def test_posture_view_moves_the_forces_with_the_posture(standing, model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        other = bm.posture_report(bm.solve_equilibrium(model, support=bm.Support("standing"),
                                                       settings={"psoas": bm.MuscleSetting(tension_N=600)}))
    fig = Figure()
    ax = fig.add_subplot()
    view = PostureView(ax, standing, norm=drawing.muscle_norm(np.array([300.0]), None))
    assert len(view.bones) == len(view.roles) and view.roles[-1] == "surface"
    before = [t.get_text() for _a, t in view.forces]
    view.show(other)
    after = [t.get_text() for _a, t in view.forces]
    states = drawing.force_states(drawing.skeleton(other), view.s)
    assert after == [st[4] for st in states] and after != before
    for (arrow, _t), st in zip(view.forces, states):
        np.testing.assert_allclose(arrow._posA_posB, [st[1], st[2]])


def test_sweep_names_the_muscle_groups_it_leaves_out(standing):
    fig = Figure(figsize=(8, 11))
    out = viz.plot_sweep(fig, [0.0, 1.0], [standing, standing], parameter="muscles.psoas.tension_N")
    model = standing.result.problem.model
    drawn = {ln.get_label() for ln in out["lines"]}
    note = " ".join(t.get_text().replace("\n", " ") for t in out["omitted"])
    for g in sorted(set(model.muscle_group)):
        total = float(np.sum(np.asarray(standing.muscle_force)[model.group_lines(g)]))
        name = g.replace("_", " ")
        assert (name in drawn) != (name in note), g                     # drawn, or named as left out
        if total >= 50.0:
            assert name in drawn, g

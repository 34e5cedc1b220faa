# The abdominal cavity as a pressure vessel (docs/model.md §6a), by identities that do not
# depend on its parameters: the pressure's two forces on the pelvis and the lower thorax cancel
# (a closed system); its generalized force is P·A times the derivative of the axis length (by
# central differences); the transversus abdominis hoop has no sagittal moment arm and a constant
# length, and its tension is the pressure by Laplace's law; a prescribed pressure sets that
# tension; the pressure unloads every joint between the floor and the roof by exactly its push.

import math
from types import SimpleNamespace

import numpy as np
import pytest

import biomech as bm
from biomech import statics
from biomech.abdomen import CONTENTS_DENSITY_KG_M3, floor_pressure
from biomech.model import replace
from biomech.results import cavity_forces

SEED = 20261201
H = 1e-6                                    # rad, central differences
SUPPORTS = {"standing": bm.Support("standing"), "sitting": bm.Support("sitting"),
            "lying": bm.Support("lying")}


def _random_q(p, rng, spread=0.1):
    return np.clip(p.q_ref + p.B @ rng.uniform(-spread, spread, p.n_free), p.q_low, p.q_high)


def _axis_length(p, q):
    f, d = statics.geometry(p, q).cavity
    return math.dist(f, d)


@pytest.mark.parametrize("support", SUPPORTS)
def test_the_pressure_forces_cancel_and_push_along_the_axis(model, support):
    p = bm.prepare(model, support=SUPPORTS[support], abdominal_pressure_kPa=6.0)
    rng = np.random.default_rng(SEED)
    for q in (p.q_ref, _random_q(p, rng)):
        geo = statics.geometry(p, q)
        forces = cavity_forces(p, geo, 6000.0)
        f, d = geo.cavity
        np.testing.assert_allclose(forces.sum(0), 0.0, atol=1e-12)
        # no net moment about any point: the two forces are opposite and on one line
        for about in (np.zeros(2), f, rng.uniform(-1, 1, 2)):
            r = geo.cavity - about
            assert abs(float(np.sum(r[:, 0] * forces[:, 1] - r[:, 1] * forces[:, 0]))) < 1e-10
        e = (d - f) / np.linalg.norm(d - f)
        np.testing.assert_allclose(forces[1], 6000.0 * p.cavity_area * e, rtol=1e-14)    # roof pushed up
        assert [p.model.bodies[b] for b in p.cavity_body] == ["pelvis", "thorax_lower"]


@pytest.mark.parametrize("support", SUPPORTS)
def test_the_pressure_arm_is_the_derivative_of_the_axis_length(model, support):
    p = bm.prepare(model, support=SUPPORTS[support])
    rng = np.random.default_rng(SEED)
    for q in (p.q_ref, _random_q(p, rng), _random_q(p, rng)):
        arm = statics.geometry(p, q).pressure_arm
        for j in range(model.n_joints):
            e = np.zeros(model.n_joints)
            e[j] = H
            fd = p.cavity_area * (_axis_length(p, q + e) - _axis_length(p, q - e)) / (2 * H)
            assert abs(arm[j] - fd) < 1e-9, (support, model.joints[j], arm[j], fd)
        # it acts on the joints between the pelvis and the lower thorax only, and extends them
        # (the cavity lies in front of the lumbar spine)
        between = [model.joint_index(j) for j in ("L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2", "T12_L1")]
        others = np.setdiff1d(np.arange(model.n_joints), between)
        assert np.all(arm[between] > 0.0) and np.all(np.abs(arm[others]) < 1e-15)


def test_the_hoop_has_no_sagittal_moment_arm_and_a_constant_length(model):
    hoop = model.group_lines("transversus_abdominis")
    assert [model.muscle_names[i] for i in hoop] == [f"transversus_abdominis_L{k}" for k in range(1, 6)]
    rng = np.random.default_rng(SEED)
    lengths = []
    for support in SUPPORTS.values():
        p = bm.prepare(model, support=support)
        for q in (p.q_ref, _random_q(p, rng, 0.3)):
            geo = statics.geometry(p, q)
            assert np.all(np.abs(geo.dLdq[hoop]) < 1e-15)          # (rounding of u · d, d ⟂ ẑ × u)
            lengths.append(geo.length[hoop])
    np.testing.assert_allclose(lengths, [lengths[0]] * len(lengths), rtol=1e-14)


def test_laplace_law_and_a_prescribed_pressure(model):
    cav = model.cavity
    P = 4000.0
    p = bm.prepare(model, abdominal_pressure_kPa=P / 1e3)
    g = statics.generalized_forces(p, p.q_ref)
    hoop = model.group_lines("transversus_abdominis")
    # the hoop's tension: N = P r per unit height over the wall's height h, both sides
    np.testing.assert_allclose(g["muscle_forces"][hoop].sum(), 2 * cav.hoop_radius_m * cav.wall_height_m * P,
                               rtol=1e-12)
    assert g["pressure_Pa"] == pytest.approx(P, rel=1e-12)
    np.testing.assert_allclose(g["abdominal_pressure"], P * g["geometry"].pressure_arm, rtol=1e-14)
    # and the same pressure from the same tension set directly
    T = float(g["muscle_forces"][hoop].sum())
    p2 = bm.prepare(model, settings={"transversus_abdominis": bm.MuscleSetting(tension_N=T)})
    np.testing.assert_allclose(statics.generalized_forces(p2, p.q_ref)["abdominal_pressure"],
                               g["abdominal_pressure"], rtol=1e-12)


def test_the_pressure_unloads_the_spine_by_its_push(model):
    # at one posture and the same muscle forces otherwise, the joint reactions between the
    # floor and the roof change by exactly the roof's push; the others do not change
    base = bm.prepare(model, settings={"transversus_abdominis": bm.MuscleSetting(tension_N=0.0)})
    pressed = bm.prepare(model, abdominal_pressure_kPa=8.0)
    q = base.q_ref
    a = bm.posture_report(statics.EquilibriumResult(base, q, bm.Status.SOLVED, True, "", 0.0, 0, np.zeros(1)))
    b = bm.posture_report(statics.EquilibriumResult(pressed, q, bm.Status.SOLVED, True, "", 0.0, 0, np.zeros(1)))
    push = b.cavity_forces[1]
    between = [model.joint_index(j) for j in ("L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2", "T12_L1")]
    for j in range(model.n_joints):
        expected = -push if j in between else np.zeros(2)       # reaction = inferior on superior
        np.testing.assert_allclose(b.reaction[j] - a.reaction[j], expected, atol=1e-9)
    assert np.all(b.compression[between] < a.compression[between])
    assert a.abdominal_pressure_Pa == 0.0 and b.abdominal_pressure_Pa == pytest.approx(8000.0)


def test_pressure_errors(model):
    with pytest.raises(bm.ModelError, match="do not also set 'transversus_abdominis'"):
        bm.prepare(model, abdominal_pressure_kPa=2.0,
                   settings={"transversus_abdominis": bm.MuscleSetting(activation=0.1)})
    with pytest.raises(bm.ModelError, match="pressure_kPa must be a number from 0 to 30"):
        bm.prepare(model, abdominal_pressure_kPa=50.0)
    without = replace(model, cavity=None)
    with pytest.raises(bm.ModelError, match="no abdominal cavity"):
        bm.prepare(without, abdominal_pressure_kPa=2.0)
    # a model without a cavity has no pressure and no pressure forces
    p = bm.prepare(without)
    g = statics.generalized_forces(p, p.q_ref)
    assert g["pressure_Pa"] == 0.0 and np.all(g["abdominal_pressure"] == 0.0)


def test_the_transversus_raises_the_pressure_in_proportion(model):
    hoop = model.group_lines("transversus_abdominis")
    fmax = float(np.asarray(model.max_isometric_force)[hoop].sum())
    pressures = []
    for a in (0.0, 0.25, 0.5):
        p = bm.prepare(model, settings={"transversus_abdominis": bm.MuscleSetting(activation=a)},
                       short_range_stiffness=0.0)
        pressures.append(statics.generalized_forces(p, p.q_ref)["pressure_Pa"])
    # the hoop works at its optimal length (f_L = 1), so P = a F_max / (2 r h)
    cav = model.cavity
    np.testing.assert_allclose(np.diff(pressures), 0.25 * fmax / (2 * cav.hoop_radius_m * cav.wall_height_m),
                               rtol=1e-9)


def test_the_sweep_figure_draws_the_pressure_where_it_changes(model):
    # panel (d) gains the intra-abdominal pressure on a right axis (mmHg) when the sweep moves it
    # by at least `IAP_SHOWN_MMHG`, and the figure's title names every swept key
    import matplotlib
    matplotlib.use("Agg")
    from biomech import viz
    from biomech.viz import figures

    def reports(key, values):
        return [bm.posture_report(bm.solve_equilibrium(model, settings={key: bm.MuscleSetting(activation=a)}))
                for a in values]
    values = (0.0, 0.04, 0.08)                # (the frozen body tips over from ≈ 0.1)
    braced = reports("transversus_abdominis", values)
    assert all(r.result.success for r in braced)
    fig = viz.sweep_figure(values, braced, parameter="muscles.transversus_abdominis.activation",
                           also=("muscles.rectus_abdominis.activation",))
    twin = [a for a in fig.axes if a.get_ylabel().startswith("intra-abdominal pressure")]
    assert len(twin) == 1
    (line,) = twin[0].get_lines()
    expected = [r.abdominal_pressure_Pa / 133.322387415 for r in braced]
    np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-12)
    assert np.ptp(expected) >= figures.IAP_SHOWN_MMHG
    assert "with rectus abdominis activation" in fig._suptitle.get_text()
    # a sweep that leaves the pressure alone draws no pressure axis
    calm = reports("psoas", values)
    fig = viz.sweep_figure(values, calm, parameter="muscles.psoas.activation")
    assert not [a for a in fig.axes if a.get_ylabel().startswith("intra-abdominal pressure")]


def test_the_posture_figure_shades_the_cavity_by_its_pressure(model):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from biomech import viz

    alphas = []
    for kpa in (0.0, 2.0, 4.0):
        p = bm.prepare(model, abdominal_pressure_kPa=kpa)
        r = statics.EquilibriumResult(p, p.q_ref, bm.Status.SOLVED, True, "", 0.0, 0, np.zeros(1))
        fig, ax = plt.subplots()
        out = viz.plot_posture(ax, bm.posture_report(r))
        (patch,) = out["cavity"]
        # the capsule runs along the cavity's axis: its floor and roof lie inside it
        f, d = bm.posture_report(r).geometry.cavity
        assert patch.get_path().contains_point(0.9 * d + 0.1 * f)           # (data coordinates)
        assert not patch.get_path().contains_point(d + 2.0 * (d - f))
        alphas.append(patch.get_alpha())
        plt.close(fig)
    assert alphas[0] < alphas[1] < alphas[2]


def _head(model, f, d, gravity):
    """The contents' hydrostatic head at the floor (Pa) of a cavity with floor f and roof d
    under ``gravity`` (2,), through `floor_pressure` at zero wall pressure."""
    problem = SimpleNamespace(gravity=np.asarray(gravity, float), model=model)
    return floor_pressure(problem, SimpleNamespace(cavity=np.array([f, d], float)), 0.0)


def test_the_contents_head_is_measured_from_their_highest_point(model):
    rho = CONTENTS_DENSITY_KG_M3
    a = model.cavity.half_depth_m
    g = 9.81
    f, d = np.array([0.01, -0.02]), np.array([0.05, 0.21])
    e = (d - f) / np.linalg.norm(d - f)
    n = np.array([-e[1], e[0]])
    half = 0.5 * np.linalg.norm(d - f)
    for angle in np.linspace(0.0, 2 * math.pi, 73):
        up = np.array([math.sin(angle), math.cos(angle)])
        head = _head(model, f, d, -g * up)
        # the top is on the section's outline: the ellipse through F, D and the walls a off the axis
        t = np.linspace(0.0, 2 * math.pi, 20001)
        outline = 0.5 * (f + d) + np.outer(half * np.cos(t), e) + np.outer(a * np.sin(t), n)
        # (the sampled outline's top is off by up to half (Δt)² / 8 ≈ 1e-9 m: 1e-5 Pa)
        assert head == pytest.approx(rho * g * (outline @ up - f @ up).max(), rel=1e-6, abs=1e-3)
        assert head >= rho * g * max(0.0, (d - f) @ up) - 1e-9       # never below the roof's head
        # rigid motion of the body and gravity together: the same head
        rot = np.array([[math.cos(0.7), -math.sin(0.7)], [math.sin(0.7), math.cos(0.7)]])
        shift = np.array([0.3, -1.1])
        assert _head(model, rot @ f + shift, rot @ d + shift, rot @ (-g * up)) == pytest.approx(head, rel=1e-12, abs=1e-9)
    # the axis along gravity: the roof's head, as a column of contents
    assert _head(model, f, d, -g * e) == pytest.approx(rho * g * 2 * half, rel=1e-12)
    # across it (lying on the back, the wall above): the half-depth
    assert _head(model, f, d, -g * n) == pytest.approx(rho * g * a, rel=1e-12)
    # gravity across the sagittal plane (lying on the side): no head in this 2D section
    assert _head(model, f, d, np.zeros(2)) == 0.0


def test_the_half_depth_is_half_the_spine_to_wall_distance_at_L3(model):
    # the anterior edge of L3's superior endplate and the rectus abdominis' points on L3, in L3's frame
    l3 = model.body_index("L3")
    k = list(model.endplate_body).index(l3)
    edge = np.asarray(model.endplate_mid[k]) + 0.5 * model.endplate_depth[k] * np.array(
        [math.cos(model.endplate_angle[k]), math.sin(model.endplate_angle[k])])
    ra = model.muscle_names.index("rectus_abdominis_main")
    wall = np.mean([model.pt_local[p] for p in range(model.line_ptr[ra], model.line_ptr[ra + 1])
                    if model.pt_body[p] == l3], axis=0)
    assert model.cavity.half_depth_m == pytest.approx(0.5 * np.linalg.norm(wall - edge), rel=1e-12)
    assert 0.03 < model.cavity.half_depth_m < 0.08          # m: a plausible half of an abdomen's depth


def test_lying_supine_the_floor_reads_the_contents_head(model):
    p = bm.prepare(model, support=bm.Support("lying"))
    geo = statics.geometry(p, p.q_ref)
    head = floor_pressure(p, geo, 0.0)
    # the axis lies nearly along the table: the head is close to the half-depth's, never below zero
    assert 0.0 < head <= 1000.0 * 9.81 * (model.cavity.half_depth_m + 0.5 * np.linalg.norm(geo.cavity[1] - geo.cavity[0]))
    assert head == pytest.approx(1000.0 * 9.81 * model.cavity.half_depth_m, rel=0.3)

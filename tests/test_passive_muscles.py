# Constitutive laws: intervertebral moment-angle laws, the hip's passive moment (Riener & Edrich
# 1999), Thelen (2003) muscle curves, the muscle force law in a problem, and MuscleSetting
# validation.

import math

import numpy as np
import pytest

import biomech as bm
from biomech.muscles import (THELEN_E0, force_length_active, force_length_passive)
from biomech.names import SPINAL_JOINTS
from biomech.passive import (DEFAULT_ROM_DEG, DEFAULT_TEST_MOMENT_NM, PRELOAD_STIFFENING,
                             hip_passive_moment, intervertebral_energy, intervertebral_moment)

DEG = math.pi / 180.0

_CUSTOM_LAWS = {
    "custom_stiff_extension": bm.IntervertebralLaw(20.0, 0.04, 0.12, 8.0, curvature=3.0),
    "custom_no_neutral_zone_stiffness": bm.IntervertebralLaw(0.0, 0.1, 0.05, 5.0, curvature=5.0),
}


def _laws():
    laws = dict(bm.default_intervertebral_laws())
    laws.update(_CUSTOM_LAWS)
    return laws


def _moment(law, theta):
    m, dm = intervertebral_moment(np.array([law.coefficients()] * np.size(theta)), np.atleast_1d(theta))
    return m, dm


# --------------------------------------------------------------------------------------------
# intervertebral laws
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(_laws()))
def test_intervertebral_law_reaches_the_test_moment_at_its_range_of_motion(name):
    law = _laws()[name]
    m, _ = _moment(law, np.array([law.rom_extension_rad, -law.rom_flexion_rad, 0.0]))
    # extension (θ > 0) is resisted by a flexion (clockwise, negative) moment, and vice versa
    np.testing.assert_allclose(m[0], -law.test_moment_Nm, rtol=1e-12, atol=0)
    np.testing.assert_allclose(m[1], +law.test_moment_Nm, rtol=1e-12, atol=0)
    assert m[2] == 0.0


def test_default_laws_are_the_documented_in_vivo_laws():
    # Yamamoto et al. 1989 ROM at 10 N·m, stiffened ×2.11 for the upright preload
    laws = bm.default_intervertebral_laws()
    assert set(laws) == set(SPINAL_JOINTS)
    for j, (ext_deg, flex_deg) in DEFAULT_ROM_DEG.items():
        law = laws[j]
        np.testing.assert_allclose(law.rom_extension_rad, ext_deg * DEG, rtol=1e-15)
        np.testing.assert_allclose(law.rom_flexion_rad, flex_deg * DEG, rtol=1e-15)
        np.testing.assert_allclose(law.test_moment_Nm, PRELOAD_STIFFENING * DEFAULT_TEST_MOMENT_NM,
                                   rtol=1e-15)


@pytest.mark.parametrize("name", list(_laws()))
def test_intervertebral_law_is_restoring_and_conservative(name):
    law = _laws()[name]
    theta = np.linspace(-1.6 * law.rom_flexion_rad, 1.6 * law.rom_extension_rad, 801)
    m, dm = _moment(law, theta)
    # restoring: strictly decreasing through zero, positive in flexion, negative in extension
    assert np.all(np.diff(m) < 0)
    assert np.all(m[theta < 0] > 0) and np.all(m[theta > 0] < 0)
    assert np.all(dm < 0) if law.k0_Nm_per_rad > 0 else np.all(dm <= 0)
    # the slope is the derivative (central differences, h = 1e-7 rad; away from θ = 0, where the
    # curvature jumps, and where the slope is the neutral-zone stiffness)
    h = 1e-7
    fd = (_moment(law, theta + h)[0] - _moment(law, theta - h)[0]) / (2 * h)
    smooth = np.abs(theta) > 1e-5
    np.testing.assert_allclose(dm[smooth], fd[smooth], rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(_moment(law, 0.0)[1], -law.k0_Nm_per_rad, rtol=1e-15, atol=0)
    # and the moment derives from the strain energy: M = −dE/dθ
    coeffs = np.array([law.coefficients()] * theta.size)
    dE = (intervertebral_energy(coeffs, theta + h) - intervertebral_energy(coeffs, theta - h)) / (2 * h)
    np.testing.assert_allclose(m, -dE, rtol=1e-6, atol=1e-6)


def test_problem_applies_the_laws_about_the_stress_free_angles(model):
    p = bm.prepare(model, support=bm.Support("standing"))
    laws = model.intervertebral
    for j, name in enumerate(SPINAL_JOINTS, start=1):
        law = laws[name]
        for dtheta, expected in ((law.rom_extension_rad, -law.test_moment_Nm),
                                 (-law.rom_flexion_rad, law.test_moment_Nm), (0.0, 0.0)):
            q = np.array(model.rest_angle, float)
            q[j] += dtheta
            np.testing.assert_allclose(bm.statics.passive_moments(p, q)[0][j], expected, rtol=1e-12, atol=1e-12)
    # the reported slopes are the derivatives of the passive moments (hip and spine)
    q = np.array(p.q_ref, float) + np.linspace(-0.05, 0.06, 7)
    h = 1e-7
    slope = bm.statics.passive_moments(p, q)[1]
    for j in range(7):
        e = np.zeros(7)
        e[j] = h
        fd = (bm.statics.passive_moments(p, q + e)[0][j] - bm.statics.passive_moments(p, q - e)[0][j]) / (2 * h)
        np.testing.assert_allclose(slope[j], fd, rtol=1e-6, atol=1e-6)


def test_intervertebral_law_validation():
    with pytest.raises(bm.ModelError, match=r"IntervertebralLaw\.rom_flexion_rad must be > 0"):
        bm.IntervertebralLaw(10.0, 0.1, -0.1, 10.0)
    with pytest.raises(bm.ModelError, match=r"k0_Nm_per_rad must be >= 0"):
        bm.IntervertebralLaw(-1.0, 0.1, 0.1, 10.0)
    with pytest.raises(bm.ModelError, match=r"neutral-zone stiffness alone exceeds the test moment"):
        bm.IntervertebralLaw(200.0, 0.1, 0.1, 10.0)


# --------------------------------------------------------------------------------------------
# hip passive moment (Riener & Edrich 1999)
# --------------------------------------------------------------------------------------------
def test_hip_passive_moment_at_neutral():
    # per leg, hip 0°, knee 0°: exp(1.4655) − exp(1.3403) + 8.072 ≈ 8.58 N·m of hip flexion on the
    # thigh; biomech lumps both legs and reports the reaction on the pelvis, a clockwise
    # (anterior-tilt, negative) moment: −2 × 8.58
    per_leg = math.exp(1.4655) - math.exp(1.3403) + 8.072
    np.testing.assert_allclose(per_leg, 8.6, rtol=0, atol=0.05)
    moment, _ = hip_passive_moment(0.0, 0.0)
    np.testing.assert_allclose(moment, -2.0 * per_leg, rtol=1e-12, atol=0)
    moment_scaled, _ = hip_passive_moment(0.0, 0.0, scale=2.5)
    np.testing.assert_allclose(moment_scaled, 2.5 * moment, rtol=1e-12, atol=0)


def test_hip_passive_moment_is_restoring_and_its_slope_is_the_derivative():
    h = 1e-7
    for knee_deg in (0.0, 45.0, 90.0):
        q = np.linspace(-120.0, 25.0, 146) * DEG        # hip flexion 120° … extension 25°
        knee = knee_deg * DEG
        m, dm = hip_passive_moment(q, knee)
        fd = (hip_passive_moment(q + h, knee)[0] - hip_passive_moment(q - h, knee)[0]) / (2 * h)
        np.testing.assert_allclose(dm, fd, rtol=1e-6, atol=1e-6)
        assert np.all(dm < 0)
        # the hip's passive equilibrium lies in moderate flexion: the pelvis is pushed into anterior
        # tilt (negative) at neutral and into posterior tilt (positive) in deep flexion
        assert hip_passive_moment(0.0, knee)[0] < 0 < hip_passive_moment(-100 * DEG, knee)[0]


def test_problem_hip_passive_moment_uses_the_support_knee_angle(model):
    stiff = bm.make_model(hip_stiffness_scale=3.0)
    for support, m, scale in ((bm.Support("standing"), model, 1.0), (bm.Support("sitting"), model, 1.0),
                              (bm.Support("standing", knee_flexion_deg=40), stiff, 3.0)):
        p = bm.prepare(m, support=support)
        q = np.array(p.q_ref, float)
        q[0] = -0.3
        expected, slope = hip_passive_moment(-0.3, support.knee_deg * DEG, scale)
        np.testing.assert_allclose(bm.statics.passive_moments(p, q)[0][0], expected, rtol=1e-12, atol=0)
        np.testing.assert_allclose(bm.statics.passive_moments(p, q)[1][0], slope, rtol=1e-12, atol=0)


# --------------------------------------------------------------------------------------------
# Thelen (2003) curves
# --------------------------------------------------------------------------------------------
def test_thelen_curves_reference_values():
    f, df = force_length_active(np.array([1.0]))
    np.testing.assert_allclose(f, 1.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(df, 0.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(force_length_passive(np.array([1.0]))[0], 0.0, rtol=0, atol=1e-15)
    assert THELEN_E0 == 0.6
    np.testing.assert_allclose(force_length_passive(np.array([1.0 + THELEN_E0]))[0], 1.0, rtol=1e-12)
    # no passive force below the optimal length; the active curve is a symmetric bell
    assert np.all(force_length_passive(np.linspace(0.3, 1.0, 50))[0] == 0.0)
    x = np.linspace(0.0, 0.6, 31)
    np.testing.assert_allclose(force_length_active(1 + x)[0], force_length_active(1 - x)[0], rtol=1e-14)
    assert np.all(np.diff(force_length_active(1 + x)[0]) < 0)


def test_thelen_derivatives_are_finite_differences():
    h = 1e-7
    lt = np.concatenate((np.linspace(0.4, 0.99, 40), np.linspace(1.01, 1.8, 40)))
    for curve in (force_length_active, force_length_passive):
        f, df = curve(lt)
        fd = (curve(lt + h)[0] - curve(lt - h)[0]) / (2 * h)
        np.testing.assert_allclose(df, fd, rtol=1e-6, atol=1e-8, err_msg=curve.__name__)


# --------------------------------------------------------------------------------------------
# the muscle force law of a problem
# --------------------------------------------------------------------------------------------
def test_group_tension_is_shared_in_proportion_to_max_force(model, rng):
    p = bm.prepare(model, settings={"psoas": bm.MuscleSetting(tension_N=300),
                                    "iliacus_main": bm.MuscleSetting(tension_N=55)})
    idx = model.group_lines("psoas")
    il = model.muscle_names.index("iliacus_main")
    for q in (p.q_ref, p.q_ref + rng.uniform(-0.2, 0.2, 7)):
        F = bm.statics.muscle_forces(p, bm.geometry(p, q).length)
        np.testing.assert_allclose(F[idx].sum(), 300.0, rtol=1e-12)
        fmax = model.max_isometric_force[idx]
        np.testing.assert_allclose(F[idx], 300.0 * fmax / fmax.sum(), rtol=1e-12)
        np.testing.assert_allclose(F[il], 55.0, rtol=1e-15)
        assert np.all(p.lines.activation[idx] == 0.0) and p.lines.fixed_tension[idx].all()


def test_muscle_force_law_and_short_range_stiffness(model):
    # F = F_max cos α [a_eff(L) f_L(l̃) + f_PE(l̃)] (hip-crossing lines: passive force only in
    # excess of the default muscle's); at the set-point length a_eff = a and the stiffness of the
    # active force is q F_active / l_fibre plus the slope of the force-length curves
    a_set = 0.2
    p = bm.prepare(model, settings={"erector_spinae": bm.MuscleSetting(activation=a_set),
                                    "gluteus_maximus": bm.MuscleSetting(activation=a_set)},
                   short_range_stiffness=40)
    L = p.lines.L_ref
    cos_a = np.cos(model.pennation)
    fmax = model.max_isometric_force * cos_a
    lt = (L - p.lines.lts) / (p.lines.lopt * cos_a)
    fl, dfl = force_length_active(lt)
    fpe, dfpe = force_length_passive(lt)
    passive = np.where(model.crosses_hip, 0.0, fpe)
    dpassive = np.where(model.crosses_hip, 0.0, dfpe)
    F = bm.statics.muscle_forces(p, L)
    np.testing.assert_allclose(F, np.maximum(fmax * (p.lines.activation * fl + passive), 0.0),
                               rtol=1e-12, atol=1e-12)
    h = 1e-8
    k_fd = (bm.statics.muscle_forces(p, L + h) - bm.statics.muscle_forces(p, L - h)) / (2 * h)
    k = (40 * p.lines.activation * fmax * fl / (L - p.lines.lts)
         + fmax * (p.lines.activation * dfl + dpassive) / (p.lines.lopt * cos_a))
    for g in ("erector_spinae", "gluteus_maximus"):
        idx = model.group_lines(g)
        np.testing.assert_allclose(p.lines.activation[idx], a_set, rtol=0, atol=0)
        np.testing.assert_allclose(k_fd[idx], k[idx], rtol=1e-5, atol=1e-3, err_msg=g)
    # without short-range stiffness only the force-length slopes remain
    p0 = bm.prepare(model, settings={"erector_spinae": bm.MuscleSetting(activation=a_set)},
                    short_range_stiffness=0)
    k0_fd = (bm.statics.muscle_forces(p0, L + h) - bm.statics.muscle_forces(p0, L - h)) / (2 * h)
    idx = model.group_lines("erector_spinae")
    np.testing.assert_allclose(k0_fd[idx], (fmax * (a_set * dfl + dpassive) / (p.lines.lopt * cos_a))[idx],
                               rtol=1e-5, atol=1e-3)


def test_muscle_forces_never_push(model, rng):
    p = bm.prepare(model, settings={"erector_spinae": bm.MuscleSetting(activation=1.0)})
    for _ in range(5):
        L = p.lines.L_ref * rng.uniform(0.5, 1.5, p.lines.L_ref.size)
        F = bm.statics.muscle_forces(p, L)
        assert np.all(np.isfinite(F)) and np.all(F >= 0)


# --------------------------------------------------------------------------------------------
# MuscleSetting validation
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    (dict(tension_N=100, activation=0.2), r"exactly one of tension_N, activation, resting_length_scale"),
    (dict(), r"exactly one of tension_N, activation, resting_length_scale; got none"),
    (dict(activation=1.2), r"MuscleSetting\.activation must be a number from 0 to 1, got 1\.2"),
    (dict(activation=-0.1), r"activation must be a number from 0 to 1"),
    (dict(tension_N=-5.0), r"tension_N must be a number from 0 to 10000, got -5\.0"),
    (dict(tension_N=2e4), r"tension_N must be a number from 0 to 10000"),   # as in a scenario
    (dict(tension_N=float("nan")), r"tension_N must be a finite number"),
    (dict(activation=float("nan")), r"activation must be a finite number"),
    (dict(resting_length_scale=2.0), r"resting_length_scale must be a number from 0\.5 to 1\.5"),
])
def test_muscle_setting_validation(kwargs, match):
    with pytest.raises(bm.ModelError, match=match):
        bm.MuscleSetting(**kwargs)


def test_unknown_muscle_name_is_rejected(model):
    with pytest.raises(bm.ModelError, match=r"unknown muscle group or line 'psaos'.*did you mean 'psoas'"):
        bm.prepare(model, settings={"psaos": bm.MuscleSetting(tension_N=10)})

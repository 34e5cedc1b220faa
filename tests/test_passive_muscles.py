# Constitutive laws: intervertebral moment-angle laws (lumbar, thoracic, cervical), the legs'
# passive moments at the hip, knee and ankle (Riener & Edrich 1999, `LegLaw`), Thelen (2003)
# muscle curves, the muscle force law in a problem, and MuscleSetting validation.

import math

import numpy as np
import pytest

import biomech as bm
from biomech.muscles import (PASSIVE_ONSET_WIDTH, THELEN_E0, THELEN_KPE, force_length_active,
                             force_length_passive)
from biomech.problem import CONTACT_PRELOAD_M
from biomech.supports import CONTACT_SMOOTHING_M, contact_law
from biomech.names import LEG_JOINTS, LUMBAR_LEVELS, SPINAL_JOINTS, THORACIC_JOINTS
from biomech.passive import (DEFAULT_ROM_DEG, DEFAULT_TEST_MOMENT_NM, PRELOAD_STIFFENING,
                             default_trunk_laws, hip_passive_moment, intervertebral_energy,
                             intervertebral_moment, leg_passive_moment)

DEG = math.pi / 180.0

_CUSTOM_LAWS = {
    "custom_stiff_extension": bm.IntervertebralLaw(20.0, 0.04, 0.12, 8.0, curvature=3.0),
    "custom_no_neutral_zone_stiffness": bm.IntervertebralLaw(0.0, 0.1, 0.05, 5.0, curvature=5.0),
}


def _laws():
    laws = dict(bm.default_intervertebral_laws())
    laws.update({f"trunk_{j}": law for j, law in default_trunk_laws().items()})
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
    # (Gardner-Morse & Stokes 2004), for the lumbar levels and T12/L1 (taken equal to L1-L2)
    laws = bm.default_intervertebral_laws()
    assert set(laws) == set(LUMBAR_LEVELS) | {"T12_L1"} == set(DEFAULT_ROM_DEG)
    for j, (ext_deg, flex_deg) in DEFAULT_ROM_DEG.items():
        law = laws[j]
        np.testing.assert_allclose(law.rom_extension_rad, ext_deg * DEG, rtol=1e-15)
        np.testing.assert_allclose(law.rom_flexion_rad, flex_deg * DEG, rtol=1e-15)
        np.testing.assert_allclose(law.test_moment_Nm, PRELOAD_STIFFENING * DEFAULT_TEST_MOMENT_NM,
                                   rtol=1e-15)
        # in vitro neutral-zone slope 0.45 N·m/° (an ASSUMPTION of passive.py), × 2.11 in vivo
        np.testing.assert_allclose(-_moment(law, 0.0)[1] * DEG, 0.45 * PRELOAD_STIFFENING, rtol=1e-12)
    assert DEFAULT_ROM_DEG["L4_L5"] == (5.8, 8.9) and DEFAULT_ROM_DEG["L5_S1"] == (7.8, 10.0)
    assert DEFAULT_ROM_DEG["T12_L1"] == DEFAULT_ROM_DEG["L1_L2"]
    scaled = bm.default_intervertebral_laws(2.0)
    for j, law in laws.items():
        assert scaled[j] == law.scaled(2.0)


def test_thoracic_laws_are_wilke_segments_in_series_with_the_rib_cage():
    # passive.py: each thoracic joint stands for the four motion segments of its region, the
    # ribs included (T8_T9: T8/T9-T11/T12, T4_T5: T4/T5-T7/T8). Per segment 7° of
    # flexion-extension range of motion (flexion + extension, symmetric) at ±7.5 N·m, without
    # preload, below T2 (Wilke HJ, Herkommer A, Werner K, Liebsch C (2017) PLoS One
    # 12:e0177823); the intact rib cage: removing the anterior rib cage raised it by 52.2 %
    # (Liebsch C et al. (2017) PLoS One 12:e0178733): 4 × 7° / 1.522 = 18.4°, ±9.2°. Stiffened by
    # the lumbar preload factor 2.11 (Gardner-Morse & Stokes 2004; an ASSUMPTION for the thorax),
    # neutral-zone slope the lumbar default's 0.45 N·m/° per segment (×2.11), four in series
    laws = default_trunk_laws()
    assert set(laws) == set(THORACIC_JOINTS) | {"C7_T1"}
    assert laws["T8_T9"] == laws["T4_T5"]
    half_deg = 4 * 7.0 / 1.522 / 2
    np.testing.assert_allclose(half_deg, 9.2, rtol=0, atol=0.01)
    for joint in THORACIC_JOINTS:
        law = laws[joint]
        np.testing.assert_allclose(law.test_moment_Nm, PRELOAD_STIFFENING * 7.5, rtol=1e-12)
        assert law.curvature == 4.0
        np.testing.assert_allclose([law.rom_extension_rad / DEG, law.rom_flexion_rad / DEG], half_deg, rtol=1e-12)
        np.testing.assert_allclose(-_moment(law, 0.0)[1] * DEG, PRELOAD_STIFFENING * 0.45 / 4, rtol=1e-12)   # N·m/°
        m, _ = _moment(law, np.array([half_deg, -half_deg]) * DEG)
        np.testing.assert_allclose(m, [-PRELOAD_STIFFENING * 7.5, PRELOAD_STIFFENING * 7.5], rtol=1e-12)
        # four segments in series: the range of one segment's law at the same moment is a quarter
        one = bm.IntervertebralLaw(law.k0_Nm_per_rad * 4, law.rom_extension_rad / 4, law.rom_flexion_rad / 4,
                                   law.test_moment_Nm)
        np.testing.assert_allclose(one.rom_extension_rad * 2 / DEG * 1.522, 7.0, rtol=1e-12)
    # and the model's physiological range of a thoracic joint is that range widened by 1.5
    m = bm.build_model()
    for joint in THORACIC_JOINTS:
        k = m.joint_index(joint)
        np.testing.assert_allclose(np.degrees(m.joint_range[k] - m.rest_angle[k]), [-1.5 * half_deg, 1.5 * half_deg],
                                   rtol=1e-9)


def test_cervical_law_is_the_whole_neck():
    # passive.py: C7_T1 stands for the cervical spine with the occipital joints, in series with
    # the T1/T4 region. Range of motion in flexion-extension 40° (skull-C2) + 82° (C2-T1) = 122°
    # (Vasavada AN, Li S, Delp SL (1998) Spine 23:412-422, Table 2), split equally (ASSUMPTION),
    # at 10 N·m, the largest passive moment living subjects tolerated (McGill SM et al. (1994)
    # Clin Biomech 9:193-198); neutral-zone stiffness: six cervical segments of 1.03 N·m/° each
    # (Voo LM et al. (1998) J Biomech Eng 120:693-696) in series with T1/T4's 1.05 N·m/°
    # (Mannen 2018): 1 / (6/1.03 + 1/1.05) = 0.147 N·m/°
    law = default_trunk_laws()["C7_T1"]
    assert law.test_moment_Nm == 10.0
    np.testing.assert_allclose([law.rom_extension_rad / DEG, law.rom_flexion_rad / DEG], 61.0, rtol=1e-12)
    k0 = -_moment(law, 0.0)[1] * DEG
    np.testing.assert_allclose(k0, 1.0 / (6.0 / 1.03 + 1.0 / 1.05), rtol=1e-12)
    np.testing.assert_allclose(k0, 0.147, rtol=0, atol=1e-3)         # 0.1475
    m, _ = _moment(law, np.array([61.0, -61.0]) * DEG)
    np.testing.assert_allclose(m, [-10.0, 10.0], rtol=1e-12)
    # softer than a thoracic region over a far wider range: the neck is where the head's posture
    # is made
    thoracic = default_trunk_laws()["T8_T9"]
    assert k0 < -_moment(thoracic, 0.0)[1] * DEG and law.rom_flexion_rad > 5 * thoracic.rom_flexion_rad


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
    assert set(laws) == set(SPINAL_JOINTS)               # lumbar, thoracic and the neck
    for name, law in laws.items():
        j = model.joint_index(name)
        for dtheta, expected in ((law.rom_extension_rad, -law.test_moment_Nm),
                                 (-law.rom_flexion_rad, law.test_moment_Nm), (0.0, 0.0)):
            q = np.array(model.rest_angle, float)
            q[j] += dtheta
            np.testing.assert_allclose(bm.statics.passive_moments(p, q)[0][j], expected, rtol=1e-12, atol=1e-12)
    # the reported slopes are the derivatives of the passive moments (legs, spine and neck)
    n = model.n_joints
    for support in (bm.Support("standing"), bm.Support("sitting"), bm.Support("lying")):
        p = bm.prepare(model, support=support)
        q = np.array(p.q_ref, float) + np.linspace(-0.05, 0.06, n)
        h = 1e-7
        slope = bm.statics.passive_moments(p, q)[1]
        for j in range(n):
            e = np.zeros(n)
            e[j] = h
            fd = (bm.statics.passive_moments(p, q + e)[0][j] - bm.statics.passive_moments(p, q - e)[0][j]) / (2 * h)
            np.testing.assert_allclose(slope[j], fd, rtol=1e-6, atol=1e-6, err_msg=model.joints[j])
        # each joint's moment depends on its own angle only (the leg laws' neighbours are held
        # at the reference posture): the passive stiffness is diagonal, as the solver assumes
        e = np.zeros(n)
        e[model.joint_index("hip")] = 0.1
        changed = bm.statics.passive_moments(p, q + e)[0] != bm.statics.passive_moments(p, q)[0]
        assert list(np.flatnonzero(changed)) == [model.joint_index("hip")]


def test_intervertebral_law_validation():
    with pytest.raises(bm.ModelError, match=r"IntervertebralLaw\.rom_flexion_rad must be > 0"):
        bm.IntervertebralLaw(10.0, 0.1, -0.1, 10.0)
    with pytest.raises(bm.ModelError, match=r"k0_Nm_per_rad must be >= 0"):
        bm.IntervertebralLaw(-1.0, 0.1, 0.1, 10.0)
    with pytest.raises(bm.ModelError, match=r"neutral-zone stiffness alone exceeds the test moment"):
        bm.IntervertebralLaw(200.0, 0.1, 0.1, 10.0)


# --------------------------------------------------------------------------------------------
# the legs' passive moments (Riener & Edrich 1999)
# --------------------------------------------------------------------------------------------
def riener_edrich_per_leg(joint, hip_flexion_deg, knee_flexion_deg, ankle_plantarflexion_deg):
    """The published laws (passive.py's comment, Riener R, Edrich T (1999) J Biomech 32:539-544),
    per leg, angles in degrees: + = hip flexion, knee flexion, ankle plantarflexion moment on the
    distal segment. Written out here from the paper's coefficients, independently of passive.py."""
    h, k, a = hip_flexion_deg, knee_flexion_deg, ankle_plantarflexion_deg
    if joint == "hip":
        return math.exp(1.4655 - 0.0034 * k - 0.0750 * h) - math.exp(1.3403 - 0.0226 * k + 0.0305 * h) + 8.072
    if joint == "knee":
        return (math.exp(1.800 - 0.0460 * a - 0.0352 * k + 0.0217 * h)
                - math.exp(-3.971 - 0.0004 * a + 0.0495 * k - 0.0128 * h) - 4.820 + math.exp(2.220 - 0.150 * k))
    return math.exp(2.1016 - 0.0843 * a - 0.0176 * k) - math.exp(-7.9763 + 0.1949 * a + 0.0008 * k) - 1.792


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
    assert leg_passive_moment("hip", 0.0, 0.3, 0.0, 0.1)[0] == hip_passive_moment(0.0, 0.0)[0]


def test_knee_and_ankle_passive_moments_at_neutral():
    # knee: exp(1.8) − exp(−3.971) − 4.820 + exp(2.220) ≈ 10.4 N·m of knee flexion per leg at full
    # extension (the knee's passive equilibrium lies in flexion); ankle: exp(2.1016) −
    # exp(−7.9763) − 1.792 ≈ 6.4 N·m of plantarflexion per leg with the foot at 90°. On the
    # superior body (femur on the shank, shank on the foot) these turn it counter-clockwise,
    # the way the joint's coordinate grows: + (passive.leg_passive_moment)
    knee = math.exp(1.8) - math.exp(-3.971) - 4.820 + math.exp(2.220)
    ankle = math.exp(2.1016) - math.exp(-7.9763) - 1.792
    np.testing.assert_allclose([knee, ankle], [10.4, 6.4], rtol=0, atol=0.05)
    np.testing.assert_allclose(leg_passive_moment("knee", 0.0, 0.0, 0.0, 0.0)[0], 2 * knee, rtol=1e-12)
    np.testing.assert_allclose(leg_passive_moment("ankle", 0.0, 0.0, 0.0, 0.0)[0], 2 * ankle, rtol=1e-12)
    np.testing.assert_allclose(leg_passive_moment("ankle", 0.0, 0.0, 0.0, 0.0, scale=0.5)[0], ankle, rtol=1e-12)
    assert leg_passive_moment("knee", 0.0, 0.0, 0.0, 0.0, scale=0.0)[0] == 0.0


@pytest.mark.parametrize("joint", LEG_JOINTS)
def test_leg_laws_are_the_published_laws(joint, rng):
    # at random angles of all three joints: biomech's moment on the superior body is ± 2 × the
    # paper's per-leg law (hip: q = −hip flexion and the moment acts on the pelvis, opposite to
    # the thigh's; knee: q = knee flexion; ankle: q = plantarflexion)
    for _ in range(50):
        h, k, a = rng.uniform(-20, 110), rng.uniform(0, 120), rng.uniform(-20, 40)
        q = {"hip": -h, "knee": k, "ankle": a}[joint] * DEG
        scale = rng.uniform(0.1, 3.0)
        ours = leg_passive_moment(joint, q, h * DEG, k * DEG, a * DEG, scale)[0]
        sign = -1.0 if joint == "hip" else 1.0
        np.testing.assert_allclose(ours, sign * 2 * scale * riener_edrich_per_leg(joint, h, k, a), rtol=1e-12)


@pytest.mark.parametrize("joint", LEG_JOINTS)
def test_leg_laws_are_restoring_and_their_slopes_are_the_derivatives(joint):
    h = 1e-7
    lo, hi = {"hip": (-120.0, 25.0), "knee": (-5.0, 140.0), "ankle": (-35.0, 55.0)}[joint]
    q = np.linspace(lo, hi, 146) * DEG
    for partners in ((0.0, 0.0, 0.0), (45.0, 45.0, -10.0), (90.0, 90.0, 20.0)):
        par = tuple(v * DEG for v in partners)
        m, dm = leg_passive_moment(joint, q, *par)
        fd = (leg_passive_moment(joint, q + h, *par)[0] - leg_passive_moment(joint, q - h, *par)[0]) / (2 * h)
        np.testing.assert_allclose(dm, fd, rtol=1e-6, atol=1e-6)
        assert np.all(dm < 0)                      # strictly restoring: one passive equilibrium
        assert m[0] > 0 > m[-1], (joint, partners)  # and it lies inside the normal range
        # scaling the law scales moment and slope
        m2, dm2 = leg_passive_moment(joint, q, *par, scale=2.5)
        np.testing.assert_allclose([m2, dm2], [2.5 * m, 2.5 * dm], rtol=1e-12)
    if joint == "hip":
        # the hip's passive equilibrium lies in moderate flexion: the pelvis is pushed into
        # anterior tilt (negative) at neutral and into posterior tilt (positive) in deep flexion
        for knee_deg in (0.0, 45.0, 90.0):
            knee = knee_deg * DEG
            assert hip_passive_moment(0.0, knee)[0] < 0 < hip_passive_moment(-100 * DEG, knee)[0]
            np.testing.assert_allclose(hip_passive_moment(q, knee)[1],
                                       leg_passive_moment("hip", q, 0.0, knee, 0.0)[1], rtol=1e-15)


def test_two_joint_muscles_couple_the_leg_laws():
    # the neighbouring angles enter through the two-joint muscles: in deep hip flexion a flexed
    # knee slackens the hamstrings, so less of a posterior-tilt moment acts on the pelvis (the
    # straight-leg raise is the one the hamstrings limit); dorsiflexing the ankle stretches the
    # gastrocnemius, which pulls the knee into flexion
    deep = -100 * DEG
    assert leg_passive_moment("hip", deep, 100 * DEG, 90 * DEG, 0.0)[0] < leg_passive_moment("hip", deep, 100 * DEG, 0.0, 0.0)[0]
    assert leg_passive_moment("knee", 0.0, 0.0, 0.0, -15 * DEG)[0] > leg_passive_moment("knee", 0.0, 0.0, 0.0, 15 * DEG)[0]


@pytest.mark.parametrize("kwargs, match", [
    (dict(joint="L5_S1"), r"LegLaw\.joint must be one of hip, knee, ankle, got 'L5_S1'"),
    (dict(joint="Knee"), r"LegLaw\.joint must be one of hip, knee, ankle, got 'Knee'"),
    (dict(scale=-0.1), r"LegLaw\.scale must be a number within 0-10, got -0\.1"),
    (dict(scale=10.5), r"LegLaw\.scale must be a number within 0-10, got 10\.5"),
    (dict(scale=True), r"LegLaw\.scale must be a number within 0-10, got True"),
    (dict(scale="1"), r"LegLaw\.scale must be a number within 0-10, got '1'"),
    (dict(scale=float("nan")), r"LegLaw\.scale must be a number within 0-10, got nan"),
    (dict(scale=None), r"LegLaw\.scale must be a number within 0-10, got None"),
])
def test_leg_law_validation(kwargs, match):
    with pytest.raises(bm.ModelError, match=match):
        bm.LegLaw(**kwargs)


def test_leg_laws_are_values():
    assert bm.LegLaw() == bm.LegLaw("hip", 1.0) and bm.LegLaw("knee", 0.0).scale == 0.0
    assert bm.LegLaw("ankle", 2) == bm.LegLaw("ankle", 2.0) and bm.LegLaw("knee") != bm.LegLaw("ankle")
    assert isinstance(bm.LegLaw(), bm.passive.PassiveLaw)


def test_problem_leg_laws_use_the_support_reference_angles(model):
    # each leg law is evaluated with its neighbours at the support's reference posture
    # (the partners of Problem.leg_joints = hip flexion, knee flexion, ankle plantarflexion there)
    stiff = bm.make_model(hip_stiffness_scale=3.0)
    for support, m, scale in ((bm.Support("standing"), model, 1.0), (bm.Support("sitting"), model, 1.0),
                              (bm.Support("lying"), model, 1.0),
                              (bm.Support("standing", knee_flexion_deg=40), stiff, 3.0)):
        p = bm.prepare(m, support=support)
        hip, knee, ankle = (m.joint_index(j) for j in ("hip", "knee", "ankle"))
        partner = (-p.q_ref[hip], p.q_ref[knee], p.q_ref[ankle])
        for _, _, _, partners in p.leg_joints:
            np.testing.assert_allclose(partners, partner, rtol=0, atol=0)
        np.testing.assert_allclose(p.q_ref[knee], support.knee_deg * DEG, rtol=0, atol=1e-15)
        q = np.array(p.q_ref, float)
        q[[hip, knee, ankle]] += (-0.3, 0.2, -0.1)
        M, dM = bm.statics.passive_moments(p, q)
        for j in (hip, knee, ankle):
            expected, slope = leg_passive_moment(m.joints[j], q[j], *partner, scale)
            np.testing.assert_allclose([M[j], dM[j]], [expected, slope], rtol=1e-12, atol=0, err_msg=m.joints[j])


# --------------------------------------------------------------------------------------------
# the support contacts' law (supports.contact_law)
# --------------------------------------------------------------------------------------------
def test_contact_law_is_smooth_one_sided_and_conservative():
    # 0 for pen ≤ 0, k pen² / (2δ) over the smoothing width δ, k (pen − δ/2) beyond: continuous
    # with its slope, so it derives from a potential and the solvers see its stiffness
    k = 1e5
    d = CONTACT_SMOOTHING_M
    pen = np.concatenate([np.linspace(-3 * d, 5 * d, 801), [0.0, d, 2 * d]])
    f, df = contact_law(pen, np.full(pen.size, k))
    assert np.all(f[pen <= 0] == 0.0) and np.all(df[pen <= 0] == 0.0) and np.all(f[pen > 0] > 0)
    np.testing.assert_allclose(f[-3:], [0.0, 0.5 * k * d, 1.5 * k * d], rtol=1e-12)
    np.testing.assert_allclose(df[-3:], [0.0, k, k], rtol=1e-12)
    h = 1e-9
    fd = (contact_law(pen + h, k)[0] - contact_law(pen - h, k)[0]) / (2 * h)
    away = np.abs(pen) > 2 * h
    np.testing.assert_allclose(df[away], fd[away], rtol=1e-6, atol=1e-6 * k)
    assert np.all(np.diff(f[:801]) >= 0)
    # the preload of the surfaces (problem.CONTACT_PRELOAD_M) puts them at the end of the
    # smoothing: full stiffness from the first step
    assert CONTACT_PRELOAD_M == d and contact_law(np.array([CONTACT_PRELOAD_M]), k)[1][0] == k


# --------------------------------------------------------------------------------------------
# Thelen (2003) curves
# --------------------------------------------------------------------------------------------
def test_thelen_curves_reference_values():
    f, df = force_length_active(np.array([1.0]))
    np.testing.assert_allclose(f, 1.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(df, 0.0, rtol=0, atol=1e-15)
    assert THELEN_E0 == 0.6 and THELEN_KPE == 5.0
    np.testing.assert_allclose(force_length_passive(np.array([1.0 + THELEN_E0]))[0], 1.0, rtol=1e-12)
    # Thelen's curve outside its rounded onset, 1 ± w/2: nothing below, the exponential above
    w = PASSIVE_ONSET_WIDTH
    assert np.all(force_length_passive(np.linspace(0.3, 1.0 - w / 2, 50))[0] == 0.0)
    above = np.linspace(1.0 + w / 2, 1.8, 50)
    np.testing.assert_allclose(force_length_passive(above)[0],
                               np.expm1(THELEN_KPE * (above - 1) / THELEN_E0) / np.expm1(THELEN_KPE), rtol=1e-13)
    # inside it the ramp's corner is rounded, s = (l̃ − 1 + w/2)²/(2w): at l̃ = 1, s = w/8, and
    # the force and its slope run on continuously at both ends of the band
    np.testing.assert_allclose(force_length_passive(np.array([1.0]))[0],
                               np.expm1(THELEN_KPE * w / 8 / THELEN_E0) / np.expm1(THELEN_KPE), rtol=1e-13)
    for edge in (1.0 - w / 2, 1.0 + w / 2):
        (f0, f1), (d0, d1) = force_length_passive(np.array([edge - 1e-12, edge + 1e-12]))
        assert abs(f1 - f0) < 1e-12 and abs(d1 - d0) < 1e-9        # (the slope times 2e-12)
    # the active curve is a symmetric bell
    x = np.linspace(0.0, 0.6, 31)
    np.testing.assert_allclose(force_length_active(1 + x)[0], force_length_active(1 - x)[0], rtol=1e-14)
    assert np.all(np.diff(force_length_active(1 + x)[0]) < 0)


def test_thelen_derivatives_are_finite_differences():
    h = 1e-7
    lt = np.concatenate((np.linspace(0.4, 0.99, 40), np.linspace(0.996, 1.004, 9), np.linspace(1.01, 1.8, 40)))
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
    for q in (p.q_ref, p.q_ref + rng.uniform(-0.2, 0.2, model.n_joints)):
        F = bm.statics.muscle_forces(p, bm.geometry(p, q).length)
        np.testing.assert_allclose(F[idx].sum(), 300.0, rtol=1e-12)
        fmax = model.max_isometric_force[idx]
        np.testing.assert_allclose(F[idx], 300.0 * fmax / fmax.sum(), rtol=1e-12)
        np.testing.assert_allclose(F[il], 55.0, rtol=1e-15)
        assert np.all(p.lines.activation[idx] == 0.0) and p.lines.fixed_tension[idx].all()


def test_muscle_force_law_and_short_range_stiffness(model):
    # F = F_max cos α [a_eff(L) f_L(l̃) + f_PE(l̃)] (lines crossing a leg joint, `excess_passive`:
    # passive force only in excess of the default muscle's, which the Riener & Edrich laws
    # contain); at the set-point length a_eff = a and the stiffness of the
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
    passive = np.where(model.excess_passive, 0.0, fpe)
    dpassive = np.where(model.excess_passive, 0.0, dfpe)
    F = bm.statics.muscle_forces(p, L)
    np.testing.assert_allclose(F, np.maximum(fmax * (p.lines.activation * fl + passive), 0.0),
                               rtol=1e-12, atol=1e-12)
    h = 1e-8
    k_fd = (bm.statics.muscle_forces(p, L + h) - bm.statics.muscle_forces(p, L - h)) / (2 * h)
    k = (40 * p.lines.activation * fmax * fl / (L - p.lines.lts)
         + fmax * (p.lines.activation * dfl + dpassive) / (p.lines.lopt * cos_a))
    # the lines that cross only joints at their neutral angle, the added thoracic extensors, sit
    # at l̃ = 1, inside the passive curve's rounded onset: there it has a slope, no corner
    onset = np.abs(lt - 1.0) < 1e-9
    assert onset[model.group_lines("erector_spinae")].sum() == 6 and np.all(dfpe[onset] > 0)
    for g in ("erector_spinae", "gluteus_maximus"):
        idx = model.group_lines(g)
        np.testing.assert_allclose(p.lines.activation[idx], a_set, rtol=0, atol=0)
        np.testing.assert_allclose(k_fd[idx], k[idx], rtol=1e-5, atol=1e-3, err_msg=g)
    # a line crossing a leg joint whose fibres are shortened (resting_length_scale) counts the
    # passive force beyond its default muscle's: f_PE(l̃ shortened) − f_PE(l̃ default)
    tight = bm.prepare(model, settings={"psoas": bm.MuscleSetting(resting_length_scale=0.8)})
    idx = model.group_lines("psoas")
    assert model.excess_passive[idx].all()
    L_long = tight.lines.L_ref * 1.15                          # stretched: both passive curves act
    lt_tight = (L_long - tight.lines.lts) / (tight.lines.lopt * cos_a)
    lt_default = (L_long - model.tendon_slack_length) / (model.optimal_fiber_length * cos_a)
    a_eff = bm.statics.effective_activation(tight, L_long)          # with its stretch response
    expected = fmax * (a_eff * force_length_active(lt_tight)[0]
                       + force_length_passive(lt_tight)[0] - force_length_passive(lt_default)[0])
    F_tight = bm.statics.muscle_forces(tight, L_long)
    assert np.all(force_length_passive(lt_default)[0][idx] > 0)
    np.testing.assert_allclose(F_tight[idx], np.maximum(expected, 0.0)[idx], rtol=1e-12, atol=1e-9)
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

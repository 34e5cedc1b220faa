# Model sanity (masses, scaling, validation, immutability, baseline tone, reference posture)
# and the JSON result contract of conventions §5.

import dataclasses
import json
import math

import numpy as np
import pytest

import biomech as bm
from biomech.anatomy import (DE_LEVA_MALE, REFERENCE_PELVIC_TILT_DEG, REFERENCE_SEGMENTAL_SHARE,
                             THORACIC_EXTENSOR_SPANS, THORACIC_TO_LUMBAR_PARASPINAL, WALL_LANDMARKS,
                             neutral_standing_lengths)
from biomech.balance import balance_margins, reaction
from biomech.metrics import clinical_metrics
from biomech.muscles import DEFAULT_TONE
from biomech.names import BODIES, JOINTS, LEG_JOINTS, LUMBAR_LEVELS, METRICS, MUSCLE_GROUPS, SPINAL_JOINTS
from biomech.passive import default_trunk_laws
from biomech.results import PATCH_NAMES, SURFACE_NAMES
from biomech.statics import landmarks
from biomech.supports import contact_specs

TOL_NM = 1e-6


# --------------------------------------------------------------------------------------------
# the tree of the default model
# --------------------------------------------------------------------------------------------
def test_the_default_tree(model):
    # 13 bodies foot … head, 12 joints ankle … C7_T1, each joining the body below it to the one
    # above (biomech/names.py); the legs have the Riener & Edrich laws, the spine, thorax and
    # neck intervertebral laws (the thoracic and cervical ones from passive.default_trunk_laws)
    assert model.bodies == BODIES and model.joints == JOINTS
    assert (model.n_bodies, model.n_joints) == (len(BODIES), len(JOINTS)) == (13, 12)
    for j, name in enumerate(model.joints):
        assert (model.bodies[model.joint_inferior[j]], model.bodies[model.joint_superior[j]]) == \
            (BODIES[j], BODIES[j + 1]), name
    trunk = default_trunk_laws()
    for j, (name, law) in enumerate(zip(model.joints, model.passive)):
        if name in LEG_JOINTS:
            assert law == bm.LegLaw(name, 1.0), name
        elif name in trunk:
            assert law == trunk[name], name
        else:
            assert law == bm.default_intervertebral_laws()[name], name
    assert set(model.intervertebral) == set(SPINAL_JOINTS)
    # directions and landmarks sit on the bodies they describe
    assert {k: model.bodies[b] for k, (b, _) in model.plates.items()} == \
        {"T12_inferior": "thorax_lower", "T4_superior": "thorax_upper", "Frankfort": "head"}
    on = {"heel": "foot", "forefoot": "foot", "heel_back": "foot", "ankle": "shank", "calf_back": "shank",
          "knee": "femur", "thigh_back": "femur", "buttock": "pelvis", "ischial_tuberosity": "pelvis",
          "T12_L1_centre": "thorax_lower", "thorax_middle_back_inferior": "thorax_middle",
          "thorax_middle_back_superior": "thorax_middle", "T1_centre": "thorax_upper",
          "C7": "head", "occiput": "head", "glabella": "head"}
    assert {k: model.bodies[model.landmarks[k][0]] for k in on} == on
    assert set(model.muscle_group) == set(MUSCLE_GROUPS)
    bm.model.check_tree(model)


def test_removed_model_fields_are_gone(model):
    # issue 13: the legs are bodies now; a line crossing a leg joint is `excess_passive`
    for gone in ("knee_in_femur", "leg_mass", "leg_com_tibia", "crosses_hip"):
        assert not hasattr(model, gone), gone
    assert not hasattr(bm, "HipLaw")


def test_excess_passive_lines_are_those_crossing_a_leg_joint(model):
    # the Riener & Edrich laws contain the passive force of the muscles crossing the hip, knee
    # or ankle at their resting length: exactly those lines count only the excess (docs/model.md §5)
    p = bm.prepare(model, support=bm.Support("standing"))
    legs = {model.joint_index(j) for j in LEG_JOINTS}
    crossing = np.array([bool(legs & set(c)) for c in p.line_joints])
    np.testing.assert_array_equal(model.excess_passive, crossing)
    groups = {g for g, e in zip(model.muscle_group, model.excess_passive) if e}
    assert groups == {"psoas", "iliacus", "hamstrings", "gluteus_maximus", "rectus_femoris", "vasti",
                      "gastrocnemius", "soleus", "tibialis_anterior"}
    # the same from the lying problem (another root: the crossed joints do not depend on it)
    lying = bm.prepare(model, support=bm.Support("lying"))
    assert [set(c) for c in lying.line_joints] == [set(c) for c in p.line_joints]


def test_muscles_act_the_way_their_anatomy_says(model):
    # moment arms (the moment of a unit tension on the superior body, + counter-clockwise) at the
    # standing reference posture: plantarflexors lean the shank back on the foot (ankle +), the
    # tibialis anterior forward; the vasti extend the knee (knee q = flexion, −), the hamstrings
    # and gastrocnemius flex it; the thoracic extensor lines extend the one thoracic joint each
    # crosses; the neck extensors as a group extend C7_T1 and the flexors flex it
    p = bm.prepare(model, support=bm.Support("standing"))
    arm = -bm.geometry(p, p.q_ref).dLdq
    fmax = np.asarray(model.max_isometric_force)

    def arms(group, joint):
        return arm[model.group_lines(group), model.joint_index(joint)]
    for group, joint, sign in (("soleus", "ankle", 1), ("gastrocnemius", "ankle", 1),
                               ("tibialis_anterior", "ankle", -1), ("vasti", "knee", -1),
                               ("hamstrings", "knee", 1), ("gastrocnemius", "knee", 1),
                               ("rectus_femoris", "knee", -1), ("hamstrings", "hip", 1),
                               ("gluteus_maximus", "hip", 1), ("iliacus", "hip", -1), ("psoas", "hip", -1)):
        assert np.all(sign * arms(group, joint) > 0.01), (group, joint)
    for group, sign in (("neck_extensors", 1), ("neck_flexors", -1)):
        idx = model.group_lines(group)
        assert len(idx) and sign * fmax[idx] @ arm[idx, model.joint_index("C7_T1")] > 0, group
        assert {j for i in idx for j in p.line_joints[i]} == {model.joint_index("C7_T1")}, group
    for spans, joint in ((THORACIC_EXTENSOR_SPANS["T8_T9"], "T8_T9"), (THORACIC_EXTENSOR_SPANS["T4_T5"], "T4_T5")):
        for sup, inf in spans:
            i = model.muscle_names.index(f"erector_spinae_thoracic_{sup}_{inf}")
            assert p.line_joints[i] == (model.joint_index(joint),)
            assert 0.03 < arm[i, model.joint_index(joint)] < 0.06        # ≈ 4.5 cm (anatomy.py)


def test_thoracic_extensors_are_sized_from_the_paraspinal_cross_section():
    # anatomy._sized_thoracic_extensors: at T8/T9 and at T4/T5 the paraspinal lines crossing the
    # joint (extending it) supply, in the neutral configuration, the moment of 0.47 × the summed
    # F_max of the erector spinae and multifidus lines crossing L4/L5 at the added lines' mean
    # moment arm (0.47: the T9-T11 / L3-L5 paraspinal cross-sections of Sollmann et al. 2020,
    # (94.5 + 87.6) / (191.6 + 198.3)); and the three added lines of a joint share it equally
    np.testing.assert_allclose(THORACIC_TO_LUMBAR_PARASPINAL, 0.467, rtol=0, atol=5e-4)
    for subject in (bm.Subject(), bm.Subject(body_mass_kg=110, height_m=1.95, muscle_strength_scale=0.6)):
        m = bm.build_model(subject)
        fmax = np.asarray(m.max_isometric_force)
        paraspinal = np.isin(m.muscle_group, ("erector_spinae", "multifidus"))
        added = np.array([n.startswith("erector_spinae_thoracic_") for n in m.muscle_names])
        assert added.sum() == 6

        def arms(joint, h=1e-6):
            e = np.zeros(m.n_joints)
            e[m.joint_index(joint)] = h
            return -(neutral_standing_lengths(m, e)[0] - neutral_standing_lengths(m, -e)[0]) / (2 * h)
        lumbar = fmax[paraspinal & ~added & (np.abs(arms("L4_L5")) > 1e-9)].sum()
        for joint, spans in THORACIC_EXTENSOR_SPANS.items():
            r = arms(joint)
            new = [m.muscle_names.index(f"erector_spinae_thoracic_{a}_{b}") for a, b in spans]
            assert np.ptp(fmax[new]) == 0.0 and fmax[new[0]] > 0
            others = np.flatnonzero(added & ~np.isin(np.arange(m.n_muscles), new))
            assert np.all(r[new] > 0.03) and np.all(np.abs(r[others]) < 1e-9)   # one joint each
            old = paraspinal & ~added & (r > 0.0)
            assert fmax[old] @ r[old] > 0                    # the source models' lines help
            np.testing.assert_allclose(fmax[old] @ r[old] + fmax[new].sum() * r[new].mean(),
                                       THORACIC_TO_LUMBAR_PARASPINAL * lumbar * r[new].mean(), rtol=1e-9)


# --------------------------------------------------------------------------------------------
# masses and scaling
# --------------------------------------------------------------------------------------------
def test_masses_sum_to_body_mass(get_model, subject_key):
    m = get_model(subject_key)
    bm_kg = m.subject.body_mass_kg
    assert np.all(m.mass > 0)
    # the legs, the head and the arms are de Leva's (1996) segments (both legs lumped), the trunk
    # his trunk fraction split over pelvis, lumbar vertebrae and the three thoracic segments
    kg = {b: float(m.mass[m.body_index(b)]) for b in m.bodies}
    for body, fraction in (("foot", 2 * DE_LEVA_MALE["foot"]), ("shank", 2 * DE_LEVA_MALE["shank"]),
                           ("femur", 2 * DE_LEVA_MALE["thigh"]), ("head", DE_LEVA_MALE["head_neck"])):
        np.testing.assert_allclose(kg[body], fraction * bm_kg, rtol=1e-12, err_msg=body)
    arms = 2 * (DE_LEVA_MALE["upper_arm"] + DE_LEVA_MALE["forearm"] + DE_LEVA_MALE["hand"]) * bm_kg
    trunk = sum(kg[b] for b in ("pelvis", "L5", "L4", "L3", "L2", "L1", "thorax_lower", "thorax_middle",
                                "thorax_upper")) - arms
    # the thoracic segments' shares of the torso are stored to 6 decimals (legs_trunk.json: they
    # sum to 0.999999), so the total is exact to a part in 10⁶ only
    np.testing.assert_allclose(trunk, DE_LEVA_MALE["trunk"] * bm_kg, rtol=1e-6)
    np.testing.assert_allclose(m.mass.sum(), bm_kg, rtol=1e-6, atol=0)
    for support in (bm.Support("standing"), bm.Support("sitting"), bm.Support("lying"),
                    bm.Support("lying", legs="lifted")):
        # every body is a body of the problem: its weight acts whatever the support
        p = bm.prepare(m, support=support)
        np.testing.assert_array_equal(p.mass, m.mass)
        np.testing.assert_allclose(p.weight, m.mass[:, None] * support.gravity[None, :], rtol=1e-15)


def test_masses_scale_with_body_mass_and_lengths_with_height(get_model):
    a, b = get_model("default"), get_model("tall_heavy")
    mass_ratio = b.subject.body_mass_kg / a.subject.body_mass_kg
    length_ratio = b.subject.height_m / a.subject.height_m
    assert mass_ratio != 1 and length_ratio != 1
    assert a.subject.pelvic_incidence_deg == b.subject.pelvic_incidence_deg
    np.testing.assert_allclose(b.mass, mass_ratio * a.mass, rtol=1e-12, atol=0)
    # muscle forces with the 2/3 power of body mass (geometric similarity, docs/model.md §2),
    # the thoracic extensor lines (sized from the others' forces and moment arms) included
    np.testing.assert_allclose(b.max_isometric_force, mass_ratio ** (2 / 3) * a.max_isometric_force,
                               rtol=1e-9, atol=0)
    # every body-frame length scales with height ...
    for name in ("com", "joint_in_inferior", "joint_in_superior", "endplate_mid", "endplate_depth",
                 "pt_local", "pt_z", "optimal_fiber_length", "tendon_slack_length"):
        np.testing.assert_allclose(getattr(b, name), length_ratio * getattr(a, name), rtol=1e-12,
                                   atol=1e-15, err_msg=name)
    assert set(a.landmarks) == set(b.landmarks)
    for k, (body, loc) in a.landmarks.items():          # the wall landmarks (buttock, …) too
        assert b.landmarks[k][0] == body
        np.testing.assert_allclose(b.landmarks[k][1], length_ratio * loc, rtol=1e-12, atol=1e-15, err_msg=k)
    # ... every angle stays
    for name in ("joint_offset", "endplate_angle", "pennation", "reference_angle", "joint_range"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=0, atol=1e-12, err_msg=name)
    assert a.reference_pelvis_angle == pytest.approx(b.reference_pelvis_angle, abs=1e-12)
    assert {k: v for k, v in a.plates.items()} == {k: v for k, v in b.plates.items()}
    # the world geometry of the neutral configuration is the same figure, scaled about the hip
    # (the world origin), from the feet to the head
    for support in (bm.Support("standing"), bm.Support("lying")):
        pa, pb = bm.prepare(a, support=support), bm.prepare(b, support=support)
        zero = np.zeros(a.n_joints)
        ga, gb = bm.geometry(pa, zero), bm.geometry(pb, zero)
        np.testing.assert_allclose(gb.centres, length_ratio * ga.centres, rtol=0, atol=1e-12)
        np.testing.assert_allclose(gb.com, length_ratio * ga.com, rtol=0, atol=1e-12)
        np.testing.assert_allclose(gb.points, length_ratio * ga.points, rtol=0, atol=1e-12)
        np.testing.assert_allclose(gb.length, length_ratio * ga.length, rtol=1e-12, atol=0)
        np.testing.assert_allclose(gb.dLdq, length_ratio * ga.dLdq, rtol=0, atol=1e-12)
        # the support's reference posture is the same posture
        np.testing.assert_allclose(pb.q_ref, pa.q_ref, rtol=0, atol=1e-9)


def test_pelvic_incidence_rotates_the_sacrum_about_the_sacral_plate(get_model):
    # docs/model.md §2: a subject PI rotates the sacrum, L5_S1 and every sacral attachment about
    # the sacral-plate midpoint S by −(PI − 52°); H, the ilium, pubis and ischium stay
    a, b = get_model("default"), get_model("PI40")
    delta = -math.radians(b.subject.pelvic_incidence_deg - a.subject.pelvic_incidence_deg)
    c, s = math.cos(delta), math.sin(delta)
    rot = np.array([[c, -s], [s, c]])
    S = np.asarray(a.landmarks["S1_midpoint"][1])
    np.testing.assert_allclose(b.landmarks["S1_midpoint"][1], S, rtol=0, atol=1e-15)
    for name in ("hip_centre", "ASIS", "PSIS", "pubic_symphysis", "ischial_tuberosity"):
        np.testing.assert_allclose(b.landmarks[name][1], a.landmarks[name][1], rtol=0, atol=1e-15)
    np.testing.assert_allclose(b.landmarks["sacrum_posterior"][1],
                               S + rot @ (a.landmarks["sacrum_posterior"][1] - S), rtol=0, atol=1e-12)
    l5_s1 = a.joint_index("L5_S1")
    assert a.bodies[a.joint_inferior[l5_s1]] == "pelvis"
    np.testing.assert_allclose(b.joint_in_inferior[l5_s1], S + rot @ (a.joint_in_inferior[l5_s1] - S),
                               rtol=0, atol=1e-12)
    others = np.arange(a.n_joints) != l5_s1
    np.testing.assert_allclose(b.joint_offset[l5_s1] - a.joint_offset[l5_s1], delta, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(b.joint_offset[others], a.joint_offset[others])
    np.testing.assert_array_equal(b.joint_in_inferior[others], a.joint_in_inferior[others])
    np.testing.assert_allclose(b.endplate_angle[0] - a.endplate_angle[0], delta, rtol=0, atol=1e-12)
    sac = np.asarray(a.pt_sacral, bool)
    assert np.array_equal(sac, b.pt_sacral) and sac.sum() > 10
    np.testing.assert_allclose(b.pt_local[sac], S + (a.pt_local[sac] - S) @ rot.T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(b.pt_local[~sac], a.pt_local[~sac], rtol=0, atol=0)
    # the legs, the thorax and the head are not part of the pelvis: unchanged
    for body in ("foot", "shank", "femur", "thorax_lower", "thorax_middle", "thorax_upper", "head"):
        k = a.body_index(body)
        np.testing.assert_array_equal(b.com[k], a.com[k], err_msg=body)
    # the measured PI of the model is the subject's, in any posture
    for m in (a, b, get_model("PI65")):
        p = bm.prepare(m, support=bm.Support("standing"))
        for q in (p.q_ref, p.q_ref + 0.05):
            met = clinical_metrics(p, bm.geometry(p, q))
            assert met["pelvic_incidence_deg"] == pytest.approx(m.subject.pelvic_incidence_deg, abs=1e-9)


# --------------------------------------------------------------------------------------------
# validation and immutability
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    (dict(body_mass_kg=float("nan")), r"Subject\.body_mass_kg must be a finite number"),
    (dict(body_mass_kg=-75.0), r"Subject\.body_mass_kg must be a number from 30 to 200, got -75\.0"),
    (dict(body_mass_kg=True), r"Subject\.body_mass_kg must be a finite number"),
    (dict(height_m=float("inf")), r"Subject\.height_m must be a finite number"),
    (dict(height_m="1.75"), r"Subject\.height_m must be a finite number"),
    (dict(height_m=0.5), r"Subject\.height_m must be a number from 1\.2 to 2\.2"),
    (dict(pelvic_incidence_deg=10.0), r"Subject\.pelvic_incidence_deg must be a number from 20 to 90"),
    (dict(pelvic_incidence_deg=95.0), r"Subject\.pelvic_incidence_deg must be a number from 20 to 90"),
    (dict(muscle_strength_scale=0.1), r"Subject\.muscle_strength_scale must be a number from 0\.2 to 5"),
    (dict(tone_scale=-1.0), r"Subject\.tone_scale must be a number from 0 to 10"),
    (dict(tone_scale=None), r"Subject\.tone_scale must be a finite number"),
])
def test_bad_subjects_are_rejected(kwargs, match):
    with pytest.raises(bm.ModelError, match=match):
        bm.make_model(bm.Subject(**kwargs))


def test_build_model_rejects_a_non_subject():
    with pytest.raises(bm.ModelError, match=r"subject must be a biomech\.Subject, got dict"):
        bm.make_model({"body_mass_kg": 75})


def test_intervertebral_laws_are_validated():
    laws = bm.default_intervertebral_laws()
    partial = {j: law for j, law in laws.items() if j not in ("L5_S1", "T12_L1")}
    with pytest.raises(bm.ModelError, match=r"missing law for L5_S1, T12_L1"):
        bm.make_model(intervertebral=partial)
    misspelt = {("L4L5" if j == "L4_L5" else j): law for j, law in laws.items()}
    with pytest.raises(bm.ModelError, match=r"unknown spinal joint 'L4L5' \(did you mean "
                                            r"'L4_L5'\?\).*missing law for L4_L5"):
        bm.make_model(intervertebral=misspelt)
    with pytest.raises(bm.ModelError, match=r"unknown spinal joint 'hip'"):  # a LegLaw joint
        bm.make_model(intervertebral=laws | {"hip": laws["L1_L2"]})
    # the thoracic and neck joints keep their own laws (passive.default_trunk_laws)
    with pytest.raises(bm.ModelError, match=r"unknown spinal joint 'T8_T9'"):
        bm.make_model(intervertebral=laws | {"T8_T9": laws["L1_L2"]})
    with pytest.raises(bm.ModelError, match=r"'L1_L2' must be an IntervertebralLaw, got float"):
        bm.make_model(intervertebral=laws | {"L1_L2": 1.0})
    with pytest.raises(bm.ModelError, match=r"must be a mapping"):
        bm.make_model(intervertebral=[laws["L1_L2"]] * 6)


def test_replacement_laws_replace_the_lumbar_laws_only():
    stiff = {j: law.scaled(2.0) for j, law in bm.default_intervertebral_laws().items()}
    m = bm.build_model(intervertebral=stiff)
    trunk = default_trunk_laws()
    for j, law in zip(m.joints, m.passive):
        expected = stiff.get(j) or trunk.get(j) or bm.LegLaw(j)
        assert law == expected, j
    # and the ranges of the spinal joints follow their laws' ranges of motion (RANGE_WIDENING)
    base = bm.build_model()
    np.testing.assert_array_equal(m.joint_range, base.joint_range)


def test_building_models_leaves_the_shared_data_as_parsed():
    # build_model reads the data files parsed once (anatomy._parsed): building models of
    # different subjects must not change them, else one build would leak into the next
    from biomech import anatomy
    for subject in (bm.Subject(), bm.Subject(body_mass_kg=95, height_m=1.62, pelvic_incidence_deg=68)):
        bm.build_model(subject, hip_stiffness_scale=1.4)
    anatomy.muscle_line_names()
    for name in ("lumbopelvic.json", "legs_trunk.json"):
        assert anatomy._parsed(name) == json.loads(anatomy._data(name)), name


def test_a_model_does_not_depend_on_the_models_built_before_it():
    # build_model scales a template compiled once per process (anatomy._muscle_template,
    # _body_origins) and kinematics caches the path-sign matrix of each tree: building other
    # subjects in between must give the same model, to the bit, and the shared arrays are read-only
    from biomech import anatomy, kinematics
    def fields(m):
        return {f.name: getattr(m, f.name) for f in dataclasses.fields(m)
                if isinstance(getattr(m, f.name), np.ndarray)}
    first = fields(bm.build_model())
    other = bm.build_model(bm.Subject(body_mass_kg=52, height_m=1.55, pelvic_incidence_deg=75,
                                      muscle_strength_scale=0.7), hip_stiffness_scale=0.6)
    assert not np.array_equal(other.pt_local, first["pt_local"])     # a subject that differs
    again = fields(bm.build_model())
    for name, a in first.items():
        assert np.array_equal(a, again[name]), name
    template = anatomy._muscle_template()
    for key in ("local_m", "z_m", "max_isometric_force_N_per_side", "body", "sacral"):
        assert not template[key].flags.writeable, key
    S = kinematics.path_signs(other.joint_inferior, other.joint_superior, other.n_bodies, 0)
    assert not S.flags.writeable
    with pytest.raises(ValueError, match="not connected"):           # the check still runs
        kinematics.path_signs((0, 1), (1, 0), 3, 0)


def test_model_is_immutable(model):
    arrays = {f.name: getattr(model, f.name) for f in dataclasses.fields(model)
              if isinstance(getattr(model, f.name), np.ndarray)}
    assert {"mass", "com", "joint_in_inferior", "pt_local", "max_isometric_force", "excess_passive",
            "baseline_activation"} <= set(arrays)
    for name, a in arrays.items():
        assert not a.flags.writeable, name
        with pytest.raises(ValueError):
            a.flat[0] = a.flat[0]
    for name, (_, loc) in model.landmarks.items():
        assert not loc.flags.writeable, name
    for mapping in (model.landmarks, model.plates, model.intervertebral):
        with pytest.raises(TypeError):
            mapping["x"] = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.mass = np.zeros(model.n_bodies)


# --------------------------------------------------------------------------------------------
# baseline tone and the reference posture
# --------------------------------------------------------------------------------------------
def test_baseline_activations_are_within_bounds(get_model, subject_key):
    m = get_model(subject_key)
    a = np.asarray(m.baseline_activation)
    assert a.shape == (m.n_muscles,)
    assert np.all(np.isfinite(a)), f"{np.sum(~np.isfinite(a))} non-finite baseline activations"
    assert np.all((a >= 0.0) & (a <= 1.0))
    # never below the group's relaxed-standing EMG floor
    floor = np.array([DEFAULT_TONE[g] for g in m.muscle_group]) * m.subject.tone_scale
    assert np.all(a >= floor - 1e-12)


def test_strength_and_tone_scales(get_model):
    # strength multiplies every F_max exactly; the tone floors scale and the relaxed posture
    # is still held (test_reference_posture_is_an_equilibrium runs on the "weak_toned" subject)
    base, weak = get_model("default"), get_model("weak_toned")
    np.testing.assert_allclose(weak.max_isometric_force, 0.6 * base.max_isometric_force, rtol=1e-12)
    floor = np.array([DEFAULT_TONE[g] for g in weak.muscle_group])
    assert np.all(np.asarray(weak.baseline_activation) >= 2.0 * floor - 1e-12)
    assert np.mean(weak.baseline_activation) > np.mean(base.baseline_activation)


def test_reference_posture_is_an_equilibrium(get_model, subject_key):
    # the baseline tone is computed to hold the standing reference posture at every joint the
    # standing problem leaves free (hip and spine); the held ankles and knees take the rest,
    # and the feet stand on the floor: both the heels and the forefeet push
    p = bm.prepare(get_model(subject_key), support=bm.Support("standing"))
    assert p.locked == ("ankle", "knee") and p.model.bodies[p.root] == "foot"
    R = bm.residual(p, p.q_ref)
    free = p.B.any(1)
    assert np.max(np.abs(R[free])) < TOL_NM, f"max |R(q_ref)| = {np.max(np.abs(R[free])):.3g} N·m"
    assert np.max(np.abs(p.B.T @ R)) < TOL_NM
    assert np.all(np.abs(R[~free]) > 1.0)        # the locks do hold something
    assert balance_margins(p, reaction(p, bm.geometry(p, p.q_ref))).min() > 0.0


@pytest.mark.parametrize("thigh_deg", [0.0, 10.0])
def test_reference_posture_calibration(get_model, subject_key, thigh_deg):
    # docs/calibration.md: pelvis at PT 13°, trunk upright, segmental lordosis in the normative
    # proportions, the head level; the thigh inclination moves only the legs below the pelvis,
    # the foot stays flat on the floor
    m = get_model(subject_key)
    p = bm.prepare(m, support=bm.Support("standing", thigh_inclination_deg=thigh_deg))
    geo = bm.geometry(p, p.q_ref)
    met = clinical_metrics(p, geo)
    np.testing.assert_allclose(met["pelvic_tilt_deg"], REFERENCE_PELVIC_TILT_DEG, rtol=0, atol=1e-9)
    np.testing.assert_allclose(met["pelvic_incidence_deg"], m.subject.pelvic_incidence_deg, rtol=0, atol=1e-9)
    np.testing.assert_allclose(met["trunk_inclination_deg"], 0.0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(met["head_angle_deg"], 0.0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(met["knee_flexion_deg"], 0.0, rtol=0, atol=1e-12)
    share = np.array([REFERENCE_SEGMENTAL_SHARE[lv] for lv in LUMBAR_LEVELS])
    seg = np.array([met["segmental_lordosis_deg"][lv] for lv in LUMBAR_LEVELS])
    np.testing.assert_allclose(seg, met["lumbar_lordosis_deg"] * share / share.sum(), rtol=0, atol=1e-9)
    # the thoracic joints at their neutral (the source models' curve)
    for j in ("T8_T9", "T4_T5"):
        assert m.reference_angle[m.joint_index(j)] == 0.0
    # the femur axis (hip -> knee) at the requested inclination, + = knee forward
    knee = landmarks(p, geo, ("knee",))[0]
    v = knee - geo.centres[m.joint_index("hip")]
    np.testing.assert_allclose(math.degrees(math.atan2(v[0], -v[1])), thigh_deg, rtol=0, atol=1e-9)
    np.testing.assert_allclose(met["thigh_inclination_deg"], thigh_deg, rtol=0, atol=1e-9)
    # the foot flat: the root at angle 0, heel and forefoot at one height
    assert geo.angles[m.body_index("foot")] == 0.0
    heel, forefoot = landmarks(p, geo, ("heel", "forefoot"))
    assert forefoot[0] - heel[0] > 0.1 and abs(forefoot[1] - heel[1]) < 1e-12
    # the trunk is where the thigh inclination 0 puts it: the pelvis keeps its orientation
    np.testing.assert_allclose(geo.angles[m.body_index("pelvis")], m.reference_pelvis_angle, rtol=0, atol=1e-12)


def test_the_wall_landmarks_lie_on_one_vertical_plane(get_model, subject_key):
    # anatomy._with_wall_landmarks: in the relaxed standing posture a wall behind the body
    # touches the outermost of the back's landmarks; the buttock (level with sacrum_back) and the
    # ends of the middle thorax's resting patch (level with T8/T9 and T4/T5) lie on it
    m = get_model(subject_key)
    p = bm.prepare(m, support=bm.Support("standing"))
    geo = bm.geometry(p, p.q_ref)
    back = landmarks(p, geo, WALL_LANDMARKS)
    wall = back[:, 0].min()
    on = landmarks(p, geo, ("buttock", "thorax_middle_back_inferior", "thorax_middle_back_superior"))
    np.testing.assert_allclose(on[:, 0], wall, rtol=0, atol=1e-12)
    sacrum = landmarks(p, geo, ("sacrum_back",))[0]
    np.testing.assert_allclose(on[:, 1], [sacrum[1], geo.centres[m.joint_index("T8_T9"), 1],
                                          geo.centres[m.joint_index("T4_T5"), 1]], rtol=0, atol=1e-12)
    # lying is that posture laid on a table where the wall was: the middle thorax keeps its
    # orientation, the table (world x = const) touches the patch, every table contact lies on or
    # in front of it (only the legs are rotated down onto it at the hip)
    lp = bm.prepare(m, support=bm.Support("lying", legs="lifted"))
    lgeo = bm.geometry(lp, lp.q_ref)
    root = m.body_index("thorax_middle")
    assert lp.root == root
    np.testing.assert_allclose(lgeo.angles[root], geo.angles[root], rtol=0, atol=1e-12)
    np.testing.assert_allclose(lp.q_ref, p.q_ref, rtol=0, atol=1e-12)
    patch = landmarks(lp, lgeo, ("thorax_middle_back_inferior", "thorax_middle_back_superior"))
    assert abs(patch[0, 0] - patch[1, 0]) < 1e-12
    table = landmarks(lp, lgeo, [c.landmark for c in contact_specs(lp.support)])
    assert np.all(table[:, 0] >= patch[0, 0] - 1e-12)
    supported = bm.prepare(m, support=bm.Support("lying"))
    legs_on = landmarks(supported, bm.geometry(supported, supported.q_ref), ("thigh_back", "calf_back", "heel_back"))
    assert legs_on[:, 0].min() == pytest.approx(patch[0, 0], abs=1e-9)


# --------------------------------------------------------------------------------------------
# the JSON document (conventions §5)
# --------------------------------------------------------------------------------------------
def _is_float(x):
    return isinstance(x, float) and math.isfinite(x)


def _is_xy(v):
    return isinstance(v, list) and len(v) == 2 and all(_is_float(c) for c in v)


#: the metrics of the balance on the feet: defined standing, and sitting with free knees
FOOT_METRICS = ("centre_of_mass_mm", "centre_of_pressure_mm")
JSON_CASES = ["standing", "standing_load_L3", "sitting", "lying_supported", "lying_lifted_psoas_iliacus"]


@pytest.mark.parametrize("name", JSON_CASES)
def test_json_document(name, solve_case):
    r = solve_case(name)
    assert r.success, r.message
    doc = bm.to_dict(r)
    p = r.problem
    m = p.model
    balance = p.support.kind == "standing" or (p.support.kind == "sitting" and "knee" not in p.locked)
    for k in FOOT_METRICS:          # (their strict-JSON form: test_json_document_is_strict_json)
        if balance:
            assert _is_float(doc["metrics"][k]), k
        else:
            assert doc["metrics"][k] is None or math.isnan(doc["metrics"][k]), k
    plain = json.loads(json.dumps({**doc, "metrics": {k: v for k, v in doc["metrics"].items()
                                                      if k not in FOOT_METRICS}}, allow_nan=False))
    assert plain == {**doc, "metrics": plain["metrics"]}
    for key in ("biomech_version", "scenario", "status", "metrics", "bodies", "joints", "muscles",
                "external_loads", "gravity_m_s2", "support", "diagnostics", "model_notes"):
        assert key in doc, key
    assert isinstance(doc["biomech_version"], str) and doc["biomech_version"] == bm.__version__
    sc = doc["scenario"]
    assert isinstance(sc["name"], str) and isinstance(sc["file"], str)
    assert sc["mode"] == "equilibrium"
    st = doc["status"]
    assert set(st) >= {"code", "converged", "stable", "message", "max_residual_Nm", "iterations"}
    assert st["code"] == r.code.value and st["code"] in {c.value for c in bm.Status}
    assert isinstance(st["converged"], bool) and st["converged"] == r.converged
    assert st["stable"] is None or isinstance(st["stable"], bool)
    assert st["stable"] == r.stable
    assert isinstance(st["message"], str) and st["message"]
    assert _is_float(st["max_residual_Nm"])
    assert isinstance(st["iterations"], int) and not isinstance(st["iterations"], bool)
    met = doc["metrics"]
    assert set(met) >= set(METRICS) | {"segmental_lordosis_deg"}
    for k in set(METRICS) - set(FOOT_METRICS):
        assert _is_float(met[k]), k
    assert set(met["segmental_lordosis_deg"]) == set(LUMBAR_LEVELS)
    assert set(LUMBAR_LEVELS) == {"L1_L2", "L2_L3", "L3_L4", "L4_L5", "L5_S1"}
    assert all(_is_float(v) for v in met["segmental_lordosis_deg"].values())
    assert list(doc["bodies"]) == list(m.bodies) == list(BODIES)
    for b, body in doc["bodies"].items():
        assert _is_float(body["mass_kg"]) and body["mass_kg"] > 0 and _is_xy(body["com_m"]), b
    np.testing.assert_allclose(sum(body["mass_kg"] for body in doc["bodies"].values()),
                               m.subject.body_mass_kg, rtol=1e-6, atol=0)
    assert list(doc["joints"]) == list(m.joints) == list(JOINTS)
    rep = bm.posture_report(r)
    tau = doc["diagnostics"]["generalized_forces_Nm"]
    assert set(tau) == {"gravity", "external", "contact", "passive", "muscle", "abdominal_pressure"}
    for j, name_j in enumerate(m.joints):
        jt = doc["joints"][name_j]
        assert set(jt) >= {"inferior", "superior", "center_m", "angle_deg", "passive_moment_Nm",
                           "held_moment_Nm", "reaction_force_N", "compression_N", "shear_N"}
        assert (jt["inferior"], jt["superior"]) == (m.bodies[m.joint_inferior[j]], m.bodies[m.joint_superior[j]])
        assert _is_xy(jt["center_m"]) and _is_xy(jt["reaction_force_N"])
        for k in ("angle_deg", "passive_moment_Nm", "held_moment_Nm", "compression_N", "shear_N"):
            assert _is_float(jt[k]), (name_j, k)
        np.testing.assert_allclose(jt["angle_deg"], math.degrees(r.q[j]), rtol=0, atol=1e-12)
        np.testing.assert_allclose(jt["reaction_force_N"], rep.reaction[j], rtol=0, atol=1e-12)
        assert jt["passive_moment_Nm"] == tau["passive"][name_j]
        # a free joint's generalized forces balance; a held one's lock supplies the rest
        total = sum(tau[k][name_j] for k in tau)
        scale = sum(abs(tau[k][name_j]) for k in tau) + 1.0
        if name_j in p.locked:
            assert jt["held_moment_Nm"] == pytest.approx(-total, abs=1e-9 * scale)
        else:
            assert jt["held_moment_Nm"] == 0.0 and abs(total) < TOL_NM, name_j
    assert set(doc["muscles"]) == set(m.muscle_names)
    for i, line in enumerate(m.muscle_names):
        mu = doc["muscles"][line]
        assert set(mu) >= {"group", "force_N", "activation", "length_m", "max_isometric_force_N",
                           "path", "moment_arms_m"}
        assert mu["group"] in MUSCLE_GROUPS and line.startswith(mu["group"])
        assert _is_float(mu["force_N"]) and mu["force_N"] >= 0
        assert mu["activation"] is None or (_is_float(mu["activation"]) and 0 <= mu["activation"] <= 1)
        assert (mu["activation"] is None) == bool(p.lines.fixed_tension[i])
        assert _is_float(mu["length_m"]) and mu["length_m"] > 0
        assert _is_float(mu["max_isometric_force_N"]) and mu["max_isometric_force_N"] > 0
        assert (mu["optimal_fiber_length_m"], mu["tendon_slack_length_m"]) == (p.lines.lopt[i], p.lines.lts[i])
        assert mu["pennation_deg"] == pytest.approx(math.degrees(m.pennation[i]), abs=1e-12)
        assert isinstance(mu["path"], list) and len(mu["path"]) >= 2
        for pt in mu["path"]:
            assert set(pt) == {"body", "point_m", "lateral_m"} and pt["body"] in BODIES
            assert _is_xy(pt["point_m"]) and _is_float(pt["lateral_m"])
        # the path's 2D polyline is no longer than the 3D musculotendon length
        xy = np.array([pt["point_m"] for pt in mu["path"]])
        assert np.sum(np.linalg.norm(np.diff(xy, axis=0), axis=1)) <= mu["length_m"] + 1e-12
        arms = mu["moment_arms_m"]
        assert isinstance(arms, dict) and set(arms) <= set(JOINTS)
        assert bool(arms) == (mu["group"] != "transversus_abdominis"), line   # the hoop: on L3 alone
        for jn, v in arms.items():
            assert _is_float(v)
            np.testing.assert_allclose(v, rep.moment_arm[i, JOINTS.index(jn)], rtol=0, atol=1e-15)
        # joints a line does not cross are omitted, and have no moment arm
        for jn in set(JOINTS) - set(arms):
            assert abs(rep.moment_arm[i, JOINTS.index(jn)]) < 1e-15, (line, jn)
    # the lateral offsets are the ones the problem used (conditional points resolved)
    np.testing.assert_array_equal([pt["lateral_m"] for line in m.muscle_names
                                   for pt in doc["muscles"][line]["path"]], p.paths.z)
    loads = doc["external_loads"]
    assert isinstance(loads, list) and len(loads) == len(p.loads)
    for ld in loads:
        assert ld["body"] in BODIES and _is_xy(ld["point_m"]) and _is_xy(ld["force_N"])
    if name == "standing_load_L3":
        assert loads[0]["body"] == "L3"
        np.testing.assert_allclose(loads[0]["force_N"], [0.0, -10 * 9.81], rtol=0, atol=1e-12)
    assert _is_xy(doc["gravity_m_s2"])
    np.testing.assert_allclose(np.linalg.norm(doc["gravity_m_s2"]), 9.81, rtol=0, atol=1e-12)
    # the support: the compliant contacts (seat, seat_thigh, backrest, table) in the order of
    # supports.contact_specs, then the root's reaction at the two ends of its resting patch
    sup = doc["support"]
    assert sup["kind"] == p.support.kind and sup["held_joints"] == ["ankle", "knee"]
    assert ("legs" in sup) == (p.support.kind == "lying") and "backrest_inclination_deg" not in sup
    contacts = sup["contacts"]
    specs = contact_specs(p.support)
    patch = PATCH_NAMES[p.support.kind]
    assert [c["name"] for c in contacts] == [SURFACE_NAMES[s.surface] for s in specs] + list(patch)
    for c, spec, f, b in zip(contacts, specs, rep.contact_forces, rep.contact_bodies):
        assert set(c) == {"name", "body", "point_m", "force_N", "moment_Nm"}
        assert c["body"] == m.bodies[m.landmarks[spec.landmark][0]] == m.bodies[b]
        assert c["force_N"] == f.tolist() and c["moment_Nm"] == 0.0
        assert np.dot(c["force_N"], spec.normal) >= 0.0                  # a surface only pushes
    ends = contacts[len(specs):]
    root = m.bodies[p.root]
    assert all(c["body"] == root and c["moment_Nm"] == 0.0 for c in ends)
    assert root == ("thorax_middle" if p.support.kind == "lying" else "foot")
    np.testing.assert_allclose([c["point_m"] for c in ends],
                               landmarks(p, rep.geometry, (p.patch.a, p.patch.b)), rtol=0, atol=1e-15)
    # the whole body balances: weights, loads and every support force
    weights = sum(np.array(b["mass_kg"]) * np.array(doc["gravity_m_s2"]) for b in doc["bodies"].values())
    total = weights + sum(np.array(ld["force_N"]) for ld in loads) + sum(np.array(c["force_N"]) for c in contacts)
    np.testing.assert_allclose(total, 0.0, atol=1e-9 * np.abs(weights).sum())


@pytest.mark.parametrize("name", [
    "standing", "standing_load_L3", "sitting", "lying_supported",
])
def test_json_document_is_strict_json(name, solve_case):
    doc = bm.to_dict(solve_case(name))
    text = json.dumps(doc, allow_nan=False)
    assert json.loads(text) == doc


@pytest.fixture(scope="module")
def upright_standing(model):
    from biomech.upright import UprightTarget, solve_upright
    return solve_upright(bm.prepare(model, support=bm.Support("standing"), locked_joints=()), UprightTarget())


def test_json_document_of_the_upright_mode(upright_standing):
    # the upright mode frees every joint: nothing is held, every joint balances on its own, and
    # the person stands on heels and forefeet, both pushing
    r = upright_standing
    assert r.success, r.message
    with pytest.raises(bm.ModelError, match="pass mode='upright' or mode='inverse'"):
        bm.to_dict(r)
    doc = bm.to_dict(r, mode="upright")
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc
    assert doc["scenario"]["mode"] == "upright" and doc["support"]["held_joints"] == []
    assert doc["recruitment"]["recruited_lines"] and doc["recruitment"]["effort"] > 0
    tau = doc["diagnostics"]["generalized_forces_Nm"]
    for name, jt in doc["joints"].items():
        assert jt["held_moment_Nm"] == 0.0
        assert abs(sum(tau[k][name] for k in tau)) < TOL_NM, name
    heel, forefoot = doc["support"]["contacts"]
    assert (heel["name"], forefoot["name"]) == ("heel", "forefoot") and heel["body"] == "foot"
    assert heel["force_N"][1] > 0 and forefoot["force_N"][1] > 0
    assert abs(doc["metrics"]["head_angle_deg"]) < 1e-4                      # the gaze level
    # the centre of pressure lies under the centre of mass (no friction moment: one point force)
    np.testing.assert_allclose(doc["metrics"]["centre_of_pressure_mm"], doc["metrics"]["centre_of_mass_mm"],
                               rtol=0, atol=1e-6)
    np.testing.assert_allclose(heel["force_N"][1] + forefoot["force_N"][1],
                               9.81 * r.problem.model.mass.sum(), rtol=1e-9)


def test_json_document_of_a_failed_solve_is_strict_json(model):
    # conventions §6: a posture that could not be solved is still written, status saying why;
    # the document must stay valid JSON (no NaN / Infinity tokens)
    r = bm.solve_equilibrium(model, support=bm.Support("standing"), max_iterations=1,
                             q0=bm.prepare(model).q_ref + 0.05)
    assert not r.converged
    doc = bm.to_dict(r)
    assert doc["status"]["converged"] is False and doc["status"]["stable"] is None
    json.dumps(doc, allow_nan=False)


def test_baseline_tone_with_passive_slack_is_found_quickly():
    # a subject (from the population study) whose muscles alone cannot hold the relaxed posture:
    # the muscles-only fit must be recognised as infeasible at once (weak duality) and the fit
    # with passive slack must stop when only rounding moves; both once took 5000 iterations
    from biomech import tone
    from biomech.least_effort import least_effort_activation
    from biomech.recruitment import DEFAULT_TISSUE_WEIGHT
    laws = {j: law.scaled(1.5948) for j, law in bm.default_intervertebral_laws().items()}
    # (strength 0.8439 in the population study; halved since the transversus abdominis' pressure
    # helps to hold the relaxed posture, docs/model.md §6a, which made that subject feasible)
    subject = bm.Subject(body_mass_kg=77.93, height_m=1.597, pelvic_incidence_deg=52.86,
                         muscle_strength_scale=0.5)
    compiled = bm.build_model(subject, intervertebral=laws)
    joints, A, b, upper, slack, m_ref = tone.tone_programme(compiled)
    # the programme is over the joints the standing problem frees: all but the ankles and knees
    assert [compiled.joints[j] for j in joints] == [j for j in compiled.joints if j not in ("ankle", "knee")]
    assert not slack[list(joints).index(compiled.joint_index("hip"))] and slack.sum() == len(joints) - 1
    # muscles alone: certified infeasible within a few dual steps (it once took 5000)
    x, s, short = least_effort_activation(A, b, upper, max_iter=20)
    assert short > 1e-6
    # with passive slack: converged within a few dual steps
    x, s, short = least_effort_activation(A, b, upper, slack=slack, slack_weight=DEFAULT_TISSUE_WEIGHT / m_ref ** 2,
                                          max_iter=40)
    assert short < 1e-8 and np.any(s != 0)
    model = bm.fit_tone(compiled)
    p = bm.prepare(model, support=bm.Support("standing"))
    assert np.max(np.abs(p.B.T @ bm.residual(p, p.q_ref))) < TOL_NM         # still holds its posture
    # an infeasible problem without slack: a positive shortfall, activations within bounds
    A = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
    x, p_slack, short = least_effort_activation(A, np.array([10.0, -1.0]), np.ones(3))
    assert short > 1.0 and np.all((x >= 0) & (x <= 1)) and np.all(p_slack == 0)


def test_a_fitted_model_shares_the_support_arrays_of_its_anatomy_with_its_own_stress_free_angles():
    # problem.Anatomy: fit_tone changes the tone and the stress-free angles only, so the arrays
    # `prepare` computes from the anatomy (paths, path signs, contacts, ...) are computed once
    # for the model and its fitted copy; the stress-free angles stay each model's own
    from biomech.problem import _support_arrays, tone_floor
    compiled = bm.build_model(bm.Subject(body_mass_kg=81.5))        # an anatomy no test shares
    before = bm.prepare(compiled, baseline_activation=tone_floor(compiled))
    fitted = bm.fit_tone(compiled)
    p = bm.prepare(fitted)
    assert p.paths is before.paths and p.S is before.S and p.contact_offset is before.contact_offset
    assert not np.array_equal(fitted.rest_angle, compiled.rest_angle)
    np.testing.assert_array_equal(p.rest_angle, fitted.rest_angle)
    np.testing.assert_array_equal(before.rest_angle, compiled.rest_angle)
    # the same problem as the fitted model's own arrays give (computed afresh)
    Q = p.q_ref + np.random.default_rng(3).normal(0.0, 0.03, (4, fitted.n_joints))
    _support_arrays.cache_clear()
    alone = bm.prepare(fitted)
    assert alone.paths is not p.paths
    np.testing.assert_array_equal(bm.residual(p, Q), bm.residual(alone, Q))
    # another anatomy (a body's mass changed) has arrays of its own
    heavier = dataclasses.replace(fitted, mass=np.asarray(fitted.mass) * 1.1)
    assert bm.prepare(heavier).paths is not alone.paths


@pytest.mark.parametrize("scale", [0.4, 2.5])
def test_leg_passive_scale_is_fitted_into_the_tone(scale):
    # like the disc laws, the legs' passive laws are part of the subject: `hip_stiffness_scale`
    # scales the hip, knee and ankle laws and the baseline tone is fitted with them, so the
    # relaxed reference posture stays an equilibrium (it was not when the scale entered only at
    # `prepare`: 80 % of the weakest-hip population subjects collapsed)
    model = bm.make_model(hip_stiffness_scale=scale)
    for j in LEG_JOINTS:
        assert model.passive[model.joint_index(j)] == bm.LegLaw(j, scale)
    p = bm.prepare(model, support=bm.Support("standing"))
    assert sorted((model.joints[j], kind, f) for j, kind, f, _ in p.leg_joints) == \
        sorted((j, j, scale) for j in LEG_JOINTS)             # LegLaw.factor of two lumped legs
    assert np.max(np.abs(p.B.T @ bm.residual(p, p.q_ref))) < TOL_NM
    assert bm.solve_equilibrium(model).success
    with pytest.raises(bm.ModelError, match="hip_stiffness_scale: LegLaw.scale must be a number within 0-10"):
        bm.make_model(hip_stiffness_scale=-1)

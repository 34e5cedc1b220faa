# Model sanity (masses, scaling, validation, immutability, baseline tone, reference posture)
# and the JSON result contract of conventions §5.

import dataclasses
import json
import math

import numpy as np
import pytest

import biomech as bm
from biomech.metrics import clinical_metrics
from biomech.anatomy import REFERENCE_PELVIC_TILT_DEG, REFERENCE_SEGMENTAL_SHARE
from biomech.muscles import DEFAULT_TONE
from biomech.names import BODIES, JOINTS, LUMBAR_LEVELS, METRICS, MUSCLE_GROUPS

TOL_NM = 1e-6


# --------------------------------------------------------------------------------------------
# masses and scaling
# --------------------------------------------------------------------------------------------
def test_masses_sum_to_body_mass(get_model, subject_key):
    m = get_model(subject_key)
    bm_kg = m.subject.body_mass_kg
    assert np.all(m.mass > 0) and np.all(m.leg_mass > 0)
    np.testing.assert_allclose(m.mass.sum() + m.leg_mass.sum(), bm_kg, rtol=0, atol=1e-9)
    for support in (bm.Support("standing"), bm.Support("sitting"), bm.Support("lying", legs="lifted")):
        p = bm.prepare(m, support=support)
        # the femur body of a problem carries both shanks and feet at the support's knee angle
        np.testing.assert_allclose(p.mass.sum(), bm_kg, rtol=0, atol=1e-9)
        femur = m.body_index("femur")
        others = np.arange(m.n_bodies) != femur
        np.testing.assert_allclose(p.mass[femur], m.mass[femur] + m.leg_mass.sum(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(p.mass[others], m.mass[others], rtol=0, atol=0)


def test_masses_scale_with_body_mass_and_lengths_with_height(get_model):
    a, b = get_model("default"), get_model("tall_heavy")
    mass_ratio = b.subject.body_mass_kg / a.subject.body_mass_kg
    length_ratio = b.subject.height_m / a.subject.height_m
    assert mass_ratio != 1 and length_ratio != 1
    assert a.subject.pelvic_incidence_deg == b.subject.pelvic_incidence_deg
    np.testing.assert_allclose(b.mass, mass_ratio * a.mass, rtol=1e-12, atol=0)
    np.testing.assert_allclose(b.leg_mass, mass_ratio * a.leg_mass, rtol=1e-12, atol=0)
    # muscle forces with the 2/3 power of body mass (geometric similarity, docs/model.md §2)
    np.testing.assert_allclose(b.max_isometric_force, mass_ratio ** (2 / 3) * a.max_isometric_force,
                               rtol=1e-12, atol=0)
    # every body-frame length scales with height ...
    for name in ("com", "leg_com_tibia", "knee_in_femur", "joint_in_inferior", "joint_in_superior",
                 "endplate_mid", "endplate_depth", "pt_local", "pt_z", "optimal_fiber_length",
                 "tendon_slack_length"):
        np.testing.assert_allclose(getattr(b, name), length_ratio * getattr(a, name), rtol=1e-12,
                                   atol=1e-15, err_msg=name)
    for k, (body, loc) in a.landmarks.items():
        assert b.landmarks[k][0] == body
        np.testing.assert_allclose(b.landmarks[k][1], length_ratio * loc, rtol=1e-12, atol=1e-15)
    # ... every angle stays
    for name in ("joint_offset", "endplate_angle", "pennation"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=0, atol=1e-12, err_msg=name)
    # the world geometry of the neutral configuration is the same figure, scaled about the hip
    pa, pb = bm.prepare(a, support=bm.Support("standing")), bm.prepare(b, support=bm.Support("standing"))
    ga, gb = bm.geometry(pa, np.zeros(7)), bm.geometry(pb, np.zeros(7))
    np.testing.assert_allclose(gb.centres, length_ratio * ga.centres, rtol=0, atol=1e-12)
    np.testing.assert_allclose(gb.com, length_ratio * ga.com, rtol=0, atol=1e-12)
    np.testing.assert_allclose(gb.points, length_ratio * ga.points, rtol=0, atol=1e-12)
    np.testing.assert_allclose(gb.length, length_ratio * ga.length, rtol=1e-12, atol=0)
    np.testing.assert_allclose(gb.dLdq, length_ratio * ga.dLdq, rtol=0, atol=1e-12)


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
    np.testing.assert_allclose(b.joint_offset[1] - a.joint_offset[1], delta, rtol=0, atol=1e-15)
    np.testing.assert_allclose(b.endplate_angle[0] - a.endplate_angle[0], delta, rtol=0, atol=1e-12)
    sac = np.asarray(a.pt_sacral, bool)
    assert np.array_equal(sac, b.pt_sacral) and sac.sum() > 10
    np.testing.assert_allclose(b.pt_local[sac], S + (a.pt_local[sac] - S) @ rot.T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(b.pt_local[~sac], a.pt_local[~sac], rtol=0, atol=0)


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
    with pytest.raises(bm.ModelError, match=r"unknown spinal joint 'hip'"):  # passive.hip_passive_moment
        bm.make_model(intervertebral=laws | {"hip": laws["L1_L2"]})
    with pytest.raises(bm.ModelError, match=r"'L1_L2' must be an IntervertebralLaw, got float"):
        bm.make_model(intervertebral=laws | {"L1_L2": 1.0})
    with pytest.raises(bm.ModelError, match=r"must be a mapping"):
        bm.make_model(intervertebral=[laws["L1_L2"]] * 6)


def test_model_is_immutable(model):
    arrays = {f.name: getattr(model, f.name) for f in dataclasses.fields(model)
              if isinstance(getattr(model, f.name), np.ndarray)}
    assert {"mass", "com", "joint_in_inferior", "pt_local", "max_isometric_force",
            "baseline_activation"} <= set(arrays)
    for name, a in arrays.items():
        assert not a.flags.writeable, name
        with pytest.raises(ValueError):
            a.flat[0] = a.flat[0]
    for name, (_, loc) in model.landmarks.items():
        assert not loc.flags.writeable, name
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.mass = np.zeros(8)


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
    # the baseline tone is computed to hold the standing reference posture
    p = bm.prepare(get_model(subject_key), support=bm.Support("standing"))
    R = bm.residual(p, p.q_ref)
    assert np.max(np.abs(R)) < TOL_NM, f"max |R(q_ref)| = {np.max(np.abs(R)):.3g} N·m"


@pytest.mark.parametrize("thigh_deg", [0.0, 10.0])
def test_reference_posture_calibration(get_model, subject_key, thigh_deg):
    # docs/calibration.md: pelvis at PT 13°, trunk upright, segmental lordosis in the normative
    # proportions; the thigh inclination moves only the femur
    m = get_model(subject_key)
    p = bm.prepare(m, support=bm.Support("standing", thigh_inclination_deg=thigh_deg))
    met = clinical_metrics(p, bm.geometry(p, p.q_ref))
    np.testing.assert_allclose(met["pelvic_tilt_deg"], REFERENCE_PELVIC_TILT_DEG, rtol=0, atol=1e-9)
    np.testing.assert_allclose(met["trunk_inclination_deg"], 0.0, rtol=0, atol=1e-9)
    share = np.array([REFERENCE_SEGMENTAL_SHARE[lv] for lv in LUMBAR_LEVELS])
    seg = np.array([met["segmental_lordosis_deg"][lv] for lv in LUMBAR_LEVELS])
    np.testing.assert_allclose(seg, met["lumbar_lordosis_deg"] * share / share.sum(), rtol=0, atol=1e-9)
    # the femur axis (hip -> knee) at the requested inclination, + = knee forward
    knee_body, knee_loc = m.landmarks["knee"]
    geo = bm.geometry(p, p.q_ref)
    c, s = math.cos(geo.angles[knee_body]), math.sin(geo.angles[knee_body])
    knee = geo.origins[knee_body] + np.array([c * knee_loc[0] - s * knee_loc[1],
                                              s * knee_loc[0] + c * knee_loc[1]])
    v = knee - geo.centres[0]
    np.testing.assert_allclose(math.degrees(math.atan2(v[0], -v[1])), thigh_deg, rtol=0, atol=1e-9)


# --------------------------------------------------------------------------------------------
# the JSON document (conventions §5)
# --------------------------------------------------------------------------------------------
def _is_float(x):
    return isinstance(x, float) and math.isfinite(x)


def _is_xy(v):
    return isinstance(v, list) and len(v) == 2 and all(_is_float(c) for c in v)


@pytest.mark.parametrize("name", ["standing_load_L3", "sitting", "lying_lifted_psoas_iliacus"])
def test_json_document(name, solve_case):
    r = solve_case(name)
    doc = bm.to_dict(r)
    text = json.dumps(doc, allow_nan=False)          # strict JSON
    assert json.loads(text) == doc
    for key in ("biomech_version", "scenario", "status", "metrics", "bodies", "joints", "muscles",
                "external_loads", "gravity_m_s2"):
        assert key in doc, key
    assert isinstance(doc["biomech_version"], str) and doc["biomech_version"] == bm.__version__
    sc = doc["scenario"]
    assert isinstance(sc["name"], str) and isinstance(sc["file"], str)
    assert sc["mode"] in ("equilibrium", "upright", "inverse")
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
    for k in METRICS:
        assert _is_float(met[k]), k
    assert set(met["segmental_lordosis_deg"]) == set(LUMBAR_LEVELS)
    assert set(LUMBAR_LEVELS) == {"L1_L2", "L2_L3", "L3_L4", "L4_L5", "L5_S1"}
    assert all(_is_float(v) for v in met["segmental_lordosis_deg"].values())
    assert set(doc["bodies"]) == set(BODIES)
    for b, body in doc["bodies"].items():
        assert _is_float(body["mass_kg"]) and body["mass_kg"] > 0 and _is_xy(body["com_m"]), b
    np.testing.assert_allclose(sum(body["mass_kg"] for body in doc["bodies"].values()),
                               r.problem.model.subject.body_mass_kg, rtol=0, atol=1e-9)
    assert set(doc["joints"]) == set(JOINTS)
    rep = bm.posture_report(r)
    for j, name_j in enumerate(JOINTS):
        jt = doc["joints"][name_j]
        assert set(jt) >= {"inferior", "superior", "center_m", "angle_deg", "passive_moment_Nm",
                           "reaction_force_N", "compression_N", "shear_N"}
        assert (jt["inferior"], jt["superior"]) == (BODIES[j], BODIES[j + 1])
        assert _is_xy(jt["center_m"]) and _is_xy(jt["reaction_force_N"])
        for k in ("angle_deg", "passive_moment_Nm", "compression_N", "shear_N"):
            assert _is_float(jt[k]), (name_j, k)
        np.testing.assert_allclose(jt["angle_deg"], math.degrees(r.q[j]), rtol=0, atol=1e-12)
        np.testing.assert_allclose(jt["reaction_force_N"], rep.reaction[j], rtol=0, atol=1e-12)
    m = r.problem.model
    assert set(doc["muscles"]) == set(m.muscle_names)
    for i, line in enumerate(m.muscle_names):
        mu = doc["muscles"][line]
        assert set(mu) >= {"group", "force_N", "activation", "length_m", "max_isometric_force_N",
                           "path", "moment_arms_m"}
        assert mu["group"] in MUSCLE_GROUPS and line.startswith(mu["group"])
        assert _is_float(mu["force_N"]) and mu["force_N"] >= 0
        assert mu["activation"] is None or (_is_float(mu["activation"]) and 0 <= mu["activation"] <= 1)
        assert (mu["activation"] is None) == bool(r.problem.lines.fixed_tension[i])
        assert _is_float(mu["length_m"]) and mu["length_m"] > 0
        assert _is_float(mu["max_isometric_force_N"]) and mu["max_isometric_force_N"] > 0
        assert (mu["optimal_fiber_length_m"], mu["tendon_slack_length_m"]) == (r.problem.lines.lopt[i], r.problem.lines.lts[i])
        assert mu["pennation_deg"] == pytest.approx(math.degrees(m.pennation[i]), abs=1e-12)
        assert isinstance(mu["path"], list) and len(mu["path"]) >= 2
        for pt in mu["path"]:
            assert set(pt) == {"body", "point_m", "lateral_m"} and pt["body"] in BODIES
            assert _is_xy(pt["point_m"]) and _is_float(pt["lateral_m"])
        # the path's 2D polyline is no longer than the 3D musculotendon length
        xy = np.array([pt["point_m"] for pt in mu["path"]])
        assert np.sum(np.linalg.norm(np.diff(xy, axis=0), axis=1)) <= mu["length_m"] + 1e-12
        arms = mu["moment_arms_m"]
        assert isinstance(arms, dict) and arms and set(arms) <= set(JOINTS)
        for jn, v in arms.items():
            assert _is_float(v)
            np.testing.assert_allclose(v, rep.moment_arm[i, JOINTS.index(jn)], rtol=0, atol=1e-15)
        # joints a line does not cross are omitted, and have no moment arm
        for jn in set(JOINTS) - set(arms):
            assert abs(rep.moment_arm[i, JOINTS.index(jn)]) < 1e-15, (line, jn)
    # the lateral offsets are the ones the problem used (conditional points resolved)
    np.testing.assert_array_equal([pt["lateral_m"] for line in m.muscle_names
                                   for pt in doc["muscles"][line]["path"]], r.problem.paths.z)
    contacts = doc["support"]["contacts"]
    kinds = [c["name"] for c in contacts]
    assert kinds[-1] == "hold" and kinds.count("hold") == 1
    for c, f in zip(contacts, rep.contact_forces):          # the seat or table contact comes first
        assert c["name"] in ("seat", "table") and c["force_N"] == f.tolist() and c["moment_Nm"] == 0.0
    loads = doc["external_loads"]
    assert isinstance(loads, list) and len(loads) == len(r.problem.loads)
    for ld in loads:
        assert ld["body"] in BODIES and _is_xy(ld["point_m"]) and _is_xy(ld["force_N"])
    if name == "standing_load_L3":
        assert loads[0]["body"] == "L3"
        np.testing.assert_allclose(loads[0]["force_N"], [0.0, -10 * 9.81], rtol=0, atol=1e-12)
    assert _is_xy(doc["gravity_m_s2"])
    np.testing.assert_allclose(np.linalg.norm(doc["gravity_m_s2"]), 9.81, rtol=0, atol=1e-12)


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
    laws = {j: law.scaled(1.5948) for j, law in bm.default_intervertebral_laws().items()}
    subject = bm.Subject(body_mass_kg=77.93, height_m=1.597, pelvic_incidence_deg=52.86,
                         muscle_strength_scale=0.8439)
    compiled = bm.build_model(subject, intervertebral=laws)
    A, b, upper, slack = tone.tone_programme(compiled)
    # muscles alone: certified infeasible within a few dual steps (it once took 5000)
    x, s, short = least_effort_activation(A, b, upper, max_iter=20)
    assert short > 1e-6
    # with passive slack: converged within a few dual steps
    x, s, short = least_effort_activation(A, b, upper, slack=slack, slack_weight=tone.PASSIVE_WEIGHT,
                                          max_iter=40)
    assert short < 1e-8 and np.any(s != 0)
    model = bm.fit_tone(compiled)
    p = bm.prepare(model, support=bm.Support("standing"))
    assert np.max(np.abs(bm.residual(p, p.q_ref))) < TOL_NM         # still holds its posture
    # an infeasible problem without slack: a positive shortfall, activations within bounds
    A = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
    x, p_slack, short = least_effort_activation(A, np.array([10.0, -1.0]), np.ones(3))
    assert short > 1.0 and np.all((x >= 0) & (x <= 1)) and np.all(p_slack == 0)


@pytest.mark.parametrize("scale", [0.4, 2.5])
def test_hip_passive_scale_is_fitted_into_the_tone(scale):
    # like the disc laws, the hip's passive law is part of the subject: the baseline tone is
    # fitted with it, so the relaxed reference posture stays an equilibrium (it was not when the
    # scale entered only at `prepare`: 80 % of the weakest-hip population subjects collapsed)
    model = bm.make_model(hip_stiffness_scale=scale)
    assert model.passive[model.joint_index("hip")] == bm.HipLaw(scale)
    p = bm.prepare(model, support=bm.Support("standing"))
    assert p.hip_scale.tolist() == [scale]
    assert np.max(np.abs(bm.residual(p, p.q_ref))) < TOL_NM
    assert bm.solve_equilibrium(model).success
    with pytest.raises(bm.ModelError, match="hip_stiffness_scale: HipLaw.scale must be a number within 0-10"):
        bm.make_model(hip_stiffness_scale=-1)

"""The default lumbopelvic model: subject parameters in, an immutable `Model` out.

`build_model(Subject(...))` validates the subject, scales the reference geometry (from
`biomech/data/lumbopelvic.json`, extracted from the reference pack by
`scripts/extract_reference_data.py`), places the sacral plate for the subject's pelvic incidence
and derives every muscle's parameters. It solves nothing: the relaxed-standing muscle tone is a
calibration on top of the compiled model (`tone.fit_tone`), and `biomech.make_model` does both.

Bodies, inferior to superior (conventions §2): foot, shank, femur (both legs lumped), pelvis
(with the sacrum), L5, L4, L3, L2, L1, thorax_lower (T9-T12), thorax_middle (T5-T8),
thorax_upper (T1-T4, with the arms), head (head and cervical spine); joints ankle, knee, hip,
L5_S1, L4_L5, L3_L4, L2_L3, L1_L2, T12_L1, T8_T9, T4_T5, C7_T1, each joining the body below it
to the body above. The geometry comes from biomech/data/lumbopelvic.json (Lumbar_C_210 spine,
gait2392 pelvis and femur) and biomech/data/legs_trunk.json (gait2392 shank and foot,
MyoTorso/Bruno thoracic segments, the Vasavada head-neck); docs/model.md §2.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType

import numpy as np

from . import kinematics as kin
from .abdomen import HOOP_LINES, with_abdomen
from .errors import ModelError
from .model import Model, Subject, check_tree, readonly, replace
from .names import BODIES, JOINTS, LUMBAR_LEVELS, MUSCLE_GROUPS
from .passive import LegLaw, IntervertebralLaw, default_intervertebral_laws, default_trunk_laws
from .paths import path_lengths, resolve_paths
from .units import RAD_PER_DEG

#: Height of the Lumbar_C_210 subject whose geometry we use (reference pack §1.2: 1.70 m male).
REFERENCE_HEIGHT_M = 1.70
#: Body mass to which the muscle forces of the source models refer (gait2392: 75.16 kg; the
#: Lumbar_C_210 subject ≈ 75.6 kg, pack §1.2), rounded.
REFERENCE_MASS_KG = 75.0
#: Pelvic incidence given to the reference pelvis (docs/model.md §2): the population mean,
#: Vaz G et al. (2002) Eur Spine J 11:80-87: 51.7 ± 11°; Legaye J et al. (1998) Eur Spine J
#: 7:99-103: ≈ 53°.
REFERENCE_PELVIC_INCIDENCE_DEG = 52.0

# de Leva P (1996) Adjustments to Zatsiorsky-Seluyanov's segment inertia parameters.
# J Biomech 29:1223-1230, Table 4, male; fractions of body mass (reference pack §5, V).
DE_LEVA_MALE = {"trunk": 0.4346, "head_neck": 0.0694, "upper_arm": 0.0271, "forearm": 0.0162,
                "hand": 0.0061, "thigh": 0.1416, "shank": 0.0433, "foot": 0.0137}
# de Leva 1996 segment COM as a fraction of the segment length from the proximal joint, and the
# lengths (m) of the 1.741 m reference male, for thigh and shank (pack §5).
DE_LEVA_THIGH_COM = 0.4095
DE_LEVA_SHANK_COM = 0.4459

# Disc heights (m), to place each endplate half a disc below its joint centre: the mean of the
# anterior and posterior heights measured on MRI (L1-L2 10.8/7.3, L2-L3 13.1/8.6, L3-L4
# 15.2/9.1, L4-L5 18.1/10.1, L5-S1 18.7/8.5 mm) in "Measuring dimensions of lumbar
# intervertebral discs in normal subjects", Anatomical Sciences Journal (Iran,
# anatomyjournal.ir, article 159): 14 adults (7 M, 7 F, 40-59 y) without disc disease, Imam
# Khomeini Hospital (abstract V; authors, year and volume not recovered, docs/references.md).
# Used as the heights of the 1.70 m model (assumption: the study reports no stature).
# T12/L1 taken as 8 mm (assumption). Endplate anteroposterior depth, for drawing and for the
# posterior corner of S1 (SVA): ≈ 32 mm lumbar (disc AP length 30.2-33.1 mm, same study, V),
# S1 35 mm (R: the 33-36 mm range of Zhou SH et al. (2000) Eur Spine J 9:242-248 and Panjabi
# MM et al. (1992) Spine 17:299-306).
DISC_HEIGHT_M = {"T12_L1": 0.008, "L1_L2": 0.00905, "L2_L3": 0.01085, "L3_L4": 0.01215,
                 "L4_L5": 0.0141, "L5_S1": 0.0136}
ENDPLATE_DEPTH_M = {"S1": 0.035, "L5": 0.032, "L4": 0.032, "L3": 0.032, "L2": 0.032, "L1": 0.032}

#: The tree of the default model: each joint's inferior and superior body (conventions §2).
INFERIOR = {"ankle": "foot", "knee": "shank", "hip": "femur", "L5_S1": "pelvis", "L4_L5": "L5",
            "L3_L4": "L4", "L2_L3": "L3", "L1_L2": "L2", "T12_L1": "L1", "T8_T9": "thorax_lower",
            "T4_T5": "thorax_middle", "C7_T1": "thorax_upper"}
SUPERIOR = {"ankle": "shank", "knee": "femur", "hip": "pelvis", "L5_S1": "L5", "L4_L5": "L4",
            "L3_L4": "L3", "L2_L3": "L2", "L1_L2": "L1", "T12_L1": "thorax_lower",
            "T8_T9": "thorax_middle", "T4_T5": "thorax_upper", "C7_T1": "head"}
LUMBAR_BODIES = ("L5", "L4", "L3", "L2", "L1")
THORAX_BODIES = ("thorax_lower", "thorax_middle", "thorax_upper")

#: Pelvic tilt of the calibrated relaxed-standing reference posture (deg): Vialle R et al.
#: (2005) J Bone Joint Surg Am 87:260-267, 300 asymptomatic adults: PT 13.2 ± 6.1° (R);
#: Laouissat F et al. (2018), Roussouly type 3 (PI ≈ 53°): PT 13° (V). docs/calibration.md.
REFERENCE_PELVIC_TILT_DEG = 13.0
#: Segmental lordosis of the reference posture, as fractions of LL, L5_S1 … L1_L2: the mid
#: values of the typical distribution of the reference pack §3 (L5/S1 20-25°, L4/L5 12-15°,
#: L3/L4 8-10°, L2/L3 4-6°, L1/L2 0-3°; R, consistent with the V rows: L4-S1 = 70.8 % of LL in
#: 627 asymptomatic adults, PMC6680033). Used to place the endplates (docs/calibration.md).
REFERENCE_SEGMENTAL_SHARE = {"L5_S1": 22.5, "L4_L5": 13.5, "L3_L4": 9.0, "L2_L3": 5.0, "L1_L2": 1.5}

#: Share of the tendon in the neutral musculotendon length, for lines without published
#: parameters: Lumbar_C_210 Ps_L1_VB l_ts / (l_opt + l_ts) = 0.0647 / 0.2488 (pack §1, M).
TENDON_SHARE = 0.0647 / 0.2488
PS_L1_VB_OPTIMAL_FIBER_LENGTH_M = 0.1841  # Lumbar_C_210 Ps_L1_VB (pack §1, M)


#: Physiological range of each spinal joint: its in vitro range of motion at the test moment
#: (passive.DEFAULT_ROM_DEG) widened by this factor about the reference angle; a posture
#: outside it is not returned as an answer (docs/model.md §8).
RANGE_WIDENING = 1.5
#: Ranges of the leg joints' coordinates (deg): the hip −130° to 30° (flexion 130° to extension
#: 30°), the knee −10° to 150° (flexion +), the ankle −40° to 60° (plantarflexion +). ASSUMPTIONS,
#: kept wider than the reported normal ranges of motion (hip flexion ≈ 110-125°, extension
#: ≈ 10-30°, e.g. Roach SM et al. (2015) Int J Sports Phys Ther 10:13-20; knee flexion ≈ 140°,
#: ankle dorsiflexion ≈ 10-20°, plantarflexion ≈ 40-55°, Roach KE, Miles TP (1991) Phys Ther
#: 71:656-665, R) so that they reject only impossible postures.
LEG_RANGE_DEG = {"hip": (-130.0, 30.0), "knee": (-10.0, 150.0), "ankle": (-40.0, 60.0)}


#: Where the ischial tuberosity meets a seat, from the hamstrings' origin on it (pelvis frame, m;
#: + anterior, + superior). The model's ``ischial_tuberosity`` landmark is the semimembranosus
#: origin, on the tuberosity's upper lateral facet; the seat bears on its underside. In
#: gait2392's pelvis bone mesh (Delp et al. 1990; opensim-models Geometry/r_pelvis.vtp, 125
#: vertices, pelvis frame) the semimembranosus origin is the vertex (-0.1192, -0.1015, 0.0695)
#: and the tuberosity's lowest vertex, with the pelvis rolled 25-45° back from its relaxed
#: standing orientation (seated), is (-0.1143, -0.1151, 0.0520): the difference (D). The
#: ramus vertex at z = 0.036 (7 cm between the sides: the pubic arch, not the tuberosities) is
#: left out. The mesh's vertices lie ≈ 1-2 cm apart: the point is uncertain by that much.
ISCHIAL_APEX_FROM_HAMSTRING_ORIGIN_M = (0.0049, -0.0136)


@functools.lru_cache(maxsize=4)
def _data(name: str) -> str:
    return resources.files("biomech").joinpath(f"data/{name}").read_text()


def load_reference_data() -> dict:
    """The extracted lumbopelvic reference data (`biomech/data/lumbopelvic.json`), a new copy."""
    return json.loads(_data("lumbopelvic.json"))


def load_legs_trunk_data() -> dict:
    """The extracted data of the shank, foot, thoracic segments, head and arms
    (`biomech/data/legs_trunk.json`), a new copy."""
    return json.loads(_data("legs_trunk.json"))


@functools.lru_cache(maxsize=4)
def _parsed(name: str) -> dict:
    """The data file parsed once, shared by every `build_model` (which only reads it;
    tests/test_model.py checks it is left as parsed): parsing took 1.1 ms of each build."""
    return json.loads(_data(name))


@functools.cache
def muscle_line_names() -> tuple[str, ...]:
    """Names of all muscle lines of the default model, without building it."""
    more, muscles = _parsed("legs_trunk.json"), _parsed("lumbopelvic.json")["muscles"]
    extensors = thoracic_extensor_lines(muscles)
    return tuple(m["name"] for m in muscles + extensors + more["shank_muscles"] + more["neck_muscles"]) + HOOP_LINES


#: The bodies of the reference data's muscle points that lie on a leg (`leg_line_names`).
LEG_DATA_BODIES = ("femur", "tibia", "shank", "foot")


@functools.cache
def leg_line_names() -> tuple[str, ...]:
    """Names of the lines of the default model with a point on a leg: with two legs
    (`legs.two_legs`) each is split into ``<line>_right`` and ``<line>_left``."""
    more, muscles = _parsed("legs_trunk.json"), _parsed("lumbopelvic.json")["muscles"]
    return tuple(m["name"] for m in muscles + more["shank_muscles"] + more["neck_muscles"]
                 if any(p["body"] in LEG_DATA_BODIES for p in m["points"]))


def _pelvic_incidence(s_pt, normal_angle, hip) -> float:
    v = hip - s_pt
    return math.atan2(v[0], -v[1]) - normal_angle  # PT + SS with SS = -normal_angle


@functools.cache
def _body_origins() -> MappingProxyType:
    """Each body frame's origin in the pelvis frame at the neutral configuration (m, (2,) each;
    reference size and PI): every frame has the pelvis frame's orientation there, and the shank
    and foot hang straight below the femur."""
    ch, gait = _parsed("lumbopelvic.json")["christophy"], _parsed("lumbopelvic.json")["gait2392"]
    more = _parsed("legs_trunk.json")
    origin = {"pelvis": np.zeros(2), "femur": np.array(gait["hip_centre_in_pelvis_m"], float)}
    for b in LUMBAR_BODIES:
        origin[b] = np.array(ch["origin_in_pelvis_m"][b], float)
    origin["thorax_lower"] = np.array(ch["origin_in_pelvis_m"]["thorax"], float)   # Lumbar_C_210 torso frame
    tseg = more["thorax"]["segments"]
    origin["thorax_middle"] = np.array(tseg["thorax_middle"]["inferior_joint_in_pelvis_m"], float)
    origin["thorax_upper"] = np.array(tseg["thorax_upper"]["inferior_joint_in_pelvis_m"], float)
    origin["head"] = np.array(tseg["thorax_upper"]["superior_joint_in_pelvis_m"], float)   # C7/T1
    legs = more["legs"]
    origin["shank"] = origin["femur"] + np.array(legs["knee_in_femur_m"], float) - np.array(legs["knee_in_shank_m"], float)
    origin["foot"] = origin["shank"] + np.array(legs["ankle_in_shank_m"], float)
    return MappingProxyType({b: readonly(v) for b, v in origin.items()})


@functools.cache
def _muscle_template() -> MappingProxyType:
    """The muscle lines of the reference data as a model holds them, at reference size, PI and
    strength, compiled once and shared (read-only) by every `build_model`, which scales them for
    its subject: names, groups, sources (tuples); per-side F_max (N), pennation (rad), the
    published l_opt and l_ts (m or None) (M,); line_ptr (M + 1,); the path points' body, local
    position (m, (P, 2), in the body frame, the sacral part at the reference PI), z (m), condition
    (P, 3) and sacral flag (P,); and the back and front contact points of the thoracic segments
    (`_thorax_points`)."""
    data, more = _parsed("lumbopelvic.json"), _parsed("legs_trunk.json")
    muscles = data["muscles"]
    origin = _body_origins()
    torso = origin["thorax_lower"]
    bounds = more["thorax"]["segment_boundaries_torso_y_m"]
    idx = {b: i for i, b in enumerate(BODIES)}
    names, groups, fmax, pen, srcs, ptr = [], [], [], [], [], [0]
    pbody, plocal, pz, pcond, psac = [], [], [], [], []
    lopt_src, lts_src = [], []
    for m in muscles + thoracic_extensor_lines(muscles) + more["shank_muscles"] + more["neck_muscles"]:
        if m["group"] not in MUSCLE_GROUPS:
            raise ModelError(f"reference data: unknown muscle group {m['group']!r}")
        names.append(m["name"])
        groups.append(m["group"])
        fmax.append(m["max_isometric_force_N_per_side"])
        pen.append(m.get("pennation_rad", 0.0))
        lopt_src.append(m.get("optimal_fiber_length_m"))
        lts_src.append(m.get("tendon_slack_length_m"))
        srcs.append(m["source"])
        for p in m["points"]:
            body = p["body"]
            if "rel_C7T1_m" in p:                          # the neck: relative to the C7/T1 joint
                xy = origin["head"] + np.array(p["rel_C7T1_m"], float) - origin[body]
            else:
                xy = np.array(p["xy_m"], float)
                if body == "thorax":                       # the torso: the segment at its height
                    body = THORAX_BODIES[int(np.searchsorted(bounds, xy[1]))]
                    xy = xy + torso - origin[body]
                elif body == "tibia":
                    body = "shank"
            pbody.append(idx[body])
            plocal.append(xy)
            pz.append(p["z_m"])
            psac.append(p.get("part") == "sacrum")
            if "active_range_rad" in p:
                kind = 1 if body == "pelvis" else 2
                pcond.append((kind, *p["active_range_rad"]))
            else:
                pcond.append((0, 0.0, 0.0))
        ptr.append(len(pbody))
    return MappingProxyType(dict(
        names=tuple(names), groups=tuple(groups), sources=tuple(srcs),
        max_isometric_force_N_per_side=readonly(fmax), pennation_rad=readonly(pen),
        optimal_fiber_length_m=tuple(lopt_src), tendon_slack_length_m=tuple(lts_src),
        line_ptr=readonly(np.array(ptr)), body=readonly(np.array(pbody)),
        local_m=readonly(np.array(plocal)), z_m=readonly(np.array(pz)),
        condition=readonly(np.array(pcond, float)), sacral=readonly(np.array(psac)),
        back=MappingProxyType({b: readonly(v) for b, v in _thorax_points(muscles, torso, bounds, origin).items()}),
        front=MappingProxyType({b: readonly(v) for b, v in
                                _thorax_points(muscles, torso, bounds, origin, front=True).items()})))


def build_model(subject: Subject | None = None, *,
                intervertebral: dict[str, IntervertebralLaw] | None = None,
                hip_stiffness_scale: float = 1.0) -> Model:
    """Compile the default model of a subject (no solve: see `tone.fit_tone`).

    Parameters
    ----------
    subject : Subject, optional (default: the documented average adult, 75 kg, 1.75 m, PI 52°).
    intervertebral : optional replacement passive laws of the lumbar joints, keyed by joint name:
        one `IntervertebralLaw` for each of ``L5_S1``, ``L4_L5``, ``L3_L4``, ``L2_L3``,
        ``L1_L2`` and ``T12_L1`` (e.g. ``{j: law.scaled(2) for j, law in
        default_intervertebral_laws().items()}``). The thoracic and neck joints keep theirs
        (`passive.default_trunk_laws`).
    hip_stiffness_scale : 0-10, multiplies the passive moments of the hip, knee and ankle
        (Riener & Edrich 1999; default 1).

    The passive laws are part of the subject: `tone.fit_tone` fits the baseline tone with them,
    so that a subject with stiffer discs or a weaker hip still holds the relaxed reference
    posture.

    Raises
    ------
    ModelError
        On a bad subject, or when ``intervertebral`` misses a lumbar joint, names an unknown one
        or holds something other than an `IntervertebralLaw`.
    """
    subject = subject or Subject()
    if not isinstance(subject, Subject):
        raise ModelError(f"subject must be a biomech.Subject, got {type(subject).__name__}")
    try:
        leg_laws = {j: LegLaw(j, hip_stiffness_scale) for j in ("hip", "knee", "ankle")}
    except ModelError as exc:
        raise ModelError(f"hip_stiffness_scale: {exc}") from None
    laws = _checked_laws(intervertebral) | default_trunk_laws()
    data, more = _parsed("lumbopelvic.json"), _parsed("legs_trunk.json")
    s = subject.height_m / REFERENCE_HEIGHT_M
    bm = subject.body_mass_kg
    ch = data["christophy"]
    gait = data["gait2392"]
    idx = {b: i for i, b in enumerate(BODIES)}

    # ---------------- neutral geometry in the pelvis frame (reference PI, unscaled) --------
    origin = _body_origins()
    tseg = more["thorax"]["segments"]
    hip = origin["femur"].copy()
    legs = more["legs"]
    knee_in_femur = np.array(legs["knee_in_femur_m"], float)
    knee_in_shank = np.array(legs["knee_in_shank_m"], float)
    ankle_in_shank = np.array(legs["ankle_in_shank_m"], float)

    # joint centres in the pelvis frame at the neutral configuration
    centre = {"hip": hip, "knee": origin["femur"] + knee_in_femur, "ankle": origin["foot"].copy()}
    for j in ("L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2"):
        centre[j] = np.array(ch["joints"][j]["in_parent_m"], float) + (
            np.zeros(2) if j == "L5_S1" else origin[INFERIOR[j]])

    # vertebral axes (normal of each superior endplate): cumulative Bruno et al. 2015 frames
    bruno = data["bruno_axis_orientation_rad"]
    axis = {}
    acc = 0.0
    for body, j in zip(LUMBAR_BODIES, ("L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2")):
        acc += bruno[j]
        axis[body] = acc

    def normal(a):
        return np.array([-math.sin(a), math.cos(a)])

    # T12_L1: one L1 height above L1_L2 along the L1 axis: Bruno et al. 2015's L1 -> T12 joint
    # height (31.3 mm, pack §1.3, M) brought back to Lumbar_C_210 size. Bruno's model is
    # Lumbar_C_210 scaled by 0.883: its sacrum->pelvis weld is 0.043263 m against Lumbar_C_210's
    # 0.049 m (pack §1.1, M; the note of `bruno_joint_height_m` in the data file). (The MyoTorso
    # T12 vertebra sits 5 mm from it, docs/reference/legs_trunk.md §3.)
    l1_height = data["bruno_joint_height_m"]["T12_L1"][1] / 0.883
    centre["T12_L1"] = centre["L1_L2"] + l1_height * normal(axis["L1"])
    centre["T8_T9"] = origin["thorax_middle"].copy()
    centre["T4_T5"] = origin["thorax_upper"].copy()
    centre["C7_T1"] = origin["head"].copy()

    # superior endplates of L5..L1: half a disc below the joint above, normal = vertebral axis
    above = {"L5": "L4_L5", "L4": "L3_L4", "L3": "L2_L3", "L2": "L1_L2", "L1": "T12_L1"}
    ep_mid = {b: centre[above[b]] - 0.5 * DISC_HEIGHT_M[above[b]] * normal(axis[b]) - origin[b]
              for b in above}
    ep_ang = dict(axis)  # anterior direction angle = normal angle (both rotate with the body)

    # sacral plate: half the L5/S1 disc below L5_S1; normal such that PI = reference PI
    pi_ref = REFERENCE_PELVIC_INCIDENCE_DEG * RAD_PER_DEG
    psi = -0.7
    for _ in range(50):
        s_pt = centre["L5_S1"] - 0.5 * DISC_HEIGHT_M["L5_S1"] * normal(psi)
        psi_new = psi - (pi_ref - _pelvic_incidence(s_pt, psi, hip))
        if abs(psi_new - psi) < 1e-13:
            break
        psi = psi_new
    s_pt = centre["L5_S1"] - 0.5 * DISC_HEIGHT_M["L5_S1"] * normal(psi)

    # ---------------- pelvic incidence: rotate the sacral part about S --------------------
    delta = -(subject.pelvic_incidence_deg * RAD_PER_DEG - pi_ref)
    rot_d = kin.rotation(delta)

    def sacral(p):
        return s_pt + rot_d @ (np.asarray(p, float) - s_pt)

    offset = np.zeros(len(JOINTS))
    offset[JOINTS.index("L5_S1")] = delta
    sacral_psi = psi + delta
    # each joint in its two bodies' frames (the L5_S1 joint sits on the sacral part of the pelvis)
    in_inferior = {j: centre[j] - origin[INFERIOR[j]] for j in JOINTS}
    in_superior = {j: centre[j] - origin[SUPERIOR[j]] for j in JOINTS}
    for j in ("L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2"):
        in_superior[j] = np.array(ch["joints"][j]["in_child_m"], float)
    in_inferior["L5_S1"] = sacral(centre["L5_S1"])

    # ---------------- landmarks ---------------------------------------------------------
    raj = data["rajagopal_landmarks"]
    shift = hip - np.array(raj["pelvis_frame"]["hip_centre"], float)   # Rajagopal -> gait2392 pelvis
    asis = np.array(raj["pelvis_frame"]["RASI"], float) + shift
    psis = np.array(raj["pelvis_frame"]["RPSI"], float) + shift
    muscles = data["muscles"]

    def first_point(src_name, k=0):
        ln = next(m for m in muscles if m["source_name"] == src_name)
        return np.array(ln["points"][k]["xy_m"], float)

    head = more["head"]
    pubis = first_point("rect_abd_r")          # rectus abdominis origin on the pubic crest (D)
    ischium = first_point("semimem_r")         # hamstring origin on the ischial tuberosity (D)
    sacrum_back = sacral(first_point("MF_m4t.3_r"))  # most posterior-inferior sacral multifidus origin (D)
    lm = {"hip_centre": ("pelvis", hip), "ASIS": ("pelvis", asis), "PSIS": ("pelvis", psis),
          "pubic_symphysis": ("pelvis", pubis), "ischial_tuberosity": ("pelvis", ischium),
          "sacrum_posterior": ("pelvis", sacrum_back), "S1_midpoint": ("pelvis", s_pt),
          "T12_L1_centre": ("thorax_lower", centre["T12_L1"] - origin["thorax_lower"]),
          "T1_centre": ("thorax_upper", np.array(more["thorax"]["endplate_angles_deg"]["T1_body_centre_in_pelvis_m"], float)
                        - origin["thorax_upper"]),
          "C7": ("head", np.array(head["C7_body_m"], float)),
          "glabella": ("head", np.array(head["glabella_m"], float)),
          "knee": ("femur", knee_in_femur), "ankle": ("shank", ankle_in_shank),
          "heel": ("foot", np.array(legs["heel_m"], float)),
          "forefoot": ("foot", np.array(legs["forefoot_m"], float))}
    # points on the back, the thighs and the calves that rest on a seat, a table or a backrest:
    # the posterior-most muscle attachment of each thoracic segment and the sacral multifidus
    # origin moved 2 cm posteriorly, the tuberosity's underside (ISCHIAL_APEX_FROM_HAMSTRING_ORIGIN_M)
    # 2 cm inferiorly, for the soft tissue, the occiput 19.6 cm behind the glabella (the head length of adult men; all
    # ASSUMPTIONS, docs/model.md §7), mid-thigh and mid-calf 7 and 5 cm behind their bones'
    # axes (ASSUMPTIONS), and the back of the calcaneus (gait2392 bone mesh, D)
    lines = _muscle_template()
    for b, pt in lines["back"].items():
        lm[f"{b}_back"] = (b, pt + np.array([-0.02, 0.0]))
    lm["ischial_seat"] = ("pelvis", ischium + np.array(ISCHIAL_APEX_FROM_HAMSTRING_ORIGIN_M) + np.array([0.0, -0.02]))
    lm["sacrum_back"] = ("pelvis", sacrum_back + np.array([-0.02, 0.0]))
    lm["occiput"] = ("head", np.array(head["glabella_m"], float) + np.array([-0.196, -0.03]))
    lm["thigh_back"] = ("femur", 0.5 * knee_in_femur + np.array([-0.07, 0.0]))
    lm["calf_back"] = ("shank", 0.4 * ankle_in_shank + np.array([-0.05, 0.0]))
    lm["heel_back"] = ("foot", np.array(legs["heel_m"], float) + np.array([-0.0098, 0.0225]))
    # the front, where a prone body meets a table (ASSUMPTIONS of soft-tissue depth, as the back):
    # the anterior-most muscle attachment of each thoracic segment (the ribs and the sternum) and
    # the anterior superior iliac spine 2 cm forward, the forehead 1 cm in front of and 3 cm above
    # the glabella, mid-thigh 7 cm, the patella 5 cm and mid-shin 3 cm in front of their bones'
    # axes. The belly is no contact: its soft front gives way (docs/model.md §7)
    for b, pt in lines["front"].items():
        lm[f"{b}_front"] = (b, pt + np.array([0.02, 0.0]))
    lm["ASIS_front"] = ("pelvis", asis + np.array([0.02, 0.0]))
    lm["forehead"] = ("head", np.array(head["glabella_m"], float) + np.array([0.01, 0.03]))
    lm["thigh_front"] = ("femur", 0.5 * knee_in_femur + np.array([0.07, 0.0]))
    lm["knee_front"] = ("femur", knee_in_femur + np.array([0.05, 0.0]))
    lm["shin_front"] = ("shank", 0.4 * ankle_in_shank + np.array([0.03, 0.0]))
    # where a kneeling knee rests on the floor: the front of the tibial tuberosity and the patellar
    # tendon over it, 15 % of the tibia's length below the knee and 4 cm in front of its axis
    # (ASSUMPTIONS of bone and soft-tissue depth, docs/model.md §7)
    lm["tibial_tuberosity"] = ("shank", 0.15 * ankle_in_shank + np.array([0.04, 0.0]))
    # and where its instep does: the dorsum of the foot over the metatarsals, 2 cm behind their
    # heads and 3.5 cm above the sole (ASSUMPTIONS of the foot's depth, docs/model.md §7)
    lm["instep"] = ("foot", np.array(legs["forefoot_m"], float) + np.array([-0.02, 0.035]))
    # the glenohumeral centre (Bruno et al. 2015, legs_trunk.json "arms"): where the hands' pull
    # on a knee drawn to the chest acts on the trunk (supports.Leg "held")
    lm["shoulder"] = ("thorax_upper", origin["head"] - origin["thorax_upper"]
                      + np.array(more["arms"]["shoulder_rel_C7T1_m"], float))
    landmarks = {k: (idx[b], np.asarray(v, float) * s) for k, (b, v) in lm.items()}
    # directions fixed in a body (rad in its frame): the T12 inferior and T4 superior endplates
    # (thoracic kyphosis) and the Frankfort plane of the head (skull +x: the Vasavada et al.
    # 1998 head frame is Frankfort-horizontal in neutral, R), docs/model.md §10
    ep = more["thorax"]["endplate_angles_deg"]
    plates = {"T12_inferior": (idx["thorax_lower"], ep["T12_inferior"] * RAD_PER_DEG),
              "T4_superior": (idx["thorax_upper"], ep["T4_superior"] * RAD_PER_DEG),
              "Frankfort": (idx["head"], 0.0)}

    # ---------------- masses ----------------------------------------------------------------
    trunk_src = {b: ch["mass_kg"][b] for b in ("pelvis",) + LUMBAR_BODIES + ("thorax",)}
    trunk_total = sum(trunk_src.values())
    mass = np.zeros(len(BODIES))
    com = np.zeros((len(BODIES), 2))
    for b in ("pelvis",) + LUMBAR_BODIES:
        mass[idx[b]] = DE_LEVA_MALE["trunk"] * bm * trunk_src[b] / trunk_total
        com[idx[b]] = ch["com_in_body_m"][b] if b != "pelvis" else gait["bodies"]["pelvis"]["com_xy"]
    torso_mass = DE_LEVA_MALE["trunk"] * bm * trunk_src["thorax"] / trunk_total
    for b in THORAX_BODIES:        # the Lumbar_C_210 torso split by the Bruno level masses (D)
        mass[idx[b]] = torso_mass * tseg[b]["mass_share"] / sum(tseg[t]["mass_share"] for t in THORAX_BODIES)
        com[idx[b]] = np.array(tseg[b]["com_in_pelvis_m"], float) - origin[b]
    # both arms hanging from the shoulders, on the upper thoracic segment
    arms = more["arms"]
    arm_mass = 2 * (DE_LEVA_MALE["upper_arm"] + DE_LEVA_MALE["forearm"] + DE_LEVA_MALE["hand"]) * bm
    arm_com = (origin["head"] - origin["thorax_upper"] + np.array(arms["shoulder_rel_C7T1_m"], float)
               + np.array(arms["hanging_com_below_shoulder_m"], float))
    u = idx["thorax_upper"]
    com[u] = (mass[u] * com[u] + arm_mass * arm_com) / (mass[u] + arm_mass)
    mass[u] += arm_mass
    mass[idx["head"]] = DE_LEVA_MALE["head_neck"] * bm
    com[idx["head"]] = head["com_m"]
    mass[idx["femur"]] = 2 * DE_LEVA_MALE["thigh"] * bm
    com[idx["femur"]] = DE_LEVA_THIGH_COM * knee_in_femur            # de Leva's thigh COM on the hip-knee line
    mass[idx["shank"]] = 2 * DE_LEVA_MALE["shank"] * bm
    com[idx["shank"]] = knee_in_shank + DE_LEVA_SHANK_COM * (ankle_in_shank - knee_in_shank)
    mass[idx["foot"]] = 2 * DE_LEVA_MALE["foot"] * bm
    com[idx["foot"]] = legs["foot_com_m"]
    com = com * s

    # ---------------- relaxed reference posture (docs/calibration.md) --------------------
    # pelvis rotated (world) so that PT = REFERENCE_PELVIC_TILT_DEG; PT grows one for one with a
    # counter-clockwise pelvis rotation. The lumbar levels share the extension that keeps the
    # thorax at the pelvis frame's orientation, in proportion to their range of motion; these
    # angles are the stress-free angles of the intervertebral joints.
    v = hip - s_pt
    pt_identity = math.atan2(v[0], -v[1])
    pelvis_ref = REFERENCE_PELVIC_TILT_DEG * RAD_PER_DEG - pt_identity
    levels = ("L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2")
    rom = np.array([laws[lv].rom_extension_rad + laws[lv].rom_flexion_rad for lv in levels])
    rest = np.zeros(len(JOINTS))
    for lv, w in zip(levels, rom / rom.sum()):
        rest[JOINTS.index(lv)] = (-delta - pelvis_ref) * w
    # trunk upright: T12_L1 takes the rotation that brings the T12/L1 -> C7 line vertical (trunk
    # inclination 0°, the normative "trunk upright" of the calibration targets) with the head
    # level (its Frankfort plane horizontal, the neck taking the rest); the thoracic joints stay
    # at their neutral (the source models' thoracic curve)
    c7_local = np.array(head["C7_body_m"], float)

    def trunk_lean(t12):          # + = C7 anterior of T12/L1, the trunk at angle t12 (world)
        c7 = centre["C7_T1"] - centre["T12_L1"]
        c7 = kin.rotation(t12) @ c7 + c7_local              # the head level: its frame at 0
        return math.atan2(c7[0], c7[1])
    t12 = 0.0
    for _ in range(50):
        step = trunk_lean(t12) / (-1.0)                     # d lean / d t12 ≈ −1
        t12 -= step
        if abs(step) < 1e-14:
            break
    rest[JOINTS.index("T12_L1")] = t12
    rest[JOINTS.index("C7_T1")] = -t12                     # the head level again
    # body angles in the reference posture, and endplates placed to the normative distribution
    ang_ref = {"pelvis": pelvis_ref}
    acc = pelvis_ref
    for j in ("L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2"):
        acc += rest[JOINTS.index(j)] + offset[JOINTS.index(j)]
        ang_ref[SUPERIOR[j]] = acc
    s1_world = pelvis_ref + sacral_psi
    l1_world = ang_ref["L1"] + ep_ang["L1"]
    ll_ref = l1_world - s1_world
    share = np.array([REFERENCE_SEGMENTAL_SHARE[lv] for lv in levels])
    cum = s1_world + np.cumsum(share / share.sum()) * ll_ref      # L5 … L1 endplates (world)
    for b, world in zip(LUMBAR_BODIES, cum):
        ep_ang[b] = world - ang_ref[b]

    # ---------------- endplates ---------------------------------------------------------
    ep_bodies = ("pelvis",) + LUMBAR_BODIES
    endplate_body = np.array([idx[b] for b in ep_bodies])
    endplate_mid = np.array([s_pt] + [ep_mid[b] for b in ep_bodies[1:]]) * s
    endplate_angle = np.array([sacral_psi] + [ep_ang[b] for b in ep_bodies[1:]])
    endplate_depth = np.array([ENDPLATE_DEPTH_M["S1"]] + [ENDPLATE_DEPTH_M[b] for b in ep_bodies[1:]]) * s

    # ---------------- muscles ------------------------------------------------------------
    # both sides (× 2); F_max ∝ (mass / 75 kg)^(2/3): ASSUMPTION of geometric similarity (force ∝
    # cross-sectional area ∝ length², mass ∝ length³), the exponent 0.67 recommended for muscle
    # force by Jaric S (2002) Sports Med 32:615-631 and found by Markovic G, Jaric S (2004) Eur J
    # Appl Physiol 92:139-149 (V, abstracts).
    force_scale = 2.0 * (bm / REFERENCE_MASS_KG) ** (2.0 / 3.0) * subject.muscle_strength_scale
    names, groups, srcs = lines["names"], lines["groups"], lines["sources"]
    lopt_src, lts_src = list(lines["optimal_fiber_length_m"]), list(lines["tendon_slack_length_m"])
    fmax = lines["max_isometric_force_N_per_side"] * force_scale
    psac = lines["sacral"]
    plocal = lines["local_m"].copy()
    for i in np.flatnonzero(psac):                 # the sacral part turns with the PI
        plocal[i] = sacral(plocal[i])
    plocal *= s

    # ---------------- joints: ranges, reference angles, passive laws ------------------------
    joint_range = np.empty((len(JOINTS), 2))
    for k, j in enumerate(JOINTS):
        if j in LEG_RANGE_DEG:
            joint_range[k] = np.radians(LEG_RANGE_DEG[j])
        else:
            joint_range[k] = [rest[k] - RANGE_WIDENING * laws[j].rom_flexion_rad,
                              rest[k] + RANGE_WIDENING * laws[j].rom_extension_rad]
    passive = tuple(leg_laws[j] if j in leg_laws else laws[j] for j in JOINTS)
    model = Model(
        subject=subject, bodies=BODIES, joints=JOINTS,
        joint_inferior=readonly([idx[INFERIOR[j]] for j in JOINTS]),
        joint_superior=readonly([idx[SUPERIOR[j]] for j in JOINTS]),
        joint_in_inferior=readonly(np.array([in_inferior[j] for j in JOINTS]) * s),
        joint_in_superior=readonly(np.array([in_superior[j] for j in JOINTS]) * s),
        joint_offset=readonly(offset), joint_range=readonly(joint_range),
        reference_angle=readonly(rest), rest_angle=readonly(rest), passive=passive,
        mass=readonly(mass), com=readonly(com), reference_pelvis_angle=float(pelvis_ref),
        landmarks=MappingProxyType({k: (b, readonly(v)) for k, (b, v) in landmarks.items()}),
        plates=MappingProxyType(plates),
        endplate_body=readonly(endplate_body), endplate_mid=readonly(endplate_mid),
        endplate_angle=readonly(endplate_angle), endplate_depth=readonly(endplate_depth),
        muscle_names=names, muscle_group=groups,
        max_isometric_force=readonly(fmax), optimal_fiber_length=readonly(np.zeros(len(names))),
        tendon_slack_length=readonly(np.zeros(len(names))), pennation=lines["pennation_rad"],
        excess_passive=readonly(np.zeros(len(names), bool)), parameter_source=srcs,
        line_ptr=lines["line_ptr"], pt_body=lines["body"],
        pt_local=readonly(plocal), pt_z=readonly(lines["z_m"] * s),
        pt_condition=lines["condition"], pt_sacral=psac,
        sources=MappingProxyType(data["sources"] | {"legs_trunk": more["sources"]}))
    check_tree(model)
    model = with_abdomen(_with_wall_landmarks(_sized_thoracic_extensors(model)), lopt_src, lts_src, s)
    return _with_muscle_parameters(model, lopt_src, lts_src, s)


#: The landmarks of the back that touch a flat wall behind a person standing in the relaxed
#: reference posture, with the buttocks (`_with_wall_landmarks`).
WALL_LANDMARKS = ("occiput", "thorax_upper_back", "thorax_middle_back", "thorax_lower_back", "sacrum_back")
#: The landmarks of the front of which the outermost touches a flat wall in front of a person
#: standing in the relaxed reference posture: the table under a prone body (`supports`).
FRONT_WALL_LANDMARKS = ("forehead", "thorax_middle_front", "thorax_lower_front", "ASIS_front")


def _with_wall_landmarks(model: Model) -> Model:
    """The model with the landmarks a flat surface behind the body touches: in relaxed upright
    standing the back of the head, the upper back and the buttocks lie in one vertical plane
    (e.g. Kendall FP et al. (2005) Muscles: testing and function, the standard posture, R), the
    wall through the outermost of `WALL_LANDMARKS` in the reference posture. ``buttock``: the
    back of the gluteal mass, level with ``sacrum_back`` and on the wall; and the two ends of the
    middle thorax's resting patch on a table (`balance.root_patch`), on the wall level with the
    T8/T9 and the T4/T5 joints. Lying is that posture with the wall as the table
    (`supports.reference_posture`)."""
    pelvis = model.body_index("pelvis")
    S = kin.path_signs(model.joint_inferior, model.joint_superior, model.n_bodies, pelvis)
    ang, _, org, cen = kin.poses(S, model.joint_inferior, model.joint_superior,
                                 kin.as_complex(model.joint_in_inferior), kin.as_complex(model.joint_in_superior),
                                 np.asarray(model.reference_angle) + np.asarray(model.joint_offset),
                                 model.reference_pelvis_angle)
    org, cen = kin.as_real(org), kin.as_real(cen)
    lm = dict(model.landmarks)

    def wall_x(names, pick):               # the wall through the outermost of some landmarks
        return float(pick(kin.points_world(ang, org, np.array([lm[n][0] for n in names]),
                                           np.array([lm[n][1] for n in names]))[:, 0]))

    def on_wall(body, world_y_point, wall):   # the point of `body` on a wall at a world height
        b = model.body_index(body)
        p = np.array([wall, world_y_point[1]])
        return b, readonly(kin.rotation(-ang[b]) @ (p - org[b]))
    back, front = wall_x(WALL_LANDMARKS, np.min), wall_x(FRONT_WALL_LANDMARKS, np.max)
    sacrum = kin.points_world(ang, org, np.array([pelvis]), np.array([lm["sacrum_back"][1]]))[0]
    lm["buttock"] = on_wall("pelvis", sacrum, back)
    for side, wall in (("back", back), ("front", front)):
        lm[f"thorax_middle_{side}_inferior"] = on_wall("thorax_middle", cen[model.joint_index("T8_T9")], wall)
        lm[f"thorax_middle_{side}_superior"] = on_wall("thorax_middle", cen[model.joint_index("T4_T5")], wall)
    # and of the upper thorax's, on which a bridge rests (the pelvis lifted): level with the T4/T5
    # and the C7/T1 joints
    lm["thorax_upper_back_inferior"] = on_wall("thorax_upper", cen[model.joint_index("T4_T5")], back)
    lm["thorax_upper_back_superior"] = on_wall("thorax_upper", cen[model.joint_index("C7_T1")], back)
    return replace(model, landmarks=MappingProxyType(lm))


#: The paraspinal (erector spinae with multifidus) cross-sectional area at T9-T11 as a fraction
#: of that at L3-L5: 94.5 / 191.6 cm² (age < 38 y) and 87.6 / 198.3 cm² (≥ 38 y) in the MRI of
#: 76 adults of Sollmann N et al. (2020) Quant Imaging Med Surg 10:529-539 (PMC7063279,
#: Table 2, V): 0.47 (D, the mean of the two groups). Taken for the T4/T5 level too
#: (ASSUMPTION: no thoracic level-by-level data found, docs/reference/legs_trunk.md §3).
THORACIC_TO_LUMBAR_PARASPINAL = (94.5 + 87.6) / (191.6 + 198.3)
#: The transverse-process sites each added thoracic line joins (superior, inferior; each site on
#: the model segment its height puts it in, so that each line crosses one joint): fascicles
#: spanning four levels (the longissimus thoracis pars thoracis and semispinalis thoracis span
#: several, Bogduk N (2005) Clinical anatomy of the lumbar spine and sacrum, R), three across
#: each model thoracic joint.
THORACIC_EXTENSOR_SPANS = {"T8_T9": (("T6", "T10"), ("T7", "T11"), ("T8", "T12")),
                           "T4_T5": (("T2", "T6"), ("T3", "T7"), ("T4", "T8"))}


def thoracic_extensor_lines(muscles) -> list[dict]:
    """Lines of the thoracic extensors the source models lack (the thoracic parts of
    longissimus, iliocostalis and spinalis, semispinalis and multifidus thoracis), in the
    reference data's format: the lines of `THORACIC_EXTENSOR_SPANS` between the Lumbar_C_210
    longissimus transverse-process sites, at a force of 1 N that `_sized_thoracic_extensors`
    replaces once the model's geometry is known (docs/model.md §6)."""
    site = {m["source_name"].split("_")[1]: m["points"][-1] for m in muscles
            if m["source_name"].startswith("LTpT_T")}
    return [{"name": f"erector_spinae_thoracic_{sup}_{inf}", "group": "erector_spinae",
             "source": "thoracic extensor line (D): transverse-process sites of Lumbar_C_210, force "
                       "from the paraspinal cross-section of Sollmann et al. 2020",
             "max_isometric_force_N_per_side": 1.0,
             "points": [_behind(site[inf]), _behind(site[sup])]}
            for spans in THORACIC_EXTENSOR_SPANS.values() for sup, inf in spans]


#: How far the added thoracic extensor lines run behind the transverse-process sites (m): the
#: muscle bellies lie posterior to the processes, beside the spinous processes (ASSUMPTION; with
#: it the lines' moment arms about T8/T9 and T4/T5, ≈ 4.5 cm, approach the lumbar paraspinal
#: lines' mean moment arm about L4/L5 in the model, 4.75 cm, D).
THORACIC_EXTENSOR_DEPTH_M = 0.02


def _behind(point: dict) -> dict:
    return dict(point, xy_m=[point["xy_m"][0] - THORACIC_EXTENSOR_DEPTH_M, point["xy_m"][1]])


def _thorax_points(muscles, torso, bounds, origin, front: bool = False) -> dict:
    """The posterior-most (or, ``front``, the anterior-most) muscle point of each thoracic
    segment, in the segment's frame."""
    out: dict = {}
    sign = -1.0 if front else 1.0
    for m in muscles:
        for p in m["points"]:
            if p["body"] != "thorax":
                continue
            xy = np.array(p["xy_m"], float)
            body = THORAX_BODIES[int(np.searchsorted(bounds, xy[1]))]
            if body not in out or sign * xy[0] < sign * out[body][0]:
                out[body] = xy
    return {b: xy + torso - origin[b] for b, xy in out.items()}


def _checked_laws(intervertebral) -> dict[str, IntervertebralLaw]:
    """The intervertebral laws to build with: the defaults, or ``intervertebral`` validated."""
    if intervertebral is None:
        return default_intervertebral_laws()
    if not isinstance(intervertebral, Mapping):
        raise ModelError("intervertebral must be a mapping of spinal joint name -> "
                         f"IntervertebralLaw, got {type(intervertebral).__name__}")
    spinal = tuple(reversed(LUMBAR_LEVELS)) + ("T12_L1",)
    problems = []
    for key in intervertebral:
        if key not in spinal:
            close = difflib.get_close_matches(str(key), spinal, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"unknown spinal joint {key!r}{hint}")
    missing = [j for j in spinal if j not in intervertebral]
    if missing:
        problems.append(f"missing law for {', '.join(missing)}")
    for key, law in intervertebral.items():
        if key in spinal and not isinstance(law, IntervertebralLaw):
            problems.append(f"{key!r} must be an IntervertebralLaw, got {type(law).__name__}")
    if problems:
        raise ModelError("intervertebral laws: " + "; ".join(problems)
                         + f" (one law for each of {', '.join(spinal)})")
    return dict(intervertebral)


def neutral_standing_lengths(model: Model, q: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Musculotendon lengths (M,) in the neutral configuration (every q = 0, the femur vertical,
    the knee extended; or at joint angles ``q``, whose hip and knee also decide the conditional
    path points), and the length of each line's first segment (M,) (origin to the first via
    point: for the psoas, vertebra to the pelvic brim)."""
    q = np.zeros(model.n_joints) if q is None else np.asarray(q, float)
    paths = resolve_paths(model, q)
    total, seg = _pelvis_frame_lengths(model, paths, q)
    return total, seg[paths.seg_first]


def _pelvis_frame_lengths(model: Model, paths, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Musculotendon lengths (..., M) and segment lengths (..., Sg) of resolved ``paths`` at joint
    angles q (..., n_joints), the pelvis the root (lengths do not depend on the root)."""
    S = kin.path_signs(model.joint_inferior, model.joint_superior, model.n_bodies, model.body_index("pelvis"))
    ang, _, org, _ = kin.poses(S, model.joint_inferior, model.joint_superior,
                               kin.as_complex(model.joint_in_inferior), kin.as_complex(model.joint_in_superior),
                               np.asarray(model.joint_offset, float) + q, 0.0)
    return path_lengths(paths, kin.points_world(ang, kin.as_real(org), paths.body, paths.local))


def _neutral_moment_arms(model: Model, joints, h: float = 1e-6) -> np.ndarray:
    """Moment arms −∂L/∂q_j (len(joints), M) of every line about each of ``joints`` (spinal
    joints: they decide no conditional path point) in the neutral configuration, by central
    differences over ±h rad, all in one evaluation of the lengths."""
    e = np.zeros((len(joints), model.n_joints))
    e[np.arange(len(joints)), joints] = h
    lengths = _pelvis_frame_lengths(model, resolve_paths(model, np.zeros(model.n_joints)), np.concatenate([e, -e]))[0]
    return -(lengths[:len(joints)] - lengths[len(joints):]) / (2 * h)


def _sized_thoracic_extensors(model: Model) -> Model:
    """F_max of the added thoracic extensor lines (`thoracic_extensor_lines`): at each thoracic
    joint the paraspinal muscles crossing it have `THORACIC_TO_LUMBAR_PARASPINAL` × the force of
    the erector spinae and multifidus lines crossing L4/L5 (their summed F_max), acting at the
    moment arm of the added lines r_new; the Lumbar_C_210 lines already crossing it supply
    Σ F_i r_i of that moment, the added lines the rest: F_added = 0.47 F_lumbar − Σ F_i r_i / r_new
    (D; moment arms in the neutral configuration)."""
    fmax = np.array(model.max_isometric_force, float)
    paraspinal = np.isin(model.muscle_group, ("erector_spinae", "multifidus"))
    added = np.array([n.startswith("erector_spinae_thoracic_") for n in model.muscle_names])
    arms = _neutral_moment_arms(model, [model.joint_index(j) for j in ("L4_L5", *THORACIC_EXTENSOR_SPANS)])
    lumbar = fmax[paraspinal & ~added & (np.abs(arms[0]) > 1e-9)].sum()
    for (joint, spans), r in zip(THORACIC_EXTENSOR_SPANS.items(), arms[1:]):
        new = np.array([model.muscle_names.index(f"erector_spinae_thoracic_{a}_{b}") for a, b in spans])
        r_new = float(r[new].mean())
        old = paraspinal & ~added & (r > 0.0)
        fmax[new] = max(THORACIC_TO_LUMBAR_PARASPINAL * lumbar - float(fmax[old] @ r[old]) / r_new, 0.0) / len(new)
    return replace(model, max_isometric_force=fmax)


PUBLISHED = {"gait2392": "gait2392 (Delp 1990)", "mortensen2018": "Vasavada et al. 1998 / Mortensen et al. 2018"}


def _with_muscle_parameters(model: Model, lopt_src, lts_src, s: float) -> Model:
    """Fill l_opt and l_ts from published values or the neutral-length rule, and mark the lines
    whose passive force a published joint law already contains (`Model.excess_passive`)."""
    total, brim = neutral_standing_lengths(model)
    n = model.n_muscles
    lopt = np.zeros(n)
    lts = np.zeros(n)
    source = list(model.parameter_source)
    ref = model.muscle_names.index("psoas_L1_VB")
    for i in range(n):
        if lopt_src[i] is not None:
            lopt[i], lts[i] = lopt_src[i] * s, lts_src[i] * s
            source[i] = f"{PUBLISHED.get(source[i], source[i])}: l_opt, l_ts as published"
        elif model.muscle_group[i] == "psoas":
            lopt[i] = PS_L1_VB_OPTIMAL_FIBER_LENGTH_M * s * brim[i] / brim[ref]
            lts[i] = total[i] - lopt[i]
            source[i] = ("Lumbar_C_210 Ps_L1_VB l_opt (Christophy 2012), scaled by the "
                         "origin-to-brim length; l_ts = neutral length - l_opt (D)")
        else:
            lopt[i] = (1.0 - TENDON_SHARE) * total[i]
            lts[i] = TENDON_SHARE * total[i]
            source[i] = ("neutral-length rule: l_opt + l_ts = neutral standing length, "
                         "tendon share of Lumbar_C_210 Ps_L1_VB (D)")
    # the Riener & Edrich laws of the hip, knee and ankle were measured on relaxed subjects and
    # contain the passive force of the muscles crossing those joints at their normal resting
    # length: such a line counts only its passive force above that (docs/model.md §5)
    S = kin.path_signs(model.joint_inferior, model.joint_superior, model.n_bodies, model.body_index("pelvis"))
    leg = [j for j, law in enumerate(model.passive) if isinstance(law, LegLaw)]
    far = S[np.asarray(model.pt_body)][:, leg] != 0.0
    starts = np.asarray(model.line_ptr)[:-1]
    crosses = (np.logical_or.reduceat(far, starts, axis=0) & ~np.logical_and.reduceat(far, starts, axis=0)).any(1)
    return replace(model, optimal_fiber_length=lopt, tendon_slack_length=lts,
                   excess_passive=crosses, parameter_source=tuple(source))

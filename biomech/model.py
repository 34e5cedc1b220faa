"""The default lumbopelvic model: subject parameters in, an immutable `Model` out.

`build_model(Subject(...))` validates the subject, scales the reference geometry (from
`biomech/data/lumbopelvic.json`, extracted from the shared reference pack by
`scripts/extract_reference_data.py`), places the sacral plate for the subject's pelvic incidence
and derives every muscle's parameters. Nothing in a `Model` changes after it is built.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType

import numpy as np

from . import limits
from .errors import ModelError
from .names import BODIES, JOINTS, MUSCLE_GROUPS
from .passive import IntervertebralLaw, default_intervertebral_laws
from .threads import one_blas_thread

FloatArray = np.ndarray
_DEG = math.pi / 180.0

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

#: C7 skin marker (Rajagopal 2016) to C7 vertebral-body centre, in the thorax frame (m): the
#: spinous process and soft tissue, 5.5 cm straight anterior. ASSUMPTION (no source found: a
#: typical adult C7 spinous-process length plus skin); it moves C7, and so the SVA and the trunk
#: inclination, by the same amount in every posture.
C7_SKIN_TO_BODY_M = (0.055, 0.0)
#: Head + neck COM above the C7 body centre: de Leva 1996 head+neck COM at 50.02 % of the
#: vertex–C7 length 0.2429 m (0.121 m), taken vertically above C7 (assumption).
HEAD_COM_FROM_C7_M = (0.0, 0.121)
#: Both arms hanging: COM ≈ 0.30 m below the glenohumeral centre (de Leva 1996 segment lengths
#: and COM fractions combined), the glenohumeral centre ≈ 0.04 m below and 0.03 m anterior of
#: the C7 body centre (assumption).
ARMS_COM_FROM_C7_M = (0.03, -0.34)

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


@dataclass(frozen=True)
class Subject:
    """Subject parameters.

    Parameters
    ----------
    body_mass_kg : 30-200 kg. Masses scale with it, muscle forces with its 2/3 power.
    height_m : 1.2-2.2 m. Lengths scale with height / 1.70 m.
    pelvic_incidence_deg : 20-90°. Rotates the sacrum and spine about the sacral plate.
    muscle_strength_scale : 0.2-5. Multiplies every line's maximum isometric force (on top of
        the body-mass scaling), e.g. for weak or trained subjects.
    tone_scale : 0-10. Multiplies the EMG floors of the relaxed-standing tone
        (`muscles.DEFAULT_TONE`); the baseline tone is recomputed on top of the scaled floors,
        so the relaxed posture is kept while co-contraction (and so muscle stiffness) changes.
    """

    body_mass_kg: float = 75.0
    height_m: float = 1.75
    pelvic_incidence_deg: float = 52.0
    muscle_strength_scale: float = 1.0
    tone_scale: float = 1.0

    def __post_init__(self):
        for name in ("body_mass_kg", "height_m", "pelvic_incidence_deg", "muscle_strength_scale",
                     "tone_scale"):
            limits.check("Subject", f"subject.{name}", getattr(self, name))


@dataclass(frozen=True, eq=False)
class Model:
    """An immutable lumbopelvic model. Arrays are read-only; all positions in body frames (m).

    Bodies and joints are indexed as in `names.BODIES` and `names.JOINTS`.
    """

    subject: Subject
    mass: FloatArray                 # (8,) kg; femur = both lower limbs at knee 0 (thigh only: see leg_*)
    com: FloatArray                  # (8, 2) COM in body frame
    leg_mass: FloatArray             # (2,) kg: both shanks, both feet
    leg_com_tibia: FloatArray        # (2, 2) their COMs in the tibia frame
    knee_in_femur: FloatArray        # (2,) knee point (tibia origin) in the femur frame
    joint_in_parent: FloatArray      # (7, 2)
    joint_in_child: FloatArray       # (7, 2)
    joint_offset: FloatArray         # (7,) rad: child frame rotation at q = 0 (PI rotation at L5_S1)
    reference_angle: FloatArray      # (7,) rad: spinal joint angles of the relaxed reference posture (hip: 0)
    rest_angle: FloatArray           # (7,) rad: stress-free angle of each spinal joint (hip: 0)
    reference_pelvis_angle: float    # rad: pelvis orientation (world) of the relaxed reference posture
    intervertebral: MappingProxyType  # spinal joint name -> IntervertebralLaw
    landmarks: MappingProxyType      # name -> (body index, (2,) point)
    endplate_body: FloatArray        # (6,) int: S1 (pelvis), L5, L4, L3, L2, L1
    endplate_mid: FloatArray         # (6, 2) superior endplate midpoint in body frame
    endplate_angle: FloatArray       # (6,) anterior direction of the endplate in the body frame (rad)
    endplate_depth: FloatArray       # (6,) anteroposterior depth (m)
    muscle_names: tuple
    muscle_group: tuple
    max_isometric_force: FloatArray  # (M,) N, both sides
    optimal_fiber_length: FloatArray  # (M,) m
    tendon_slack_length: FloatArray  # (M,) m
    pennation: FloatArray            # (M,) rad
    crosses_hip: FloatArray          # (M,) bool
    parameter_source: tuple          # (M,) where each line's l_opt / l_ts come from
    line_ptr: FloatArray             # (M+1,) int: points of line i are line_ptr[i]:line_ptr[i+1]
    pt_body: FloatArray              # (P,) int body index; -1 = tibia
    pt_local: FloatArray             # (P, 2) in the body (or tibia) frame
    pt_z: FloatArray                 # (P,) lateral offset (m), constant
    pt_condition: FloatArray         # (P, 3): kind (0 none, 1 hip flexion, 2 knee angle), lo, hi (rad)
    pt_sacral: FloatArray            # (P,) bool: attached to the sacral part (moves with PI)
    sources: MappingProxyType = field(repr=False)
    baseline_activation: FloatArray = field(default=None, repr=False)  # (M,) relaxed-standing tone
    hip_passive_scale: float = 1.0   # multiplies the hip passive moment (Riener & Edrich law)

    @property
    def n_muscles(self) -> int:
        return len(self.muscle_names)

    def group_lines(self, group: str) -> np.ndarray:
        """Indices of the lines of a muscle group."""
        return np.array([i for i, g in enumerate(self.muscle_group) if g == group], dtype=int)

    # pickling (to send models and results to worker processes, `parallel.py`): read-only
    # mappings travel as dicts and come back read-only, arrays come back read-only
    def __getstate__(self) -> dict:
        return {k: dict(v) if isinstance(v, MappingProxyType) else v for k, v in self.__dict__.items()}

    def __setstate__(self, state: dict) -> None:
        for k, v in state.items():
            if k == "landmarks":
                v = MappingProxyType({name: (b, _readonly(p)) for name, (b, p) in v.items()})
            elif k in ("intervertebral", "sources"):
                v = MappingProxyType(v)
            elif isinstance(v, np.ndarray):
                v.setflags(write=False)
            object.__setattr__(self, k, v)


def _rot(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s], [s, c]])


def _readonly(a):
    a = np.array(a)
    a.setflags(write=False)
    return a


def load_reference_data() -> dict:
    """The extracted reference data (`biomech/data/lumbopelvic.json`)."""
    with resources.files("biomech").joinpath("data/lumbopelvic.json").open("r") as f:
        return json.load(f)


def muscle_line_names() -> tuple[str, ...]:
    """Names of all muscle lines of the default model, without building it."""
    return tuple(m["name"] for m in load_reference_data()["muscles"])


def _pelvic_incidence(s_pt, normal_angle, hip) -> float:
    v = hip - s_pt
    return math.atan2(v[0], -v[1]) - normal_angle  # PT + SS with SS = -normal_angle


@one_blas_thread
def build_model(subject: Subject | None = None, *,
                intervertebral: dict[str, IntervertebralLaw] | None = None,
                hip_passive_scale: float = 1.0) -> Model:
    """Build the default lumbopelvic model for a subject.

    Parameters
    ----------
    subject : Subject, optional (default: the documented average adult, 75 kg, 1.75 m, PI 52°).
    intervertebral : optional replacement passive laws, keyed by spinal joint name: one
        `IntervertebralLaw` for each of ``L5_S1``, ``L4_L5``, ``L3_L4``, ``L2_L3``, ``L1_L2`` and
        ``T12_L1`` (e.g. ``{j: law.scaled(2) for j, law in default_intervertebral_laws().items()}``).
    hip_passive_scale : 0-10, multiplies the hip passive moment (default 1).

    The passive laws are part of the subject: the baseline tone is fitted with them, so that a
    subject with stiffer discs or a weaker hip still holds the relaxed reference posture.

    Raises
    ------
    ModelError
        On a bad subject, or when ``intervertebral`` misses a spinal joint, names an unknown one
        or holds something other than an `IntervertebralLaw`.
    """
    subject = subject or Subject()
    if not isinstance(subject, Subject):
        raise ModelError(f"subject must be a biomech.Subject, got {type(subject).__name__}")
    if (isinstance(hip_passive_scale, bool) or not isinstance(hip_passive_scale, (int, float))
            or not 0.0 <= hip_passive_scale <= 10.0):
        raise ModelError(f"hip_passive_scale must be a number within 0-10, got {hip_passive_scale!r}")
    laws = _checked_laws(intervertebral)
    data = load_reference_data()
    s = subject.height_m / REFERENCE_HEIGHT_M
    bm = subject.body_mass_kg
    ch = data["christophy"]
    gait = data["gait2392"]

    # ---------------- neutral geometry in the pelvis frame (reference PI, unscaled) --------
    origin = {"pelvis": np.zeros(2), "femur": np.array(gait["hip_centre_in_pelvis_m"], float)}
    for b in ("L5", "L4", "L3", "L2", "L1", "thorax"):
        origin[b] = np.array(ch["origin_in_pelvis_m"][b], float)
    hip = origin["femur"].copy()

    jp = {"hip": np.zeros(2)}           # in parent frame
    jc = {"hip": hip.copy()}            # in child (pelvis) frame
    for j in ("L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2"):
        jp[j] = np.array(ch["joints"][j]["in_parent_m"], float)
        jc[j] = np.array(ch["joints"][j]["in_child_m"], float)
    centre = {"L5_S1": jp["L5_S1"]}
    parent = dict(zip(JOINTS, BODIES[:-1]))
    for j in ("L4_L5", "L3_L4", "L2_L3", "L1_L2"):
        centre[j] = origin[parent[j]] + jp[j]

    # vertebral axes (normal of each superior endplate): cumulative Bruno et al. 2015 frames
    bruno = data["bruno_axis_orientation_rad"]
    axis = {}
    acc = 0.0
    for body, j in zip(("L5", "L4", "L3", "L2", "L1"), ("L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2")):
        acc += bruno[j]
        axis[body] = acc

    def normal(a):
        return np.array([-math.sin(a), math.cos(a)])

    # T12_L1: one L1 height above L1_L2 along the L1 axis: Bruno et al. 2015's L1 -> T12 joint
    # height (31.3 mm, pack §1.3, M) brought back to Lumbar_C_210 size. Bruno's model is
    # Lumbar_C_210 scaled by 0.883: its sacrum->pelvis weld is 0.043263 m against Lumbar_C_210's
    # 0.049 m (pack §1.1, M; the note of `bruno_joint_height_m` in the data file).
    l1_height = data["bruno_joint_height_m"]["T12_L1"][1] / 0.883
    centre["T12_L1"] = centre["L1_L2"] + l1_height * normal(axis["L1"])
    jp["T12_L1"] = centre["T12_L1"] - origin["L1"]
    jc["T12_L1"] = centre["T12_L1"] - origin["thorax"]

    # superior endplates of L5..L1: half a disc below the joint above, normal = vertebral axis
    above = {"L5": "L4_L5", "L4": "L3_L4", "L3": "L2_L3", "L2": "L1_L2", "L1": "T12_L1"}
    ep_mid = {b: centre[above[b]] - 0.5 * DISC_HEIGHT_M[above[b]] * normal(axis[b]) - origin[b]
              for b in above}
    ep_ang = dict(axis)  # anterior direction angle = normal angle (both rotate with the body)

    # sacral plate: half the L5/S1 disc below L5_S1; normal such that PI = reference PI
    pi_ref = REFERENCE_PELVIC_INCIDENCE_DEG * _DEG
    psi = -0.7
    for _ in range(50):
        s_pt = centre["L5_S1"] - 0.5 * DISC_HEIGHT_M["L5_S1"] * normal(psi)
        psi_new = psi - (pi_ref - _pelvic_incidence(s_pt, psi, hip))
        if abs(psi_new - psi) < 1e-13:
            break
        psi = psi_new
    s_pt = centre["L5_S1"] - 0.5 * DISC_HEIGHT_M["L5_S1"] * normal(psi)

    # ---------------- pelvic incidence: rotate the sacral part about S --------------------
    delta = -(subject.pelvic_incidence_deg * _DEG - pi_ref)
    rot_d = _rot(delta)

    def sacral(p):
        return s_pt + rot_d @ (np.asarray(p, float) - s_pt)

    jp["L5_S1"] = sacral(jp["L5_S1"])
    offset = np.zeros(7)
    offset[JOINTS.index("L5_S1")] = delta
    sacral_psi = psi + delta

    # ---------------- landmarks (pelvis frame, thorax frame) -------------------------------
    raj = data["rajagopal_landmarks"]
    shift = hip - np.array(raj["pelvis_frame"]["hip_centre"], float)   # Rajagopal -> gait2392 pelvis
    asis = np.array(raj["pelvis_frame"]["RASI"], float) + shift
    psis = np.array(raj["pelvis_frame"]["RPSI"], float) + shift
    torso_raj = np.array(raj["torso_frame"]["torso_origin_in_pelvis_frame"], float) + shift
    c7_skin = torso_raj + np.array(raj["torso_frame"]["C7"], float)
    c7_body = c7_skin + np.array(C7_SKIN_TO_BODY_M)
    muscles = data["muscles"]

    def first_point(src_name, k=0):
        ln = next(m for m in muscles if m["source_name"] == src_name)
        return np.array(ln["points"][k]["xy_m"], float)

    pubis = first_point("rect_abd_r")          # rectus abdominis origin on the pubic crest (D)
    ischium = first_point("semimem_r")         # hamstring origin on the ischial tuberosity (D)
    sacrum_back = sacral(first_point("MF_m4t.3_r"))  # most posterior-inferior sacral multifidus origin (D)
    pelvis_lm = {"hip_centre": hip, "ASIS": asis, "PSIS": psis, "pubic_symphysis": pubis,
                 "ischial_tuberosity": ischium, "sacrum_posterior": sacrum_back,
                 "S1_midpoint": s_pt}
    landmarks = {k: (1, v * s) for k, v in pelvis_lm.items()}
    landmarks["C7"] = (7, (c7_body - origin["thorax"]) * s)
    landmarks["C7_skin"] = (7, (c7_skin - origin["thorax"]) * s)
    landmarks["T12_L1_centre"] = (7, jc["T12_L1"] * s)
    landmarks["knee"] = (0, np.array(gait["knee_in_femur_m"], float) * s)

    # ---------------- masses ----------------------------------------------------------------
    trunk_src = {b: ch["mass_kg"][b] for b in ("pelvis", "L5", "L4", "L3", "L2", "L1", "thorax")}
    trunk_total = sum(trunk_src.values())
    mass = np.zeros(8)
    com = np.zeros((8, 2))
    for b, m_src in trunk_src.items():
        mass[BODIES.index(b)] = DE_LEVA_MALE["trunk"] * bm * m_src / trunk_total
    for b in ("L5", "L4", "L3", "L2", "L1", "thorax"):
        com[BODIES.index(b)] = ch["com_in_body_m"][b]
    com[1] = gait["bodies"]["pelvis"]["com_xy"]            # gait2392 pelvis COM (M)
    # thorax: Lumbar_C_210 torso + head/neck + both arms, placed relative to C7
    c7_local = c7_body - origin["thorax"]
    parts = [(mass[7], com[7]),
             (DE_LEVA_MALE["head_neck"] * bm, c7_local + HEAD_COM_FROM_C7_M),
             (2 * (DE_LEVA_MALE["upper_arm"] + DE_LEVA_MALE["forearm"] + DE_LEVA_MALE["hand"]) * bm,
              c7_local + ARMS_COM_FROM_C7_M)]
    mass[7] = sum(m for m, _ in parts)
    com[7] = sum(m * np.asarray(c) for m, c in parts) / mass[7]
    knee = np.array(gait["knee_in_femur_m"], float)
    mass[0] = 2 * DE_LEVA_MALE["thigh"] * bm
    com[0] = DE_LEVA_THIGH_COM * knee
    leg_mass = np.array([2 * DE_LEVA_MALE["shank"] * bm, 2 * DE_LEVA_MALE["foot"] * bm])
    shank_len = 0.43   # gait2392 tibia origin to ankle, m (R)
    # shank COM: de Leva 1996 fraction along the shank; foot COM 5 cm anterior of and 4 cm below
    # the ankle: ASSUMPTION (a typical adult foot, not taken from de Leva's table; the feet are
    # 2.7 % of body mass and only move with the knee angle).
    leg_com_tibia = np.array([[0.0, -DE_LEVA_SHANK_COM * shank_len], [0.05, -shank_len - 0.04]])
    com = com * s
    com[0] = com[0]  # femur COM is already in scaled knee units below
    com[0] = DE_LEVA_THIGH_COM * knee * s
    leg_com_tibia = leg_com_tibia * s

    # ---------------- body-frame joint positions (scaled) -----------------------------------
    joint_in_parent = np.array([jp[j] for j in JOINTS]) * s
    joint_in_child = np.array([jc[j] for j in JOINTS]) * s
    # the pelvis frame joint location of the hip in the femur frame is the femur origin: (0, 0)

    # ---------------- relaxed reference posture (docs/calibration.md) --------------------
    # pelvis rotated (world) so that PT = REFERENCE_PELVIC_TILT_DEG; PT grows one for one with a
    # counter-clockwise pelvis rotation. The lumbar levels share the extension that keeps the
    # thorax at the pelvis frame's orientation, in proportion to their range of motion; these
    # angles are the stress-free angles of the intervertebral joints.
    v = hip - s_pt
    pt_identity = math.atan2(v[0], -v[1])
    pelvis_ref = REFERENCE_PELVIC_TILT_DEG * _DEG - pt_identity
    levels = ("L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2")
    rom = np.array([laws[lv].rom_extension_rad + laws[lv].rom_flexion_rad for lv in levels])
    rest = np.zeros(7)
    for lv, w in zip(levels, rom / rom.sum()):
        rest[JOINTS.index(lv)] = (-delta - pelvis_ref) * w
    # thorax upright: T12_L1 takes the rotation that brings the T12/L1 -> C7 line vertical
    # (trunk inclination 0°, the normative "trunk upright" of the calibration targets)
    axis_thorax = c7_body - centre["T12_L1"]
    thorax_lean = math.atan2(axis_thorax[0], axis_thorax[1])    # + = forward, at pelvis-frame level
    rest[JOINTS.index("T12_L1")] = thorax_lean
    # body angles in the reference posture, and endplates placed to the normative distribution
    ang_ref = {"pelvis": pelvis_ref}
    acc = pelvis_ref
    for j, b in zip(JOINTS[1:], BODIES[2:]):
        acc += rest[JOINTS.index(j)] + offset[JOINTS.index(j)]
        ang_ref[b] = acc
    s1_world = pelvis_ref + sacral_psi
    l1_world = ang_ref["L1"] + ep_ang["L1"]
    ll_ref = l1_world - s1_world
    share = np.array([REFERENCE_SEGMENTAL_SHARE[lv] for lv in levels])
    cum = s1_world + np.cumsum(share / share.sum()) * ll_ref      # L5 … L1 endplates (world)
    for b, world in zip(("L5", "L4", "L3", "L2", "L1"), cum):
        ep_ang[b] = world - ang_ref[b]

    # ---------------- endplates ---------------------------------------------------------
    ep_bodies = ("pelvis", "L5", "L4", "L3", "L2", "L1")
    endplate_body = np.array([BODIES.index(b) for b in ep_bodies])
    endplate_mid = np.array([s_pt] + [ep_mid[b] for b in ep_bodies[1:]]) * s
    endplate_angle = np.array([sacral_psi] + [ep_ang[b] for b in ep_bodies[1:]])
    endplate_depth = np.array([ENDPLATE_DEPTH_M["S1"]] + [ENDPLATE_DEPTH_M[b] for b in ep_bodies[1:]]) * s

    # ---------------- muscles ------------------------------------------------------------
    names, groups, fmax, pen, srcs, ptr = [], [], [], [], [], [0]
    pbody, plocal, pz, pcond, psac = [], [], [], [], []
    lopt_src, lts_src = [], []
    body_index = {b: i for i, b in enumerate(BODIES)} | {"tibia": -1}
    # both sides (× 2); F_max ∝ (mass / 75 kg)^(2/3): ASSUMPTION of geometric similarity (force ∝
    # cross-sectional area ∝ length², mass ∝ length³), the exponent 0.67 recommended for muscle
    # force by Jaric S (2002) Sports Med 32:615-631 and found by Markovic G, Jaric S (2004) Eur J
    # Appl Physiol 92:139-149 (V, abstracts).
    force_scale = 2.0 * (bm / REFERENCE_MASS_KG) ** (2.0 / 3.0) * subject.muscle_strength_scale
    for m in muscles:
        if m["group"] not in MUSCLE_GROUPS:
            raise ModelError(f"reference data: unknown muscle group {m['group']!r}")
        names.append(m["name"])
        groups.append(m["group"])
        fmax.append(m["max_isometric_force_N_per_side"] * force_scale)
        pen.append(m.get("pennation_rad", 0.0))
        lopt_src.append(m.get("optimal_fiber_length_m"))
        lts_src.append(m.get("tendon_slack_length_m"))
        srcs.append(m["source"])
        for p in m["points"]:
            xy = np.array(p["xy_m"], float)
            is_sacral = p.get("part") == "sacrum"
            if is_sacral:
                xy = sacral(xy)
            pbody.append(body_index[p["body"]])
            plocal.append(xy * s)
            pz.append(p["z_m"] * s)
            psac.append(is_sacral)
            if "active_range_rad" in p:
                kind = 1 if p["body"] == "pelvis" else 2
                pcond.append((kind, *p["active_range_rad"]))
            else:
                pcond.append((0, 0.0, 0.0))
        ptr.append(len(pbody))

    model = Model(
        subject=subject, mass=_readonly(mass), com=_readonly(com), leg_mass=_readonly(leg_mass),
        leg_com_tibia=_readonly(leg_com_tibia), knee_in_femur=_readonly(knee * s),
        joint_in_parent=_readonly(joint_in_parent), joint_in_child=_readonly(joint_in_child),
        joint_offset=_readonly(offset), reference_angle=_readonly(rest), rest_angle=_readonly(rest),
        reference_pelvis_angle=float(pelvis_ref), intervertebral=MappingProxyType(laws),
        landmarks=MappingProxyType({k: (b, _readonly(v)) for k, (b, v) in landmarks.items()}),
        endplate_body=_readonly(endplate_body), endplate_mid=_readonly(endplate_mid),
        endplate_angle=_readonly(endplate_angle), endplate_depth=_readonly(endplate_depth),
        muscle_names=tuple(names), muscle_group=tuple(groups),
        max_isometric_force=_readonly(fmax), optimal_fiber_length=_readonly(np.zeros(len(names))),
        tendon_slack_length=_readonly(np.zeros(len(names))), pennation=_readonly(pen),
        crosses_hip=_readonly(np.zeros(len(names), bool)), parameter_source=tuple(srcs),
        line_ptr=_readonly(np.array(ptr)), pt_body=_readonly(np.array(pbody)),
        pt_local=_readonly(np.array(plocal)), pt_z=_readonly(np.array(pz)),
        pt_condition=_readonly(np.array(pcond, float)), pt_sacral=_readonly(np.array(psac)),
        sources=MappingProxyType(data["sources"]), hip_passive_scale=float(hip_passive_scale))
    model = _with_muscle_parameters(model, lopt_src, lts_src, s)
    from .tone import baseline_activation  # local: tone builds on statics, which imports model
    activation, passive = baseline_activation(model)
    # where the muscles cannot hold the reference posture, the passive tissues do: offset the
    # stress-free angle so that each spinal joint's law gives that moment there
    rest = np.array(model.rest_angle, float)
    for k, j in enumerate(JOINTS[1:], start=1):
        if passive[k] != 0.0:
            rest[k] -= _angle_for_moment(model.intervertebral[j], passive[k])
    return _replace(model, baseline_activation=_readonly(activation), rest_angle=_readonly(rest))


def _checked_laws(intervertebral) -> dict[str, IntervertebralLaw]:
    """The intervertebral laws to build with: the defaults, or ``intervertebral`` validated."""
    if intervertebral is None:
        return default_intervertebral_laws()
    if not isinstance(intervertebral, Mapping):
        raise ModelError("intervertebral must be a mapping of spinal joint name -> "
                         f"IntervertebralLaw, got {type(intervertebral).__name__}")
    spinal = JOINTS[1:]
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


def _angle_for_moment(law: IntervertebralLaw, moment: float) -> float:
    """The angle θ (rad) from the stress-free angle at which ``law`` exerts ``moment`` (N·m)."""
    from .passive import intervertebral_moment
    coeffs = np.array([law.coefficients()])
    theta = 0.0
    for _ in range(100):
        m, dm = intervertebral_moment(coeffs, np.array([theta]))
        step = (m[0] - moment) / dm[0]
        theta -= step
        if abs(step) < 1e-14:
            return theta
    raise ModelError(f"no intervertebral angle gives a passive moment of {moment:.3g} N·m")


def _with_muscle_parameters(model: Model, lopt_src, lts_src, s: float) -> Model:
    """Fill l_opt, l_ts and hip crossing from published values or the neutral-length rule."""
    from .kinematics import neutral_standing_lengths  # local: kinematics imports model

    total, brim = neutral_standing_lengths(model)
    n = model.n_muscles
    lopt = np.zeros(n)
    lts = np.zeros(n)
    source = list(model.parameter_source)
    ref = model.muscle_names.index("psoas_L1_VB")
    for i in range(n):
        if lopt_src[i] is not None:
            lopt[i], lts[i] = lopt_src[i] * s, lts_src[i] * s
            source[i] = "gait2392 (Delp 1990): l_opt, l_ts as published"
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
    bodies = model.pt_body
    crosses = np.array([np.any(bodies[a:b] <= 0) and np.any(bodies[a:b] >= 1)
                        for a, b in zip(model.line_ptr[:-1], model.line_ptr[1:])])
    return _replace(model, optimal_fiber_length=_readonly(lopt), tendon_slack_length=_readonly(lts),
                    crosses_hip=_readonly(crosses), parameter_source=tuple(source))


def _replace(model: Model, **changes) -> Model:
    import dataclasses
    return dataclasses.replace(model, **changes)

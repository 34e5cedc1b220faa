"""Clinical spinopelvic metrics (conventions §3) from landmark positions at a posture.

Input: a problem and a `statics.Geometry` (world frame, radians inside); output: the metrics
in degrees (SVA in millimetres), with their clinical signs. Angles of lines are measured in the
world frame (x anterior, y superior): "horizontal" and "vertical" are the world axes.
"""

from __future__ import annotations

import math

import numpy as np

from . import kinematics as kin
from .balance import NO_LOAD_N, balance_checked, centre_of_mass, reaction
from .external import contact_forces
from .names import LUMBAR_LEVELS
from .statics import landmarks
from .units import DEG_PER_RAD


def endplates(problem, geo):
    """Superior endplates S1, L5, L4, L3, L2, L1: midpoints (6, 2), anterior directions (6, 2),
    and the angle of each anterior direction (6,) (rad, counter-clockwise from +x)."""
    m = problem.model
    mid = kin.points_world(geo.angles, geo.origins, m.endplate_body, m.endplate_mid)
    ang = geo.angles[m.endplate_body] + m.endplate_angle
    t = np.stack([np.cos(ang), np.sin(ang)], -1)
    return mid, t, ang


def clinical_metrics(problem, geo, root=None, plates=None) -> dict:
    """All conventions §3 metrics, in degrees (SVA in mm), plus segmental lordosis per level.
    ``root``, ``plates``: the support's `balance.reaction` and the `endplates` at ``geo``, if
    already computed."""
    mid, t, ang = plates if plates is not None else endplates(problem, geo)
    s_mid, s_t = mid[0], t[0]
    hip, asis, psis, c7, t12, t1 = landmarks(
        problem, geo, ("hip_centre", "ASIS", "PSIS", "C7", "T12_L1_centre", "T1_centre"))
    v = hip - s_mid
    pt = math.atan2(v[0], -v[1])                   # + when H is anterior of S
    ss = -math.atan2(s_t[1], s_t[0])               # + when the anterior end of the plate is lower
    # PI: from the downward plate normal to S->H; equals PT + SS identically (docs/model.md §10)
    pi = pt + ss
    seg = {}
    for k, level in enumerate(reversed(LUMBAR_LEVELS)):        # L5_S1 … L1_L2
        seg[level] = _wrap(ang[k + 1] - ang[k]) * DEG_PER_RAD  # upper endplate relative to lower: + = lordotic
    ll = _wrap(ang[-1] - ang[0]) * DEG_PER_RAD
    d = asis - psis
    w = c7 - t12
    corner = s_mid - 0.5 * problem.model.endplate_depth[0] * s_t   # posterior-superior corner of S1
    m = problem.model
    plate = {k: geo.angles[b] + a for k, (b, a) in m.plates.items()}
    a_t1 = math.atan2(t1[0] - hip[0], t1[1] - hip[1])             # + when T1 is anterior of the hips
    a_s1 = math.atan2(s_mid[0] - hip[0], s_mid[1] - hip[1])
    legs = {sfx: leg_metrics(problem, geo, sfx) for sfx in m.leg_suffixes}
    ankle = landmarks(problem, geo, ("ankle" + problem.support.root_leg(m.leg_suffixes),))[0]
    com_mm = cop_mm = math.nan
    if problem.support.kind != "lying" and balance_checked(problem):
        com_mm = (centre_of_mass(problem, geo)[0] - ankle[0]) * 1000.0
        r = root if root is not None else reaction(problem, geo)
        cop_mm = (_centre_of_pressure(problem, geo, r) - ankle[0]) * 1000.0
    return {
        "pelvic_incidence_deg": pi * DEG_PER_RAD,
        "sacral_slope_deg": ss * DEG_PER_RAD,
        "pelvic_tilt_deg": pt * DEG_PER_RAD,
        "lumbar_lordosis_deg": ll,
        "anterior_pelvic_tilt_deg": -math.atan2(d[1], d[0]) * DEG_PER_RAD,
        "hip_flexion_deg": legs.get("", {}).get("hip_flexion_deg", math.nan),
        "trunk_inclination_deg": math.degrees(math.atan2(w[0], w[1])),
        "sagittal_vertical_axis_mm": (c7[0] - corner[0]) * 1000.0,
        "thoracic_kyphosis_deg": _wrap(plate["T12_inferior"] - plate["T4_superior"]) * DEG_PER_RAD,
        "t1_pelvic_angle_deg": _wrap(a_t1 - a_s1) * DEG_PER_RAD,
        "head_angle_deg": _wrap(plate["Frankfort"]) * DEG_PER_RAD,
        **{k: legs.get("", {}).get(k, math.nan) for k in LEG_METRICS[1:]},
        "centre_of_mass_mm": com_mm,
        "centre_of_pressure_mm": cop_mm,
        "segmental_lordosis_deg": {lv: seg[lv] for lv in LUMBAR_LEVELS},
        # with two legs the leg metrics above are undefined (NaN) and each leg's are given here
        **{f"{k}{sfx}": v for sfx, leg in legs.items() if sfx for k, v in leg.items()},
    }


def _centre_of_pressure(problem, geo, root) -> float:
    """World x (m) of the centre of pressure of the floor: of the root's reaction, or standing on
    two legs of every normal force of the floor together (the root's, a kneeling leg's contacts
    and a second foot's); NaN when it carries no load (`balance.Reaction.centre_of_pressure`)."""
    x = root.centre_of_pressure[0]
    if not (problem.model.sides and (len(problem.contact_body) or len(problem.floor_body))):
        return x
    _, pts, force = contact_forces(problem, geo)
    n = np.asarray(problem.patch.normal, float)
    normal = force @ n
    total = root.normal_N + normal.sum()
    if total < NO_LOAD_N:
        return math.nan
    return float((root.a_N * root.a[0] + root.b_N * root.b[0] + normal @ pts[:, 0]) / total)


#: The metrics of one leg (conventions §3): with two legs, each leg's as ``<key>_right``,
#: ``<key>_left``.
LEG_METRICS = ("hip_flexion_deg", "knee_flexion_deg", "ankle_dorsiflexion_deg", "thigh_inclination_deg")


def leg_metrics(problem, geo, sfx: str = "") -> dict:
    """The `LEG_METRICS` (deg) of the leg with name suffix ``sfx`` (`Model.leg_suffixes`)."""
    m, q = problem.model, geo.q
    hip, knee = landmarks(problem, geo, ("hip_centre", "knee" + sfx))
    thigh = knee - hip
    return {"hip_flexion_deg": -q[m.joint_index("hip" + sfx)] * DEG_PER_RAD,
            "knee_flexion_deg": q[m.joint_index("knee" + sfx)] * DEG_PER_RAD,
            "ankle_dorsiflexion_deg": -q[m.joint_index("ankle" + sfx)] * DEG_PER_RAD,
            "thigh_inclination_deg": math.degrees(math.atan2(thigh[0], -thigh[1]))}


def _wrap(a: float) -> float:
    return (a + math.pi) % (2 * math.pi) - math.pi

"""Clinical spinopelvic metrics (conventions §3) from landmark positions. Radians in and out.

Angles of lines are measured in the world frame (x anterior, y superior): "horizontal" and
"vertical" are the world axes.
"""

from __future__ import annotations

import math

import numpy as np

from . import kinematics as kin
from .names import LUMBAR_LEVELS

_DEG = 180.0 / math.pi


def landmark(problem, geo, name: str) -> np.ndarray:
    """World position (2,) of a named landmark at a posture."""
    b, loc = problem.model.landmarks[name]
    return kin.points_world(geo.angles, geo.origins, np.array([b]), np.asarray(loc)[None])[0]


def endplates(problem, geo):
    """Superior endplates S1, L5, L4, L3, L2, L1: midpoints (6, 2), anterior directions (6, 2),
    and the angle of each anterior direction (6,) (rad, counter-clockwise from +x)."""
    m = problem.model
    mid = kin.points_world(geo.angles, geo.origins, m.endplate_body, m.endplate_mid)
    ang = geo.angles[m.endplate_body] + m.endplate_angle
    t = np.stack([np.cos(ang), np.sin(ang)], -1)
    return mid, t, ang


def clinical_metrics(problem, geo) -> dict:
    """All conventions §3 metrics, in degrees (SVA in mm), plus segmental lordosis per level."""
    mid, t, ang = endplates(problem, geo)
    s_mid, s_t = mid[0], t[0]
    hip = landmark(problem, geo, "hip_centre")
    v = hip - s_mid
    pt = math.atan2(v[0], -v[1])                   # + when H is anterior of S
    ss = -math.atan2(s_t[1], s_t[0])               # + when the anterior end of the plate is lower
    # PI: from the downward plate normal to S->H; equals PT + SS identically (docs/model.md §10)
    pi = pt + ss
    seg = {}
    for k, level in enumerate(("L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2")):
        seg[level] = _wrap(ang[k + 1] - ang[k]) * _DEG   # upper endplate relative to lower: + = lordotic
    ll = _wrap(ang[5] - ang[0]) * _DEG
    asis, psis = landmark(problem, geo, "ASIS"), landmark(problem, geo, "PSIS")
    d = asis - psis
    c7 = landmark(problem, geo, "C7")
    t12 = landmark(problem, geo, "T12_L1_centre")
    w = c7 - t12
    corner = s_mid - 0.5 * problem.model.endplate_depth[0] * s_t   # posterior-superior corner of S1
    return {
        "pelvic_incidence_deg": pi * _DEG,
        "sacral_slope_deg": ss * _DEG,
        "pelvic_tilt_deg": pt * _DEG,
        "lumbar_lordosis_deg": ll,
        "anterior_pelvic_tilt_deg": -math.atan2(d[1], d[0]) * _DEG,
        "hip_flexion_deg": -geo.q[0] * _DEG,
        "trunk_inclination_deg": math.atan2(w[0], w[1]) * _DEG,
        "sagittal_vertical_axis_mm": (c7[0] - corner[0]) * 1000.0,
        "segmental_lordosis_deg": {lv: seg[lv] for lv in LUMBAR_LEVELS},
    }


def _wrap(a: float) -> float:
    return (a + math.pi) % (2 * math.pi) - math.pi

"""Drawing a solved posture: the skeleton of one posture and the pieces every figure shares.

`skeleton(report)` turns a posture report into world-frame outlines (vertebrae, discs, sacrum,
innominate, femur, thorax, muscle paths, support planes); `draw_bones`, `draw_muscles` and
`draw_angles` draw them on a matplotlib axes; `STYLE`, `LAYERS` and the helpers keep every
figure of the project (`viz.figures`, `viz.viewer`, `viz.animation`) alike. Everything draws
with matplotlib's object API (no pyplot), so it works headless. The view is the model's world
frame (conventions §1): origin at the hip centre, x anterior (to the right), y superior, seen
from the subject's right side.

What is drawn and where it comes from:

* lumbar vertebral bodies L1-L5 as blocks between each vertebra's superior endplate (the
  model's endplates) and its inferior endplate, which lies half a disc height above the joint
  centre below it and is rigid with the vertebra. The body's wedge angle (fixed) is the model's
  stress-free segmental lordosis minus the disc wedge of the MRI heights quoted with
  `biomech.anatomy.DISC_HEIGHT_M`, so the discs (drawn lighter) take every posture change;
* the sacrum (from the sacral plate to the ``sacrum_posterior`` landmark), the innominate
  outline through ASIS, PSIS, pubic symphysis and ischial tuberosity, the acetabulum, the femur
  (head at the hip, shaft to the knee) and a stub of the tibia;
* the thorax as a rigid rib-cage silhouette with a kyphotic thoracic spine from the T12/L1 disc
  to the C7 vertebral body. Its kyphosis is chosen so that the T12/L1 disc is parallel at the
  stress-free posture; the thoracic vertebrae are illustrative, not model bodies;
* muscle lines along their paths, coloured and widened by force;
* the radiographic angles of conventions §3 constructed the way they are measured.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.patches import Arc, Polygon

from .. import kinematics as kin
from ..anatomy import DISC_HEIGHT_M, REFERENCE_HEIGHT_M
from ..metrics import endplates
from ..statics import contact_forces, landmark
from ..units import DEG_PER_RAD

# ------------------------------------------------------------------------------------------
# One style for every figure
# ------------------------------------------------------------------------------------------
#: Okabe & Ito (2008) colour-blind-safe qualitative palette.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
             "#000000")

STYLE = {
    "font": 8.0,                 # base font size (pt)
    "small": 6.5,                # labels on the drawing
    "title": 10.0,
    "bone_face": "#ede3cc",
    "bone_edge": "#5e5140",
    "bone_lw": 0.8,
    "pelvis_alpha": 0.55,        # innominate and thorax are translucent: muscles show through
    "thorax_face": "#f3ede0",
    "disc_face": "#d6e4ee",
    "disc_edge": "#7d8fa0",
    "ghost": "#9a9a9a",
    "ghost_alpha": 0.45,
    "muscle_cmap": "viridis_r",  # sequential, colour-blind safe: pale = low, dark = high force
    "muscle_lw": (0.5, 3.2),     # line width at zero and at the top of the colour scale
    "angle_lw": 1.1,
    "ss": "#0072B2",             # sacral slope
    "pi": "#D55E00",             # pelvic incidence
    "pt": "#009E73",             # pelvic tilt
    "ll": "#CC79A7",             # lumbar lordosis
    "sva": "#000000",            # C7 plumb line
    "apt": "#8a6d3b",            # ASIS-PSIS line
    "reaction": "#D55E00",
    "fail": "#d00000",           # status notes and failed sweep points
    "box_face": "white",
}

LAYERS = {"thorax": 1.0, "pelvis": 1.2, "femur": 1.4, "line_under": 1.8, "muscle": 2.5,
      "bone": 3.0, "angle": 4.0, "text": 5.0}

#: MRI anterior and posterior disc heights (m) behind `model.DISC_HEIGHT_M` (their means):
#: "Measuring dimensions of lumbar intervertebral discs in normal subjects", Anatomical Sciences
#: Journal (Iran, anatomyjournal.ir), 14 adults, abstract V (full citation: model.py and
#: docs/references.md). Drawing only: they give the drawn discs their normal wedge at the
#: stress-free posture and change no result.
_DISC_AP_HEIGHT_M = {"L1_L2": (0.0108, 0.0073), "L2_L3": (0.0131, 0.0086),
                     "L3_L4": (0.0152, 0.0091), "L4_L5": (0.0181, 0.0101),
                     "L5_S1": (0.0187, 0.0085)}

METRIC_ROWS = (  # (key, abbreviation, long name, unit)
    ("pelvic_incidence_deg", "PI", "pelvic incidence", "°"),
    ("sacral_slope_deg", "SS", "sacral slope", "°"),
    ("pelvic_tilt_deg", "PT", "pelvic tilt", "°"),
    ("lumbar_lordosis_deg", "LL", "lumbar lordosis L1-S1", "°"),
    ("anterior_pelvic_tilt_deg", "APT", "ASIS-PSIS tilt", "°"),
    ("sagittal_vertical_axis_mm", "SVA", "sagittal vertical axis", " mm"),
    ("trunk_inclination_deg", "TI", "trunk inclination", "°"),
    ("hip_flexion_deg", "HF", "hip flexion", "°"),
)


def fmt(value: float, unit: str) -> str:
    """A value rounded to whole units with its unit ("52°", "35 mm"); never "-0"."""
    return f"{round(float(value)) + 0:.0f}{unit}"


def signed(value: float) -> str:
    """A difference with its sign and one decimal; never "-0.0"."""
    return f"{round(float(value), 1) + 0.0:+.1f}"


def style_axes(ax) -> None:
    ax.tick_params(labelsize=STYLE["font"])
    ax.xaxis.label.set_size(STYLE["font"])
    ax.yaxis.label.set_size(STYLE["font"])


# ------------------------------------------------------------------------------------------
# Geometry of the drawing (world frame)
# ------------------------------------------------------------------------------------------
def _perp(v: np.ndarray) -> np.ndarray:
    """v rotated +90° (anterior direction of an endplate -> its superior normal)."""
    return np.array([-v[1], v[0]])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _spline(points, closed: bool = True, n: int = 12) -> np.ndarray:
    """Uniform Catmull-Rom curve through control points (k, 2), ``n`` points per segment."""
    p = np.asarray(points, float)
    if closed:
        ext = np.vstack([p[-1], p, p[0], p[1]])
        segs = len(p)
    else:
        ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
        segs = len(p) - 1
    out = []
    t = np.linspace(0.0, 1.0, n, endpoint=False)[:, None]
    for i in range(segs):
        p0, p1, p2, p3 = ext[i], ext[i + 1], ext[i + 2], ext[i + 3]
        out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    if not closed:
        out.append(p[-1][None])
    return np.vstack(out)


def _circle(c, r, n: int = 48) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.asarray(c, float) + r * np.stack([np.cos(a), np.sin(a)], -1)


#: The lumbar vertebrae drawn as blocks, inferior to superior, each with the joint below it; the
#: endplates of the model are S1, L5, L4, L3, L2, L1 (`Model.endplate_body`), so vertebra k has
#: its superior endplate k + 1 and the one below it k.
_VERTEBRAE = (("L5", "L5_S1"), ("L4", "L4_L5"), ("L3", "L3_L4"), ("L2", "L2_L3"), ("L1", "L1_L2"))


def _body_wedges(model) -> dict:
    """Fixed lordotic wedge (rad) of each vertebral body L5..L1, by body name."""
    ep = np.asarray(model.endplate_angle)
    w = {}
    for k, (body, joint) in enumerate(_VERTEBRAE):
        j = model.joint_index(joint)
        seg_rest = model.rest_angle[j] + model.joint_offset[j] + ep[k + 1] - ep[k]
        a, p = _DISC_AP_HEIGHT_M[joint]
        depth = 0.5 * (model.endplate_depth[k + 1] + model.endplate_depth[k]) * (
            REFERENCE_HEIGHT_M / model.subject.height_m)
        w[body] = seg_rest - math.atan2(a - p, depth)
    return w


def _local_to_world(geo, body: int, local) -> np.ndarray:
    local = np.atleast_2d(np.asarray(local, float))
    return geo.origins[body] + local @ kin.rotation(geo.angles[body]).T


def skeleton(report) -> dict:
    """World-frame outlines of everything drawn for one posture (arrays of shape (..., 2))."""
    p = report.result.problem
    m = p.model
    geo = report.geometry
    s = m.subject.height_m / REFERENCE_HEIGHT_M
    lm = {name: landmark(p, geo, name) for name in m.landmarks}
    mid, t, ang = endplates(p, geo)
    depth = np.asarray(m.endplate_depth)
    sk: dict = {"landmarks": lm, "ep_mid": mid, "ep_t": t, "ep_depth": depth,
                "centres": geo.centres.copy()}

    # ---- lumbar vertebral bodies and discs -------------------------------------------------
    wedge = _body_wedges(m)
    vertebrae, discs = [], []
    lower_sup = (mid[0] + 0.5 * depth[0] * t[0], mid[0] - 0.5 * depth[0] * t[0])  # S1 plate
    for k, (body, joint) in enumerate(_VERTEBRAE):
        e = k + 1
        j = m.joint_index(joint)
        h = DISC_HEIGHT_M[joint] * s
        t_inf = np.array([math.cos(ang[e] - wedge[body]), math.sin(ang[e] - wedge[body])])
        inf_mid = geo.centres[j] + 0.5 * h * _perp(t_inf)
        d = depth[e]
        inf_a, inf_p = inf_mid + 0.5 * d * t_inf, inf_mid - 0.5 * d * t_inf
        sup_a, sup_p = mid[e] + 0.5 * d * t[e], mid[e] - 0.5 * d * t[e]
        vertebrae.append((body, np.array([inf_a, sup_a, sup_p, inf_p])))
        discs.append((joint, np.array([lower_sup[0], inf_a, inf_p, lower_sup[1]])))
        lower_sup = (sup_a, sup_p)
    sk["vertebrae"], sk["discs"] = vertebrae, discs
    # posterior elements (pedicle, articular processes, lamina, spinous process), rigid with each
    # vertebra: (along the superior endplate, along its normal) from its posterior corner, at
    # 1.70 m; the multifidus and longissimus attachments of the model lie on them
    post_shape = np.array([(0.0, -0.004), (-0.010, -0.002), (-0.013, 0.007), (-0.019, 0.006),
                           (-0.023, -0.005), (-0.046, -0.009), (-0.051, -0.016), (-0.048, -0.026),
                           (-0.027, -0.024), (-0.021, -0.031), (-0.016, -0.037), (-0.012, -0.030),
                           (-0.006, -0.017), (0.0, -0.016)])
    posterior = []
    for e in range(1, len(_VERTEBRAE) + 1):
        corner = mid[e] - 0.5 * depth[e] * t[e]
        posterior.append(corner + s * (post_shape[:, :1] * t[e] + post_shape[:, 1:] * _perp(t[e])))
    sk["posterior"] = posterior

    # ---- sacrum: plate (u anterior, v superior) coordinates about S ------------------------
    S, u = mid[0], t[0]
    v = _perp(u)
    sp = lm["sacrum_posterior"] - S
    spu, spv = float(sp @ u), float(sp @ v)
    d0 = depth[0]

    def plate(pu, pv):
        return S + pu * u + pv * v

    # dorsal surface: S1 posterior elements (~2.5 cm behind the body), the median crest, then
    # curving anteriorly (sacral kyphosis) to the sacrum_posterior landmark; ventral surface
    # concave anteriorly from the promontory to the apex
    dorsal = [plate(-0.5 * d0, 0.0), plate(-0.5 * d0 - 0.012 * s, -0.005 * s),
              plate(-0.5 * d0 - 0.018 * s, -0.035 * s), plate(0.5 * (spu - 0.5 * d0) - 0.008 * s,
                                                              0.62 * spv), plate(spu, spv)]
    tip = plate(spu + 0.011 * s, spv - 0.006 * s)
    ventral = [tip, plate(spu + 0.008 * s, 0.78 * spv), plate(0.5 * spu + 0.006 * s, 0.47 * spv),
               plate(0.5 * d0 - 0.003 * s, -0.02 * s), plate(0.5 * d0, 0.0)]
    sacrum = np.vstack([_spline(dorsal, closed=False, n=8), _spline(ventral, closed=False, n=8)])
    sk["sacrum"] = sacrum
    sk["s1_body"] = np.array([plate(0.5 * d0, 0.0), plate(0.5 * d0 - 0.003 * s, -0.027 * s),
                              plate(-0.5 * d0, -0.027 * s), plate(-0.5 * d0, 0.0)])

    # ---- innominate (pelvis frame, offsets from the hip centre at 1.70 m) -------------------
    pb = m.body_index("pelvis")

    def pel(offset):
        hip_local = m.landmarks["hip_centre"][1]
        return _local_to_world(geo, pb, np.asarray(hip_local) + s * np.asarray(offset, float))[0]

    pelvis_ctrl = [lm["ASIS"], pel((0.058, 0.064)), pel((0.042, 0.030)), pel((0.038, -0.008)),
                   lm["pubic_symphysis"], pel((0.022, -0.058)), pel((-0.012, -0.052)),
                   lm["ischial_tuberosity"] + (pel((0.004, -0.012)) - pel((0.0, 0.0))),
                   pel((-0.062, -0.030)), pel((-0.064, 0.000)), pel((-0.052, 0.034)),
                   pel((-0.088, 0.074)), lm["PSIS"], pel((-0.082, 0.140)), pel((-0.040, 0.152)),
                   pel((0.004, 0.150)), pel((0.044, 0.130))]
    sk["pelvis"] = _spline(pelvis_ctrl, closed=True, n=8)
    ring = _circle((0.0, 0.0), 1.0, 32) * np.array([0.020, 0.012])   # obturator foramen
    sk["obturator"] = np.array([pel(xy) for xy in ring + np.array([0.0, -0.036])])
    hip = lm["hip_centre"]
    sk["acetabulum"] = _circle(hip, 0.029 * s)

    # ---- femur and tibia -----------------------------------------------------------------
    femur = m.body_index("femur")
    fa = geo.angles[femur]
    R = kin.rotation(fa)
    knee_local = np.asarray(m.knee_in_femur)
    axis = _unit(knee_local)                       # hip -> knee in the femur frame
    side = _perp(axis)
    # one outline: trochanteric region under the head, shaft, condyles (axis coordinates: anchor
    # 0 = hip / 1 = knee, distance along hip->knee, anterior offset; m at 1.70 m)
    L_f = float(np.linalg.norm(knee_local))
    prof = [(0, 0.012, 0.018), (0, 0.05, 0.018), (0, 0.10, 0.015), (1, -0.12, 0.015),
            (1, -0.07, 0.020), (1, -0.035, 0.027), (1, -0.012, 0.022), (1, 0.002, 0.006),
            (1, 0.001, -0.014), (1, -0.012, -0.028), (1, -0.035, -0.031), (1, -0.065, -0.023),
            (1, -0.11, -0.016), (0, 0.11, -0.015), (0, 0.06, -0.024), (0, 0.02, -0.028),
            (0, -0.008, -0.022)]
    femur_local = np.array([(k * L_f + d * s) * axis + w * s * side for k, d, w in prof])
    sk["femur_shaft"] = geo.origins[femur] + _spline(femur_local, closed=True, n=6) @ R.T
    sk["femur_head"] = _circle(hip, 0.024 * s)
    tib = kin.rotation(-p.knee_rad)
    tibia_local = np.array([[0.028, -0.004], [0.030, -0.022], [0.021, -0.05], [0.016, -0.13],
                            [-0.014, -0.13], [-0.020, -0.05], [-0.032, -0.016], [-0.030, -0.004]])
    sk["tibia"] = geo.origins[femur] + (knee_local + (s * tibia_local) @ tib.T) @ R.T

    # ---- thorax (rigid): chord frame from the T12/L1 disc centre to the C7 body ------------
    T = lm["T12_L1_centre"]
    c7 = lm["C7"]
    chord = c7 - T
    L = float(np.linalg.norm(chord))
    ea = chord / L
    ant = np.array([ea[1], -ea[0]])                # anterior perpendicular of the chord

    def cf(f, x):                                  # f: fraction of T->C7, x: m anterior (at 1.70 m)
        return T + np.multiply.outer(np.asarray(f, float), L * ea) + np.multiply.outer(
            np.asarray(x, float), s * ant)

    # kyphotic arc of the thoracic vertebral bodies: its tangent at T12/L1 is the L1 plate normal
    # at the stress-free posture (a parallel T12/L1 disc), the chord turned posteriorly by beta
    t12_l1 = m.joint_index("T12_L1")
    rel_l1 = m.endplate_angle[5] - (m.rest_angle[t12_l1] + m.joint_offset[t12_l1])   # L1 plate, thorax frame
    ch_l = np.asarray(m.landmarks["C7"][1]) - np.asarray(m.landmarks["T12_L1_centre"][1])
    chord_ang = math.atan2(ch_l[1], ch_l[0])
    beta = float(np.clip(rel_l1 + math.pi / 2 - chord_ang, math.radians(12), math.radians(32)))
    Rc = L / (2 * math.sin(beta))
    centre = 0.5 * (T + c7) + ant * Rc * math.cos(beta)

    def arc(f):
        th = -beta + 2 * beta * np.asarray(f, float)
        return (centre[None, :] - Rc * np.cos(th)[:, None] * ant[None, :]
                + Rc * np.sin(th)[:, None] * ea[None, :])

    def arc_normal(f):                             # anterior unit normal of the arc
        th = -beta + 2 * beta * np.asarray(f, float)
        tang = np.sin(th)[:, None] * ant[None, :] + np.cos(th)[:, None] * ea[None, :]
        return np.stack([tang[:, 1], -tang[:, 0]], -1)

    # T12..T1 and half of C7 along the arc; a level (body + disc) grows caudally (T1 ~ 0.72 T12).
    # DRAWING APPROXIMATIONS, not data: the level proportions (1 -> 0.72, C7 0.68), the arc's
    # turn (12-32°), the body depths (30 mm at T12 to 18 mm at T1, 17 mm at C7) and the gaps
    # between bodies are chosen to look like a thoracic spine; the thorax is one rigid body in
    # the mechanics, and nothing drawn here enters a result.
    weights = np.linspace(1.0, 0.72, 12)
    total = weights.sum() + 0.5 * 0.68
    edges = np.concatenate(([0.0], np.cumsum(weights))) / total
    thoracic = []
    for i in range(12):
        f0, f1 = edges[i], edges[i + 1]
        h = f1 - f0
        lo, hi = f0 + (0.13 if i == 0 else 0.1) * h, f1 - 0.1 * h
        dpt = (0.030 - 0.012 * i / 11) * s
        a0, a1 = arc([lo, hi])
        n0, n1 = arc_normal([lo, hi])
        thoracic.append(np.array([a0 + 0.5 * dpt * n0, a1 + 0.5 * dpt * n1,
                                  a1 - 0.5 * dpt * n1, a0 - 0.5 * dpt * n0]))
    sk["thoracic"] = thoracic
    h7 = 0.68 / total
    a0, a1 = arc([1.0 - 0.4 * h7, 1.0 + 0.4 * h7])
    n0, n1 = arc_normal([1.0 - 0.4 * h7, 1.0 + 0.4 * h7])
    dpt = 0.017 * s
    sk["c7_body"] = np.array([a0 + 0.5 * dpt * n0, a1 + 0.5 * dpt * n1, a1 - 0.5 * dpt * n1,
                              a0 - 0.5 * dpt * n0])
    # T12/L1 disc: L1 superior endplate to T12 inferior endplate
    f_t12 = edges[0] + 0.13 * (edges[1] - edges[0])
    b0 = arc([f_t12])[0]
    nb = arc_normal([f_t12])[0]
    d12 = 0.030 * s
    sk["discs"].append(("T12_L1", np.array([mid[5] + 0.5 * depth[5] * t[5], b0 + 0.5 * d12 * nb,
                                            b0 - 0.5 * d12 * nb, mid[5] - 0.5 * depth[5] * t[5]])))
    # rib cage silhouette in the chord frame (f, x): posterior wall at the rib angles (the
    # iliocostalis insertions), the sternum, the costal margin through the rectus abdominis and
    # external oblique attachments
    outline = [(-0.10, -0.040), (0.02, -0.062), (0.20, -0.070), (0.42, -0.068), (0.60, -0.060),
               (0.74, -0.048), (0.84, -0.032), (0.90, -0.016), (0.88, 0.020), (0.82, 0.050),
               (0.76, 0.074), (0.56, 0.102), (0.36, 0.126), (0.28, 0.128), (0.18, 0.120),
               (0.06, 0.114), (-0.05, 0.102), (-0.11, 0.080), (-0.13, 0.050), (-0.12, 0.010)]
    sk["thorax"] = _spline(np.array([cf(f, x) for f, x in outline]), closed=True, n=8)
    jug, xs, xt = cf(0.76, 0.074), cf(0.36, 0.126), cf(0.29, 0.122)
    sn = _perp(_unit(jug - xs))                    # posterior normal of the sternum
    w_st = 0.012 * s
    sk["sternum"] = np.array([jug, xs, xt, xt + 0.3 * w_st * sn, xs + w_st * sn,
                              jug + 1.3 * w_st * sn])
    ribs = []
    for f_v in np.linspace(0.80, 0.12, 8):         # ribs 2..9: spine -> angle -> anterior wall
        xa = float((arc([f_v])[0] - T) @ ant) / s
        ctrl = [(f_v, xa - 0.012), (f_v - 0.02, -0.058), (f_v - 0.10, -0.052),
                (f_v - 0.22, 0.02), (f_v - 0.26 + 0.1 * (0.8 - f_v), 0.09)]
        ribs.append(_spline(np.array([cf(f, x) for f, x in ctrl]), closed=False, n=8))
    sk["ribs"] = ribs
    sk["c7"] = c7

    # ---- muscles --------------------------------------------------------------------------
    ptr = p.paths.line_ptr
    sk["muscles"] = [geo.points[ptr[i]:ptr[i + 1]].copy() for i in range(m.n_muscles)]
    sk["muscle_length"] = np.asarray(geo.length)

    # ---- support contact planes (seat, table) ---------------------------------------------
    planes = []
    _cb, points, _cf = contact_forces(p, geo)
    for n_vec, offset, point in zip(p.contact_normal, p.contact_offset, points):
        base = n_vec * (float(offset) + float(geo.shift @ n_vec))   # plane: x.n = offset + shift.n
        foot = point - n_vec * float((point - base) @ n_vec)
        tangent = _perp(n_vec)
        planes.append(np.array([foot - 0.12 * s * tangent, foot + 0.12 * s * tangent]))
    sk["planes"] = planes
    sk["gravity"] = np.asarray(p.gravity, float)
    return sk


def transform(obj, R: np.ndarray):
    """Rotate every (..., 2) array of a skeleton about the origin (the hip centre)."""
    if isinstance(obj, np.ndarray):
        return obj @ R.T if obj.ndim >= 1 and obj.shape[-1] == 2 else obj
    if isinstance(obj, dict):
        return {k: (v if k in ("ep_depth", "muscle_length", "gravity") else transform(v, R))
                for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(transform(v, R) for v in obj)
    if isinstance(obj, list):
        return [transform(v, R) for v in obj]
    return obj


# ------------------------------------------------------------------------------------------
# Drawing pieces
# ------------------------------------------------------------------------------------------
def draw_bones(ax, sk: dict, *, colour: str | None = None, ghost: bool = False,
                labels: bool = True, plates: str | None = None) -> dict:
    """Bones, discs and thorax. ``colour``: one posture of an overlay; ``ghost``: faint grey."""
    out: dict = {"bones": [], "discs": [], "labels": []}
    lw = STYLE["bone_lw"]
    if ghost:
        g = STYLE["ghost"]
        a = STYLE["ghost_alpha"]
        spine = dict(face="#d9d9d9", edge="#808080", lw=lw, alpha=0.75)
        disc = dict(face="#eeeeee", edge=g, lw=0.5 * lw, alpha=a)
        frame = dict(face="#e8e8e8", edge=g, lw=lw, alpha=a)
        back = dict(face="#e8e8e8", edge=g, lw=0.6 * lw, alpha=a)
        thorax = dict(face="#f0f0f0", edge=g, lw=0.6 * lw, alpha=a)
        rib_alpha = 0.25 * a
    elif colour is not None:                    # overlay: tinted spine, outlined frame
        spine = dict(face=colour, edge=colour, lw=1.2 * lw, alpha=None, face_alpha=0.18)
        disc = dict(face="none", edge=colour, lw=0.6 * lw, alpha=0.8)
        frame = dict(face="none", edge=colour, lw=lw, alpha=0.75)
        back = dict(face="none", edge=colour, lw=0.6 * lw, alpha=0.6)
        thorax = dict(face="none", edge=colour, lw=0.8 * lw, alpha=0.75)
        rib_alpha = 0.0
    else:
        spine = dict(face=STYLE["bone_face"], edge=STYLE["bone_edge"], lw=lw, alpha=1.0)
        disc = dict(face=STYLE["disc_face"], edge=STYLE["disc_edge"], lw=0.5 * lw, alpha=1.0)
        frame = dict(face=STYLE["bone_face"], edge=STYLE["bone_edge"], lw=lw, alpha=1.0)
        back = dict(face=STYLE["bone_face"], edge=STYLE["bone_edge"], lw=0.6 * lw, alpha=0.75)
        thorax = dict(face=STYLE["thorax_face"], edge=STYLE["bone_edge"], lw=0.6 * lw, alpha=1.0)
        rib_alpha = 0.35

    def poly(xy, st, z, ls="-", face=None, lw_scale=1.0, into="bones"):
        fc = st["face"] if face is None else face
        if st.get("face_alpha") is not None and fc != "none":
            from matplotlib.colors import to_rgba
            fc = to_rgba(fc, st["face_alpha"])
        patch = Polygon(xy, closed=True, facecolor=fc, edgecolor=st["edge"],
                        linewidth=st["lw"] * lw_scale, zorder=z, alpha=st["alpha"], linestyle=ls,
                        joinstyle="round")
        ax.add_patch(patch)
        out[into].append(patch)
        return patch

    plain = colour is None and not ghost
    poly(sk["thorax"], thorax, LAYERS["thorax"])
    poly(sk["sternum"], frame, LAYERS["thorax"] + 0.1, lw_scale=0.6)
    if rib_alpha > 0:
        for rib in sk["ribs"]:
            out["bones"].append(ax.plot(rib[:, 0], rib[:, 1], color=thorax["edge"], lw=0.5,
                                        alpha=rib_alpha, zorder=LAYERS["thorax"] + 0.05)[0])
    poly(sk["pelvis"], dict(frame, alpha=STYLE["pelvis_alpha"]) if plain else frame, LAYERS["pelvis"])
    poly(sk["obturator"], dict(frame, face="white") if plain else frame, LAYERS["pelvis"] + 0.01,
         lw_scale=0.6)
    poly(sk["acetabulum"], dict(frame, face="none"), LAYERS["pelvis"] + 0.02, lw_scale=0.6)
    for key in ("tibia", "femur_shaft", "femur_head"):
        poly(sk[key], frame, LAYERS["femur"])
    for xy in sk["posterior"]:
        poly(xy, back, LAYERS["line_under"] + 0.1)
    poly(sk["sacrum"], spine, LAYERS["bone"])
    poly(sk["s1_body"], dict(spine, face="none", face_alpha=None), LAYERS["bone"] + 0.01,
         ls=(0, (2, 2)), lw_scale=0.5)
    for xy in sk["thoracic"]:
        poly(xy, spine, LAYERS["bone"], lw_scale=0.6)
    poly(sk["c7_body"], spine, LAYERS["bone"])
    for _name, xy in sk["vertebrae"]:
        poly(xy, spine, LAYERS["bone"])
    for _name, xy in sk["discs"]:
        poly(xy, disc, LAYERS["bone"], into="discs")
    for xy in sk["planes"]:
        out["bones"].append(ax.plot(xy[:, 0], xy[:, 1], color="#555555", lw=2.0, zorder=LAYERS["femur"],
                                    solid_capstyle="butt")[0])
    plates = plates or colour
    if plates is not None:                      # the two endplates of the lordosis, thick
        mid, t, d = sk["ep_mid"], sk["ep_t"], sk["ep_depth"]
        for k in (0, 5):
            a_, b_ = mid[k] - 0.5 * d[k] * t[k], mid[k] + 0.5 * d[k] * t[k]
            out["bones"].append(ax.plot([a_[0], b_[0]], [a_[1], b_[1]], color=plates, lw=2.2,
                                        zorder=LAYERS["angle"], solid_capstyle="round")[0])
    if labels and plain:
        for name, xy in sk["vertebrae"]:
            c = xy.mean(0)
            out["labels"].append(ax.text(c[0], c[1], name, ha="center", va="center",
                                         fontsize=STYLE["small"] - 0.5, color=STYLE["bone_edge"],
                                         zorder=LAYERS["bone"] + 0.1, clip_on=True))
    return out


def muscle_norm(forces, norm):
    if norm is not None:
        return norm
    top = float(np.max(forces)) if len(forces) else 1.0
    if not np.isfinite(top) or top <= 0:
        top = 1.0
    # a round upper limit: 1, 2, 2.5, 5 x 10^n
    e = 10 ** math.floor(math.log10(top))
    for k in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if top <= k * e:
            return Normalize(0.0, k * e)
    return Normalize(0.0, top)


def draw_muscles(ax, sk: dict, forces: np.ndarray, norm: Normalize) -> LineCollection:
    cmap = colormaps[STYLE["muscle_cmap"]]
    keep = [i for i, pts in enumerate(sk["muscles"]) if len(pts) >= 2 and sk["muscle_length"][i] > 0]
    # strongest on top
    keep.sort(key=lambda i: forces[i])
    segs = [sk["muscles"][i] for i in keep]
    f = np.asarray(forces)[keep]
    frac = np.clip(norm(f), 0.0, 1.0)
    lw0, lw1 = STYLE["muscle_lw"]
    coll = LineCollection(segs, colors=cmap(frac), linewidths=lw0 + (lw1 - lw0) * frac,
                          zorder=LAYERS["muscle"], capstyle="round", joinstyle="round", alpha=0.9)
    coll.set_gid("muscles")
    coll.muscle_index = np.array(keep)        # which model lines, for callers and tests
    ax.add_collection(coll)
    return coll


def angle_text(ax, xy, text, colour, *, ha="center", va="center", size=None):
    return ax.text(xy[0], xy[1], text, color=colour, ha=ha, va=va,
                   fontsize=size or STYLE["small"], fontweight="bold", zorder=LAYERS["text"],
                   bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.75),
                   clip_on=True)


def _arc(ax, centre, r, a0, a1, colour):
    """Arc from angle a0 to a1 (rad, either order) about centre."""
    lo, hi = sorted((a0, a1))
    if hi - lo > math.pi:
        lo, hi = hi, lo + 2 * math.pi
    patch = Arc(centre, 2 * r, 2 * r, theta1=lo * DEG_PER_RAD, theta2=hi * DEG_PER_RAD, color=colour,
                lw=STYLE["angle_lw"], zorder=LAYERS["angle"])
    ax.add_patch(patch)
    return patch


def line(ax, a, b, colour, *, ls="-", lw=None, z=None, alpha=1.0):
    return ax.plot([a[0], b[0]], [a[1], b[1]], color=colour, ls=ls, lw=lw or STYLE["angle_lw"],
                   zorder=z or LAYERS["angle"], alpha=alpha, solid_capstyle="round")[0]


def draw_angles(ax, sk: dict, metrics: dict, s: float) -> dict:
    out: dict = {"angles": [], "angle_texts": []}
    A, T = out["angles"], out["angle_texts"]
    mid, t, depth = sk["ep_mid"], sk["ep_t"], sk["ep_depth"]
    S, u = mid[0], t[0]
    n = _perp(u)
    H = sk["landmarks"]["hip_centre"]
    ant_c, post_c = S + 0.5 * depth[0] * u, S - 0.5 * depth[0] * u

    # sacral plate and sacral slope, measured at the anterior (promontory) corner
    ss = metrics["sacral_slope_deg"]
    A.append(line(ax, post_c, ant_c, STYLE["ss"], lw=2.0))
    r = 0.035 * s
    A.append(line(ax, ant_c, ant_c + 1.6 * r * u, STYLE["ss"]))
    A.append(line(ax, ant_c, ant_c + np.array([1.6 * r, 0.0]), STYLE["ss"], ls="--"))
    a_u = math.atan2(u[1], u[0])
    A.append(_arc(ax, ant_c, r, a_u, 0.0, STYLE["ss"]))
    am = 0.5 * a_u
    T.append(angle_text(ax, ant_c + 1.75 * r * np.array([math.cos(am), math.sin(am)]),
                         f"SS {fmt(ss, '°')}", STYLE["ss"], ha="left"))

    # PI and PT at S: S->H, the vertical through S, the perpendicular to the plate at S
    pi, pt = metrics["pelvic_incidence_deg"], metrics["pelvic_tilt_deg"]
    sh = H - S
    len_sh = float(np.linalg.norm(sh))
    A.append(line(ax, S, H, STYLE["pi"]))
    A.append(line(ax, S, S - 0.75 * len_sh * n, STYLE["pi"], ls="--"))
    A.append(line(ax, S, S + np.array([0.0, -0.9 * len_sh]), STYLE["pt"], ls="--"))
    a_sh = math.atan2(sh[1], sh[0])
    a_n = math.atan2(-n[1], -n[0])
    r_pi, r_pt = 0.32 * len_sh, 0.55 * len_sh
    A.append(_arc(ax, S, r_pi, a_n, a_sh, STYLE["pi"]))
    A.append(_arc(ax, S, r_pt, -math.pi / 2, a_sh, STYLE["pt"]))
    am = 0.5 * (a_n + a_sh)
    T.append(angle_text(ax, S + (r_pi + 0.018 * s) * np.array([math.cos(am), math.sin(am)]),
                         f"PI {fmt(pi, '°')}", STYLE["pi"], ha="right"))
    am = 0.5 * (-math.pi / 2 + a_sh)
    side = "left" if a_sh > -math.pi / 2 else "right"
    T.append(angle_text(ax, S + (r_pt + 0.004 * s) * np.array([math.cos(am), math.sin(am)])
                         + np.array([0.006 * s if side == "left" else -0.006 * s, 0.0]),
                         f"PT {fmt(pt, '°')}", STYLE["pt"], ha=side))
    A.append(ax.plot([H[0]], [H[1]], marker="+", color=STYLE["pi"], ms=7, mew=1.2,
                     zorder=LAYERS["angle"])[0])

    # L1-S1 lordosis (Cobb): L1 superior endplate and sacral plate, extended posteriorly
    ll = metrics["lumbar_lordosis_deg"]
    M1, u1 = mid[5], t[5]
    post1 = M1 - 0.5 * depth[5] * u1
    A.append(line(ax, M1 + 0.5 * depth[5] * u1, post1, STYLE["ll"], lw=2.0))
    mat = np.column_stack([-u1, u])
    x = None
    if abs(np.linalg.det(mat)) > 1e-6:
        a, _b = np.linalg.solve(mat, S - M1)    # M1 - a u1 = S - b u
        X = M1 - a * u1
        if 0 < a < 0.25 * s and (X - S) @ u < 0:
            x = X
    if x is not None:
        A.append(line(ax, post1, x, STYLE["ll"], ls="--"))
        A.append(line(ax, post_c, x, STYLE["ll"], ls="--"))
        r = 0.03 * s
        a1 = math.atan2(u1[1], u1[0])
        a0 = math.atan2(u[1], u[0])
        A.append(_arc(ax, x, r, a1, a0, STYLE["ll"]))
        bis = _unit(u1 + u)
        T.append(angle_text(ax, x + 1.9 * r * bis, f"LL {fmt(ll, '°')}", STYLE["ll"]))
    else:
        e1 = post1 - 0.07 * s * u1
        A.append(line(ax, post1, e1, STYLE["ll"], ls="--"))
        A.append(line(ax, post_c, post_c - 0.07 * s * u, STYLE["ll"], ls="--"))
        T.append(angle_text(ax, e1 + np.array([-0.004 * s, 0.0]), f"LL {fmt(ll, '°')}",
                             STYLE["ll"], ha="right"))

    # C7 plumb line and SVA from the posterior-superior corner of S1
    c7 = sk["c7"]
    sva = metrics["sagittal_vertical_axis_mm"]
    A.append(line(ax, c7, np.array([c7[0], post_c[1]]), STYLE["sva"], ls=(0, (1, 2)), lw=0.9,
                   alpha=0.8))
    if abs(c7[0] - post_c[0]) > 0.012 * s:
        A.append(ax.annotate("", xy=(c7[0], post_c[1]), xytext=(post_c[0], post_c[1]),
                             arrowprops=dict(arrowstyle="<->", color=STYLE["sva"], lw=0.9,
                                             shrinkA=0, shrinkB=0), zorder=LAYERS["angle"]))
    else:
        A.append(line(ax, (post_c[0], post_c[1]), (c7[0], post_c[1]), STYLE["sva"], lw=1.2))
    y_lab = post_c[1] + 0.75 * (mid[3][1] - post_c[1])      # about the L3 level
    T.append(angle_text(ax, (c7[0] - 0.004 * s, y_lab), f"C7 plumb line\nSVA {fmt(sva, ' mm')}",
                         STYLE["sva"], ha="right"))

    # ASIS-PSIS line (under the spine, so it never hides it)
    asis, psis = sk["landmarks"]["ASIS"], sk["landmarks"]["PSIS"]
    A.append(line(ax, psis, asis, STYLE["apt"], ls=(0, (4, 2)), lw=0.9, z=LAYERS["line_under"]))
    for name in ("ASIS", "PSIS"):
        pnt = sk["landmarks"][name]
        A.append(ax.plot([pnt[0]], [pnt[1]], "o", ms=3, color=STYLE["apt"], zorder=LAYERS["angle"])[0])
        T.append(ax.text(pnt[0] + (0.006 if name == "ASIS" else -0.006) * s, pnt[1] + 0.006 * s, name,
                         fontsize=STYLE["small"] - 0.5, color=STYLE["apt"],
                         ha="left" if name == "ASIS" else "right", va="bottom", zorder=LAYERS["text"],
                         clip_on=True))
    # thorax axis (trunk inclination)
    T12 = sk["landmarks"]["T12_L1_centre"]
    A.append(line(ax, T12, c7, "#555555", ls=(0, (6, 3)), lw=0.7, z=LAYERS["line_under"]))
    return out


def values_text(metrics: dict) -> str:
    rows = []
    for key, abbr, name, unit in METRIC_ROWS:
        if key in metrics:
            rows.append(f"{abbr:<4}{fmt(metrics[key], unit):>7}  {name}")
    return "\n".join(rows)


def status_note(result) -> str | None:
    if result.success:              # includes postures held actively (upright/inverse modes)
        return None
    if not result.converged:
        return "NOT CONVERGED: not an equilibrium (last iterate drawn)\n" + result.message
    if result.stable is False:
        return "UNSTABLE equilibrium\n" + result.message
    return None


def wrap_text(text: str, width: int = 60) -> str:
    return "\n".join(textwrap.fill(line, width) for line in text.splitlines())


def set_limits(ax, sk: dict, pad: float = 0.03) -> None:
    pts = np.vstack([sk["thorax"], sk["tibia"], sk["pelvis"], sk["sacrum"], sk["c7_body"]]
                    + [p for p in sk["muscles"] if len(p)])
    lo, hi = pts.min(0) - pad, pts.max(0) + pad
    lo[0] -= 0.04                     # room for the lordosis construction behind the back
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])


def frame_axes(ax, label=None):
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("x, anterior (m)")
    ax.set_ylabel("y, superior (m)")
    if label:
        ax.set_title(label, fontsize=STYLE["title"])
    style_axes(ax)



def zoom(ax, report, *, x=(-0.17, 0.14), y=(-0.07, 0.29)) -> None:
    """Limit ``ax`` to the lumbopelvic region (scaled with the subject's height)."""
    s = report.result.problem.model.subject.height_m / REFERENCE_HEIGHT_M
    ax.set_xlim(x[0] * s, x[1] * s)
    ax.set_ylim(y[0] * s, y[1] * s)

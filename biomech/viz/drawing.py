"""Drawing a solved posture: the skeleton of one posture and the pieces every figure shares.

`skeleton(report)` turns a posture report into world-frame outlines (the whole body from the
feet to the head, muscle paths, support surfaces and forces); `bone_parts` lists the outlines in
drawing order; `draw_bones`, `draw_forces`, `draw_muscles` and `draw_angles` draw them on a
matplotlib axes; `STYLE`, `LAYERS` and the helpers keep every figure of the project
(`viz.figures`, `viz.viewer`, `viz.animation`) alike. Everything draws with matplotlib's object
API (no pyplot), so it works headless. The view is the model's world frame (conventions §1):
origin at the hip centre, x anterior (to the right), y superior, seen from the subject's right
side; `view_rotation` turns a lying posture so that gravity points down the page.

What is drawn and where it comes from:

* lumbar vertebral bodies L1-L5 as blocks between each vertebra's superior endplate (the
  model's endplates) and its inferior endplate, which lies half a disc height above the joint
  centre below it and is rigid with the vertebra. The body's wedge angle (fixed) is the model's
  stress-free segmental lordosis minus the disc wedge of the MRI heights quoted with
  `biomech.anatomy.DISC_HEIGHT_M`, so the discs (drawn lighter) take every posture change;
* the sacrum (from the sacral plate to the ``sacrum_posterior`` landmark), the innominate
  outline through ASIS, PSIS, pubic symphysis and ischial tuberosity, the acetabulum;
* the legs: the femur (head at the hip, shaft to the ``knee``) with the patella, the tibia and
  fibula from the knee to the ``ankle``, the foot from the ``heel`` to the toes with its sole on
  the ``heel`` and ``forefoot`` contact points (on the floor standing and sitting);
* the thoracic spine T12-T1 and the rib cage. Both are laid out once on the model's reference
  posture (the vertebrae along a curve through the joint centres T12/L1, T8/T9, T4/T5 and
  C7/T1, four to each thoracic body; the cage in the frame of the T12/L1 → C7 line) and every
  point is then carried by the thoracic body at its level (`_carried`), so that column and cage
  bend at T8/T9 and T4/T5 as the model does;
* the cervical spine C7-C2 and the head on the head body, from its landmarks ``C7`` (the C7
  body), ``glabella`` and ``occiput``;
* the support: floor, seat, backrest or table as lines through their contacts, and the forces
  they put on the body as arrows (each contact, and the root's reaction: at the heels and
  forefeet, or lying at the centre of pressure of the table under the middle back); the
  external loads as arrows from their points;
* muscle lines along their paths, coloured and widened by force;
* the radiographic angles of conventions §3 constructed the way they are measured.

The shapes (outline control points, vertebral depths, proportions of the head and foot) are
DRAWING APPROXIMATIONS placed relative to the model's landmarks and joint centres and scaled with
the subject's height; nothing drawn here enters a result.
"""

from __future__ import annotations

import functools
import math
import textwrap

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.colors import Normalize, to_rgba
from matplotlib.patches import Arc, FancyArrowPatch, Patch, Polygon

from .. import kinematics as kin
from ..anatomy import DISC_HEIGHT_M, REFERENCE_HEIGHT_M
from ..balance import balance_checked, centre_of_mass, reaction as root_reaction
from ..metrics import endplates
from ..external import contact_forces, hand_state, load_forces
from ..statics import landmark
from ..units import DEG_PER_RAD

# ------------------------------------------------------------------------------------------
# One style for every figure
# ------------------------------------------------------------------------------------------
#: Okabe & Ito (2008) colour-blind-safe qualitative palette.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
             "#000000")

#: One colour per muscle group in every figure of the project (posture drawings, sweep panels,
#: the viewer and the animations), in hue families by function: hip flexors red-orange-pink,
#: abdominals blues, back extensors greens, hip extensors purples, knee and ankle muscles
#: browns and olives, neck muscles cyan and grey. A group not listed is drawn in `STYLE`'s
#: "muscle_other".
GROUP_COLOURS = {
    "psoas": "#D62728", "iliacus": "#FF7F0E", "rectus_femoris": "#E377C2",
    "rectus_abdominis": "#1F3A93", "external_oblique": "#1F77B4", "internal_oblique": "#6BAED6",
    "transversus_abdominis": "#08306B",
    "erector_spinae": "#2CA02C", "multifidus": "#006D2C", "quadratus_lumborum": "#98DF8A",
    "hamstrings": "#9467BD", "gluteus_maximus": "#54278F",
    "vasti": "#8C564B", "gastrocnemius": "#BCBD22", "soleus": "#7F7F00",
    "tibialis_anterior": "#C49C94",
    "neck_extensors": "#17BECF", "neck_flexors": "#7F7F7F",
}


def group_colour(group: str) -> str:
    """The colour of a muscle group (`GROUP_COLOURS`)."""
    return GROUP_COLOURS.get(group, STYLE["muscle_other"])


STYLE = {
    "font": 8.0,                 # base font size (pt)
    "small": 6.5,                # labels on the drawing
    "title": 10.0,
    "bone_face": "#ede3cc",
    "bone_edge": "#5e5140",
    "bone_lw": 0.8,
    "pelvis_alpha": 0.55,        # innominate, thorax and head are translucent: muscles show through
    "thorax_face": "#f3ede0",
    "disc_face": "#d6e4ee",
    "disc_edge": "#7d8fa0",
    "ghost": "#9a9a9a",
    "ghost_alpha": 0.45,
    "muscle_other": "#444444",   # a muscle group without a colour in GROUP_COLOURS
    "muscle_lw": (0.5, 3.2),     # line width at zero and at the top of the colour scale
    "angle_lw": 1.1,
    "ss": "#0072B2",             # sacral slope
    "pi": "#D55E00",             # pelvic incidence
    "pt": "#009E73",             # pelvic tilt
    "ll": "#CC79A7",             # lumbar lordosis
    "sva": "#000000",            # C7 plumb line
    "apt": "#8a6d3b",            # ASIS-PSIS line
    "reaction": "#D55E00",       # joint loads
    "support": "#b06f00",        # forces of the floor, seat, backrest, table
    "load": "#6a3d9a",           # external loads
    "iap": "#08306B",            # intra-abdominal pressure (the transversus abdominis' colour)
    "surface": "#555555",        # floor, seat, backrest, table
    "fail": "#d00000",           # status notes and failed sweep points
    "box_face": "white",
}

LAYERS = {"thorax": 1.0, "pelvis": 1.2, "femur": 1.4, "line_under": 1.8, "muscle": 2.5,
          "bone": 3.0, "angle": 4.0, "text": 5.0}

#: Length of a support force arrow equal to the body weight, as a fraction of the subject's
#: height (drawing only).
SUPPORT_ARROW_PER_WEIGHT = 0.12
#: Support forces below this fraction of the body weight get no arrow, below the second no label.
SUPPORT_ARROW_MIN, SUPPORT_LABEL_MIN = 0.01, 0.03
#: How far a support surface line runs beyond its outermost contacts (m at 1.70 m).
SURFACE_MARGIN_M = 0.12
#: Names of the support surfaces on the drawing (`problem.Problem.contacts`; "root": the surface
#: the root body rests on).
SURFACE_NAMES = {"seat": "seat", "seat_front": "seat", "backrest": "backrest"}

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
    ("thoracic_kyphosis_deg", "TK", "thoracic kyphosis T4-T12", "°"),
    ("hip_flexion_deg", "HF", "hip flexion", "°"),
    ("knee_flexion_deg", "KF", "knee flexion", "°"),
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
# Geometry helpers (world frame)
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
    pieces = ext[np.arange(segs)[:, None] + np.arange(4)]            # (segs, 4, 2)
    t = np.linspace(0.0, 1.0, n, endpoint=False)[:, None]
    out = _catmull_rom(pieces, t)[0].reshape(-1, 2)
    return out if closed else np.vstack([out, p[-1]])


def _catmull_rom(p4: np.ndarray, t) -> tuple[np.ndarray, np.ndarray]:
    """Points (..., k, 2) and tangents (..., k, 2) at parameters t (k, 1) in [0, 1] of the
    uniform Catmull-Rom pieces p4 (..., 4, 2), each from p4[..., 1, :] to p4[..., 2, :]."""
    p0, p1, p2, p3 = (p4[..., i, None, :] for i in range(4))
    a, b, c = (-p0 + p2), (2 * p0 - 5 * p1 + 4 * p2 - p3), (-p0 + 3 * p1 - 3 * p2 + p3)
    return 0.5 * (2 * p1 + a * t + b * t ** 2 + c * t ** 3), 0.5 * (a + 2 * b * t + 3 * c * t ** 2)


def _circle(c, r, n: int = 48) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.asarray(c, float) + r * np.stack([np.cos(a), np.sin(a)], -1)


def _in_frame(origin, u, coords, scale_u: float, scale_v: float | None = None) -> np.ndarray:
    """World points origin + a·scale_u·u + b·scale_v·perp(u) of coordinates (a, b) (k, 2)."""
    c = np.asarray(coords, float)
    scale_v = scale_u if scale_v is None else scale_v
    return (np.asarray(origin, float) + np.multiply.outer(c[:, 0] * scale_u, u)
            + np.multiply.outer(c[:, 1] * scale_v, _perp(u)))


def _local_to_world(geo, body: int, local) -> np.ndarray:
    local = np.atleast_2d(np.asarray(local, float))
    return geo.origins[body] + local @ kin.rotation(geo.angles[body]).T


@functools.lru_cache(maxsize=16)
def _reference_pose(model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Body angles (n_bodies,) rad, frame origins (n_bodies, 2) and joint centres (n_joints, 2)
    of the model's relaxed reference posture (``model.reference_angle``, the pelvis frame at
    the origin): the posture on which the thorax is laid out (models hash by identity)."""
    inf, sup = np.asarray(model.joint_inferior, int), np.asarray(model.joint_superior, int)
    S = kin.path_signs(inf, sup, model.n_bodies, model.body_index("pelvis"))
    rel = np.asarray(model.reference_angle, float) + np.asarray(model.joint_offset, float)
    ang, _, org, cen = kin.poses(S, inf, sup, kin.as_complex(model.joint_in_inferior),
                                 kin.as_complex(model.joint_in_superior), rel, 0.0)
    return ang, kin.as_real(org), kin.as_real(cen)


def _carried(model, geo, bodies, points) -> np.ndarray:
    """Points (k, 2) laid out on the reference posture (`_reference_pose`), each carried by its
    body (k,) to the posture ``geo``."""
    ang0, org0, _ = _reference_pose(model)
    b = np.asarray(bodies, int)
    turn = geo.angles[b] - ang0[b]
    d = np.asarray(points, float) - org0[b]
    c, s_ = np.cos(turn), np.sin(turn)
    return geo.origins[b] + np.stack([c * d[:, 0] - s_ * d[:, 1], s_ * d[:, 0] + c * d[:, 1]], -1)


def view_rotation(gravity) -> np.ndarray:
    """The rotation (2, 2) that turns a drawing so that ``gravity`` (2,) points down the page:
    the identity standing and sitting; lying (gravity along −x), the body on a horizontal table,
    head to the left, face up."""
    g = np.asarray(gravity, float)
    return kin.rotation(-math.pi / 2 - math.atan2(g[1], g[0]))


# ------------------------------------------------------------------------------------------
# The lumbar spine, sacrum and pelvis
# ------------------------------------------------------------------------------------------
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


#: Posterior elements (pedicle, articular processes, lamina, spinous process) of a lumbar
#: vertebra: (along the superior endplate, along its normal) from its posterior corner, m at
#: 1.70 m; the multifidus and longissimus attachments of the model lie on them.
_POSTERIOR_SHAPE = np.array([(0.0, -0.004), (-0.010, -0.002), (-0.013, 0.007), (-0.019, 0.006),
                             (-0.023, -0.005), (-0.046, -0.009), (-0.051, -0.016), (-0.048, -0.026),
                             (-0.027, -0.024), (-0.021, -0.031), (-0.016, -0.037), (-0.012, -0.030),
                             (-0.006, -0.017), (0.0, -0.016)])


def _lumbar(m, geo, s, mid, t, ang) -> dict:
    """Vertebral bodies L5-L1 (name, (4, 2)), the discs L5_S1-L1_L2 and posterior elements."""
    depth = np.asarray(m.endplate_depth)
    wedge = _body_wedges(m)
    vertebrae, discs, posterior = [], [], []
    lower_sup = (mid[0] + 0.5 * depth[0] * t[0], mid[0] - 0.5 * depth[0] * t[0])  # S1 plate
    for k, (body, joint) in enumerate(_VERTEBRAE):
        e = k + 1
        h = DISC_HEIGHT_M[joint] * s
        t_inf = np.array([math.cos(ang[e] - wedge[body]), math.sin(ang[e] - wedge[body])])
        inf_mid = geo.centres[m.joint_index(joint)] + 0.5 * h * _perp(t_inf)
        d = depth[e]
        inf_a, inf_p = inf_mid + 0.5 * d * t_inf, inf_mid - 0.5 * d * t_inf
        sup_a, sup_p = mid[e] + 0.5 * d * t[e], mid[e] - 0.5 * d * t[e]
        vertebrae.append((body, np.array([inf_a, sup_a, sup_p, inf_p])))
        discs.append((joint, np.array([lower_sup[0], inf_a, inf_p, lower_sup[1]])))
        lower_sup = (sup_a, sup_p)
        corner = mid[e] - 0.5 * d * t[e]
        shape = _POSTERIOR_SHAPE
        posterior.append(corner + s * (shape[:, :1] * t[e] + shape[:, 1:] * _perp(t[e])))
    return {"vertebrae": vertebrae, "discs": discs, "posterior": posterior}


def _sacrum(m, s, lm, mid, t) -> dict:
    """The sacrum outline and the S1 body, in plate coordinates (u anterior, v superior) about
    the S1 midpoint: the dorsal surface (S1 posterior elements ~2.5 cm behind the body, the
    median crest, curving anteriorly to ``sacrum_posterior``), the ventral surface concave
    anteriorly from the promontory to the apex."""
    S, u = mid[0], t[0]
    v = _perp(u)
    sp = lm["sacrum_posterior"] - S
    spu, spv = float(sp @ u), float(sp @ v)
    d0 = float(m.endplate_depth[0])

    def plate(pu, pv):
        return S + pu * u + pv * v

    dorsal = [plate(-0.5 * d0, 0.0), plate(-0.5 * d0 - 0.012 * s, -0.005 * s),
              plate(-0.5 * d0 - 0.018 * s, -0.035 * s), plate(0.5 * (spu - 0.5 * d0) - 0.008 * s,
                                                              0.62 * spv), plate(spu, spv)]
    tip = plate(spu + 0.011 * s, spv - 0.006 * s)
    ventral = [tip, plate(spu + 0.008 * s, 0.78 * spv), plate(0.5 * spu + 0.006 * s, 0.47 * spv),
               plate(0.5 * d0 - 0.003 * s, -0.02 * s), plate(0.5 * d0, 0.0)]
    return {"sacrum": np.vstack([_spline(dorsal, closed=False, n=8), _spline(ventral, closed=False, n=8)]),
            "s1_body": np.array([plate(0.5 * d0, 0.0), plate(0.5 * d0 - 0.003 * s, -0.027 * s),
                                 plate(-0.5 * d0, -0.027 * s), plate(-0.5 * d0, 0.0)])}


def _pelvis(m, geo, s, lm) -> dict:
    """The innominate outline through its landmarks, the obturator foramen and the acetabulum
    (pelvis frame, offsets from the hip centre in m at 1.70 m)."""
    pb = m.body_index("pelvis")
    hip_local = np.asarray(m.landmarks["hip_centre"][1])

    def pel(offset):
        return _local_to_world(geo, pb, hip_local + s * np.asarray(offset, float))[0]

    ctrl = [lm["ASIS"], pel((0.058, 0.064)), pel((0.042, 0.030)), pel((0.038, -0.008)),
            lm["pubic_symphysis"], pel((0.022, -0.058)), pel((-0.012, -0.052)),
            lm["ischial_tuberosity"] + (pel((0.004, -0.012)) - pel((0.0, 0.0))),
            pel((-0.062, -0.030)), pel((-0.064, 0.000)), pel((-0.052, 0.034)),
            pel((-0.088, 0.074)), lm["PSIS"], pel((-0.082, 0.140)), pel((-0.040, 0.152)),
            pel((0.004, 0.150)), pel((0.044, 0.130))]
    ring = _circle((0.0, 0.0), 1.0, 32) * np.array([0.020, 0.012]) + np.array([0.0, -0.036])
    return {"pelvis": _spline(ctrl, closed=True, n=8),
            "obturator": np.array([pel(xy) for xy in ring]),
            "acetabulum": _circle(lm["hip_centre"], 0.029 * s)}


# ------------------------------------------------------------------------------------------
# The legs
# ------------------------------------------------------------------------------------------
#: Femur outline: (anchor 0 = hip / 1 = knee, distance along hip -> knee, anterior offset), m at
#: 1.70 m: the trochanteric region under the head, the shaft, the condyles.
_FEMUR = [(0, 0.012, 0.018), (0, 0.05, 0.018), (0, 0.10, 0.015), (1, -0.12, 0.015),
          (1, -0.07, 0.020), (1, -0.035, 0.027), (1, -0.012, 0.022), (1, 0.002, 0.006),
          (1, 0.001, -0.014), (1, -0.012, -0.028), (1, -0.035, -0.031), (1, -0.065, -0.023),
          (1, -0.11, -0.016), (0, 0.11, -0.015), (0, 0.06, -0.024), (0, 0.02, -0.028),
          (0, -0.008, -0.022)]
#: Tibia outline: (anchor 0 = knee / 1 = ankle, distance along knee -> ankle, anterior offset),
#: m at 1.70 m: the plateau, the tuberosity, the shaft, the plafond and the medial malleolus.
_TIBIA = [(0, 0.012, 0.030), (0, 0.040, 0.034), (0, 0.070, 0.024), (0, 0.16, 0.015),
          (1, -0.10, 0.015), (1, -0.035, 0.020), (1, -0.012, 0.016), (1, 0.004, 0.008),
          (1, -0.004, -0.004), (1, -0.012, -0.018), (1, -0.05, -0.014), (1, -0.16, -0.012),
          (0, 0.10, -0.016), (0, 0.045, -0.030), (0, 0.012, -0.034)]
#: Fibula (behind the tibia in this view): head to the lateral malleolus, same coordinates.
_FIBULA = [(0, 0.030, -0.030), (0, 0.050, -0.034), (1, -0.02, -0.020), (1, 0.010, -0.010),
           (1, 0.012, -0.002), (1, -0.02, -0.010), (0, 0.055, -0.024)]
#: Foot outline: (along heel -> forefoot, above the sole) in units of the heel-forefoot
#: distance: heel, calcaneal tuberosity, talus under the ankle, dorsum, toes, the sole back
#: along the arch (the heel and forefoot landmarks at (0, 0) and (1, 0) lie on the floor).
_FOOT = [(0.0, 0.0), (-0.06, 0.05), (-0.07, 0.16), (0.02, 0.27), (0.18, 0.38), (0.30, 0.43),
         (0.42, 0.40), (0.62, 0.30), (0.85, 0.18), (1.02, 0.12), (1.25, 0.09), (1.45, 0.05),
         (1.52, 0.02), (1.46, 0.0), (1.2, 0.01), (1.0, 0.0), (0.7, 0.07), (0.4, 0.08),
         (0.15, 0.02)]


def _bone_along(a, b, profile, s, n: int = 6) -> np.ndarray:
    """A closed outline along the bone axis a -> b (world, (2,) each): ``profile`` rows (anchor
    0 = a / 1 = b, distance along a -> b, anterior offset), distances in m at 1.70 m."""
    axis = _unit(b - a)
    side = _perp(axis)                     # anterior of a bone that points down the leg
    L = float(np.linalg.norm(b - a))
    pts = np.array([a + (k * L + d * s) * axis + w * s * side for k, d, w in profile])
    return _spline(pts, closed=True, n=n)


#: The outlines of one leg (`_legs`); a model with two legs draws the right leg under these keys
#: (it faces the viewer: +x anterior, +y up, the right side towards +z) and the left one behind
#: it under ``<key>_far`` (`bone_parts`, role "limb_far").
LEG_PARTS = ("fibula", "foot", "tibia", "femur_shaft", "femur_head", "patella")


def _legs(m, geo, s, lm, sfx: str = "") -> dict:
    """Femur and its head, patella, tibia, fibula and foot of the leg with name suffix ``sfx``."""
    hip, knee, ankle = lm["hip_centre"], lm["knee" + sfx], lm["ankle" + sfx]
    axis = _unit(knee - hip)
    front = _perp(axis)                    # anterior
    heel, fore = lm["heel" + sfx], lm["forefoot" + sfx]
    d = float(np.linalg.norm(fore - heel))
    patella = knee - 0.035 * s * axis + 0.042 * s * front
    ell = _circle((0.0, 0.0), 1.0, 24) * np.array([0.024, 0.010]) * s
    return {"femur_shaft": _bone_along(hip, knee, _FEMUR, s),
            "femur_head": _circle(hip, 0.024 * s),
            "patella": patella + ell[:, :1] * axis + ell[:, 1:] * front,
            "tibia": _bone_along(knee, ankle, _TIBIA, s),
            "fibula": _bone_along(knee, ankle, _FIBULA, s),
            "foot": _spline(_in_frame(heel, _unit(fore - heel), _FOOT, d), closed=True, n=6)}


# ------------------------------------------------------------------------------------------
# The thorax (three bodies), laid out on the reference posture and carried
# ------------------------------------------------------------------------------------------
#: The thoracic bodies, inferior to superior, with the joints below and above each.
_THORAX = (("thorax_lower", "T12_L1", "T8_T9"), ("thorax_middle", "T8_T9", "T4_T5"),
           ("thorax_upper", "T4_T5", "C7_T1"))
#: Share of a thoracic level (body and disc) taken by the disc, and the depth of the
#: vertebral bodies from T12 to T1 (m at 1.70 m).
_THORACIC_DISC_SHARE = 0.25
_THORACIC_DEPTH_M = (0.030, 0.019)
#: Rib-cage silhouette in the chord frame (fraction of T12/L1 -> C7, m anterior at 1.70 m):
#: the posterior wall at the rib angles (the iliocostalis insertions), the sternum, the costal
#: margin through the rectus abdominis and external oblique attachments.
_CAGE = [(-0.10, -0.040), (0.02, -0.062), (0.20, -0.070), (0.42, -0.068), (0.60, -0.060),
         (0.74, -0.048), (0.84, -0.032), (0.90, -0.016), (0.88, 0.020), (0.82, 0.050),
         (0.76, 0.074), (0.56, 0.102), (0.36, 0.126), (0.28, 0.128), (0.18, 0.120),
         (0.06, 0.114), (-0.05, 0.102), (-0.11, 0.080), (-0.13, 0.050), (-0.12, 0.010)]
#: Ribs 2..9 at these levels of the chord: spine -> angle -> anterior wall.
_RIB_LEVELS = np.linspace(0.80, 0.12, 8)
#: The sternum's jugular notch, the lower end of its body and the xiphoid, same coordinates.
_STERNUM = [(0.76, 0.074), (0.36, 0.126), (0.29, 0.122)]


def _column_path(model) -> np.ndarray:
    """Catmull-Rom control points (6, 2) of the thoracic column on the reference posture: the
    joint centres L1/L2, T12/L1, T8/T9, T4/T5, C7/T1 and a natural end above; piece k (k = 0,
    1, 2) runs through the k-th thoracic body (`_THORAX`)."""
    cen0 = _reference_pose(model)[2]
    path = np.array([cen0[model.joint_index(j)] for j in ("L1_L2", "T12_L1", "T8_T9", "T4_T5", "C7_T1")])
    return np.vstack([path, 2 * path[-1] - path[-2]])


def _thoracic_blocks(model) -> tuple[np.ndarray, np.ndarray]:
    """Bodies (12,) and corners (12, 4, 2) of the vertebral bodies T12..T1 on the reference
    posture: four to each thoracic body, along the column with a disc between them."""
    s = model.subject.height_m / REFERENCE_HEIGHT_M
    ext = _column_path(model)
    depths = np.linspace(*_THORACIC_DEPTH_M, 12) * s
    g = 0.5 * _THORACIC_DISC_SHARE
    bodies, blocks = [], []
    for k, (body, _below, _above) in enumerate(_THORAX):
        for i in range(4):
            c, tan = _catmull_rom(ext[k:k + 4], np.array([[(i + g) / 4], [(i + 1 - g) / 4]]))
            n = np.array([_unit(-_perp(v)) for v in tan])        # anterior normals
            d = 0.5 * depths[4 * k + i]
            blocks.append(np.array([c[0] + d * n[0], c[1] + d * n[1], c[1] - d * n[1], c[0] - d * n[0]]))
            bodies.append(model.body_index(body))
    return np.array(bodies), np.array(blocks)


def _cage_frame(model):
    """The rib cage's frame on the reference posture: a function (f, x) rows -> (bodies, world
    points), f the fraction of the T12/L1 -> C7 line, x m anterior of it at 1.70 m, each point
    on the thoracic body at its level (below T8/T9, below T4/T5, above)."""
    ang0, org0, cen0 = _reference_pose(model)
    s = model.subject.height_m / REFERENCE_HEIGHT_M
    T = cen0[model.joint_index("T12_L1")]
    hb, hl = model.landmarks["C7"]
    c7 = org0[hb] + kin.rotation(ang0[hb]) @ np.asarray(hl)
    L = float(np.linalg.norm(c7 - T))
    ea = (c7 - T) / L
    ant = -_perp(ea)
    levels = [float((cen0[model.joint_index(j)] - T) @ ea) / L for j in ("T8_T9", "T4_T5")]
    thorax = [model.body_index(b) for b, _, _ in _THORAX]

    def placed(fx):
        fx = np.asarray(fx, float)
        pts = T + np.multiply.outer(fx[:, 0] * L, ea) + np.multiply.outer(fx[:, 1] * s, ant)
        return np.array([thorax[int(np.searchsorted(levels, f))] for f in fx[:, 0]]), pts

    def chord(points):                    # world points -> (f, x)
        d = np.asarray(points) - T
        return d @ ea / L, d @ ant / s
    return placed, chord


def _ribs(model, placed, chord) -> list:
    """Ribs 2..9 (bodies, control points): from the vertebra at their level back to the rib
    angle, just inside the cage's posterior wall, then forward to the anterior wall."""
    ext = _column_path(model)
    spine_f, spine_x = chord(np.vstack([_catmull_rom(ext[k:k + 4], np.linspace(0, 1, 9)[:, None])[0]
                                        for k in range(3)]))
    back = np.array(_CAGE[:8])            # the posterior wall, inferior to superior

    def wall(f):                          # x just inside the posterior wall at level f
        return float(np.interp(f, back[:, 0], back[:, 1])) + 0.006
    ribs = []
    for f in _RIB_LEVELS:
        x_spine = float(np.interp(f, spine_f, spine_x))
        ribs.append(placed([(f, x_spine - 0.012), (f - 0.02, wall(f - 0.02)),
                            (f - 0.10, wall(f - 0.10) + 0.006), (f - 0.22, 0.02),
                            (f - 0.26 + 0.1 * (0.8 - f), 0.09)]))
    return ribs


def _sternum(placed, s: float) -> tuple[np.ndarray, np.ndarray]:
    """The sternum (bodies, outline): jugular notch, the body, the xiphoid, behind the anterior
    wall of the cage."""
    bodies, (jug, xs, xt) = placed(_STERNUM)
    back = _perp(_unit(jug - xs))         # posterior normal of the sternum
    w = 0.012 * s
    pts = np.array([jug, xs, xt, xt + 0.3 * w * back, xs + w * back, jug + 1.3 * w * back])
    return np.concatenate([bodies, bodies[::-1]]), pts


@functools.lru_cache(maxsize=16)
def _thorax_layout(model) -> dict:
    """The thoracic vertebrae T12..T1 (bodies (12,), corners (12, 4, 2)), the rib cage outline,
    the sternum and the ribs (each: bodies (k,), control points (k, 2)) on the reference
    posture; each point is carried by the thoracic body at its level (`_carried`)."""
    placed, chord = _cage_frame(model)
    s = model.subject.height_m / REFERENCE_HEIGHT_M
    return {"thoracic": _thoracic_blocks(model), "cage": placed(_CAGE),
            "sternum": _sternum(placed, s), "ribs": _ribs(model, placed, chord)}


def _thorax(m, geo) -> dict:
    """The thoracic vertebrae, rib cage, sternum and ribs at the posture ``geo``."""
    lay = _thorax_layout(m)
    bodies, blocks = lay["thoracic"]
    moved = _carried(m, geo, np.repeat(bodies, 4), blocks.reshape(-1, 2)).reshape(blocks.shape)
    return {"thoracic": list(moved),
            "thorax": _spline(_carried(m, geo, *lay["cage"]), closed=True, n=8),
            "sternum": _carried(m, geo, *lay["sternum"]),
            "ribs": [_spline(_carried(m, geo, *rib), closed=False, n=8) for rib in lay["ribs"]]}


# ------------------------------------------------------------------------------------------
# The neck and head (one body)
# ------------------------------------------------------------------------------------------
#: Head silhouette in units of the occiput -> glabella length (along it, above it), from the
#: occiput over the vertex to the face, chin and jaw and back under the skull (head height
#: ≈ 1.17 head lengths, vertex ≈ 0.47 above the glabella-occiput line).
_HEAD = [(0.0, 0.0), (0.03, 0.17), (0.13, 0.33), (0.30, 0.44), (0.50, 0.47), (0.70, 0.43),
         (0.87, 0.31), (0.97, 0.13), (1.0, 0.0), (0.985, -0.06), (1.05, -0.17), (1.08, -0.24),
         (1.02, -0.29), (1.03, -0.35), (1.01, -0.41), (0.99, -0.50), (0.96, -0.57),
         (0.88, -0.62), (0.74, -0.58), (0.62, -0.50), (0.58, -0.36), (0.46, -0.27),
         (0.28, -0.20), (0.08, -0.09)]
#: The orbit and the skull base (basion, where the cervical spine ends), same units.
_ORBIT, _ORBIT_RADIUS = (0.86, -0.10), 0.055
_BASION = (0.55, -0.28)
#: Cervical spine C7..C2 from the C7 body centre to the basion: the level height (body and
#: disc) as a share of that length, the body's share of a level, the lordotic bow (sagitta /
#: length) and the bodies' depth (m at 1.70 m).
_CERVICAL_LEVEL, _CERVICAL_BODY, _CERVICAL_BOW, _CERVICAL_DEPTH_M = 1.0 / 6.0, 0.72, 0.045, 0.016


def _head(m, s, lm) -> dict:
    """The cervical vertebral bodies C7 (``c7_body``) and C6..C2 (``cervical``, C2 with the
    dens), the head silhouette and the orbit, from the head's landmarks."""
    O, G, c7 = lm["occiput"], lm["glabella"], lm["C7"]
    L = float(np.linalg.norm(G - O))
    u = _unit(G - O)
    basion = _in_frame(O, u, [_BASION], L)[0]
    chord = basion - c7
    n = -_perp(_unit(chord))                                  # anterior of the neck
    bow = _CERVICAL_BOW * float(np.linalg.norm(chord))

    def at(f):                                                # centre and anterior normal
        p = c7 + f * chord + 4 * bow * f * (1 - f) * n
        tan = chord + 4 * bow * (1 - 2 * f) * n
        return p, -_perp(_unit(tan))

    d = 0.5 * _CERVICAL_DEPTH_M * s
    blocks = []
    for k in range(6):                                        # C7, C6, ..., C2
        f0 = (k - 0.5 * _CERVICAL_BODY) * _CERVICAL_LEVEL
        f1 = (k + 0.5 * _CERVICAL_BODY) * _CERVICAL_LEVEL
        (p0, n0), (p1, n1) = at(f0), at(f1)
        pts = [p0 + d * n0, p1 + d * n1]
        if k == 5:                                            # C2: the dens up to the atlas
            (p2, n2) = at(min(f1 + 0.6 * _CERVICAL_LEVEL, 0.97))
            pts += [p1 + 0.6 * d * n1, p2 + 0.5 * d * n2, p2 - 0.1 * d * n2, p1 - 0.3 * d * n1]
        pts += [p1 - d * n1, p0 - d * n0]
        blocks.append(np.array(pts))
    return {"c7_body": blocks[0], "cervical": blocks[1:],
            "head": _spline(_in_frame(O, u, _HEAD, L), closed=True, n=6),
            "orbit": _circle(_in_frame(O, u, [_ORBIT], L)[0], _ORBIT_RADIUS * L, 24)}


# ------------------------------------------------------------------------------------------
# The support: surfaces and forces
# ------------------------------------------------------------------------------------------
def _support(p, geo, s) -> dict:
    """Support surfaces [(name, (2, 2) line)] and forces [(name, point (2,), force (2,) N)]:
    the compliant contacts (seat, backrest, table) and the root's reaction (`balance.reaction`).
    Standing and sitting, the reaction at the two ends of the foot (heel and forefoot, as
    `results.support_contacts` reports them); lying, the table's reaction on the middle back as
    one force at its centre of pressure (the broad table takes a moment, so one end of the T8-T5
    patch may carry a negative share, `balance.balance_margins`; the centre of pressure shows
    where the table pushes)."""
    if p.support.side_lying:         # the table and gravity act across the drawing's plane
        return {"surfaces": [], "supports": [], "cop": None, "com": centre_of_mass(p, geo),
                "body_weight": 0.0}
    specs = p.contacts
    cb, cp, cf = contact_forces(p, geo)
    r = root_reaction(p, geo, contact=(cb, cp, cf))
    n_root = np.asarray(r.normal, float)
    forces = [(spec.landmark, pt, f) for spec, pt, f in zip(specs, cp, cf)]
    if p.support.kind == "lying":
        cop = r.centre_of_pressure
        forces.append(("chest" if p.support.lying_on == "front" else "back",
                       cop if np.all(np.isfinite(cop)) else 0.5 * (r.a + r.b), r.force))
    else:
        total = r.normal_N
        share = (0.5, 0.5) if total == 0.0 else (r.a_N / total, r.b_N / total)
        t_root = np.array([n_root[1], -n_root[0]])
        forces += [(name, end, n_f * n_root + k * r.friction_N * t_root) for name, end, n_f, k in
                   zip((p.patch.a, p.patch.b), (r.a, r.b), (r.a_N, r.b_N), share)]
    # each surface through its contacts: {name: (normal, a point on it, [contact points])}
    root_name = "table" if p.support.kind == "lying" else "floor"
    planes: dict = {root_name: (n_root, r.a, [r.a, r.b])}
    for spec, pt, normal, offset in zip(specs, cp, p.contact_normal, p.contact_offset):
        name = root_name if spec.surface == "root" else spec.surface
        base = normal * (float(offset) + float(geo.shift @ normal))   # plane: x.n = offset + shift.n
        planes.setdefault(name, (normal, base, []))[2].append(pt)
    surfaces = []
    for name, (normal, base, pts) in planes.items():
        tangent = _perp(normal)
        feet = [q - normal * float((q - base) @ normal) for q in pts]
        along = [float(f @ tangent) for f in feet]
        lo, hi = feet[int(np.argmin(along))], feet[int(np.argmax(along))]
        margin = SURFACE_MARGIN_M * s * tangent
        surfaces.append((SURFACE_NAMES.get(name, name), np.array([lo - margin, hi + margin])))
    cop = None                       # the floor's (or seat's feet's) centre of pressure
    if p.support.kind != "lying" and balance_checked(p) and np.all(np.isfinite(r.centre_of_pressure)):
        cop = np.asarray(r.centre_of_pressure, float)
    return {"surfaces": surfaces, "supports": forces, "cop": cop, "com": centre_of_mass(p, geo),
            "body_weight": float(np.linalg.norm(np.asarray(p.weight).sum(0)))}


# ------------------------------------------------------------------------------------------
# The skeleton of a posture
# ------------------------------------------------------------------------------------------
def skeleton(report) -> dict:
    """World-frame outlines of everything drawn for one posture (arrays of shape (..., 2)).

    Keys: ``landmarks`` (name -> (2,)), ``centres`` (joint centres), the endplates ``ep_mid``,
    ``ep_t``, ``ep_depth``; the bones (`bone_parts` lists them); ``c7`` (the C7 landmark);
    ``muscles`` (one (k, 2) path per line) and ``muscle_length``; ``surfaces`` [(name, (2, 2))],
    ``supports`` and ``loads`` [(name, point, force N)], ``body_weight`` (N), ``gravity`` (2,),
    ``com`` (the whole body's centre of mass) and ``cop`` (the centre of pressure under the
    feet, standing and sitting where the balance is checked; else None).
    """
    p = report.result.problem
    m = p.model
    geo = report.geometry
    s = m.subject.height_m / REFERENCE_HEIGHT_M
    lm = {name: landmark(p, geo, name) for name in m.landmarks}
    mid, t, ang = endplates(p, geo)
    sk: dict = {"landmarks": lm, "ep_mid": mid, "ep_t": t, "ep_depth": np.asarray(m.endplate_depth),
                "centres": geo.centres.copy(), "c7": lm["C7"]}
    sk.update(_lumbar(m, geo, s, mid, t, ang))
    sk.update(_sacrum(m, s, lm, mid, t))
    sk.update(_pelvis(m, geo, s, lm))
    near, *far = m.leg_suffixes
    sk.update(_legs(m, geo, s, lm, near))
    for sfx in far:
        sk.update({f"{k}_far": v for k, v in _legs(m, geo, s, lm, sfx).items()})
    sk.update(_thorax(m, geo))
    sk.update(_head(m, s, lm))
    # T12/L1 disc: the L1 superior endplate to the T12 inferior endplate
    t12 = sk["thoracic"][0]
    sk["discs"].append(("T12_L1", np.array([mid[5] + 0.5 * sk["ep_depth"][5] * t[5], t12[0], t12[3],
                                            mid[5] - 0.5 * sk["ep_depth"][5] * t[5]])))
    ptr = p.paths.line_ptr
    sk["muscles"] = [geo.points[ptr[i]:ptr[i + 1]].copy() for i in range(m.n_muscles)]
    sk["muscle_length"] = np.asarray(geo.length)
    sk.update(_support(p, geo, s))
    lp, lf = load_forces(p, geo)
    sk["loads"] = [(ld.body, pt, f) for ld, pt, f in zip(p.loads, lp, lf)]
    # the hands holding a knee drawn to the chest: (shoulder, knee, tension N: + pull, − push)
    hands = hand_state(p, geo) if len(p.hand_body) else None
    sk["hands"] = [] if hands is None else [(hands[1][2 * k + 1], hands[1][2 * k], float(hands[3][k]))
                                            for k in range(len(p.hand_body))]
    sk["cavity"] = np.asarray(geo.cavity, float)          # (2, 2) floor and roof, or (0, 2)
    sk["cavity_half_depth_m"] = m.cavity.half_depth_m if m.cavity is not None else 0.0
    sk["iap_Pa"] = float(report.abdominal_pressure_Pa)
    # the direction drawn as down: gravity's, or lying on the side (no gravity in the plane) that
    # of lying on the back, the body seen from above the table; "plane_gravity" is gravity's own
    sk["plane_gravity"] = np.asarray(p.gravity, float)
    sk["gravity"] = sk["plane_gravity"] if np.any(sk["plane_gravity"]) else np.array([-1.0, 0.0])
    sk["support"] = (p.support.kind, p.support.legs, p.support.thigh_deg, m.leg_suffixes)
    return sk


def leg_angle_deg(sk: dict, sfx: str = "") -> float:
    """Angle of the thigh (hip centre to knee) above the horizontal (°), + = knee up: lying,
    the legs' angle above the table (the leg with name suffix ``sfx``)."""
    up = -sk["gravity"] / np.linalg.norm(sk["gravity"])
    thigh = sk["landmarks"]["knee" + sfx] - sk["landmarks"]["hip_centre"]
    return math.degrees(math.atan2(float(thigh @ up), abs(float(thigh @ _perp(up)))))


#: Entries of a skeleton that are not positions or directions (`transform` leaves them).
_NOT_GEOMETRY = ("ep_depth", "muscle_length", "body_weight", "support")


def transform(obj, R: np.ndarray):
    """Rotate every (..., 2) array of a skeleton about the origin (the hip centre): points,
    directions, forces and gravity alike."""
    if isinstance(obj, np.ndarray):
        return obj @ R.T if obj.ndim >= 1 and obj.shape[-1] == 2 else obj
    if isinstance(obj, dict):
        return {k: (v if k in _NOT_GEOMETRY else transform(v, R)) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(transform(v, R) for v in obj)
    if isinstance(obj, list):
        return [transform(v, R) for v in obj]
    return obj


def bone_parts(sk: dict) -> list[tuple[str, np.ndarray]]:
    """(role, outline) of every bone `draw_bones` draws, in its order (the viewer moves them in
    the same order). Roles: thorax, sternum, rib, pelvis, obturator, acetabulum, head, orbit,
    limb, posterior, spine, s1_body, thoracic, cervical, vertebra; surfaces are drawn after these
    (`surface_lines`) and discs apart (``sk["discs"]``)."""
    parts = [("thorax", sk["thorax"]), ("sternum", sk["sternum"])]
    parts += [("rib", r) for r in sk["ribs"]]
    parts += [("pelvis", sk["pelvis"]), ("obturator", sk["obturator"]), ("acetabulum", sk["acetabulum"]),
              ("head", sk["head"]), ("orbit", sk["orbit"])]
    parts += [("limb_far", sk[f"{k}_far"]) for k in LEG_PARTS if f"{k}_far" in sk]
    parts += [("limb", sk[k]) for k in LEG_PARTS]
    parts += [("posterior", xy) for xy in sk["posterior"]]
    parts += [("spine", sk["sacrum"]), ("s1_body", sk["s1_body"])]
    parts += [("thoracic", xy) for xy in sk["thoracic"]]
    parts += [("cervical", sk["c7_body"])] + [("cervical", xy) for xy in sk["cervical"]]
    parts += [("vertebra", xy) for _name, xy in sk["vertebrae"]]
    return parts


def surface_lines(sk: dict) -> list[np.ndarray]:
    """The support surface lines (2, 2) of a skeleton, in drawing order."""
    return [xy for _name, xy in sk["surfaces"]]


def outline_points(sk: dict) -> np.ndarray:
    """Every bone and surface point of a skeleton (k, 2): the extent of the body drawn."""
    return np.vstack([xy for _role, xy in bone_parts(sk)] + surface_lines(sk))


# ------------------------------------------------------------------------------------------
# Drawing pieces
# ------------------------------------------------------------------------------------------
def _bone_styles(colour: str | None, ghost: bool) -> dict:
    """Style (face, edge, lw, alpha, face_alpha) of each role of `bone_parts`."""
    lw = STYLE["bone_lw"]
    if ghost:
        g, a = STYLE["ghost"], STYLE["ghost_alpha"]
        spine = dict(face="#d9d9d9", edge="#808080", lw=lw, alpha=0.75)
        frame = dict(face="#e8e8e8", edge=g, lw=lw, alpha=a)
        back = dict(face="#e8e8e8", edge=g, lw=0.6 * lw, alpha=a)
        soft = dict(face="#f0f0f0", edge=g, lw=0.6 * lw, alpha=a)
        rib = dict(face="none", edge=g, lw=0.5, alpha=0.25 * a)
        disc = dict(face="#eeeeee", edge=g, lw=0.5 * lw, alpha=a)
    elif colour is not None:                    # overlay: tinted spine, outlined frame
        spine = dict(face=colour, edge=colour, lw=1.2 * lw, alpha=None, face_alpha=0.18)
        frame = dict(face="none", edge=colour, lw=lw, alpha=0.75)
        back = dict(face="none", edge=colour, lw=0.6 * lw, alpha=0.6)
        soft = dict(face="none", edge=colour, lw=0.8 * lw, alpha=0.75)
        rib = None
        disc = dict(face="none", edge=colour, lw=0.6 * lw, alpha=0.8)
    else:
        spine = dict(face=STYLE["bone_face"], edge=STYLE["bone_edge"], lw=lw, alpha=1.0)
        frame = dict(face=STYLE["bone_face"], edge=STYLE["bone_edge"], lw=lw, alpha=1.0)
        back = dict(frame, lw=0.6 * lw, alpha=0.75)
        soft = dict(face=STYLE["thorax_face"], edge=STYLE["bone_edge"], lw=0.6 * lw, alpha=1.0)
        rib = dict(face="none", edge=STYLE["bone_edge"], lw=0.5, alpha=0.35)
        disc = dict(face=STYLE["disc_face"], edge=STYLE["disc_edge"], lw=0.5 * lw, alpha=1.0)
    plain = colour is None and not ghost

    def thin(st, **kw):
        return dict(st, lw=0.6 * st["lw"], **kw)
    translucent = dict(frame, alpha=STYLE["pelvis_alpha"]) if plain else frame
    head = dict(soft, alpha=STYLE["pelvis_alpha"] + 0.25) if plain else soft
    hole = thin(frame, face="white") if plain else frame
    dashed = dict(spine, face="none", face_alpha=None, lw=0.5 * spine["lw"], ls=(0, (2, 2)))
    z = LAYERS
    return {"thorax": (soft, z["thorax"]), "sternum": (thin(frame), z["thorax"] + 0.1),
            "rib": (rib, z["thorax"] + 0.05), "head": (head, z["thorax"]),
            "orbit": (thin(frame, face="none"), z["thorax"] + 0.1),
            "pelvis": (translucent, z["pelvis"]), "obturator": (hole, z["pelvis"] + 0.01),
            "acetabulum": (thin(frame, face="none"), z["pelvis"] + 0.02),
            "limb": (frame, z["femur"]), "limb_far": (dict(back, alpha=0.55), z["thorax"] - 0.1),
            "posterior": (back, z["line_under"] + 0.1),
            "spine": (spine, z["bone"]), "s1_body": (dashed, z["bone"] + 0.01),
            "thoracic": (thin(spine), z["bone"]), "cervical": (thin(spine), z["bone"]),
            "vertebra": (spine, z["bone"]), "disc": (disc, z["bone"])}


def _patch(ax, xy, st: dict, z: float) -> Polygon:
    fc = st["face"]
    if st.get("face_alpha") is not None and fc != "none":
        fc = to_rgba(fc, st["face_alpha"])
    patch = Polygon(xy, closed=True, facecolor=fc, edgecolor=st["edge"], linewidth=st["lw"],
                    zorder=z, alpha=st["alpha"], linestyle=st.get("ls", "-"), joinstyle="round")
    # add_artist, not add_patch: a posture's axes take their limits from the drawn points
    # (`set_limits`, `zoom`), so the bones need not update the data limits, which took a sixth
    # of a posture figure's time (issue 17)
    ax.add_artist(patch)
    return patch


def draw_bones(ax, sk: dict, *, colour: str | None = None, ghost: bool = False,
               labels: bool = True, plates: str | None = None) -> dict:
    """Bones, discs and support surfaces. ``colour``: one posture of an overlay; ``ghost``:
    faint grey; ``plates``: a colour for the two endplates of the lordosis (S1 and L1), thick.

    Returns a dict of lists of artists: bones (`bone_parts` in order, then the surface lines,
    then the plates), discs, labels (vertebra names and surface names)."""
    out: dict = {"bones": [], "discs": [], "labels": []}
    styles = _bone_styles(colour, ghost)
    for role, xy in bone_parts(sk):
        st, z = styles[role]
        if role == "rib":
            if st is not None:
                out["bones"].append(ax.plot(xy[:, 0], xy[:, 1], color=st["edge"], lw=st["lw"],
                                            alpha=st["alpha"], zorder=z)[0])
            continue
        out["bones"].append(_patch(ax, xy, st, z))
    for _name, xy in sk["discs"]:
        out["discs"].append(_patch(ax, xy, *styles["disc"]))
    for xy in surface_lines(sk):
        out["bones"].append(ax.plot(xy[:, 0], xy[:, 1], color=STYLE["surface"], lw=2.0,
                                    alpha=0.5 if ghost else 1.0, zorder=LAYERS["femur"],
                                    solid_capstyle="butt")[0])
    plates = plates or colour
    if plates is not None:                      # the two endplates of the lordosis, thick
        mid, t, d = sk["ep_mid"], sk["ep_t"], sk["ep_depth"]
        for k in (0, 5):
            a_, b_ = mid[k] - 0.5 * d[k] * t[k], mid[k] + 0.5 * d[k] * t[k]
            out["bones"].append(ax.plot([a_[0], b_[0]], [a_[1], b_[1]], color=plates, lw=2.2,
                                        zorder=LAYERS["angle"], solid_capstyle="round")[0])
    if labels and colour is None and not ghost:
        for name, xy in sk["vertebrae"]:
            c = xy.mean(0)
            out["labels"].append(ax.text(c[0], c[1], name, ha="center", va="center",
                                         fontsize=STYLE["small"] - 0.5, color=STYLE["bone_edge"],
                                         zorder=LAYERS["bone"] + 0.1, clip_on=True))
        for name, xy in unique_surfaces(sk):
            out["labels"].append(surface_label(ax, name, xy))
    return out


def unique_surfaces(sk: dict) -> list[tuple[str, np.ndarray]]:
    """The first surface line of each name (a seat of two planes is labelled once)."""
    seen: dict = {}
    for name, xy in sk["surfaces"]:
        seen.setdefault(name, xy)
    return list(seen.items())


def surface_label_xy(xy: np.ndarray) -> np.ndarray:
    """Where the name of a support surface goes: the right-hand end of its line (2, 2)."""
    return xy[1] if xy[1][0] >= xy[0][0] else xy[0]


def surface_label(ax, name: str, xy: np.ndarray):
    """The name of a support surface above the right-hand end of its line (2, 2)."""
    end = surface_label_xy(xy)
    return ax.text(end[0], end[1], f"{name} ", ha="right", va="bottom", fontsize=STYLE["small"],
                   color=STYLE["surface"], style="italic", zorder=LAYERS["text"], clip_on=True)


#: What an arrow of `force_states` shows: the forces of the support (head on the body) and the
#: external loads (tail on the body), with their `STYLE` colour.
FORCE_KINDS = ("support", "load")


def force_arrow(sk: dict, kind: str, force: np.ndarray, point: np.ndarray, s: float):
    """(tail, head, label position) of the arrow of a force (N) acting at ``point``: a support
    force with its head on the body, a load with its tail there; the length
    `SUPPORT_ARROW_PER_WEIGHT` × height per body weight, the label beyond the tail."""
    force = np.asarray(force, float)
    point = np.asarray(point, float)
    size = float(np.linalg.norm(force))
    scale = SUPPORT_ARROW_PER_WEIGHT * REFERENCE_HEIGHT_M * s / max(sk["body_weight"], 1e-9)
    away = 0.025 * s * force / max(size, 1e-12)
    if kind == "load":                   # the label above the point the load hangs from
        return point, point + scale * force, point - 0.8 * away
    tail = point - scale * force
    return tail, point, tail - away


def force_states(sk: dict, s: float) -> list[tuple]:
    """(kind, tail, head, label position, label, arrow shown, label shown) of every force of
    ``sk``: the support forces (`skeleton`'s ``supports``, in order; an arrow above
    `SUPPORT_ARROW_MIN` of the body weight, labelled above `SUPPORT_LABEL_MIN`), then the
    external loads (``loads``, always shown)."""
    w = max(sk["body_weight"], 1e-9)
    out = []
    for kind, key in zip(FORCE_KINDS, ("supports", "loads")):
        for _name, pt, f in sk[key]:
            size = float(np.linalg.norm(f))
            tail, head, at = force_arrow(sk, kind, f, pt, s)
            load = kind == "load"
            shown = size > 0.0 and (load or size >= SUPPORT_ARROW_MIN * w)
            labelled = shown and (load or size >= SUPPORT_LABEL_MIN * w)
            label = f"load {size:.0f} N" if load else f"{size:.0f} N"
            out.append((kind, tail, head, at, label, shown, labelled))
    return out


def force_artists(ax, kind: str) -> tuple:
    """One force's (arrow, label) in the colour of its kind (`FORCE_KINDS`), not yet placed
    (`place_force`)."""
    colour = STYLE[kind]
    arrow = FancyArrowPatch((0.0, 0.0), (0.0, 0.0), arrowstyle="-|>", mutation_scale=9,
                            color=colour, lw=1.4, zorder=LAYERS["angle"] - 0.1)
    ax.add_patch(arrow)
    text = ax.text(0.0, 0.0, "", color=colour, fontsize=STYLE["small"], ha="center",
                   va="center", zorder=LAYERS["text"], clip_on=True,
                   bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.8))
    return arrow, text


def place_force(arrow, text, state) -> None:
    """Move one force's artists to a `force_states` entry."""
    _kind, tail, head, at, label, shown, labelled = state
    arrow.set_positions(tuple(tail), tuple(head))
    arrow.set_visible(shown)
    text.set_position((float(at[0]), float(at[1])))
    text.set_text(label)
    text.set_visible(labelled)


def draw_forces(ax, sk: dict, s: float) -> list:
    """Arrows of the forces the floor, seat, backrest or table put on the body and of the
    external loads, each labelled with its magnitude (N). Returns the artists drawn."""
    arts = []
    for state in force_states(sk, s):
        if not state[5]:
            continue
        arrow, text = force_artists(ax, state[0])
        place_force(arrow, text, state)
        arts.append(arrow)
        if state[6]:
            arts.append(text)
        else:
            text.remove()                     # a small force: the arrow only
    for shoulder, knee, tension in sk.get("hands", ()):   # the arms, shoulder to knee
        arts.append(line(ax, shoulder, knee, STYLE["support"], lw=3.0, alpha=0.45, z=LAYERS["line_under"]))
        mid = 0.5 * (shoulder + knee)
        arts.append(ax.text(mid[0], mid[1], f"hands {abs(tension):.0f} N {'pull' if tension >= 0 else 'push'}",
                            fontsize=STYLE["small"], color=STYLE["support"], ha="center", va="bottom",
                            zorder=LAYERS["text"], clip_on=True))
    return arts


def draw_balance(ax, sk: dict, s: float) -> list:
    """The whole body's centre of mass ("COM", a quartered circle, with its plumb line down to
    the floor when there is a centre of pressure) and the centre of pressure under the feet
    ("COP", a triangle on the floor). Returns the artists drawn."""
    com, cop = sk["com"], sk["cop"]
    g = sk["gravity"] / np.linalg.norm(sk["gravity"])
    out = [ax.plot([com[0]], [com[1]], "o", ms=7, mfc="white", mec="black", mew=1.0,
                   zorder=LAYERS["text"])[0],
           ax.plot([com[0]], [com[1]], "+", ms=7, color="black", mew=1.0, zorder=LAYERS["text"])[0],
           ax.annotate("COM", xy=tuple(com), xytext=(6, 4), textcoords="offset points",
                       fontsize=STYLE["small"], ha="left", va="bottom", zorder=LAYERS["text"],
                       annotation_clip=True)]
    if cop is not None:
        foot = com + g * float((cop - com) @ g)          # the plumb line's foot at the floor's level
        out.append(line(ax, com, foot, "black", ls=(0, (1, 2)), lw=0.8, alpha=0.7))
        out.append(ax.plot([cop[0]], [cop[1]], "^", ms=6, color=STYLE["support"], mec="black",
                           mew=0.6, zorder=LAYERS["text"])[0])
        out.append(ax.annotate("COP", xy=tuple(cop), xytext=(-5, 5), textcoords="offset points",
                               fontsize=STYLE["small"], ha="right", va="bottom",
                               color=STYLE["support"], zorder=LAYERS["text"], annotation_clip=True))
    return out


#: The abdominal cavity is drawn as a capsule around its axis, as wide on either side as the
#: model's cavity is deep (`Cavity.half_depth_m`: from the axis to the front of L3 and to the
#: anterior wall), shaded by its pressure from `CAVITY_ALPHA[0]` at 0 to `CAVITY_ALPHA[1]` at
#: `CAVITY_FULL_SHADE_PA` and above.
CAVITY_ALPHA = (0.04, 0.35)
CAVITY_FULL_SHADE_PA = 5000.0


def draw_cavity(ax, sk: dict) -> list:
    """The abdominal cavity (docs/model.md §6a) as a capsule around its axis from the floor (on
    the pelvis) to the roof (on the lower thorax), shaded by the pressure, under the bones and
    muscles. Returns the artists drawn (none without a cavity)."""
    if len(sk["cavity"]) != 2:
        return []
    f, d = sk["cavity"]
    e = (d - f) / np.linalg.norm(d - f)
    half = sk["cavity_half_depth_m"]
    n = _perp(e) * half
    t = np.linspace(0.0, math.pi, 12)
    cap = np.cos(t)[:, None] * n + np.sin(t)[:, None] * e[None, :] * half
    outline = np.vstack([d + cap, f - cap])              # around the roof, then the floor
    share = min(max(sk["iap_Pa"], 0.0) / CAVITY_FULL_SHADE_PA, 1.0)
    a0, a1 = CAVITY_ALPHA
    patch = Polygon(outline, closed=True, facecolor=STYLE["iap"], alpha=a0 + (a1 - a0) * share,
                    edgecolor="none", zorder=LAYERS["thorax"] - 0.1)
    ax.add_patch(patch)
    return [patch]


def cavity_legend_entry(patch) -> tuple:
    """(handle, label) of the shaded cavity for `muscle_legend`."""
    return (Patch(facecolor=STYLE["iap"], alpha=patch.get_alpha(), edgecolor="none"),
            "abdominal cavity (darker: higher pressure)")


def draw_gravity(ax, gravity) -> list:
    """An arrow "gravity" in the corner of the axes when gravity is not down the page (lying)."""
    g = np.asarray(gravity, float)
    if abs(g[0]) <= 1e-9 * max(1.0, abs(g[1])):
        return []
    d = g / np.linalg.norm(g)
    c = np.array([0.93, 0.90])
    return [ax.annotate("", xy=tuple(c + 0.05 * d), xytext=tuple(c - 0.05 * d), xycoords="axes fraction",
                        arrowprops=dict(arrowstyle="-|>", lw=1.4, color="black"), zorder=LAYERS["text"]),
            ax.text(c[0], c[1] + 0.035, "gravity", transform=ax.transAxes, ha="center", va="bottom",
                    fontsize=STYLE["small"], zorder=LAYERS["text"])]


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


#: Opacity of a muscle line at zero force and at the top of the force scale.
MUSCLE_ALPHA = (0.35, 1.0)


def highlighted_lines(model, names) -> np.ndarray:
    """Indices of the lines named by ``names`` (muscle groups or single lines, as a scenario's
    ``[muscles.X]`` tables name them); unknown names are left out."""
    idx = [model.group_lines(n) for n in names if n in model.muscle_group]
    idx += [np.array([model.muscle_names.index(n)]) for n in names if n in model.muscle_names]
    return np.unique(np.concatenate(idx)) if idx else np.zeros(0, int)


def muscle_style(sk: dict, groups, forces, norm: Normalize, highlight=()) -> tuple:
    """How each drawn muscle line looks: (indices of the lines drawn, in drawing order; RGBA
    colours (k, 4); widths (k,) pt). The colour is the line's group's (`group_colour`), the
    width and the opacity grow with force (`STYLE` "muscle_lw", `MUSCLE_ALPHA`) on ``norm``.
    Lines of nonzero length are drawn weakest first; the ``highlight`` indices (the muscles a
    scenario sets) last, on top, at least half the top width and opaque."""
    forces = np.asarray(forces, float)
    hl = set(int(i) for i in highlight)
    keep = [i for i, pts in enumerate(sk["muscles"]) if len(pts) >= 2 and sk["muscle_length"][i] > 0]
    keep.sort(key=lambda i: (i in hl, forces[i]))
    frac = np.clip(norm(forces[keep]), 0.0, 1.0) if keep else np.zeros(0)
    lw0, lw1 = STYLE["muscle_lw"]
    a0, a1 = MUSCLE_ALPHA
    top = np.array([i in hl for i in keep], bool)
    widths = np.where(top, np.maximum(lw0 + (lw1 - lw0) * frac, 0.5 * lw1), lw0 + (lw1 - lw0) * frac)
    colours = np.array([to_rgba(group_colour(groups[i])) for i in keep]).reshape(-1, 4)
    colours[:, 3] = np.where(top, 1.0, a0 + (a1 - a0) * frac)
    return keep, colours, widths


def draw_muscles(ax, sk: dict, groups, forces: np.ndarray, norm: Normalize,
                 highlight=()) -> LineCollection:
    """The muscle lines as one LineCollection (`muscle_style`); its ``muscle_index`` holds the
    model line of each path."""
    keep, colours, widths = muscle_style(sk, groups, forces, norm, highlight)
    coll = LineCollection([sk["muscles"][i] for i in keep], colors=colours, linewidths=widths,
                          zorder=LAYERS["muscle"], capstyle="round", joinstyle="round")
    coll.set_gid("muscles")
    coll.muscle_index = np.array(keep, int)     # which model lines, for callers and tests
    ax.add_collection(coll)
    return coll


def muscle_legend(ax, totals: dict, norm: Normalize, *, highlight_groups=(), loc="lower left",
                  bbox=(1.02, 0.0), ncol: int = 1, fontsize: float | None = None, compact: bool = False,
                  extra=()):
    """A legend of the muscle groups drawn, ``totals`` {group: total force (N), or None to name
    the group only} in their colours (a scenario's own groups first, "set by the scenario"),
    and of the line width and opacity of three forces on ``norm``; ``compact``: shorter handles
    and narrower gaps between columns (a legend of many columns in a narrow panel); ``extra``:
    (handle, label) pairs added at the end (the shaded cavity)."""
    first = [g for g in totals if g in highlight_groups]
    lw0, lw1 = STYLE["muscle_lw"]
    handles, labels = [], []
    for g in first + [g for g in totals if g not in first]:
        handles.append(Line2D([], [], color=group_colour(g), lw=2.4))
        labels.append(g.replace("_", " ") + (f"  {totals[g]:.0f} N" if totals[g] is not None else "")
                      + ("\n(set by the scenario)" if g in first else ""))
    a0, a1 = MUSCLE_ALPHA
    for frac in (0.0, 0.5, 1.0):
        f = norm.vmin + frac * (norm.vmax - norm.vmin)
        handles.append(Line2D([], [], color="#555555", lw=lw0 + (lw1 - lw0) * frac,
                              alpha=a0 + (a1 - a0) * frac))
        labels.append(f"one line at {f:.0f} N")
    for handle, label in extra:
        handles.append(handle)
        labels.append(label)
    title = "muscle group (total force)" if any(v is not None for v in totals.values()) else "muscle group"
    size = fontsize or STYLE["small"]
    leg = ax.legend(handles, labels, loc=loc, bbox_to_anchor=bbox, fontsize=size,
                    frameon=True, framealpha=0.9, title=title, ncol=ncol,
                    title_fontsize=size, borderaxespad=0.0, handlelength=1.3 if compact else 2.2,
                    columnspacing=0.5 if compact else 1.0, handletextpad=0.4 if compact else 0.8)
    leg.set_zorder(LAYERS["text"])
    return leg


#: Vertical spacing of the labels of highlighted muscles (m at 1.70 m).
LABEL_GAP_M = 0.012


def label_muscles(ax, sk: dict, model, lines, forces, s: float, length_percent=None,
                  avoid=()) -> list:
    """Name the highlighted muscles on the drawing: one label per group (the total force of its
    highlighted lines and, given ``length_percent`` (M,), their mean length change from relaxed
    standing) at the right-hand edge of the axes, in the group's colour, with a leader to the
    middle of its strongest line, or the point of it nearest the middle whose height is
    `LABEL_GAP_M` clear of ``avoid`` (heights (m) of other labels on the drawing: the angles'),
    so that neither the label nor its leader crosses them."""
    forces = np.asarray(forces, float)
    out = []
    by_group: dict = {}
    for i in lines:
        if len(sk["muscles"][i]) >= 2 and sk["muscle_length"][i] > 0:
            by_group.setdefault(model.muscle_group[i], []).append(int(i))
    gap = LABEL_GAP_M * s

    def along(pts, fraction):                  # the point at a fraction of the path's length
        seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        at = np.interp(fraction * seg.sum(), np.concatenate([[0.0], np.cumsum(seg)]), np.arange(len(pts)))
        k = min(int(at), len(pts) - 2)
        return pts[k] + (at - k) * (pts[k + 1] - pts[k])

    anchors = []
    for g, idx in by_group.items():
        pts = sk["muscles"][max(idx, key=lambda k: forces[k])]
        points = [along(pts, f) for f in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8)]
        clear = [xy for xy in points if all(abs(xy[1] - a) >= gap for a in avoid)]
        anchors.append((g, (clear or points)[0]))
    # the labels stacked from the top, at least LABEL_GAP apart
    anchors.sort(key=lambda a: -a[1][1])
    ys = []
    for _g, xy in anchors:
        ys.append(min(float(xy[1]), ys[-1] - gap) if ys else float(xy[1]))
    for (g, xy), y in zip(anchors, ys):
        total = float(forces[by_group[g]].sum())         # the highlighted lines of the group
        text = f"{g.replace('_', ' ')} {total:.0f} N"
        if length_percent is not None:
            text += f", length {float(np.mean(np.asarray(length_percent)[by_group[g]])):+.1f} %"
        out.append(ax.annotate(text, xy=tuple(xy),
                               xytext=(0.98, y),
                               textcoords=("axes fraction", "data"), ha="right", va="center",
                               arrowprops=dict(arrowstyle="-", color=group_colour(g), lw=0.8,
                                               shrinkA=2, shrinkB=2),
                               fontsize=STYLE["small"], fontweight="bold", color=group_colour(g),
                               zorder=LAYERS["text"], annotation_clip=True,
                               bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none",
                                         alpha=0.85)))
    return out


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


def _plumb_line(ax, A: list, T: list, c7, post_c, sva: float, s: float) -> None:
    """The C7 plumb line down to the level of the posterior-superior corner of S1 and the SVA
    between them, labelled under the SVA arrow (clear of the lumbar vertebrae and their names)."""
    A.append(line(ax, c7, np.array([c7[0], post_c[1]]), STYLE["sva"], ls=(0, (1, 2)), lw=0.9,
                  alpha=0.8))
    if abs(c7[0] - post_c[0]) > 0.012 * s:
        A.append(ax.annotate("", xy=(c7[0], post_c[1]), xytext=(post_c[0], post_c[1]),
                             arrowprops=dict(arrowstyle="<->", color=STYLE["sva"], lw=0.9,
                                             shrinkA=0, shrinkB=0), zorder=LAYERS["angle"]))
    else:
        A.append(line(ax, (post_c[0], post_c[1]), (c7[0], post_c[1]), STYLE["sva"], lw=1.2))
    at = (0.5 * (c7[0] + post_c[0]), post_c[1] - 0.006 * s)
    T.append(angle_text(ax, at, f"C7 plumb line\nSVA {fmt(sva, ' mm')}", STYLE["sva"], va="top"))


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

    # C7 plumb line and SVA from the posterior-superior corner of S1 (not lying: on a table
    # the plumb line means nothing)
    c7 = sk["c7"]
    sva = metrics["sagittal_vertical_axis_mm"]
    if sk["support"][0] != "lying":
        _plumb_line(ax, A, T, c7, post_c, sva, s)

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


#: Rows of the box of values that mean nothing lying (no C7 plumb line on a table).
_STANDING_ONLY = ("sagittal_vertical_axis_mm", "trunk_inclination_deg")


def values_text(metrics: dict, sk: dict | None = None, psoas_length_percent: float | None = None,
                iap_mmHg: float | None = None) -> str:
    """The box of values: `METRIC_ROWS` of ``metrics``, the psoas's mean length change from
    relaxed standing (%; with two legs a (right, left) pair) and the intra-abdominal pressure
    (mmHg) when given. Lying (``sk``
    given): without SVA and trunk inclination, with the legs' angle above the table (and the
    file's reference angle when the legs are lifted: the equilibrium may leave them elsewhere);
    on the side, without the legs' angle (no table in the plane)."""
    lying = sk is not None and sk["support"][0] == "lying"
    rows = []
    for key, abbr, name, unit in METRIC_ROWS:
        if key + "_right" in metrics:                    # two legs: right / left
            rows.append(f"{abbr:<4}{fmt(metrics[key + '_right'], unit):>4}/{fmt(metrics[key + '_left'], unit)}"
                        f"  {name} R/L")
        elif key in metrics and not (lying and key in _STANDING_ONLY):
            rows.append(f"{abbr:<4}{fmt(metrics[key], unit):>7}  {name}")
    if isinstance(psoas_length_percent, tuple):          # two legs: right, left
        right, left = psoas_length_percent
        head = f"{'Lps':<4}{right:>+5.1f}/{left:+.1f}%  "      # two lines: the box stays in its column
        rows.append(f"{head}psoas length R/L\n{'':<{len(head)}}vs relaxed standing")
    elif psoas_length_percent is not None and np.isfinite(psoas_length_percent):
        rows.append(f"{'Lps':<4}{psoas_length_percent:>+6.1f}%  psoas length vs relaxed standing")
    if iap_mmHg is not None:
        rows.append(f"{'IAP':<4}{iap_mmHg:>7.1f}  intra-abdominal pressure (mmHg)")
    if lying and np.any(sk["plane_gravity"]):       # (on the side there is no table in the plane)
        _kind, legs, reference, suffixes = sk["support"]
        if len(suffixes) == 2:
            row = (f"{'LEG':<4}{fmt(leg_angle_deg(sk, suffixes[0]), '°'):>4}/{fmt(leg_angle_deg(sk, suffixes[1]), '°')}"
                   "  thighs above table R/L")
        else:
            row = f"{'LEG':<4}{fmt(leg_angle_deg(sk), '°'):>7}  legs above the table"
        if legs == "lifted" and len(suffixes) == 1:
            row += f"\n{'':<11}(file's reference: {fmt(reference, '°')})"
        rows.append(row)
    return "\n".join(rows)


#: The headline of a posture that is not an answer, by status code (`biomech.status`).
STATUS_HEADLINES = {
    "unstable": "UNSTABLE equilibrium: the person could not stay here",
    "not_converged": "NOT CONVERGED: not an equilibrium (the solver's last iterate is drawn)",
    "collapsed": "COLLAPSED: no equilibrium within the physiological range (last iterate drawn)",
    "fallen": "FALLEN: not balanced on the support (the last iterate is drawn)",
    "shortfall": "SHORTFALL: the muscles cannot hold this posture",
    "target_missed": "TARGET MISSED: the postural target was not reached",
}


def status_note(result) -> str | None:
    """The red note of a posture that is not an answer: its status headline and the solver's
    message; None for an answer (including postures held actively, upright and inverse)."""
    if result is None:
        return "NOT SOLVED: no result"
    if result.success:
        return None
    code = getattr(result.code, "value", str(result.code))
    return STATUS_HEADLINES.get(code, code.upper()) + "\n" + result.message


def wrap_text(text: str, width: int = 60) -> str:
    return "\n".join(textwrap.fill(line, width) for line in text.splitlines())


def drawn_points(sk: dict, s: float) -> np.ndarray:
    """Every point a drawing of ``sk`` covers (k, 2): bones, surfaces, muscle paths and the
    labels at the free ends of the force arrows."""
    ends = [st[3][None] for st in force_states(sk, s) if st[5]]
    return np.vstack([outline_points(sk)] + [p for p in sk["muscles"] if len(p)] + ends)


def whole_aspect(reports) -> float:
    """Width / height of the whole-model drawing of ``reports`` (`drawn_points`), turned
    gravity down (`view_rotation`)."""
    pts = []
    for rep in reports:
        sk = skeleton(rep)
        s = rep.result.problem.model.subject.height_m / REFERENCE_HEIGHT_M
        pts.append(drawn_points(transform(sk, view_rotation(sk["gravity"])), s))
    w, h = np.ptp(np.vstack(pts), axis=0)
    return float(w / max(h, 1e-9))


def set_limits(ax, sk: dict, pad: float = 0.03, *, s: float = 1.0) -> None:
    """Axes limits holding the whole drawing of ``sk`` (m), with room for the lordosis
    construction behind the back."""
    pts = drawn_points(sk, s)
    lo, hi = pts.min(0) - pad, pts.max(0) + pad
    lo[0] -= 0.04
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])


#: The height of an axes title (axes fraction), given: matplotlib then leaves it there instead of
#: measuring every tick label to lift it above ticks at the top, which these axes have not (the
#: same place; a posture figure saves 15 ms sooner, issue 17).
TITLE_Y = 1.0


def frame_axes(ax, label=None, *, rotated: bool = False):
    """Equal aspect, axis labels (m) and the title. ``rotated``: the view of `view_rotation`
    for a lying posture (the page's x runs toward the feet, its y anterior)."""
    ax.set_aspect("equal", adjustable="box")
    if rotated:
        ax.set_xlabel("−y, toward the feet (m)")
        ax.set_ylabel("x, anterior (m)")
    else:
        ax.set_xlabel("x, anterior (m)")
        ax.set_ylabel("y, superior (m)")
    if label:
        ax.set_title(label, fontsize=STYLE["title"], y=TITLE_Y)
    style_axes(ax)


def zoom(ax, report, *, x=(-0.17, 0.14), y=(-0.07, 0.29)) -> None:
    """Limit ``ax`` to the lumbopelvic region (scaled with the subject's height)."""
    s = report.result.problem.model.subject.height_m / REFERENCE_HEIGHT_M
    ax.set_xlim(x[0] * s, x[1] * s)
    ax.set_ylim(y[0] * s, y[1] * s)

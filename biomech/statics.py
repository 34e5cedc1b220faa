"""Static equilibrium: supports, loads, generalized forces by source, the Newton solver.

Usage::

    model = build_model(Subject(body_mass_kg=75, height_m=1.75, pelvic_incidence_deg=52))
    result = solve_equilibrium(model, support=Support("standing"),
                               settings={"psoas": MuscleSetting(tension_N=200)})
    result.metrics["lumbar_lordosis_deg"]

The physics is written down in docs/model.md (sections 4-8).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field

import numpy as np

from . import kinematics as kin
from .errors import ConvergenceError, ModelError
from .model import Model
from .muscles import (DEFAULT_SHORT_RANGE_STIFFNESS, DEFAULT_TONE, MuscleSetting,
                      force_length_active, force_length_passive)
from .names import BODIES, JOINTS, MUSCLE_GROUPS, SUPPORTS
from .passive import hip_passive_moment, intervertebral_moment

_DEG = math.pi / 180.0
STANDARD_GRAVITY = 9.81  # m/s²

#: Compressive (tangent) stiffness of the loaded soft tissue between a bony prominence and a seat
#: or table, both sides together (N/m). The secant stiffness under one ischial tuberosity is
#: ≈ 5-6 N/mm (D: ~18 % of body weight per tuberosity, Drummond et al. 1982 (R), over the
#: 20-25 mm thinning of the tissue in sitting, PMC10267746 Table 4 (V, finite-element study));
#: the tissue stiffens strongly with compression (Linder-Ganz et al. 2007, V: 46-74 % strains),
#: so the tangent stiffness of the loaded tissue is taken ~10× the secant: 50 N/mm per side.
DEFAULT_CONTACT_STIFFNESS_N_PER_M = 1.0e5

#: A standing or sitting posture whose trunk leans more than this from the vertical (deg) is not
#: returned: the person has fallen over (the femur support could otherwise hold any lean).
MAX_TRUNK_INCLINATION_DEG = 45.0

#: Physiological range of each joint (rad): a posture outside it is not returned as an answer.
#: Spine: the in vitro range of motion at 10 N·m (passive.DEFAULT_ROM_DEG) widened by 50 %.
#: Hip: flexion -30° (extension) to 130°.
RANGE_WIDENING = 1.5
#: Step (rad) along the unstable mode when the solver lands on an unstable equilibrium.
SADDLE_STEP_RAD = 0.01


@dataclass(frozen=True)
class Support:
    """How the body is supported (docs/model.md §7).

    Parameters
    ----------
    kind : "standing" | "sitting" | "lying" (supine).
    thigh_inclination_deg : thigh axis against the body's vertical (the world y axis), + = knee
        forward (anterior). Defaults: standing 0, sitting 90, lying 0 (legs flat on the table).
    knee_flexion_deg : 0-150; defaults: standing 0, sitting 90, lying 0.
    legs : lying only: "supported" (the table holds the legs: their weight and orientation) or
        "lifted" (their weight hangs on the hip muscles).
    contact_stiffness_N_per_m : seat (sitting) or table (lying) soft-tissue stiffness.
    """

    kind: str = "standing"
    thigh_inclination_deg: float | None = None
    knee_flexion_deg: float | None = None
    legs: str = "supported"
    contact_stiffness_N_per_m: float = DEFAULT_CONTACT_STIFFNESS_N_PER_M

    def __post_init__(self):
        if self.kind not in SUPPORTS:
            raise ModelError(f"Support.kind must be one of {', '.join(SUPPORTS)}, got {self.kind!r}"
                             + _suggest(self.kind, SUPPORTS))
        if self.legs not in ("supported", "lifted"):
            raise ModelError(f"Support.legs must be 'supported' or 'lifted', got {self.legs!r}")
        if self.legs == "lifted" and self.kind != "lying":
            raise ModelError("Support.legs = 'lifted' applies to lying only")
        for name, lo, hi in (("thigh_inclination_deg", -60.0, 150.0), ("knee_flexion_deg", 0.0, 150.0)):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)
                                  or not math.isfinite(v) or not lo <= v <= hi):
                raise ModelError(f"Support.{name} must be a number within {lo}-{hi}, got {v!r}")
        if not (isinstance(self.contact_stiffness_N_per_m, (int, float))
                and 1e2 <= self.contact_stiffness_N_per_m <= 1e8):
            raise ModelError("Support.contact_stiffness_N_per_m must be within 1e2-1e8, "
                             f"got {self.contact_stiffness_N_per_m!r}")

    @property
    def thigh_deg(self) -> float:
        if self.thigh_inclination_deg is not None:
            return float(self.thigh_inclination_deg)
        return {"standing": 0.0, "sitting": 90.0, "lying": 0.0}[self.kind]

    @property
    def knee_deg(self) -> float:
        if self.knee_flexion_deg is not None:
            return float(self.knee_flexion_deg)
        return {"standing": 0.0, "sitting": 90.0, "lying": 0.0}[self.kind]


@dataclass(frozen=True)
class Load:
    """An external load attached to a body.

    Parameters
    ----------
    body : body name.
    point_m : (x, y) where the load acts, in world coordinates of the model's reference posture
        for this support (it then moves with the body).
    force_N : (Fx, Fy) world force, or
    mass_kg : a mass whose weight (in the support's gravity) acts at the point.
    """

    body: str
    point_m: tuple[float, float]
    force_N: tuple[float, float] | None = None
    mass_kg: float | None = None

    def __post_init__(self):
        if self.body not in BODIES:
            raise ModelError(f"Load.body must be one of {', '.join(BODIES)}, got {self.body!r}"
                             + _suggest(self.body, BODIES))
        if (self.force_N is None) == (self.mass_kg is None):
            raise ModelError("a Load needs exactly one of force_N and mass_kg")
        for name in ("point_m", "force_N"):
            v = getattr(self, name)
            if v is not None and (len(v) != 2 or not all(isinstance(c, (int, float)) and math.isfinite(c) for c in v)):
                raise ModelError(f"Load.{name} must be two finite numbers, got {v!r}")
        if self.mass_kg is not None and not (isinstance(self.mass_kg, (int, float)) and 0 <= self.mass_kg <= 500):
            raise ModelError(f"Load.mass_kg must be within 0-500, got {self.mass_kg!r}")


def _suggest(name, allowed) -> str:
    close = difflib.get_close_matches(str(name), list(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True, eq=False)
class Geometry:
    """Kinematic quantities at one posture (all world frame, hip centre at the origin)."""

    q: np.ndarray               # (7,) rad
    angles: np.ndarray          # (8,) body angles, rad
    origins: np.ndarray         # (8, 2) body frame origins
    centres: np.ndarray         # (7, 2) joint centres
    points: np.ndarray          # (P, 2) muscle path points
    segment_length: np.ndarray  # (Sg,) 3D segment lengths
    segment_dir: np.ndarray     # (Sg, 2) in-plane part of the unit segment vectors
    length: np.ndarray          # (M,) musculotendon lengths
    dLdq: np.ndarray            # (M, 7) ∂L/∂q (moment arm = −dLdq)
    com: np.ndarray             # (8, 2) body centres of mass
    shift: np.ndarray           # (2,) support frame -> world translation (hip to the origin)


@dataclass(frozen=True, eq=False)
class Problem:
    """Everything fixed during one solve: model, support, muscle settings, loads (immutable)."""

    model: Model
    support: Support
    settings: dict
    loads: tuple
    root: int
    root_angle: float
    S: np.ndarray               # (8, 7) angle sensitivity for this root
    gravity: np.ndarray         # (2,) m/s²
    weight_mask: np.ndarray     # (8,) bool: weight acts through the joints
    mass: np.ndarray            # (8,) incl. shank and foot in the femur
    com_local: np.ndarray       # (8, 2)
    pt_body: np.ndarray
    pt_local: np.ndarray
    pt_z: np.ndarray
    line_ptr: np.ndarray
    seg_a: np.ndarray
    seg_b: np.ndarray
    seg_line: np.ndarray
    seg_first: np.ndarray       # (M,) index of each line's first segment
    knee_rad: float
    iv_coeffs: np.ndarray       # (6, 5)
    hip_scale: float
    q_ref: np.ndarray           # (7,) reference posture (short-range stiffness unstretched)
    B: np.ndarray               # (7, n) q = q_c + B u
    q_c: np.ndarray             # (7,)
    q_low: np.ndarray           # (7,) physiological range
    q_high: np.ndarray
    contacts: tuple             # ((body, local (2,), normal (2,), plane offset, stiffness), ...)
    load_body: np.ndarray
    load_local: np.ndarray      # (nL, 2)
    load_force: np.ndarray      # (nL, 2) world
    # muscles (M,)
    mode_tension: np.ndarray    # bool
    tension: np.ndarray
    activation: np.ndarray
    lopt: np.ndarray
    lts: np.ndarray
    lopt_default: np.ndarray
    lts_default: np.ndarray
    excess_passive: np.ndarray  # bool: count passive force only above the default muscle's
    L_ref: np.ndarray            # (M,) length at the support's reference posture
    logit_activation: np.ndarray  # (M,) logit of the set activation (−inf: none)
    reflex_gain: np.ndarray      # (M,) 1/m, stretch response gain (0: none)
    short_range_stiffness: float = DEFAULT_SHORT_RANGE_STIFFNESS
    tol_Nm: float = 1e-6
    max_iterations: int = 100

    def geometry(self, q: np.ndarray) -> Geometry:
        """Kinematics and muscle geometry at joint angles q (7,)."""
        m = self.model
        rel = q + m.joint_offset
        ang, org, cen = kin.body_poses(m.joint_in_parent, m.joint_in_child, rel, self.root,
                                       self.root_angle, np.zeros(2))
        shift = -cen[0]
        org = org + shift
        cen = cen + shift
        pts = kin.points_world(ang, org, self.pt_body, self.pt_local)
        d = pts[self.seg_b] - pts[self.seg_a]
        dz = self.pt_z[self.seg_b] - self.pt_z[self.seg_a]
        seg_len = np.sqrt(np.einsum("ij,ij->i", d, d) + dz * dz)
        u = d / seg_len[:, None]
        # dℓ/dq_j = S[b_b, j] (r_b × u) − S[b_a, j] (r_a × u), r = P − c_j
        ra = pts[self.seg_a][:, None, :] - cen[None, :, :]
        rb = pts[self.seg_b][:, None, :] - cen[None, :, :]
        cross_a = ra[..., 0] * u[:, None, 1] - ra[..., 1] * u[:, None, 0]
        cross_b = rb[..., 0] * u[:, None, 1] - rb[..., 1] * u[:, None, 0]
        dseg = self.S[self.pt_body[self.seg_b]] * cross_b - self.S[self.pt_body[self.seg_a]] * cross_a
        n_lines = len(self.line_ptr) - 1
        length = np.bincount(self.seg_line, seg_len, minlength=n_lines)
        dLdq = np.zeros((n_lines, 7))
        np.add.at(dLdq, self.seg_line, dseg)
        com = kin.points_world(ang, org, np.arange(8), self.com_local)
        return Geometry(q=q, angles=ang, origins=org, centres=cen, points=pts, segment_length=seg_len,
                        segment_dir=u, length=length, dLdq=dLdq, com=com, shift=shift)

    # ---------------------------------------------------------------------------------------
    def muscle_forces(self, length: np.ndarray) -> np.ndarray:
        """Tension (M,) of every line at musculotendon lengths ``length`` (N, >= 0)."""
        cos_a = np.cos(self.model.pennation)
        fmax = self.model.max_isometric_force * cos_a
        lt = (length - self.lts) / (self.lopt * cos_a)
        fl, _ = force_length_active(lt)
        fpe, _ = force_length_passive(lt)
        lt0 = (length - self.lts_default) / (self.lopt_default * cos_a)
        fpe0, _ = force_length_passive(lt0)
        passive = np.where(self.excess_passive, fpe - fpe0, fpe)
        hill = fmax * (self.effective_activation(length) * fl + passive)
        return np.where(self.mode_tension, self.tension, np.maximum(hill, 0.0))

    def effective_activation(self, length: np.ndarray) -> np.ndarray:
        """Activation (M,) after the stretch response about the reference length (docs/model.md §6):
        a_eff = σ(logit a + g (L − L_ref)), g = q / (l_fibre,ref (1 − a)), so that at L_ref the
        stiffness of the active force is q F / l_fibre (short-range stiffness) and a_eff stays
        within 0-1 for any stretch."""
        x = np.clip(self.logit_activation + self.reflex_gain * (length - self.L_ref), -60.0, 60.0)
        return 1.0 / (1.0 + np.exp(-x))

    def _point_moments(self, geo: Geometry, body: np.ndarray, point: np.ndarray, force: np.ndarray):
        """Generalized forces (7,) of world forces (n, 2) at world points (n, 2) on bodies (n,)."""
        r = point[:, None, :] - geo.centres[None, :, :]
        mom = r[..., 0] * force[:, None, 1] - r[..., 1] * force[:, None, 0]
        return np.einsum("nj,nj->j", self.S[body], mom)

    def contact_forces(self, geo: Geometry):
        """World points (n, 2), bodies (n,) and forces (n, 2) of the support contacts."""
        if not self.contacts:
            return np.zeros(0, int), np.zeros((0, 2)), np.zeros((0, 2))
        bodies = np.array([c[0] for c in self.contacts])
        local = np.array([c[1] for c in self.contacts])
        pts = kin.points_world(geo.angles, geo.origins, bodies, local)
        forces = []
        for (b, _, n, offset, k), p in zip(self.contacts, pts):
            pen = offset - float(np.dot(p - geo.shift, n))   # penetration into the support
            forces.append(k * max(pen, 0.0) * np.asarray(n))
        return bodies, pts, np.array(forces)

    def load_forces(self, geo: Geometry):
        pts = kin.points_world(geo.angles, geo.origins, self.load_body, self.load_local)
        return pts, self.load_force

    def generalized_forces(self, q: np.ndarray, geo: Geometry | None = None) -> dict:
        """Generalized forces (7,) by source at q: gravity, external, contact, passive, muscle."""
        geo = geo if geo is not None else self.geometry(q)
        w = self.mass[:, None] * self.gravity[None, :] * self.weight_mask[:, None]
        tau_g = self._point_moments(geo, np.arange(8), geo.com, w)
        lp, lf = self.load_forces(geo)
        tau_e = self._point_moments(geo, self.load_body, lp, lf) if len(lf) else np.zeros(7)
        cb, cp, cf = self.contact_forces(geo)
        tau_c = self._point_moments(geo, cb, cp, cf) if len(cf) else np.zeros(7)
        tau_p = self.passive_moments(q)[0]
        forces = self.muscle_forces(geo.length)
        tau_m = -forces @ geo.dLdq
        return {"gravity": tau_g, "external": tau_e, "contact": tau_c, "passive": tau_p,
                "muscle": tau_m, "muscle_forces": forces, "geometry": geo}

    def passive_moments(self, q: np.ndarray):
        """Passive moments on each superior body (7,) and their slopes (7,)."""
        m_sp, dm_sp = intervertebral_moment(self.iv_coeffs, q[1:] - self.model.rest_angle[1:])
        m_h, dm_h = hip_passive_moment(q[0], self.knee_rad, self.hip_scale)
        return np.concatenate(([m_h], m_sp)), np.concatenate(([dm_h], dm_sp))

    def residual(self, q: np.ndarray) -> np.ndarray:
        """Sum of all generalized forces (7,), N·m. Zero at equilibrium."""
        g = self.generalized_forces(q)
        return g["gravity"] + g["external"] + g["contact"] + g["passive"] + g["muscle"]

    def reduced_residual(self, u: np.ndarray) -> np.ndarray:
        return self.B.T @ self.residual(self.q_c + self.B @ u)

    def reduced_jacobian(self, u: np.ndarray, h: float = 1e-6) -> np.ndarray:
        """∂(Bᵀ R)/∂u by central differences of the analytic generalized forces (n, n)."""
        n = len(u)
        J = np.empty((n, n))
        for i in range(n):
            e = np.zeros(n)
            e[i] = h
            J[:, i] = (self.reduced_residual(u + e) - self.reduced_residual(u - e)) / (2 * h)
        return J


# -------------------------------------------------------------------------------------------
def resolve_settings(model: Model, settings: dict) -> dict[int, MuscleSetting]:
    """Map group/line settings to lines; a line named explicitly overrides its group."""
    out: dict[int, MuscleSetting] = {}
    names = set(model.muscle_names) | set(MUSCLE_GROUPS)
    for name, setting in settings.items():
        if name not in names:
            raise ModelError(f"unknown muscle group or line {name!r}" + _suggest(name, names)
                             + f"; groups: {', '.join(MUSCLE_GROUPS)}")
        if not isinstance(setting, MuscleSetting):
            raise ModelError(f"setting of {name!r} must be a MuscleSetting, got {type(setting).__name__}")
    for name, setting in settings.items():       # groups first
        if name in MUSCLE_GROUPS:
            for i in model.group_lines(name):
                out[int(i)] = (name, setting)
    for name, setting in settings.items():       # then lines
        if name in model.muscle_names:
            out[model.muscle_names.index(name)] = (name, setting)
    return out


def _reference_posture(model: Model, support: Support) -> tuple[int, float, np.ndarray]:
    """Root body, its angle, and the reference joint angles q_ref (7,) of a support.

    Standing and sitting: the femur is the root at the thigh inclination, the pelvis has the
    orientation of the calibrated relaxed posture and the spine is at its stress-free angles.
    Lying: the thorax is the root, level with the table; the spine at its stress-free angles.
    """
    knee = model.landmarks["knee"][1]
    beta0 = math.atan2(knee[0], -knee[1])            # hip->knee line in the femur frame
    phi_femur = support.thigh_deg * _DEG - beta0
    q_ref = np.array(model.reference_angle, float)
    q_ref[0] = model.reference_pelvis_angle - phi_femur
    if support.kind == "lying":
        return BODIES.index("thorax"), 0.0, q_ref
    return 0, phi_femur, q_ref


def prepare(model: Model, *, support: Support | None = None, settings: dict | None = None,
            loads: tuple = (), short_range_stiffness: float = DEFAULT_SHORT_RANGE_STIFFNESS,
            tone: dict | None = None, hip_passive_scale: float = 1.0,
            tol_Nm: float = 1e-6, max_iterations: int = 100, _lengths_only: bool = False) -> Problem:
    """Fix a model, a support, muscle settings and loads into a `Problem` (validates all)."""
    support = support or Support()
    if not isinstance(support, Support):
        raise ModelError(f"support must be a biomech.Support, got {type(support).__name__}")
    settings = dict(settings or {})
    user_tone = tone
    tone = dict(DEFAULT_TONE, **(tone or {}))
    for g, a in tone.items():
        if g not in MUSCLE_GROUPS:
            raise ModelError(f"tone: unknown muscle group {g!r}" + _suggest(g, MUSCLE_GROUPS))
        if not (isinstance(a, (int, float)) and 0.0 <= a <= 1.0):
            raise ModelError(f"tone of {g!r} must be within 0-1, got {a!r}")
    if not (isinstance(short_range_stiffness, (int, float)) and 0 <= short_range_stiffness <= 100):
        raise ModelError(f"short_range_stiffness must be within 0-100, got {short_range_stiffness!r}")
    if not (isinstance(hip_passive_scale, (int, float)) and 0 <= hip_passive_scale <= 10):
        raise ModelError(f"hip_passive_scale must be within 0-10, got {hip_passive_scale!r}")
    for ld in loads:
        if not isinstance(ld, Load):
            raise ModelError(f"loads must be biomech.Load objects, got {type(ld).__name__}")
    m = model
    root, root_angle, q_ref = _reference_posture(m, support)
    knee_rad = support.knee_deg * _DEG
    gravity = np.array([0.0, -STANDARD_GRAVITY]) if support.kind != "lying" else np.array([-STANDARD_GRAVITY, 0.0])

    # tibia points into the femur frame at this knee angle; conditional points resolved at the
    # reference posture (hip flexion) and the knee angle, gait2392 coordinates
    tib_rot = kin.rotation(-knee_rad)
    knee_pt = m.knee_in_femur
    hip_flex_gait = -q_ref[0]
    knee_gait = -knee_rad                              # gait2392 knee_angle: negative = flexion
    keep, body, local, ptr = [], [], [], [0]
    for i in range(m.n_muscles):
        for p in range(m.line_ptr[i], m.line_ptr[i + 1]):
            kind, lo, hi = m.pt_condition[p]
            if kind == 1 and not lo <= hip_flex_gait <= hi:
                continue
            if kind == 2 and not lo <= knee_gait <= hi:
                continue
            keep.append(p)
            if m.pt_body[p] == -1:
                body.append(0)
                local.append(knee_pt + tib_rot @ m.pt_local[p])
            else:
                body.append(m.pt_body[p])
                local.append(m.pt_local[p])
        ptr.append(len(keep))
    keep = np.array(keep)
    ptr = np.array(ptr)
    seg_a, seg_b, seg_line, seg_first = [], [], [], []
    for i in range(m.n_muscles):
        seg_first.append(len(seg_a))
        for p in range(ptr[i], ptr[i + 1] - 1):
            seg_a.append(p)
            seg_b.append(p + 1)
            seg_line.append(i)

    # masses: the femur body carries both shanks and feet (knee angle)
    mass = np.array(m.mass, float)
    com_local = np.array(m.com, float)
    leg_local = knee_pt + (tib_rot @ m.leg_com_tibia.T).T
    femur_mass = mass[0] + m.leg_mass.sum()
    com_local[0] = (mass[0] * com_local[0] + m.leg_mass @ leg_local) / femur_mass
    mass[0] = femur_mass
    weight_mask = np.ones(8, bool)
    if support.kind == "lying":
        weight_mask[:] = False
        weight_mask[0] = support.legs == "lifted"

    # constraint map
    if support.kind == "lying" and support.legs == "supported":
        B = np.zeros((7, 6))
        B[1:, :] = np.eye(6)
        B[0, :] = -1.0                               # femur orientation fixed: Σq = const
        q_c = np.zeros(7)
        q_c[0] = q_ref[0] + q_ref[1:].sum()
    else:
        B = np.eye(7)
        q_c = np.zeros(7)

    # physiological ranges
    from .passive import DEFAULT_ROM_DEG
    q_low = np.empty(7)
    q_high = np.empty(7)
    q_low[0], q_high[0] = -130 * _DEG, 30 * _DEG
    for k, j in enumerate(JOINTS[1:], start=1):
        law = m.intervertebral[j]
        q_low[k] = m.reference_angle[k] - RANGE_WIDENING * law.rom_flexion_rad
        q_high[k] = m.reference_angle[k] + RANGE_WIDENING * law.rom_extension_rad

    iv = np.array([m.intervertebral[j].coefficients() for j in JOINTS[1:]])
    n = m.n_muscles
    base = dict(model=m, support=support, settings=settings, loads=tuple(loads), root=root,
                root_angle=root_angle, S=kin.angle_sensitivity(root), gravity=gravity,
                weight_mask=weight_mask, mass=mass, com_local=com_local, pt_body=np.array(body),
                pt_local=np.array(local), pt_z=np.array(m.pt_z)[keep], line_ptr=ptr,
                seg_a=np.array(seg_a), seg_b=np.array(seg_b), seg_line=np.array(seg_line),
                seg_first=np.array(seg_first), knee_rad=knee_rad, iv_coeffs=iv,
                hip_scale=float(hip_passive_scale), q_ref=q_ref, B=B, q_c=q_c, q_low=q_low,
                q_high=q_high, contacts=(), load_body=np.zeros(0, int), load_local=np.zeros((0, 2)),
                load_force=np.zeros((0, 2)), mode_tension=np.zeros(n, bool), tension=np.zeros(n),
                activation=np.zeros(n), lopt=np.array(m.optimal_fiber_length),
                lts=np.array(m.tendon_slack_length), lopt_default=np.array(m.optimal_fiber_length),
                lts_default=np.array(m.tendon_slack_length), excess_passive=np.array(m.crosses_hip),
                L_ref=np.zeros(n), logit_activation=np.full(n, -np.inf), reflex_gain=np.zeros(n),
                short_range_stiffness=float(short_range_stiffness),
                tol_Nm=tol_Nm, max_iterations=max_iterations)
    problem = Problem(**base)
    if _lengths_only:
        return problem

    # reference-posture geometry: contacts, loads, muscle reference lengths
    geo_ref = problem.geometry(q_ref)
    contacts = []
    k_c = float(support.contact_stiffness_N_per_m)
    if support.kind == "sitting":
        b, loc = m.landmarks["ischial_tuberosity"]
        p = kin.points_world(geo_ref.angles, geo_ref.origins, np.array([b]), loc[None])[0] - geo_ref.shift
        n_vec = np.array([0.0, 1.0])
        contacts.append((b, np.array(loc), n_vec, float(p @ n_vec), k_c))
    if support.kind == "lying":
        b, loc = m.landmarks["sacrum_posterior"]
        p = kin.points_world(geo_ref.angles, geo_ref.origins, np.array([b]), loc[None])[0] - geo_ref.shift
        n_vec = np.array([1.0, 0.0])
        contacts.append((b, np.array(loc), n_vec, float(p @ n_vec), k_c))
    lb, ll, lf = [], [], []
    for ld in loads:
        b = BODIES.index(ld.body)
        R = kin.rotation(geo_ref.angles[b])
        lb.append(b)
        ll.append(R.T @ (np.asarray(ld.point_m, float) - geo_ref.origins[b]))
        lf.append(np.asarray(ld.force_N, float) if ld.force_N is not None else ld.mass_kg * gravity)

    mode_tension = np.zeros(n, bool)
    tension = np.zeros(n)
    if m.baseline_activation is None:            # building the model: the EMG floors
        act = np.array([tone[g] for g in m.muscle_group])
    else:
        act = np.array(m.baseline_activation, float)
        for g, a in (user_tone or {}).items():
            act[m.group_lines(g)] = a
    lopt = np.array(m.optimal_fiber_length)
    lts = np.array(m.tendon_slack_length)
    fmax = np.array(m.max_isometric_force)
    for i, (name, s) in resolve_settings(m, settings).items():
        if s.tension_N is not None:
            mode_tension[i] = True
            if name in MUSCLE_GROUPS:
                idx = m.group_lines(name)
                tension[i] = s.tension_N * fmax[i] / fmax[idx].sum()
            else:
                tension[i] = s.tension_N
            act[i] = 0.0
        elif s.activation is not None:
            act[i] = s.activation
        else:
            # adaptive shortening/lengthening is a change in the number of sarcomeres in
            # series: the optimal fibre length changes, the tendon does not
            lopt[i] *= s.resting_length_scale
    L_ref = geo_ref.length
    fiber_ref = np.maximum(L_ref - lts, 0.2 * lopt)      # fibre length along the line (rigid tendon)
    # the logistic stretch response saturates at full activation; above 0.9 the gain is held at
    # its a = 0.9 value so that it stays finite (the stiffness there is slightly below qF/l)
    a = np.clip(act, 1e-12, 1.0 - 1e-12)
    logit = np.where(act > 0, np.log(a / (1.0 - a)), -np.inf)
    gain = np.where(mode_tension | (act <= 0), 0.0,
                    short_range_stiffness / (fiber_ref * (1.0 - np.minimum(a, 0.9))))
    import dataclasses
    return dataclasses.replace(
        problem, contacts=tuple(contacts), load_body=np.array(lb, int),
        load_local=np.array(ll).reshape(-1, 2), load_force=np.array(lf).reshape(-1, 2),
        mode_tension=mode_tension, tension=tension, activation=act, lopt=lopt, lts=lts,
        L_ref=L_ref, logit_activation=logit, reflex_gain=gain)


# -------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class EquilibriumResult:
    """Outcome of a forward equilibrium solve (see `biomech.results` for the derived outputs)."""

    problem: Problem
    q: np.ndarray
    converged: bool
    stable: bool | None
    message: str
    max_residual_Nm: float
    iterations: int
    stiffness_eigenvalues: np.ndarray = field(repr=False)

    @property
    def success(self) -> bool:
        return bool(self.converged and self.stable is not False)

    def raise_for_status(self) -> "EquilibriumResult":
        if not self.success:
            raise ConvergenceError(self.message)
        return self


def _range_violation(problem: Problem, q: np.ndarray) -> str | None:
    low = q < problem.q_low - 1e-12
    high = q > problem.q_high + 1e-12
    if not (low.any() or high.any()):
        return None
    # report the worst joint relative to its range
    mid = 0.5 * (problem.q_low + problem.q_high)
    half = 0.5 * (problem.q_high - problem.q_low)
    over = np.abs(q - mid) / half
    j = int(np.argmax(over))
    name = JOINTS[j]
    if j == 0:
        direction = "hip extension (posterior pelvic tilt)" if q[j] > problem.q_high[j] else "hip flexion"
    else:
        direction = "extension" if q[j] > problem.q_high[j] else "flexion"
    return (f"no equilibrium within the physiological range: {name} collapsed into {direction} "
            f"({q[j] / _DEG:+.1f}°, range {problem.q_low[j] / _DEG:+.1f}° to {problem.q_high[j] / _DEG:+.1f}°)")


def _fallen(problem: Problem, q: np.ndarray) -> str | None:
    """A message if the trunk leans beyond MAX_TRUNK_INCLINATION_DEG, else None."""
    from .metrics import landmark
    geo = problem.geometry(q)
    w = landmark(problem, geo, "C7") - landmark(problem, geo, "T12_L1_centre")
    incl = math.degrees(math.atan2(w[0], w[1]))
    if abs(incl) <= MAX_TRUNK_INCLINATION_DEG:
        return None
    return (f"no upright equilibrium: the trunk fell {'forward' if incl > 0 else 'backward'} "
            f"(trunk inclination {incl:+.0f}°); with these muscle settings nothing holds it "
            f"within {MAX_TRUNK_INCLINATION_DEG:.0f}° of the vertical")


def _descend(problem: Problem, u: np.ndarray):
    """Levenberg-shifted Newton iteration on the generalized forces, accepting only steps that
    lower the total potential energy (all forces derive from one, docs/model.md §8).

    Each step solves (K + μI) du = R with K = −∂R/∂u the stiffness matrix and μ ≥ 0 the
    smallest shift that makes K + μI positive definite (μ = 0: a pure Newton step). The energy
    change along a step is the trapezoidal work −½ (R(u) + R(u + du))·du; a step that does not
    lower it is halved. The iteration therefore moves downhill and converges to a stable
    equilibrium where one exists, and away from saddles.

    Returns u, R, max|R|, iterations, converged, collapse message (or None).
    """
    B = problem.B
    R = problem.reduced_residual(u)
    norm = float(np.max(np.abs(R)))
    n = len(u)
    for it in range(problem.max_iterations + 1):
        if norm < problem.tol_Nm:
            return u, R, norm, it, True, None
        if it == problem.max_iterations:
            break
        K = -problem.reduced_jacobian(u)
        Ks = 0.5 * (K + K.T)
        lam_min = float(np.linalg.eigvalsh(Ks)[0])
        scale = max(1.0, float(np.max(np.abs(np.diag(Ks)))))
        mu = 0.0 if lam_min > 1e-8 * scale else -lam_min + 1e-3 * scale
        accepted = False
        for _ in range(40):
            du = np.linalg.solve(Ks + mu * np.eye(n), R)
            step = float(np.max(np.abs(du)))
            if step > 0.1:                                  # at most ~6° per iteration
                du *= 0.1 / step
            R_new = problem.reduced_residual(u + du)
            work = 0.5 * float((R + R_new) @ du)            # = −ΔV along the step
            n_new = float(np.max(np.abs(R_new)))
            if work > 0.0 or n_new < min(norm, 10 * problem.tol_Nm):
                accepted = True
                break
            mu = 2.0 * mu + 1e-2 * scale
        if not accepted:
            break
        u, R, norm = u + du, R_new, n_new
        q = problem.q_c + B @ u
        if np.any(q < problem.q_low - 0.35) or np.any(q > problem.q_high + 0.35):
            return u, R, norm, it + 1, False, _range_violation(problem, q)
    return u, R, norm, it, norm < problem.tol_Nm, None


def solve_equilibrium(model: Model | None = None, *, problem: Problem | None = None,
                      q0: np.ndarray | None = None, **prepare_kwargs) -> EquilibriumResult:
    """Find the static equilibrium posture (docs/model.md §8).

    Parameters
    ----------
    model : the model (or give a prepared ``problem``).
    q0 : (7,) initial joint angles (rad); default: the support's reference posture.
    **prepare_kwargs : support, settings, loads, short_range_stiffness, tone, ... (see `prepare`).

    Returns
    -------
    EquilibriumResult with converged, stable, message, max_residual_Nm, iterations.
    """
    if problem is None:
        if model is None:
            raise ModelError("solve_equilibrium needs a model or a prepared problem")
        problem = prepare(model, **prepare_kwargs)
    elif prepare_kwargs:
        raise ModelError("give either a prepared problem or preparation arguments, not both")
    q_start = problem.q_ref if q0 is None else np.asarray(q0, float)
    if q_start.shape != (7,) or not np.all(np.isfinite(q_start)):
        raise ModelError(f"q0 must be 7 finite joint angles (rad), got {q0!r}")
    B = problem.B
    u = np.linalg.lstsq(B, q_start - problem.q_c, rcond=None)[0]
    u, R, norm, it, converged, collapse = _descend(problem, u)
    if converged and collapse is None:
        # an equilibrium that is not a minimum (e.g. the start was a saddle): step off along the
        # unstable mode, both ways, and descend again; keep a stable answer if one is found
        K = -problem.reduced_jacobian(u)
        w, v = np.linalg.eigh(0.5 * (K + K.T))
        if w[0] <= 1e-9 * max(1.0, abs(w[-1])):
            for sign in (1.0, -1.0):
                alt = _descend(problem, u + sign * SADDLE_STEP_RAD * v[:, 0])
                if alt[4] and alt[5] is None:
                    K2 = -problem.reduced_jacobian(alt[0])
                    if np.linalg.eigvalsh(0.5 * (K2 + K2.T))[0] > 0:
                        u, R, norm, it, converged, collapse = alt[0], alt[1], alt[2], it + alt[3], True, None
                        break
    q = problem.q_c + B @ u
    eig = np.full(B.shape[1], np.nan)
    stable = None
    if collapse is None:
        collapse = _range_violation(problem, q)
    if collapse is None and converged and problem.support.kind != "lying":
        collapse = _fallen(problem, q)
    if converged and collapse is None:
        K = -problem.reduced_jacobian(u)
        eig = np.linalg.eigvalsh(0.5 * (K + K.T))
        stable = bool(eig[0] > 1e-9 * max(1.0, abs(eig[-1])))
        if stable:
            message = "converged to a stable equilibrium"
        else:
            K_sym = 0.5 * (K + K.T)
            w, v = np.linalg.eigh(K_sym)
            mode = B @ v[:, 0]
            dominant = [JOINTS[i] for i in np.argsort(-np.abs(mode))[:2]]
            message = (f"the equilibrium is unstable: the stiffness matrix has a negative "
                       f"eigenvalue ({w[0]:.3g} N·m/rad), mode dominated by {', '.join(dominant)}")
    elif collapse is not None:
        converged = False
        message = collapse
    else:
        message = (f"did not converge in {problem.max_iterations} iterations "
                   f"(largest residual {norm:.3g} N·m)")
    return EquilibriumResult(problem=problem, q=q, converged=bool(converged), stable=stable,
                             message=message, max_residual_Nm=norm, iterations=it,
                             stiffness_eigenvalues=eig)

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
from typing import Callable, NamedTuple

import numpy as np

from . import kinematics as kin
from . import limits
from .errors import ConvergenceError, ModelError
from .model import Model
from .muscles import (DEFAULT_SHORT_RANGE_STIFFNESS, DEFAULT_TONE, MuscleSetting,
                      force_length_active, force_length_passive)
from .names import BODIES, JOINTS, MUSCLE_GROUPS, SUPPORTS
from .passive import hip_passive_moment, intervertebral_moment
from .threads import one_blas_thread

_DEG = math.pi / 180.0
STANDARD_GRAVITY = 9.81  # m/s²
_LOGIT_CLIP = 60.0        # |logit| beyond which the logistic stretch response is saturated
_CONTACT_KINK_M = 1e-12   # a penetration this small is zero (rounding of positions ~1e-16 m)
_BODY_INDEX = np.arange(len(BODIES))
_DIAG = np.diag_indices(len(JOINTS))
_ROT270 = np.array([1.0, -1.0])  # (u_y, u_x) * _ROT270 = (u_y, −u_x), ẑ × that = u

#: Compressive (tangent) stiffness of the loaded soft tissue between a bony prominence and a seat
#: or table, both sides together (N/m). The secant stiffness under one ischial tuberosity is
#: ≈ 5-6 N/mm (D: ~18 % of body weight per tuberosity, Drummond DS et al. (1982) J Bone Joint
#: Surg Am 64:1034-1039 (R), over the 20-25 mm thinning of the tissue in sitting, PMC10267746
#: Table 4 (V, a finite-element study of buttock tissue; authors not identified)); the tissue
#: stiffens strongly with compression (Linder-Ganz et al. 2007, V: 46-74 % strains,
#: docs/references.md),
#: so the tangent stiffness of the loaded tissue is taken ~10× the secant: 50 N/mm per side.
DEFAULT_CONTACT_STIFFNESS_N_PER_M = 1.0e5

#: A standing or sitting posture whose trunk leans more than this from the vertical (deg) is not
#: returned: the person has fallen over (the femur support could otherwise hold any lean).
MAX_TRUNK_INCLINATION_DEG = 45.0

#: Physiological range of each joint (rad): a posture outside it is not returned as an answer.
#: Spine: the in vitro range of motion at 10 N·m (passive.DEFAULT_ROM_DEG) widened by 50 %.
#: Hip: flexion -30° (extension) to 130°: ASSUMPTION, kept wider than the reported normal range
#: of motion (flexion ≈ 110-125°, extension ≈ 10-30°, e.g. Roach SM et al. (2015) Int J Sports
#: Phys Ther 10:13-20) so that it rejects only impossible postures.
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
        for name in ("thigh_inclination_deg", "knee_flexion_deg"):
            if getattr(self, name) is not None:
                limits.check("Support", f"support.{name}", getattr(self, name))
        limits.check("Support", "support.contact_stiffness_N_per_m", self.contact_stiffness_N_per_m)

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
        for name in ("point_m", "force_N", "mass_kg"):
            if getattr(self, name) is not None:
                limits.check("Load", f"loads.{name}", getattr(self, name))


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
    # Derived from the fields above by __post_init__ (immutable data of the problem, recomputed
    # by dataclasses.replace; not caches of any call): index and constant arrays of the hot path.
    _seg_Sa: np.ndarray = field(init=False, repr=False)     # (7, Sg) S of the body of seg_a, transposed
    _seg_Sb: np.ndarray = field(init=False, repr=False)     # (7, Sg) S of the body of seg_b, transposed
    _seg_dS: np.ndarray = field(init=False, repr=False)     # (7, Sg) _seg_Sb − _seg_Sa
    _seg_dz2: np.ndarray = field(init=False, repr=False)    # (Sg,) squared lateral extent (m²)
    _seg_inc: np.ndarray = field(init=False, repr=False)    # (8, Sg) [body of a = b] − [body of b = b]
    _seg_inc_b: np.ndarray = field(init=False, repr=False)  # (8, Sg) [body of b = b]
    _pt_all_body: np.ndarray = field(init=False, repr=False)   # (P + 8,) path points, then COMs
    _pt_all_local: np.ndarray = field(init=False, repr=False)  # (P + 8,) complex x + iy
    _joint_c: tuple = field(init=False, repr=False)            # joint positions in parent, child (complex)
    _weight: np.ndarray = field(init=False, repr=False)     # (8, 2) N, weights acting through the joints
    _contact: tuple = field(init=False, repr=False)         # bodies, local, normals, offsets, stiffnesses
    _fmax: np.ndarray = field(init=False, repr=False)       # (M,) F_max cos α
    _lopt_cos: np.ndarray = field(init=False, repr=False)   # (M,) l_opt cos α
    _lopt0_cos: np.ndarray = field(init=False, repr=False)  # (M,) default l_opt cos α
    _excess: np.ndarray = field(init=False, repr=False)     # lines with excess_passive
    _fpe_line: np.ndarray = field(init=False, repr=False)   # (M + E,) every line, then _excess
    _fpe_lts: np.ndarray = field(init=False, repr=False)    # (M + E,) l_ts, then the default l_ts
    _fpe_lopt_cos: np.ndarray = field(init=False, repr=False)  # (M + E,) the same for l_opt cos α

    def __post_init__(self):
        put = object.__setattr__
        ba, bb = self.pt_body[self.seg_a], self.pt_body[self.seg_b]
        put(self, "_seg_Sa", self.S.T.take(ba, 1))
        put(self, "_seg_Sb", self.S.T.take(bb, 1))
        put(self, "_seg_dS", self._seg_Sb - self._seg_Sa)
        dz = self.pt_z[self.seg_b] - self.pt_z[self.seg_a]
        put(self, "_seg_dz2", dz * dz)
        seg = np.arange(len(ba))
        inc_b = np.zeros((len(BODIES), len(ba)))
        inc_b[bb, seg] = 1.0
        inc = -inc_b
        inc[ba, seg] += 1.0
        put(self, "_seg_inc", inc)
        put(self, "_seg_inc_b", inc_b)
        put(self, "_pt_all_body", np.concatenate((self.pt_body, _BODY_INDEX)))
        put(self, "_pt_all_local", kin.as_complex(np.concatenate((np.reshape(self.pt_local, (-1, 2)),
                                                                  self.com_local))))
        put(self, "_joint_c", (kin.as_complex(self.model.joint_in_parent),
                               kin.as_complex(self.model.joint_in_child)))
        put(self, "_weight", self.mass[:, None] * self.gravity[None, :] * self.weight_mask[:, None])
        c = self.contacts
        put(self, "_contact", (np.array([x[0] for x in c], int),
                               np.array([x[1] for x in c], float).reshape(-1, 2),
                               np.array([x[2] for x in c], float).reshape(-1, 2),
                               np.array([x[3] for x in c], float), np.array([x[4] for x in c], float)))
        cos_a = np.cos(self.model.pennation)
        put(self, "_fmax", self.model.max_isometric_force * cos_a)
        put(self, "_lopt_cos", self.lopt * cos_a)
        put(self, "_lopt0_cos", self.lopt_default * cos_a)
        excess = np.flatnonzero(self.excess_passive)
        put(self, "_excess", excess)
        put(self, "_fpe_line", np.concatenate((np.arange(len(self.lts)), excess)))
        put(self, "_fpe_lts", np.concatenate((self.lts, self.lts_default[excess])))
        put(self, "_fpe_lopt_cos", np.concatenate((self._lopt_cos, self._lopt0_cos[excess])))

    def geometry(self, q: np.ndarray) -> Geometry:
        """Kinematics and muscle geometry at joint angles q (7,)."""
        return self._geometry(q)[0]

    def _geometry(self, q: np.ndarray):
        """`geometry`, and the segment quantities the stiffness reuses: first and second points
        (Sg, 2), in-plane vectors d (Sg, 2), |d|² (Sg,) and ∂ℓ/∂q (7, Sg)."""
        m = self.model
        ang, rot, org_c, cen_c = kin.chain_poses(*self._joint_c, q + m.joint_offset, self.root,
                                                 self.root_angle)
        shift = -cen_c[0]                                 # the hip centre to the origin
        org_c = org_c + shift
        org, cen = kin.as_real(org_c), kin.as_real(cen_c + shift)
        body = self._pt_all_body
        both = kin.as_real(org_c.take(body) + rot.take(body) * self._pt_all_local)
        n_pt = len(self.pt_body)
        pts, com = both[:n_pt], both[n_pt:]
        pa, pb = pts.take(self.seg_a, 0), pts.take(self.seg_b, 0)
        d = pb - pa
        dxy2 = np.einsum("ij,ij->i", d, d)
        seg_len = np.sqrt(dxy2 + self._seg_dz2)
        u = d / seg_len[:, None]
        dseg = self._along(pa, pb, u[:, ::-1] * _ROT270, cen)         # (7, Sg) ∂ℓ/∂q = u · ∂d/∂q
        length = np.bincount(self.seg_line, seg_len, minlength=len(self.line_ptr) - 1)
        dLdq = np.add.reduceat(dseg, self.seg_first, axis=1).T
        geo = Geometry(q=q, angles=ang, origins=org, centres=cen, points=pts, segment_length=seg_len,
                       segment_dir=u, length=length, dLdq=dLdq, com=com,
                       shift=np.array([shift.real, shift.imag]))
        return geo, (pa, pb, d, dxy2, dseg)

    def _segments(self, geo: Geometry):
        """The segment quantities of `_geometry`, recomputed from a geometry."""
        pa, pb = geo.points.take(self.seg_a, 0), geo.points.take(self.seg_b, 0)
        d = pb - pa
        g = self._along(pa, pb, geo.segment_dir[:, ::-1] * _ROT270, geo.centres)
        return pa, pb, d, np.einsum("ij,ij->i", d, d), g

    def _along(self, pa, pb, f, cen):
        """(7, Sg) e · ∂d/∂q_j for the segment vectors d = pb − pa, where e = ẑ × f (Sg, 2).

        A point p on body b moves by ∂p/∂q_j = S[b, j] ẑ × (p − c_j), and (ẑ × f) · (ẑ × r) = f · r,
        so e · ∂d/∂q_j = S[b_b, j] (p_b − c_j) · f − S[b_a, j] (p_a − c_j) · f. With f = (u_y, −u_x),
        e = u (the in-plane part of the unit segment vector) and this is ∂ℓ/∂q_j.
        """
        return (self._seg_Sb * (pb[:, 0] * f[:, 0] + pb[:, 1] * f[:, 1])
                - self._seg_Sa * (pa[:, 0] * f[:, 0] + pa[:, 1] * f[:, 1]) - self._seg_dS * (cen @ f.T))

    # ---------------------------------------------------------------------------------------
    def muscle_forces(self, length: np.ndarray) -> np.ndarray:
        """Tension (M,) of every line at musculotendon lengths ``length`` (N, >= 0)."""
        return self._tension(np.asarray(length, float))[0]

    def _tension(self, length: np.ndarray, slope: bool = False):
        """Tension (M,) at musculotendon lengths, and (if ``slope``) dT/dL (M,) (N/m; else None).

        T = F_max cos α [a_eff(L) f_L(l̃) + f_PE(l̃)] clipped at 0, l̃ = (L − l_ts)/(l_opt cos α)
        (docs/model.md §6); a line in tension mode has a fixed tension and no stiffness.
        """
        n = len(length)
        # l̃ of every line, then of the default muscle of the lines that count only the excess
        # passive force (one evaluation of f_PE for both)
        lt_all = (length.take(self._fpe_line) - self._fpe_lts) / self._fpe_lopt_cos
        lt = lt_all[:n]
        fl, dfl = force_length_active(lt)
        fpe_all, dfpe_all = force_length_passive(lt_all)
        passive = fpe_all[:n].copy()
        passive[self._excess] -= fpe_all[n:]
        x = self.logit_activation + self.reflex_gain * (length - self.L_ref)
        a = self._logistic(x)
        hill = self._fmax * (a * fl + passive)
        tension = np.where(self.mode_tension, self.tension, np.maximum(hill, 0.0))
        if not slope:
            return tension, None
        # d/dL of a_eff (zero where the logit is clipped), of f_L, f_PE and of the default f_PE
        da = np.where(np.abs(x) < _LOGIT_CLIP, a * (1.0 - a) * self.reflex_gain, 0.0)
        dfpe_dL = dfpe_all / self._fpe_lopt_cos
        dpassive = dfpe_dL[:n].copy()
        dpassive[self._excess] -= dfpe_dL[n:]
        dhill = self._fmax * (da * fl + a * dfl / self._lopt_cos + dpassive)
        return tension, np.where(self.mode_tension | (hill <= 0.0), 0.0, dhill)

    @staticmethod
    def _logistic(x):
        return 1.0 / (1.0 + np.exp(-np.minimum(np.maximum(x, -_LOGIT_CLIP), _LOGIT_CLIP)))

    def effective_activation(self, length: np.ndarray) -> np.ndarray:
        """Activation (M,) after the stretch response about the reference length (docs/model.md §6):
        a_eff = σ(logit a + g (L − L_ref)), g = q / (l_fibre,ref (1 − a)), so that at L_ref the
        stiffness of the active force is q F / l_fibre (short-range stiffness) and a_eff stays
        within 0-1 for any stretch."""
        return self._logistic(self.logit_activation + self.reflex_gain * (length - self.L_ref))

    def _point_moments(self, geo: Geometry, body: np.ndarray, point: np.ndarray, force: np.ndarray):
        """Generalized forces (7,) of world forces (n, 2) at world points (n, 2) on bodies (n,)."""
        r = point[:, None, :] - geo.centres[None, :, :]
        mom = r[..., 0] * force[:, None, 1] - r[..., 1] * force[:, None, 0]
        return np.einsum("nj,nj->j", self.S[body], mom)

    def contact_forces(self, geo: Geometry):
        """World points (n, 2), bodies (n,) and forces (n, 2) of the support contacts."""
        return self._contact_state(geo)[:3]

    def _contact_state(self, geo: Geometry):
        """Bodies, world points, forces and penetrations (m) of the support contacts."""
        bodies, local, normal, offset, k = self._contact
        if not len(bodies):
            return np.zeros(0, int), np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0)
        pts = kin.points_world(geo.angles, geo.origins, bodies, local)
        pen = offset - np.einsum("ij,ij->i", pts - geo.shift, normal)   # penetration into the support
        return bodies, pts, (k * np.maximum(pen, 0.0))[:, None] * normal, pen

    def load_forces(self, geo: Geometry):
        pts = kin.points_world(geo.angles, geo.origins, self.load_body, self.load_local)
        return pts, self.load_force

    def _sources(self, q: np.ndarray, geo: Geometry, slope: bool):
        """Generalized forces by source (gravity, external, contact, passive, muscle: (7,) each)
        and what their derivatives need: tensions, dT/dL (if ``slope``), passive slopes, the
        loads (points, forces) and the contact state (or None)."""
        tau_g = self._point_moments(geo, _BODY_INDEX, geo.com, self._weight)
        loads = contact = None
        if len(self.load_force):
            loads = self.load_forces(geo)
            tau_e = self._point_moments(geo, self.load_body, *loads)
        else:
            tau_e = np.zeros(7)
        if self.contacts:
            contact = self._contact_state(geo)
            tau_c = self._point_moments(geo, *contact[:3])
        else:
            tau_c = np.zeros(7)
        tau_p, k_p = self.passive_moments(q)
        tension, dtension = self._tension(geo.length, slope)
        tau_m = -tension @ geo.dLdq
        return (tau_g, tau_e, tau_c, tau_p, tau_m), tension, dtension, k_p, loads, contact

    def generalized_forces(self, q: np.ndarray, geo: Geometry | None = None) -> dict:
        """Generalized forces (7,) by source at q: gravity, external, contact, passive, muscle."""
        geo = geo if geo is not None else self.geometry(q)
        (tau_g, tau_e, tau_c, tau_p, tau_m), forces, *_ = self._sources(q, geo, False)
        return {"gravity": tau_g, "external": tau_e, "contact": tau_c, "passive": tau_p,
                "muscle": tau_m, "muscle_forces": forces, "geometry": geo}

    def passive_moments(self, q: np.ndarray):
        """Passive moments on each superior body (7,) and their slopes (7,)."""
        m_sp, dm_sp = intervertebral_moment(self.iv_coeffs, q[1:] - self.model.rest_angle[1:])
        m_h, dm_h = hip_passive_moment(q[0], self.knee_rad, self.hip_scale)
        return np.concatenate(([m_h], m_sp)), np.concatenate(([dm_h], dm_sp))

    def residual(self, q: np.ndarray) -> np.ndarray:
        """Sum of all generalized forces (7,), N·m. Zero at equilibrium."""
        (tau_g, tau_e, tau_c, tau_p, tau_m), *_ = self._sources(q, self.geometry(q), False)
        return tau_g + tau_e + tau_c + tau_p + tau_m

    def jacobian(self, q: np.ndarray, geo: Geometry | None = None) -> np.ndarray:
        """The exact ∂R/∂q (7, 7) of the total generalized force R (docs/model.md §4, §8).

        * Point forces (weights, loads, contacts, and the forces each muscle segment exerts at
          its two ends): Q_j = F · ∂p/∂q_j, ∂p/∂q_j = S[b, j] ẑ × (p − c_j), so at constant F
          ∂Q_j/∂q_k = F · ∂²p/∂q_j∂q_k with
          ∂²p/∂q_j∂q_k = −S[b, j] (S[b, k] (p − c_k) − S[j, k] (c_j − c_k)),
          summed per body (`_point_force_stiffness`);
        * contact forces change with the penetration: −k v vᵀ, v_j = S[b, j] ((p − c_j) × n)_z
          (−k/2 v vᵀ at zero penetration, the mean of the one-sided slopes);
        * passive joint moments: their slopes on the diagonal;
        * muscles, τ = −Σ T_i ∂L_i/∂q: −Σ (dT_i/dL_i) ∂L_i/∂q ∂L_i/∂qᵀ − Σ T_i ∂²L_i/∂q²; for a
          segment of in-plane vector d and 3D length ℓ, u = d/ℓ,
          ∂²ℓ = (∂d·∂d − (u·∂d)(u·∂d))/ℓ + u·∂²d = (h hᵀ + (dz²/|d|²) g gᵀ)/ℓ + u·∂²d with
          g = ∂ℓ/∂q, h = n·∂d (n the in-plane unit normal of d); the u·∂²d part is the
          point-force term of the forces ±T u at the two ends.

        All forces derive from a potential, so the result is symmetric (to rounding).
        """
        if geo is None:
            geo, seg = self._geometry(q)
        else:
            seg = self._segments(geo)
        _, tension, dtension, k_p, loads, contact = self._sources(q, geo, True)
        return self._stiffness(geo, seg, tension, dtension, k_p, loads, contact)

    def _stiffness(self, geo, seg, tension, dtension, k_p, loads, contact) -> np.ndarray:
        """∂R/∂q (7, 7) from a geometry, its segment quantities (`_geometry`) and what `_sources`
        returned there (see `jacobian`)."""
        S, cen = self.S, geo.centres
        pa, pb, d, dxy2, g = seg
        ell, u = geo.segment_length, geo.segment_dir
        # muscles: change of tension
        J = -(geo.dLdq.T * dtension) @ geo.dLdq
        # muscles: change of direction of the segments, Σ T/ℓ (h hᵀ + dz²/|d|² g gᵀ) with
        # h = n · ∂d = (ẑ × d) · ∂d / |d| and g = ∂ℓ/∂q
        w = tension.take(self.seg_line)
        w_ld = w / (ell * np.maximum(dxy2, 1e-24))
        h = self._along(pa, pb, d, cen)                               # (7, Sg) |d| h (e = ẑ × d)
        J -= (h * w_ld) @ h.T
        J -= (g * (w_ld * self._seg_dz2)) @ g.T
        # point forces at constant force, per body: sum of forces Fb (8, 2) and of p·F, Mb (8,).
        # A segment pulls its first point by +T u and its second by −T u
        wu = w[:, None] * u
        Fb = self._seg_inc @ wu + self._weight
        Mb = (self._seg_inc @ (pa[:, 0] * wu[:, 0] + pa[:, 1] * wu[:, 1]) - self._seg_inc_b @ (w * dxy2 / ell)
              + np.einsum("ij,ij->i", geo.com, self._weight))
        if loads is not None:
            lp, lf = loads
            Fb += np.stack([np.bincount(self.load_body, lf[:, 0], 8), np.bincount(self.load_body, lf[:, 1], 8)], -1)
            Mb += np.bincount(self.load_body, np.einsum("ij,ij->i", lp, lf), 8)
        if contact is not None:
            cb, cp, cf, pen = contact
            Fb += np.stack([np.bincount(cb, cf[:, 0], 8), np.bincount(cb, cf[:, 1], 8)], -1)
            Mb += np.bincount(cb, np.einsum("ij,ij->i", cp, cf), 8)
            normal, k = self._contact[2], self._contact[4]
            v = S[cb] * ((cp[:, 0] * normal[:, 1] - cp[:, 1] * normal[:, 0])[:, None]
                         - (np.outer(normal[:, 1], cen[:, 0]) - np.outer(normal[:, 0], cen[:, 1])))
            # at zero penetration (to rounding: a contact support's reference posture) the slope
            # of k max(pen, 0) is the mean of its one-sided values, k/2, as a central difference
            # gives; a Newton step from there then does not overshoot into the support
            side = np.where(np.abs(pen) <= _CONTACT_KINK_M, 0.5, np.where(pen > 0.0, 1.0, 0.0))
            J -= (v.T * (k * side)) @ v
        J += _point_force_stiffness(S, cen, Fb, Mb)
        J[_DIAG] += k_p
        return J

    def _reduced_state(self, u: np.ndarray):
        """Bᵀ R at u (n,), a function that returns ∂(Bᵀ R)/∂u (n, n) at u from the same
        evaluation of the geometry (the solver needs the Jacobian only at accepted steps), and
        the geometry at u."""
        q = self.q_c + self.B @ u
        geo, seg = self._geometry(q)
        (tau_g, tau_e, tau_c, tau_p, tau_m), tension, dtension, k_p, loads, contact = \
            self._sources(q, geo, True)
        R = tau_g + tau_e + tau_c + tau_p + tau_m

        def jacobian():
            return self.B.T @ self._stiffness(geo, seg, tension, dtension, k_p, loads, contact) @ self.B
        return self.B.T @ R, jacobian, geo

    def reduced_residual(self, u: np.ndarray) -> np.ndarray:
        return self.B.T @ self.residual(self.q_c + self.B @ u)

    def reduced_jacobian(self, u: np.ndarray) -> np.ndarray:
        """∂(Bᵀ R)/∂u = Bᵀ (∂R/∂q) B (n, n), analytic (`jacobian`)."""
        return self.B.T @ self.jacobian(self.q_c + self.B @ u) @ self.B

    def reduced_jacobian_fd(self, u: np.ndarray, h: float = 1e-6) -> np.ndarray:
        """∂(Bᵀ R)/∂u by central differences of the generalized forces (n, n): the check of
        `reduced_jacobian` (2n evaluations of the generalized forces)."""
        n = len(u)
        J = np.empty((n, n))
        for i in range(n):
            e = np.zeros(n)
            e[i] = h
            J[:, i] = (self.reduced_residual(u + e) - self.reduced_residual(u - e)) / (2 * h)
        return J


def _point_force_stiffness(S: np.ndarray, cen: np.ndarray, Fb: np.ndarray, Mb: np.ndarray) -> np.ndarray:
    """Σ_n F_n · ∂²p_n/∂q∂q (7, 7) of constant world forces, given per body b the sum of the
    forces Fb (8, 2) and of p·F, Mb (8,); joint centres cen (7, 2).

    ∂²p/∂q_j∂q_k = −S[b, j] (S[b, k] (p − c_k) − S[j, k] (c_j − c_k)), hence
    K = −Sᵀ diag(Mb) S + Sᵀ (S ∘ (Fb cᵀ)) + S[:7] ∘ (G_j · c_j − G_j · c_k), G = Sᵀ Fb.
    """
    G = S.T @ Fb
    K = S.T @ (S * (Fb @ cen.T - Mb[:, None]))
    K += S[:-1] * (np.einsum("ij,ij->i", G, cen)[:, None] - G @ cen.T)
    return K


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


def stretch_response(set_point_length, lts, lopt, activation, mode_tension, q):
    """Logit of the set activation and gain (1/m) of the stretch response about the set-point
    lengths (docs/model.md §6): k = q F / l_fibre at the set point, fibre length along the line
    with a rigid tendon. The logistic saturates at full activation; above 0.9 the gain is held
    at its a = 0.9 value so that it stays finite (the stiffness there is slightly below qF/l)."""
    fiber = np.maximum(set_point_length - lts, 0.2 * lopt)
    a = np.clip(activation, 1e-12, 1.0 - 1e-12)
    logit = np.where(activation > 0, np.log(a / (1.0 - a)), -np.inf)
    gain = np.where(mode_tension | (activation <= 0), 0.0, q / (fiber * (1.0 - np.minimum(a, 0.9))))
    return logit, gain


def prepare(model: Model, *, support: Support | None = None, settings: dict | None = None,
            loads: tuple = (), short_range_stiffness: float = DEFAULT_SHORT_RANGE_STIFFNESS,
            tone: dict | None = None, hip_passive_scale: float | None = None,
            tol_Nm: float = 1e-6, max_iterations: int = 100, _lengths_only: bool = False) -> Problem:
    """Fix a model, a support, muscle settings and loads into a `Problem` (validates all).

    hip_passive_scale : overrides the model's (`build_model`) for this problem only; the
        baseline tone stays the one fitted with the model's, so this is a perturbation.
    """
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
    if hip_passive_scale is None:
        hip_passive_scale = model.hip_passive_scale
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
    kind, lo, hi = np.asarray(m.pt_condition, float).T
    hip_ok = (lo <= hip_flex_gait) & (hip_flex_gait <= hi)
    knee_ok = (lo <= knee_gait) & (knee_gait <= hi)
    keep = np.flatnonzero(~(((kind == 1) & ~hip_ok) | ((kind == 2) & ~knee_ok)))
    body = np.array(m.pt_body)[keep]
    local = np.array(m.pt_local, float)[keep]
    tibia = body == -1
    body[tibia] = 0
    local[tibia] = knee_pt + local[tibia] @ tib_rot.T
    line_ptr = np.asarray(m.line_ptr)
    pt_line = np.repeat(np.arange(m.n_muscles), np.diff(line_ptr))[keep]
    ptr = np.concatenate(([0], np.cumsum(np.bincount(pt_line, minlength=m.n_muscles))))
    # segments join consecutive points of a line; line i has ptr[i+1] - ptr[i] - 1 of them
    seg_a = np.flatnonzero(pt_line[:-1] == pt_line[1:])
    seg_b = seg_a + 1
    seg_line = pt_line[seg_a]
    seg_first = ptr[:-1] - np.arange(m.n_muscles)
    if np.any(np.diff(ptr) < 2):                       # np.add.reduceat needs a segment per line
        raise ModelError("every muscle line needs at least two path points")

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
                weight_mask=weight_mask, mass=mass, com_local=com_local, pt_body=body,
                pt_local=local, pt_z=np.array(m.pt_z)[keep], line_ptr=ptr,
                seg_a=seg_a, seg_b=seg_b, seg_line=seg_line, seg_first=seg_first, knee_rad=knee_rad, iv_coeffs=iv,
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
        act = np.array([tone[g] for g in m.muscle_group]) * m.subject.tone_scale
    else:
        act = np.array(m.baseline_activation, float)
        for g, a in (user_tone or {}).items():
            act[m.group_lines(g)] = a
    lopt = np.array(m.optimal_fiber_length)
    lts = np.array(m.tendon_slack_length)
    fmax = np.array(m.max_isometric_force)
    group_fmax: dict = {}                              # summed F_max of a group, per group
    for i, (name, s) in resolve_settings(m, settings).items():
        if s.tension_N is not None:
            mode_tension[i] = True
            if name in MUSCLE_GROUPS:
                if name not in group_fmax:
                    group_fmax[name] = fmax[m.group_lines(name)].sum()
                tension[i] = s.tension_N * fmax[i] / group_fmax[name]
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
    logit, gain = stretch_response(L_ref, lts, lopt, act, mode_tension, short_range_stiffness)
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


def _implausible(problem: Problem, q: np.ndarray, geo: Geometry) -> str | None:
    """A message if an equilibrium at q (geometry ``geo``) is outside the physiological range
    or, unless lying, has the trunk fallen; else None."""
    out = _range_violation(problem, q)
    if out is None and problem.support.kind != "lying":
        out = _fallen(problem, q, geo)
    return out


def _fallen(problem: Problem, q: np.ndarray, geo: Geometry | None = None) -> str | None:
    """A message if the trunk leans beyond MAX_TRUNK_INCLINATION_DEG, else None (``geo``: the
    geometry at q, if already computed)."""
    from .metrics import landmark
    geo = geo if geo is not None else problem.geometry(q)
    w = landmark(problem, geo, "C7") - landmark(problem, geo, "T12_L1_centre")
    incl = math.degrees(math.atan2(w[0], w[1]))
    if abs(incl) <= MAX_TRUNK_INCLINATION_DEG:
        return None
    return (f"no upright equilibrium: the trunk fell {'forward' if incl > 0 else 'backward'} "
            f"(trunk inclination {incl:+.0f}°); with these muscle settings nothing holds it "
            f"within {MAX_TRUNK_INCLINATION_DEG:.0f}° of the vertical")


class _Descent(NamedTuple):
    u: np.ndarray
    R: np.ndarray
    norm: float                 # max |R|
    iterations: int
    converged: bool
    collapse: str | None        # message if the iteration left the physiological range
    jacobian: Callable[[], np.ndarray]   # () -> ∂(Bᵀ R)/∂u at u
    geometry: Geometry          # at u


def _descend(problem: Problem, u: np.ndarray) -> _Descent:
    """Levenberg-shifted Newton iteration on the generalized forces, accepting only steps that
    lower the total potential energy (all forces derive from one, docs/model.md §8).

    Each step solves (K + μI) du = R with K = −∂R/∂u the stiffness matrix and μ ≥ 0 the
    smallest shift that makes K + μI positive definite (μ = 0: a pure Newton step). The energy
    change along a step is the trapezoidal work −½ (R(u) + R(u + du))·du; a step that does not
    lower it is halved. The iteration therefore moves downhill and converges to a stable
    equilibrium where one exists, and away from saddles.

    The Jacobian comes with each evaluation of the residual (`Problem._reduced_state`) and is
    computed only at the accepted points.
    """
    B = problem.B
    R, jac, geo = problem._reduced_state(u)
    norm = float(np.abs(R).max())
    eye = np.eye(len(u))
    for it in range(problem.max_iterations + 1):
        if norm < problem.tol_Nm:
            return _Descent(u, R, norm, it, True, None, jac, geo)
        if it == problem.max_iterations:
            break
        K = -jac()
        Ks = 0.5 * (K + K.T)
        lam_min = float(np.linalg.eigvalsh(Ks)[0])
        scale = max(1.0, float(np.abs(np.diag(Ks)).max()))
        mu = 0.0 if lam_min > 1e-8 * scale else -lam_min + 1e-3 * scale
        accepted = False
        for _ in range(40):
            du = np.linalg.solve(Ks + mu * eye if mu else Ks, R)
            step = float(np.abs(du).max())
            if step > 0.1:                                  # at most ~6° per iteration
                du *= 0.1 / step
            R_new, jac_new, geo_new = problem._reduced_state(u + du)
            work = 0.5 * float((R + R_new) @ du)            # = −ΔV along the step
            n_new = float(np.abs(R_new).max())
            if work > 0.0 or n_new < min(norm, 10 * problem.tol_Nm):
                accepted = True
                break
            mu = 2.0 * mu + 1e-2 * scale
        if not accepted:
            break
        u, R, norm, jac, geo = u + du, R_new, n_new, jac_new, geo_new
        q = problem.q_c + B @ u
        if np.any(q < problem.q_low - 0.35) or np.any(q > problem.q_high + 0.35):
            return _Descent(u, R, norm, it + 1, False, _range_violation(problem, q), jac, geo)
    return _Descent(u, R, norm, it, norm < problem.tol_Nm, None, jac, geo)


@one_blas_thread
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
    d = _descend(problem, u)
    u, norm, it, converged, collapse, geo = d.u, d.norm, d.iterations, d.converged, d.collapse, d.geometry
    K = None                                  # stiffness matrix at u, once converged
    if converged and collapse is None:
        # an equilibrium that is not a minimum (e.g. the start was a saddle): step off along the
        # unstable mode, both ways, and descend again. Of the stable equilibria within the
        # physiological range found, keep the nearer one: the eigenvector's sign is arbitrary,
        # and keeping the first one found made the answer depend on rounding
        K = -d.jacobian()
        w, v = np.linalg.eigh(0.5 * (K + K.T))
        if w[0] <= 1e-9 * max(1.0, abs(w[-1])):
            best = None
            for sign in (1.0, -1.0):
                alt = _descend(problem, u + sign * SADDLE_STEP_RAD * v[:, 0])
                it += alt.iterations
                if not alt.converged or alt.collapse is not None or \
                        _implausible(problem, problem.q_c + B @ alt.u, alt.geometry) is not None:
                    continue
                K2 = -alt.jacobian()
                distance = float(np.linalg.norm(alt.u - u))
                if np.linalg.eigvalsh(0.5 * (K2 + K2.T))[0] > 0 and (best is None or distance < best[0]):
                    best = (distance, alt, K2)
            if best is not None:
                _, alt, K = best
                u, norm, geo = alt.u, alt.norm, alt.geometry
    q = problem.q_c + B @ u
    eig = np.full(B.shape[1], np.nan)
    stable = None
    if collapse is None:
        collapse = _implausible(problem, q, geo) if converged else _range_violation(problem, q)
    if converged and collapse is None:
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

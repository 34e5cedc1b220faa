"""Static equilibrium: geometry, generalized forces by source, stiffness, the Newton solver.

Every function takes a `problem.Problem` and joint angles q (n_joints,) rad::

    model = make_model(Subject(body_mass_kg=75, height_m=1.75, pelvic_incidence_deg=52))
    problem = prepare(model, support=Support("standing"),
                      settings={"psoas": MuscleSetting(tension_N=200)})
    result = solve_equilibrium(problem=problem)
    residual(problem, result.q)          # ≈ 0 (n_joints,), N·m

The physics is written down in docs/model.md (sections 4-8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from . import kinematics as kin
from .balance import reaction, unbalanced
from .errors import ConvergenceError, ModelError
from .external import contact_forces, contact_state as _contact_state, floor_state, hand_state, load_forces
from .muscles import fiber_curves, stretch_activation, tension as hill_tension
from .passive import intervertebral_moment
from .problem import Problem, prepare
from .supports import contact_law
from .status import Status
from .threads import one_blas_thread

_ROT270 = np.array([1.0, -1.0])  # (u_y, u_x) * _ROT270 = (u_y, −u_x), ẑ × that = u

#: Step (rad) along the unstable mode when the solver lands on an unstable equilibrium.
SADDLE_STEP_RAD = 0.01


@dataclass(frozen=True, eq=False)
class Geometry:
    """Kinematic quantities at one posture (all world frame, the hip centre at the origin), or at
    a batch of postures: every array then has the batch's leading dimensions (q (N, n_joints):
    angles (N, n_bodies), dLdq (N, M, n_joints), ...)."""

    q: np.ndarray               # (n_joints,) rad
    angles: np.ndarray          # (n_bodies,) body angles, rad
    origins: np.ndarray         # (n_bodies, 2) body frame origins
    centres: np.ndarray         # (n_joints, 2) joint centres
    points: np.ndarray          # (P, 2) muscle path points
    segment_length: np.ndarray  # (Sg,) 3D segment lengths
    segment_dir: np.ndarray     # (Sg, 2) in-plane part of the unit segment vectors
    length: np.ndarray          # (M,) musculotendon lengths
    dLdq: np.ndarray            # (M, n_joints) ∂L/∂q (moment arm = −dLdq)
    com: np.ndarray             # (n_bodies, 2) body centres of mass
    shift: np.ndarray           # (2,) support frame -> world translation (hip to the origin)
    cavity: np.ndarray          # (nK, 2) the abdominal cavity's floor and roof centroids (nK = 0 without one)
    pressure_arm: np.ndarray    # (n_joints,) m³: A ∂ℓ/∂q of the cavity's axis, the generalized force per Pa


def geometry(problem: Problem, q: np.ndarray) -> Geometry:
    """Kinematics and muscle geometry at joint angles q (n_joints,), or at a batch of postures
    q (..., n_joints) at once (`Geometry`)."""
    return geometry_with_segments(problem, q)[0]


def _poses(p: Problem, q: np.ndarray):
    """Body angles, rotations and origins (complex, the hip centre at the origin), joint
    centres (..., n_joints, 2) and the shift (complex, (..., 1)) at joint angles q."""
    ang, rot, org_c, cen_c = kin.poses(p.S, p.inferior, p.superior, p.joint_a, p.joint_c,
                                       q + p.joint_offset, p.root_angle)
    shift = -cen_c[..., p.origin_joint, None]            # the hip centre to the origin
    return ang, rot, org_c + shift, kin.as_real(cen_c + shift), shift


def skeleton(p: Problem, q: np.ndarray) -> Geometry:
    """The bodies' part of `geometry` at joint angles q (..., n_joints): angles, origins, joint
    centres, centres of mass and the shift; the muscle and cavity fields are None. Enough for
    the clinical metrics, the landmarks and the support's reaction, at a third of the cost."""
    ang, rot, org_c, cen, shift = _poses(p, q)
    n_pt = p.paths.n_points
    body = p.all_body[n_pt:n_pt + p.mass.shape[-1]]
    com = kin.as_real(org_c.take(body, -1) + rot.take(body, -1) * p.all_local[n_pt:n_pt + p.mass.shape[-1]])
    return Geometry(q=q, angles=ang, origins=kin.as_real(org_c), centres=cen, points=None,
                    segment_length=None, segment_dir=None, length=None, dLdq=None, com=com,
                    shift=np.stack([shift.real, shift.imag], -1)[..., 0, :], cavity=None, pressure_arm=None)


def geometry_with_segments(p: Problem, q: np.ndarray):
    """`geometry`, and the segment quantities the stiffness reuses: first and second points
    (..., Sg, 2), in-plane vectors d (..., Sg, 2), |d|² (..., Sg) and ∂ℓ/∂q (..., nX) of each
    (segment, crossed joint) pair (`Problem.cross_seg`; zero for the joints a segment does not
    cross: both its points turn with them)."""
    ang, rot, org_c, cen, shift = _poses(p, q)
    org = kin.as_real(org_c)
    both = kin.as_real(org_c.take(p.all_body, -1) + rot.take(p.all_body, -1) * p.all_local)
    n_pt = p.paths.n_points
    n_c = n_pt + p.mass.shape[-1]
    pts, com, cav = both[..., :n_pt, :], both[..., n_pt:n_c, :], both[..., n_c:, :]
    pa, pb = pts.take(p.paths.seg_a, -2), pts.take(p.paths.seg_b, -2)
    d = pb - pa
    dxy2 = _dot(d, d)
    seg_len = np.sqrt(dxy2 + p.seg_dz2)
    u = d / seg_len[..., None]
    dseg = _crossing(p, pa, pb, u[..., ::-1] * _ROT270, cen)   # (..., nX) ∂ℓ/∂q = u · ∂d/∂q
    length = _bincount(p.paths.seg_line, seg_len, p.lines.n)
    nj = cen.shape[-2]
    dLdq = _bincount(p.cross_slot, dseg, p.lines.n * nj).reshape(dseg.shape[:-1] + (p.lines.n, nj))
    geo = Geometry(q=q, angles=ang, origins=org, centres=cen, points=pts, segment_length=seg_len,
                   segment_dir=u, length=length, dLdq=dLdq, com=com,
                   shift=np.stack([shift.real, shift.imag], -1)[..., 0, :], cavity=cav,
                   pressure_arm=_pressure_arm(p, cav, cen))
    return geo, (pa, pb, d, dxy2, dseg)


def _bincount(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Sums (..., n) of ``values`` (..., k) by ``index`` (k,) ints in 0..n−1: `np.bincount` of
    each row (the same sums in the same order for one row or a batch)."""
    if values.ndim == 1:
        return np.bincount(index, values, n)
    lead = values.shape[:-1]
    rows = np.arange(math.prod(lead))[:, None] * n
    return np.bincount((rows + index).ravel(), values.reshape(-1), rows.size * n).reshape(lead + (n,))


def _vecmat(v: np.ndarray, A: np.ndarray) -> np.ndarray:
    """vᵀA (..., n) for vectors v (..., m) and matrices A (..., m, n)."""
    return v @ A if v.ndim == 1 else (v[..., None, :] @ A)[..., 0, :]


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products (...,) of vectors (..., 2)."""
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1]


def _pressure_arm(p: Problem, cav: np.ndarray, cen: np.ndarray) -> np.ndarray:
    """A ∂ℓ/∂q (..., n_joints) of the cavity axis from the floor F to the roof D (docs/model.md
    §6a): ∂ℓ/∂q_j = S[b_D, j] (D − c_j) × e − S[b_F, j] (F − c_j) × e, e = (D − F)/ℓ. Zeros
    without a cavity."""
    if not cav.shape[-2]:
        return np.zeros(cen.shape[:-1])
    (bf, bd), f, d = p.cavity_body, cav[..., 0, None, :], cav[..., 1, None, :]
    e = _unit(d - f)[0]
    arm = p.S[bd] * ((d[..., 0] - cen[..., 0]) * e[..., 1] - (d[..., 1] - cen[..., 1]) * e[..., 0])
    arm -= p.S[bf] * ((f[..., 0] - cen[..., 0]) * e[..., 1] - (f[..., 1] - cen[..., 1]) * e[..., 0])
    return p.cavity_area * arm


def _unit(v: np.ndarray):
    """Unit vectors (..., 2) along v (..., 2), and the lengths (..., 1)."""
    ell = np.sqrt(v[..., :1] * v[..., :1] + v[..., 1:] * v[..., 1:])
    return v / ell, ell


def _segments(p: Problem, geo: Geometry):
    """The segment quantities of `geometry_with_segments`, recomputed from a geometry."""
    pa, pb = geo.points.take(p.paths.seg_a, -2), geo.points.take(p.paths.seg_b, -2)
    d = pb - pa
    g = _crossing(p, pa, pb, geo.segment_dir[..., ::-1] * _ROT270, geo.centres)
    return pa, pb, d, _dot(d, d), g


def _crossing(p: Problem, pa, pb, f, cen):
    """(..., nX) e · ∂d/∂q_j of the segment vectors d = pb − pa for each (segment, crossed joint)
    pair (`Problem.cross_seg`, `cross_joint`), where e = ẑ × f (..., Sg, 2).

    A point p on body b moves by ∂p/∂q_j = S[b, j] ẑ × (p − c_j), and (ẑ × f) · (ẑ × r) = f · r,
    so e · ∂d/∂q_j = S[b_b, j] (p_b − c_j) · f − S[b_a, j] (p_a − c_j) · f. With f = (u_y, −u_x),
    e = u (the in-plane part of the unit segment vector) and this is ∂ℓ/∂q_j. For a joint the
    segment does not cross, S[b_b, j] = S[b_a, j] and the sum is S d · f.
    """
    fx = f.take(p.cross_seg, -2)
    c = cen.take(p.cross_joint, -2)
    return (p.cross_Sb * _dot(pb.take(p.cross_seg, -2) - c, fx)
            - p.cross_Sa * _dot(pa.take(p.cross_seg, -2) - c, fx))


def _dense(p: Problem, x: np.ndarray) -> np.ndarray:
    """(..., n_joints, Sg): the (segment, crossed joint) values x (..., nX) in their places, zero
    elsewhere."""
    out = np.zeros(x.shape[:-1] + p.seg_Sa.shape)
    out[..., p.cross_joint, p.cross_seg] = x
    return out


def _along(p: Problem, pa, pb, f, cen):
    """(..., n_joints, Sg) e · ∂d/∂q_j for every joint and segment (`_crossing`; for a joint the
    segment does not cross, S d · f: the segment turns with it)."""
    return (p.seg_Sb * _dot(pb, f)[..., None, :] - p.seg_Sa * _dot(pa, f)[..., None, :]
            - p.seg_dS * (cen @ f.swapaxes(-1, -2)))


# -------------------------------------------------------------------------------------------
def muscle_forces(problem: Problem, length: np.ndarray) -> np.ndarray:
    """Tension (M,) of every line at musculotendon lengths ``length`` (N, >= 0): the set or
    baseline activation with its stretch response (docs/model.md §6)."""
    return _tension(problem, np.asarray(length, float), False)[0]


def _tension(p: Problem, length: np.ndarray, slope: bool):
    """Tension (M,) and, if ``slope``, dT/dL (M,) of the lines of a forward problem."""
    a, da = stretch_activation(p.lines, length)
    return hill_tension(p.lines, fiber_curves(p.lines, length), a, da, slope)


def unit_activation_forces(problem: Problem, geo: Geometry) -> np.ndarray:
    """Generalized forces (n_joints, M) of each line at activation 1: its active Hill force
    F_max cos α f_L(l̃) alone (no passive force, no stretch response), pulling along its path
    and, for a line that wraps the abdominal cavity, through the pressure it makes."""
    fl = fiber_curves(problem.lines, geo.length)[0]
    return (problem.lines.fmax_cos * fl)[None, :] * unit_tension_forces(problem, geo)


def unit_tension_forces(problem: Problem, geo: Geometry) -> np.ndarray:
    """Generalized forces (n_joints, M) of a unit tension of each line: −∂L/∂q along its path
    plus (dP/dT) A ∂ℓ/∂q through the cavity pressure (docs/model.md §6a)."""
    return np.outer(geo.pressure_arm, problem.pressure_gain) - geo.dLdq.T


def effective_activation(problem: Problem, length: np.ndarray) -> np.ndarray:
    """Activation (M,) after the stretch response at musculotendon lengths (M,)."""
    return stretch_activation(problem.lines, np.asarray(length, float))[0]


def point_moments(problem: Problem, geo: Geometry, body: np.ndarray, point: np.ndarray,
                  force: np.ndarray) -> np.ndarray:
    """Generalized forces (..., n_joints) of world forces (..., n, 2) at world points (..., n, 2)
    on bodies (n,)."""
    r = point[..., :, None, :] - geo.centres[..., None, :, :]
    mom = r[..., 0] * force[..., :, None, 1] - r[..., 1] * force[..., :, None, 0]
    return np.einsum("nj,...nj->...j", problem.S[body], mom)


def passive_moments(problem: Problem, q: np.ndarray):
    """Passive moments on each superior body (..., n_joints) and their slopes (..., n_joints) at
    joint angles q (..., n_joints)."""
    p = problem
    m = np.zeros(q.shape)
    dm = np.zeros(q.shape)
    if len(p.iv_joints):
        m[..., p.iv_joints], dm[..., p.iv_joints] = intervertebral_moment(
            p.iv_coeffs, q[..., p.iv_joints] - p.rest_angle[..., p.iv_joints])
    total, joint, w, b = p.leg_terms                  # `passive.leg_law_terms`
    if joint.size:
        e = w * np.exp(q[..., joint] * b)
        m += e @ total + p.leg_const
        dm += (e * b) @ total
    return m, dm


def force_sources(p: Problem, q: np.ndarray, geo: Geometry, slope: bool, muscles: bool = True):
    """Generalized forces by source (gravity, external, contact, passive, muscle: (n_joints,)
    each) and what their derivatives need: tensions, dT/dL (if ``slope``), passive slopes, the
    loads (points, forces) and the contacts' state: (that of `external.contact_state` or None, that
    of `external.hand_state` or None). Without ``muscles`` (recruitment sets the tensions itself)
    the muscle and cavity forces and the tensions are None."""
    tau_g = point_moments(p, geo, np.arange(p.mass.shape[-1]), geo.com, p.weight)
    loads = contact = None
    if len(p.load_force):
        loads = load_forces(p, geo)
        tau_e = point_moments(p, geo, p.load_body, *loads)
    else:
        tau_e = np.zeros(q.shape)
    if len(p.contact_body):
        contact = _contact_state(p, geo)
        tau_c = point_moments(p, geo, *contact[:3])
    else:
        tau_c = np.zeros(q.shape)
    if len(p.hand_body):
        hands = hand_state(p, geo)
        tau_c = tau_c + point_moments(p, geo, *hands[:3])
        contact = (contact, hands)
    else:
        contact = (contact, None)
    if len(p.floor_body):                          # constant: in the Jacobian with the weights
        tau_c = tau_c + point_moments(p, geo, *floor_state(p, geo))
    tau_p, k_p = passive_moments(p, q)
    if not muscles:
        return (tau_g, tau_e, tau_c, tau_p, None, None), None, None, k_p, loads, contact
    tension, dtension = _tension(p, geo.length, slope)
    tau_m = -_vecmat(tension, geo.dLdq)
    tau_a = np.expand_dims(abdominal_pressure(p, tension), -1) * geo.pressure_arm
    return (tau_g, tau_e, tau_c, tau_p, tau_m, tau_a), tension, dtension, k_p, loads, contact


def abdominal_pressure(problem: Problem, tension: np.ndarray):
    """The cavity pressure (Pa) that line tensions (M,) make: Σ_i (dP/dT_i) T_i (docs/model.md
    §6a); an array (...) of them for tensions (..., M)."""
    if np.ndim(tension) == 1:
        return float(problem.pressure_gain @ tension)
    if problem.pressure_gain.ndim == 1:
        return tension @ problem.pressure_gain
    return np.einsum("...m,...m->...", tension, problem.pressure_gain)      # a batch of subjects


SOURCES = ("gravity", "external", "contact", "passive", "muscle", "abdominal_pressure")
"""The sources of the generalized forces, in the order `generalized_forces` reports them."""


def generalized_forces(problem: Problem, q: np.ndarray, geo: Geometry | None = None) -> dict:
    """Generalized forces (n_joints,) by source at q: gravity, external, contact, passive,
    muscle, abdominal_pressure; with the muscle tensions (M,), the cavity pressure (Pa) and the
    geometry. For a batch of postures q (..., n_joints) every array gains its leading dimensions."""
    geo = geo if geo is not None else geometry(problem, q)
    taus, forces, *_ = force_sources(problem, q, geo, False)
    return _by_source(problem, taus, forces, geo)


def _by_source(p: Problem, taus: tuple, tension: np.ndarray, geo: Geometry) -> dict:
    """The `generalized_forces` dictionary of the generalized forces by source (in `SOURCES`
    order), the tensions and the geometry."""
    return dict(zip(SOURCES, taus)) | {"muscle_forces": tension, "geometry": geo,
                                       "pressure_Pa": abdominal_pressure(p, tension)}


def residual(problem: Problem, q: np.ndarray) -> np.ndarray:
    """Sum of all generalized forces (..., n_joints), N·m, at joint angles q (..., n_joints).
    Zero at equilibrium."""
    taus, *_ = force_sources(problem, q, geometry(problem, q), False)
    return sum(taus[1:], taus[0])


def jacobian(problem: Problem, q: np.ndarray, geo: Geometry | None = None) -> np.ndarray:
    """The exact ∂R/∂q (..., n_joints, n_joints) of the total generalized force R at joint angles
    q (..., n_joints) (docs/model.md §4, §8).

    * Point forces (weights, loads, contacts, and the forces each muscle segment exerts at
      its two ends): Q_j = F · ∂p/∂q_j, ∂p/∂q_j = S[b, j] ẑ × (p − c_j), so at constant F
      ∂Q_j/∂q_k = F · ∂²p/∂q_j∂q_k with
      ∂²p/∂q_j∂q_k = −S[b, j] (S[b, k] (p − c_k) − S[i(j), k] (c_j − c_k)),
      summed per body (`_point_force_stiffness`);
    * contact forces change with the penetration: −F′ v vᵀ, v_j = S[b, j] ((p − c_j) × n)_z,
      F′ the slope of `contact_law`; a gripping point's friction with its slide along the
      surface: −k_grip w wᵀ, w_j = S[b, j] ((p − c_j) × t)_z;
    * passive joint moments: their slopes on the diagonal;
    * muscles, τ = −Σ T_i ∂L_i/∂q: −Σ (dT_i/dL_i) ∂L_i/∂q ∂L_i/∂qᵀ − Σ T_i ∂²L_i/∂q²; for a
      segment of in-plane vector d and 3D length ℓ, u = d/ℓ,
      ∂²ℓ = (∂d·∂d − (u·∂d)(u·∂d))/ℓ + u·∂²d = (h hᵀ + (dz²/|d|²) g gᵀ)/ℓ + u·∂²d with
      g = ∂ℓ/∂q, h = n·∂d (n the in-plane unit normal of d); the u·∂²d part is the
      point-force term of the forces ±T u at the two ends.

    All forces derive from a potential, so the result is symmetric (to rounding).
    """
    return forces_and_jacobian(problem, q, geo)[1]


def forces_and_jacobian(problem: Problem, q: np.ndarray, geo: Geometry | None = None) -> tuple[dict, np.ndarray]:
    """`generalized_forces` and `jacobian` at q (..., n_joints) from one evaluation of the forces
    (a solved posture's report needs both)."""
    if geo is None:
        geo, seg = geometry_with_segments(problem, q)
    else:
        seg = _segments(problem, geo)
    taus, tension, dtension, k_p, loads, contact = force_sources(problem, q, geo, True)
    return (_by_source(problem, taus, tension, geo),
            point_and_muscle_jacobian(problem, geo, seg, tension, dtension, k_p, loads, contact))


def stiffness(problem: Problem, q: np.ndarray) -> np.ndarray:
    """The stiffness matrix K = −∂R/∂q (..., n_joints, n_joints) (N·m/rad), symmetric; a posture
    is statically stable where K (reduced to the free coordinates) is positive definite."""
    return -jacobian(problem, q)


def point_and_muscle_jacobian(p: Problem, geo, seg, tension, dtension, k_p, loads, contact) -> np.ndarray:
    """∂R/∂q (..., n_joints, n_joints) from a geometry, its segment quantities
    (`geometry_with_segments`), the line tensions and their slopes, the passive slopes, and the
    loads and contact state of `force_sources` (see `jacobian`)."""
    S, cen = p.S, geo.centres
    pa, pb, d, dxy2, g = seg
    ell, u = geo.segment_length, geo.segment_dir
    # muscles: change of tension
    J = -(geo.dLdq.swapaxes(-1, -2) * dtension[..., None, :]) @ geo.dLdq
    # muscles: change of direction of the segments, Σ T/ℓ (h hᵀ + dz²/|d|² g gᵀ) with
    # h = n · ∂d = (ẑ × d) · ∂d / |d| and g = ∂ℓ/∂q
    w = tension.take(p.paths.seg_line, -1)
    w_ld = w / (ell * np.maximum(dxy2, 1e-24))
    h = _along(p, pa, pb, d, cen)                                  # |d| h (e = ẑ × d)
    J -= (h * w_ld[..., None, :]) @ h.swapaxes(-1, -2)
    g = _dense(p, g)
    J -= (g * (w_ld * p.seg_dz2)[..., None, :]) @ g.swapaxes(-1, -2)
    # point forces at constant force, per body: sum of forces Fb (n_bodies, 2) and of p·F, Mb
    # (n_bodies,). A segment pulls its first point by +T u and its second by −T u
    wu = w[..., None] * u
    Fb = p.seg_inc @ wu + p.weight
    Mb = (kin.rows(p.seg_inc, _dot(pa, wu)) - kin.rows(p.seg_inc_b, w * dxy2 / ell)
          + np.einsum("...ij,...ij->...i", geo.com, p.weight))
    if loads is not None:
        _add_point_forces(Fb, Mb, p.load_body, *loads)
    if len(p.floor_body):
        _add_point_forces(Fb, Mb, *floor_state(p, geo))
    contact, hands = contact
    if hands is not None:
        J += _hand_stiffness(p, cen, hands, Fb, Mb)
    if contact is not None:
        cb, cp, cf, pen = contact
        _add_point_forces(Fb, Mb, cb, cp, cf)
        J -= _normal_stiffness(S[cb], cp, p.contact_normal, cen, contact_law(pen, p.contact_stiffness)[1])
        if p.contact_grip.any():                        # friction of gripping points, along t
            J -= _normal_stiffness(S[cb], cp, p.contact_tangent, cen, p.contact_grip)
    if geo.cavity.shape[-2]:
        J += _cavity_stiffness(p, geo, tension, dtension, Fb, Mb)
    J += _point_force_stiffness(S, p.S_inferior, cen, Fb, Mb)
    diag = np.arange(k_p.shape[-1])
    J[..., diag, diag] += k_p
    return J


def _add_point_forces(Fb, Mb, body, pts, force) -> None:
    """Adds world forces (..., n, 2) at points (..., n, 2) on bodies (n,) to the per-body sums of
    the forces Fb (..., n_bodies, 2) and of p·F, Mb (..., n_bodies) (in place)."""
    nb = Fb.shape[-2]
    if force.shape != pts.shape:                    # constant forces at a batch of postures
        force = np.broadcast_to(force, pts.shape)
    Fb += np.stack([_bincount(body, force[..., 0], nb), _bincount(body, force[..., 1], nb)], -1)
    Mb += _bincount(body, np.einsum("...ij,...ij->...i", pts, force), nb)


def _normal_stiffness(Sb, pts, n, cen, k) -> np.ndarray:
    """Σ k v vᵀ (..., n_joints, n_joints) of springs of stiffness k (..., nC) along the unit
    vectors n (nC, 2) at points (..., nC, 2) on bodies whose rows of S are Sb (nC, n_joints):
    v_j = S[b, j] ((p − c_j) × n)_z."""
    v = Sb * ((pts[..., 0] * n[:, 1] - pts[..., 1] * n[:, 0])[..., None]
              - (n[:, 1, None] * cen[..., None, :, 0] - n[:, 0, None] * cen[..., None, :, 1]))
    return (v.swapaxes(-1, -2) * k[..., None, :]) @ v


def _hand_stiffness(p: Problem, cen, hands, Fb, Mb) -> np.ndarray:
    """The hands' part of ∂R/∂q (..., n_joints, n_joints): each spring, τ = −T ∂ℓ/∂q, gives
    −T′ g gᵀ − (T/ℓ) h hᵀ with g_j = ∂ℓ/∂q_j = S[b2, j] ((p2 − c_j) × e) − S[b1, j] ((p1 − c_j) × e)
    and h_j = S[b2, j] e·(p2 − c_j) − S[b1, j] e·(p1 − c_j) (knee p1, shoulder p2, e from p1 to p2),
    as a muscle segment; adds its end forces to the per-body sums Fb, Mb of the constant-force
    term (in place)."""
    body, pts, force, tension, slope, ell, e = hands
    _add_point_forces(Fb, Mb, body, pts, force)
    J = np.zeros(cen.shape[:-1] + cen.shape[-2:-1])
    for k in range(ell.shape[-1]):
        b1, b2 = body[2 * k], body[2 * k + 1]
        r1, r2 = pts[..., 2 * k, None, :] - cen, pts[..., 2 * k + 1, None, :] - cen
        ek = e[..., k, None, :]
        g = p.S[b2] * (r2[..., 0] * ek[..., 1] - r2[..., 1] * ek[..., 0]) - p.S[b1] * (r1[..., 0] * ek[..., 1] - r1[..., 1] * ek[..., 0])
        h = p.S[b2] * _dot(r2, ek) - p.S[b1] * _dot(r1, ek)
        J -= (slope[k] * (g[..., :, None] * g[..., None, :])
              + (tension[..., k, None, None] / ell[..., k, None, None]) * (h[..., :, None] * h[..., None, :]))
    return J


def _cavity_stiffness(p: Problem, geo, tension, dtension, Fb, Mb) -> np.ndarray:
    """The cavity's part of ∂R/∂q (..., n_joints, n_joints), τ = P A ∂ℓ/∂q (docs/model.md §6a):
    its axis turning, (P A / ℓ) h hᵀ with h_j = S[b_D, j] e·(D − c_j) − S[b_F, j] e·(F − c_j), and
    the pressure changing with the wall's tension, A ∂ℓ/∂q (∂P/∂q)ᵀ (zero for a hoop whose length
    does not change with the posture). Adds its end forces, +P A e at the roof D and −P A e at
    the floor F, to the per-body sums Fb, Mb of the constant-force term (in place)."""
    (bf, bd), f, d = p.cavity_body, geo.cavity[..., 0, :], geo.cavity[..., 1, :]
    cen = geo.centres
    push = p.cavity_area * np.asarray(abdominal_pressure(p, tension))[..., None]      # (..., 1) N
    e, ell = _unit(d - f)
    ce = _vecmat(e, cen.swapaxes(-1, -2))                                           # (..., n_joints) c_j · e
    de, fe = _dot(d, e), _dot(f, e)
    h = p.S[bd] * (de[..., None] - ce) - p.S[bf] * (fe[..., None] - ce)
    Fb[..., bd, :] += push * e
    Fb[..., bf, :] -= push * e
    Mb[..., bd] += push[..., 0] * de
    Mb[..., bf] -= push[..., 0] * fe
    dP = _vecmat(p.pressure_gain * dtension, geo.dLdq)
    return (push / ell)[..., None] * (h[..., :, None] * h[..., None, :]) + geo.pressure_arm[..., :, None] * dP[..., None, :]


def _point_force_stiffness(S: np.ndarray, S_inferior: np.ndarray, cen: np.ndarray, Fb: np.ndarray,
                           Mb: np.ndarray) -> np.ndarray:
    """Σ_n F_n · ∂²p_n/∂q∂q (..., n_joints, n_joints) of constant world forces, given per body b
    the sum of the forces Fb (..., n_bodies, 2) and of p·F, Mb (..., n_bodies); joint centres cen
    (..., n_joints, 2); S_inferior = S of each joint's inferior body, which moves the joint's centre.

    ∂²p/∂q_j∂q_k = −S[b, j] (S[b, k] (p − c_k) − S[i(j), k] (c_j − c_k)), hence
    K = −Sᵀ diag(Mb) S + Sᵀ (S ∘ (Fb cᵀ)) + S_inferior ∘ (G_j · c_j − G_j · c_k), G = Sᵀ Fb.
    """
    G = S.T @ Fb
    cT = cen.swapaxes(-1, -2)
    K = S.T @ (S * (Fb @ cT - Mb[..., None]))
    K += S_inferior * (np.einsum("...ij,...ij->...i", G, cen)[..., None] - G @ cT)
    return K


# -------------------------------------------------------------------------------------------
# the free coordinates u of the support: q = q_c + B u
def joint_angles(problem: Problem, u: np.ndarray) -> np.ndarray:
    """The joint angles q (..., n_joints) of free coordinates u (..., n_free)."""
    return problem.q_c + kin.rows(problem.B, u)


def free_coordinates(problem: Problem, q: np.ndarray) -> np.ndarray:
    """The free coordinates u (..., n_free) closest to joint angles q (..., n_joints) (exact when q
    satisfies the support's constraint): u = Bᵀ (q − q_c), B's columns being the unit vectors of
    the free joints (`problem._support_arrays`: Bᵀ B = I, so this is B's least-squares inverse)."""
    return kin.rows(problem.B.T, np.asarray(q, float) - problem.q_c)


def reduced_residual(problem: Problem, u: np.ndarray) -> np.ndarray:
    """Bᵀ R (..., n_free) at free coordinates u (..., n_free)."""
    return kin.rows(problem.B.T, residual(problem, joint_angles(problem, u)))


def reduced_jacobian(problem: Problem, u: np.ndarray) -> np.ndarray:
    """∂(Bᵀ R)/∂u = Bᵀ (∂R/∂q) B (..., n_free, n_free), analytic (`jacobian`)."""
    return problem.B.T @ jacobian(problem, joint_angles(problem, u)) @ problem.B


def reduced_jacobian_fd(problem: Problem, u: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂(Bᵀ R)/∂u by central differences of the generalized forces (n_free, n_free): the check
    of `reduced_jacobian` (2 n_free evaluations of the generalized forces)."""
    n = len(u)
    J = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        J[:, i] = (reduced_residual(problem, u + e) - reduced_residual(problem, u - e)) / (2 * h)
    return J


def _reduced_state(p: Problem, u: np.ndarray):
    """Bᵀ R at u (..., n_free), a function that returns ∂(Bᵀ R)/∂u at u from the same evaluation of
    the geometry (the solver needs the Jacobian only at accepted steps), and the generalized
    forces by source with the tensions and the geometry (as `generalized_forces` gives them)."""
    q = joint_angles(p, u)
    geo, seg = geometry_with_segments(p, q)
    taus, tension, dtension, k_p, loads, contact = force_sources(p, q, geo, True)
    R = sum(taus[1:], taus[0])

    def reduced_jac():
        return p.B.T @ point_and_muscle_jacobian(p, geo, seg, tension, dtension, k_p, loads, contact) @ p.B
    return kin.rows(p.B.T, R), reduced_jac, _by_source(p, taus, tension, geo)


# -------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class EquilibriumResult:
    """Outcome of a forward equilibrium solve (see `biomech.results` for the derived outputs)."""

    problem: Problem
    q: np.ndarray
    code: Status
    stable: bool | None
    message: str
    max_residual_Nm: float
    iterations: int
    stiffness_eigenvalues: np.ndarray = field(repr=False)
    geometry: Geometry | None = field(default=None, repr=False, compare=False)  # at q, if known
    sources: dict | None = field(default=None, repr=False, compare=False)   # `generalized_forces` at q, if known

    @property
    def converged(self) -> bool:
        """An equilibrium was found within the physiological range (stable or not)."""
        return self.code in (Status.SOLVED, Status.UNSTABLE)

    @property
    def success(self) -> bool:
        return self.code is Status.SOLVED

    def raise_for_status(self) -> "EquilibriumResult":
        if not self.success:
            raise ConvergenceError(self.message)
        return self


def result_geometry(result) -> Geometry:
    """The geometry at a result's posture ``result.q``: the one its solver kept if it is at that
    posture, else computed."""
    geo = getattr(result, "geometry", None)
    if geo is None or not np.array_equal(geo.q, result.q):
        geo = geometry(result.problem, result.q)
    return geo


def range_violation(problem: Problem, q: np.ndarray) -> str | None:
    """A message naming the joint farthest outside its physiological range, or None."""
    low = q < problem.q_low - 1e-12
    high = q > problem.q_high + 1e-12
    if not (low.any() or high.any()):
        return None
    mid = 0.5 * (problem.q_low + problem.q_high)
    half = 0.5 * (problem.q_high - problem.q_low)
    j = int(np.argmax(np.abs(q - mid) / half))
    name = problem.model.joints[j]
    if j == problem.origin_joint:
        direction = "hip extension (posterior pelvic tilt)" if q[j] > problem.q_high[j] else "hip flexion"
    else:
        direction = "extension" if q[j] > problem.q_high[j] else "flexion"
    deg = math.degrees
    return (f"no equilibrium within the physiological range: {name} collapsed into {direction} "
            f"({deg(q[j]):+.1f}°, range {deg(problem.q_low[j]):+.1f}° to {deg(problem.q_high[j]):+.1f}°)")


def _implausible(problem: Problem, q: np.ndarray, geo: Geometry) -> tuple[Status, str] | None:
    """(status, message) if an equilibrium at q (geometry ``geo``) is outside the physiological
    range or not balanced on its support (`balance.unbalanced`); else None."""
    out = range_violation(problem, q)
    if out is not None:
        return Status.COLLAPSED, out
    fell = unbalanced(problem, reaction(problem, geo))
    if fell is not None:
        return Status.FALLEN, fell
    return None


def landmark(problem: Problem, geo: Geometry, name: str) -> np.ndarray:
    """World position (2,) of a named landmark of the model at a posture."""
    return landmarks(problem, geo, (name,))[0]


def landmarks(problem: Problem, geo: Geometry, names) -> np.ndarray:
    """World positions (n, 2) of named landmarks of the model at a posture."""
    lm = problem.model.landmarks
    body = np.array([lm[n][0] for n in names], int)
    local = np.array([lm[n][1] for n in names], float)
    return kin.points_world(geo.angles, geo.origins, body, local)


def trunk_inclination_deg(problem: Problem, geo: Geometry) -> float:
    """The T12/L1 → C7 line against the vertical (deg, + forward; conventions §3)."""
    c7, t12 = landmarks(problem, geo, ("C7", "T12_L1_centre"))
    w = c7 - t12
    return math.degrees(math.atan2(w[0], w[1]))


class _Descent(NamedTuple):
    u: np.ndarray
    R: np.ndarray
    norm: float                 # max |R|
    iterations: int
    converged: bool
    collapse: str | None        # message if the iteration left the physiological range
    jacobian: Callable[[], np.ndarray]   # () -> ∂(Bᵀ R)/∂u at u
    sources: dict               # `generalized_forces` at u


#: The largest change of any free coordinate in one Newton step (rad, ~6°).
MAX_STEP_RAD = 0.1
#: The shortest fraction of a rejected step tried along it (`ray_fraction`).
RAY_MIN_FRACTION = 0.1
#: Shifts tried in one iteration before it gives up (μ doubling from the first).
STEP_TRIALS = 40
#: How far beyond its physiological range (rad, ~20°) a joint may go while iterating.
RANGE_MARGIN_RAD = 0.35


def first_shift(Ks: np.ndarray):
    """The first shift μ (...) of an iteration and the scale (...) of the symmetric stiffness
    matrices Ks (..., n, n): μ = 0 where Ks is positive definite (its smallest eigenvalue above
    1e-8 of its largest diagonal), else μ = −λ_min + 1e-3 scale; scale = max(1, max |diag|).
    A rejected step doubles μ and adds 1e-2 scale."""
    lam_min = np.linalg.eigvalsh(Ks)[..., 0]
    scale = np.maximum(1.0, np.abs(np.diagonal(Ks, axis1=-2, axis2=-1)).max(-1))
    return np.where(lam_min > 1e-8 * scale, 0.0, -lam_min + 1e-3 * scale), scale


def lowers_energy(R, R_new, du, norm, tol):
    """Whether steps du (..., n) from residuals R (..., n) of largest component ``norm`` (...) to
    residuals R_new (..., n) are taken (...): the trapezoidal work ½ (R + R_new)·du > 0 (they lower
    the potential energy), or they reach a residual below min(norm, 10 tol) (near the answer the
    work is rounding)."""
    work = 0.5 * np.einsum("...i,...i->...", R + R_new, du)
    return (work > 0.0) | (np.abs(R_new).max(-1) < np.minimum(norm, 10 * tol))


def ray_fraction(R, R_new, du):
    """The fractions (...) of rejected steps du (..., n) at which the energy is least along them
    where the force along each turned, R·du > 0 > R_new·du (the energy fell, then rose): the
    zero of the force along the step interpolated linearly between its ends, s0 / (s0 − s1),
    at least `RAY_MIN_FRACTION`; NaN where the force did not turn (a shift must shorten it).
    Measured: psoas 300 N from the reference posture, 11 → 8 evaluations (its first capped
    steps overshot the energy's minimum along them fivefold)."""
    s0, s1 = np.einsum("...i,...i->...", R, du), np.einsum("...i,...i->...", R_new, du)
    turned = (s0 > 0.0) & (s1 < 0.0)
    return np.where(turned, np.maximum(s0 / np.where(turned, s0 - s1, 1.0), RAY_MIN_FRACTION), np.nan)


def capped_step(du: np.ndarray) -> np.ndarray:
    """Steps du (..., n) shortened to at most `MAX_STEP_RAD` in any coordinate (in place)."""
    step = np.abs(du).max(-1, keepdims=True)
    np.multiply(du, MAX_STEP_RAD / np.maximum(step, 1e-300), out=du, where=step > MAX_STEP_RAD)
    return du


def left_range(problem: Problem, q: np.ndarray):
    """Whether postures q (..., n_joints) lie more than `RANGE_MARGIN_RAD` outside the
    physiological range at any joint (the iteration stops: collapsed)."""
    return np.any((q < problem.q_low - RANGE_MARGIN_RAD) | (q > problem.q_high + RANGE_MARGIN_RAD), axis=-1)


def _descend(problem: Problem, u: np.ndarray) -> _Descent:
    """Levenberg-shifted Newton iteration on the generalized forces, accepting only steps that
    lower the total potential energy (all forces derive from one, docs/model.md §8).

    Each step solves (K + μI) du = R with K = −∂R/∂u the stiffness matrix and μ ≥ 0 the
    smallest shift that makes K + μI positive definite (μ = 0: a pure Newton step), at most
    `MAX_STEP_RAD` long. The energy change along a step is the trapezoidal work
    −½ (R(u) + R(u + du))·du (`lowers_energy`). A step that does not lower it, but past which
    the force along it has turned, is tried once more shortened to where that force,
    interpolated, vanishes (`ray_fraction`: the least energy along it); a step still rejected
    grows μ (μ → 2μ + 1e-2 scale, a shorter step turned towards the force). The iteration
    therefore moves downhill and converges to a stable equilibrium where one exists, and away
    from saddles.

    The Jacobian comes with each evaluation of the residual (`_reduced_state`) and is computed
    only at the accepted points.
    """
    tol = problem.tolerance_Nm
    R, jac, at = _reduced_state(problem, u)
    norm = float(np.abs(R).max())
    eye = np.eye(len(u))
    for it in range(problem.max_iterations + 1):
        if norm < tol:
            return _Descent(u, R, norm, it, True, None, jac, at)
        if it == problem.max_iterations:
            break
        K = -jac()
        Ks = 0.5 * (K + K.T)
        mu, scale = (float(x) for x in first_shift(Ks))
        accepted = False
        for _ in range(STEP_TRIALS):
            du = capped_step(np.linalg.solve(Ks + mu * eye if mu else Ks, R))
            R_new, jac_new, at_new = _reduced_state(problem, u + du)
            accepted = bool(lowers_energy(R, R_new, du, norm, tol))
            if not accepted and np.isfinite(alpha := ray_fraction(R, R_new, du)):
                du = alpha * du
                R_new, jac_new, at_new = _reduced_state(problem, u + du)
                accepted = bool(lowers_energy(R, R_new, du, norm, tol))
            if accepted:
                break
            mu = 2.0 * mu + 1e-2 * scale
        if not accepted:
            break
        u, R, norm, jac, at = u + du, R_new, float(np.abs(R_new).max()), jac_new, at_new
        q = joint_angles(problem, u)
        if left_range(problem, q):
            return _Descent(u, R, norm, it + 1, False, range_violation(problem, q), jac, at)
    return _Descent(u, R, norm, it, norm < tol, None, jac, at)


@one_blas_thread
def floor_constraints(problem: Problem, geo: Geometry):
    """The closed chain of a second foot on the floor (`Problem.floor_body`: heel, forefoot):
    c (3,) m, where the heel (x, y) and the forefoot (y) are from where the floor holds them (in
    the support's frame: the world's origin follows the hip), and
    C = ∂c/∂q (3, n_joints), ∂p/∂q_j = S[b, j] ẑ × (p − c_j). The floor's forces on the foot, heel
    (F_x, F_y) and forefoot (0, F_y), give the generalized force Cᵀ (F_x, F_y, F_y′)."""
    pts = kin.points_world(geo.angles, geo.origins, problem.floor_body, problem.floor_local)
    r = pts[:, None, :] - geo.centres[None, :, :]                          # (2, n_joints, 2)
    dp = problem.S[problem.floor_body][:, :, None] * np.stack([-r[..., 1], r[..., 0]], -1)
    held = pts - geo.shift - problem.floor_anchor           # in the support's frame (the root's)
    c = np.array([held[0, 0], held[0, 1], held[1, 1]])
    return c, np.stack([dp[0, :, 0], dp[0, :, 1], dp[1, :, 1]])


def constant_force_stiffness(problem: Problem, geo: Geometry, body, pts, force) -> np.ndarray:
    """∂τ/∂q (n_joints, n_joints) of constant world forces ``force`` (n, 2) at points ``pts``
    (n, 2) fixed in bodies ``body`` (n,) (`_point_force_stiffness`)."""
    Fb = np.zeros(pts.shape[:-2] + (problem.mass.shape[-1], 2))
    Mb = np.zeros(Fb.shape[:-1])
    _add_point_forces(Fb, Mb, body, pts, force)
    return _point_force_stiffness(problem.S, problem.S_inferior, geo.centres, Fb, Mb)


def refuse_closed_chain(problem: Problem, mode: str) -> None:
    """`ModelError` for a problem with a second foot on the floor (`Problem.floor_body`): only
    the upright mode solves that closed chain, the floor's forces on that foot unknowns of its
    programme."""
    if len(problem.floor_body):
        raise ModelError(f"{mode} does not solve both feet on the floor (a closed chain through the floor): "
                         "use the default (upright) mode, or stand on one foot with the other leg kneeling "
                         "or lifted")


def solve_equilibrium(model=None, *, problem: Problem | None = None,
                      q0: np.ndarray | None = None, **prepare_kwargs) -> EquilibriumResult:
    """Find the static equilibrium posture (docs/model.md §8).

    Parameters
    ----------
    model : the model (or give a prepared ``problem``).
    q0 : (n_joints,) initial joint angles (rad); default: the support's reference posture.
    **prepare_kwargs : support, settings, loads, short_range_stiffness, ... (see `prepare`).

    Returns
    -------
    EquilibriumResult with code, converged, stable, message, max_residual_Nm, iterations.
    """
    if problem is None:
        if model is None:
            raise ModelError("solve_equilibrium needs a model or a prepared problem")
        problem = prepare(model, **prepare_kwargs)
    elif prepare_kwargs or model is not None:
        raise ModelError("give either a prepared problem or a model with preparation arguments, not both")
    refuse_closed_chain(problem, "the equilibrium mode")
    nj = problem.model.n_joints
    q_start = problem.q_ref if q0 is None else np.asarray(q0, float)
    if q_start.shape != (nj,) or not np.all(np.isfinite(q_start)):
        raise ModelError(f"q0 must be {nj} finite joint angles (rad), got {q0!r}")
    u = free_coordinates(problem, q_start)
    d = _descend(problem, u)
    u, norm, it, converged, collapse, at = d.u, d.norm, d.iterations, d.converged, d.collapse, d.sources
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
                        _implausible(problem, joint_angles(problem, alt.u), alt.sources["geometry"]) is not None:
                    continue
                K2 = -alt.jacobian()
                distance = float(np.linalg.norm(alt.u - u))
                if np.linalg.eigvalsh(0.5 * (K2 + K2.T))[0] > 0 and (best is None or distance < best[0]):
                    best = (distance, alt, K2)
            if best is not None:
                _, alt, K = best
                u, norm, at = alt.u, alt.norm, alt.sources
    return equilibrium_result(problem, u, norm, it, converged, collapse, at, K)


def equilibrium_result(problem: Problem, u: np.ndarray, norm: float, iterations: int, converged: bool,
                       collapse: str | None, at: dict, K: np.ndarray | None) -> EquilibriumResult:
    """The `EquilibriumResult` of where an iteration ended: free coordinates u, largest residual
    ``norm``, whether it converged, the collapse message if it left the physiological range, the
    generalized forces by source ``at`` and, converged, the stiffness matrix K there. Classifies
    it: collapsed, not converged, fallen (`_implausible`), unstable or solved."""
    q = joint_angles(problem, u)
    eig = np.full(problem.n_free, np.nan)
    stable = None
    if collapse is not None:
        code, message = Status.COLLAPSED, collapse
    elif not converged:
        out = range_violation(problem, q)
        code, message = (Status.COLLAPSED, out) if out else (
            Status.NOT_CONVERGED, f"did not converge in {problem.max_iterations} iterations "
                                  f"(largest residual {norm:.3g} N·m)")
    else:
        code, message = _implausible(problem, q, at["geometry"]) or (None, "")
    if code is None:
        w, v = np.linalg.eigh(0.5 * (K + K.T))
        eig = w
        stable = bool(w[0] > 1e-9 * max(1.0, abs(w[-1])))
        if stable:
            code, message = Status.SOLVED, "converged to a stable equilibrium"
        else:
            mode = problem.B @ v[:, 0]
            dominant = [problem.model.joints[i] for i in np.argsort(-np.abs(mode))[:2]]
            code = Status.UNSTABLE
            message = (f"the equilibrium is unstable: the stiffness matrix has a negative "
                       f"eigenvalue ({w[0]:.3g} N·m/rad), mode dominated by {', '.join(dominant)}")
    return EquilibriumResult(problem=problem, q=q, code=code, stable=stable, message=message,
                             max_residual_Nm=norm, iterations=iterations, stiffness_eigenvalues=eig,
                             geometry=at["geometry"], sources=at)

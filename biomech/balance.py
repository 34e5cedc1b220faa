"""Balance on the support: what the floor or the table does on the root body.

The support holds one body, the root: the feet standing and sitting (flat on the floor), the
middle thorax lying (on the table). Its reaction is whatever keeps the whole body in
equilibrium, R = −Σ F_ext (weights, loads, the other contacts: seat, backrest, table) with
moment M = −Σ (p − a) × F_ext about the patch's first point a. The surface pushes only, at the
two ends a and b of the root's resting patch (heel and metatarsal heads; the back of the middle
thorax at T8 and at T5), along the surface's normal n, with friction T along it
(docs/model.md §7):

    N_b = M / L,   N_a = R · n − N_b,   T = R · t,   L = ((b − a) × n)_z,  t = (n_y, −n_x),

and the centre of pressure lies L N_b / (N_a + N_b) from a. A posture is balanced when both
normal forces are ≥ 0 (the centre of pressure within the patch; lying, where the whole back is
on the table, their sum: `balance_margins`); otherwise the body tips over the toes or the heels,
or (sitting) the feet lift off the floor, or (lying) the back lifts off the table.

For a constant force F at point p of body b, ∂p/∂q_j = S[b, j] ẑ × (p − c_j) and
∂(p × F)_z/∂q_j = −S[b, j] (p − c_j) · F, which gives the gradients the upright mode's balance
constraint uses (`reaction_gradient`); the contact forces change with the penetration as well
(`supports.contact_law`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kinematics as kin
from .external import contact_forces, contact_state, floor_state, load_forces
from .supports import contact_law

#: A normal force above −this fraction of the body weight is zero (rounding), not a lift-off.
BALANCE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class RootPatch:
    """Where the root body rests on its support: landmarks ``a`` and ``b`` of the root, lying on
    the surface with outward normal ``normal`` (world) in the reference posture."""

    a: str
    b: str
    normal: tuple[float, float]


def root_patch(support, leg: str = "") -> RootPatch:
    """The resting patch of a support's root (`supports.reference_posture`); standing and
    sitting the heel and forefoot of the root's foot, whose leg has the name suffix ``leg``
    (`supports.Support.root_leg`)."""
    if support.kind == "lying" and support.lying_on == "front":
        return RootPatch("thorax_middle_front_inferior", "thorax_middle_front_superior", (-1.0, 0.0))
    if support.kind == "lying" and support.bridge:          # the upper back, the pelvis lifted
        return RootPatch("thorax_upper_back_inferior", "thorax_upper_back_superior", (1.0, 0.0))
    if support.kind == "lying":
        return RootPatch("thorax_middle_back_inferior", "thorax_middle_back_superior", (1.0, 0.0))
    return RootPatch("heel" + leg, "forefoot" + leg, (0.0, 1.0))


#: A support normal force below this (N, the weight of 50 g) is no load: its centre of pressure
#: is undefined. Far below any load a foot carries in standing or sitting with the feet on the
#: floor (tens of N at least), far above the solver's round-off (1e-9 N).
NO_LOAD_N = 0.5


@dataclass(frozen=True)
class Reaction:
    """The support's reaction on the root body at one posture."""

    a_N: float               # normal force at the patch's first end (heels; the back at T8), N
    b_N: float               # at its second end (forefeet; the back at T5), N
    friction_N: float        # along the surface, t = (n_y, −n_x) (standing: + anterior), N
    a: np.ndarray            # (2,) world positions of the two ends (m)
    b: np.ndarray
    normal: np.ndarray       # (2,)

    @property
    def normal_N(self) -> float:
        return self.a_N + self.b_N

    @property
    def force(self) -> np.ndarray:
        """(2,) total force of the support on the root (N)."""
        t = np.array([self.normal[1], -self.normal[0]])
        return self.normal_N * self.normal + self.friction_N * t

    @property
    def centre_of_pressure(self) -> np.ndarray:
        """(2,) world point on the surface (m); NaN when it carries no load (less than
        `NO_LOAD_N`: the feet of a person sitting with the whole weight on the seat carry only
        the solver's round-off, whose centre of pressure means nothing)."""
        n = self.normal_N
        if n < NO_LOAD_N:
            return np.full(2, np.nan)
        return self.a + (self.b - self.a) * (self.b_N / n)


def _ends(problem, geo):
    lm = problem.model.landmarks
    names = (problem.patch.a, problem.patch.b)
    body = np.array([lm[n][0] for n in names], int)
    local = np.array([lm[n][1] for n in names], float)
    return kin.points_world(geo.angles, geo.origins, body, local)


def _constant_forces(problem, geo, loads=None, floor=None):
    """Bodies, world points and forces of the weights and the loads, and ``floor``: (bodies,
    points, forces) of further constant forces (the floor's on a second foot)."""
    nb = len(problem.mass)
    body, pts, force = [np.arange(nb)], [geo.com], [problem.weight]
    if len(problem.load_body):
        lp, lf = loads if loads is not None else load_forces(problem, geo)
        body.append(problem.load_body), pts.append(lp), force.append(lf)
    if floor is not None:
        for v, lst in zip(floor, (body, pts, force)):
            lst.append(v)
    return np.concatenate(body), np.concatenate(pts), np.concatenate(force)


def reaction(problem, geo, loads=None, contact=None) -> Reaction:
    """The support's reaction on the root at a geometry (`statics.geometry`)."""
    a, b = _ends(problem, geo)
    n = np.asarray(problem.patch.normal, float)
    _, pts, force = _constant_forces(problem, geo, loads)
    if contact is not None or len(problem.contact_body) or len(problem.hand_body) or len(problem.floor_body):
        _, cp, cf = contact[:3] if contact is not None else contact_forces(problem, geo)
        pts, force = np.concatenate([pts, cp]), np.concatenate([force, cf])
    R = -force.sum(0)
    r = pts - a
    M = -float(np.sum(r[:, 0] * force[:, 1] - r[:, 1] * force[:, 0]))
    L = float((b - a)[0] * n[1] - (b - a)[1] * n[0])
    n_b = M / L
    return Reaction(a_N=float(R @ n - n_b), b_N=float(n_b), friction_N=float(R[0] * n[1] - R[1] * n[0]),
                    a=a, b=b, normal=n)


def reaction_gradient(problem, geo, contact=None, floor=None) -> np.ndarray:
    """∂(N_a, N_b)/∂q (2, n_joints) at a geometry (the root, and so its patch, is fixed);
    ``floor``: (bodies, points, forces) of the floor on a second foot, default the problem's
    (`external.floor_state`)."""
    a, b = _ends(problem, geo)
    n = np.asarray(problem.patch.normal, float)
    L = float((b - a)[0] * n[1] - (b - a)[1] * n[0])
    cen, S = geo.centres, problem.S
    if floor is None and len(problem.floor_body):
        floor = floor_state(problem, geo)
    body, pts, force = _constant_forces(problem, geo, floor=floor)
    if len(problem.contact_body):
        cb, cp, cf, pen = contact if contact is not None else contact_state(problem, geo)
        body, pts, force = np.concatenate([body, cb]), np.concatenate([pts, cp]), np.concatenate([force, cf])

    def dot_r(points, f, bodies):         # Σ S[b, j] (p − c_j) · F, (n_joints,)
        return np.einsum("nj,nj->j", S[bodies], (points[:, None, 0] - cen[None, :, 0]) * f[:, None, 0]
                         + (points[:, None, 1] - cen[None, :, 1]) * f[:, None, 1])
    # the forces at their current values, moved with their points: ∂M/∂q_j = Σ S[b, j] (p − c_j) · F
    dM = dot_r(pts, force, body)
    dR = np.zeros((len(cen), 2))
    if len(problem.contact_body):
        # and the contact forces' change with the penetration: F = F(pen) m, ∂pen/∂q_j = −m · ∂p/∂q_j
        # = −S[b, j] ((p − c_j) × m)_z, so ∂F/∂q_j = −F′ S[b, j] ((p − c_j) × m)_z m
        m = problem.contact_normal
        k = contact_law(pen, problem.contact_stiffness)[1]
        cross = ((cp[:, None, 0] - cen[None, :, 0]) * m[:, None, 1]
                 - (cp[:, None, 1] - cen[None, :, 1]) * m[:, None, 0])            # (nC, n_joints)
        dF = (-k[:, None] * S[cb] * cross)[:, :, None] * m[:, None, :]           # (nC, n_joints, 2)
        if problem.contact_grip.any():       # a gripping point's friction, F = −k_g (p·t − a) t
            t = problem.contact_tangent
            cross_t = ((cp[:, None, 0] - cen[None, :, 0]) * t[:, None, 1]
                       - (cp[:, None, 1] - cen[None, :, 1]) * t[:, None, 0])
            dF = dF + (-problem.contact_grip[:, None] * S[cb] * cross_t)[:, :, None] * t[:, None, :]
        r = cp - a
        dM -= np.einsum("nj->j", r[:, None, 0] * dF[..., 1] - r[:, None, 1] * dF[..., 0])
        dR = -dF.sum(0)
    d_b = dM / L
    return np.stack([dR @ n - d_b, d_b])


def reaction_per_force(problem, geo, pts: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """∂(N_a, N_b)/∂F (2, k) of the root's normal forces on unit forces along ``directions``
    (k, 2) at points ``pts`` (k, 2) (the reaction is linear in them: R = −Σ F, M = −Σ (p − a) × F)."""
    a, b = _ends(problem, geo)
    n = np.asarray(problem.patch.normal, float)
    L = float((b - a)[0] * n[1] - (b - a)[1] * n[0])
    r = pts - a
    d_b = -(r[:, 0] * directions[:, 1] - r[:, 1] * directions[:, 0]) / L
    return np.stack([-(directions @ n) - d_b, d_b])


def centre_of_mass(problem, geo) -> np.ndarray:
    """(2,) world position of the whole body's centre of mass (m)."""
    return (problem.mass[:, None] * geo.com).sum(0) / problem.mass.sum()


def balance_margins(problem, r: Reaction) -> np.ndarray:
    """The normal forces that must not be negative (N): standing and sitting both ends of the
    foot (the centre of pressure within it); lying their sum only, since the middle of the back
    rests on a broad table that takes a moment (the centre of pressure may lie beyond the 9 cm
    between T8 and T5, on the rest of the back)."""
    if problem.support.kind == "lying":
        return np.array([r.a_N + r.b_N])
    return np.array([r.a_N, r.b_N])


def balance_checked(problem) -> bool:
    """Whether the support's reaction must push: always, but sitting with the knees held (the
    equilibrium mode's experiment), where the seat holds the legs and the feet's reaction is
    part of that hold, and lying on the side, where nothing pushes in the plane (the reaction
    is zero: no sagittal external force)."""
    return not (problem.support.kind == "sitting" and "knee" in problem.locked) and not problem.support.side_lying


def unbalanced(problem, r: Reaction) -> str | None:
    """A message if the support would have to pull on the root (the body tips over, the feet
    lift off the floor, the back off the table), else None."""
    tol = BALANCE_TOLERANCE * float(np.abs(problem.weight).sum())
    if not balance_checked(problem) or balance_margins(problem, r).min() >= -tol:
        return None
    a, b = r.a_N, r.b_N
    lying = problem.support.kind == "lying"
    if a < -tol and b < -tol:
        part = "front" if problem.support.lying_on == "front" else "back"
        what = f"the {part} lifts off the table" if lying else "the feet lift off the floor"
        return f"{what} (the support would have to pull with {-(a + b):.3g} N)"
    if lying:
        middle = "chest" if problem.support.lying_on == "front" else "middle back"
        side = f"pivots on the {'upper' if a < -tol else 'lower'} end of the {middle}"
    else:
        side = "tips forward over the toes" if a < -tol else "tips backward over the heels"
    return (f"no balance on the support: the body {side} (the centre of pressure is outside the "
            f"{('chest' if problem.support.lying_on == 'front' else 'back') if lying else 'foot'}; "
            f"the support would have to pull with {-min(a, b):.3g} N)")

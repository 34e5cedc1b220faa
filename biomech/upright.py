"""The `upright` mode, the default: posture and activations solved together (docs/model.md §12).

The scenario prescribes some muscles (a tension, an activation, a shortened resting length)
and what the person keeps: the gaze level (the head's Frankfort plane horizontal) by default,
or any of a trunk inclination, an SVA, a thorax orientation, a thigh inclination, a knee
flexion. Standing and sitting, the body must also balance on its feet: the floor pushes on the
heels and the forefeet only (`balance`). The other muscles are recruited by an effort criterion
that counts the passive tissues too (`recruitment.Criterion`, `tissues`). biomech finds the
posture q and the activations a that hold it with least effort,

    min_(q, a)  ½ Σ a² (or the stress criterion) + w · ½ Σ_j (M_passive,j(q) / M_ref,j)²
    subject to  equilibrium at every joint, the targets, N_heel ≥ 0, N_forefoot ≥ 0,
                0 ≤ a ≤ 1, q within the physiological ranges,

(with two feet on the floor, the floor's forces f on the second foot are unknowns too, the foot
held on the floor, docs/model.md §7),

solved by Newton steps over the posture alone, the activations of each posture by the dual
Newton method (`reduced_value`, `sqp`), or as one nonlinear programme over posture and
activations (SLSQP with exact derivatives, `_solve_slsqp`) where Newton does not apply or
stops short (`solve_upright`'s ``method``). The answer has no hidden reserve
actuators: if no posture can be held, the result says which joint falls short by how many N·m
and is not converged (exit code 1).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import kinematics as kin
from .balance import balance_checked, balance_margins, reaction, reaction_gradient, reaction_per_force
from .errors import ModelError
from .external import contact_state
from .inverse import recruited_result
from .metrics import endplates
from .least_effort import least_effort_dual
from .passive import intervertebral_curvature
from .recruitment import (SHORTFALL_TOL_NM, Criterion, HeldTerms, free_lines, half_squared_p_norm, held_balance,
                          held_jacobian, held_terms, recruit, recruitment_of)
from .sqp import Point, newton_sqp
from .statics import (constant_force_stiffness, floor_constraints, free_coordinates, landmark, passive_moments,
                      skeleton, solve_equilibrium)
from .status import Status
from .threads import one_blas_thread, scipy_optimize
from .tissues import tissue_cost, tissue_curvature
from .units import DEG_PER_RAD

#: rad per unit of the posture variables SLSQP sees (`solve_upright`); 3-30 rad took the same
#: iterations, 1 rad 20 % more
POSTURE_UNIT = 10.0
TARGETS = ("head_angle_deg", "trunk_inclination_deg", "sagittal_vertical_axis_mm", "thorax_angle_deg",
           "thigh_inclination_deg", "knee_flexion_deg", "pelvic_tilt_deg")
#: mm of SVA per degree of the other targets in the constraint scaling
_SCALE = {"sagittal_vertical_axis_mm": 0.05}
#: Per m of a second foot's distance from where the floor holds it, in the constraint scaling
#: (1 cm counts as 1)
FLOOR_SCALE = 100.0
#: The floor's unknown forces on a second foot, f = (heel F_x, heel F_y, forefoot F_y): their
#: points (0 heel, 1 forefoot) and directions
_FLOOR_POINT, _FLOOR_DIRECTION = np.array([0, 0, 1]), np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])


def _floor_forces(f: np.ndarray) -> np.ndarray:
    """(2, 2) world forces at the heel and the forefoot of the floor's unknowns f (3,) N."""
    return np.array([[f[0], f[1]], [0.0, f[2]]])


@dataclass(frozen=True)
class UprightTarget:
    """What the person keeps (each an equality; any combination; conventions §3 signs):

    head_angle_deg : the head's Frankfort plane against the horizontal (+ face up); the
        default when nothing is given, at 0 (gaze level), standing and sitting;
    trunk_inclination_deg : the T12/L1 → C7 line against the vertical (+ forward);
    sagittal_vertical_axis_mm : C7 plumb line to the posterior-superior corner of S1 (+ anterior);
    thorax_angle_deg : the middle thoracic segment against its reference orientation
        (+ counter-clockwise, i.e. leaning back);
    thigh_inclination_deg : the hip → knee line against the vertical (+ knee forward);
    knee_flexion_deg : the knee coordinate (+ flexed; a knee held bent);
    pelvic_tilt_deg : the pelvic tilt (a pelvis tilted on purpose, as in Levine & Whittle's
        voluntary tilts).

    Lying, nothing is kept by default: the table holds the body. Sitting, the thigh inclination
    of the support is kept unless given.
    """

    head_angle_deg: float | None = None
    trunk_inclination_deg: float | None = None
    sagittal_vertical_axis_mm: float | None = None
    thorax_angle_deg: float | None = None
    thigh_inclination_deg: float | None = None
    knee_flexion_deg: float | None = None
    pelvic_tilt_deg: float | None = None

    def kept(self, support) -> dict[str, float]:
        """{target name: value} the person keeps on this support: the targets given, or the
        gaze level; sitting, the thighs also stay on the seat at the support's inclination
        (else the least effort would be to stand up)."""
        given = {k: float(getattr(self, k)) for k in TARGETS if getattr(self, k) is not None}
        if not given and support.kind != "lying":
            given = {"head_angle_deg": 0.0}
        if support.kind == "sitting":
            given.setdefault("thigh_inclination_deg", support.thigh_deg)
        return given


def target_value(problem, q: np.ndarray, kind: str) -> float:
    """A target quantity at posture q (deg or mm)."""
    return target_and_gradient(problem, skeleton(problem, q), kind)[0]


def point_jacobian(problem, geo, body: int, p: np.ndarray) -> np.ndarray:
    """∂p/∂q (2, n_joints) of a point p (2,) fixed in a body: S[b, j] ẑ × (p − c_j)."""
    r = p[None, :] - geo.centres
    return problem.S[body][None, :] * np.stack([-r[:, 1], r[:, 0]])


def target_and_gradient(problem, geo, kind: str) -> tuple[float, np.ndarray]:
    """A target quantity at a geometry (deg or mm) and its gradient ∂/∂q (n_joints,), from the
    angle sensitivities S of the bodies: a body angle changes by S[b, j] per unit q_j and a point
    p of body b moves by S[b, j] ẑ × (p − c_j) (docs/model.md §4)."""
    m, S = problem.model, problem.S
    kind, sfx = leg_target(m, kind)
    if kind == "head_angle_deg":
        b, a = m.plates["Frankfort"]
        return (geo.angles[b] + a) * DEG_PER_RAD, S[b] * DEG_PER_RAD
    if kind == "thorax_angle_deg":
        b = m.body_index("thorax_middle")
        ref = skeleton(problem, problem.q_ref).angles[b]
        return (geo.angles[b] - ref) * DEG_PER_RAD, S[b] * DEG_PER_RAD
    if kind == "pelvic_tilt_deg":
        # the hip centre and S1 are points of the pelvis (the hip centre also of the femur): PT
        # turns one for one with the pelvis, + counter-clockwise
        b = m.body_index("pelvis")
        hip, s1 = landmark(problem, geo, "hip_centre"), landmark(problem, geo, "S1_midpoint")
        v = hip - s1
        return math.degrees(math.atan2(v[0], -v[1])), S[b] * DEG_PER_RAD
    if kind in ("knee_flexion_deg", "hip_flexion_deg"):
        j = m.joint_index(kind.split("_")[0] + sfx)
        sign = 1.0 if kind == "knee_flexion_deg" else -1.0       # hip flexion = −q_hip
        return sign * geo.q[j] * DEG_PER_RAD, sign * np.eye(m.n_joints)[j] * DEG_PER_RAD
    if kind == "thigh_inclination_deg":
        b = m.body_index("femur" + sfx)
        w = landmark(problem, geo, "knee" + sfx) - geo.centres[m.joint_index("hip" + sfx)]
        return math.degrees(math.atan2(w[0], -w[1])), S[b] * DEG_PER_RAD
    c7_body = m.landmarks["C7"][0]
    c7 = landmark(problem, geo, "C7")
    dc7 = point_jacobian(problem, geo, c7_body, c7)
    if kind == "trunk_inclination_deg":
        t12 = landmark(problem, geo, "T12_L1_centre")
        w = c7 - t12
        dw = dc7 - point_jacobian(problem, geo, m.landmarks["T12_L1_centre"][0], t12)
        grad = (w[1] * dw[0] - w[0] * dw[1]) / float(w @ w)
        return math.degrees(math.atan2(w[0], w[1])), grad * DEG_PER_RAD
    if kind != "sagittal_vertical_axis_mm":
        raise ModelError(f"unknown upright target {kind!r}; targets: {', '.join(TARGETS)}")
    mid, t, _ = endplates(problem, geo)
    corner = mid[0] - 0.5 * m.endplate_depth[0] * t[0]
    dcorner = point_jacobian(problem, geo, int(m.endplate_body[0]), corner)
    return (c7[0] - corner[0]) * 1000.0, (dc7[0] - dcorner[0]) * 1000.0


#: The targets of one leg: with two legs, each leg's is named with its suffix (``knee_flexion_deg_left``).
LEG_TARGETS = ("thigh_inclination_deg", "knee_flexion_deg", "hip_flexion_deg")


def leg_target(model, kind: str) -> tuple[str, str]:
    """(target kind, leg name suffix) of a target name: ``"knee_flexion_deg_left"`` ->
    (``"knee_flexion_deg"``, ``"_left"``); a leg target of a two-legged model must name its leg."""
    for sfx in model.leg_suffixes:
        if sfx and kind.endswith(sfx) and kind[:-len(sfx)] in LEG_TARGETS:
            return kind[:-len(sfx)], sfx
    if kind in LEG_TARGETS and model.sides:
        raise ModelError(f"upright target {kind!r}: with two legs, name the leg "
                         f"({', '.join(kind + s for s in model.leg_suffixes)})")
    return kind, model.leg_suffixes[0]


def kept_targets(problem, target: "UprightTarget") -> dict[str, float]:
    """What the person keeps (`UprightTarget.kept`) and, with two legs, each leg lifted at a
    hip flexion of its own (`supports.Leg` "lifted" with ``hip_flexion_deg``) kept there, unless
    a target places that thigh: the person holds the leg up (a lifted leg without one, like the
    lumped legs lifted, settles where its muscles and tissues put it); a bent leg's (the bridge)
    too. Standing, every leg's given hip flexion is kept: the person holds the lunge, or the
    lifted leg, there, and a lifted leg's knee (the foot held off the floor)."""
    kept = target.kept(problem.support)
    m, s = problem.model, problem.support
    for sfx, side in zip(m.leg_suffixes, m.sides):
        leg = s.leg(side)
        given = leg.hip_flexion_deg is not None if s.kind == "standing" else leg.position in ("lifted", "bent")
        if given and leg.hip_deg is not None and f"thigh_inclination_deg{sfx}" not in kept:
            kept.setdefault(f"hip_flexion_deg{sfx}", leg.hip_deg)
        if s.kind == "standing" and leg.position == "lifted":      # and its foot off the floor
            kept.setdefault(f"knee_flexion_deg{sfx}", leg.knee_deg)
    for k in kept:
        leg_target(m, k)                               # a leg target of two legs names its leg
    return kept


#: The solvers of the upright programme (`solve_upright`): "newton" (the posture alone, the
#: activations by the dual Newton method at each posture, `reduced_value`), "slsqp" (posture and
#: activations together), "auto" (Newton, and SLSQP where Newton does not apply or ends without
#: convergence).
METHODS = ("auto", "newton", "slsqp")
#: Dual Newton iterations the Newton solver allows the activations at one posture
#: (`reduced_value`; warm-started from the last posture's multipliers they take 2-5).
INNER_ITERATIONS = 100
#: N·m: the dual Newton iteration's tolerance on the activations' balance (`reduced_value`)
INNER_TOL_NM = 1e-10
#: rad (5.7e-6°): Newton over the posture has converged when its next step would move no free
#: coordinate by more than this (`sqp.newton_sqp`'s step_tol): the posture of least effort to
#: within it, closer to it than the answers of the SLSQP programme, the default mode's solver
#: before (uncertain to ~1e-5°, up to 4.4e-5° on the library), and far below what any output
#: shows. Near the answer the steps fall quadratically (a sweep point from the secant
#: start: ~2e-5, ~2e-8, ~1e-14 rad), so 1e-10 bought one more evaluation of the effort and its
#: Hessian per point for a change of < 5e-6° (a 101-point psoas sweep: 300 -> 236 steps, 9.5 ->
#: 7.1 ms per point here).
NEWTON_STEP_TOL_RAD = 1e-7
#: rad: after a full Newton step shorter than this, whether the next is below
#: `NEWTON_STEP_TOL_RAD` is first found with that step's Hessian and the new point's gradient
#: (`sqp.newton_sqp`'s check_below): near the answer the Hessian changes by the order of the
#: last step, and the new point's own (its finite-difference curvature, about half the cost of
#: its derivatives) is needed only where the check finds a longer step. Only the cost depends
#: on this value: a 101-point psoas sweep from the runner's secant start ends so at 96 of its
#: 101 points, the same postures, 7.6 -> 6.7 ms per point (3e-5: 7.05; 1e-3: 6.95).
NEWTON_CHECK_BELOW_RAD = 1e-4


def posture_aims(problem, geo, kept: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """The kept targets' misses (k,) (value − kept, scaled by `_SCALE`) and their gradients
    ∂/∂q (k, n_joints) at a geometry."""
    rows = [target_and_gradient(problem, geo, k) for k in kept]
    scale = np.array([_SCALE.get(k, 1.0) for k in kept])
    values = np.array([v for v, _ in rows]) - np.array(list(kept.values()))
    grads = np.array([g for _, g in rows]).reshape(len(kept), len(geo.q))
    return scale * values, scale[:, None] * grads


def body_weight(problem) -> float:
    """The body's weight (N, at least 1): the scale of the balance margins."""
    return max(float(np.abs(problem.weight).sum()), 1.0)


def support_margins(problem, geo, contact, floor=None) -> np.ndarray:
    """The support's normal forces that must not be negative (`balance.balance_margins`) at a
    geometry, with the compliant contacts' state (`external.contact_state` or None) and the
    floor's forces on a second foot, if any."""
    if floor is not None:               # the support's forces: the compliant contacts and the floor's
        pushes = contact[:3] if contact is not None else (np.zeros(0, int), np.zeros((0, 2)), np.zeros((0, 2)))
        contact = tuple(np.concatenate(v) for v in zip(pushes, floor))
    return balance_margins(problem, reaction(problem, geo, contact=contact))


def margin_gradient(problem, geo, contact, floor=None) -> np.ndarray:
    """∂/∂q (m, n_joints) of `support_margins` (same arguments)."""
    grad = reaction_gradient(problem, geo, contact, floor)
    if problem.support.kind == "lying":
        grad = grad.sum(0, keepdims=True)                # as `balance.balance_margins`
    return grad


class Held(NamedTuple):
    """The upright programme's value at one posture (`reduced_value`): the posture q, its
    `recruitment.HeldTerms`, G = BᵀA, the activations x and multipliers λ of the least effort,
    the largest miss of their balance max|G x − g| (N·m), the contacts' state, the gradients ∂/∂q of the tissue term and of the targets' misses, and
    the `sqp.Point` without derivatives."""

    q: np.ndarray
    terms: HeldTerms
    G: np.ndarray
    x: np.ndarray
    lam: np.ndarray
    gap: float
    contact: object
    tissue_grad: np.ndarray
    aim_grad: np.ndarray
    point: Point


def reduced_value(problem, u: np.ndarray, *, kept, free, share, w_tissue: float, tissue_joints,
                  start=None) -> Held | None:
    """The upright programme over the posture alone at free coordinates u (docs/model.md §12):
    the least effort V(u) = min ½ aᵀCa s.t. Bᵀ(r0 + A a) = 0, 0 ≤ a ≤ 1 (the dual Newton
    method, `least_effort.least_effort_dual`, from multipliers ``start``) plus the tissue
    term, the targets' misses and the support's margins (/ body weight): a `Held`, or None
    where the muscles cannot hold the posture or the dual Newton iteration does not converge."""
    B = problem.B
    q = problem.q_c + B @ u
    t = held_terms(problem, q, free)
    G, g = B.T @ t.A, -(B.T @ t.r0)
    x, _, gap, lam = least_effort_dual(G, g, np.ones(len(share)), weight=share, start=start,
                                       tol=INNER_TOL_NM, max_iter=INNER_ITERATIONS)
    if not gap <= SHORTFALL_TOL_NM or not np.all(np.isfinite(x)):
        return None
    tissue, tissue_grad = tissue_cost(t.passive, t.k_p, problem.tissue_ref, tissue_joints)
    f = 0.5 * float(x @ (share * x)) + w_tissue * tissue
    contact = contact_state(problem, t.geo) if len(problem.contact_body) else None
    margins = support_margins(problem, t.geo, contact) if balance_checked(problem) else np.zeros(0)
    aims, aim_grad = posture_aims(problem, t.geo, kept)
    # the effort's error: the balance missed by at most max(gap, tol) at each joint, worth λ per
    # N·m (the envelope theorem: ∂V/∂g = λ)
    error = float(np.abs(lam).sum()) * max(gap, INNER_TOL_NM)
    return Held(q, t, G, x, lam, gap, contact, tissue_grad, aim_grad,
                Point(f, aims, margins / body_weight(problem), f_error=error))


def reduced_gradient(problem, held: Held, *, kept, free, share, w_tissue: float, tissue_joints):
    """`reduced_value`'s point with its gradient ∇V = −Kᵀλ (`reduced_derivatives`) and the
    constraints' Jacobians, without the Hessian; and J = ∂R/∂q (n_joints, n_joints) at the
    activations, which `reduced_derivatives` takes on from here."""
    B, t = problem.B, held.terms
    J = held_jacobian(problem, t, free, held.x)
    margin_grad = (margin_gradient(problem, t.geo, held.contact) if balance_checked(problem)
                   else np.zeros((0, len(held.q)))) / body_weight(problem)
    point = held.point._replace(grad=-(held.lam @ (B.T @ J @ B)) + w_tissue * (held.tissue_grad @ B),
                                h_jac=held.aim_grad @ B, g_jac=margin_grad @ B)
    return point, J


def reduced_derivatives(problem, held: Held, *, kept, free, share, w_tissue: float, tissue_joints,
                        gradient=None) -> Point:
    """`reduced_value`'s point with its gradients and the Hessian of the effort:

        ∇V = −Kᵀλ,  ∇²V = K̃ᵀ H_d⁻¹ K̃ − C_Iᵀ c_I⁻¹ C_I − Φ,

    with K = ∂(Bᵀ R)/∂u at the activations a, λ the multipliers, I the lines strictly inside
    (0, 1), H_d = G_I c_I⁻¹ G_Iᵀ (G = Bᵀ A; with a ridge of 1e-12 of its mean diagonal),
    C = ∂(Gᵀλ)/∂u at λ fixed (each line's unit force is a gradient, −∂L/∂q plus the cavity's, so
    C comes from the change of those forces along v = Bλ), K̃ = K + G_I c_I⁻¹ C_I and
    Φ = ∂²(λᵀBᵀR)/∂u² at a fixed, the change of K along v (exact where ∂R/∂q is symmetric, i.e.
    the forces derive from a potential; elsewhere an approximation of the Hessian, which changes
    the steps, not the answer). Both changes are forward differences over 1e-7 / max|v| rad; the
    tissue term's curvature is exact (`tissues.tissue_curvature`). ``gradient``: what
    `reduced_gradient` returned at this point, if it was asked first."""
    B, q, t, G, x, lam = problem.B, held.q, held.terms, held.G, held.x, held.lam
    M, dM = t.passive, t.k_p
    point, J = gradient or reduced_gradient(problem, held, kept=kept, free=free, share=share, w_tissue=w_tissue,
                                            tissue_joints=tissue_joints)
    K = B.T @ J @ B
    v = B @ lam
    h = 1e-7 / max(float(np.max(np.abs(v))), 1e-300)
    tp = held_terms(problem, q + h * v, free)
    Phi = B.T @ ((held_jacobian(problem, tp, free, x) - J) / h) @ B
    fmax, fl = problem.lines.fmax_cos[free], t.fl[free]
    W, dW = t.W[:, free], (tp.W[:, free] - t.W[:, free]) / h
    dfl = t.dfl[free, None] * t.geo.dLdq[free]                  # ∂f_L/∂q (F, n_joints)
    C = (fmax[:, None] * ((v @ W)[:, None] * dfl + fl[:, None] * dW.T)) @ B
    inside = (x > 0.0) & (x < 1.0)
    GI, CI = G[:, inside], C[inside] / share[inside, None]
    Hd = (GI / share[inside]) @ GI.T
    Hd += 1e-12 * max(float(np.trace(Hd)), 1e-300) / len(G) * np.eye(len(G))
    Kt = K + GI @ CI
    iv = problem.iv_joints
    d2M = np.zeros(len(q))
    d2M[iv] = intervertebral_curvature(problem.iv_coeffs, q[iv] - problem.rest_angle[iv])
    hessian = (Kt.T @ np.linalg.solve(Hd, Kt) - C[inside].T @ CI - 0.5 * (Phi + Phi.T)
               + w_tissue * (B.T * tissue_curvature(M, dM, d2M, problem.tissue_ref, tissue_joints)) @ B)
    return point._replace(hessian=hessian)


def _solve_newton(problem, kept, criterion, free, u0, lo, hi):
    """`sqp.newton_sqp` over the free coordinates with `reduced_value` and
    `reduced_derivatives`: an `sqp.Outcome` (not converged at once where the muscles cannot
    hold the start posture) and the `Held` state at its u (None if not evaluated there)."""
    terms = dict(kept=kept, free=free, share=np.asarray(problem.model.pair_share)[free],
                 w_tissue=criterion.tissue_weight,
                 tissue_joints=np.flatnonzero(np.isfinite(problem.tissue_ref[0]) & problem.B.any(1)))
    last: list = [None, None, None]    # the last point's u, value and gradient (a trial accepted is the next start)
    multipliers = [None]               # the last point with derivatives: the next inner start

    def evaluate(u, derivatives):
        if last[0] is not None and np.array_equal(u, last[0]):
            held = last[1]
        else:
            held = reduced_value(problem, u, start=multipliers[0], **terms)
            last[:] = [u.copy(), held, None]
        if held is None or not derivatives:
            return None if held is None else held.point
        multipliers[0] = held.lam
        if last[2] is None:
            last[2] = reduced_gradient(problem, held, **terms)
        if derivatives == "gradient":
            return last[2][0]
        return reduced_derivatives(problem, held, gradient=last[2], **terms)

    out = newton_sqp(evaluate, u0, lo, hi, step_tol=NEWTON_STEP_TOL_RAD, check_below=NEWTON_CHECK_BELOW_RAD)
    return out, (last[1] if last[0] is not None and np.array_equal(last[0], out.u) else None)


def tone_held_start(problem, q: np.ndarray) -> np.ndarray | None:
    """A posture (n_joints,) the muscles can hold, near a start q (n_joints,) they cannot hold
    (lying, sitting: the reference posture presses into the support): the equilibrium of the
    frozen tone reached from q (`statics.solve_equilibrium`, descending the potential energy),
    which the tone holds by construction, balanced on the support or not (the balance is a
    constraint of the programme, not of its start); None where no equilibrium was reached."""
    res = solve_equilibrium(problem=problem, q0=q)
    return res.q if res.max_residual_Nm < problem.tolerance_Nm else None


@one_blas_thread
def solve_upright(problem, target: UprightTarget = UprightTarget(), *,
                  criterion: Criterion = Criterion(), q0: np.ndarray | None = None, method: str = "auto"):
    """Posture and activations that keep ``target`` with least effort (module docstring).

    ``method`` (`METHODS`): "newton" solves over the posture alone, the activations at each
    posture by the dual Newton method, with Newton steps from the exact gradient and Hessian of
    the least effort (`reduced_value`, `reduced_derivatives`, `sqp.newton_sqp`): the
    activation-squared criterion without a second foot on the floor. "slsqp" solves posture and
    activations together (`_solve_slsqp`). Where the muscles cannot hold the start, Newton starts
    from the frozen tone's equilibrium reached from it (`tone_held_start`). "auto" (default) takes
    Newton where it applies and SLSQP where it does not, or where Newton ends without convergence
    (SLSQP then starts from the held posture Newton reached, or from the start itself where
    Newton had to begin at the tone's equilibrium; if it does not converge from a given ``q0``,
    once more from the reference posture, and where Newton began at the tone's equilibrium,
    once more from the held posture Newton reached). On the scenario library both end at the same
    postures; where the programme has several local minima they can end in different ones
    (docs/model.md §12).
    The reported activations are the least-effort ones at the optimal posture: Newton's last
    inner solution there (balanced within `INNER_TOL_NM`), or after SLSQP re-derived exactly
    there (`recruit`).

    Returns a `inverse.RecruitedResult` (status FALLEN if the posture does not balance on the feet).
    """
    if method not in METHODS:
        raise ModelError(f"upright solver method must be one of {', '.join(METHODS)}, got {method!r}")
    B, qc = problem.B, problem.q_c
    free = free_lines(problem)
    kept = kept_targets(problem, target)
    u0 = free_coordinates(problem, problem.q_ref if q0 is None else np.asarray(q0, float))
    lo, hi = free_coordinates(problem, problem.q_low), free_coordinates(problem, problem.q_high)
    applies = criterion.name == "activation_squared" and not len(problem.floor_body)
    if method == "newton" and not applies:
        raise ModelError("the Newton solver of the upright mode takes the activation_squared criterion "
                         "without a second foot on the floor; use method='slsqp' or 'auto'")
    steps, cold, reached = 0, q0 is None, None
    if method != "slsqp" and applies:
        out, at = _solve_newton(problem, kept, criterion, free, np.clip(u0, lo, hi), lo, hi)
        moved = out.steps > 0           # 0 steps: the muscles cannot hold the start
        if not moved:                   # start where the tone holds a posture
            start = tone_held_start(problem, qc + B @ u0)
            if start is not None:
                out, at = _solve_newton(problem, kept, criterion, free,
                                        np.clip(free_coordinates(problem, start), lo, hi), lo, hi)
        steps = out.steps
        q = qc + B @ out.u
        rec = _newton_recruitment(problem, at, free, criterion) if out.converged else None
        if rec is None:
            rec = recruit(problem, q, criterion=criterion, free=free)
        if method == "newton" or (out.converged and rec.feasible):
            message = "" if out.converged else (f"the least-effort posture was not found (Newton: {out.message}); "
                                                "the posture returned may not be the one of least effort")
            return _result(problem, rec, kept, steps, message, criterion)
        if moved and rec.feasible:          # SLSQP goes on from the held posture Newton reached
            u0, cold = out.u, False
        elif rec.feasible:                  # Newton began at the tone's equilibrium: SLSQP starts
            reached = out.u                 # from the start, and from here if it does not converge
    held, q, iterations, message = _solve_slsqp(problem, kept, criterion, free, u0, lo, hi, cold)
    retries = []                            # where SLSQP does not converge, it starts again
    if method == "auto" and not cold and q0 is not None:
        retries.append((free_coordinates(problem, problem.q_ref), True))     # from the reference posture
    if reached is not None:
        retries.append((reached, False))                                    # from where Newton got
    for start, start_cold in retries:
        if not message:
            break
        again = _solve_slsqp(problem, kept, criterion, free, start, lo, hi, start_cold)
        iterations += again[2]
        if not again[3]:
            held, q, _, message = again
    rec = recruit(held, q, criterion=criterion, free=free)
    return _result(held, rec, kept, steps + iterations, message, criterion)


def _newton_recruitment(problem, held: Held | None, free, criterion):
    """The `recruitment.Recruitment` of Newton's answer from its last inner solution there (the
    least effort at that posture, as `recruit` finds it, balanced within `INNER_TOL_NM`), or
    None where there is none so balanced."""
    if held is None or not held.gap <= INNER_TOL_NM:
        return None
    return recruitment_of(problem, held.q, free, held.x, held.terms.fl[free], held.terms.geo, criterion=criterion)


def _result(problem, rec, kept, iterations, message, criterion):
    """The `inverse.RecruitedResult` of a solved posture: a missed target first, then the
    solver's ``message`` (not converged), else `recruited_result`'s verdict."""
    code = Status.NOT_CONVERGED
    if kept:
        miss = np.abs(posture_aims(problem, rec.geometry, kept)[0]) / np.array([_SCALE.get(k, 1.0) for k in kept])
        if miss.max() > 1e-5:
            k = list(kept)[int(np.argmax(miss))]
            message, code = f"the postural target was not reached ({k} missed by {miss.max():.3g})", Status.TARGET_MISSED
    return recruited_result(problem, rec, iterations=iterations, message=message, criterion=criterion,
                            code=code)


def _solve_slsqp(problem, kept, criterion, free, u0, lo, hi, cold: bool):
    """Posture and activations together by SLSQP (module docstring): one nonlinear programme over
    z = (u, a) (and the floor's forces f on a second foot), minimising the effort subject to
    equilibrium at every free joint, Bᵀ (r0(q) + A(q) a) = 0, the targets, the balance on the
    feet, 0 ≤ a ≤ 1 and the physiological ranges, with exact, analytic derivatives
    (`recruitment.held_balance`, `target_and_gradient`, `balance.reaction_gradient`,
    `tissues.tissue_cost`).

    Conditioning (docs/model.md §12): SLSQP's quasi-Newton matrix starts as the identity. The
    muscle term is ½ Σa², whose Hessian is exactly that, or for the stress criterion ½ ‖a f_L‖_p²,
    which has the same minimisers as Σ (a f_L)^p and a Hessian of the same order
    (`recruitment.half_squared_p_norm`). In units of `POSTURE_UNIT` = 10 rad the start charges
    0.01 per rad² for a posture step. The bound a ≤ 1 is seldom reached: SLSQP first solves
    without it and, only if a line then needs more than full activation, again with it. ``cold``:
    the activations start from the relaxed tone (else from what holds the start posture).

    Returns (the problem, with the floor's forces found on a second foot, q, iterations, the
    message if SLSQP did not converge)."""
    minimize = scipy_optimize().minimize

    B, qc = problem.B, problem.q_c
    n = B.shape[1]
    if cold:                # the relaxed tone: it holds the reference posture without the settings
        a0 = np.asarray(problem.model.baseline_activation, float)[free]
    else:                   # along a sweep: what holds the previous posture under these settings
        a0 = recruit(problem, qc + B @ u0, criterion=criterion, free=free).activation[free]
    w_tissue = criterion.tissue_weight
    tissue_joints = np.flatnonzero(np.isfinite(problem.tissue_ref[0]) & B.any(1))
    weight = body_weight(problem)                            # N, to scale the balance constraint
    na = int(free.sum())
    # a second foot on the floor: the floor's forces on it, heel (F_x, F_y) and forefoot F_y, are
    # unknowns too (in body weights), the foot held where it is (`statics.floor_constraints`)
    nf = 3 if len(problem.floor_body) else 0
    last: dict = {}

    def state(z):
        """Everything at z = (u / POSTURE_UNIT, a, f / weight), from one evaluation of the
        geometry (SLSQP asks for the functions and their Jacobians at the same points)."""
        key = z.tobytes()
        if last.get("key") != key:
            q = qc + B @ (POSTURE_UNIT * z[:n])
            R, J, A, fl, dfl, geo = held_balance(problem, q, free, z[n:n + na])
            floor, df, Jf = None, np.zeros((2, 0)), np.zeros((len(R), 0))     # df: ∂(N_a, N_b)/∂f
            if nf:
                f = weight * z[n + na:]
                c, C = floor_constraints(problem, geo)
                pts = kin.points_world(geo.angles, geo.origins, problem.floor_body, problem.floor_local)
                floor = (problem.floor_body, pts, _floor_forces(f))
                R = R + C.T @ f
                J = J + constant_force_stiffness(problem, geo, *floor)
                Jf = weight * C.T
                df = reaction_per_force(problem, geo, pts[_FLOOR_POINT], _FLOOR_DIRECTION)
                last.update(chain=FLOOR_SCALE * c,
                            chain_grad=FLOOR_SCALE * POSTURE_UNIT * (C @ B))
            aims, aim_grads = posture_aims(problem, geo, kept)
            M, dM = passive_moments(problem, q)
            tissue, tissue_grad = tissue_cost(M, dM, problem.tissue_ref, tissue_joints)
            last.update(key=key, R=B.T @ R, J=np.hstack([POSTURE_UNIT * (B.T @ J @ B), B.T @ A, B.T @ Jf]), fl=fl,
                        dfl=POSTURE_UNIT * (dfl @ B), aim=aims, aim_grad=POSTURE_UNIT * (aim_grads @ B),
                        tissue=w_tissue * tissue, tissue_grad=POSTURE_UNIT * w_tissue * (tissue_grad @ B))
            contact = contact_state(problem, geo) if len(problem.contact_body) else None
            margins, grad = support_margins(problem, geo, contact, floor), margin_gradient(problem, geo, contact, floor)
            if not nf:
                df = np.zeros((len(grad), 0))
            elif problem.support.kind == "lying":
                df = df.sum(0, keepdims=True)                # as `balance.balance_margins`
            last.update(support=margins / weight,
                        support_grad=np.hstack([POSTURE_UNIT * (grad @ B) / weight,
                                                np.zeros((len(grad), na)), df]))       # f in weights, margins / weight
        return last

    # each line counted by its share of a bilateral pair (`Model.pair_share`: 1 with the legs
    # lumped, ½ for one side's line of two legs): c a² and (c^(1/p) a f_L)^p
    share = np.asarray(problem.model.pair_share)[free]
    scale = share ** (1.0 / criterion.exponent) if criterion.name != "activation_squared" else None

    def effort(z):
        a = z[n:n + na]
        st = state(z)
        if criterion.name == "activation_squared":
            ca = share * a
            return 0.5 * float(a @ ca) + st["tissue"], np.concatenate([st["tissue_grad"], ca, np.zeros(nf)])
        value, w = half_squared_p_norm(a * scale * st["fl"], criterion.exponent)    # ½ ‖c a f_L(u)‖_p²
        return value + st["tissue"], np.concatenate([(w * scale * a) @ st["dfl"] + st["tissue_grad"],
                                                     w * scale * st["fl"], np.zeros(nf)])

    def posture_rows(name):
        def fun(z):
            return state(z)[name]

        def jac(z):                              # padded with zeros to all of z
            g = state(z)[f"{name}_grad"]
            return np.hstack([g, np.zeros((len(g), len(z) - g.shape[1]))])
        return fun, jac

    constraints = [{"type": "eq", "fun": lambda z: state(z)["R"], "jac": lambda z: state(z)["J"]}]
    if kept:
        fun, jac = posture_rows("aim")
        constraints.append({"type": "eq", "fun": fun, "jac": jac})
    if balance_checked(problem):
        fun, jac = posture_rows("support")
        constraints.append({"type": "ineq", "fun": fun, "jac": jac})
    if nf:                                               # the second foot held on the floor
        fun, jac = posture_rows("chain")
        constraints.append({"type": "eq", "fun": fun, "jac": jac})
    bounds = list(zip(lo / POSTURE_UNIT, hi / POSTURE_UNIT))
    # the floor pushes (F_y ≥ 0) and holds by friction (F_x free)
    floor_bounds = [(None, None), (0.0, None), (0.0, None)][:nf]

    def solve(z0, upper):
        return minimize(effort, z0, jac=True, method="SLSQP",
                        bounds=bounds + [(0.0, upper)] * na + floor_bounds,
                        constraints=constraints, options={"maxiter": 300, "ftol": 1e-10})

    f0 = np.array([0.0, 0.25, 0.25])[:nf]             # a quarter of the weight on each end of the foot
    res = solve(np.concatenate([u0 / POSTURE_UNIT, a0, f0]), None)
    iterations = int(res.nit)
    if np.any(res.x[n:n + na] > 1.0):                  # a line beyond full activation
        res = solve(np.concatenate([res.x[:n], np.minimum(res.x[n:n + na], 1.0), res.x[n + na:]]), 1.0)
        iterations += int(res.nit)
    if nf:                                              # the floor's forces found: on the problem
        problem = dataclasses.replace(problem, floor_force=_floor_forces(weight * res.x[n + na:]))
    message = "" if res.success else (f"the least-effort posture was not found (SLSQP: {res.message}); the "
                                      "posture returned is held, but may not be the one of least effort")
    return problem, qc + B @ (POSTURE_UNIT * res.x[:n]), iterations, message

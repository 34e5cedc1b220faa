"""The `upright` mode: posture and muscle activations solved together (docs/model.md §12).

The scenario prescribes some muscles (a tension, an activation, a shortened resting length)
and a postural target the person keeps: the trunk inclination of relaxed standing by default,
or an SVA, or a thorax orientation. The other muscles are recruited by an effort criterion
(`recruitment`). biomech finds the posture q and the activations a that hold it with least
effort,

    min_(q, a)  criterion(a)
    subject to  equilibrium at every joint, target(q) = value, 0 ≤ a ≤ 1,
                q within the physiological ranges,

one nonlinear programme (SLSQP with exact derivatives). The answer has no hidden reserve
actuators: if no posture can be held, the result says which joint falls short by how many N·m
and is not converged (exit code 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import ModelError
from .inverse import recruited_result
from .metrics import endplates
from .recruitment import Criterion, free_lines, half_squared_p_norm, held_balance, recruit
from .statics import free_coordinates, geometry, landmark
from .threads import one_blas_thread
from .units import DEG_PER_RAD

#: rad per unit of the posture variables SLSQP sees (`solve_upright`); 3-30 rad took the same
#: iterations, 1 rad 20 % more
POSTURE_UNIT = 10.0
TARGETS = ("trunk_inclination_deg", "sagittal_vertical_axis_mm", "thorax_angle_deg")


@dataclass(frozen=True)
class UprightTarget:
    """What the person keeps: exactly one of

    trunk_inclination_deg : T12/L1 → C7 line against the vertical (+ forward); default 0, the
        relaxed standing value of the calibrated reference posture;
    sagittal_vertical_axis_mm : C7 plumb line to the posterior-superior corner of S1 (+ anterior);
    thorax_angle_deg : orientation of the thorax body against its reference orientation
        (+ counter-clockwise, i.e. leaning back).
    """

    trunk_inclination_deg: float | None = None
    sagittal_vertical_axis_mm: float | None = None
    thorax_angle_deg: float | None = None

    def __post_init__(self):
        given = [k for k in TARGETS if getattr(self, k) is not None]
        if len(given) > 1:
            raise ModelError(f"an upright target is one of {', '.join(TARGETS)}; got {given}")

    @property
    def kind(self) -> str:
        return next((k for k in TARGETS if getattr(self, k) is not None), "trunk_inclination_deg")

    @property
    def value(self) -> float:
        v = getattr(self, self.kind)
        return 0.0 if v is None else float(v)


def target_value(problem, q: np.ndarray, kind: str) -> float:
    """The target quantity at posture q (deg or mm)."""
    return target_and_gradient(problem, geometry(problem, q), kind)[0]


def target_and_gradient(problem, geo, kind: str) -> tuple[float, np.ndarray]:
    """The target quantity at a geometry (deg or mm) and its gradient ∂/∂q (n_joints,), from the
    angle sensitivities S of the bodies: a body angle changes by S[b, j] per unit q_j and a point
    p of body b moves by S[b, j] ẑ × (p − c_j) (docs/model.md §4)."""
    S = problem.S
    thorax, c7_body = problem.model.body_index("thorax"), problem.model.landmarks["C7"][0]
    if kind == "thorax_angle_deg":
        ref = geometry(problem, problem.q_ref).angles[thorax]
        return (geo.angles[thorax] - ref) * DEG_PER_RAD, S[thorax] * DEG_PER_RAD
    c7 = landmark(problem, geo, "C7")
    if kind == "trunk_inclination_deg":
        # the T12/L1 → C7 line is fixed in the thorax: it turns with the thorax angle, and a
        # counter-clockwise turn lowers its forward inclination
        w = c7 - landmark(problem, geo, "T12_L1_centre")
        return math.degrees(math.atan2(w[0], w[1])), -S[c7_body] * DEG_PER_RAD
    mid, t, _ = endplates(problem, geo)
    sacrum = problem.model.endplate_body[0]
    corner = mid[0] - 0.5 * problem.model.endplate_depth[0] * t[0]
    dx = -S[c7_body] * (c7[1] - geo.centres[:, 1]) + S[sacrum] * (corner[1] - geo.centres[:, 1])
    return (c7[0] - corner[0]) * 1000.0, dx * 1000.0


@one_blas_thread
def solve_upright(problem, target: UprightTarget = UprightTarget(), *,
                  criterion: Criterion = Criterion(), q0: np.ndarray | None = None):
    """Posture and activations that keep ``target`` with least effort.

    One nonlinear programme over z = (u, a): the free coordinates u of the posture and the
    activations a of the free lines, minimising the effort subject to equilibrium at every
    joint, Bᵀ (r0(q) + A(q) a) = 0, the target, 0 ≤ a ≤ 1 and the physiological ranges
    (SLSQP with exact, analytic derivatives: `recruitment.held_balance`,
    `target_and_gradient`). The activations are then re-derived exactly at the optimal posture
    (`recruit`), so the reported forces are the least-effort ones there.

    Conditioning (docs/model.md §12): SLSQP's quasi-Newton matrix starts as the identity. The
    objective is ½ Σa², whose Hessian is exactly that, or for the stress criterion ½ ‖a f_L‖_p²,
    which has the same minimisers as Σ (a f_L)^p and a Hessian of the same order
    (`recruitment.half_squared_p_norm`). The effort depends on the posture only through the
    activations it needs, so the posture block is small (the constraints' curvature,
    |eigenvalues| ≲ 1 per rad²); in units of `POSTURE_UNIT` = 10 rad the start charges 0.01
    per rad² for a posture step. The bound a ≤ 1 is seldom reached when standing: SLSQP first
    solves without it and, only if a line then needs more than full activation, again with it
    from there.

    Returns a `inverse.RecruitedResult`.
    """
    from scipy.optimize import minimize

    B, qc = problem.B, problem.q_c
    n = B.shape[1]
    free = free_lines(problem)
    start = problem.q_ref if q0 is None else np.asarray(q0, float)
    u0 = free_coordinates(problem, start)
    if q0 is None:          # the relaxed tone: it holds the reference posture without the settings
        a0 = np.asarray(problem.model.baseline_activation, float)[free]
    else:                   # along a sweep: what holds the previous posture under these settings
        a0 = recruit(problem, qc + B @ u0, criterion=criterion, free=free).activation[free]
    kind, value = target.kind, target.value
    scale = 1.0 if kind != "sagittal_vertical_axis_mm" else 0.05   # mm -> comparable to degrees
    last: dict = {}

    def state(z):
        """Everything at z = (u / POSTURE_UNIT, a), from one evaluation of the geometry (SLSQP
        asks for the functions and their Jacobians at the same points)."""
        key = z.tobytes()
        if last.get("key") != key:
            q = qc + B @ (POSTURE_UNIT * z[:n])
            R, J, A, fl, dfl, geo = held_balance(problem, q, free, z[n:])
            aim, grad = target_and_gradient(problem, geo, kind)
            last.update(key=key, R=B.T @ R, J=np.hstack([POSTURE_UNIT * (B.T @ J @ B), B.T @ A]), fl=fl,
                        dfl=POSTURE_UNIT * (dfl @ B), aim=scale * (aim - value),
                        aim_grad=POSTURE_UNIT * scale * (grad @ B))
        return last

    def effort(z):
        a = z[n:]
        if criterion.name == "activation_squared":
            return 0.5 * float(a @ a), np.concatenate([np.zeros(n), a])
        st = state(z)                                  # ½ ‖a f_L(u)‖_p²
        value, w = half_squared_p_norm(a * st["fl"], criterion.exponent)
        return value, np.concatenate([(w * a) @ st["dfl"], w * st["fl"]])

    def aim(z):
        return np.array([state(z)["aim"]])

    def aim_jac(z):
        row = np.zeros(len(z))
        row[:n] = state(z)["aim_grad"]
        return row[None, :]

    lo = np.linalg.lstsq(B, problem.q_low - qc, rcond=None)[0] / POSTURE_UNIT
    hi = np.linalg.lstsq(B, problem.q_high - qc, rcond=None)[0] / POSTURE_UNIT
    posture_bounds = list(zip(np.minimum(lo, hi), np.maximum(lo, hi)))

    def solve(z0, upper):
        return minimize(effort, z0, jac=True, method="SLSQP",
                        bounds=posture_bounds + [(0.0, upper)] * int(free.sum()),
                        constraints=[{"type": "eq", "fun": lambda z: state(z)["R"], "jac": lambda z: state(z)["J"]},
                                     {"type": "eq", "fun": aim, "jac": aim_jac}],
                        options={"maxiter": 300, "ftol": 1e-12})

    res = solve(np.concatenate([u0 / POSTURE_UNIT, a0]), None)
    iterations = int(res.nit)
    if np.any(res.x[n:] > 1.0):                        # a line beyond full activation
        res = solve(np.concatenate([res.x[:n], np.minimum(res.x[n:], 1.0)]), 1.0)
        iterations += int(res.nit)
    q = qc + B @ (POSTURE_UNIT * res.x[:n])
    rec = recruit(problem, q, criterion=criterion, free=free)
    miss = abs(aim(res.x)[0]) / scale
    message = ""
    if miss > 1e-5:
        message = f"the postural target was not reached (missed by {miss:.3g})"
    return recruited_result(problem, rec, iterations=iterations, message=message, criterion=criterion)

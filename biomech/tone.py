"""Baseline muscle tone: the least-effort activations that hold the relaxed reference posture.

The default state of every muscle a scenario does not set (docs/model.md §6). Computed once
when a model is built: minimise ½ Σ (a_i − a_floor,i)² + ½ ρ Σ p_j² over all lines i and spinal
joints j subject to equilibrium of the relaxed standing reference posture at every joint,
a_floor,i ≤ a_i ≤ 1, where a_floor is the group's relaxed-standing EMG floor
(`muscles.DEFAULT_TONE`) and p_j is a moment the passive tissues of joint j carry. With the
heavy weight ρ the muscles hold whatever they can; the passive tissues carry only what the
muscle set cannot produce (docs/calibration.md §2), and the model's stress-free angles are
offset so that they do.
"""

from __future__ import annotations

import numpy as np

from .errors import ModelError
from .muscles import force_length_active

#: Upper bound of a baseline activation.
MAX_BASELINE_ACTIVATION = 1.0
#: Weight of a passive moment against activation in the baseline-tone cost ((N·m)⁻²): 1 N·m
#: carried passively costs as much as 100 lines at full activation.
PASSIVE_WEIGHT = 1e4


def unit_activation_forces(problem, geo) -> np.ndarray:
    """Generalized forces (7, M) of each line at activation 1 (active Hill force, no stretch response)."""
    m = problem.model
    cos_a = np.cos(m.pennation)
    fl, _ = force_length_active((geo.length - problem.lts) / (problem.lopt * cos_a))
    return -(m.max_isometric_force * cos_a * fl)[None, :] * geo.dLdq.T


def baseline_activation(model) -> tuple[np.ndarray, np.ndarray]:
    """Activations (M,) and spinal passive moments (7,) (N·m, hip entry 0) that hold the
    standing reference posture with least effort."""
    from .statics import Support, prepare

    problem = prepare(model, support=Support("standing"), short_range_stiffness=0.0)
    q = problem.q_ref
    geo = problem.geometry(q)
    g = problem.generalized_forces(q, geo)
    r0 = g["gravity"] + g["passive"] + g["muscle"]       # with the floor activations
    A = unit_activation_forces(problem, geo)
    floor = problem.activation
    upper = np.maximum(MAX_BASELINE_ACTIVATION - floor, 0.0)
    x, p, residual = least_squares_activation(A, -r0, upper)
    if not residual <= 1e-8:                           # the muscles alone cannot: passive slack
        slack = np.ones(7, bool)
        slack[0] = False                               # the hip has a published passive law
        x, p, residual = least_squares_activation(A, -r0, upper, slack=slack,
                                                  slack_weight=PASSIVE_WEIGHT)
    if not residual <= 1e-6:
        raise ModelError("the muscles cannot hold the relaxed reference posture of this subject "
                         f"at the hip (moment shortfall {residual:.3g} N·m); check the subject "
                         "parameters")
    return floor + x, p


def least_squares_activation(A: np.ndarray, b: np.ndarray, upper: np.ndarray, *,
                             slack: np.ndarray | None = None, slack_weight: float = 1.0,
                             tol: float = 1e-10, max_iter: int = 5000):
    """min ½‖x‖² + ½ ρ‖p‖² subject to A x + p = b, 0 ≤ x ≤ upper, p_j = 0 where not ``slack``.

    By its concave dual: x(λ) = clip(Aᵀλ, 0, upper), p(λ) = D λ / ρ (D = diag(slack)) for the
    multipliers λ (n_joints,) that maximise d(λ) = λᵀb − Σ φ(tᵢ) − λᵀDλ / (2ρ), t = Aᵀλ,
    φ(t) = t c − ½ c², c = clip(t, 0, upper); ∇d = b − A x(λ) − p(λ). d is concave and
    piecewise quadratic: a semi-smooth Newton iteration (Hessian −(A_F A_Fᵀ + D/ρ) over the
    lines strictly inside their bounds) with Armijo backtracking solves it in a few steps.

    Parameters
    ----------
    A : (n_joints, M) generalized forces per unit activation (N·m); b : (n_joints,) N·m;
    upper : (M,) upper bounds of x; slack : (n_joints,) bool, joints whose balance may use p;
    slack_weight : ρ ((N·m)⁻²).

    Returns x (M,), p (n_joints,) N·m, and the largest shortfall max|A x + p − b| (N·m).
    Without slack, an infeasible problem is recognised as soon as the dual value exceeds the
    largest value the primal can take, ½ Σ upper² (weak duality), and returned at once with its
    (positive) shortfall.
    """
    n = A.shape[0]
    d = (np.zeros(n) if slack is None else slack.astype(float)) / slack_weight
    primal_bound = 0.5 * float(np.sum(np.square(upper))) if slack is None else np.inf

    def neg_dual(lam):
        t = A.T @ lam
        c = np.clip(t, 0.0, upper)
        return float(np.sum(t * c - 0.5 * c * c) - lam @ b + 0.5 * lam @ (d * lam)), t, c

    lam = np.linalg.lstsq(A @ A.T, b, rcond=None)[0]       # the unconstrained least-norm start
    f, t, c = neg_dual(lam)
    reg = 1e-12 * float(np.trace(A @ A.T)) / n
    for _ in range(max_iter):
        grad = A @ c + d * lam - b
        if np.max(np.abs(grad)) < tol or -f > primal_bound * (1.0 + 1e-9) + 1e-12:
            break                                            # optimal, or certified infeasible
        free = (t > 0.0) & (t < upper)
        H = (A[:, free] @ A[:, free].T) + np.diag(d) + reg * np.eye(n)
        step = -np.linalg.solve(H, grad)
        slope = float(grad @ step)
        if slope >= 0:                                       # not a descent direction: gradient step
            step, slope = -grad, -float(grad @ grad)
        alpha = 1.0
        while True:
            f_new, t_new, c_new = neg_dual(lam + alpha * step)
            if f_new <= f + 1e-4 * alpha * slope:
                break
            alpha *= 0.5
            if alpha < 1e-12:                                # no progress left at this precision:
                break                                        # the returned residual says how close
        if alpha < 1e-12:
            break
        stalled = f - f_new <= 1e-14 * max(1.0, abs(f))      # a step that only moves rounding
        lam, f, t, c = lam + alpha * step, f_new, t_new, c_new
        if stalled:
            break
    x = np.clip(A.T @ lam, 0.0, upper)
    p = d * lam
    return x, p, float(np.max(np.abs(A @ x + p - b)))

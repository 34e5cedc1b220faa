"""Baseline muscle tone: the least-effort activations that hold the relaxed reference posture.

The default state of every muscle a scenario does not set (docs/model.md §6). Computed once
when a model is built: minimise Σ (a_i − a_floor,i)² over all lines subject to equilibrium of
the relaxed standing reference posture at every joint and a_floor,i ≤ a_i ≤ 1, where a_floor is
the group's relaxed-standing EMG floor (`muscles.DEFAULT_TONE`).
"""

from __future__ import annotations

import numpy as np

from .errors import ModelError
from .muscles import force_length_active


#: Upper bound of a baseline activation.
MAX_BASELINE_ACTIVATION = 1.0


def unit_activation_forces(problem, geo) -> np.ndarray:
    """Generalized forces (7, M) of each line at activation 1 (active Hill force, no SRS)."""
    m = problem.model
    cos_a = np.cos(m.pennation)
    fl, _ = force_length_active((geo.length - problem.lts) / (problem.lopt * cos_a))
    return -(m.max_isometric_force * cos_a * fl)[None, :] * geo.dLdq.T


def baseline_activation(model) -> np.ndarray:
    """Activations (M,) holding the standing reference posture with least extra effort."""
    from .statics import Support, prepare

    problem = prepare(model, support=Support("standing"), short_range_stiffness=0.0)
    q = problem.q_ref
    geo = problem.geometry(q)
    g = problem.generalized_forces(q, geo)
    r0 = g["gravity"] + g["passive"] + g["muscle"]       # with the floor activations
    A = unit_activation_forces(problem, geo)
    floor = problem.activation
    x, residual = least_squares_activation(A, -r0, np.maximum(MAX_BASELINE_ACTIVATION - floor, 0.0))
    if residual > 1e-3:  # the equilibrium solve polishes the last digits
        raise ModelError("the muscles cannot hold the relaxed reference posture of this subject "
                         f"(largest moment shortfall {residual:.3g} N·m); check the subject parameters")
    return floor + x


def least_squares_activation(A: np.ndarray, b: np.ndarray, upper: np.ndarray, *,
                             tol: float = 1e-10, max_iter: int = 200):
    """min ½‖x‖² subject to A x = b and 0 ≤ x ≤ upper, by its concave dual.

    The minimiser is x(λ) = clip(Aᵀλ, 0, upper) for the multipliers λ (n_joints,) that maximise
    d(λ) = λᵀb − Σ φ(tᵢ), t = Aᵀλ, φ(t) = t c − ½ c², c = clip(t, 0, upper); ∇d = b − A x(λ).
    d is concave and piecewise quadratic: a semi-smooth Newton iteration (Hessian
    −A_F A_Fᵀ over the lines strictly inside their bounds) with Armijo backtracking solves it in
    a few steps.

    Parameters
    ----------
    A : (n_joints, M) generalized forces per unit activation (N·m); b : (n_joints,) N·m;
    upper : (M,) upper bounds of x.

    Returns x (M,) and the largest equilibrium shortfall max|A x − b| (N·m).
    """
    n = A.shape[0]

    def neg_dual(lam):
        t = A.T @ lam
        c = np.clip(t, 0.0, upper)
        return float(np.sum(t * c - 0.5 * c * c) - lam @ b), t, c

    lam = np.linalg.lstsq(A @ A.T, b, rcond=None)[0]       # the unconstrained least-norm start
    f, t, c = neg_dual(lam)
    reg = 1e-12 * float(np.trace(A @ A.T)) / n
    for _ in range(max_iter):
        grad = A @ c - b
        if np.max(np.abs(grad)) < tol:
            break
        free = (t > 0.0) & (t < upper)
        H = (A[:, free] @ A[:, free].T) + reg * np.eye(n)
        step = -np.linalg.solve(H, grad)
        slope = float(grad @ step)
        if slope >= 0:                                       # not a descent direction: gradient step
            step, slope = -grad, -float(grad @ grad)
        alpha = 1.0
        while True:
            f_new, t_new, c_new = neg_dual(lam + alpha * step)
            if f_new <= f + 1e-4 * alpha * slope or alpha < 1e-12:
                break
            alpha *= 0.5
        lam, f, t, c = lam + alpha * step, f_new, t_new, c_new
    x = np.clip(A.T @ lam, 0.0, upper)
    return x, float(np.max(np.abs(A @ x - b)))

"""The least-effort activations of muscle lines that balance given generalized forces.

`least_effort_activation` solves the small convex programme at the heart of the baseline-tone
fit (`tone.fit_tone`) and of muscle recruitment in the inverse and upright modes
(`recruitment`), for either effort criterion, by a semi-smooth Newton iteration on its dual.
"""

from __future__ import annotations

import numpy as np


def least_effort_activation(A: np.ndarray, b: np.ndarray, upper: np.ndarray, **options):
    """x, s and the shortfall of `least_effort_dual` (the same arguments), without its multipliers."""
    return least_effort_dual(A, b, upper, **options)[:3]


def least_effort_dual(A: np.ndarray, b: np.ndarray, upper: np.ndarray, *,
                      power: float = 2.0, weight: np.ndarray | None = None,
                      slack: np.ndarray | None = None, slack_weight: float = 1.0,
                      start: np.ndarray | None = None, tol: float = 1e-10,
                      max_iter: int = 5000):
    """min Σ (wᵢ/p) xᵢ^p + ½ ρ‖s‖² subject to A x + s = b, 0 ≤ x ≤ upper, s_j = 0 where not
    ``slack``; p = ``power`` ≥ 2, w = ``weight`` (default 1: ½‖x‖² for p = 2).

    By its concave dual: for multipliers λ (n_joints,) and t = Aᵀλ each xᵢ minimises
    (wᵢ/p) x^p − tᵢ x on [0, upperᵢ], x(λ) = clip((t/w)^(1/(p−1)), 0, upper) (0 where t ≤ 0),
    and s(λ) = D λ / ρ (D = diag(slack)); λ maximises d(λ) = λᵀb − Σ φᵢ(tᵢ) − λᵀDλ / (2ρ) with
    φ(t) = t x(t) − (w/p) x(t)^p, ∇d = b − A x(λ) − s(λ). d is concave and piecewise smooth: a
    semi-smooth Newton iteration (Hessian −(A diag(x′) Aᵀ + D/ρ), x′ = x / ((p−1) t) over the
    lines strictly inside their bounds) with Armijo backtracking solves it in a few steps.

    Parameters
    ----------
    A : (n_joints, M) generalized forces per unit activation (N·m); b : (n_joints,) N·m;
    upper : (M,) upper bounds of x; power : p; weight : (M,) w ≥ 0 (a line with w = 0 costs
    nothing and is left at 0: it must do nothing either, A[:, i] = 0);
    slack : (n_joints,) bool, joints whose balance may use s; slack_weight : ρ ((N·m)⁻²);
    start : (n_joints,) initial multipliers (default: the least-norm solution of A Aᵀ λ = b).

    Returns x (M,), s (n_joints,) N·m, the largest shortfall max|A x + s − b| (N·m) and the
    multipliers λ (n_joints,): at the optimum the value's sensitivity to b, ∂/∂b = λ, and to A,
    ∂/∂A = −λ xᵀ (the envelope theorem; `upright.reduced_derivatives` differentiates the effort so).
    Without slack, an infeasible problem is recognised as soon as the dual value exceeds the
    largest value the primal can take, Σ (wᵢ/p) upperᵢ^p (weak duality), and returned at once
    with its (positive) shortfall.
    """
    n = A.shape[0]
    w = np.ones(A.shape[1]) if weight is None else np.asarray(weight, float)
    cost = w > 0.0
    inv_w = np.where(cost, 1.0 / np.where(cost, w, 1.0), 0.0)
    e = 1.0 / (power - 1.0)
    d = (np.zeros(n) if slack is None else slack.astype(float)) / slack_weight
    primal_bound = float(np.sum(w * upper ** power)) / power if slack is None else np.inf

    def response(t):
        """x(t) and the conjugate φ(t) of the per-line cost."""
        x = np.minimum((np.maximum(t, 0.0) * inv_w) ** e, upper)
        return x, t * x - w * x ** power / power

    def neg_dual(lam):
        t = A.T @ lam
        x, phi = response(t)
        return float(np.sum(phi) - lam @ b + 0.5 * lam @ (d * lam)), t, x

    if start is None:                                       # the unconstrained least-norm start
        lam = np.linalg.lstsq(A @ A.T, b, rcond=None)[0]
    else:
        lam = np.asarray(start, float)
    f, t, x = neg_dual(lam)
    ridge = np.diag(d) + 1e-12 * float(np.einsum("ij,ij->", A, A)) / n * np.eye(n)   # D/ρ + reg I
    stalled, last = False, np.inf
    for _ in range(max_iter):
        grad = A @ x + d * lam - b
        size = float(np.max(np.abs(grad)))
        if size < tol or -f > primal_bound * (1.0 + 1e-9) + 1e-12:
            break                                            # optimal, or certified infeasible
        if stalled and size >= last:                         # the last step moved only rounding
            break
        inside = (x > 0.0) & (x < upper)
        slope_x = x[inside] * e / t[inside]                  # dx/dt of the lines inside
        H = (A[:, inside] * slope_x) @ A[:, inside].T + ridge
        step = -np.linalg.solve(H, grad)
        slope = float(grad @ step)
        if slope >= 0:                                       # not a descent direction: gradient step
            step, slope = -grad, -float(grad @ grad)
        alpha, noise = 1.0, 1e-13 * abs(lam @ b)            # rounding of the dual value
        while True:
            f_new, t_new, x_new = neg_dual(lam + alpha * step)
            if f_new <= f + 1e-4 * alpha * slope:
                break
            if f_new <= f + noise and np.max(np.abs(A @ x_new + d * (lam + alpha * step) - b)) < size:
                break                                        # below the rounding: a smaller residual
            alpha *= 0.5
            if alpha < 1e-12:                                # no progress left at this precision:
                break                                        # the returned residual says how close
        if alpha < 1e-12:
            break
        # a step whose gain is at the rounding of the dual value, and (tested above) that did
        # not shrink the residual either
        stalled, last = f - f_new <= noise, size
        lam, f, t, x = lam + alpha * step, f_new, t_new, x_new
    s = d * lam
    return x, s, float(np.max(np.abs(A @ x + s - b))), lam

"""Baseline muscle tone: the least-effort activations that hold the relaxed reference posture.

The default state of every muscle a scenario does not set (docs/model.md §6). Computed once
when a model is built: minimise Σ (a_i − a_floor,i)² over all lines subject to equilibrium of
the relaxed standing reference posture at every joint and a_floor,i ≤ a_i ≤ 1, where a_floor is
the group's relaxed-standing EMG floor (`muscles.DEFAULT_TONE`).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

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


def least_squares_activation(A: np.ndarray, b: np.ndarray, upper: np.ndarray):
    """min ½‖x‖² subject to A x = b and 0 ≤ x ≤ upper, by its concave dual.

    The minimiser is x(λ) = clip(Aᵀλ, 0, upper) for the multipliers λ (n_joints,) that maximise
    d(λ) = λᵀb − Σ [t c − ½ c²], t = Aᵀλ, c = clip(t); ∇d = b − A x(λ) (smooth, concave).

    Returns x (M,) and the largest equilibrium shortfall max|A x − b| (N·m).
    """
    def neg_dual(lam):
        t = A.T @ lam
        c = np.clip(t, 0.0, upper)
        x_val = float(np.sum(t * c - 0.5 * c * c)) - float(lam @ b)
        return x_val, A @ c - b

    res = minimize(neg_dual, np.zeros(A.shape[0]), jac=True, method="BFGS",
                   options={"gtol": 1e-11, "maxiter": 2000})
    x = np.clip(A.T @ res.x, 0.0, upper)
    return x, float(np.max(np.abs(A @ x - b)))

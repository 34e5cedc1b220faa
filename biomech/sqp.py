"""Sequential quadratic programming over a few variables with a given Hessian (docs/model.md §12).

`newton_sqp` minimises f(u) subject to equalities h(u) = 0, inequalities g(u) ≥ 0 and bounds
lo ≤ u ≤ hi, for a problem that evaluates f, its gradient and Hessian and the constraints with
their Jacobians itself (the upright mode's effort over the posture, `upright`).

* Each step minimises the quadratic model ½ dᵀWd + ∇fᵀd subject to the linearised
  constraints and the bounds, W positive definite (`definite`): H where it is; else
  H + ρ CᵀC over the rows C of the constraints the step holds (the equalities, and the
  inequalities and bounds the last step held), which on those constraints is H's own model,
  where H curves up along them (a minimum on the edge of a constraint, where H may curve down
  across it: without this the steps there converged linearly, 8 instead of 4 per point of a
  psoas sweep with the weight on the forefoot's edge); else |H|, H's eigenvectors with the
  absolute values of its eigenvalues (a modified Newton step: where the effort curves down,
  the step is as long as where it curves up as steeply). In the coordinates y = Λ^½ Vᵀ d of
  W = VΛVᵀ the model's Hessian is the identity, so the step's programme is the projection of
  −Λ^-½ Vᵀ∇f onto the linearised constraints (`projection`). Where they are inconsistent with
  the bounds, the step is asked to remove a fraction of their violation (`RELAXATION`).
* The step is shortened until the ℓ1 merit function f + μ (Σ|h| + Σ max(−g, 0)) decreases
  (Armijo), μ at least twice the largest multiplier of the step's programme and large enough
  that the step decreases the merit function's quadratic model (Nocedal & Wright 2006,
  eq. 18.36, with ρ = ½); between steps μ falls back at most halfway towards what the step needs
  (Powell 1978's damped update: a μ kept from far away, 870 sitting, rejected the steps near
  the answer, whose linearised targets are met only to second order). Each line search starts
  from twice the last step's length (at most
  the full step), so that a run of damped steps does not pay for a rejected full step each
  time (relaxed standing from the reference posture: 30.0 -> 28.5 ms mean over psoas 0-500 N).

* Near the answer a full step shorter than ``check_below`` is followed by a check: the next
  step from the last Hessian and the new point's gradient; where it is below the tolerance the
  iteration has converged without the new point's Hessian.

Near the solution the steps converge quadratically when H is the exact Hessian.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np


class Point(NamedTuple):
    """What `newton_sqp` needs at one u: f, the equalities h (k,), the inequalities g (m,)
    (≥ 0 to hold) and, at the points the steps start from, the gradient (n,), the Hessian
    (n, n) and the Jacobians (k, n), (m, n) (None at trial points of the line search);
    ``f_error``: a bound on the error of f as evaluated (0: exact to its rounding)."""

    f: float
    h: np.ndarray
    g: np.ndarray
    grad: np.ndarray | None = None
    hessian: np.ndarray | None = None
    h_jac: np.ndarray | None = None
    g_jac: np.ndarray | None = None
    f_error: float = 0.0


class Outcome(NamedTuple):
    """Where `newton_sqp` ended: u (n,), the steps taken, whether it converged, and why not."""

    u: np.ndarray
    steps: int
    converged: bool
    message: str


#: The Armijo fraction of the merit function's predicted decrease a step must achieve.
ARMIJO = 1e-4
#: Fractions of the linearised constraints' violation a step is asked to remove, in turn, where
#: removing all of it is inconsistent with the bounds (far from a target: relaxation as in
#: Powell's SQP, where d = 0 satisfies the relaxed constraints as τ → 0).
RELAXATION = (1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125)
#: Relative size of rounding in the merit function: a step that predicts less is not taken.
ROUNDING = 1e-14
#: A step (in u's units) so short that the line search cannot see the merit function change
#: beyond its rounding (the equalities' rounding times μ): a search that fails on it has converged.
STALL_STEP = 1e-8


def newton_sqp(evaluate: Callable[[np.ndarray, bool | str], Point | None], u0: np.ndarray, lo: np.ndarray,
               hi: np.ndarray, *, max_steps: int = 40, step_tol: float = 1e-10,
               min_alpha: float = 1.0 / 32.0, check_below: float | None = None) -> Outcome:
    """Minimise f subject to h = 0, g ≥ 0, lo ≤ u ≤ hi from u0 (n,) (module docstring).

    ``evaluate(u, derivatives)`` returns a `Point` (with the derivatives if asked) or None where
    f cannot be evaluated (a trial point there is rejected; the start must evaluate). Converged
    when a step's largest component is below ``step_tol`` (in u's units) or the decrease it
    predicts is at the rounding of the merit function (`ROUNDING`), or when the line search
    finds no decrease along a step shorter than `STALL_STEP` or along one that predicts a
    decrease within the error of f's evaluations (twice the start's `Point.f_error`).
    Returns an `Outcome`; not converged: after ``max_steps`` steps, when a step's programme
    fails, or when the line search cannot decrease the merit function with a step
    ``min_alpha`` times the full one.

    ``check_below``: after a full step shorter than this, the next step is first found with the
    last step's Hessian and the gradient and constraints of the new point (``evaluate(u,
    "gradient")``, a `Point` without the Hessian, or with it if the evaluator has no cheaper
    one); if it is below ``step_tol`` the iteration has converged there without the Hessian of
    the new point. Near the answer of a quadratically converging iteration the Hessian changes
    by the order of the last step, and the step found so by as little relative to it.
    """
    u = np.asarray(u0, float)
    pt = evaluate(u, True)
    if pt is None:
        return Outcome(u, 0, False, "the start cannot be evaluated")
    mu, first = 1.0, 1.0
    held_g, held_u = pt.g <= 0.0, np.zeros(len(u), bool)    # the inequalities and bounds a step holds
    for step in range(1, max_steps + 1):
        w, V = definite(pt.hessian, np.vstack([pt.h_jac, pt.g_jac[held_g], np.eye(len(u))[held_u]]))
        M = V / np.sqrt(w)                       # d = M y; Mᵀ W M = I
        y, multipliers = _step_programme(pt, M, u, lo, hi)
        if y is None:
            return Outcome(u, step, False, "a step's programme has no solution (inconsistent constraints)")
        k, m = len(pt.h), len(pt.g)
        held_g = multipliers[k:k + m] > 0.0
        held_u = (multipliers[k + m:k + m + len(u)] > 0.0) | (multipliers[k + m + len(u):] > 0.0)
        d = M @ y
        if float(np.max(np.abs(d))) < step_tol:
            return Outcome(u, step, True, "")
        merit_rows = multipliers[:len(pt.h) + len(pt.g)]    # the bounds hold at every trial point
        need = 2.0 * float(np.max(np.abs(merit_rows))) if merit_rows.size else 0.0
        violation = float(np.abs(pt.h).sum() + np.maximum(-pt.g, 0.0).sum())
        if violation > 0.0:     # μ so that the step decreases the merit's model (Nocedal & Wright 18.36)
            need = max(need, (float(pt.grad @ d) + 0.5 * float(y @ y)) / (0.5 * violation))
        # Powell's (1978) damped update: μ may fall back halfway towards what this step needs, so
        # that a μ grown far from the answer does not reject the steps near it
        mu = max(need, 0.5 * (mu + need))
        merit = pt.f + mu * violation
        slope = float(pt.grad @ d) - mu * violation        # the merit's directional derivative
        if -slope <= ROUNDING * (1.0 + abs(merit)):         # what is left to gain is rounding
            return Outcome(u, step, True, "")
        alpha = first                            # the last step's length, doubled: a full step once it fits
        while True:
            trial = evaluate(u + alpha * d, False)
            if trial is not None and (trial.f + mu * float(np.abs(trial.h).sum() + np.maximum(-trial.g, 0.0).sum())
                                      <= merit + ARMIJO * alpha * min(slope, 0.0)):
                break
            alpha *= 0.5
            if alpha < min_alpha:
                if float(np.max(np.abs(d))) < STALL_STEP or -slope <= 2.0 * pt.f_error:
                    return Outcome(u, step, True, "")         # what is left to gain is rounding or error
                return Outcome(u, step, False, "the line search found no decrease of the merit function")
        u, first = u + alpha * d, min(1.0, 2.0 * alpha)
        near = None
        if check_below is not None and alpha == 1.0 and float(np.max(np.abs(d))) < check_below:
            near = evaluate(u, "gradient")      # the next step with this step's Hessian
            if near is not None and near.hessian is None:
                y, _ = _step_programme(near, M, u, lo, hi)
                if y is not None and float(np.max(np.abs(M @ y))) < step_tol:
                    return Outcome(u, step + 1, True, "")
        pt = near if near is not None and near.hessian is not None else evaluate(u, True)
        if pt is None:
            return Outcome(u, step, False, "an accepted point cannot be evaluated")
    return Outcome(u, max_steps, False, f"not converged in {max_steps} steps")


def _step_programme(pt: Point, M: np.ndarray, u: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """The step's programme at ``pt`` in the coordinates y of d = M y (Mᵀ W M = I): min ½|y|² +
    (Mᵀ∇f)ᵀy s.t. h + H_h M y = 0, g + G M y ≥ 0 and the bounds lo ≤ u + M y ≤ hi, far from the
    targets for part of the way (`RELAXATION`). Returns (y, the multipliers) or (None, None)."""
    A = np.vstack([pt.g_jac @ M, M, -M])
    for tau in RELAXATION:
        y, multipliers = projection(-(M.T @ pt.grad), pt.h_jac @ M, -tau * pt.h, A,
                                    np.concatenate([-np.maximum(pt.g, 0.0) - tau * np.minimum(pt.g, 0.0),
                                                    lo - u, u - hi]))
        if y is not None:
            return y, multipliers
    return None, None


def definite(H: np.ndarray, C: np.ndarray, tries: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The eigenvalues w (n,) > 0 and eigenvectors V (n, n) of the positive definite matrix W a
    step's quadratic model uses for the Hessian H (n, n) (symmetrised). H itself where it is
    definite. Else H + ρ CᵀC, C (k, n) the rows of the constraints the step holds (the
    equalities, and the inequalities and bounds the last step held): on those constraints
    dᵀCᵀC d is fixed, so the step is H's own wherever H curves up along them (e.g. the balance
    on the forefoot's edge with the psoas pulling: H has −0.2 across the edge, +0.8 along it);
    ρ the smallest of ``tries`` tenfold steps from 2 |λ_min(H)| / σ_max(C)² that makes it
    definite. Else (H curves down along the constraints too) |H|, its eigenvalues by absolute
    value (module docstring)."""
    H = 0.5 * (H + H.T)
    w, V = np.linalg.eigh(H)
    floor = 1e-10 * max(float(np.abs(w).max()), 1e-300)
    if w[0] > floor or not len(C):
        return np.maximum(np.abs(w), floor), V
    CtC = C.T @ C
    rho = 2.0 * (floor - w[0]) / max(float(np.linalg.eigvalsh(CtC)[-1]), 1e-300)
    for _ in range(tries):
        w2, V2 = np.linalg.eigh(H + rho * CtC)
        if w2[0] > floor:
            return w2, V2
        rho *= 10.0
    return np.maximum(np.abs(w), floor), V


def projection(y0: np.ndarray, E: np.ndarray, e: np.ndarray, A: np.ndarray, b: np.ndarray,
               max_changes: int = 100) -> tuple[np.ndarray | None, np.ndarray]:
    """The point y nearest y0 (n,) with E y = e (k rows) and A y ≥ b (m rows), by an active-set
    iteration from the dual side (as Goldfarb & Idnani 1983 do, without their partial steps):
    start from the equalities alone; add the most violated inequality; drop an added one whose
    multiplier turns negative. Returns (y, the multipliers (k + m,), 0 for inactive
    inequalities), or (None, []) if the constraints are inconsistent or the active set keeps
    changing."""
    k, m = len(e), len(b)
    C, c = np.vstack([E, A]), np.concatenate([e, b])
    active = list(range(k))
    for _ in range(max_changes):
        Ca = C[active]
        if active:
            lam, *_ = np.linalg.lstsq(Ca @ Ca.T, c[active] - Ca @ y0, rcond=None)
            y = y0 + Ca.T @ lam
            if np.max(np.abs(Ca @ y - c[active])) > 1e-9 * (1.0 + np.max(np.abs(c[active]))):
                return None, np.zeros(0)           # the active constraints cannot all hold
        else:
            lam, y = np.zeros(0), y0
        dropped = [i for i, l in zip(active[k:], lam[k:]) if l < 0.0]
        if dropped:                                # an inequality that pushes the wrong way
            active.remove(min(dropped, key=lambda i: lam[active.index(i)]))
            continue
        slack = A @ y - b
        worst = int(np.argmin(slack)) if m else -1
        if m == 0 or slack[worst] >= -1e-12 * (1.0 + abs(b[worst])):
            out = np.zeros(k + m)
            out[active] = lam
            return y, out
        if k + worst in active:                    # rounding: it is held already
            return None, np.zeros(0)
        active.append(k + worst)
    return None, np.zeros(0)

"""Muscle recruitment at a given posture: least-effort activations, shortfall diagnostics.

The `inverse` and `upright` modes (docs/model.md §12) share this: at joint angles q, the muscle
lines the scenario does not prescribe ("free" lines) are given the activations that satisfy
equilibrium at every joint with least effort, 0 ≤ a ≤ 1. Two effort criteria:

* ``"activation_squared"`` (default): Σ aᵢ², the sum of squared activations (Crowninshield RD,
  Brand RA (1981) J Biomech 14:793-801 discuss the family; Σa² is e.g. the criterion of
  Anderson FC, Pandy MG (2001) J Biomech 34:153-161 for static optimization).
* ``"stress_power"``: Σ (Fᵢ / PCSAᵢ)^p with PCSA ∝ F_max (constant specific tension), i.e.
  Σ (aᵢ f_L,i)^p (Crowninshield & Brand 1981: p = 3).

Free lines act with F = F_max cos α (a f_L(l̃) + f_PE(l̃)) (no stretch response: the activation
is what the nervous system chooses). Where the muscles cannot satisfy equilibrium, a joint
carries a **shortfall**: the moment (N·m) that nothing supplied, reported per joint. No hidden
reserve actuator ever enters the answer: a posture with a shortfall is reported as unsolved.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .errors import ModelError
from .least_effort import least_effort_activation
from .muscles import fiber_curves, make_lines, tension as hill_tension
from .problem import resolve_settings
from .statics import force_sources, geometry, geometry_with_segments, point_and_muscle_jacobian, unit_tension_forces
from .threads import scipy_optimize

CRITERIA = ("activation_squared", "stress_power")
#: Weight of a shortfall in the objective the upright optimizer sees ((N·m)⁻²): equilibrium first.
SHORTFALL_WEIGHT = 1e6
#: A shortfall below this (N·m) is numerical zero.
SHORTFALL_TOL_NM = 1e-6


#: Default weight w of the passive tissues in the upright mode's effort (`tissues`): a tissue
#: at the end of its range of motion costs what one muscle line at full activation costs.
DEFAULT_TISSUE_WEIGHT = 1.0


@dataclass(frozen=True)
class Criterion:
    """An effort criterion: ``name`` in CRITERIA, ``exponent`` p for "stress_power" (2-4), and
    ``tissue_weight`` w ≥ 0 (0-10) of the passive tissues' term, ½ w Σ (M_passive/M_ref)², which
    the upright mode adds (`tissues`; w = 0: muscles alone). The inverse mode is given the
    posture, so the tissue term is a constant there."""

    name: str = "activation_squared"
    exponent: float = 3.0
    tissue_weight: float = DEFAULT_TISSUE_WEIGHT

    def __post_init__(self):
        if self.name not in CRITERIA:
            raise ModelError(f"effort criterion must be one of {', '.join(CRITERIA)}, got {self.name!r}")
        if not 2.0 <= self.exponent <= 4.0:
            raise ModelError(f"stress_power exponent must be within 2-4, got {self.exponent}")
        if isinstance(self.tissue_weight, bool) or not isinstance(self.tissue_weight, (int, float)) \
                or not 0.0 <= self.tissue_weight <= 10.0:
            raise ModelError(f"tissue_weight must be a number within 0-10, got {self.tissue_weight!r}")


@dataclass(frozen=True, eq=False)
class Recruitment:
    """Least-effort activations at one posture."""

    q: np.ndarray              # (n_joints,) rad
    activation: np.ndarray     # (M,) all lines (free ones recruited, others as set)
    free: np.ndarray           # (M,) bool
    shortfall: np.ndarray      # (n_joints,) N·m the muscles could not supply, per joint
    joints: tuple              # joint names
    effort: float              # Σ c a² (or Σ c (a f_L)^p) over the free lines, c their pair shares
                               # (the upright mode minimises half of it, docs/model.md §12)
    objective: float           # effort + SHORTFALL_WEIGHT · |shortfall|² (what the optimizer sees)
    geometry: object = dataclasses.field(default=None, repr=False)   # `statics.Geometry` at q

    @property
    def feasible(self) -> bool:
        return bool(np.max(np.abs(self.shortfall)) <= SHORTFALL_TOL_NM)

    def message(self) -> str:
        if self.feasible:
            return "muscles hold the posture"
        j = int(np.argmax(np.abs(self.shortfall)))
        worst = ", ".join(f"{self.joints[k]} {self.shortfall[k]:+.3g} N·m" for k in np.argsort(-np.abs(self.shortfall))
                          if abs(self.shortfall[k]) > SHORTFALL_TOL_NM)
        return (f"the muscles cannot hold this posture: {self.joints[j]} falls short by "
                f"{abs(self.shortfall[j]):.3g} N·m (shortfall per joint, + = extension needed: {worst})")


def free_lines(problem) -> np.ndarray:
    """Lines the optimizer may recruit (M,): every line not set by tension or activation."""
    fixed = np.zeros(problem.model.n_muscles, bool)
    for i, (_, s) in resolve_settings(problem.model, problem.settings).items():
        fixed[i] = s.tension_N is not None or s.activation is not None
    return ~fixed


def unrecruited(problem, geo, free):
    """The muscle forces that recruitment does not choose, at a geometry: tension (M,) of every
    line with the free lines at activation 0 (fixed lines at their set tension or activation,
    no stretch response; passive force of all, clipped at 0) and its slope dT/dL (M,); and the
    fibre curves (`muscles.fiber_curves`)."""
    lines = problem.lines
    curves = fiber_curves(lines, geo.length)
    act = np.where(free, 0.0, lines.activation)
    tension, dtension = hill_tension(lines, curves, act, slope=True)
    return tension, dtension, curves


def _line_terms(problem, geo, free):
    """Unit-activation generalized forces A (n_joints, F) of the free lines and the generalized
    force r0 (n_joints,) of everything else (gravity, loads, contacts, passive joints, fixed
    lines at their set tension or activation, passive force of the free lines)."""
    terms = held_terms(problem, geo.q, free, geo)
    return terms.A, terms.r0, terms.fl[free]


class HeldTerms(NamedTuple):
    """What holding a posture costs to evaluate once, whatever the free lines' activations: the
    geometry and its segment quantities (None when a geometry was given), r0 (n_joints,) and
    A (n_joints, F) of R = r0 + A a, the unit-tension forces W (n_joints, M), the tensions and
    slopes dT/dL (M,) with the free lines at activation 0, f_L and ∂f_L/∂L (M,), and the passive
    moments (n_joints,), their slopes, the loads and the contact state of `statics.force_sources`."""

    geo: object
    segments: tuple | None
    r0: np.ndarray
    A: np.ndarray
    W: np.ndarray
    tension: np.ndarray
    dtension: np.ndarray
    fl: np.ndarray
    dfl: np.ndarray
    passive: np.ndarray
    k_p: object
    loads: object
    contact: object


def held_terms(problem, q: np.ndarray, free: np.ndarray, geo=None) -> HeldTerms:
    """`HeldTerms` at posture q (n_joints,) for the free lines (M,) bool: one geometry (or the
    one given)."""
    seg = None
    if geo is None:
        geo, seg = geometry_with_segments(problem, q)
    (tau_g, tau_e, tau_c, tau_p, *_), _, _, k_p, loads, contact = force_sources(problem, q, geo, False, False)
    tension, dtension, (fl, dfl, _, _) = unrecruited(problem, geo, free)
    W = unit_tension_forces(problem, geo)
    r0 = tau_g + tau_e + tau_c + tau_p + W @ tension
    A = (problem.lines.fmax_cos * fl)[None, free] * W[:, free]
    return HeldTerms(geo, seg, r0, A, W, tension, dtension, fl, dfl, tau_p, k_p, loads, contact)


def held_jacobian(problem, terms: HeldTerms, free: np.ndarray, a: np.ndarray) -> np.ndarray:
    """The exact ∂R/∂q (n_joints, n_joints) of R = r0 + A a at the free lines' activations a
    (F,): `statics.point_and_muscle_jacobian` with the tensions of the held muscles (``terms``
    from `held_terms` without a given geometry)."""
    fmax = problem.lines.fmax_cos[free]
    tension, dtension = terms.tension.copy(), terms.dtension.copy()
    tension[free] += fmax * terms.fl[free] * a                 # the recruited active force
    dtension[free] += fmax * terms.dfl[free] * a
    return point_and_muscle_jacobian(problem, terms.geo, terms.segments, tension, dtension, terms.k_p,
                                     terms.loads, terms.contact)


def held_balance(problem, q: np.ndarray, free: np.ndarray, a: np.ndarray):
    """Equilibrium of posture q (n_joints,) held by activations a (F,) of the free lines, with
    its derivatives: the generalized force R = r0 + A a (n_joints,) of `held_terms`, the exact
    ∂R/∂q at these activations (`held_jacobian`), A = ∂R/∂a (n_joints, F), f_L of the free lines
    (F,) and its derivative ∂f_L/∂q (F, n_joints), and the geometry. One evaluation of the
    geometry."""
    t = held_terms(problem, q, free)
    return (t.r0 + t.A @ a, held_jacobian(problem, t, free, a), t.A, t.fl[free],
            t.dfl[free, None] * t.geo.dLdq[free], t.geo)


def recruit(problem, q: np.ndarray, *, criterion: Criterion = Criterion(), free=None) -> Recruitment:
    """Least-effort activations of the free lines that hold posture q (n_joints,) in equilibrium.

    Equilibrium is required in the support's free coordinates (Bᵀ R = 0); where it cannot be
    met the shortfall (N·m per joint, the generalized force still missing) is reported.
    """
    free = free_lines(problem) if free is None else np.asarray(free, bool)
    geo = geometry(problem, np.asarray(q, float))
    A, r0, fl = _line_terms(problem, geo, free)
    B = problem.B
    Ab, bb = B.T @ A, -(B.T @ r0)
    upper = np.ones(int(free.sum()))
    share = np.asarray(problem.model.pair_share)[free]
    x, res = _least_effort(Ab, bb, upper, fl, criterion, share)
    p = np.zeros(len(bb))
    if not res <= SHORTFALL_TOL_NM:
        # infeasible: the smallest shortfall the muscles leave (bounded least squares), then
        # the least effort that achieves it
        best = scipy_optimize().lsq_linear(Ab, bb, bounds=(0.0, upper), method="bvls", tol=1e-12)
        p = bb - Ab @ best.x
        x, res = _least_effort(Ab, bb - p, upper, fl, criterion, share)
        if not res <= 1e-6:
            x = np.clip(best.x, 0.0, 1.0)
        p = bb - Ab @ x
    return recruitment_of(problem, q, free, x, fl, geo, criterion=criterion, shortfall=B @ p)


def recruitment_of(problem, q: np.ndarray, free: np.ndarray, x: np.ndarray, fl: np.ndarray, geo, *,
                   criterion: Criterion = Criterion(), shortfall=None) -> Recruitment:
    """The `Recruitment` of the free lines' least-effort activations x (F,) at posture q, found
    already (by `recruit`, or by the upright mode's inner iteration at its answer): f_L (F,) of
    the free lines and the geometry at q; ``shortfall`` (n_joints,) N·m, default none."""
    share = np.asarray(problem.model.pair_share)[free]
    effort = _effort(x, fl, criterion, share)
    activation = np.array(problem.lines.activation, float)
    activation[free] = x
    short = np.zeros(len(q)) if shortfall is None else np.asarray(shortfall, float)
    short = np.where(np.abs(short) > SHORTFALL_TOL_NM, short, 0.0)
    return Recruitment(q=np.asarray(q, float), activation=activation, free=free, shortfall=short,
                       joints=problem.model.joints, effort=effort,
                       objective=effort + SHORTFALL_WEIGHT * float(short @ short), geometry=geo)


def _effort(x, fl, criterion: Criterion, share=1.0) -> float:
    """The criterion's effort of activations x: Σ c x² or Σ c (x f_L)^p, c the lines'
    `Model.pair_share`."""
    if criterion.name == "activation_squared":
        return float(x @ (share * x))
    return float(np.sum(share * np.maximum(x * fl, 0.0) ** criterion.exponent))


def _least_effort(A, b, upper, fl, criterion: Criterion, share=1.0):
    """Activations minimising the criterion with A x = b, 0 ≤ x ≤ upper; and max|A x − b|.

    Σ c (x f_L)^p = Σ w x^p with w = c f_L^p (`least_effort.least_effort_activation`; c the lines'
    `Model.pair_share`). For p > 2 its dual is far from quadratic, so the iteration starts from
    the multipliers that reproduce the p = 2 answer x₂ through the optimality condition
    t = w x^(p−1) on the lines it uses."""
    if criterion.name == "activation_squared":
        x, _, res = least_effort_activation(A, b, upper, weight=None if np.all(share == 1.0) else share,
                                            max_iter=300)
        return x, res
    p, fl = criterion.exponent, np.maximum(fl, 0.0) * share ** (1.0 / criterion.exponent)
    x2, _, res = least_effort_activation(A, b, upper, weight=fl ** 2, max_iter=300)
    if p == 2.0 or not res <= SHORTFALL_TOL_NM:
        return x2, res
    used = x2 > 0.0
    start = np.linalg.lstsq(A[:, used].T, fl[used] ** p * x2[used] ** (p - 1), rcond=None)[0]
    x, _, res = least_effort_activation(A, b, upper, power=p, weight=fl ** p, start=start,
                                        max_iter=300)
    if not res <= SHORTFALL_TOL_NM:
        # the dual is not smooth where a line's activation leaves 0 (x ∝ t^(1/(p−1))); in the
        # rare case it stalls there, SLSQP on the primal finishes from its activations
        x, res = _stress_power_slsqp(A, b, upper, fl, p, np.clip(x, 0.0, upper))
    return x, res


def _stress_power_slsqp(A, b, upper, fl, p, x0):
    """min Σ (x f_L)^p s.t. A x = b, 0 ≤ x ≤ upper by SLSQP from x0; and max|A x − b|."""
    minimize = scipy_optimize().minimize

    def cost(x):
        value, slope = half_squared_p_norm(x * fl, p)
        return value, slope * fl

    res = minimize(cost, x0, jac=True, method="SLSQP", bounds=list(zip(np.zeros(len(x0)), upper)),
                   constraints=[{"type": "eq", "fun": lambda x: A @ x - b, "jac": lambda x: A}],
                   options={"maxiter": 500, "ftol": 1e-15})
    x = np.clip(res.x, 0.0, upper)
    return x, float(np.max(np.abs(A @ x - b)))


def half_squared_p_norm(s: np.ndarray, p: float) -> tuple[float, np.ndarray]:
    """½ ‖s⁺‖_p² of s⁺ = max(s, 0) (F,) and its gradient (F,): the objective SLSQP minimises
    for the stress criterion. It has the minimisers of Σ (s⁺)^p and, being homogeneous of
    degree 2 like ½ Σ a², a Hessian of order 1 at any activation level, which suits SLSQP's
    identity start (Σ (s⁺)^p with p = 4 has curvature ~10⁻³ at a = 0.02)."""
    s = np.maximum(s, 0.0)
    norm = float(np.sum(s ** p)) ** (1.0 / p)
    if norm == 0.0:
        return 0.0, np.zeros(len(s))
    return 0.5 * norm * norm, norm ** (2.0 - p) * s ** (p - 1.0)


def holding_problem(problem, recruitment: Recruitment):
    """The forward `Problem` in which the recruited activations are set and the posture is the
    set point of the muscles' stretch response: its residual at ``recruitment.q`` is the
    equilibrium check, its stiffness matrix the stability of the recruited posture
    (short-range stiffness q F / l_fibre of every active line, docs/model.md §6). Its lines
    carry the activations (the free ones recruited, clipped to 0-1); its settings stay the
    problem's. Lines set by resting_length_scale keep their scaled fibre length."""
    m, lines = problem.model, problem.lines
    activation = np.array(lines.activation, float)
    free = np.asarray(recruitment.free, bool)
    activation[free] = np.clip(recruitment.activation[free], 0.0, 1.0)
    lengths = (recruitment.geometry or geometry(problem, recruitment.q)).length
    lines = make_lines(m, lopt=lines.lopt, lts=lines.lts, fixed_tension=lines.fixed_tension,
                       tension=lines.tension, activation=activation,
                       excess_passive=np.asarray(m.excess_passive, bool), L_ref=lengths,
                       short_range_stiffness=problem.short_range_stiffness)
    return dataclasses.replace(problem, lines=lines)

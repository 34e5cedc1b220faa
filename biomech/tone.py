"""Baseline muscle tone: the calibration that gives a compiled model its relaxed-standing tone.

`fit_tone(model)` returns the model with the default state of every muscle a scenario does not
set (docs/model.md §6, docs/calibration.md §2): the least-effort activations that hold the
relaxed standing reference posture, with the passive tissues counted as in the upright mode's
effort (`tissues`),

    min ½ Σ (a_i − a_floor,i)² + ½ w Σ_j (p_j / M_ref,j)²   subject to equilibrium at every
                                                           free joint, a_floor,i ≤ a_i ≤ a_max,i,

over all lines i and the joints j with an intervertebral law, where a_floor is the group's
relaxed-standing EMG floor (`muscles.DEFAULT_TONE`), a_max its EMG ceiling
(`muscles.RELAXED_TONE_MAX`, 1 for a group without a published range), p_j a moment the passive tissues of joint j
carry, M_ref,j their test moment and w the default tissue weight
(`recruitment.DEFAULT_TISSUE_WEIGHT`). The model's stress-free angles are offset so that the
tissues carry p. It sits above the statics: it prepares a standing problem with the floor
activations and solves one convex programme (`least_effort.least_effort_activation`).
"""

from __future__ import annotations

import functools

import numpy as np

from .anatomy import build_model
from .errors import ModelError
from .legs import two_legs
from .least_effort import least_effort_activation
from .muscles import RELAXED_TONE_MAX
from .model import Model, Subject, replace
from .passive import default_intervertebral_laws, intervertebral_moment
from .problem import prepare, tone_floor
from .recruitment import DEFAULT_TISSUE_WEIGHT
from .statics import generalized_forces, geometry, unit_activation_forces
from .supports import Support
from .threads import one_blas_thread

#: Upper bound of a baseline activation of a group without a published relaxed-standing range
#: (`muscles.RELAXED_TONE_MAX` bounds the others).
MAX_BASELINE_ACTIVATION = 1.0


@one_blas_thread
def fit_tone(model: Model) -> Model:
    """The model with its baseline tone (`Model.baseline_activation`) and the stress-free angles
    at which the passive tissues carry their least-effort share (`Model.rest_angle`).

    Raises
    ------
    ModelError
        When nothing can hold the relaxed reference posture (a moment is missing at a joint
        without an intervertebral law, e.g. the hip).
    """
    if model.sides:
        raise ModelError("fit_tone: fit the tone on the model with the legs lumped, then split the "
                         "legs (biomech.two_legs(biomech.fit_tone(model))): the relaxed reference "
                         "posture is standing, which this version builds for lumped legs")
    joints, A, b, upper, slack, m_ref = tone_programme(model)
    x, p, residual = least_effort_activation(A, b, upper, slack=slack,
                                             slack_weight=DEFAULT_TISSUE_WEIGHT / m_ref ** 2)
    if not residual <= 1e-6:
        j = int(joints[np.argmax(np.abs(A @ x + p - b))])
        raise ModelError("the muscles cannot hold the relaxed reference posture of this subject "
                         f"at the {model.joints[j]} (moment shortfall {residual:.3g} N·m); check "
                         "the subject parameters")
    rest = np.array(model.rest_angle, float)
    shared = np.flatnonzero(p)
    rest[joints[shared]] -= angles_for_moments([model.passive[joints[k]] for k in shared], p[shared])
    return replace(model, baseline_activation=tone_floor(model) + x, rest_angle=rest)


@functools.lru_cache(maxsize=256)
def calibrated_model(subject: Subject, disc_stiffness_scale: float = 1.0,
                     hip_stiffness_scale: float = 1.0, legs: int = 1) -> Model:
    """The default model of a subject and passive scales with its baseline tone, built once per
    process for each distinct set of arguments (models are immutable; a scenario library shares
    a few subjects, and the loader, the runner and the studies all ask for them). ``legs``: 1,
    the legs lumped; 2, the same model with two legs (`legs.two_legs`, its tone that of the
    lumped model)."""
    if legs == 2:
        return two_legs(calibrated_model(subject, disc_stiffness_scale, hip_stiffness_scale))
    if legs != 1:
        raise ModelError(f"calibrated_model: legs must be 1 or 2, got {legs!r}")
    return fit_tone(build_model(subject, intervertebral=default_intervertebral_laws(disc_stiffness_scale),
                                hip_stiffness_scale=hip_stiffness_scale))


def tone_programme(model: Model):
    """The baseline-tone programme of a compiled model, over the joints the standing reference
    problem leaves free (the knees and ankles are held): their indices (n,), A (n, M)
    generalized forces per unit of extra activation, b (n,) what they must supply at the
    reference posture with the floor activations, the upper bounds (M,) of the extra activation
    (each group's relaxed-standing EMG ceiling `muscles.RELAXED_TONE_MAX` above its floor),
    which joints' passive tissues may carry a share (n,) bool (those with an intervertebral law;
    the hip has a published passive law of its own) and their M_ref (n,) N·m (1 elsewhere)."""
    floor = tone_floor(model)
    problem = prepare(model, support=Support("standing"), short_range_stiffness=0.0,
                      baseline_activation=floor)
    q = problem.q_ref
    geo = geometry(problem, q)
    g = generalized_forces(problem, q, geo)
    r0 = g["gravity"] + g["passive"] + g["muscle"] + g["abdominal_pressure"]  # with the floor activations
    joints = np.flatnonzero(problem.B.any(1))
    slack = np.isin(joints, problem.iv_joints)
    m_ref = np.where(slack, np.nan_to_num(problem.tissue_ref[0, joints], nan=1.0), 1.0)
    ceiling = np.array([RELAXED_TONE_MAX.get(g, MAX_BASELINE_ACTIVATION) for g in model.muscle_group])
    return (joints, unit_activation_forces(problem, geo)[joints], -r0[joints],
            np.maximum(ceiling - floor, 0.0), slack, m_ref)


def angles_for_moments(laws, moments) -> np.ndarray:
    """The angles θ (rad, (n,)) from the stress-free angle at which intervertebral laws (n,)
    exert ``moments`` (n,) N·m on the superior body (Newton's method on the monotonic laws, all
    at once, each step at most the law's exponential angle θ_e or θ_f: from θ = 0, where only
    the small linear stiffness k0 acts, a full first step lands far out on the exponential, from
    where Newton crawls back about one θ_e per step: 15 -> 7-9 steps)."""
    moments = np.asarray(moments, float)
    if not len(moments):
        return np.zeros(0)
    coeffs = np.array([law.coefficients() for law in laws])
    cap = np.minimum(coeffs[:, 2], coeffs[:, 4])
    theta = np.zeros(len(moments))
    for _ in range(100):
        m, dm = intervertebral_moment(coeffs, theta)
        step = np.clip((m - moments) / dm, -cap, cap)
        theta -= step
        if np.max(np.abs(step)) < 1e-14:
            return theta
    k = int(np.argmax(np.abs(step)))
    raise ModelError(f"no intervertebral angle gives a passive moment of {moments[k]:.3g} N·m")

"""Baseline muscle tone: the calibration that gives a compiled model its relaxed-standing tone.

`fit_tone(model)` returns the model with the default state of every muscle a scenario does not
set (docs/model.md §6, docs/calibration.md §2): the least-effort activations that hold the
relaxed standing reference posture,

    min ½ Σ (a_i − a_floor,i)² + ½ ρ Σ p_j²   subject to equilibrium at every joint,
                                              a_floor,i ≤ a_i ≤ 1,

over all lines i and the joints j with an intervertebral law, where a_floor is the group's
relaxed-standing EMG floor (`muscles.DEFAULT_TONE`) and p_j a moment the passive tissues of
joint j carry. With the heavy weight ρ the muscles hold whatever they can; the passive tissues
carry only what the muscle set cannot produce, and the model's stress-free angles are offset so
that they do. It sits above the statics: it prepares a standing problem with the floor
activations and solves one convex programme (`least_effort.least_effort_activation`).
"""

from __future__ import annotations

import functools

import numpy as np

from .anatomy import build_model
from .errors import ModelError
from .least_effort import least_effort_activation
from .model import Model, Subject, replace
from .passive import default_intervertebral_laws, intervertebral_moment
from .problem import prepare, tone_floor
from .statics import generalized_forces, geometry, unit_activation_forces
from .supports import Support
from .threads import one_blas_thread

#: Upper bound of a baseline activation.
MAX_BASELINE_ACTIVATION = 1.0
#: Weight of a passive moment against activation in the baseline-tone cost ((N·m)⁻²): 1 N·m
#: carried passively costs as much as 100 lines at full activation.
PASSIVE_WEIGHT = 1e4


@one_blas_thread
def fit_tone(model: Model) -> Model:
    """The model with its baseline tone (`Model.baseline_activation`) and, where the muscles
    cannot hold the reference posture alone, the stress-free angles that let the passive tissues
    carry the rest (`Model.rest_angle`).

    Raises
    ------
    ModelError
        When nothing can hold the relaxed reference posture (a moment is missing at a joint
        without an intervertebral law, e.g. the hip).
    """
    A, b, upper, slack = tone_programme(model)
    x, p, residual = least_effort_activation(A, b, upper)
    if not residual <= 1e-8:                           # the muscles alone cannot: passive slack
        x, p, residual = least_effort_activation(A, b, upper, slack=slack, slack_weight=PASSIVE_WEIGHT)
    if not residual <= 1e-6:
        j = int(np.argmax(np.abs(A @ x + p - b)))
        raise ModelError("the muscles cannot hold the relaxed reference posture of this subject "
                         f"at the {model.joints[j]} (moment shortfall {residual:.3g} N·m); check "
                         "the subject parameters")
    rest = np.array(model.rest_angle, float)
    for j in np.flatnonzero(p):
        rest[j] -= angle_for_moment(model.passive[j], p[j])
    return replace(model, baseline_activation=tone_floor(model) + x, rest_angle=rest)


@functools.lru_cache(maxsize=256)
def calibrated_model(subject: Subject, disc_stiffness_scale: float = 1.0,
                     hip_stiffness_scale: float = 1.0) -> Model:
    """The default model of a subject and passive scales with its baseline tone, built once per
    process for each distinct argument triple (models are immutable; a scenario library shares
    a few subjects, and the loader, the runner and the studies all ask for them)."""
    return fit_tone(build_model(subject, intervertebral=default_intervertebral_laws(disc_stiffness_scale),
                                hip_stiffness_scale=hip_stiffness_scale))


def tone_programme(model: Model):
    """The baseline-tone programme of a compiled model: A (n_joints, M) generalized forces per
    unit of extra activation, b (n_joints,) what they must supply at the standing reference
    posture with the floor activations, the upper bounds (M,) of the extra activation, and the
    joints whose passive tissues may carry a remainder (n_joints,) bool (those with an
    intervertebral law; the hip has a published passive law of its own)."""
    floor = tone_floor(model)
    problem = prepare(model, support=Support("standing"), short_range_stiffness=0.0,
                      baseline_activation=floor)
    q = problem.q_ref
    geo = geometry(problem, q)
    g = generalized_forces(problem, q, geo)
    r0 = g["gravity"] + g["passive"] + g["muscle"]       # with the floor activations
    slack = np.zeros(model.n_joints, bool)
    slack[problem.iv_joints] = True
    return (unit_activation_forces(problem, geo), -r0,
            np.maximum(MAX_BASELINE_ACTIVATION - floor, 0.0), slack)


def angle_for_moment(law, moment: float) -> float:
    """The angle θ (rad) from the stress-free angle at which an intervertebral law exerts
    ``moment`` (N·m) on the superior body (Newton's method on the monotonic law)."""
    coeffs = np.array([law.coefficients()])
    theta = 0.0
    for _ in range(100):
        m, dm = intervertebral_moment(coeffs, np.array([theta]))
        step = (m[0] - moment) / dm[0]
        theta -= step
        if abs(step) < 1e-14:
            return theta
    raise ModelError(f"no intervertebral angle gives a passive moment of {moment:.3g} N·m")

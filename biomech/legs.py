"""Two legs: the default model with its lumped legs split into a right and a left leg.

`two_legs(model)` returns the model with two branches from the pelvis (docs/model.md §1b):
the lumped ``femur``, ``shank`` and ``foot`` and their ``hip``, ``knee`` and ``ankle`` become
the right leg (``femur_right`` … ``ankle_right``, in their places), and a left leg is added
after the head (``femur_left``, ``shank_left``, ``foot_left``; ``hip_left``, ``knee_left``,
``ankle_left``). Each leg has half the lumped legs' masses, passive moments (one leg's Riener &
Edrich law) and muscle forces: every line with a point on a leg becomes two, ``<line>_right``
and ``<line>_left``, each with half its F_max and its tone. Trunk lines stay lumped. In the
sagittal plane both legs are drawn in the same place, so a symmetric posture of the two-legged
model is that of the lumped one.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from .errors import ModelError
from .model import Model, check_tree, replace
from .passive import LegLaw

SIDES = ("right", "left")
#: The leg bodies of the lumped model, distal to proximal, and their joints with the body above.
LEG_BODIES = ("foot", "shank", "femur")
LEG_JOINTS = ("ankle", "knee", "hip")


def two_legs(model: Model) -> Model:
    """The model with a right and a left leg (module docstring). The baseline tone, if fitted,
    is kept: each side's copy of a line gets the lumped line's activation, so the relaxed
    standing posture and its tone are those of ``model``."""
    if model.sides:
        raise ModelError("two_legs: the model already has two legs")
    nb = model.n_bodies
    leg_b = [model.body_index(b) for b in LEG_BODIES]
    leg_j = [model.joint_index(j) for j in LEG_JOINTS]
    # the left leg's bodies and joints, appended proximal to distal (femur, shank, foot)
    left_body = {b: nb + k for k, b in enumerate(reversed(leg_b))}
    left_joint = list(reversed(leg_j))

    def on_left(b):
        return left_body.get(int(b), int(b))

    bodies = list(model.bodies)
    joints = list(model.joints)
    for b in leg_b:
        bodies[b] += "_right"
    for j in leg_j:
        joints[j] += "_right"
    bodies += [model.bodies[b] + "_left" for b in reversed(leg_b)]
    joints += [model.joints[j] + "_left" for j in left_joint]

    def add_rows(arr, rows, fn=None):
        arr = np.asarray(arr)
        extra = arr[rows] if fn is None else np.vectorize(fn)(arr[rows])
        return np.concatenate([arr, extra], axis=0)

    def one_leg(law):
        if not isinstance(law, LegLaw):
            raise ModelError(f"two_legs: a leg joint needs a LegLaw, got {type(law).__name__}")
        return LegLaw(law.joint, law.scale, legs=1)
    passive = list(model.passive)
    for j in leg_j:
        passive[j] = one_leg(passive[j])
    passive += [one_leg(model.passive[j]) for j in left_joint]
    mass = np.array(model.mass, float)
    mass[leg_b] *= 0.5
    mass = np.concatenate([mass, mass[list(reversed(leg_b))]])
    com = add_rows(model.com, list(reversed(leg_b)))

    # landmarks on a leg: one for each side
    landmarks = {}
    for name, (b, pt) in model.landmarks.items():
        if b in leg_b:
            landmarks[f"{name}_right"] = (b, pt)
            landmarks[f"{name}_left"] = (on_left(b), pt)
        else:
            landmarks[name] = (b, pt)

    # muscle lines with a point on a leg: one for each side, each with half the force
    ptr = np.asarray(model.line_ptr)
    pt_body = np.asarray(model.pt_body)
    rows, pts, sides, points_body = [], [], [], []
    for i in range(model.n_muscles):
        span = np.arange(ptr[i], ptr[i + 1])
        if np.isin(pt_body[span], leg_b).any():
            for side in SIDES:
                rows.append(i)
                sides.append(side)
                pts.append(span)
                points_body.append(pt_body[span] if side == "right" else [on_left(b) for b in pt_body[span]])
        else:
            rows.append(i)
            sides.append("")
            pts.append(span)
            points_body.append(pt_body[span])
    rows = np.array(rows)
    half = np.where(np.array(sides) != "", 0.5, 1.0)
    flat = np.concatenate(pts)
    names = tuple(model.muscle_names[i] + (f"_{s}" if s else "") for i, s in zip(rows, sides))
    tone = None if model.baseline_activation is None else np.asarray(model.baseline_activation)[rows]
    out = replace(
        model, bodies=tuple(bodies), joints=tuple(joints),
        joint_inferior=add_rows(model.joint_inferior, left_joint, on_left),
        joint_superior=add_rows(model.joint_superior, left_joint, on_left),
        joint_in_inferior=add_rows(model.joint_in_inferior, left_joint),
        joint_in_superior=add_rows(model.joint_in_superior, left_joint),
        joint_offset=add_rows(model.joint_offset, left_joint), joint_range=add_rows(model.joint_range, left_joint),
        reference_angle=add_rows(model.reference_angle, left_joint), rest_angle=add_rows(model.rest_angle, left_joint),
        passive=tuple(passive), mass=mass, com=com, landmarks=MappingProxyType(landmarks),
        muscle_names=names, muscle_group=tuple(model.muscle_group[i] for i in rows),
        max_isometric_force=np.asarray(model.max_isometric_force)[rows] * half,
        optimal_fiber_length=np.asarray(model.optimal_fiber_length)[rows],
        tendon_slack_length=np.asarray(model.tendon_slack_length)[rows],
        pennation=np.asarray(model.pennation)[rows], excess_passive=np.asarray(model.excess_passive)[rows],
        parameter_source=tuple(model.parameter_source[i] for i in rows),
        line_ptr=np.concatenate([[0], np.cumsum([len(s) for s in pts])]),
        pt_body=np.concatenate(points_body).astype(int), pt_local=np.asarray(model.pt_local)[flat],
        pt_z=np.asarray(model.pt_z)[flat], pt_condition=np.asarray(model.pt_condition)[flat],
        pt_sacral=np.asarray(model.pt_sacral)[flat], sides=SIDES, muscle_side=tuple(sides),
        baseline_activation=tone)
    check_tree(out)
    return out


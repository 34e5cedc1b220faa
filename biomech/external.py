"""The forces of the surroundings on the bodies at one posture: the external loads, the
compliant support contacts (seat, backrest, table; docs/model.md §7) and the hands that draw a
knee to the chest.

Functions of a prepared problem (`problem.Problem`) and a geometry (`statics.Geometry`, of one
posture or a batch: the arrays below then gain its leading dimensions): both
the statics, which sums them into generalized forces, and `balance`, which finds the support's
reaction on the root from them, use these, so neither needs the other.
"""

from __future__ import annotations

import numpy as np

from . import kinematics as kin
from .supports import contact_law


def contact_state(problem, geo):
    """Bodies (n,), world points (n, 2), forces (n, 2) N and penetrations (n,) m of the
    support contacts: the push along the normal (`contact_law`) and, where a point grips, the
    friction along the surface, −k_grip (p·t − anchor) t."""
    p = problem
    if not len(p.contact_body):
        return np.zeros(0, int), np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0)
    pts = kin.points_world(geo.angles, geo.origins, p.contact_body, p.contact_local)
    held = pts - geo.shift[..., None, :]                    # in the support's frame
    pen = p.contact_offset - np.einsum("...ij,ij->...i", held, p.contact_normal)
    force = contact_law(pen, p.contact_stiffness)[0][..., None] * p.contact_normal
    if p.contact_grip.any():            # a gripping point (static friction): a stiff spring along
        slide = np.einsum("...ij,ij->...i", held, p.contact_tangent) - p.contact_anchor   # the surface
        force = force - (p.contact_grip * slide)[..., None] * p.contact_tangent
    return p.contact_body, pts, force, pen


def contact_forces(problem, geo):
    """Bodies (n,), world points (n, 2) and forces (n, 2) N of every support force: the support
    contacts (`contact_state`), the two ends of each of the hands' springs (`hand_state`), then
    the floor's push on a second foot (`floor_state`)."""
    parts = [contact_state(problem, geo)[:3]]
    if len(problem.hand_body):
        parts.append(hand_state(problem, geo)[:3])
    if len(problem.floor_body):
        parts.append(floor_state(problem, geo))
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate(v) for v in zip(*parts))


def floor_state(problem, geo):
    """Bodies (nF,), world points (nF, 2) and forces (nF, 2) N of the floor on a second foot
    (`problem.Problem.floor_body`): constant forces, found by the upright mode."""
    pts = kin.points_world(geo.angles, geo.origins, problem.floor_body, problem.floor_local)
    return problem.floor_body, pts, problem.floor_force


def load_forces(problem, geo):
    """World points (nL, 2) and forces (nL, 2) N of the external loads."""
    pts = kin.points_world(geo.angles, geo.origins, problem.load_body, problem.load_local)
    return pts, problem.load_force


def hand_state(problem, geo):
    """The hands' springs (`problem.Problem.hand_body`): bodies (2 nH,) and world points (2 nH, 2)
    of their ends (knee, shoulder, knee, ...), the forces there (2 nH, 2) N (+T e on the knee,
    −T e on the shoulder, e the unit vector from the knee to the shoulder), and per spring its
    tension T (nH,) N, its slope dT/dℓ (nH,) N/m, its length ℓ (nH,) m and e (nH, 2). The arms
    hold the knee at their length in the reference posture, as a stiff spring: T = k (ℓ − ℓ_rest),
    a pull (T > 0) or a push (T < 0)."""
    p = problem
    body = p.hand_body.ravel()
    pts = kin.points_world(geo.angles, geo.origins, body, p.hand_local.reshape(-1, 2))
    d = pts[..., 1::2, :] - pts[..., 0::2, :]
    ell = np.sqrt(np.einsum("...ij,...ij->...i", d, d))
    e = d / ell[..., None]
    slope = p.hand_stiffness
    tension = slope * (ell - p.hand_rest)
    force = np.empty_like(pts)
    force[..., 0::2, :] = tension[..., None] * e
    force[..., 1::2, :] = -tension[..., None] * e
    return body, pts, force, tension, slope, ell, e

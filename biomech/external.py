"""The forces of the surroundings on the bodies at one posture: the external loads and the
compliant support contacts (seat, backrest, table; docs/model.md §7).

Functions of a prepared problem (`problem.Problem`) and a geometry (`statics.Geometry`): both
the statics, which sums them into generalized forces, and `balance`, which finds the support's
reaction on the root from them, use these, so neither needs the other.
"""

from __future__ import annotations

import numpy as np

from . import kinematics as kin
from .supports import contact_law


def contact_state(problem, geo):
    """Bodies (n,), world points (n, 2), forces (n, 2) N and penetrations (n,) m of the
    support contacts."""
    p = problem
    if not len(p.contact_body):
        return np.zeros(0, int), np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0)
    pts = kin.points_world(geo.angles, geo.origins, p.contact_body, p.contact_local)
    pen = p.contact_offset - np.einsum("ij,ij->i", pts - geo.shift, p.contact_normal)
    force = contact_law(pen, p.contact_stiffness)[0][:, None] * p.contact_normal
    return p.contact_body, pts, force, pen


def contact_forces(problem, geo):
    """Bodies (n,), world points (n, 2) and forces (n, 2) N of the support contacts."""
    return contact_state(problem, geo)[:3]


def load_forces(problem, geo):
    """World points (nL, 2) and forces (nL, 2) N of the external loads."""
    pts = kin.points_world(geo.angles, geo.origins, problem.load_body, problem.load_local)
    return pts, problem.load_force

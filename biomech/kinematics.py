"""Planar forward kinematics of the femur–pelvis–L5…L1–thorax chain.

`body_poses` places every body given the joint angles and the pose of one *root* body (the
body the support holds); `points_world` maps body-frame points to the world. Pure functions of
(model arrays, state), no caches.
"""

from __future__ import annotations

import numpy as np

from .names import BODIES

N_BODIES = len(BODIES)


def rotation(angle: float) -> np.ndarray:
    """2×2 rotation matrix of a counter-clockwise angle (rad)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def absolute_angles(rel: np.ndarray, root: int, root_angle: float) -> np.ndarray:
    """Absolute angle (rad) of each body, shape (8,), from the relative joint rotations.

    rel : ndarray (7,) rotation of body j+1 relative to body j (joint angle + fixed offset).
    """
    cum = np.concatenate(([0.0], np.cumsum(rel)))
    return root_angle + cum - cum[root]


def body_poses(joint_in_parent: np.ndarray, joint_in_child: np.ndarray, rel: np.ndarray,
               root: int, root_angle: float, root_origin: np.ndarray):
    """Angles (8,), frame origins (8, 2) and joint centres (7, 2) of the chain.

    The root body's frame has angle ``root_angle`` and origin ``root_origin``; joint j is at
    ``joint_in_parent[j]`` in body j and ``joint_in_child[j]`` in body j+1.
    """
    ang, _, origin, centres = chain_poses(as_complex(joint_in_parent), as_complex(joint_in_child),
                                          rel, root, root_angle, complex(root_origin[0], root_origin[1]))
    return ang, as_real(origin), as_real(centres)


def chain_poses(joint_in_parent: np.ndarray, joint_in_child: np.ndarray, rel: np.ndarray,
                root: int, root_angle: float, root_origin: complex = 0j):
    """`body_poses` with the plane as complex numbers (x + iy): joint positions (7,) complex in
    their bodies in, angles (8,), rotations e^{i angle} (8,), origins (8,) and joint centres (7,)
    out. A body-frame point l of body b is at ``origin[b] + rotation[b] * l``."""
    ang = absolute_angles(rel, root, root_angle)
    z = np.exp(1j * ang)
    jp_w = z[:-1] * joint_in_parent
    step = jp_w - z[1:] * joint_in_child             # origin[j+1] - origin[j]
    origin = np.empty(N_BODIES, complex)
    origin[root] = root_origin
    origin[root + 1:] = root_origin + np.cumsum(step[root:])                 # upwards
    if root > 0:                                                            # downwards
        origin[root - 1::-1] = root_origin - np.cumsum(step[root - 1::-1])
    return ang, z, origin, origin[:-1] + jp_w


def as_complex(v) -> np.ndarray:
    """Points (..., 2) as complex numbers (...)."""
    v = np.asarray(v, float)
    return v[..., 0] + 1j * v[..., 1]


def as_real(zc: np.ndarray) -> np.ndarray:
    """Complex points (...) as (..., 2) (a view when the array is contiguous)."""
    zc = np.ascontiguousarray(zc, complex)
    return zc.view(np.float64).reshape(zc.shape + (2,))


def _rotate(c: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectors v (n, 2) rotated by the angles of cosines c (n,) and sines s (n,)."""
    out = np.empty((len(c), 2))
    out[:, 0] = c * v[:, 0] - s * v[:, 1]
    out[:, 1] = s * v[:, 0] + c * v[:, 1]
    return out


def points_world(angles: np.ndarray, origins: np.ndarray, body: np.ndarray, local: np.ndarray):
    """World positions (n, 2) of body-frame points ``local`` (n, 2) on bodies ``body`` (n,)."""
    return origins.take(body, 0) + _rotate(np.cos(angles).take(body), np.sin(angles).take(body),
                                           np.asarray(local))


def angle_sensitivity(root: int) -> np.ndarray:
    """S (8, 7): ∂(angle of body b)/∂(joint angle j) for a chain held at ``root``.

    +1 for bodies on the superior side of j when the root is inferior, −1 for bodies on the
    inferior side when the root is superior, 0 for the bodies that do not move.
    """
    S = np.zeros((N_BODIES, N_BODIES - 1))
    for j in range(N_BODIES - 1):
        if root <= j:
            S[j + 1:, j] = 1.0
        else:
            S[:j + 1, j] = -1.0
    return S


def neutral_standing_lengths(model) -> tuple[np.ndarray, np.ndarray]:
    """Musculotendon lengths (M,) in the neutral configuration (all q = 0, femur vertical,
    knee extended), and the length of each line's first segment (M,) (origin to the first via
    point: for the psoas, vertebra to the pelvic brim).
    """
    from .statics import Support, prepare  # local import: statics builds on this module

    problem = prepare(model, support=Support("standing"), settings={}, loads=(), _lengths_only=True)
    q0 = np.zeros(7)
    state = problem.geometry(q0)
    first = np.array([state.segment_length[problem.seg_first[i]] for i in range(model.n_muscles)])
    return state.length, first

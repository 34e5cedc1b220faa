"""Planar kinematics of a tree of rigid bodies joined by hinges (docs/model.md §1, §4).

Joint j joins its inferior body i(j) to its superior body s(j); its coordinate q_j rotates the
superior body relative to the inferior one (counter-clockwise positive), and its centre lies at
``a_j`` in the inferior body's frame and at ``c_j`` in the superior body's. The support holds
one body, the *root*, at an angle φ_r. For that root the **path-sign matrix** S (n_bodies,
n_joints) says how each body turns with each joint:

    S[b, j] = +1  if joint j lies between the root and b and the root is on its inferior side,
              −1  if it lies between them and the root is on its superior side,
               0  otherwise (b does not move when q_j changes).

Then every pose follows from matrix products (no loop over the tree):

    φ_b = φ_r + Σ_j S[b, j] (q_j + δ_j),            δ_j the fixed offset of joint j,
    o_b = o_r + Σ_j S[b, j] d_j,   d_j = R(φ_i(j)) a_j − R(φ_s(j)) c_j = o_s(j) − o_i(j),
    x_j = o_i(j) + R(φ_i(j)) a_j,                    the world position of joint j,

and a point p fixed on body b moves by ∂p/∂q_j = S[b, j] ẑ × (p − x_j). A joint centre moves
with the bodies on its root side: ∂x_j/∂q_k = S[i(j), k] ẑ × (x_j − x_k) (for k = j the factor
x_j − x_k vanishes, whichever side the root is on).

The plane is handled as complex numbers x + iy: a rotation by φ is multiplication by e^{iφ}.
Everything here is a pure function of arrays; `path_signs` keeps its (read-only) result for
each tree and root.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np


def rotation(angle: float) -> np.ndarray:
    """2×2 matrix of a counter-clockwise rotation by ``angle`` (rad)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def as_complex(v) -> np.ndarray:
    """Points (..., 2) as complex numbers (...)."""
    v = np.asarray(v, float)
    return v[..., 0] + 1j * v[..., 1]


def as_real(zc: np.ndarray) -> np.ndarray:
    """Complex points (...) as (..., 2) (a view when the array is contiguous)."""
    zc = np.ascontiguousarray(zc, complex)
    return zc.view(np.float64).reshape(zc.shape + (2,))


def path_signs(inferior: Sequence[int], superior: Sequence[int], n_bodies: int, root: int) -> np.ndarray:
    """The path-sign matrix S (n_bodies, n_joints) of a tree held at ``root`` (module docstring),
    read-only: computed once for each tree and root (every subject's model has the same tree).

    inferior, superior : (n_joints,) body indices of each joint's two bodies.

    Raises ValueError if the joints do not form a tree spanning every body.
    """
    return _path_signs(tuple(map(int, inferior)), tuple(map(int, superior)), int(n_bodies), int(root))


@functools.lru_cache(maxsize=64)
def _path_signs(inferior: tuple, superior: tuple, n_bodies: int, root: int) -> np.ndarray:
    n_joints = len(inferior)
    if n_joints != n_bodies - 1:
        raise ValueError(f"a tree of {n_bodies} bodies has {n_bodies - 1} joints, not {n_joints}")
    S = np.zeros((n_bodies, n_joints))
    seen = {root}
    frontier = [root]
    while frontier:                       # breadth first from the root: each body inherits the
        b = frontier.pop(0)               # signs of its parent and adds the joint it came through
        for j in range(n_joints):
            if inferior[j] == b and superior[j] not in seen:
                nxt, sign = superior[j], 1.0
            elif superior[j] == b and inferior[j] not in seen:
                nxt, sign = inferior[j], -1.0
            else:
                continue
            S[nxt] = S[b]
            S[nxt, j] = sign
            seen.add(nxt)
            frontier.append(nxt)
    if len(seen) != n_bodies:
        missing = sorted(set(range(n_bodies)) - seen)
        raise ValueError(f"bodies {missing} are not connected to the root {root} by joints")
    S.setflags(write=False)
    return S


def poses(S: np.ndarray, inferior: np.ndarray, superior: np.ndarray, a: np.ndarray, c: np.ndarray,
          rel: np.ndarray, root_angle: float):
    """Angles (..., n_bodies), rotations e^{iφ} (..., n_bodies), frame origins (..., n_bodies)
    complex and joint centres (..., n_joints) complex of a tree with its root's frame at the
    origin, for one posture or a batch (the leading dimensions of ``rel``).

    S : path signs of the root (`path_signs`); inferior, superior : (n_joints,) int;
    a, c : (n_joints,) complex, the joint centre in the inferior and in the superior body;
    rel : (..., n_joints) rad, joint angles plus their fixed offsets; root_angle : rad.
    """
    ang = root_angle + rows(S, rel)
    z = np.exp(1j * ang)
    za = z.take(inferior, -1) * a
    d = za - z.take(superior, -1) * c
    origin = rows(S, d)
    return ang, z, origin, origin.take(inferior, -1) + za


def rows(A: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A x (..., m) for a matrix A (m, n) and vectors x (..., n): ``A @ x`` for one vector, else
    ``x @ Aᵀ`` (a batch of vectors in its rows)."""
    return A @ x if x.ndim == 1 else x @ A.T


def points_world(angles: np.ndarray, origins: np.ndarray, body: np.ndarray, local: np.ndarray):
    """World positions (..., n, 2) of body-frame points ``local`` (n, 2) on bodies ``body`` (n,),
    from body angles (..., n_bodies) and origins (..., n_bodies, 2)."""
    c, s = np.cos(angles).take(body, -1), np.sin(angles).take(body, -1)
    local = np.asarray(local, float)
    out = origins.take(body, -2)
    out[..., 0] += c * local[:, 0] - s * local[:, 1]
    out[..., 1] += s * local[:, 0] + c * local[:, 1]
    return out


def point_jacobian(S_body: np.ndarray, p: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """∂p/∂q (2, n_joints) of a world point p (2,) fixed on a body whose row of S is ``S_body``
    (n_joints,): S[b, j] ẑ × (p − x_j), with the joint centres ``centres`` (n_joints, 2)."""
    r = p[None, :] - centres
    return np.stack([-S_body * r[:, 1], S_body * r[:, 0]])

"""Muscle paths of one posture problem: the points each line passes through, and its segments.

A line of action is a polyline through points fixed on bodies (docs/model.md §6). The model's
*conditional* points (gait2392's psoas and iliacus brim point, active over a range of hip
flexion; the hamstrings' tibial and the gastrocnemii's femoral via points, active over a range
of knee angle) are kept or dropped, once per problem, at the support's reference posture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ModelError


@dataclass(frozen=True, eq=False)
class Paths:
    """The resolved path points and segments of every line (P points, Sg segments, M lines)."""

    body: np.ndarray        # (P,) int body index of each point
    local: np.ndarray       # (P, 2) position in its body's frame (m)
    z: np.ndarray           # (P,) constant lateral offset (m)
    line_ptr: np.ndarray    # (M + 1,) points of line i are line_ptr[i]:line_ptr[i+1]
    seg_a: np.ndarray       # (Sg,) first point of each segment
    seg_b: np.ndarray       # (Sg,) second point of each segment
    seg_line: np.ndarray    # (Sg,) line of each segment
    seg_first: np.ndarray   # (M,) index of each line's first segment
    sacral: np.ndarray      # (P,) bool: attached to the sacral part of the pelvis

    @property
    def n_points(self) -> int:
        return len(self.body)


def resolve_paths(model, q) -> Paths:
    """The paths of ``model`` at joint angles ``q`` (n_joints,) rad, whose hip flexion (−q of the
    hip) and knee flexion decide the conditional points (gait2392 coordinates: knee angle =
    −knee flexion); with two legs each line's own leg decides."""
    q = np.asarray(q, float)
    kind, lo, hi = np.asarray(model.pt_condition, float).T
    n = model.n_muscles
    pt_line = np.repeat(np.arange(n), np.diff(np.asarray(model.line_ptr)))
    side = np.asarray(model.muscle_side or [""] * n, object)[pt_line]
    angle = np.zeros(len(kind))
    for suffix, s in zip(model.leg_suffixes, model.sides or ("",)):
        on = (side == s) if model.sides else np.ones(len(kind), bool)
        angle[on & (kind == 1)] = -q[model.joint_index("hip" + suffix)]       # hip flexion
        angle[on & (kind == 2)] = -q[model.joint_index("knee" + suffix)]      # gait2392 knee angle
    ok = (lo <= angle) & (angle <= hi)
    keep = np.flatnonzero((kind == 0) | ok)
    body = np.array(model.pt_body)[keep]
    local = np.array(model.pt_local, float)[keep]
    pt_line = pt_line[keep]
    ptr = np.concatenate(([0], np.cumsum(np.bincount(pt_line, minlength=n))))
    if np.any(np.diff(ptr) < 2):
        raise ModelError("every muscle line needs at least two path points")
    # segments join consecutive points of a line; line i has ptr[i+1] - ptr[i] - 1 of them
    seg_a = np.flatnonzero(pt_line[:-1] == pt_line[1:])
    return Paths(body=body, local=local, z=np.array(model.pt_z, float)[keep], line_ptr=ptr,
                 seg_a=seg_a, seg_b=seg_a + 1, seg_line=pt_line[seg_a],
                 seg_first=ptr[:-1] - np.arange(n), sacral=np.array(model.pt_sacral, bool)[keep])


def path_lengths(paths: Paths, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Musculotendon lengths (..., M) and 3D segment lengths (..., Sg) from world points
    (..., P, 2), for one posture or a batch (the sums in the same order either way)."""
    d = points[..., paths.seg_b, :] - points[..., paths.seg_a, :]
    dz = paths.z[paths.seg_b] - paths.z[paths.seg_a]
    seg = np.sqrt(np.einsum("...i,...i->...", d, d) + dz * dz)
    n = len(paths.line_ptr) - 1
    rows = np.arange(seg.size // max(len(paths.seg_line), 1))[:, None] * n
    total = np.bincount((rows + paths.seg_line).ravel(), seg.ravel(), minlength=rows.size * n)
    return total.reshape(seg.shape[:-1] + (n,)), seg

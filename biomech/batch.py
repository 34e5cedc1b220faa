"""Many forward problems at once: one array computation for a batch of postures (docs/model.md §8a).

Geometry, generalized forces, the residual and the stiffness (`statics`) take a batch of postures
q (N, n_joints) as readily as one. `stack` makes one problem of several that differ only in their
muscle settings (a sweep of a tension or an activation) and their subject (a population): its
line parameters and the subject's arrays gain the batch's leading dimension, everything else is
shared. `solve_equilibria` solves such a batch by the equilibrium mode's Newton iteration
(`statics._descend`, the same steps and acceptance rule for each problem), all problems'
evaluations in one call, steps off the saddles it lands on together, and classifies each
posture as a single solve does (`statics.equilibrium_result`)::

    problems = [prepare(model, support=Support("standing"),
                        settings={"psoas": MuscleSetting(tension_N=t)}) for t in range(100, 801, 7)]
    results = solve_equilibria(problems)          # one `EquilibriumResult` per problem
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .errors import ModelError
from .muscles import Lines
from .problem import Problem
from .statics import (SADDLE_STEP_RAD, STEP_TRIALS, EquilibriumResult, Geometry, _implausible, _reduced_state,
                      capped_step, equilibrium_result, first_shift, free_coordinates, joint_angles, left_range,
                      lowers_energy, ray_fraction, refuse_closed_chain, solve_equilibrium)
from .threads import one_blas_thread

#: The fields of a `Problem` that may differ between the problems of a batch: the muscle settings,
#: and the subject (problems prepared from models of other subjects, `anatomy.build_model`,
#: with the same bodies, joints, lines and passive laws: the topology is checked, as equal index
#: arrays). The stacked problem keeps the first problem's model, paths and leg laws (their
#: names and topology); the hot path reads the stacked arrays.
_PER_PROBLEM = ("settings", "lines", "model", "paths", "leg_joints")
_PER_SUBJECT = ("joint_a", "joint_c", "joint_offset", "mass", "com_local", "weight", "all_local", "cavity_area",
                "pressure_gain", "seg_dz2", "iv_coeffs", "leg_terms", "leg_const", "rest_angle", "tissue_ref",
                "q_ref", "q_c", "q_low", "q_high")


def stack(problems) -> Problem:
    """One problem (its arrays with a leading dimension N where they differ) from N problems
    that differ only in their muscle settings and their subject: prepared with the same
    support, loads and locked joints and the same solver settings, from models of the same
    topology (`_PER_SUBJECT`). Raises `ModelError` for problems that differ in anything else."""
    problems = list(problems)
    if not problems:
        raise ModelError("stack needs at least one problem")
    wrong = [k for k, p in enumerate(problems) if not isinstance(p, Problem)]
    if wrong:
        raise ModelError(f"a batch takes prepared problems (`prepare`); item {wrong[0]} is "
                         f"{type(problems[wrong[0]]).__name__}")
    first = problems[0]
    if first.batch_fields or any(p.batch_fields for p in problems):
        raise ModelError("stack takes single problems, not batches")
    changes, batched = {"settings": {}}, []
    for f in dataclasses.fields(Problem):
        if f.name in _PER_PROBLEM or f.name == "batch_fields":
            continue
        values = [getattr(p, f.name) for p in problems]
        if f.name in _PER_SUBJECT:                # one differing problem is enough to stack them
            first_other = next((k for k, v in enumerate(values[1:], 1) if not _same(values[0], v)), None)
            same = [] if first_other is None else [first_other]
        else:
            same = [k for k, v in enumerate(values[1:], 1) if not _same(values[0], v)]
        if not same:
            continue
        if f.name not in _PER_SUBJECT:
            raise ModelError(f"problems 0 and {same[0]} of a batch differ in {f.name!r}: a batch may differ "
                             "only in its muscle settings and its subject (prepare each with the same support, "
                             "loads and locked joints, from models of the same bodies, joints and lines)")
        if isinstance(values[0], tuple):          # a tuple of arrays: its items that differ
            items = []
            for k, item in enumerate(zip(*values)):
                if all(np.array_equal(item[0], v) for v in item[1:]):
                    items.append(item[0])
                else:
                    items.append(_stacked(item, f"{f.name}.{k}"))
                    batched.append(f"{f.name}.{k}")
            changes[f.name] = tuple(items)
        else:
            changes[f.name] = _stacked(values, f.name)
            batched.append(f.name)
    lines = {}
    for f in dataclasses.fields(Lines):
        values = [getattr(p.lines, f.name) for p in problems]
        if f.name in ("excess", "fpe_line"):          # indices: from the model
            if any(not np.array_equal(values[0], v) for v in values[1:]):
                raise ModelError(f"problems of a batch differ in the line parameter {f.name!r}")
            lines[f.name] = values[0]
        elif all(np.array_equal(values[0], v) for v in values[1:]):
            lines[f.name] = values[0]
        else:
            lines[f.name] = np.stack(values)
    return dataclasses.replace(first, lines=Lines(**lines), batch_fields=tuple(batched), **changes)


def _stacked(values, name: str) -> np.ndarray:
    """Per-problem values (N of them) of one field as one array (N, ...): arrays of one shape, or
    numbers (as (N, 1), to broadcast against the batch's per-joint arrays)."""
    if all(isinstance(v, (int, float)) for v in values):
        return np.array(values, float)[:, None]
    if not all(isinstance(v, np.ndarray) and v.shape == values[0].shape for v in values):
        raise ModelError(f"problems of a batch differ in the shape of {name!r}: models of other bodies, "
                         "joints or lines cannot be solved together")
    return np.stack(values)


def _same(a, b) -> bool:
    """Whether two fields of problems are equal: arrays elementwise, dataclasses, tuples and
    dicts item by item (at once where they hold no arrays)."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype \
            and a.tobytes() == b.tobytes():        # the same values (the common case, at C speed)
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    flat = isinstance(a, tuple) or (dataclasses.is_dataclass(a) and type(a).__dataclass_params__.eq)
    if flat and type(a) is type(b):
        try:                                       # names, numbers, indices: compared at once
            return bool(a == b)
        except ValueError:                         # arrays inside: item by item
            pass
    if dataclasses.is_dataclass(a) and type(a) is type(b):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _take(stacked: Problem, rows: np.ndarray) -> Problem:
    """The stacked problem of the batch's problems ``rows`` (int array; all of them in order:
    ``stacked`` itself)."""
    if len(rows) == _size(stacked) and np.array_equal(rows, np.arange(len(rows))):
        return stacked
    lines = {f.name: (v[rows] if np.ndim(v) == 2 else v)
             for f in dataclasses.fields(Lines) for v in [getattr(stacked.lines, f.name)]}
    changes = {}
    for name in stacked.batch_fields:
        field, _, item = name.partition(".")
        if item:
            value = list(changes.get(field, getattr(stacked, field)))
            value[int(item)] = value[int(item)][rows]
            changes[field] = tuple(value)
        else:
            changes[field] = getattr(stacked, field)[rows]
    return dataclasses.replace(stacked, lines=Lines(**lines), **changes)


def _size(stacked: Problem) -> int | None:
    """The number of problems of a stacked problem (None where nothing differs between them)."""
    for v in [getattr(stacked.lines, f.name) for f in dataclasses.fields(Lines)]:
        if np.ndim(v) == 2:
            return len(v)
    for name in stacked.batch_fields:
        field, _, item = name.partition(".")
        value = getattr(stacked, field)
        return len(value[int(item)] if item else value)
    return None


#: Problems evaluated together: the arrays of ~16 postures stay in the processor's cache (per
#: posture, a batch of 10-20 costs a third of one posture alone, a batch of 100 half).
CHUNK = 16


@one_blas_thread
def solve_equilibria(problems, q0=None) -> list[EquilibriumResult]:
    """Solve N forward problems that differ only in their muscle settings and subject (`stack`) at once.

    q0 : None (each from the support's reference posture), one posture (n_joints,) for all, or
        (N, n_joints), one start per problem.

    Returns one `EquilibriumResult` per problem, as `statics.solve_equilibrium` returns it from
    the same start: the same steps, so the same posture within the solver's tolerance (only the
    rounding of the batched arithmetic differs), the same checks and status. The problems that
    converge to an equilibrium that is not a minimum step off it together as the single solve
    does (`_step_off`); a problem whose batched iteration does not converge is solved alone.
    """
    problems = list(problems)
    stacked = stack(problems)
    refuse_closed_chain(stacked, "the equilibrium mode")
    n, nj = len(problems), stacked.model.n_joints
    starts = stacked.q_ref if q0 is None else np.asarray(q0, float)
    if starts.shape not in ((nj,), (n, nj)) or not np.all(np.isfinite(starts)):
        raise ModelError(f"q0 must be {nj} finite joint angles (rad), or {nj} for each of the {n} problems "
                         f"({n}, {nj}); got shape {np.shape(q0)}")
    starts = np.array(np.broadcast_to(starts, (n, nj)))
    if n == 1:                          # nothing to share: the single solve, without the batch's overhead
        return [solve_equilibrium(problem=problems[0], q0=starts[0])]
    out = []
    for lo in range(0, n, CHUNK):
        rows = np.arange(lo, min(lo + CHUNK, n))
        out += _solve_chunk(problems, _take(stacked, rows) if rows.size < n else stacked, rows, starts[rows])
    return out


def _solve_chunk(problems, p: Problem, rows: np.ndarray, starts: np.ndarray) -> list[EquilibriumResult]:
    """`solve_equilibria` of the problems ``rows`` (stacked: ``p``) from ``starts`` (n, n_joints)."""
    u0 = free_coordinates(p, starts)
    u, steps, done, R, J, where = _descend_all(p, u0)
    results: list = [None] * len(rows)
    if done.any():
        ok = np.flatnonzero(done)
        K = -J[ok]
        w, V = np.linalg.eigh(0.5 * (K + K.swapaxes(-1, -2)))
        saddle = w[:, 0] <= 1e-9 * np.maximum(1.0, np.abs(w[:, -1]))
        for i, k in enumerate(ok):
            if not saddle[i]:
                results[k] = equilibrium_result(problems[rows[k]], u[k], float(np.abs(R[k]).max()), int(steps[k]),
                                                True, None, _row(*where[k]), K[i])
        if saddle.any():
            at_saddle = [(k, float(np.abs(R[k]).max()), _row(*where[k]), K[i])
                         for i, k in zip(np.flatnonzero(saddle), ok[saddle])]
            for (k, *_), res in zip(at_saddle, _step_off(problems, p, rows, u, steps, at_saddle, V[saddle, :, 0])):
                results[k] = res
    for k, res in enumerate(results):
        if res is None:
            q0 = joint_angles(problems[rows[k]], u[k]) if done[k] else starts[k]
            res = solve_equilibrium(problem=problems[rows[k]], q0=q0)
            results[k] = dataclasses.replace(res, iterations=res.iterations + int(steps[k]) * bool(done[k]))
    return results


def _step_off(problems, p: Problem, rows: np.ndarray, u: np.ndarray, steps: np.ndarray, at_saddle: list,
              modes: np.ndarray) -> list[EquilibriumResult]:
    """`statics.solve_equilibrium`'s step off a saddle for several rows at once: from each saddle
    (k, its largest residual, its forces by source, its stiffness matrix: ``at_saddle``) along
    its unstable mode (``modes`` (s, n_free)), both ways, one `_descend_all` for all of them;
    of the stable equilibria within the physiological range found, the nearer one, else the
    saddle itself (unstable). Its iterations count both descents, as the single solve's."""
    ks = np.array([k for k, *_ in at_saddle])
    n_s = len(ks)
    twice = np.concatenate([ks, ks])
    sub = _take(p, twice)
    alt_u, alt_steps, alt_done, alt_R, alt_J, where = _descend_all(
        sub, np.concatenate([u[ks] + SADDLE_STEP_RAD * modes, u[ks] - SADDLE_STEP_RAD * modes]))
    K2 = -alt_J
    lowest = np.linalg.eigvalsh(0.5 * (K2 + K2.swapaxes(-1, -2)))[:, 0]
    out = []
    for j, (k, norm, sources, K) in enumerate(at_saddle):
        problem, best = problems[rows[k]], None
        for c in (j, j + n_s):                       # the two ways off the saddle
            if not alt_done[c] or lowest[c] <= 0.0:
                continue
            row = _row(*where[c])
            if _implausible(problem, joint_angles(problem, alt_u[c]), row["geometry"]) is not None:
                continue
            distance = float(np.linalg.norm(alt_u[c] - u[k]))
            if best is None or distance < best[0]:
                best = (distance, alt_u[c], float(np.abs(alt_R[c]).max()), row, K2[c])
        iterations = int(steps[k] + alt_steps[j] + alt_steps[j + n_s])
        if best is not None:
            _, u_k, norm, sources, K = best
        else:
            u_k = u[k]
        out.append(equilibrium_result(problem, u_k, norm, iterations, True, None, sources, K))
    return out


def _row(sources: dict, i: int) -> dict:
    """The generalized forces by source (`statics.generalized_forces`) of row i of a batch."""
    geo = sources["geometry"]
    row = {k: v[i] for k, v in sources.items() if k not in ("geometry", "pressure_Pa")}
    return row | {"geometry": Geometry(**{f.name: getattr(geo, f.name)[i] for f in dataclasses.fields(Geometry)}),
                  "pressure_Pa": float(np.asarray(sources["pressure_Pa"])[i])}


def _descend_all(p: Problem, u: np.ndarray):
    """`statics._descend` for every row of u (N, n_free) of a stacked problem at once: the same
    Levenberg-shifted Newton steps, each problem's shift and acceptance its own. Returns u, the
    steps taken (N,), which rows converged (N,) (a row that leaves the physiological range or
    finds no step that lowers the energy stops unconverged), the residuals Bᵀ R (N, n_free) and
    their Jacobians (N, n_free, n_free) there, and where each row's forces by source are (N pairs:
    a batch's `statics.generalized_forces` and the row's index in it, for `_row`)."""
    tol = p.tolerance_Nm
    n, nf = u.shape
    R, jac, at = _reduced_state(p, u)
    J = jac()
    where = [(at, k) for k in range(n)]
    norm = np.abs(R).max(-1)
    steps = np.zeros(n, int)
    stopped = np.zeros(n, bool)                      # left the range or no step accepted
    eye = np.eye(nf)

    def take(pos, du):
        """Evaluates the steps du of the iteration's rows at positions ``pos`` (in ``rows``) and
        keeps those `lowers_energy` accepts (in new_u, new_R, new_J); returns which, and the
        residuals there."""
        r = rows[pos]
        R_t, jac_t, at_t = _reduced_state(_take(p, r), u[r] + du)
        ok = lowers_energy(R[r], R_t, du, norm[r], tol)
        if ok.any():
            J_t = jac_t()
            new_u[pos[ok]], new_R[pos[ok]], new_J[pos[ok]] = u[r[ok]] + du[ok], R_t[ok], J_t[ok]
            accepted[pos[ok]] = True
            for i in np.flatnonzero(ok):
                new_where[pos[i]] = (at_t, i)
        return ok, R_t

    for _ in range(p.max_iterations):
        rows = np.flatnonzero((norm >= tol) & ~stopped)
        if not rows.size:
            break
        Ks = -0.5 * (J[rows] + J[rows].swapaxes(-1, -2))
        mu, scale = first_shift(Ks)
        trying = np.arange(rows.size)                # positions in rows still looking for a step
        new_u, new_R, new_J = u[rows].copy(), R[rows].copy(), J[rows].copy()
        new_where = [None] * rows.size
        accepted = np.zeros(rows.size, bool)
        for _ in range(STEP_TRIALS):
            r = rows[trying]
            du = capped_step(np.linalg.solve(Ks[trying] + mu[trying, None, None] * eye, R[r][..., None])[..., 0])
            ok, R_t = take(trying, du)
            alpha = ray_fraction(R[r], R_t, du)
            again = np.flatnonzero(~ok & np.isfinite(alpha))       # once more, along the step
            if again.size:
                ok[again] = take(trying[again], du[again] * alpha[again, None])[0]
            trying = trying[~ok]
            if not trying.size:
                break
            mu[trying] = 2.0 * mu[trying] + 1e-2 * scale[trying]
        stopped[rows[~accepted]] = True
        moved = rows[accepted]
        u[moved], R[moved], J[moved] = new_u[accepted], new_R[accepted], new_J[accepted]
        for k, a in zip(moved, np.flatnonzero(accepted)):
            where[k] = new_where[a]
        norm[moved] = np.abs(R[moved]).max(-1)
        steps[moved] += 1
        moved_p = _take(p, moved) if p.batch_fields else p
        stopped[moved[left_range(moved_p, joint_angles(moved_p, u[moved]))]] = True
    return u, steps, (norm < tol) & ~stopped, R, J, where

"""The `inverse` mode: a measured posture in, muscle forces out (docs/model.md §12).

The posture is given either by spinopelvic parameters (pelvic tilt or sacral slope, lumbar
lordosis, trunk inclination) or by explicit joint angles. Parameters are turned into joint
angles by a documented rule: the pelvis rotates on the femur to give the pelvic tilt; the change
of lordosis from the relaxed reference posture is shared among L5_S1…L1_L2 in proportion to
their flexion-extension range of motion (the rule that places the reference posture,
docs/calibration.md); T12_L1 takes what brings the trunk inclination to its target. Parameters
not given keep their reference-posture values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .balance import reaction, unbalanced
from .errors import ModelError
from .metrics import clinical_metrics
from .names import LUMBAR_LEVELS
from .recruitment import Criterion, Recruitment, holding_problem, recruit
from .statics import (SOURCES, EquilibriumResult, floor_constraints, forces_and_jacobian, geometry,
                      refuse_closed_chain, skeleton)
from .status import Status
from .threads import one_blas_thread
from .units import RAD_PER_DEG


@dataclass(frozen=True, eq=False)
class RecruitedResult(EquilibriumResult):
    """A posture solved by recruiting muscles (inverse and upright modes).

    The nervous system holds such a posture actively, so its static stability is reported
    (``stable``, the stiffness eigenvalues) but does not decide ``success`` (docs/model.md §12).
    """

    recruitment: Recruitment | None = None
    criterion: Criterion = Criterion()

    @property
    def converged(self) -> bool:
        return self.code is Status.SOLVED

    @property
    def success(self) -> bool:
        return self.code is Status.SOLVED


LUMBAR = tuple(reversed(LUMBAR_LEVELS))      # L5_S1 … L1_L2


@dataclass(frozen=True)
class PostureTarget:
    """A posture for the inverse mode (degrees, the clinical signs of conventions §3).

    Give any of pelvic_tilt_deg (or sacral_slope_deg), lumbar_lordosis_deg,
    trunk_inclination_deg; or joint_angles_deg: {joint name: angle} (the `angle_deg` of the
    JSON result), the joints not named keeping their reference values.
    """

    pelvic_tilt_deg: float | None = None
    sacral_slope_deg: float | None = None
    lumbar_lordosis_deg: float | None = None
    trunk_inclination_deg: float | None = None
    joint_angles_deg: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.pelvic_tilt_deg is not None and self.sacral_slope_deg is not None:
            raise ModelError("give pelvic_tilt_deg or sacral_slope_deg, not both (PI = PT + SS)")
        params = [self.pelvic_tilt_deg, self.sacral_slope_deg, self.lumbar_lordosis_deg,
                  self.trunk_inclination_deg]
        if self.joint_angles_deg and any(v is not None for v in params):
            raise ModelError("give either joint_angles_deg or spinopelvic parameters, not both")
        for j, v in self.joint_angles_deg.items():
            if not isinstance(j, str):
                raise ModelError(f"joint_angles_deg: keys must be joint names, got {j!r}")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ModelError(f"joint_angles_deg[{j!r}] must be a finite number (deg), got {v!r}")


class TargetError(ModelError):
    """A posture target this model and support cannot realise.

    key : where the offending value comes from, as a scenario key path:
        ``("inverse", "pelvic_tilt_deg")``, ``("inverse", "joint_angles_deg", "hip")``, or
        ``("support", "thigh_inclination_deg")`` when the support itself puts the hip, which no
        target moves, outside its range.
    what : what is wrong; allowed : what would be accepted (the two halves of the message).
    """

    def __init__(self, key: tuple[str, ...], what: str, allowed: str):
        super().__init__(f"{'.'.join(key)}: {what}; {allowed}")
        self.key, self.what, self.allowed = tuple(key), what, allowed

    def __reduce__(self):                    # picklable: raised in worker processes too
        return (type(self), (self.key, self.what, self.allowed))


#: A lying trunk-inclination target within this of the fixed lying value (deg) is accepted.
LYING_TRUNK_TOLERANCE_DEG = 0.05
def _realised_by(problem, target: PostureTarget) -> dict[str, tuple[list[int], np.ndarray]]:
    """Which joints realise each parameter, and their shares (docs/scenarios.md, [inverse]).

    The lumbar levels share the lordosis in proportion to their range of motion. Standing and
    sitting, the femur is held: the hip realises the pelvic tilt, T12_L1 the trunk inclination.
    Lying, the thorax rests on the table, so the trunk inclination is fixed and the pelvis tilts
    against the thorax only through the spine: a pelvic tilt given alone is realised by the
    lumbar levels (the lordosis follows, as the low back flattens onto the table in a posterior
    tilt); given with the lordosis, the lumbar levels realise the lordosis and T12_L1 the rest.
    """
    model = problem.model
    law = model.intervertebral
    w = np.array([law[lv].rom_extension_rad + law[lv].rom_flexion_rad for lv in LUMBAR])
    lumbar = ([model.joint_index(lv) for lv in LUMBAR], w / w.sum())
    t12_l1 = model.joint_index("T12_L1")
    moves = {"lumbar_lordosis_deg": lumbar}
    if problem.support.kind != "lying":
        moves["pelvic_tilt_deg"] = ([model.joint_index("hip")], np.ones(1))
        moves["trunk_inclination_deg"] = ([t12_l1], np.ones(1))
    elif target.lumbar_lordosis_deg is None:
        moves["pelvic_tilt_deg"] = lumbar
    else:
        moves["pelvic_tilt_deg"] = ([t12_l1], np.ones(1))
    return moves


def _given_key(target: PostureTarget, internal: str) -> str:
    """The target's own key for an internal parameter (sacral slope stands for the tilt)."""
    if internal == "pelvic_tilt_deg" and target.pelvic_tilt_deg is None:
        return "sacral_slope_deg"
    return internal


def posture_from_target(problem, target: PostureTarget) -> np.ndarray:
    """Joint angles q (7,) rad realising a posture target on this problem's model and support.

    The parameters given are imposed, each by its own joints (`_realised_by`); the joints the
    others would move keep their reference angles (so an unspecified trunk inclination follows
    from PT and LL). Does not check the physiological ranges (`target_posture` does).

    Raises
    ------
    TargetError : a target the support cannot realise: a lying trunk inclination other than the
        fixed one, or parameters no joint angles reach.
    """
    model = problem.model
    q = np.array(problem.q_ref, float)
    if target.joint_angles_deg:
        for j, v in target.joint_angles_deg.items():
            q[model.joint_index(j)] = v * RAD_PER_DEG
        return q
    ref = clinical_metrics(problem, skeleton(problem, q))
    want = {}                               # only the parameters the target gives are imposed
    if target.pelvic_tilt_deg is not None:
        want["pelvic_tilt_deg"] = target.pelvic_tilt_deg
    elif target.sacral_slope_deg is not None:
        want["pelvic_tilt_deg"] = ref["pelvic_incidence_deg"] - target.sacral_slope_deg
    if target.lumbar_lordosis_deg is not None:
        want["lumbar_lordosis_deg"] = target.lumbar_lordosis_deg
    moves = _realised_by(problem, target)
    if target.trunk_inclination_deg is not None:
        if "trunk_inclination_deg" in moves:
            want["trunk_inclination_deg"] = target.trunk_inclination_deg
        elif abs(target.trunk_inclination_deg - ref["trunk_inclination_deg"]) \
                > LYING_TRUNK_TOLERANCE_DEG:
            fixed = ref["trunk_inclination_deg"]
            raise TargetError(
                ("inverse", "trunk_inclination_deg"),
                f"lying, the thorax rests on the table: the trunk inclination is fixed at "
                f"{fixed:+.2f}° and cannot be {target.trunk_inclination_deg:g}°",
                f"allowed: leave trunk_inclination_deg out when lying (or give {fixed:.2f})")
    keys = list(want)

    def angles(z):
        qq = np.array(problem.q_ref, float)
        for zk, key in zip(z, keys):
            idx, share = moves[key]
            qq[idx] += zk * share
        return qq

    def miss(z):
        m = clinical_metrics(problem, skeleton(problem, angles(z)))
        return np.array([m[k] - want[k] for k in keys]) * RAD_PER_DEG

    z = np.zeros(len(keys))
    f = miss(z)
    for _ in range(50):                     # Newton, Jacobian by central differences
        if not keys or np.max(np.abs(f)) < 1e-12:
            break
        J = np.column_stack([(miss(z + h) - miss(z - h)) / 2e-7 for h in np.eye(len(keys)) * 1e-7])
        try:
            step = np.linalg.solve(J, f)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.max(np.abs(step)) > math.pi:
            break                          # no posture within a turn of this one realises it
        z = z - step
        f = miss(z)
    if keys and not np.max(np.abs(f)) < 1e-8:
        worst = keys[int(np.argmax(np.abs(f)))]
        given = _given_key(target, worst)
        raise TargetError(("inverse", given),
                          f"no posture realises {given} = {getattr(target, given):g} "
                          "together with the other parameters given",
                          "allowed: values nearer the relaxed posture (docs/scenarios.md, [inverse])")
    return angles(z)


def target_posture(problem, target: PostureTarget) -> np.ndarray:
    """`posture_from_target`, checked: every joint within its physiological range.

    Raises
    ------
    TargetError : as `posture_from_target`; or a joint outside its range, with the key that
        puts it there and, for a parameter, the values of that parameter the joints can reach.
    """
    q = posture_from_target(problem, target)
    joints = problem.model.joints
    hip = problem.model.joint_index("hip")
    out = list(np.flatnonzero((q < problem.q_low) | (q > problem.q_high)))
    if not out:
        return q
    j = int(out[0])
    at, low, high = _degrees(q[j], problem.q_low[j], problem.q_high[j])
    what = (f"the target posture puts {joints[j]} at {at}°, outside its physiological range "
            f"({low}° to {high}°)")
    if target.joint_angles_deg:
        if joints[j] in target.joint_angles_deg:
            raise TargetError(("inverse", "joint_angles_deg", joints[j]), what,
                              f"allowed: {joints[j]} from {low} to {high}")
    else:
        moves = _realised_by(problem, target)
        for key in moves:
            if j in moves[key][0] and _given(target, key):
                raise TargetError(("inverse", _given_key(target, key)), what,
                                  _reachable(problem, target, q, key))
    if j == hip:                            # no target moves the hip: the support put it there
        c = math.degrees(q[hip]) + problem.support.thigh_deg      # hip angle + thigh inclination
        raise TargetError(("support", "thigh_inclination_deg"),
                          f"the thigh inclination of {problem.support.thigh_deg:g}° puts the hip at "
                          f"{at}°, outside its physiological range ({low}° to {high}°), "
                          "and the inverse mode holds every joint within its range",
                          f"allowed here: thigh_inclination_deg from "
                          f"{max(c - math.degrees(problem.q_high[hip]), -60):.1f} to "
                          f"{min(c - math.degrees(problem.q_low[hip]), 150):.1f}")
    leg = {problem.model.joint_index("ankle"): "thigh_inclination_deg",
           problem.model.joint_index("knee"): "knee_flexion_deg"}
    if j in leg:                            # no target moves the legs: the support put them there
        raise TargetError(("support", leg[j]),
                          f"the support's thigh inclination ({problem.support.thigh_deg:g}°) and knee "
                          f"flexion ({problem.support.knee_deg:g}°): {what}",
                          "allowed: a thigh inclination and knee flexion that keep the foot flat "
                          "within the ankle's and knee's ranges")
    raise TargetError(("inverse",), what, "allowed: a target nearer the relaxed posture")


def _degrees(*angles_rad: float) -> list[str]:
    """Angles in degrees for a message, with as many decimals (1-4) as it takes to tell a value
    just outside a range from the range's end."""
    values = [math.degrees(a) for a in angles_rad]
    for decimals in range(1, 5):
        shown = [f"{v:+.{decimals}f}" for v in values]
        if len(set(shown)) == len(shown):
            break
    return shown


def _given(target: PostureTarget, internal: str) -> bool:
    return getattr(target, _given_key(target, internal)) is not None


def _reachable(problem, target: PostureTarget, q: np.ndarray, internal: str) -> str:
    """'allowed here: pelvic_tilt_deg from a to b (...)': the values of one parameter its own
    joints reach within their ranges, the other joints where the target puts them."""
    idx, share = _realised_by(problem, target)[internal]
    lo = max((problem.q_low[i] - q[i]) / s for i, s in zip(idx, share))
    hi = min((problem.q_high[i] - q[i]) / s for i, s in zip(idx, share))
    values = []
    for dz in (lo, hi):
        qq = np.array(q, float)
        qq[idx] += dz * share
        m = clinical_metrics(problem, skeleton(problem, qq))
        values.append(m["pelvic_incidence_deg"] - m["pelvic_tilt_deg"]
                      if _given_key(target, internal) == "sacral_slope_deg" else m[internal])
    key = _given_key(target, internal)
    low, high = sorted(values)
    return (f"allowed here: {key} from {low:.1f} to {high:.1f} (with the other joints where "
            "this target puts them)")


@one_blas_thread
def solve_inverse(problem, target: PostureTarget, *, criterion: Criterion = Criterion()):
    """Least-effort muscle forces that hold a given posture.

    Returns
    -------
    RecruitedResult on the `holding_problem` (the recruited activations set), so every derived
    output (metrics, joint loads) reads as in the other modes; converged is False, with the
    shortfall in the message, if the muscles cannot hold the posture.

    Raises
    ------
    TargetError (a ModelError) : a target this support cannot realise, or a posture outside the
        physiological ranges (`target_posture`).
    """
    refuse_closed_chain(problem, "the inverse mode")
    q = target_posture(problem, target)
    rec = recruit(problem, q, criterion=criterion)
    return recruited_result(problem, rec, iterations=0, criterion=criterion)


def recruited_result(problem, rec: Recruitment, *, iterations: int, message: str = "",
                     criterion: Criterion = Criterion(), code: Status = Status.TARGET_MISSED) -> RecruitedResult:
    """An EquilibriumResult for a recruited posture: residual checked on the holding problem,
    stability from its stiffness matrix (including the muscles' short-range stiffness);
    ``message`` (with its ``code``): why the posture is not the answer asked for, if it is not.

    In the inverse and upright modes the nervous system holds the posture actively, so static
    stability is reported (how stable) but does not decide success (docs/model.md §12)."""
    held = holding_problem(problem, rec)
    geo = rec.geometry or geometry(held, rec.q)          # the kinematics do not depend on the lines
    sources, J = forces_and_jacobian(held, rec.q, geo)
    residual = float(np.max(np.abs(held.B.T @ sum(sources[k] for k in SOURCES))))
    K = -(held.B.T @ J @ held.B)
    if len(held.floor_body):          # a second foot on the floor: the motions that keep it there
        _, sv, vt = np.linalg.svd(floor_constraints(held, geo)[1] @ held.B)
        N = vt[int(np.sum(sv > 1e-12 * sv.max())):].T
        K = N.T @ K @ N
    eig = np.linalg.eigvalsh(0.5 * (K + K.T))
    if not rec.feasible:
        code, text = Status.SHORTFALL, rec.message()
    elif message:
        text = message
    elif not residual < max(held.tolerance_Nm, 1e-6):
        code, text = Status.NOT_CONVERGED, (f"the recruited activations leave a residual of "
                                            f"{residual:.3g} N·m")
    elif fell := unbalanced(held, reaction(held, geo)):
        code, text = Status.FALLEN, fell
    elif eig[0] > 0:
        code, text = Status.SOLVED, ("muscles hold the posture; statically stable (smallest "
                                     f"stiffness eigenvalue {eig[0]:.3g} N·m/rad)")
    else:
        code, text = Status.SOLVED, ("muscles hold the posture; statically unstable with these "
                                     f"activations (smallest stiffness eigenvalue {eig[0]:.3g} N·m/rad): "
                                     "holding it needs active control")
    stable = bool(eig[0] > 0) if code is Status.SOLVED else None
    return RecruitedResult(problem=held, q=rec.q, code=code, stable=stable, message=text,
                           max_residual_Nm=residual, iterations=iterations,
                           stiffness_eigenvalues=eig, recruitment=rec, criterion=criterion,
                           geometry=geo, sources=sources)

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

from .errors import ModelError
from .metrics import clinical_metrics
from .names import LUMBAR_LEVELS
from .recruitment import Criterion, Recruitment, holding_problem, recruit
from .statics import EquilibriumResult, free_coordinates, geometry, reduced_jacobian, reduced_residual
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


def posture_from_target(problem, target: PostureTarget) -> np.ndarray:
    """Joint angles q (n_joints,) rad realising a posture target on this problem's model and support.

    The parameters given are imposed; the joints the others would move keep their reference
    angles (so an unspecified trunk inclination follows from PT and LL)."""
    model = problem.model
    q = np.array(problem.q_ref, float)
    if target.joint_angles_deg:
        for j, v in target.joint_angles_deg.items():
            q[model.joint_index(j)] = v * RAD_PER_DEG
        return q
    ref = clinical_metrics(problem, geometry(problem, q))
    want = {}                               # only the parameters the target gives are imposed
    if target.pelvic_tilt_deg is not None:
        want["pelvic_tilt_deg"] = target.pelvic_tilt_deg
    elif target.sacral_slope_deg is not None:
        want["pelvic_tilt_deg"] = ref["pelvic_incidence_deg"] - target.sacral_slope_deg
    if target.lumbar_lordosis_deg is not None:
        want["lumbar_lordosis_deg"] = target.lumbar_lordosis_deg
    if target.trunk_inclination_deg is not None:
        want["trunk_inclination_deg"] = target.trunk_inclination_deg
    lumbar = [model.joint_index(lv) for lv in LUMBAR]
    w = np.array([model.passive[j].rom_extension_rad + model.passive[j].rom_flexion_rad for j in lumbar])
    w /= w.sum()
    # each parameter is realised by one group of joints: PT by the hip, LL by the lumbar levels
    # (shared by range of motion), the trunk inclination by T12_L1
    moves = {"pelvic_tilt_deg": ([model.joint_index("hip")], np.ones(1)), "lumbar_lordosis_deg": (lumbar, w),
             "trunk_inclination_deg": ([model.joint_index("T12_L1")], np.ones(1))}
    keys = list(want)

    def angles(z):
        qq = np.array(problem.q_ref, float)
        for zk, key in zip(z, keys):
            idx, share = moves[key]
            qq[idx] += zk * share
        return qq

    def miss(z):
        m = clinical_metrics(problem, geometry(problem, angles(z)))
        return np.array([m[k] - want[k] for k in keys]) * RAD_PER_DEG

    z = np.zeros(len(keys))
    for _ in range(50):                     # Newton, Jacobian by central differences
        f = miss(z)
        if not keys or np.max(np.abs(f)) < 1e-12:
            break
        J = np.column_stack([(miss(z + h) - miss(z - h)) / 2e-7 for h in np.eye(len(keys)) * 1e-7])
        z = z - np.linalg.solve(J, f)
    return angles(z)


@one_blas_thread
def solve_inverse(problem, target: PostureTarget, *, criterion: Criterion = Criterion()):
    """Least-effort muscle forces that hold a given posture.

    Returns
    -------
    RecruitedResult on the `holding_problem` (the recruited activations set), so every derived
    output (metrics, joint loads) reads as in the other modes; converged is False, with the
    shortfall in the message, if the muscles cannot hold the posture.
    """
    q = posture_from_target(problem, target)
    out = (q < problem.q_low) | (q > problem.q_high)
    if out.any():
        j = int(np.flatnonzero(out)[0])
        deg = math.degrees
        raise ModelError(f"the target posture puts {problem.model.joints[j]} at {deg(q[j]):+.1f}°, outside "
                         f"its physiological range ({deg(problem.q_low[j]):+.1f}° to "
                         f"{deg(problem.q_high[j]):+.1f}°); give joint_angles_deg or another target")
    rec = recruit(problem, q, criterion=criterion)
    return recruited_result(problem, rec, iterations=0, criterion=criterion)


def recruited_result(problem, rec: Recruitment, *, iterations: int, message: str = "",
                     criterion: Criterion = Criterion()) -> RecruitedResult:
    """An EquilibriumResult for a recruited posture: residual checked on the holding problem,
    stability from its stiffness matrix (including the muscles' short-range stiffness).

    In the inverse and upright modes the nervous system holds the posture actively, so static
    stability is reported (how stable) but does not decide success (docs/model.md §12)."""
    held = holding_problem(problem, rec)
    u = free_coordinates(held, rec.q)
    residual = float(np.max(np.abs(reduced_residual(held, u))))
    K = -reduced_jacobian(held, u)
    eig = np.linalg.eigvalsh(0.5 * (K + K.T))
    if not rec.feasible:
        code, text = Status.SHORTFALL, rec.message()
    elif message:
        code, text = Status.TARGET_MISSED, message
    elif not residual < max(held.tolerance_Nm, 1e-6):
        code, text = Status.NOT_CONVERGED, (f"the recruited activations leave a residual of "
                                            f"{residual:.3g} N·m")
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
                           stiffness_eigenvalues=eig, recruitment=rec, criterion=criterion)

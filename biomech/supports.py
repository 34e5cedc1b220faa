"""How the body is supported, what loads it, and the reference posture of a support.

`Support` and `Load` are the Python API's inputs (docs/model.md §7); `reference_posture` gives
the root body the support holds and the joint angles of its reference posture (the set point of
the muscles' stretch response); `contact_specs` the one-sided contacts of a support.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

import numpy as np

from . import limits
from .errors import ModelError
from .names import SUPPORTS
from .units import RAD_PER_DEG, STANDARD_GRAVITY

#: Compressive (tangent) stiffness of the loaded soft tissue between a bony prominence and a seat
#: or table, both sides together (N/m). The secant stiffness under one ischial tuberosity is
#: ≈ 5-6 N/mm (D: ~18 % of body weight per tuberosity, Drummond DS et al. (1982) J Bone Joint
#: Surg Am 64:1034-1039 (R), over the 20-25 mm thinning of the tissue in sitting, PMC10267746
#: Table 4 (V, a finite-element study of buttock tissue; authors not identified)); the tissue
#: stiffens strongly with compression (Linder-Ganz et al. 2007, V: 46-74 % strains,
#: docs/references.md),
#: so the tangent stiffness of the loaded tissue is taken ~10× the secant: 50 N/mm per side.
DEFAULT_CONTACT_STIFFNESS_N_PER_M = 1.0e5

LEGS = ("supported", "lifted")


def suggest(name, allowed) -> str:
    """' (did you mean 'x'?)' for the nearest of ``allowed``, or ''."""
    close = difflib.get_close_matches(str(name), list(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class Support:
    """How the body is supported (docs/model.md §7).

    Parameters
    ----------
    kind : "standing" | "sitting" | "lying" (supine).
    thigh_inclination_deg : thigh axis against the body's vertical (the world y axis), + = knee
        forward (anterior). Defaults: standing 0, sitting 90, lying 0 (legs flat on the table).
    knee_flexion_deg : 0-150; defaults: standing 0, sitting 90, lying 0.
    legs : lying only: "supported" (the table holds the legs: their weight and orientation) or
        "lifted" (their weight hangs on the hip muscles).
    contact_stiffness_N_per_m : seat (sitting) or table (lying) soft-tissue stiffness.
    """

    kind: str = "standing"
    thigh_inclination_deg: float | None = None
    knee_flexion_deg: float | None = None
    legs: str = "supported"
    contact_stiffness_N_per_m: float = DEFAULT_CONTACT_STIFFNESS_N_PER_M

    def __post_init__(self):
        if self.kind not in SUPPORTS:
            raise ModelError(f"Support.kind must be one of {', '.join(SUPPORTS)}, got {self.kind!r}"
                             + suggest(self.kind, SUPPORTS))
        if self.legs not in LEGS:
            raise ModelError(f"Support.legs must be 'supported' or 'lifted', got {self.legs!r}")
        if self.legs == "lifted" and self.kind != "lying":
            raise ModelError("Support.legs = 'lifted' applies to lying only")
        for name in ("thigh_inclination_deg", "knee_flexion_deg"):
            if getattr(self, name) is not None:
                limits.check("Support", f"support.{name}", getattr(self, name))
        limits.check("Support", "support.contact_stiffness_N_per_m", self.contact_stiffness_N_per_m)

    @property
    def thigh_deg(self) -> float:
        if self.thigh_inclination_deg is not None:
            return float(self.thigh_inclination_deg)
        return {"standing": 0.0, "sitting": 90.0, "lying": 0.0}[self.kind]

    @property
    def knee_deg(self) -> float:
        if self.knee_flexion_deg is not None:
            return float(self.knee_flexion_deg)
        return {"standing": 0.0, "sitting": 90.0, "lying": 0.0}[self.kind]

    @property
    def gravity(self) -> np.ndarray:
        """(2,) m/s² in the world frame: down the y axis, or along −x lying (the table is the
        world y axis)."""
        if self.kind == "lying":
            return np.array([-STANDARD_GRAVITY, 0.0])
        return np.array([0.0, -STANDARD_GRAVITY])


@dataclass(frozen=True)
class Load:
    """An external load attached to a body.

    Parameters
    ----------
    body : body name.
    point_m : (x, y) where the load acts, in world coordinates of the model's reference posture
        for this support (it then moves with the body).
    force_N : (Fx, Fy) world force, or
    mass_kg : a mass whose weight (in the support's gravity) acts at the point.
    """

    body: str
    point_m: tuple[float, float]
    force_N: tuple[float, float] | None = None
    mass_kg: float | None = None

    def __post_init__(self):
        if not isinstance(self.body, str) or not self.body:
            raise ModelError(f"Load.body must be a body name, got {self.body!r}")
        if (self.force_N is None) == (self.mass_kg is None):
            raise ModelError("a Load needs exactly one of force_N and mass_kg")
        for name in ("point_m", "force_N", "mass_kg"):
            if getattr(self, name) is not None:
                limits.check("Load", f"loads.{name}", getattr(self, name))


def reference_posture(model, support: Support) -> tuple[int, float, np.ndarray]:
    """Root body, its angle (rad) and the reference joint angles q_ref (n_joints,) of a support.

    Standing and sitting: the femur is the root at the thigh inclination, the pelvis has the
    orientation of the calibrated relaxed posture and the spine is at its reference angles.
    Lying: the thorax is the root, level with the table; the spine at its reference angles.
    """
    femur = model.body_index("femur")
    knee = model.landmarks["knee"][1]
    beta0 = math.atan2(knee[0], -knee[1])            # hip->knee line in the femur frame
    phi_femur = support.thigh_deg * RAD_PER_DEG - beta0
    q_ref = np.array(model.reference_angle, float)
    hip = model.joint_index("hip")
    q_ref[hip] = model.reference_pelvis_angle - phi_femur
    if support.kind == "lying":
        return model.body_index("thorax"), 0.0, q_ref
    return femur, phi_femur, q_ref


def contact_landmarks(support: Support) -> tuple[tuple[str, tuple[float, float]], ...]:
    """The one-sided contacts of a support: (landmark name, outward normal of the support
    surface in the world frame) pairs. The surface passes through the landmark in the
    reference posture (the contact just touches there)."""
    if support.kind == "sitting":
        return (("ischial_tuberosity", (0.0, 1.0)),)      # the seat, under the ischia
    if support.kind == "lying":
        return (("sacrum_posterior", (1.0, 0.0)),)        # the table, behind the sacrum
    return ()

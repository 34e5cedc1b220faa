"""The allowed range of every numeric input, in one table.

A scenario file and the Python API accept the same values: the scenario loader
(`scenario.py`) reads its bounds from `LIMITS`, and the API's own classes (`Subject`,
`Support`, `Load`, `MuscleSetting`) validate through `check`. Keys are the dotted keys of a
scenario file (docs/scenarios.md §2), with the table of an array or of a named entry standing
for all of them: ``"loads.point_m"`` is the `point_m` of every `[[loads]]`,
``"muscles.tension_N"`` the `tension_N` of every `[muscles.<name>]`. Bounds are inclusive and
in the unit of the key's name.

    >>> check("Subject", "subject.height_m", 1.75)          # fine: returns None
    >>> check("Subject", "subject.height_m", 3.0)
    Traceback (most recent call last):
    ...
    biomech.errors.ModelError: Subject.height_m must be a number from 1.2 to 2.2, got 3.0
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from typing import Any

from .errors import ModelError

__all__ = ["LIMITS", "Limit", "check", "fmt"]


@dataclass(frozen=True)
class Limit:
    """A closed range [low, high] of finite numbers.

    integer : only whole numbers (given as integers, not 100.0).
    pair : the value is two numbers [x, y], each within the range.
    """

    low: float
    high: float
    integer: bool = False
    pair: bool = False

    def allowed(self) -> str:
        """'a number from 30 to 200', 'an integer from 1 to 1000', 'two numbers [x, y], ...'."""
        span = f"from {fmt(self.low)} to {fmt(self.high)}"
        if self.pair:
            return f"two numbers [x, y], each {span}"
        return ("an integer " if self.integer else "a number ") + span

    def problem(self, value: Any) -> str | None:
        """What is wrong with one number (None if it is allowed); pairs: see `pair_problem`."""
        if not is_number(value):
            return "not a number"
        if self.integer and not isinstance(value, numbers.Integral):
            return "not an integer"
        if not isinstance(value, numbers.Integral) and not math.isfinite(value):
            return "not a finite number"
        if not self.low <= value <= self.high:     # exact for integers of any size
            return "out of range"
        return None

    def pair_problem(self, value: Any) -> str | None:
        """What is wrong with a pair (None if it is allowed)."""
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
            return "not a pair of numbers"
        for item in value:
            problem = self.problem(item)
            if problem:
                return f"{problem} in the pair"
        return None


def is_number(value: Any) -> bool:
    """A real number that is not a boolean (TOML and Python both have true/false)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def fmt(x: float) -> str:
    """A number for messages: 100, 0.5, 1e8, 1e-10; integers too large for a float by size."""
    if isinstance(x, numbers.Integral) and abs(x) >= 10**16:
        return f"an integer of {x.bit_length()} bits"
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + ("-" if m[1] == "-" else "") + m[2],
                  f"{float(x):g}")


#: The table: every numeric key of a scenario file, and the ranges of the API's classes.
LIMITS: dict[str, Limit] = {
    # Subject (model.py)
    "subject.body_mass_kg": Limit(30, 200),
    "subject.height_m": Limit(1.2, 2.2),
    "subject.pelvic_incidence_deg": Limit(20, 90),
    "subject.muscle_strength_scale": Limit(0.2, 5),
    "subject.tone_scale": Limit(0, 10),
    # Support (supports.py)
    "support.thigh_inclination_deg": Limit(-60, 150),
    "support.knee_flexion_deg": Limit(0, 150),
    "support.backrest_inclination_deg": Limit(0, 45),
    "support.contact_stiffness_N_per_m": Limit(1e2, 1e8),
    # Leg (supports.py): [support.left_leg] and [support.right_leg]
    "leg.hip_flexion_deg": Limit(-30, 140),
    "leg.knee_flexion_deg": Limit(0, 150),
    # MuscleSetting (muscles.py)
    "muscles.tension_N": Limit(0, 1e4),
    "muscles.activation": Limit(0, 1),
    "muscles.resting_length_scale": Limit(0.5, 1.5),
    # Load (supports.py)
    "loads.point_m": Limit(-3, 3, pair=True),
    "loads.mass_kg": Limit(0, 500),
    "loads.force_N": Limit(-1e4, 1e4, pair=True),
    # scenario-only keys (the API's functions take them as arguments)
    "abdomen.pressure_kPa": Limit(0, 30),
    "passive.disc_stiffness_scale": Limit(0.1, 10),
    "passive.hip_stiffness_scale": Limit(0, 10),
    "solver.tolerance_Nm": Limit(1e-10, 1e-2),
    "solver.max_iterations": Limit(1, 1000, integer=True),
    "solver.short_range_stiffness": Limit(0, 100),
    "upright.head_angle_deg": Limit(-80, 80),
    "upright.trunk_inclination_deg": Limit(-60, 90),
    "upright.thigh_inclination_deg": Limit(-60, 150),
    "upright.knee_flexion_deg": Limit(-10, 150),
    "upright.pelvic_tilt_deg": Limit(-40, 80),
    "upright.tissue_weight": Limit(0, 10),
    "upright.sagittal_vertical_axis_mm": Limit(-400, 400),
    "upright.thorax_angle_deg": Limit(-60, 60),
    "upright.stress_exponent": Limit(2, 4),
    "inverse.pelvic_tilt_deg": Limit(-40, 80),
    "inverse.sacral_slope_deg": Limit(-30, 90),
    "inverse.lumbar_lordosis_deg": Limit(-40, 100),
    "inverse.trunk_inclination_deg": Limit(-60, 60),
    "inverse.joint_angles_deg": Limit(-180, 180),
    "inverse.stress_exponent": Limit(2, 4),
    "sweep.num": Limit(1, 10000, integer=True),
}


def check(owner: str, key: str, value: Any) -> None:
    """Raise `ModelError` unless ``value`` is within ``LIMITS[key]``.

    owner : the class or function the value is given to, for the message
        (``"Subject"`` -> "Subject.height_m must be ...").
    """
    limit = LIMITS[key]
    problem = limit.pair_problem(value) if limit.pair else limit.problem(value)
    if problem is None:
        return
    name = f"{owner}.{key.rsplit('.', 1)[-1]}"
    if problem in ("not a number", "not a finite number"):
        raise ModelError(f"{name} must be a finite number, got {_shown(value)} "
                         f"(allowed: {limit.allowed()})")
    raise ModelError(f"{name} must be {limit.allowed()}, got {_shown(value)}")


def _shown(value: Any) -> str:
    """repr(value), at most 60 characters (integers too long for repr by their size)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and abs(value) >= 10**16:
        return fmt(value)
    try:
        text = repr(value)
    except ValueError:                     # e.g. a pair holding an integer of 5000 digits
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= 60 else text[:57] + "..."

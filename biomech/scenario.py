"""Scenario files: read a TOML scenario, merge its `extends` chain, validate it, expand a sweep.

This module is the only code that reads TOML. Everything in a file is checked here, before
anything is solved, and the file becomes frozen dataclasses (`Scenario`, `Sweep`) holding the
Python API's own objects (`Subject`, `Support`, `MuscleSetting`, `Load`). The schema, its
units, ranges, defaults and merge rules are documented for users in docs/scenarios.md.

Usage::

    scenario = load_scenario("scenarios/tight_psoas.toml")
    for point in sweep_points(scenario):        # [scenario] itself when there is no sweep
        ...

Every defect raises `ScenarioError` with a one-paragraph message
``<file>: <key path>: <what is wrong>; <what is allowed> (did you mean `x`?)``.
Key paths are dotted; the items of an array are numbered from 0 (``loads.0.body``).
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ModelError, ScenarioError
from .inverse import PostureTarget
from .anatomy import muscle_line_names
from .model import Subject
from .muscles import DEFAULT_SHORT_RANGE_STIFFNESS, MuscleSetting
from .names import BODIES, JOINTS, MUSCLE_GROUPS, SUPPORTS
from .recruitment import CRITERIA, Criterion
from .supports import Load, Support
from .upright import UprightTarget

__all__ = ["Scenario", "Sweep", "find_scenarios", "load_scenario", "sweep_points"]

Key = tuple[str | int, ...]
"""A key path inside a document: table keys (str) and array indices (int)."""

MAX_SWEEP_POINTS = 10000
"""Largest number of points a `[sweep]` may produce (zipped or crossed)."""

MODES_AVAILABLE = ("equilibrium", "upright", "inverse")
MODES_PLANNED: tuple[str, ...] = ()


# -------------------------------------------------------------------------------------------
# Public dataclasses
@dataclass(frozen=True)
class Sweep:
    """The `[sweep]` of a scenario: which keys vary, and their values at every point.

    Parameters
    ----------
    parameters : dotted keys in file order, e.g. ``"muscles.psoas.tension_N"``; the unit is the
        key's own (N, kg, deg, ...).
    values : one tuple per point, in the order of ``parameters``.
    grid : False: the keys' values were zipped; True: crossed (cartesian product, the first key
        varying slowest).
    """

    parameters: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    grid: bool


@dataclass(frozen=True)
class Scenario:
    """One scenario file, merged through its `extends` chain and validated (docs/scenarios.md).

    Parameters
    ----------
    path : the file, as given to `load_scenario`.
    name : 1-64 characters of ``[A-Za-z0-9_-]``; also the name of the output folder.
    description : the question the scenario asks.
    mode : "equilibrium" (muscles not set keep their frozen baseline activation), "upright"
        (the trunk target of `upright` is held, the other muscles recruited by least effort) or
        "inverse" (the measured posture `inverse` in, least-effort muscle forces out);
        docs/scenarios.md.
    subject, support : the Python API's `Subject` and `Support`.
    muscles : (group or line name, setting) pairs in file order (inherited ones first).
    loads : external loads.
    disc_stiffness_scale : multiplies every intervertebral passive moment (-).
    hip_stiffness_scale : multiplies the hip passive moment (-).
    tolerance_Nm : convergence tolerance on the largest generalized-force residual (N·m).
    max_iterations : Newton iterations allowed.
    short_range_stiffness : muscle stiffness gain q (-).
    upright : the postural target of mode "upright" (None in the other modes).
    inverse : the posture of mode "inverse" (None in the other modes).
    criterion : the effort criterion of the upright and inverse modes.
    sweep : the sweep, or None for a single posture.
    document : the merged TOML document (without `extends`), for provenance.
    """

    path: Path
    name: str
    description: str
    mode: str
    subject: Subject
    support: Support
    muscles: tuple[tuple[str, MuscleSetting], ...]
    loads: tuple[Load, ...]
    disc_stiffness_scale: float = 1.0
    hip_stiffness_scale: float = 1.0
    tolerance_Nm: float = 1e-6
    max_iterations: int = 100
    short_range_stiffness: float = DEFAULT_SHORT_RANGE_STIFFNESS
    upright: UprightTarget | None = None
    inverse: PostureTarget | None = None
    criterion: Criterion = Criterion()
    sweep: Sweep | None = None
    document: dict = field(default_factory=dict, compare=False)


# -------------------------------------------------------------------------------------------
# Public functions
def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (`extends`) and validate a scenario file, every sweep point included.

    Parameters
    ----------
    path : the TOML file.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError : for any defect in the file or in a file it extends.
    """
    scenario, _ = _load(Path(path), (), _muscle_names())
    return scenario


def sweep_points(scenario: Scenario) -> list[Scenario]:
    """One concrete `Scenario` per sweep point (``sweep=None``), values applied and re-validated.

    Returns ``[scenario]`` itself when the scenario has no sweep. Each point keeps the
    scenario's path and name; its ``document`` holds the applied values and no `[sweep]`.
    """
    if scenario.sweep is None:
        return [scenario]
    context = _Context({(): scenario.path}, _muscle_names())
    base = {k: v for k, v in scenario.document.items() if k != "sweep"}
    return [_build(_with_values(base, scenario.sweep.parameters, values), scenario.path, context)
            for values in scenario.sweep.values]


def find_scenarios(paths: Sequence[str | Path]) -> list[Path]:
    """Scenario files named by ``paths``: files as given, directories expanded to their
    ``*.toml`` files (sorted, not recursive).

    Raises
    ------
    ScenarioError : a path that does not exist, or a directory without ``*.toml`` files.
    """
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = sorted(p for p in path.glob("*.toml") if p.is_file())
            if not files:
                raise ScenarioError(f"{path}: no *.toml scenario files in this directory; "
                                    "give scenario files or directories that contain them")
            found.extend(files)
        elif path.is_file():
            found.append(path)
        else:
            raise ScenarioError(f"{path}: no such file or directory; give scenario files "
                                "(.toml) or directories that contain them")
    return found


# -------------------------------------------------------------------------------------------
# Error messages
def _dotted(path: Key) -> str:
    """A key path as text: ``muscles.psoas.tension_N``, ``loads.0.body``, ``sweep."a.b"``."""
    parts = []
    for part in path:
        text = str(part)
        parts.append(text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else f'"{text}"')
    return ".".join(parts)


def _error(file: Path, path: Key, what: str, allowed: str = "",
           near: Any = None, choices: Sequence[str] = ()) -> ScenarioError:
    """A `ScenarioError` ``<file>: <key path>: <what>; <allowed> (did you mean `x`?)``."""
    message = f"{file}: " + (f"{_dotted(path)}: " if path else "") + what
    if allowed:
        message += f"; {allowed}"
    if isinstance(near, str) and choices:
        close = difflib.get_close_matches(near, list(choices), n=1)
        if close:
            message += f" (did you mean `{close[0]}`?)"
    return ScenarioError(message)


class _Context:
    """Knows which file set each key path of a (merged) document; builds errors naming it.

    ``origins`` maps key paths to files; a path belongs to the file of its longest recorded
    prefix, and ``()`` (the whole document) is always recorded. ``muscle_names`` are the names
    a `[muscles.X]` table may use (read once per load: reading them means reading the model's
    reference data).
    """

    def __init__(self, origins: dict[Key, Path], muscle_names: tuple[str, ...] = ()):
        self.origins = origins
        self.muscle_names = muscle_names

    def file(self, path: Key) -> Path:
        for n in range(len(path), -1, -1):
            if path[:n] in self.origins:
                return self.origins[path[:n]]
        raise KeyError(path)  # pragma: no cover - () is always in origins

    def error(self, path: Key, what: str, allowed: str = "", near: Any = None,
              choices: Sequence[str] = ()) -> ScenarioError:
        return _error(self.file(path), path, what, allowed, near, choices)


def _describe(value: Any) -> str:
    """A value and its TOML type, for messages: 'the string "75"', 'a table', ..."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'the string "{shown}"'
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return "a date/time"


def _fmt(x: float) -> str:
    """A number for messages: 100, 0.5, 1e8, 1e-10."""
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + ("-" if m[1] == "-" else "") + m[2], f"{x:g}")


def _one_of(options: Sequence[str]) -> str:
    return "one of " + ", ".join(f'"{o}"' for o in options)


# -------------------------------------------------------------------------------------------
# Value rules: each says what is wrong with a value (or None), what is allowed, and converts it
def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class _Number:
    """A finite number (or integer) within [low, high], in the unit of its key."""

    low: float
    high: float
    integer: bool = False
    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        kind = "an integer" if self.integer else "a number"
        return f"allowed: {kind} from {_fmt(self.low)} to {_fmt(self.high)}"

    def problem(self, value: Any) -> str | None:
        if not _is_number(value):
            return f"{_describe(value)} is not a number"
        if self.integer and not isinstance(value, int):
            return f"{value!r} is not an integer"
        if not math.isfinite(value):
            return f"{value} is not a finite number"
        if not self.low <= value <= self.high:
            return f"{_fmt(value)} is out of range"
        return None

    def convert(self, value: Any) -> float | int:
        return int(value) if self.integer else float(value)


@dataclass(frozen=True)
class _Pair:
    """Two finite numbers [x, y], each within ±bound (m or N, by key)."""

    bound: float
    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        return f"allowed: two numbers [x, y], each from -{_fmt(self.bound)} to {_fmt(self.bound)}"

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, list) or len(value) != 2:
            count = f" ({len(value)} item{'s' if len(value) != 1 else ''})" \
                if isinstance(value, list) else ""
            return f"{_describe(value)}{count} is not a pair of numbers"
        for item in value:
            if not _is_number(item):
                return f"{_describe(item)} in the pair is not a number"
            if not math.isfinite(item):
                return f"{item} in the pair is not a finite number"
            if abs(item) > self.bound:
                return f"{_fmt(item)} in the pair is out of range"
        return None

    def convert(self, value: list) -> tuple[float, float]:
        return (float(value[0]), float(value[1]))


@dataclass(frozen=True)
class _Choice:
    """One string among ``choices``."""

    choices: tuple[str, ...]

    def allowed(self) -> str:
        return "allowed: " + _one_of(self.choices)

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"{_describe(value)} is not a string"
        if value not in self.choices:
            return f'unknown value "{value}"'
        return None

    def convert(self, value: str) -> str:
        return value


@dataclass(frozen=True)
class _Mode:
    """The solve mode: available ones, and planned ones refused with a clear message."""

    choices: tuple[str, ...] = MODES_AVAILABLE

    def allowed(self) -> str:
        return "modes available now: " + ", ".join(f'"{m}"' for m in MODES_AVAILABLE)

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"{_describe(value)} is not a string"
        if value in MODES_PLANNED:
            return f'mode "{value}" is planned but not implemented yet'
        if value not in MODES_AVAILABLE:
            return f'unknown mode "{value}"'
        return None

    def convert(self, value: str) -> str:
        return value


@dataclass(frozen=True)
class _Name:
    """A scenario name: 1-64 characters of [A-Za-z0-9_-] (it names the output folder)."""

    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        return "allowed: 1-64 characters among A-Z a-z 0-9 _ -"

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"{_describe(value)} is not a string"
        if not value:
            return "the name is empty"
        if len(value) > 64:
            return f"the name has {len(value)} characters"
        illegal = sorted(set(re.sub(r"[A-Za-z0-9_-]", "", value)))
        if illegal:
            return f'the name "{value}" contains ' + " ".join(repr(c) for c in illegal)
        return None

    def convert(self, value: str) -> str:
        return value


@dataclass(frozen=True)
class _Text:
    """A non-empty string."""

    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        return "allowed: a non-empty string"

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"{_describe(value)} is not a string"
        if not value.strip():
            return "the text is empty"
        return None

    def convert(self, value: str) -> str:
        return value


@dataclass(frozen=True)
class _Bool:
    """true or false."""

    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        return "allowed: true or false"

    def problem(self, value: Any) -> str | None:
        return None if isinstance(value, bool) else f"{_describe(value)} is not a boolean"

    def convert(self, value: bool) -> bool:
        return value


def _value(rule, value: Any, context: _Context, path: Key, label: str = "") -> Any:
    """Check ``value`` against ``rule`` (raising a `ScenarioError` at ``path``), convert it."""
    problem = rule.problem(value)
    if problem:
        raise context.error(path, label + problem, rule.allowed(), near=value,
                            choices=rule.choices)
    return rule.convert(value)


# -------------------------------------------------------------------------------------------
# The schema
_SCENARIO = {"name": _Name(), "description": _Text(), "mode": _Mode()}
_SUBJECT = {"body_mass_kg": _Number(30, 200), "height_m": _Number(1.2, 2.2),
            "pelvic_incidence_deg": _Number(20, 90), "muscle_strength_scale": _Number(0.2, 5),
            "tone_scale": _Number(0, 10)}
_SUPPORT = {"kind": _Choice(SUPPORTS), "thigh_inclination_deg": _Number(-60, 150),
            "knee_flexion_deg": _Number(0, 150), "legs": _Choice(("supported", "lifted")),
            "contact_stiffness_N_per_m": _Number(1e2, 1e8)}
_SETTING = {"tension_N": _Number(0, 1e4), "activation": _Number(0, 1),
            "resting_length_scale": _Number(0.5, 1.5)}
_LOAD = {"body": _Choice(BODIES), "point_m": _Pair(3.0), "mass_kg": _Number(0, 500),
         "force_N": _Pair(1e4)}
_PASSIVE = {"disc_stiffness_scale": _Number(0.1, 10), "hip_stiffness_scale": _Number(0, 10)}
_SOLVER = {"tolerance_Nm": _Number(1e-10, 1e-2), "max_iterations": _Number(1, 1000, integer=True),
           "short_range_stiffness": _Number(0, 100)}
_CRITERION = {"criterion": _Choice(CRITERIA), "stress_exponent": _Number(2, 4)}
_UPRIGHT = {"trunk_inclination_deg": _Number(-60, 60), "sagittal_vertical_axis_mm": _Number(-400, 400),
            "thorax_angle_deg": _Number(-60, 60), **_CRITERION}
_INVERSE = {"pelvic_tilt_deg": _Number(-40, 80), "sacral_slope_deg": _Number(-30, 90),
            "lumbar_lordosis_deg": _Number(-40, 100), "trunk_inclination_deg": _Number(-60, 60),
            "joint_angles_deg": None, **_CRITERION}
_JOINT_ANGLE = _Number(-180, 180)
_TOP = ("extends", "scenario", "subject", "support", "muscles", "loads", "passive", "solver",
        "upright", "inverse", "sweep")
_NOT_INHERITED = ("extends", "scenario", "sweep")

_SETTINGS_ALLOWED = ("exactly one of tension_N (0-10000 N), activation (0-1), "
                     "resting_length_scale (0.5-1.5)")

_SWEEPABLE = {
    **{f"subject.{k}": r for k, r in _SUBJECT.items()},
    **{f"support.{k}": _SUPPORT[k] for k in ("thigh_inclination_deg", "knee_flexion_deg",
                                             "contact_stiffness_N_per_m")},
    **{f"passive.{k}": r for k, r in _PASSIVE.items()},
    **{f"solver.{k}": _SOLVER[k] for k in ("tolerance_Nm", "short_range_stiffness")},
    **{f"upright.{k}": r for k, r in _UPRIGHT.items() if isinstance(r, _Number)},
    **{f"inverse.{k}": r for k, r in _INVERSE.items() if isinstance(r, _Number)},
}
"""Sweepable keys with a fixed path; `muscles.<name>.<setting>` and `loads.<i>.mass_kg` too."""

_SWEEP_PATTERNS = ("muscles.<name>.tension_N", "muscles.<name>.activation",
                   "muscles.<name>.resting_length_scale", "loads.<index>.mass_kg")
_RANGE_KEYS = ("start", "stop", "num")
_NUM = _Number(1, MAX_SWEEP_POINTS, integer=True)


def _muscle_names() -> tuple[str, ...]:
    """Every name a `[muscles.X]` table may use: groups, then single lines."""
    return tuple(MUSCLE_GROUPS) + tuple(muscle_line_names())


# -------------------------------------------------------------------------------------------
# Reading files and merging `extends`
def _read_toml(file: Path) -> dict:
    """Parse one TOML file (`ScenarioError` for a missing, unreadable or malformed file)."""
    if not file.exists():
        raise _error(file, (), "file not found", "give the path of an existing scenario file")
    if not file.is_file():
        raise _error(file, (), "not a file", "give the path of a scenario file (.toml)")
    try:
        text = file.read_bytes().decode("utf-8")
    except OSError as exc:
        raise _error(file, (), f"cannot be read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise _error(file, (), f"not UTF-8 text (byte {exc.start})",
                     "TOML files are UTF-8") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _error(file, (), f"malformed TOML: {exc}",
                     "see https://toml.io for the syntax") from exc


def _load(file: Path, descendants: tuple[Path, ...],
          muscle_names: tuple[str, ...]) -> tuple[Scenario, dict[Key, Path]]:
    """Load ``file`` and, recursively, the file it extends (each must be a valid scenario).

    ``descendants`` are the files that (directly or not) extend this one, to detect cycles.
    Returns the scenario and the origin of each key path of its merged document.
    """
    raw = _read_toml(file)
    document = {k: v for k, v in raw.items() if k != "extends"}
    origins: dict[Key, Path] = {(): file}
    if "extends" in raw:
        parent_file = _extends_target(raw["extends"], file, descendants)
        parent, parent_origins = _load(parent_file, descendants + (file,), muscle_names)
        document, origins = _merge(parent.document, parent_origins, document, file)
    scenario = _build(document, file, _Context(origins, muscle_names))
    sweep_points(scenario)          # every point must validate before anything is solved
    return scenario, origins


def _extends_target(value: Any, file: Path, descendants: tuple[Path, ...]) -> Path:
    """The file named by ``extends`` in ``file`` (relative to its directory), checked."""
    context = _Context({(): file})
    _value(_Text(), value, context, ("extends",))
    target = file.parent / value
    chain = descendants + (file,)
    if any(_same_file(target, f) for f in chain):
        names = " -> ".join(str(f) for f in chain + (target,))
        raise context.error(("extends",), f"cycle: {names}",
                            "allowed: a chain of files that ends in a file without extends")
    if not target.is_file():
        raise context.error(("extends",), f'"{value}" not found (looked for {target})',
                            "allowed: the path of an existing scenario file, relative to the "
                            "directory of this file")
    return target


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:  # pragma: no cover - unresolvable paths are simply different
        return False


def _merge(parent: dict, parent_origins: dict[Key, Path], child: dict,
           child_file: Path) -> tuple[dict, dict[Key, Path]]:
    """Deep-merge ``child`` over ``parent``: tables merge key by key, the child wins.

    A child's `[muscles.X]` table replaces the parent's X entirely, a child's `loads` replaces
    the parent's list; the parent's `[scenario]` and `[sweep]` are dropped (never inherited).
    """
    merged = {k: _copy_tree(v) for k, v in parent.items() if k not in _NOT_INHERITED}
    origins = {k: f for k, f in parent_origins.items() if not (k and k[0] in _NOT_INHERITED)}
    for key in merged:                      # what the parent set stays the parent's
        origins[(key,)] = _Context(parent_origins).file((key,))
    origins[()] = child_file
    _merge_into(merged, child, (), origins, child_file)
    order = {k: i for i, k in enumerate(_TOP)}
    merged = dict(sorted(merged.items(), key=lambda kv: order.get(kv[0], len(order))))
    return merged, origins


def _merge_into(base: dict, over: dict, path: Key, origins: dict[Key, Path], file: Path) -> None:
    """Merge table ``over`` into ``base`` in place, recording the origin of what changes."""
    for key, value in over.items():
        here = path + (key,)
        both_tables = isinstance(value, dict) and isinstance(base.get(key), dict)
        if both_tables and not _replaced_whole(here):
            _merge_into(base[key], value, here, origins, file)
        else:
            base[key] = _copy_tree(value)
            for known in [k for k in origins if k[:len(here)] == here]:
                del origins[known]
            origins[here] = file


def _copy_tree(value: Any) -> Any:
    """A deep copy of TOML data (tables, arrays, immutable scalars)."""
    if isinstance(value, dict):
        return {k: _copy_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_tree(v) for v in value]
    return value


def _replaced_whole(path: Key) -> bool:
    """Tables a child replaces instead of merging: each `[muscles.X]`."""
    return len(path) == 2 and path[0] == "muscles"


# -------------------------------------------------------------------------------------------
# Building the dataclasses from a merged document
def _build(document: dict, path: Path, context: _Context) -> Scenario:
    """Validate a merged document (no `extends`) and turn it into a `Scenario`.

    The scenario keeps ``document`` itself: callers pass a document nobody else holds.
    """
    _check_keys(document, _TOP, (), context)
    name, description, mode = _scenario_table(document, context)
    passive = _leaves(_table(document, "passive", context), _PASSIVE, ("passive",), context)
    solver = _leaves(_table(document, "solver", context), _SOLVER, ("solver",), context)
    upright, inverse, criterion = _mode_tables(document, mode, context)
    return Scenario(
        path=path, name=name, description=description, mode=mode,
        subject=_subject(document, context), support=_support(document, context),
        muscles=_muscles(document, context), loads=_loads(document, context),
        **passive, **solver, upright=upright, inverse=inverse, criterion=criterion,
        sweep=_sweep(document, context) if "sweep" in document else None,
        document=document)


def _mode_tables(document: dict, mode: str, context: _Context):
    """`[upright]` and `[inverse]`: each only with its mode; the upright target, the inverse
    posture and the effort criterion (defaults when the table is absent)."""
    for table in ("upright", "inverse"):
        if table in document and mode != table:
            raise context.error((table,), f'a [{table}] table, but mode is "{mode}"',
                                f'allowed: [{table}] with mode = "{table}" in [scenario]')
    if mode == "equilibrium":
        return None, None, Criterion()
    schema = _UPRIGHT if mode == "upright" else _INVERSE
    raw = dict(_table(document, mode, context))
    angles = raw.pop("joint_angles_deg", None) if mode == "inverse" else None
    values = _leaves(raw, {k: r for k, r in schema.items() if r is not None}, (mode,), context)
    crit = {k: values.pop(k) for k in list(values) if k in _CRITERION}
    criterion = _construct(Criterion, {"name": crit.get("criterion", "activation_squared"),
                                       "exponent": crit.get("stress_exponent", 3.0)},
                           (mode, "criterion"), context)
    if "stress_exponent" in crit and criterion.name != "stress_power":
        raise context.error((mode, "stress_exponent"), 'applies to criterion = "stress_power" only',
                            'allowed: criterion = "stress_power" with stress_exponent (2-4)')
    if mode == "upright":
        targets = [k for k in values]
        if len(targets) > 1:
            raise context.error((mode,), "more than one postural target (" + " and ".join(targets) + ")",
                                "allowed: one of trunk_inclination_deg, sagittal_vertical_axis_mm, "
                                "thorax_angle_deg (default: trunk_inclination_deg = 0)")
        return _construct(UprightTarget, values, (mode,), context), None, criterion
    if angles is not None:
        if not isinstance(angles, dict):
            raise context.error((mode, "joint_angles_deg"), f"{_describe(angles)} is not a table",
                                "allowed: a table of joint names and angles, e.g. "
                                "joint_angles_deg = { hip = -8.0, L5_S1 = 2.0 }")
        if values:
            raise context.error((mode, "joint_angles_deg"), "given together with "
                                + ", ".join(values), "allowed: joint_angles_deg, or spinopelvic "
                                "parameters (pelvic_tilt_deg or sacral_slope_deg, "
                                "lumbar_lordosis_deg, trunk_inclination_deg)")
        _check_keys(angles, JOINTS, (mode, "joint_angles_deg"), context)
        values = {"joint_angles_deg": {j: _value(_JOINT_ANGLE, v, context, (mode, "joint_angles_deg", j))
                                       for j, v in angles.items()}}
    if "pelvic_tilt_deg" in values and "sacral_slope_deg" in values:
        raise context.error((mode, "sacral_slope_deg"), "given together with pelvic_tilt_deg",
                            "allowed: pelvic_tilt_deg or sacral_slope_deg (PI = PT + SS)")
    return None, _construct(PostureTarget, values, (mode,), context), criterion


def _table(document: dict, key: str, context: _Context, path: Key = ()) -> dict:
    """``document[key]`` checked to be a table ({} when absent)."""
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise context.error(path + (key,), f"{_describe(value)} is not a table",
                            f"allowed: a [{_dotted(path + (key,))}] table")
    return value


def _check_keys(table: dict, allowed: Sequence[str], path: Key, context: _Context) -> None:
    """Every key of ``table`` must be in ``allowed``."""
    for key in table:
        if key not in allowed:
            raise context.error(path + (key,), "unknown key", "allowed: " + ", ".join(allowed),
                                near=key, choices=allowed)


def _leaves(table: dict, schema: dict, path: Key, context: _Context) -> dict[str, Any]:
    """Check a table of plain values against ``schema``; return the converted values."""
    _check_keys(table, schema, path, context)
    return {key: _value(schema[key], value, context, path + (key,)) for key, value in table.items()}


def _construct(cls, kwargs: dict, path: Key, context: _Context):
    """``cls(**kwargs)``, a `ModelError` of the Python API turned into a `ScenarioError`."""
    try:
        return cls(**kwargs)
    except ModelError as exc:
        raise context.error(path, str(exc), "see docs/scenarios.md") from exc


def _scenario_table(document: dict, context: _Context) -> tuple[str, str, str]:
    """Name, description and mode from `[scenario]` (required in every file)."""
    if "scenario" not in document:
        raise context.error(("scenario",), "missing table [scenario]",
                            "every scenario file needs [scenario] with name and description "
                            "(it is not inherited through extends)")
    values = _leaves(_table(document, "scenario", context), _SCENARIO, ("scenario",), context)
    for key in ("name", "description"):
        if key not in values:
            raise context.error(("scenario", key), "missing key",
                                f"every [scenario] needs {key} = \"...\"")
    return values["name"], values["description"], values.get("mode", "equilibrium")


def _subject(document: dict, context: _Context) -> Subject:
    """`[subject]`: body mass (kg), height (m), pelvic incidence (deg), strength and tone scales."""
    values = _leaves(_table(document, "subject", context), _SUBJECT, ("subject",), context)
    return _construct(Subject, values, ("subject",), context)


def _support(document: dict, context: _Context) -> Support:
    """`[support]`: kind, thigh inclination and knee flexion (deg), legs, contact stiffness."""
    values = _leaves(_table(document, "support", context), _SUPPORT, ("support",), context)
    kind = values.get("kind", "standing")
    if values.get("legs") == "lifted" and kind != "lying":
        raise context.error(("support", "legs"),
                            f'legs = "lifted" applies to lying only, but kind is "{kind}"'
                            + (_set_in(("support", "kind"), ("support", "legs"), context)
                               if "kind" in values else " (the default)"),
                            'allowed: kind = "lying" with legs = "lifted", or no legs key')
    return _construct(Support, values, ("support",), context)


def _muscles(document: dict, context: _Context) -> tuple[tuple[str, MuscleSetting], ...]:
    """`[muscles.X]` tables: X a group or a line, set in exactly one way."""
    table = _table(document, "muscles", context)
    names = context.muscle_names
    settings = []
    for name, entry in table.items():
        path = ("muscles", name)
        if name not in names:
            raise context.error(path, "unknown muscle",
                                "allowed: a group (" + ", ".join(MUSCLE_GROUPS) + ") or a single "
                                "line (biomech.model.muscle_line_names())",
                                near=name, choices=names)
        if not isinstance(entry, dict):
            raise context.error(path, f"{_describe(entry)} is not a table",
                                f"allowed: a [muscles.{name}] table with {_SETTINGS_ALLOWED}")
        values = _leaves(entry, _SETTING, path, context)
        _check_one_way(values, path, context)
        settings.append((name, _construct(MuscleSetting, values, path, context)))
    return tuple(settings)


def _check_one_way(values: dict, path: Key, context: _Context) -> None:
    """A muscle is set by exactly one of tension_N, activation, resting_length_scale."""
    if not values:
        raise context.error(path, "no way of setting the muscle is given", "allowed: "
                            + _SETTINGS_ALLOWED)
    if len(values) > 1:
        raise context.error(path, "more than one way of setting one muscle ("
                            + " and ".join(values) + ")", "allowed: " + _SETTINGS_ALLOWED)


def _loads(document: dict, context: _Context) -> tuple[Load, ...]:
    """`[[loads]]`: body, point_m (m, reference posture), and mass_kg or force_N (N)."""
    entries = document.get("loads", [])
    if not isinstance(entries, list):
        raise context.error(("loads",), f"{_describe(entries)} is not an array of tables",
                            "allowed: [[loads]] tables (note the double brackets)")
    return tuple(_load_entry(entry, ("loads", i), context) for i, entry in enumerate(entries))


def _load_entry(entry: Any, path: Key, context: _Context) -> Load:
    """One `[[loads]]` table."""
    if not isinstance(entry, dict):
        raise context.error(path, f"{_describe(entry)} is not a table",
                            "allowed: a [[loads]] table with body, point_m, mass_kg or force_N")
    values = _leaves(entry, _LOAD, path, context)
    for key in ("body", "point_m"):
        if key not in values:
            raise context.error(path + (key,), "missing key", f"every [[loads]] needs {key}")
    ways = [k for k in ("mass_kg", "force_N") if k in values]
    if len(ways) != 1:
        what = "neither mass_kg nor force_N is given" if not ways else \
            "more than one way of setting one load (mass_kg and force_N)"
        raise context.error(path, what, "allowed: exactly one of mass_kg (0-500 kg) or "
                            "force_N = [Fx, Fy] (N, each from -10000 to 10000)")
    return _construct(Load, values, path, context)


# -------------------------------------------------------------------------------------------
# Sweeps
def _sweep(document: dict, context: _Context) -> Sweep:
    """`[sweep]`: dotted keys mapped to value lists or {start, stop, num} ranges, and grid."""
    table = _table(document, "sweep", context)
    grid = _value(_Bool(), table.get("grid", False), context, ("sweep", "grid"))
    keys = [k for k in table if k != "grid"]
    if not keys:
        raise context.error(("sweep",), "no key to sweep",
                            'allowed: "<dotted key>" = [values] or { start, stop, num }')
    columns = []
    for key in keys:
        path = ("sweep", key)
        rule = _sweep_rule(key, table[key], document, context, path)
        columns.append(_sweep_values(table[key], rule, context, path))
    _check_muscles_swept_once(keys, context)
    return Sweep(parameters=tuple(keys), values=_combine(keys, columns, grid, context), grid=grid)


def _sweep_rule(key: str, spec: Any, document: dict, context: _Context, path: Key):
    """The value rule of a sweep key, after checking that the key may be swept here."""
    parts = key.split(".")
    if len(parts) == 1 and isinstance(spec, dict) and not set(spec) & set(_RANGE_KEYS):
        raise context.error(path, "a nested table: the dotted key was not quoted",
                            f'allowed: write the whole key in quotes, e.g. "{_unquoted(key, spec)}"'
                            " = [...]")
    if parts[0] == "muscles":
        return _muscle_sweep_rule(parts, document, context, path)
    if parts[0] == "loads":
        return _load_sweep_rule(parts, document, context, path)
    if key in _SWEEPABLE:
        return _SWEEPABLE[key]
    known = list(_SWEEPABLE) + list(_SWEEP_PATTERNS)
    if key == "solver.max_iterations":
        raise context.error(path, "cannot be swept (an integer solver limit)",
                            "allowed: " + ", ".join(known))
    if key in _all_keys():
        raise context.error(path, "cannot be swept (not a number key)",
                            "allowed: " + ", ".join(known))
    raise context.error(path, "not a key that can be swept", "allowed: " + ", ".join(known),
                        near=key, choices=known)


def _all_keys() -> set[str]:
    """Every dotted key of a plain table of the schema (for 'cannot be swept' messages)."""
    tables = {"scenario": _SCENARIO, "subject": _SUBJECT, "support": _SUPPORT,
              "passive": _PASSIVE, "solver": _SOLVER, "upright": _UPRIGHT, "inverse": _INVERSE}
    return {f"{t}.{k}" for t, schema in tables.items() for k in schema}


def _unquoted(key: str, spec: Any) -> str:
    """Rebuild the dotted key TOML split into nested tables: muscles -> muscles.psoas.tension_N."""
    parts = [key]
    while isinstance(spec, dict) and len(spec) == 1 and not set(spec) & set(_RANGE_KEYS):
        (sub, spec), = spec.items()
        parts.append(sub)
    return ".".join(parts)


def _muscle_sweep_rule(parts: list[str], document: dict, context: _Context, path: Key):
    """`muscles.<name>.<setting>`: a known muscle, a setting, no other setting in the file."""
    allowed = "allowed: " + ", ".join(_SWEEP_PATTERNS[:3])
    if len(parts) != 3:
        raise context.error(path, "not a key that can be swept", allowed)
    _, name, setting = parts
    names = context.muscle_names
    if name not in names:
        raise context.error(path, f'unknown muscle "{name}"', "allowed: a group ("
                            + ", ".join(MUSCLE_GROUPS) + ") or a single line",
                            near=name, choices=names)
    if setting not in _SETTING:
        raise context.error(path, f'unknown muscle setting "{setting}"', allowed,
                            near=setting, choices=tuple(_SETTING))
    entry = document.get("muscles", {}).get(name, {})
    other = [k for k in entry if k != setting] if isinstance(entry, dict) else []
    if other:
        raise context.error(path, f"more than one way of setting one muscle: the sweep sets "
                            f"{setting} while muscles.{name} sets {other[0]}"
                            + _set_in(("muscles", name), path, context),
                            f"allowed: sweep muscles.{name}.{other[0]}, or remove "
                            f"muscles.{name}.{other[0]}")
    return _SETTING[setting]


def _load_sweep_rule(parts: list[str], document: dict, context: _Context, path: Key):
    """`loads.<index>.mass_kg`: an existing load (0 = the first) set by its mass."""
    loads = document.get("loads", [])
    count = len(loads) if isinstance(loads, list) else 0
    if len(parts) != 3 or parts[2] != "mass_kg" or not parts[1].isdigit():
        raise context.error(path, "not a key that can be swept",
                            "allowed: loads.<index>.mass_kg, index 0 for the first [[loads]]",
                            near=parts[-1], choices=("mass_kg",))
    index = int(parts[1])
    if index >= count:
        raise context.error(path, f"there is no load {index} (the file has {count} [[loads]])",
                            f"allowed: an index from 0 to {count - 1}" if count
                            else "allowed: add a [[loads]] table first")
    if isinstance(loads[index], dict) and "force_N" in loads[index]:
        raise context.error(path, f"more than one way of setting one load: loads.{index} "
                            "sets force_N" + _set_in(("loads",), path, context),
                            "allowed: sweep the mass of a load given by mass_kg")
    return _LOAD["mass_kg"]


def _set_in(key: Key, path: Key, context: _Context) -> str:
    """' (in <file>)' when ``key`` was set in another file than ``path`` (through extends)."""
    other = context.file(key)
    return f" (in {other})" if other != context.file(path) else ""


def _check_muscles_swept_once(keys: Sequence[str], context: _Context) -> None:
    """Two sweep keys may not set one muscle in two ways."""
    seen: dict[str, str] = {}
    for key in keys:
        parts = key.split(".")
        if parts[0] != "muscles":
            continue
        name, setting = parts[1], parts[2]
        if name in seen:
            raise context.error(("sweep", key), "more than one way of setting one muscle: "
                                f"the sweep also sets muscles.{name}.{seen[name]}",
                                "allowed: " + _SETTINGS_ALLOWED)
        seen[name] = setting


def _sweep_values(spec: Any, rule, context: _Context, path: Key) -> tuple[float, ...]:
    """The values of one sweep key: a non-empty list, or a {start, stop, num} range."""
    if isinstance(spec, list):
        if not spec:
            raise context.error(path, "the list of values is empty",
                                "allowed: at least one number")
        return tuple(_value(rule, item, context, path, label=f"item {i}: ")
                     for i, item in enumerate(spec))
    if isinstance(spec, dict):
        return _sweep_range(spec, rule, context, path)
    raise context.error(path, f"{_describe(spec)} is neither a list of values nor a range",
                        "allowed: [v1, v2, ...] or { start = a, stop = b, num = n }")


def _sweep_range(spec: dict, rule, context: _Context, path: Key) -> tuple[float, ...]:
    """{start, stop, num}: num evenly spaced values from start to stop, both included."""
    _check_keys(spec, _RANGE_KEYS, path, context)
    missing = [k for k in _RANGE_KEYS if k not in spec]
    if missing:
        raise context.error(path, "the range lacks " + ", ".join(missing),
                            "allowed: { start = a, stop = b, num = n }")
    start = _value(rule, spec["start"], context, path + ("start",))
    stop = _value(rule, spec["stop"], context, path + ("stop",))
    num = _value(_NUM, spec["num"], context, path + ("num",))
    if num == 1:
        return (start,)
    return tuple(start + (stop - start) * i / (num - 1) for i in range(num - 1)) + (stop,)


def _combine(keys: Sequence[str], columns: Sequence[tuple[float, ...]], grid: bool,
             context: _Context) -> tuple[tuple[float, ...], ...]:
    """Zip (equal lengths) or cross (grid) the columns, at most MAX_SWEEP_POINTS points."""
    lengths = [len(c) for c in columns]
    if not grid and len(set(lengths)) > 1:
        sizes = ", ".join(f"{k} has {n}" for k, n in zip(keys, lengths))
        raise context.error(("sweep",), f"the keys have unequal numbers of values ({sizes})",
                            "allowed: equal lengths (zipped point by point), or grid = true "
                            "(every combination)")
    count = math.prod(lengths) if grid else lengths[0]
    if count > MAX_SWEEP_POINTS:
        raise context.error(("sweep",), f"{count} points are too many",
                            f"allowed: at most {MAX_SWEEP_POINTS} points in total")
    points = itertools.product(*columns) if grid else zip(*columns)
    return tuple(tuple(p) for p in points)


def _with_values(document: dict, parameters: Sequence[str], values: Sequence[float]) -> dict:
    """A copy of ``document`` with each dotted parameter set to its value."""
    out = _copy_tree(document)
    for key, value in zip(parameters, values):
        parts = key.split(".")
        if parts[0] == "loads":
            out["loads"][int(parts[1])][parts[2]] = value
            continue
        table = out
        for part in parts[:-1]:
            table = table.setdefault(part, {})
        table[parts[-1]] = value
    return out

"""Scenario files: read a TOML scenario, merge its `extends` chain, validate it, expand a sweep.

This module is the only code that reads TOML. Everything in a file is checked here, before
anything is solved, and the file becomes frozen dataclasses (`Scenario`, `Sweep`) holding the
Python API's own objects (`Subject`, `Support`, `MuscleSetting`, `Load`). The schema, its
units, ranges, defaults and merge rules are documented for users in docs/scenarios.md; the
ranges themselves are `biomech.limits.LIMITS`, which the API's classes check too.

Usage::

    scenario = load_scenario("scenarios/tight_psoas.toml")
    for point in sweep_points(scenario):        # [scenario] itself when there is no sweep
        ...

Defects raise one `ScenarioError` that lists every problem found (as a compiler does), one
paragraph each: ``<file>: <key path>: <what is wrong>; <what is allowed> (did you mean `x`?)``.
Key paths are dotted; the items of an array are numbered from 0 (``loads.0.body``). The file
named is the one that set the offending key. No message repeats a long input in full.
"""

from __future__ import annotations

import difflib
import errno
import itertools
import json
import math
import os
import re
import stat
import tomllib
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ModelError, ScenarioError
from .abdomen import HOOP_GROUP, HOOP_LINES
from .anatomy import leg_line_names, muscle_line_names
from .legs import SIDES
from .inverse import PostureTarget, TargetError, target_posture
from .limits import LIMITS, Limit, fmt as _fmt
from .model import Subject
from .muscles import DEFAULT_SHORT_RANGE_STIFFNESS, MuscleSetting
from .names import BODIES, JOINTS, MUSCLE_GROUPS, SUPPORTS
from .recruitment import CRITERIA, DEFAULT_TISSUE_WEIGHT, Criterion
from .problem import prepare
from .supports import LEG_POSITIONS, Leg, Load, Support, floor_feet, reference_posture
from .tone import calibrated_model
from .upright import TARGETS as UPRIGHT_TARGETS, UprightTarget

__all__ = ["Scenario", "Sweep", "find_scenarios", "load_scenario", "sweep_points"]

Key = tuple[str | int, ...]
"""A key path inside a document: table keys (str) and array indices (int)."""

MAX_SWEEP_POINTS = int(LIMITS["sweep.num"].high)
"""Largest number of points a `[sweep]` may produce (zipped or crossed)."""

MAX_FILE_BYTES = 1_000_000
"""Largest scenario file read (a 10,000-value sweep written out is ≈ 100 kB)."""

MAX_NESTING = 10
"""Deepest nesting of tables and arrays read (the schema itself needs 3: ``loads.0.point_m``)."""

MAX_EXTENDS_CHAIN = 64
"""Most files an `extends` chain may hold, the file loaded included."""

MODES_AVAILABLE = ("equilibrium", "upright", "inverse")
#: The mode of a scenario that does not name one: the person keeps the gaze level and the
#: balance on the support with least effort (docs/model.md §12).
DEFAULT_MODE = "upright"
MODES_PLANNED: tuple[str, ...] = ()

_SHOWN = 40
"""Longest input (a string value, a key) that messages repeat in full; longer ones are cut."""


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
    description : the question the scenario asks (it may come from a file this one extends).
    mode : (inherited like the description) "upright", the default (the person keeps the targets
        of `upright`, by default the gaze level, and the balance on the support; posture and
        muscles by least effort), "equilibrium" (the frozen-tone experiment: muscles not set keep
        their baseline activation, the ankles and knees held) or "inverse" (the measured posture
        `inverse` in, least-effort muscle forces out); docs/scenarios.md.
    subject, support : the Python API's `Subject` and `Support`.
    muscles : (group or line name, setting) pairs in file order (inherited ones first).
    loads : external loads.
    disc_stiffness_scale : multiplies every intervertebral passive moment (-).
    hip_stiffness_scale : multiplies the hip, knee and ankle passive moments (-).
    tolerance_Nm : convergence tolerance on the largest generalized-force residual (N·m).
    max_iterations : Newton iterations allowed.
    short_range_stiffness : muscle stiffness gain q (-).
    abdominal_pressure_kPa : a prescribed intra-abdominal pressure (kPa), or None: the pressure
        follows from the transversus abdominis (docs/model.md §6a).
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
    abdominal_pressure_kPa: float | None = None
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
    ScenarioError : listing every defect found in the file and in the files it extends.
    """
    scenario, problems = _load(Path(path), _muscle_names())
    if problems:
        raise ScenarioError(*problems)
    return scenario


def sweep_points(scenario: Scenario) -> list[Scenario]:
    """One concrete `Scenario` per sweep point (``sweep=None``), values applied and re-validated.

    Returns ``[scenario]`` itself when the scenario has no sweep. Each point keeps the
    scenario's path and name; its ``document`` holds the applied values and no `[sweep]`.
    """
    if scenario.sweep is None:
        return [scenario]
    hit = _POINTS.get(id(scenario))
    if hit is not None and hit[0]() is scenario:    # built when the file was validated
        return list(hit[1])
    context = _Context({(): scenario.path}, _muscle_names())
    base = {k: v for k, v in scenario.document.items() if k != "sweep"}
    return [_build(_with_values(base, scenario.sweep.parameters, values), scenario.path, context)
            for values in scenario.sweep.values]


#: The points of each loaded sweep, as `_validate` built them, by scenario (`sweep_points`);
#: dropped with the scenario. A scenario made otherwise (e.g. `dataclasses.replace`) is another
#: object, and its points are built anew.
_POINTS: dict = {}


def _keep_points(scenario: Scenario, points: list[Scenario]) -> None:
    key = id(scenario)
    _POINTS[key] = (weakref.ref(scenario), tuple(points))
    weakref.finalize(scenario, _POINTS.pop, key, None)


def find_scenarios(paths: Sequence[str | Path]) -> list[Path]:
    """Scenario files named by ``paths``: files as given, directories expanded to their
    ``*.toml`` entries (sorted, not recursive; sub-directories are skipped).

    Raises
    ------
    ScenarioError : listing every path that does not exist (or cannot be used), and every
        directory without ``*.toml`` files.
    """
    found: list[Path] = []
    problems: list[str] = []
    for given in paths:
        path = Path(given)
        info, why = _stat(path)
        if info is not None and stat.S_ISDIR(info.st_mode):
            files = sorted(p for p in path.glob("*.toml") if not _is_dir(p))
            if not files:
                problems.append(f"{_shown_path(path)}: no *.toml scenario files in this directory; "
                                "give scenario files or directories that contain them")
            found.extend(files)
        elif info is not None:
            found.append(path)
        else:
            problems.append(f"{_shown_path(path)}: {why}; give scenario files (.toml) or "
                            "directories that contain them")
    if problems:
        raise ScenarioError(*problems)
    return found


# -------------------------------------------------------------------------------------------
# Error messages
def _short(text: str, limit: int = _SHOWN) -> str:
    """``text`` if it is at most ``limit`` characters, else its start and end around '...'."""
    if len(text) <= limit:
        return text
    tail = max(limit // 3, 4)
    return f"{text[:limit - tail - 3]}...{text[-tail:]}"


def _quoted(text: str) -> str:
    """A string for messages: in double quotes, control characters escaped, cut if long."""
    return json.dumps(_short(text), ensure_ascii=False)


def _shown_path(path: Path | str, limit: int = 160) -> str:
    """A path for messages: as given, control characters escaped, cut beyond ``limit``."""
    text = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m[0]):02x}", str(path))
    return _short(text, limit)


def _dotted(path: Key) -> str:
    """A key path as text: ``muscles.psoas.tension_N``, ``loads.0.body``, ``sweep."a.b"``."""
    parts = []
    for part in path:
        text = str(part)
        parts.append(text if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", text) else _quoted(text))
    return ".".join(parts)


def _error(file: Path, path: Key, what: str, allowed: str = "",
           near: Any = None, choices: Sequence[str] = ()) -> ScenarioError:
    """A `ScenarioError` ``<file>: <key path>: <what>; <allowed> (did you mean `x`?)``."""
    message = f"{_shown_path(file)}: " + (f"{_dotted(path)}: " if path else "") + what
    if allowed:
        message += f"; {allowed}"
    if isinstance(near, str) and choices and len(near) <= 100:
        close = difflib.get_close_matches(near, list(choices), n=1)
        if close:
            message += f" (did you mean `{close[0]}`?)"
    err = ScenarioError(message)
    err.files = (file,)
    return err


def _joined(errors: Sequence[ScenarioError]) -> ScenarioError:
    """One `ScenarioError` holding the problems of several, in order, without repeats."""
    seen: dict[str, Path | None] = {}
    for err in errors:
        for message, file in zip(err.problems, _files(err)):
            seen.setdefault(message, file)
    joined = ScenarioError(*seen)
    joined.files = tuple(seen.values())
    return joined


def _files(err: ScenarioError) -> tuple:
    """The file each problem of ``err`` names (None where unknown)."""
    return getattr(err, "files", (None,) * len(err.problems))


class _Context:
    """Knows which file set each key path of a (merged) document; builds errors naming it.

    ``origins`` maps key paths to files; a path belongs to the file of its longest recorded
    prefix, and ``()`` (the file being validated, the end of its chain) is always recorded.
    ``chain`` lists the files of the `extends` chain from that file to its root, so that a
    conflict between keys set in two files is reported in the newer one. ``muscle_names`` are
    the names a `[muscles.X]` table may use (read once per load).
    """

    def __init__(self, origins: dict[Key, Path], muscle_names: tuple[str, ...] = (),
                 chain: tuple[Path, ...] = ()):
        self.origins = origins
        self.muscle_names = muscle_names
        self.chain = chain or (origins[()],)

    @property
    def top(self) -> Path:
        return self.origins[()]

    def file(self, path: Key) -> Path:
        for n in range(len(path), -1, -1):
            if path[:n] in self.origins:
                return self.origins[path[:n]]
        raise KeyError(path)  # pragma: no cover - () is always in origins

    def newest(self, paths: Sequence[Key]) -> Path:
        """Of the files that set ``paths``, the one nearest the end of the chain."""
        files = [self.file(p) for p in paths]
        return min(files, key=lambda f: self.chain.index(f) if f in self.chain else len(self.chain))

    def error(self, path: Key, what: str, allowed: str = "", near: Any = None,
              choices: Sequence[str] = (), file: Path | None = None) -> ScenarioError:
        return _error(file or self.file(path), path, what, allowed, near, choices)

    def where(self, key: Key, blamed: Key | Path) -> str:
        """' (in <file>)' when ``key`` was set in another file than the one blamed."""
        other = self.file(key)
        blamed_file = blamed if isinstance(blamed, Path) else self.file(blamed)
        return f" (in {_shown_path(other)})" if other != blamed_file else ""


class _Problems:
    """Collects the problems of several independent checks, so that all are reported."""

    def __init__(self):
        self.errors: list[ScenarioError] = []

    def run(self, check, *args, default=None):
        """``check(*args)``; on a `ScenarioError` keep its problems and return ``default``."""
        try:
            return check(*args)
        except ScenarioError as exc:
            self.errors.append(exc)
            return default

    def add(self, err: ScenarioError) -> None:
        self.errors.append(err)

    def raise_any(self) -> None:
        if self.errors:
            raise _joined(self.errors)


def _describe(value: Any) -> str:
    """A value and its TOML type, for messages: 'the string "75"', 'a table', ..."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {_quoted(value)}"
    if isinstance(value, int):
        return f"the number {_fmt(value) if abs(value) >= 10**16 else value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return "a date/time"


def _one_of(options: Sequence[str]) -> str:
    return "one of " + ", ".join(f'"{o}"' for o in options)


# -------------------------------------------------------------------------------------------
# Value rules: each says what is wrong with a value (or None), what is allowed, and converts it
@dataclass(frozen=True)
class _Number:
    """A finite number (or integer) within the `Limit` of a key, in the unit of the key."""

    limit: Limit
    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        return "allowed: " + self.limit.allowed()

    def problem(self, value: Any) -> str | None:
        problem = self.limit.problem(value)
        if problem == "not a number":
            return f"{_describe(value)} is not a number"
        if problem == "not an integer":
            return f"{value!r} is not an integer"
        if problem == "not a finite number":
            return f"{value} is not a finite number"
        if problem == "out of range":
            return f"{_fmt(value)} is out of range"
        return None

    def convert(self, value: Any) -> float | int:
        return int(value) if self.limit.integer else float(value)


def _number(key: str) -> _Number:
    return _Number(LIMITS[key])


@dataclass(frozen=True)
class _Pair:
    """Two finite numbers [x, y], each within the `Limit` of a key (m or N, by key)."""

    limit: Limit
    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        return "allowed: " + self.limit.allowed()

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, list) or len(value) != 2:
            count = f" ({len(value)} item{'s' if len(value) != 1 else ''})" \
                if isinstance(value, list) else ""
            return f"{_describe(value)}{count} is not a pair of numbers"
        for item in value:
            problem = self.limit.problem(item)
            if problem == "not a number":
                return f"{_describe(item)} in the pair is not a number"
            if problem == "not a finite number":
                return f"{item} in the pair is not a finite number"
            if problem:
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
            return f"unknown value {_quoted(value)}"
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
            return f"unknown mode {_quoted(value)}"
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
            listed = " ".join(repr(c) for c in illegal[:8]) + (" ..." if len(illegal) > 8 else "")
            return f"the name {_quoted(value)} contains {listed}"
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
# The schema (the numeric ranges are biomech.limits.LIMITS)
def _numbers(table: str, keys: Sequence[str]) -> dict[str, _Number]:
    return {k: _number(f"{table}.{k}") for k in keys}


_SCENARIO = {"name": _Name(), "description": _Text(), "mode": _Mode()}
_SUBJECT = _numbers("subject", ("body_mass_kg", "height_m", "pelvic_incidence_deg",
                                "muscle_strength_scale", "tone_scale"))
_SUPPORT = {"kind": _Choice(SUPPORTS),
            **_numbers("support", ("thigh_inclination_deg", "knee_flexion_deg", "backrest_inclination_deg")),
            "legs": _Choice(("supported", "lifted")),
            "lying_on": _Choice(("back", "front", "side")),
            **_numbers("support", ("contact_stiffness_N_per_m",)),
            "right_leg": None, "left_leg": None}
_LEG = {"position": _Choice(LEG_POSITIONS), "hip_flexion_deg": _number("leg.hip_flexion_deg"),
        "knee_flexion_deg": _number("leg.knee_flexion_deg")}
_SETTING = _numbers("muscles", ("tension_N", "activation", "resting_length_scale"))
_LOAD = {"body": _Choice(BODIES), "point_m": _Pair(LIMITS["loads.point_m"]),
         "mass_kg": _number("loads.mass_kg"), "force_N": _Pair(LIMITS["loads.force_N"])}
_PASSIVE = _numbers("passive", ("disc_stiffness_scale", "hip_stiffness_scale"))
_SOLVER = _numbers("solver", ("tolerance_Nm", "max_iterations", "short_range_stiffness"))
_ABDOMEN = _numbers("abdomen", ("pressure_kPa",))
_UPRIGHT = {**_numbers("upright", UPRIGHT_TARGETS),
            "criterion": _Choice(CRITERIA), **_numbers("upright", ("stress_exponent", "tissue_weight"))}
_INVERSE = {**_numbers("inverse", ("pelvic_tilt_deg", "sacral_slope_deg", "lumbar_lordosis_deg",
                                   "trunk_inclination_deg")),
            "joint_angles_deg": None,
            "criterion": _Choice(CRITERIA), **_numbers("inverse", ("stress_exponent",))}
_CRITERION_KEYS = ("criterion", "stress_exponent", "tissue_weight")
_JOINT_ANGLE = _number("inverse.joint_angles_deg")
_TOP = ("extends", "scenario", "subject", "support", "muscles", "loads", "abdomen", "passive",
        "solver", "upright", "inverse", "sweep")
_NOT_INHERITED = ("extends", "sweep")
_SCENARIO_NOT_INHERITED = ("name",)
_MODE_TABLES = ("upright", "inverse")

_SETTINGS_ALLOWED = ("exactly one of " + ", ".join(
    f"{k} ({_fmt(r.limit.low)}-{_fmt(r.limit.high)}{' N' if k == 'tension_N' else ''})"
    for k, r in _SETTING.items()))
_LOAD_WAYS_ALLOWED = (f"allowed: exactly one of mass_kg ({_fmt(_LOAD['mass_kg'].limit.low)}-"
                      f"{_fmt(_LOAD['mass_kg'].limit.high)} kg) or force_N = [Fx, Fy] (N, each "
                      f"from {_fmt(LIMITS['loads.force_N'].low)} to "
                      f"{_fmt(LIMITS['loads.force_N'].high)})")

_SWEEPABLE = {
    **{f"subject.{k}": r for k, r in _SUBJECT.items()},
    **{f"support.{k}": _SUPPORT[k] for k in ("thigh_inclination_deg", "knee_flexion_deg",
                                             "backrest_inclination_deg", "contact_stiffness_N_per_m")},
    **{f"passive.{k}": r for k, r in _PASSIVE.items()},
    "abdomen.pressure_kPa": _ABDOMEN["pressure_kPa"],
    **{f"solver.{k}": _SOLVER[k] for k in ("tolerance_Nm", "short_range_stiffness")},
    **{f"upright.{k}": r for k, r in _UPRIGHT.items() if isinstance(r, _Number)},
    **{f"inverse.{k}": r for k, r in _INVERSE.items() if isinstance(r, _Number)},
}
"""Sweepable keys with a fixed path; `muscles.<name>.<setting>` and `loads.<i>.mass_kg` too."""

_SWEEP_PATTERNS = ("muscles.<name>.tension_N", "muscles.<name>.activation",
                   "muscles.<name>.resting_length_scale", "loads.<index>.mass_kg")
_RANGE_KEYS = ("start", "stop", "num")
_NUM = _number("sweep.num")


def _muscle_names() -> tuple[str, ...]:
    """Every name a `[muscles.X]` table may use: groups, then single lines; then, for a model
    with two legs, the groups and lines of one side (``psoas_left``, ``iliacus_main_right``)."""
    sided = [f"{n}_{side}" for side in SIDES for n in MUSCLE_GROUPS + leg_line_names()]
    return tuple(MUSCLE_GROUPS) + tuple(muscle_line_names()) + tuple(sided)


# -------------------------------------------------------------------------------------------
# Files: what a path is, reading TOML
def _stat(path: Path) -> tuple[os.stat_result | None, str]:
    """``os.stat`` of a path (following links), or None and why it cannot be used."""
    try:
        return path.stat(), ""
    except ValueError:                           # os.stat refuses a NUL byte in a path
        return None, "the path contains a NUL character"
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return None, f"the path is too long for this system ({len(str(path))} characters)"
        if exc.errno == errno.ELOOP:
            return None, "a symbolic link that loops (or too many links in a row)"
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            if path.is_symlink():
                return None, "a symbolic link to nothing (no such file)"
            return None, "no such file or directory"
        return None, f"cannot be used ({exc.strerror or exc})"


def _is_dir(path: Path) -> bool:
    info, _ = _stat(path)
    return info is not None and stat.S_ISDIR(info.st_mode)


def _file_problem(info: os.stat_result | None, why: str) -> tuple[str, str] | None:
    """What keeps a path from being read as a scenario file, and what is allowed (or None)."""
    if info is None:
        if why == "no such file or directory":
            return "file not found", "give the path of an existing scenario file"
        return why, "give the path of a scenario file (.toml)"
    if stat.S_ISDIR(info.st_mode):
        return "a directory, not a file", "give the path of a scenario file (.toml)"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a device, pipe or socket)", \
            "give the path of a scenario file (.toml)"
    if info.st_size > MAX_FILE_BYTES:
        return f"the file has {info.st_size} bytes", \
            f"allowed: at most {MAX_FILE_BYTES} bytes (a scenario file is a few kB)"
    return None


def _read_toml(file: Path) -> dict:
    """Parse one TOML file (`ScenarioError` for a missing, unreadable or malformed file)."""
    problem = _file_problem(*_stat(file))
    if problem:
        raise _error(file, (), *problem)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise _error(file, (), f"cannot be read ({exc.strerror or exc})") from exc
    if len(data) > MAX_FILE_BYTES:               # it grew since stat, or it lied (/proc)
        raise _error(file, (), f"the file has more than {MAX_FILE_BYTES} bytes",
                     "a scenario file is a few kB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(file, (), f"not UTF-8 text (byte {exc.start})",
                     "TOML files are UTF-8") from exc
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _error(file, (), f"malformed TOML: {_short(str(exc), 200)}",
                     "see https://toml.io for the syntax") from exc
    except RecursionError:
        raise _error(file, (), "malformed TOML: arrays or tables nested too deeply to read",
                     f"allowed: at most {MAX_NESTING} levels") from None
    except ValueError as exc:                    # an integer of more than 4300 digits
        raise _error(file, (), f"malformed TOML: a value cannot be read ({_short(str(exc), 60)})",
                     "numbers of a scenario have at most a few digits") from exc
    deep = _too_deep(document)
    if deep is not None:
        raise _error(file, deep, f"nested more than {MAX_NESTING} levels deep",
                     f"allowed: at most {MAX_NESTING} levels of tables and arrays (the schema "
                     "needs 3)")
    return document


def _too_deep(document: dict) -> Key | None:
    """The path of the first table or array nested deeper than MAX_NESTING (None if none)."""
    stack: list[tuple[Key, Any]] = [((), document)]
    while stack:
        path, node = stack.pop()
        if len(path) >= MAX_NESTING:
            return path[:MAX_NESTING]
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, (dict, list)):
                stack.append((path + (key,), value))
    return None


# -------------------------------------------------------------------------------------------
# Loading: the extends chain, merged from its root, every file validated
def _load(file: Path, muscle_names: tuple[str, ...]) -> tuple[Scenario | None, list[str]]:
    """Load ``file`` and the files it extends. Returns the scenario (None if any file has a
    defect) and the problems of every file of the chain, the root's first.

    A file that cannot be read, or an `extends` that names no usable file, ends the load (as a
    missing include ends a compile). Otherwise every file of the chain is validated merged with
    the files it extends, and every problem is reported once, naming the file that set the
    offending key; a key that was valid in its own file and is made invalid by a file that
    extends it says so.
    """
    files: list[Path] = []
    raws: list[dict] = []
    identities: list[tuple[int, int]] = []
    target = file
    while True:
        try:
            raw = _read_toml(target)
        except ScenarioError as exc:
            referrer = f" (extended by {_shown_path(files[-1])})" if files else ""
            return None, [message + referrer for message in exc.problems]
        info, _ = _stat(target)
        files.append(target)
        raws.append(raw)
        identities.append((info.st_dev, info.st_ino))
        if "extends" not in raw:
            break
        try:
            target = _extends_target(raw["extends"], target, files, identities)
        except ScenarioError as exc:
            return None, list(exc.problems)

    document: dict = {}
    origins: dict[Key, Path] = {}
    seen: set[str] = set()                   # problems already reported, as first found
    problems: list[str] = []
    scenario = None
    for k in range(len(files) - 1, -1, -1):
        own = {key: v for key, v in raws[k].items() if key != "extends"}
        if k == len(files) - 1:
            document, origins = own, {(): files[k]}
        else:
            document, origins = _merge(document, origins, own, files[k])
        context = _Context(origins, muscle_names, chain=tuple(files[k:]))
        scenario, err = _validate(document, files[k], context)
        if err is None:
            continue
        for message, where in zip(err.problems, _files(err)):
            if message in seen:              # found in a file this one extends: said already
                continue
            seen.add(message)
            if where is not None and where != files[k] and _shown_path(files[k]) not in message:
                message += (f" (valid in {_shown_path(where)} itself, but not as inherited by "
                            f"{_shown_path(files[k])})")
            problems.append(message)
    return (None if problems else scenario), problems


def _extends_target(value: Any, file: Path, chain: list[Path],
                    identities: list[tuple[int, int]]) -> Path:
    """The file named by ``extends`` in ``file`` (relative to its directory), checked."""
    context = _Context({(): file})
    path = ("extends",)
    _value(_Text(), value, context, path)
    shown = _quoted(value)
    where = ("allowed: the path of an existing scenario file (*.toml), relative to the directory "
             "of this file")
    if "\0" in value:
        raise context.error(path, f"{shown} contains a NUL character", where)
    if not value.endswith(".toml"):
        raise context.error(path, f"{shown} does not name a .toml file", where)
    target = file.parent / value
    info, why = _stat(target)
    if info is None:
        if why == "no such file or directory":
            raise context.error(path, f"{shown} not found (looked for "
                                f"{_shown_path(target, 80)})", where)
        raise context.error(path, f"{shown}: {why}", where)
    if stat.S_ISDIR(info.st_mode):
        raise context.error(path, f"{shown} is a directory", where)
    if (info.st_dev, info.st_ino) in identities:
        names = [_shown_path(f) for f in chain + [target]]
        if len(names) > 6:
            names = names[:2] + [f"... {len(names) - 4} more ..."] + names[-2:]
        raise context.error(path, "cycle: " + " -> ".join(names),
                            "allowed: a chain of files that ends in a file without extends")
    if len(chain) >= MAX_EXTENDS_CHAIN:
        raise _error(chain[0], path, f"the chain of files it extends is longer than "
                     f"{MAX_EXTENDS_CHAIN} files ({_shown_path(chain[0], 60)} -> ... -> "
                     f"{_shown_path(file, 60)} -> {shown} -> ...)",
                     f"allowed: at most {MAX_EXTENDS_CHAIN} files in a chain")
    return target


def _merge(parent: dict, parent_origins: dict[Key, Path], child: dict,
           child_file: Path) -> tuple[dict, dict[Key, Path]]:
    """Deep-merge ``child`` over ``parent``: tables merge key by key, the child wins.

    A child's `[muscles.X]` table replaces the parent's X entirely, a child's `loads` replaces
    the parent's list; the parent's `extends`, `[sweep]` and `[scenario] name` are never
    inherited. A child that changes `[support] kind` does not inherit the parent's other
    `[support]` keys (they describe the parent's kind of support), and a child that changes
    `[scenario] mode` does not inherit the parent's `[upright]` or `[inverse]` table.
    """
    merged = {k: _copy_tree(v) for k, v in parent.items() if k not in _NOT_INHERITED}
    origins = {k: f for k, f in parent_origins.items() if not (k and k[0] in _NOT_INHERITED)}
    dropped: list[Key] = [("scenario", k) for k in _SCENARIO_NOT_INHERITED]
    if _changes(parent, child, "support", "kind", "standing"):
        dropped.append(("support",))
    if _changes(parent, child, "scenario", "mode", DEFAULT_MODE):
        dropped.extend((t,) for t in _MODE_TABLES)
    for key in dropped:
        table = merged.get(key[0]) if len(key) == 2 else merged
        if isinstance(table, dict):
            table.pop(key[-1], None)
        for known in [k for k in origins if k[:len(key)] == key]:
            del origins[known]
    for key in merged:                      # what the parent set stays the parent's
        origins[(key,)] = _Context(parent_origins).file((key,))
    origins[()] = child_file
    _merge_into(merged, child, (), origins, child_file)
    order = {k: i for i, k in enumerate(_TOP)}
    merged = dict(sorted(merged.items(), key=lambda kv: order.get(kv[0], len(order))))
    return merged, origins


def _changes(parent: dict, child: dict, table: str, key: str, default: str) -> bool:
    """Whether ``child`` sets ``[table] key`` to something else than ``parent`` has."""
    mine = child.get(table)
    if not isinstance(mine, dict) or key not in mine:
        return False
    theirs = parent.get(table)
    theirs = theirs.get(key, default) if isinstance(theirs, dict) else default
    return mine[key] != theirs


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


def _validate(document: dict, file: Path, context: _Context) -> tuple[Scenario | None,
                                                                       ScenarioError | None]:
    """Build one merged document, then every sweep point, then the model of every point (and,
    mode "inverse", the posture it asks for); the scenario, or the problems found."""
    try:
        scenario = _build(document, file, context)
        points = _checked_points(scenario, context)
        _check_models(scenario, points, context)
    except ScenarioError as exc:
        return None, exc
    if scenario.sweep is not None:
        _keep_points(scenario, points)
    return scenario, None


def _point_label(scenario: Scenario, index: int) -> str:
    """'sweep point 3 of 21 (muscles.psoas.tension_N = 60)'."""
    values = ", ".join(f"{p} = {v:g}" for p, v in zip(scenario.sweep.parameters,
                                                        scenario.sweep.values[index]))
    return f"sweep point {index} of {len(scenario.sweep.values)} ({_short(values, 80)})"


def _checked_points(scenario: Scenario, context: _Context) -> list[Scenario]:
    """`sweep_points`, with the errors of the first invalid point naming that point."""
    if scenario.sweep is None:
        return [scenario]
    base = {k: v for k, v in scenario.document.items() if k != "sweep"}
    points = []
    for i, values in enumerate(scenario.sweep.values):
        try:
            points.append(_build(_with_values(base, scenario.sweep.parameters, values),
                                 scenario.path, context))
        except ScenarioError as exc:
            label = _point_label(scenario, i)
            err = ScenarioError(*(f"{m} (at {label})" for m in exc.problems))
            err.files = _files(exc)
            raise err from None
    return points


def _check_models(scenario: Scenario, points: list[Scenario], context: _Context) -> None:
    """Every point's subject must make a model (its relaxed tone can be fitted), and, mode
    "inverse", every point's target posture must be realisable within the physiological ranges
    on its model and support (`inverse.target_posture`). The first point that fails is
    reported, at the key that asks for it."""
    swept = scenario.sweep.parameters if scenario.sweep is not None else ()
    subject_keys = [k for k in swept if k.split(".")[0] in ("subject", "passive")]
    models: dict = {}                        # each distinct model once (a grid repeats them)
    for i, point in enumerate(points):
        at = f"at {_point_label(scenario, i)}: " if swept else ""
        key = (point.subject, point.disc_stiffness_scale, point.hip_stiffness_scale,
               2 if point.support.two_legs else 1)
        _check_sides(scenario, point, context, at)
        try:
            model = models[key] if key in models else models.setdefault(key, calibrated_model(*key))
        except ModelError as exc:
            path: Key = ("sweep", subject_keys[0]) if subject_keys else ("subject",)
            given = [("subject", k) for k in point.document.get("subject", {})] + \
                [("passive", k) for k in point.document.get("passive", {})]
            raise context.error(path, at + _short(str(exc).split("; ")[0], 200),
                                "allowed: a subject whose muscles can hold the relaxed reference "
                                "posture (e.g. a larger muscle_strength_scale or a smaller "
                                "body_mass_kg; the [passive] scales enter too, "
                                "docs/calibration.md)",
                                file=context.newest(given) if given and not subject_keys
                                else None) from None
        if point.support.two_legs and point.support.kind == "standing":
            try:                             # the chain through the floor must close
                reference_posture(model, point.support)
            except ModelError as exc:
                what, _, allowed = str(exc).removeprefix("Support: ").partition("; ")
                raise context.error(("support",), at + what, allowed) from None
        if scenario.mode != "inverse":
            continue
        try:
            target_posture(prepare(model, support=point.support), point.inverse)
        except TargetError as exc:
            path = exc.key
            if ".".join(exc.key) in swept:
                path = ("sweep", ".".join(exc.key))
            raise context.error(path, at + exc.what, exc.allowed) from None


def _check_sides(scenario: Scenario, point: Scenario, context: _Context, at: str) -> None:
    """A muscle of one side (``psoas_left``) needs two legs, and two legs the modes that solve
    them (equilibrium, upright)."""
    if point.support.two_legs:
        for key in ("thigh_inclination_deg", "knee_flexion_deg"):
            if point.upright is not None and getattr(point.upright, key) is not None:
                raise context.error(("upright", key), at + "a leg's target with two legs (it would not say "
                                    "which leg)", "allowed: a leg's own hip_flexion_deg in [support.<side>_leg] "
                                    "(a lifted leg is kept there), or no leg target")
        if scenario.mode == "inverse":
            raise context.error(("scenario", "mode"), at + 'mode "inverse" with a leg of its own '
                                "([support.right_leg] or [support.left_leg])",
                                'allowed: mode "upright" or "equilibrium" with two legs (the inverse '
                                "mode is built for the legs lumped)")
        if scenario.mode == "equilibrium" and floor_feet(point.support, ("_right", "_left")):
            raise context.error(("scenario", "mode"), at + 'mode "equilibrium" with both feet on the floor '
                                "(a closed chain through the floor)",
                                'allowed: mode "upright" (the default), or one foot on the floor with the '
                                "other leg kneeling or lifted")
        return
    lumped = set(MUSCLE_GROUPS) | set(muscle_line_names())
    for name, _ in point.muscles:
        if name not in lumped:
            raise context.error(("muscles", name), at + "names one side of a muscle, but the legs "
                                "are lumped (no [support.right_leg] or [support.left_leg])",
                                f"allowed: {name.rsplit('_', 1)[0]} (both sides), or give a leg its own "
                                "position in [support] to split the legs")


# -------------------------------------------------------------------------------------------
# Building the dataclasses from a merged document
def _build(document: dict, path: Path, context: _Context) -> Scenario:
    """Validate a merged document (no `extends`) and turn it into a `Scenario`; a
    `ScenarioError` lists every problem found.

    The scenario keeps ``document`` itself: callers pass a document nobody else holds.
    """
    found = _Problems()
    found.run(_check_keys, document, _TOP, (), context)
    head = _scenario_table(document, context, found)
    mode = head["mode"]
    passive = _leaves(_table(document, "passive", context, found), _PASSIVE, ("passive",),
                      context, found)
    solver = _leaves(_table(document, "solver", context, found), _SOLVER, ("solver",), context,
                     found)
    upright, inverse, criterion = found.run(_mode_tables, document, mode, context,
                                            default=(None, None, Criterion())) \
        if mode is not None else (None, None, Criterion())
    abdomen = _leaves(_table(document, "abdomen", context, found), _ABDOMEN, ("abdomen",), context, found)
    subject = found.run(_subject, document, context)
    support = found.run(_support, document, context)
    muscles = found.run(_muscles, document, context)
    if "pressure_kPa" in abdomen and muscles:
        hoop = [n for n, _ in muscles if n == HOOP_GROUP or n in HOOP_LINES]
        if hoop:
            found.errors.append(context.error(
                ("muscles", hoop[0]), "set together with abdomen.pressure_kPa",
                "allowed: one or the other: a prescribed abdominal pressure is held by the "
                "transversus abdominis hoop, whose tension it sets (docs/model.md §6a)"))
    loads = found.run(_loads, document, context)
    sweep = found.run(_sweep, document, context) if "sweep" in document else None
    found.raise_any()
    return Scenario(
        path=path, name=head["name"], description=head["description"], mode=mode,
        subject=subject, support=support, muscles=muscles, loads=loads,
        **passive, **solver, abdominal_pressure_kPa=abdomen.get("pressure_kPa"), upright=upright,
        inverse=inverse, criterion=criterion, sweep=sweep, document=document)


def _construct(cls, kwargs: dict, path: Key, context: _Context):
    """``cls(**kwargs)``, a `ModelError` of the Python API turned into a `ScenarioError`."""
    try:
        return cls(**kwargs)
    except ModelError as exc:
        raise context.error(path, _short(str(exc), 200), "see docs/scenarios.md") from exc


def _scenario_table(document: dict, context: _Context, found: _Problems) -> dict:
    """Name, description and mode from `[scenario]` (name required in every file; description
    and mode inherited through extends). Problems go to ``found``; returns the valid values,
    with mode None when it is not known (a bad value, or no [scenario] table to read)."""
    if "scenario" not in document:
        found.add(context.error(("scenario",), "missing table [scenario]",
                                "every scenario file needs [scenario] with a name (and a "
                                "description, here or in the file it extends)"))
        return {"mode": DEFAULT_MODE}
    table = _table(document, "scenario", context, found)
    if not isinstance(document["scenario"], dict):
        return {"mode": None}
    values = _leaves(table, _SCENARIO, ("scenario",), context, found)
    typo = not set(table) <= set(_SCENARIO)       # a misspelt key is reported as unknown
    for key, needed in (("name", "every file needs its own [scenario] name = \"...\" (it is not "
                                 "inherited through extends)"),
                        ("description", "every scenario needs description = \"...\", in this "
                                        "file or in a file it extends")):
        if key not in table and not typo:
            found.add(context.error(("scenario", key), "missing key", needed, file=context.top))
    mode = values.get("mode", None if "mode" in table else DEFAULT_MODE)
    return {**values, "mode": mode}


def _subject(document: dict, context: _Context) -> Subject:
    """`[subject]`: body mass (kg), height (m), pelvic incidence (deg), strength and tone scales."""
    values = _leaves(_table(document, "subject", context), _SUBJECT, ("subject",), context)
    return _construct(Subject, values, ("subject",), context)


def _support(document: dict, context: _Context) -> Support:
    """`[support]`: kind, thigh inclination and knee flexion (deg), legs, lying on the back or
    the side, backrest, contact stiffness."""
    raw = dict(_table(document, "support", context))
    legs = {f"{side}_leg": raw.pop(f"{side}_leg") for side in SIDES if f"{side}_leg" in raw}
    found = _Problems()
    values = _leaves(raw, {k: r for k, r in _SUPPORT.items() if r is not None}, ("support",), context, found)
    for key, table in legs.items():
        leg = found.run(_leg, key, table, context)
        if leg is not None:
            values[key] = leg
    found.raise_any()
    kind = values.get("kind", "standing")
    if values.get("legs") == "lifted" and kind != "lying":
        raise context.error(("support", "legs"),
                            f'legs = "lifted" applies to lying only, but kind is "{kind}"'
                            + (context.where(("support", "kind"), ("support", "legs"))
                               if "kind" in values else " (the default)"),
                            'allowed: kind = "lying" with legs = "lifted", or no legs key')
    lying_on = values.get("lying_on", "back")
    if lying_on != "back" and (kind != "lying" or values.get("legs") == "lifted"):
        raise context.error(("support", "lying_on"),
                            f'lying_on = "{lying_on}" applies to lying with the legs supported, but kind is "{kind}"'
                            + (f' and legs "{values["legs"]}"' if "legs" in values else ""),
                            f'allowed: kind = "lying" with lying_on = "{lying_on}" (and no legs = "lifted"), '
                            'or no lying_on key')
    if "backrest_inclination_deg" in values and kind != "sitting":
        raise context.error(("support", "backrest_inclination_deg"),
                            f'backrest_inclination_deg applies to sitting only, but kind is "{kind}"'
                            + (context.where(("support", "kind"), ("support", "backrest_inclination_deg"))
                               if "kind" in values else " (the default)"),
                            'allowed: kind = "sitting" with backrest_inclination_deg (0-45), or no '
                            'backrest_inclination_deg key')
    return _construct(Support, values, ("support",), context)


def _leg(key: str, table: Any, context: _Context) -> Leg:
    """`[support.right_leg]`, `[support.left_leg]`: where one leg lies (a model with two legs)."""
    path = ("support", key)
    if not isinstance(table, dict):
        raise context.error(path, f"{_describe(table)} is not a table",
                            f'allowed: a [support.{key}] table with position = "table", "lifted", '
                            '"bent", "hanging" or "held", and optionally hip_flexion_deg and knee_flexion_deg')
    return _construct(Leg, _leaves(table, _LEG, path, context), path, context)


def _muscles(document: dict, context: _Context) -> tuple[tuple[str, MuscleSetting], ...]:
    """`[muscles.X]` tables: X a group or a line, set in exactly one way."""
    table = _table(document, "muscles", context)
    found = _Problems()
    settings = [found.run(_muscle, name, entry, context) for name, entry in table.items()]
    found.raise_any()
    return tuple(settings)


def _suggestible(name: str, names: Sequence[str]) -> list[str]:
    """The names to suggest for a misspelt muscle: one side's (``psoas_left``) only for a name
    that ends with a side, so that ``psoas_major`` suggests ``psoas``."""
    sided = name.endswith(tuple(f"_{s}" for s in SIDES))
    return [n for n in names if n.endswith(tuple(f"_{s}" for s in SIDES)) == sided]


def _muscle(name: str, entry: Any, context: _Context) -> tuple[str, MuscleSetting]:
    path = ("muscles", name)
    names = context.muscle_names
    if name not in names:
        raise context.error(path, "unknown muscle",
                            "allowed: a group (" + ", ".join(MUSCLE_GROUPS) + ") or a single "
                            "line (biomech.anatomy.muscle_line_names())",
                            near=name, choices=_suggestible(name, names))
    if not isinstance(entry, dict):
        raise context.error(path, f"{_describe(entry)} is not a table",
                            f"allowed: a [muscles.{name}] table with {_SETTINGS_ALLOWED}")
    values = _leaves(entry, _SETTING, path, context)
    _check_one_way(values, path, context)
    return name, _construct(MuscleSetting, values, path, context)


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
    found = _Problems()
    loads = [found.run(_load_entry, entry, ("loads", i), context)
             for i, entry in enumerate(entries)]
    found.raise_any()
    return tuple(loads)


def _load_entry(entry: Any, path: Key, context: _Context) -> Load:
    """One `[[loads]]` table."""
    if not isinstance(entry, dict):
        raise context.error(path, f"{_describe(entry)} is not a table",
                            "allowed: a [[loads]] table with body, point_m, mass_kg or force_N")
    found = _Problems()
    values = found.run(_leaves, entry, _LOAD, path, context, default={})
    typo = not set(entry) <= set(_LOAD)          # a misspelt key is reported as unknown
    for key in ("body", "point_m"):
        if key not in entry and not typo:
            found.add(context.error(path + (key,), "missing key", f"every [[loads]] needs {key}"))
    ways = [k for k in ("mass_kg", "force_N") if k in entry]
    if len(ways) > 1 or not ways and not typo:
        what = "neither mass_kg nor force_N is given" if not ways else \
            "more than one way of setting one load (mass_kg and force_N)"
        found.add(context.error(path, what, _LOAD_WAYS_ALLOWED))
    found.raise_any()
    return _construct(Load, values, path, context)


def _mode_tables(document: dict, mode: str, context: _Context):
    """`[upright]` and `[inverse]`: each only with its mode; the upright target, the inverse
    posture and the effort criterion (defaults when the table is absent)."""
    found = _Problems()
    for table in _MODE_TABLES:
        if table in document and mode != table:
            mode_set = context.where(("scenario", "mode"), (table,)) \
                if "mode" in _table(document, "scenario", context, _Problems()) \
                else " (the default)"
            found.add(context.error((table,), f'a [{table}] table, but mode is "{mode}"{mode_set}',
                                    f'allowed: [{table}] with mode = "{table}" in [scenario]'))
    found.raise_any()
    if mode == "equilibrium":
        return None, None, Criterion()
    schema = _UPRIGHT if mode == "upright" else _INVERSE
    raw = dict(_table(document, mode, context))
    angles = raw.pop("joint_angles_deg", None) if mode == "inverse" else None
    values = found.run(_leaves, raw, {k: r for k, r in schema.items() if r is not None}, (mode,),
                       context, default=None)
    if values is None:
        found.raise_any()
    crit = {k: values.pop(k) for k in list(values) if k in _CRITERION_KEYS}
    criterion = found.run(_construct, Criterion,
                          {"name": crit.get("criterion", "activation_squared"),
                           "exponent": crit.get("stress_exponent", 3.0),
                           "tissue_weight": crit.get("tissue_weight", DEFAULT_TISSUE_WEIGHT)},
                          (mode, "criterion"), context, default=Criterion())
    if "stress_exponent" in crit and criterion.name != "stress_power":
        set_by = context.where((mode, "criterion"), (mode, "stress_exponent")) \
            if "criterion" in crit else " (the default)"
        found.add(context.error(
            (mode, "stress_exponent"),
            f'applies to criterion = "stress_power" only, but criterion is "{criterion.name}"'
            + set_by, 'allowed: criterion = "stress_power" with stress_exponent (2-4)'))
    if mode == "upright":
        found.raise_any()
        return _construct(UprightTarget, values, (mode,), context), None, criterion
    if angles is not None:
        values = found.run(_joint_angles, angles, values, context, default=values)
    if "pelvic_tilt_deg" in values and "sacral_slope_deg" in values:
        newest = context.newest([(mode, "pelvic_tilt_deg"), (mode, "sacral_slope_deg")])
        found.add(context.error((mode, "sacral_slope_deg"), "given together with pelvic_tilt_deg"
                                + context.where((mode, "pelvic_tilt_deg"), newest),
                                "allowed: pelvic_tilt_deg or sacral_slope_deg (PI = PT + SS)",
                                file=newest))
    found.raise_any()
    return None, _construct(PostureTarget, values, (mode,), context), criterion


def _joint_angles(angles: Any, values: dict, context: _Context) -> dict:
    """`[inverse] joint_angles_deg`: a table of joint angles, without the parameters."""
    path = ("inverse", "joint_angles_deg")
    if not isinstance(angles, dict):
        raise context.error(path, f"{_describe(angles)} is not a table",
                            "allowed: a table of joint names and angles, e.g. "
                            "joint_angles_deg = { hip = -8.0, L5_S1 = 2.0 }")
    if values:
        newest = context.newest([path] + [("inverse", k) for k in values])
        raise context.error(path, "given together with " + ", ".join(
                                k + context.where(("inverse", k), newest) for k in values),
                            "allowed: joint_angles_deg, or spinopelvic parameters "
                            "(pelvic_tilt_deg or sacral_slope_deg, lumbar_lordosis_deg, "
                            "trunk_inclination_deg)", file=newest)
    found = _Problems()
    found.run(_check_keys, angles, JOINTS, path, context)
    checked = {j: found.run(_value, _JOINT_ANGLE, v, context, path + (j,))
               for j, v in angles.items() if j in JOINTS}
    found.raise_any()
    return {"joint_angles_deg": checked}


def _table(document: dict, key: str, context: _Context, found: _Problems | None = None) -> dict:
    """``document[key]`` checked to be a table ({} when absent). With ``found``, a value that
    is not a table is recorded there and {} returned."""
    value = document.get(key, {})
    if not isinstance(value, dict):
        err = context.error((key,), f"{_describe(value)} is not a table",
                            f"allowed: a [{_dotted((key,))}] table")
        if found is None:
            raise err
        found.add(err)
        return {}
    return value


def _check_keys(table: dict, allowed: Sequence[str], path: Key, context: _Context) -> None:
    """Every key of ``table`` must be in ``allowed`` (every unknown one is reported)."""
    found = _Problems()
    for key in table:
        if key not in allowed:
            found.add(context.error(path + (key,), "unknown key", "allowed: " + ", ".join(allowed),
                                    near=key, choices=allowed))
    found.raise_any()


def _leaves(table: dict, schema: dict, path: Key, context: _Context,
            found: _Problems | None = None) -> dict[str, Any]:
    """Check a table of plain values against ``schema``; return the converted values. Every
    unknown key and bad value is reported: recorded in ``found`` (the valid values are
    returned), or, without ``found``, raised together."""
    mine = _Problems()
    mine.run(_check_keys, table, schema, path, context)
    values = {}
    for key, value in table.items():
        if key in schema:
            converted = mine.run(_value, schema[key], value, context, path + (key,), default=mine)
            if converted is not mine:
                values[key] = converted
    if found is None:
        mine.raise_any()
    else:
        found.errors.extend(mine.errors)
    return values


# -------------------------------------------------------------------------------------------
# Sweeps
def _sweep(document: dict, context: _Context) -> Sweep:
    """`[sweep]`: dotted keys mapped to value lists or {start, stop, num} ranges, and grid."""
    table = _table(document, "sweep", context)
    found = _Problems()
    grid = found.run(_value, _Bool(), table.get("grid", False), context, ("sweep", "grid"),
                     default=False)
    keys = [k for k in table if k != "grid"]
    if not keys:
        found.add(context.error(("sweep",), "no key to sweep",
                                'allowed: "<dotted key>" = [values] or { start, stop, num }'))
    columns = []
    for key in keys:
        path = ("sweep", key)
        rule = found.run(_sweep_rule, key, table[key], document, context, path)
        if rule is not None:
            columns.append(found.run(_sweep_values, table[key], rule, context, path))
    found.raise_any()
    _check_muscles_swept_once(keys, context)
    return Sweep(parameters=tuple(keys), values=_combine(keys, columns, grid, context), grid=grid)


def _sweep_rule(key: str, spec: Any, document: dict, context: _Context, path: Key):
    """The value rule of a sweep key, after checking that the key may be swept here."""
    parts = key.split(".")
    if len(parts) == 1 and isinstance(spec, dict) and not set(spec) & set(_RANGE_KEYS):
        raise context.error(path, "a nested table: the dotted key was not quoted",
                            "allowed: write the whole key in quotes, e.g. "
                            f'{_quoted(_unquoted(key, spec))} = [...]')
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
              "passive": _PASSIVE, "solver": _SOLVER, "upright": _UPRIGHT, "inverse": _INVERSE,
              "abdomen": _ABDOMEN}
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
        raise context.error(path, f"unknown muscle {_quoted(name)}", "allowed: a group ("
                            + ", ".join(MUSCLE_GROUPS) + ") or a single line",
                            near=name, choices=names)
    if setting not in _SETTING:
        raise context.error(path, f"unknown muscle setting {_quoted(setting)}", allowed,
                            near=setting, choices=tuple(_SETTING))
    muscles = document.get("muscles", {})
    entry = muscles.get(name, {}) if isinstance(muscles, dict) else {}
    other = [k for k in entry if k != setting] if isinstance(entry, dict) else []
    if other:
        raise context.error(path, f"more than one way of setting one muscle: the sweep sets "
                            f"{setting} while muscles.{name} sets {_short(other[0])}"
                            + context.where(("muscles", name), path),
                            f"allowed: sweep muscles.{name}.{_short(other[0])}, or remove "
                            f"muscles.{name}.{_short(other[0])}")
    return _SETTING[setting]


def _load_sweep_rule(parts: list[str], document: dict, context: _Context, path: Key):
    """`loads.<index>.mass_kg`: an existing load (0 = the first) set by its mass."""
    loads = document.get("loads", [])
    count = len(loads) if isinstance(loads, list) else 0
    if len(parts) != 3 or parts[2] != "mass_kg" or not re.fullmatch(r"[0-9]{1,9}", parts[1]):
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
                            "sets force_N" + context.where(("loads",), path),
                            "allowed: sweep the mass of a load given by mass_kg")
    return _LOAD["mass_kg"]


def _check_muscles_swept_once(keys: Sequence[str], context: _Context) -> None:
    """Two sweep keys may not set one muscle in two ways."""
    seen: dict[str, str] = {}
    found = _Problems()
    for key in keys:
        parts = key.split(".")
        if parts[0] != "muscles":
            continue
        name, setting = parts[1], parts[2]
        if name in seen:
            found.add(context.error(("sweep", key), "more than one way of setting one muscle: "
                                    f"the sweep also sets muscles.{name}.{seen[name]}",
                                    "allowed: " + _SETTINGS_ALLOWED))
        seen[name] = setting
    found.raise_any()


def _sweep_values(spec: Any, rule, context: _Context, path: Key) -> tuple[float, ...]:
    """The values of one sweep key: a non-empty list, or a {start, stop, num} range."""
    if isinstance(spec, list):
        if not spec:
            raise context.error(path, "the list of values is empty",
                                "allowed: at least one number")
        if len(spec) > MAX_SWEEP_POINTS:
            raise context.error(path, f"{len(spec)} values are too many",
                                f"allowed: at most {MAX_SWEEP_POINTS} points in total")
        found = _Problems()
        values = tuple(found.run(_value, rule, item, context, path, f"item {i}: ")
                       for i, item in enumerate(spec))
        if len(found.errors) > 3:            # one bad list is one problem, not thousands
            found.errors[3:] = [context.error(path, f"and {len(found.errors) - 3} more items "
                                              "like these", rule.allowed())]
        found.raise_any()
        return values
    if isinstance(spec, dict):
        return _sweep_range(spec, rule, context, path)
    raise context.error(path, f"{_describe(spec)} is neither a list of values nor a range",
                        "allowed: [v1, v2, ...] or { start = a, stop = b, num = n }")


def _sweep_range(spec: dict, rule, context: _Context, path: Key) -> tuple[float, ...]:
    """{start, stop, num}: num evenly spaced values from start to stop, both included."""
    found = _Problems()
    found.run(_check_keys, spec, _RANGE_KEYS, path, context)
    missing = [k for k in _RANGE_KEYS if k not in spec]
    if missing and set(spec) <= set(_RANGE_KEYS):      # else a misspelt key says it already
        found.add(context.error(path, "the range lacks " + ", ".join(missing),
                                "allowed: { start = a, stop = b, num = n }"))
    start = found.run(_value, rule, spec.get("start"), context, path + ("start",)) \
        if "start" in spec else None
    stop = found.run(_value, rule, spec.get("stop"), context, path + ("stop",)) \
        if "stop" in spec else None
    num = found.run(_value, _NUM, spec.get("num"), context, path + ("num",)) \
        if "num" in spec else None
    found.raise_any()
    if num == 1:
        return (start,)
    return tuple(start + (stop - start) * i / (num - 1) for i in range(num - 1)) + (stop,)


def _combine(keys: Sequence[str], columns: Sequence[tuple[float, ...]], grid: bool,
             context: _Context) -> tuple[tuple[float, ...], ...]:
    """Zip (equal lengths) or cross (grid) the columns, at most MAX_SWEEP_POINTS points."""
    lengths = [len(c) for c in columns]
    if not grid and len(set(lengths)) > 1:
        sizes = _short(", ".join(f"{k} has {n}" for k, n in zip(keys, lengths)), 200)
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

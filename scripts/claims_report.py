"""The claims report (issue 18): what the mechanics says about each claim C1-C12.

For every claim of ``docs/reference/claims.md`` this script reruns the scenario files that ask
it, in the equilibrium mode (the isolated pull, the frozen-tone experiment: every muscle a file
does not set keeps its frozen relaxed-standing tone, the ankles and knees are held) and in the
upright mode (the person compensates: the gaze level and the balance over the feet are kept,
every joint is free, and the posture and the muscles not set are those of least effort, muscles
and passive tissues counted), and judges the answer by rules that are data of this script
(`THRESHOLDS`, `RULES`). No verdict is typed anywhere: each one is the output of `verdict`,
`spread_verdict`, `combine` and `overall` applied to the computed changes.

What lives here as data, so that the report regenerates when the library changes:

* `QUANTITIES`: what a claim is judged on and how it is read from a posture report;
* `THRESHOLDS`: the smallest change of each kind of quantity that counts, with its source;
* `CLAIMS`: for each claim, the mechanical question, the scenario files that ask it (a file's
  mode is read from the file; a mode no file of the claim uses is obtained by setting the mode
  of the first file in code, never by adding a file to the library), the quantity, the sign the
  claim predicts, and the model limitations that bear on it;
* `UPRIGHT_KEEPS`: the support values a file put to the upright mode in code keeps as targets
  (in the upright mode the support's thigh and knee are only where the solve starts).

The spread: the population study (``docs/population/summary.json``, equilibrium mode) and a
small upright-mode population run here with the same study code; the one-at-a-time 5th/95th
percentile subjects of the population's distributions (``scripts/population.py``) for every
claim; the sensitivity study's ranking, read from its block in ``docs/validation.md``.

Usage::

    python scripts/claims_report.py [--out DOCS_DIR] [--scenarios DIR] [--claims C1,C12]
                                    [--workers N] [--sweep-points N] [--no-spread]
                                    [--upright-subjects N] [--dpi 130]

Writes ``claims.md`` and ``claims/*.png`` into ``--out`` (default: ``docs`` of the
repository). Exits 0 when it ran (a claim the model does not support is content, not an error),
2 on bad arguments.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import math
import re
import sys
import tempfile
import textwrap
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:            # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import biomech as bm  # noqa: E402
from biomech.runner import model_for, run_scenarios  # noqa: E402
from biomech.scenario import load_scenario  # noqa: E402

DOCS = ROOT / "docs"
LIBRARY = ROOT / "scenarios"
CLAIMS_TEXT = DOCS / "reference" / "claims.md"
POPULATION_SUMMARY = DOCS / "population" / "summary.json"
VALIDATION = DOCS / "validation.md"
SENS_BEGIN, SENS_END = "<!-- sensitivity:begin -->", "<!-- sensitivity:end -->"

# =============================================================================================
# 1. THE RULES. Data, fixed before any scenario is run; the markdown's "Rules" section is
#    written from these objects alone (`rules_markdown` takes no result).
# =============================================================================================
SUPPORTED, NOT_SUPPORTED, CONTRADICTED, DEPENDS = "supported", "not supported", "contradicted", "depends"
NO_ANSWER, NOT_ASKED, FALLEN = "no answer", "not asked", "fallen"
VERDICTS = (SUPPORTED, NOT_SUPPORTED, CONTRADICTED, DEPENDS)

MODES = ("equilibrium", "upright")
MODE_TITLES = {
    "equilibrium": "isolated pull (equilibrium)",
    "upright": "person compensates (upright)",
}
MODE_MEANING = {
    "equilibrium": "the frozen-tone experiment: every muscle a file does not set keeps its "
                   "relaxed-standing tone, frozen, and answers a change of posture only through "
                   "its stretch response; the ankles and knees are held at the support's "
                   "reference angles and nothing corrects the posture: what the pull does by "
                   "itself",
    "upright": "the person keeps the gaze level (standing and sitting; lying, nothing) and the "
               "balance over the feet, the seat or the table; every joint is free, and the "
               "posture and every muscle a file does not set are those of least effort, "
               "Σa² plus the passive tissues' term with weight 1 (docs/model.md §12), solved "
               "together: the person who compensates",
}

SOURCES = {
    "hicks2006": "Hicks GE, George SZ, Nevitt MA, Cauley JA, Vogt MT (2006) Measurement of "
                 "lumbar lordosis: inter-rater reliability, minimum detectable change and "
                 "longitudinal variation. J Spinal Disord Tech 19:501-506.",
    "kyrola2018": "Kyrölä KK et al. (2018) Intra- and interrater reliability of sagittal "
                  "spinopelvic parameters on full-spine radiographs in adults with symptomatic "
                  "spinal disorders. Neurospine 15:175-181, doi:10.14245/ns.1836054.027 (Table 2, "
                  "intrarater agreement; co-authors not re-checked).",
    "brandt2017": "Brandt M, Andersen LL, Samani A, Jakobsen MD, Madeleine P (2017) Inter-day "
                  "reliability of surface electromyography recordings of the lumbar part of "
                  "erector spinae longissimus and trapezius descendens during box lifting. BMC "
                  "Musculoskelet Disord 18, doi:10.1186/s12891-017-1872-y.",
    "wilke1999": "Wilke HJ, Neef P, Caimi M, Hoogland T, Claes LE (1999) New in vivo "
                 "measurements of pressures in the intervertebral disc in daily life. Spine "
                 "24:755-762.",
}


@dataclass(frozen=True)
class Threshold:
    """The smallest change of a kind of quantity that counts as a change."""

    key: str
    value: float
    unit: str
    relative: bool              # True: a fraction of the quantity's value at the start
    what: str                   # the quantities it applies to
    basis: str                  # why this number, from what
    source: str | None          # key of SOURCES (None: a declared assumption)
    tag: str                    # V: the number was seen in the source; A: assumption

    def of(self, start_value: float) -> float:
        return self.value * abs(start_value) if self.relative else self.value

    def text(self) -> str:
        if self.relative:
            return f"{100 * self.value:.0f} % of the start value"
        return f"{self.value:g}{self.unit}" if self.unit == "°" else f"{self.value:g} {self.unit}"


THRESHOLDS = {
    "lordosis": Threshold(
        "lordosis", 3.9, "°", False, "lumbar lordosis L1–S1",
        "minimum detectable change between raters of the L1–S1 Cobb angle on standing "
        "radiographs (4-line Cobb method with standardized rules, ICC 0.98, n = 48)",
        "hicks2006", "V"),
    "pelvis": Threshold(
        "pelvis", 6.0, "°", False, "pelvic tilt; hip flexion",
        "intra-rater coefficient of repeatability (≈ 2.77 × the standard error of measurement) "
        "of the pelvic tilt on full-spine radiographs, each read twice: 2°, 9° and 6° for the "
        "three readers (n = 49); the median reader's 6° is used. Hip flexion is judged like the "
        "pelvic tilt: it is read from the same radiograph (femoral heads, sacral plate, and the "
        "femoral axis); with the thigh held (equilibrium mode) it changes by exactly the pelvic "
        "rotation",
        "kyrola2018", "V"),
    "effort": Threshold(
        "effort", 5.5, "% MVC", False,
        "muscle forces, as a percentage of the group's maximum isometric force (≈ % MVC)",
        "between-day limits of agreement of normalized surface EMG of the lumbar erector spinae "
        "in the lightest standardized lift (3 kg, short reach): difference 0.2 ± 2.8 % MVC on "
        "the left (1.0 ± 6.7 on the right), so 1.96 × 2.8 ≈ 5.5 % MVC, the smaller of the two; "
        "a smaller change of effort would not be told apart from a repeat of the same task",
        "brandt2017", "V"),
    "load": Threshold(
        "load", 0.10, "", True, "disc compression",
        "no measurement error of in vivo disc load was found: 10 % of the load at the start of "
        "the question is an assumption, of the order of the smallest difference between two "
        "postures that in vivo disc pressure reports (Wilke 1999, one subject: sitting upright "
        "0.46 MPa against standing 0.50 MPa, 8 %; docs/validation.md item 3)",
        None, "A"),
}

RULES = (
    ("R1", "Each test of a claim compares two postures the scenario files define: the first and "
           "the last point of a sweep (or two named corners of a grid), or a file against its "
           "baseline file, solved in the same mode. The change Δ of the test's quantity over that "
           "whole step (the *dose*, e.g. psoas tension up to 800 N, about half its maximum "
           "force) is what is judged; a change per unit of dose (per 100 N, per 10 kg, ...) is "
           "reported beside it. The dose is the file's: a claim is about whether an effect is "
           "there to be seen in a person, and the thresholds are changes between two "
           "measurements. A sweep of a muscle's pull starts where that muscle is in relaxed "
           "standing in the mode its file is written for: in the frozen-tone experiment at its "
           "relaxed-tone force (a pull of 0 N would take away the tone the experiment holds it "
           "at, which is another question: for the psoas, C11's), in the upright mode at the "
           "force least effort gives it there; a file put to the other mode in code keeps its "
           "values. If the first or the last point has no posture (R7) the dose "
           "is not shortened to the points that have one, since a shorter dose judged against "
           "the same threshold could turn an effect the file asks about into \"not "
           "supported\": the test then has no Δ, and the points that do have a posture are "
           "shown in its figure."),
    ("R2", "|Δ| smaller than the threshold of its quantity (table below): **not supported** — "
           "the model gives no change a measurement could tell apart from none."),
    ("R3", "|Δ| at least the threshold and the sign the claim predicts: **supported**; the "
           "opposite sign: **contradicted**. A claim that predicts a change without a direction "
           "(\"changes the lumbar curve\") is supported by a change beyond the threshold in "
           "either direction and is never contradicted."),
    ("R4", "**depends** (population): the same test is repeated for the subjects at the 5th and "
           "the 95th percentile of each of the population study's distributions, one parameter "
           "at a time (pelvic incidence, muscle strength, disc and hip stiffness; "
           "docs/population.md), and where the population study itself measures the test's "
           "quantity (psoas tension → LL or PT) its 5th and 95th percentiles are added. If "
           "these changes take both signs and at least one of them reaches the threshold, the "
           "test depends on the person and its verdict is **depends**. (Signed claims only.)"),
    ("R5", "A claim that makes several statements (\"tilts the pelvis *and* changes the curve\") "
           "has one test per statement. In one mode the claim is: contradicted if any test is; "
           "else not supported if any test is; else depends if any test does; else supported. "
           "A claim that says one of several things may happen (C11) is: supported if any test "
           "is; else depends if any does; else contradicted if all are; else not supported. "
           "Tests without a Δ (R7): a test that *fell* is set aside, like a test not asked in "
           "that mode, and named; if every test of the claim fell there, the claim's verdict in "
           "that mode is **fallen**. A test with *no answer* leaves the claim without an answer "
           "in that mode unless the tests that answered decide it whatever the missing one "
           "would say (one contradicted test when all statements must hold; one supported test "
           "when one suffices)."),
    ("R6", "Over the two modes (overall): the verdict both modes give if they agree; depends if "
           "either mode depends, or if one mode supports the claim and the other does not (the "
           "answer then hangs on how the person holds themselves); contradicted if one mode "
           "contradicts it and the other does not support it. A mode in which the claim is not "
           "asked, or in which it fell (R5), does not count: the overall verdict then rests on "
           "the other mode alone, and the summary says so. A mode with no answer leaves the "
           "claim without an overall answer, unless the other mode depends."),
    ("R7", "A posture the solver cannot find (not converged, collapsed beyond the physiological "
           "range, a shortfall of muscle, a missed target) gives **no answer** for that test, "
           "reported with the solver's message; it is never replaced by a value. A frozen body "
           "that cannot balance on its support (status *fallen*, equilibrium mode: it tips over "
           "the toes or the heels, or its back lifts off the table) gives no Δ either, because "
           "its equilibrium is one the support would have to pull to hold, so its LL or PT is "
           "not a posture anybody stands or lies in; but it is reported as **fallen**, not as a "
           "failed solve, because it is an answer: the experiment, which allows no correction, "
           "cannot hold that posture. It is not read as a change beyond every threshold either: "
           "that would credit the claim with the experiment's lack of correction, and whether "
           "the person, who corrects, is affected is what the upright mode asks. In the upright "
           "mode a posture that does not balance is a failed search for one, and gives no "
           "answer."),
)

#: How the rules came to be what they are (printed with them).
RULES_HISTORY = (
    "Fixed before any number was computed (issue 18). Revised once, for the whole-body model of "
    "issue 13, after seeing that a frozen body can now fall over its feet and that the first "
    "points of the frozen pull sweeps did: R1 gained where a sweep of a pull starts and that a "
    "dose is never shortened to the points that solve; R7 gained the *fallen* outcome, R5 and "
    "R6 what a test or a mode without a Δ does to a claim (one that fell is set aside; one with "
    "no answer leaves the claim without one unless the rest decide it). The thresholds, the "
    "signs the claims predict and the way answered tests and modes combine were not changed. The "
    "mapping changed where the model did: C12 is now also asked in the upright mode (lying is "
    "upright now), and a file put to the upright mode keeps its thigh (and, for the straight-leg "
    "raise, its knee) as targets (`UPRIGHT_KEEPS`)."
)


def verdict(delta: float, expected: int, threshold: float) -> str:
    """R2-R3: the verdict of one change Δ (expected: +1, -1, or 0 for "any direction")."""
    if not math.isfinite(delta):
        return NO_ANSWER
    if abs(delta) < threshold:
        return NOT_SUPPORTED
    if expected == 0 or np.sign(delta) == expected:
        return SUPPORTED
    return CONTRADICTED


def spread_verdict(default: str, values, expected: int, threshold: float) -> str:
    """R4: "depends" if the changes over the population's 5-95 % range take both signs and one
    of them reaches the threshold; otherwise the default subject's verdict."""
    vals = [v for v in values if math.isfinite(v)]
    if default not in VERDICTS or expected == 0 or not vals:
        return default
    if any(v > 0 for v in vals) and any(v < 0 for v in vals) and max(abs(v) for v in vals) >= threshold:
        return DEPENDS
    return default


def combine(verdicts, how: str = "all") -> str:
    """R5: the verdict of a claim in one mode from its tests' verdicts (R7: tests that fell are
    set aside; a test with no answer leaves the claim without one unless the others decide)."""
    vs = [v for v in verdicts if v != NOT_ASKED]
    if not vs:
        return NOT_ASKED
    answered = [v for v in vs if v in VERDICTS]
    unknown = NO_ANSWER in vs
    if not answered:
        return NO_ANSWER if unknown else FALLEN
    if how == "all":
        if CONTRADICTED in answered:
            return CONTRADICTED
        if unknown:
            return NO_ANSWER
        for word in (NOT_SUPPORTED, DEPENDS):
            if word in answered:
                return word
        return SUPPORTED
    if SUPPORTED in answered:
        return SUPPORTED
    if unknown:
        return NO_ANSWER
    if DEPENDS in answered:
        return DEPENDS
    return CONTRADICTED if all(v == CONTRADICTED for v in answered) else NOT_SUPPORTED


def counted_modes(by_mode: dict) -> tuple:
    """R6: the modes whose verdict counts over the modes (not "not asked", not "fallen")."""
    return tuple(m for m, v in by_mode.items() if v not in (NOT_ASKED, FALLEN))


def overall(by_mode: dict) -> str:
    """R6: the verdict over the modes."""
    vs = {by_mode[m] for m in counted_modes(by_mode)}
    if not vs:
        return FALLEN if FALLEN in by_mode.values() else NOT_ASKED
    if NO_ANSWER in vs:
        return DEPENDS if DEPENDS in vs else NO_ANSWER
    if len(vs) == 1:
        return vs.pop()
    if DEPENDS in vs or SUPPORTED in vs:
        return DEPENDS
    return CONTRADICTED


# =============================================================================================
# 2. QUANTITIES: what a test reads from a posture report
# =============================================================================================
@dataclass(frozen=True)
class Quantity:
    key: str
    label: str                  # for tables and axes
    unit: str
    sign: str                   # what + means
    threshold: str              # key of THRESHOLDS
    value: Callable | None = None           # (report, model) -> float
    delta: Callable | None = None           # (start, end, model, scenario) -> float


def _metric(key):
    return lambda rep, model: float(rep.metrics[key])


def _lines(model, groups):
    return np.concatenate([np.asarray(model.group_lines(g), int) for g in groups])


def _effort(groups):
    """Σ force of the groups as a percentage of their Σ maximum isometric force (≈ % MVC)."""
    def value(rep, model):
        lines = _lines(model, groups)
        f_max = float(np.sum(np.asarray(model.max_isometric_force)[lines]))
        return 100.0 * float(np.sum(rep.muscle_force[lines])) / f_max
    return value


def _load(kind, joint):
    return lambda rep, model: float(getattr(rep, kind)[model.joint_index(joint)])


def set_groups(scenario, model) -> set:
    """The muscle groups a scenario sets (by group or by line)."""
    out = set()
    for name, _setting in scenario.muscles:
        if name in bm.MUSCLE_GROUPS:
            out.add(name)
        elif name in model.muscle_names:
            out.add(model.muscle_group[model.muscle_names.index(name)])
    return out


def _take_over(start, end, model, scenario) -> float:
    """The largest increase of effort (% MVC) of a group the scenario does not set."""
    skip = set_groups(scenario, model)
    rises = [_effort((g,))(end, model) - _effort((g,))(start, model)
             for g in bm.MUSCLE_GROUPS if g not in skip and len(model.group_lines(g))]
    return float(max(rises)) if rises else math.nan


QUANTITIES = {q.key: q for q in (
    Quantity("LL", "lumbar lordosis L1–S1", "°", "+ = more lordosis", "lordosis",
             _metric("lumbar_lordosis_deg")),
    Quantity("PT", "pelvic tilt", "°", "+ = posterior (backward) tilt, − = anterior", "pelvis",
             _metric("pelvic_tilt_deg")),
    Quantity("hip", "hip flexion", "°", "+ = more flexion (hamstrings and gluteals longer)",
             "pelvis", _metric("hip_flexion_deg")),
    Quantity("hamstrings", "hamstring force", "% MVC", "+ = harder work", "effort",
             _effort(("hamstrings",))),
    Quantity("psoas_force", "psoas force", "% MVC", "+ = more tension", "effort",
             _effort(("psoas",))),
    Quantity("extensors", "back-extensor force (erector spinae + multifidus)", "% MVC",
             "+ = harder work", "effort", _effort(("erector_spinae", "multifidus"))),
    Quantity("take_over", "largest rise of another muscle group's force", "% MVC",
             "+ = a group takes over", "effort", delta=_take_over),
    Quantity("C_L4L5", "L4/L5 compression", "N", "+ = more compression", "load",
             _load("compression", "L4_L5")),
    Quantity("C_L5S1", "L5/S1 compression", "N", "+ = more compression", "load",
             _load("compression", "L5_S1")),
    Quantity("IAP", "intra-abdominal pressure", "kPa", "+ = the abdominal contents more compressed",
             "load", lambda rep, model: rep.abdominal_pressure_Pa / 1e3),
)}

# =============================================================================================
# 3. THE CLAIMS: the mapping from each claim to the scenario files that ask it
# =============================================================================================
@dataclass(frozen=True)
class Test:
    """One statement of a claim, put to the model."""

    statement: str              # what the claim says, as a statement about one quantity
    quantity: str               # key of QUANTITIES
    expected: int               # sign the claim predicts: +1, -1, 0 (a change, either way)
    files: tuple                # scenario files; a mode none of them has is set in code on files[0]
    baseline: str | None = None  # compared with this file (same mode); None: a sweep's first point
    start: dict | None = None   # grid point to start from {key: value, or "min"/"max" of the
                                # key's values in the file}; None: the sweep's first point
    end: dict | None = None     # grid point to end at (as start); None: the last point
    modes: tuple = MODES
    per: tuple | None = None    # (amount, label): also report Δ per this much dose
    dose_keys: tuple = ()       # single files: document keys whose sum is the dose
    population: str | None = None   # the population study's effect that measures this test
    axis: str | None = None     # x-axis label of the figure (default: the swept key's label)
    moments: bool = False       # also report the psoas's moment change at each joint
    lengths: tuple = ()         # also report the length change of these muscle groups (mm)


@dataclass(frozen=True)
class Claim:
    id: str                     # "C1", "C3a", ...
    source: str                 # row of docs/reference/claims.md
    part: str                   # which part of the wording this entry judges ("" = all)
    short: str                  # a few words, for the summary
    question: str               # the mechanical question it becomes
    tests: tuple
    combine: str = "all"
    limitations: tuple = ()
    also: tuple = ()            # (file, why it is not judged here)
    not_asked: dict = field(default_factory=dict)   # mode -> why it is not asked
    note: str = ""


PSOAS_SWEEPS = ("psoas_tension_sweep.toml", "psoas_tension_upright.toml")
COCONTRACTION_AXIS = "psoas tension (N), with rectus and transversus abdominis at half of it"
LOAD_AXIS = "anterior abdominal load (kg)"
THIGH_AXIS = "thigh inclination (°, + = knee ahead of the hip)"
PER_100N = (100.0, "100 N")
PSOAS, RECTUS = "muscles.psoas.tension_N", "muscles.rectus_abdominis.tension_N"

#: When the report puts a library file to the upright mode in code, these support values of the
#: file become targets the person keeps (the upright mode frees the thigh and the knee: the
#: support's values are only where its solve starts, docs/scenarios.md [upright]); a swept
#: support value is swept as the target too, point by point. Standing, the default gaze level is
#: kept as well (a target given replaces it).
UPRIGHT_KEEPS = {
    "thigh_inclination_sweep.toml": ("thigh_inclination_deg",),
    "sway_back.toml": ("thigh_inclination_deg",),
    "stooped.toml": ("thigh_inclination_deg",),
    "supine_leg_raise.toml": ("thigh_inclination_deg", "knee_flexion_deg"),
    "supine_leg_raise_abdominals.toml": ("thigh_inclination_deg", "knee_flexion_deg"),
}

CLAIMS = (
    Claim("C1", "C1", "", "tight psoas → hyperlordosis",
          "In standing, does a pull of the psoas, or a psoas shortened so that it pulls "
          "passively, increase the lumbar lordosis L1–S1?",
          (Test("psoas tension rising to 800 N deepens the lordosis", "LL", +1, PSOAS_SWEEPS,
                per=PER_100N, population="lumbar_lordosis_deg_per_100N"),
           Test("a psoas 15 % short deepens the lordosis", "LL", +1, ("tight_psoas.toml",),
                baseline="neutral_standing.toml")),
          limitations=("frozen_tone", "least_effort", "spine_segments", "2d", "straight_paths"),
          also=(("tight_psoas_upright.toml", "a 20 % short psoas in the upright mode: judged in "
                 "C7; here the 15 % file is put to both modes, like for like"),)),
    Claim("C2", "C2", "", "tight psoas → pelvis tilts forward",
          "In standing, does a pull of the psoas, or a shortened psoas, tilt the pelvis "
          "anteriorly (pelvic tilt down, sacral slope up)?",
          (Test("psoas tension rising to 800 N tilts the pelvis forward", "PT", -1, PSOAS_SWEEPS,
                per=PER_100N, population="pelvic_tilt_deg_per_100N"),
           Test("a psoas 15 % short tilts the pelvis forward", "PT", -1, ("tight_psoas.toml",),
                baseline="neutral_standing.toml")),
          limitations=("frozen_tone", "least_effort", "legs", "2d")),
    Claim("C3a", "C3", "first half", "psoas → hamstrings work harder",
          "As psoas tension rises in standing, does the hamstrings' force rise?",
          (Test("psoas tension rising to 800 N makes the hamstrings work harder", "hamstrings", +1,
                PSOAS_SWEEPS, per=PER_100N),),
          limitations=("frozen_tone", "least_effort", "legs", "lumped")),
    Claim("C3b", "C3", "second half", "tight hamstrings → psoas tightens",
          "Do shortened (tight) hamstrings raise the psoas's tension in standing?",
          (Test("hamstrings 10 % short raise the psoas force", "psoas_force", +1,
                ("tight_hamstrings.toml",), baseline="neutral_standing.toml"),),
          limitations=("frozen_tone", "least_effort", "legs", "lumped")),
    Claim("C4", "C4", "", "psoas flattens the curve",
          "Does the psoas, as a whole and by the level of its fascicles, reduce the lumbar "
          "lordosis? (The opposite of C1's first test.)",
          (Test("psoas tension rising to 800 N flattens the lordosis", "LL", -1, PSOAS_SWEEPS,
                per=PER_100N, population="lumbar_lordosis_deg_per_100N", moments=True),
           Test("the upper fascicles (L1 level, 300 N) flatten the lordosis", "LL", -1,
                ("psoas_upper_fascicles.toml",), baseline="neutral_standing.toml", per=PER_100N,
                moments=True,
                dose_keys=("muscles.psoas_L1_VB.tension_N", "muscles.psoas_L1_TP.tension_N",
                           "muscles.psoas_L1_L2_IVD.tension_N")),
           Test("the lower fascicles (L4–L5 levels, 300 N) flatten the lordosis", "LL", -1,
                ("psoas_lower_fascicles.toml",), baseline="neutral_standing.toml", per=PER_100N,
                moments=True,
                dose_keys=("muscles.psoas_L4_TP.tension_N", "muscles.psoas_L4_L5_IVD.tension_N",
                           "muscles.psoas_L5_TP.tension_N", "muscles.psoas_L5_VB.tension_N"))),
          limitations=("frozen_tone", "least_effort", "straight_paths", "2d")),
    Claim("C5", "C5", "", "psoas and abdominals oppose at the pelvis",
          "Do psoas and rectus abdominis tilt the pelvis in opposite directions: the psoas "
          "anteriorly, the rectus posteriorly?",
          (Test("psoas alone (to 400 N) tilts the pelvis forward", "PT", -1,
                ("psoas_vs_abdominals.toml",),
                start={PSOAS: "min", RECTUS: "min"}, end={PSOAS: "max", RECTUS: "min"},
                per=PER_100N),
           Test("rectus abdominis alone (to 200 N) tilts the pelvis backward", "PT", +1,
                ("psoas_vs_abdominals.toml",),
                start={PSOAS: "min", RECTUS: "min"}, end={PSOAS: "min", RECTUS: "max"},
                per=PER_100N)),
          limitations=("frozen_tone", "least_effort", "rectus_path", "iap_hoop", "spine_segments")),
    Claim("C6", "C6", "", "psoas + abdominals compress the spine",
          "Does co-contraction of psoas (to 500 N), rectus abdominis and transversus abdominis "
          "(each to 250 N) raise the compression of the L4/L5 and L5/S1 discs, and the pressure "
          "on the abdominal contents?",
          (Test("co-contraction compresses L4/L5", "C_L4L5", +1,
                ("psoas_abdominal_cocontraction.toml",), per=PER_100N, axis=COCONTRACTION_AXIS),
           Test("co-contraction compresses L5/S1", "C_L5S1", +1,
                ("psoas_abdominal_cocontraction.toml",), per=PER_100N, axis=COCONTRACTION_AXIS),
           Test("co-contraction compresses the abdominal contents", "IAP", +1,
                ("psoas_abdominal_cocontraction.toml",), per=PER_100N, axis=COCONTRACTION_AXIS)),
          limitations=("iap_hoop", "frozen_tone", "least_effort", "2d"),
          note="Per 100 N of psoas, with the rectus abdominis and the transversus abdominis rising "
               "by about half as much (the file zips the three)."),
    Claim("C7", "C7", "", "tight psoas → back extensors must fight",
          "With a psoas that pulls or is shortened, does holding the standing posture take more "
          "force from the back extensors (erector spinae and multifidus)?",
          (Test("psoas tension rising to 800 N loads the back extensors", "extensors", +1,
                PSOAS_SWEEPS, per=PER_100N),
           Test("a psoas 20 % short loads the back extensors", "extensors", +1,
                ("tight_psoas_upright.toml",), baseline="neutral_standing.toml")),
          limitations=("no_small_gluteals", "least_effort", "frozen_tone", "spine_segments",
                       "lumped")),
    Claim("C8", "C8", "", "feet behind / ahead of the hips → pelvis and curve change",
          "Does the thigh's inclination (sway-back: knee behind the hip; stoop: knee ahead) "
          "change the pelvic tilt and the lumbar lordosis?",
          (Test("thigh −15° → +3° tilts the pelvis", "PT", 0, ("thigh_inclination_sweep.toml",),
                per=(10.0, "10° of thigh"), axis=THIGH_AXIS),
           Test("thigh −15° → +3° changes the lordosis", "LL", 0, ("thigh_inclination_sweep.toml",),
                per=(10.0, "10° of thigh"), axis=THIGH_AXIS),
           Test("sway-back (thigh −10°) tilts the pelvis", "PT", 0, ("sway_back.toml",),
                baseline="neutral_standing.toml"),
           Test("stoop (thigh +10°, hip flexors at 5 %) tilts the pelvis", "PT", 0,
                ("stooped.toml",), baseline="neutral_standing.toml")),
          limitations=("legs", "frozen_tone", "least_effort", "spine_segments"),
          note="With the ankles and knees held (equilibrium mode) a thigh inclination leans the "
               "whole frozen body over its feet; in the upright mode the files are put with the "
               "thigh inclination as a target the person keeps, together with the gaze level "
               "(`UPRIGHT_KEEPS`), and the ankles, knees, pelvis and spine free. stooped.toml's "
               "5 % hip-flexor activations stay set in both modes."),
    Claim("C9", "C9", "", "pregnancy load → pelvis forward, back stiffens, hamstrings stretch",
          "Does an anterior abdominal load (0 → 12 kg) tilt the pelvis forward, raise the "
          "back extensors' force and stretch the hamstrings and gluteals (hip flexion)?",
          (Test("the load tilts the pelvis forward", "PT", -1, ("pregnancy_load_sweep.toml",),
                per=(10.0, "10 kg"), axis=LOAD_AXIS),
           Test("the load makes the back extensors work (stiffens the low back)", "extensors", +1,
                ("pregnancy_load_sweep.toml",), per=(10.0, "10 kg"), axis=LOAD_AXIS),
           Test("the load stretches hamstrings and gluteals (hip flexes)", "hip", +1,
                ("pregnancy_load_sweep.toml",), per=(10.0, "10 kg"), axis=LOAD_AXIS,
                lengths=("hamstrings", "gluteus_maximus"))),
          limitations=("pregnancy_load", "frozen_tone", "least_effort", "spine_segments", "legs"),
          also=(("pregnancy_load.toml", "the sweep's 10 kg point"),)),
    Claim("C10", "C10", "", "adaptively short psoas pulls on standing",
          "If the psoas's optimal fibre length is shortened (× 1.0 → 0.8, tendon unchanged), "
          "does it pull in standing, and does the pelvis tilt forward?",
          (Test("shortening raises the psoas's standing tension", "psoas_force", +1,
                ("adaptive_psoas_shortening.toml",), per=(-0.1, "10 % shortening")),
           Test("shortening tilts the pelvis forward", "PT", -1,
                ("adaptive_psoas_shortening.toml",), per=(-0.1, "10 % shortening"))),
          limitations=("passive_psoas", "frozen_tone", "least_effort")),
    Claim("C11", "C11", "", "long, weak psoas; releasing it makes things worse",
          "Does a psoas without tone (weak, inactive) change the standing posture, or make "
          "another muscle group take over? (A claim that the psoas matters: any of the three "
          "suffices.)",
          (Test("a weak psoas changes the pelvic tilt", "PT", 0, ("long_weak_psoas.toml",),
                baseline="neutral_standing.toml"),
           Test("a weak psoas changes the lordosis", "LL", 0, ("long_weak_psoas.toml",),
                baseline="neutral_standing.toml"),
           Test("another group takes over", "take_over", 0, ("long_weak_psoas.toml",),
                baseline="neutral_standing.toml")),
          combine="any", limitations=("passive_psoas", "frozen_tone", "least_effort"),
          note="\"Worse\" is not a mechanical quantity: what can be asked is whether a weak psoas "
               "changes anything a measurement would see. long_weak_psoas.toml notes that a "
               "longer resting length adds nothing here (the default psoas has no passive tension "
               "at standing lengths)."),
    Claim("C12", "C12", "", "supine straight-leg raise arches the back unless abdominals hold",
          "Lying supine, does lifting both straight legs (psoas 1000 N, iliacus 1200 N) increase "
          "the lordosis, and do braced abdominals (25 %) reduce it again?",
          (Test("the leg raise arches the low back", "LL", +1, ("supine_leg_raise.toml",),
                baseline="lying.toml"),
           Test("braced abdominals hold it down", "LL", -1, ("supine_leg_raise_abdominals.toml",),
                baseline="supine_leg_raise.toml")),
          limitations=("lying_tone", "iap_hoop", "frozen_tone", "least_effort", "supports", "2d"),
          note="In the upright mode the legs are held where the files put them, 30° above the "
               "table with the knees straight, as targets (`UPRIGHT_KEEPS`); psoas and iliacus "
               "keep the tensions the files set, and every other muscle, the abdominals "
               "included, is free: the first test then asks what the person who lifts the legs "
               "does with whatever least effort recruits (the muscles that take over are listed "
               "under it), the second whether abdominals fixed at 25 % hold the back flatter "
               "than that. In the equilibrium mode the abdominals keep the standing tone in the "
               "first file and are braced in the second. lying.toml is in the upright mode in "
               "the library; the frozen experiment lies on the table with the standing tone."),
)

LIMITATIONS = {
    "frozen_tone": "Equilibrium mode: the muscles a file does not set keep their frozen "
                   "relaxed-standing tone and respond only through their stretch response, the "
                   "ankles and knees are held, and nothing corrects the posture; a frozen body "
                   "that cannot balance on its support is reported fallen (R7). For a pelvis "
                   "tilted at the hip this mode gives lumbar flexion where people extend "
                   "(docs/validation.md item 5, Levine & Whittle 1996).",
    "least_effort": "Upright mode: the person keeps the gaze level and the balance over the feet "
                    "(or on the seat or table) with least effort, Σa² of the muscles plus the "
                    "passive tissues' term with weight 1, for which no published calibration was "
                    "found (docs/model.md §12; docs/validation.md item 7b shows the answers under "
                    "weights 0-2). Least effort recruits little co-contraction (its "
                    "relaxed-standing L4/L5 compression is below the in vivo range, "
                    "docs/validation.md item 3), and the posture is held actively: its static "
                    "stability is reported, not required.",
    "spine_segments": "The thoracic spine is three rigid segments (joints at T12/L1, T8/T9 and "
                      "T4/T5) and the cervical spine is rigid with the head (joint at C7/T1): "
                      "the thorax can take part of a change of trunk posture only at those "
                      "joints. The six thoracic extensor lines are derived, not taken from a "
                      "published model, and their relaxed activity is above relaxed EMG "
                      "(docs/model.md §6 and §11, docs/validation.md item 4).",
    "2d": "2D sagittal model with hinge joints at the disc and joint centres: no lateral "
          "bending, no rotation, no joint translation.",
    "lumped": "Left and right muscles are lumped: one line carries both sides; asymmetric "
              "tightness cannot be expressed.",
    "straight_paths": "Straight muscle paths with fixed via points (no wrapping surfaces): the "
                      "psoas's moment arms at each level follow from its attachment points "
                      "(docs/validation.md item 6 compares their sign pattern with Bogduk et al. "
                      "1992).",
    "legs": "Both legs move together (one sagittal leg pair). The equilibrium mode holds the "
            "ankles and knees at the support's reference angles, so the thigh keeps the "
            "inclination the support gives and the pelvis rotates on it; the upright mode frees "
            "them and keeps the balance over the feet. The passive moments of hip, knee and "
            "ankle (Riener & Edrich 1999) are evaluated with the neighbouring joints at the "
            "support's reference posture (docs/model.md §5).",
    "iap_hoop": "The abdominal cavity is a pressure vessel whose pressure only the transversus "
                "abdominis makes, by its hoop tension (docs/model.md §6a): the obliques, the rectus "
                "abdominis and the diaphragm add none, so the pressure follows the transversus "
                "alone; it pushes the thorax off the pelvis in front of the spine.",
    "rectus_path": "The rectus abdominis is a straight line whose via points ride on L3; its "
                   "flexor moment arms at L1/L2, L2/L3 and L3/L4 are above the published ones "
                   "(docs/validation.md item 2).",
    "no_small_gluteals": "Gluteus medius and minimus are not in the muscle set: the \"small "
                         "gluteals\" of the claim cannot be made tight.",
    "passive_psoas": "A \"tight\" or \"long\" psoas is expressed only as a scaled optimal fibre "
                     "length (tendon unchanged) on the generic passive force-length curve; no "
                     "fascial or connective-tissue change.",
    "pregnancy_load": "Pregnancy is a 10-12 kg point mass on L3, 15 cm anterior: no change of "
                      "the abdominal wall, of ligament laxity or of the body's other masses.",
    "lying_tone": "Lying in the equilibrium mode keeps the standing tone: the co-contraction that "
                  "compresses the discs in standing persists on the table (docs/validation.md "
                  "item 3: the lying/standing load ratio of that mode is above the in vivo one; "
                  "the default mode's is within it), and the leg's angle follows from the hip "
                  "flexors' set tensions.",
    "supports": "The table is flat and frictionless, its contacts compliant, and the points where "
                "the body meets it carry assumed soft-tissue depths (docs/model.md §2, §11).",
}

# One-at-a-time 5th / 95th percentile subjects of the population study (R4)
VARIANT_PARAMETERS = ("pelvic_incidence_deg", "muscle_strength_scale", "disc_stiffness_scale",
                      "hip_stiffness_scale")
VARIANT_LABELS = {"pelvic_incidence_deg": "pelvic incidence", "muscle_strength_scale": "muscle strength",
                  "disc_stiffness_scale": "disc stiffness", "hip_stiffness_scale": "hip passive stiffness"}
VARIANT_DOC_KEY = {"pelvic_incidence_deg": ("subject", "pelvic_incidence_deg"),
                   "muscle_strength_scale": ("subject", "muscle_strength_scale"),
                   "disc_stiffness_scale": ("passive", "disc_stiffness_scale"),
                   "hip_stiffness_scale": ("passive", "hip_stiffness_scale")}
Z95 = 1.6448536269514722        # standard normal 95th percentile


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_script", ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def variant_values() -> dict:
    """{(parameter, "p5"|"p95"): value} from the population study's distributions."""
    dist = _load_script("population").DISTRIBUTIONS
    out = {}
    for p in VARIANT_PARAMETERS:
        d = dist[p]
        if d["kind"] == "normal":
            lo, hi = d["mean"] - Z95 * d["sd"], d["mean"] + Z95 * d["sd"]
        elif d["kind"] == "lognormal":
            lo, hi = d["median"] * math.exp(-Z95 * d["sigma"]), d["median"] * math.exp(Z95 * d["sigma"])
        else:
            raise ValueError(f"no percentile rule for a {d['kind']} distribution ({p})")
        out[(p, "p5")], out[(p, "p95")] = lo, hi
    return out


# =============================================================================================
# 4. Scenarios: the library's files, and the same files with a mode or subject set in code
# =============================================================================================
def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def to_toml(document: dict) -> str:
    """A merged scenario document (`Scenario.document`) as a TOML file that `load_scenario`
    reads back: tables, `[muscles.<name>]` sub-tables, `[[loads]]`, a `[sweep]` of inline tables."""
    out = []
    for top, val in document.items():
        if top == "loads":
            for item in val:
                out.append("[[loads]]")
                out += [f"{_toml_key(k)} = {_toml_value(x)}" for k, x in item.items()]
                out.append("")
            continue
        if not isinstance(val, dict):
            raise TypeError(f"top-level key {top!r} is not a table")
        out.append(f"[{_toml_key(top)}]")
        subs = {}
        for k, x in val.items():
            if isinstance(x, dict) and top != "sweep":
                subs[k] = x
            else:
                out.append(f"{_toml_key(k)} = {_toml_value(x)}")
        out.append("")
        for k, x in subs.items():
            out.append(f"[{_toml_key(top)}.{_toml_key(k)}]")
            out += [f"{_toml_key(kk)} = {_toml_value(xx)}" for kk, xx in x.items()]
            out.append("")
    return "\n".join(out)


def thin_sweep(sweep: dict, n: int) -> dict:
    """A zipped `[sweep]` reduced to at most n points, ends kept (grids are left alone)."""
    if sweep.get("grid"):
        return sweep
    out = {}
    for k, v in sweep.items():
        if isinstance(v, dict) and "num" in v:
            out[k] = {**v, "num": min(int(v["num"]), n)}
        elif isinstance(v, list) and len(v) > n:
            idx = np.unique(np.round(np.linspace(0, len(v) - 1, n)).astype(int))
            out[k] = [v[i] for i in idx]
        else:
            out[k] = v
    return out


def keep_targets(doc: dict, keys) -> dict:
    """A merged scenario document put to the upright mode keeps these support values as
    `[upright]` targets (`UPRIGHT_KEEPS`): each takes the support's value, a swept support value
    is swept as the target too (the target first, so that it names the sweep's axis), and
    standing or sitting the default gaze level is kept with them (a target given replaces it)."""
    up = doc.setdefault("upright", {})
    if not keys:
        return doc
    support = doc.setdefault("support", {})
    kind = support.get("kind", "standing")
    defaults = {"thigh_inclination_deg": {"sitting": 90.0}.get(kind, 0.0),
                "knee_flexion_deg": {"sitting": 90.0}.get(kind, 0.0)}
    for k in keys:
        up[k] = float(support.get(k, defaults[k]))
    if kind != "lying" and "head_angle_deg" not in up:
        up["head_angle_deg"] = 0.0
    if "sweep" in doc:
        sweep = {}
        for k, v in doc["sweep"].items():
            if k.startswith("support.") and k.split(".", 1)[1] in keys:
                sweep["upright." + k.split(".", 1)[1]] = copy.deepcopy(v)
        doc["sweep"] = {**sweep, **doc["sweep"]}
    return doc


class Library:
    """The scenario files, loaded once, and the concrete scenarios the report runs."""

    def __init__(self, folder: Path, tmp: Path, sweep_points: int | None = None,
                 variants: dict | None = None):
        self.folder = Path(folder)
        self.tmp = Path(tmp)
        self.sweep_points = sweep_points
        self.variants = variants or {}
        self._files: dict = {}
        self._made: dict = {}

    def file(self, name: str):
        if name not in self._files:
            self._files[name] = load_scenario(self.folder / name)
        return self._files[name]

    def descriptions(self) -> dict:
        """{file: the question it asks} of every file loaded so far."""
        return {name: sc.description for name, sc in self._files.items()}

    def source_for(self, files, mode: str) -> tuple[str, bool]:
        """The file that asks a test in ``mode``: one of ``files`` in that mode (True: as in the
        library), else ``files[0]`` with the mode set in code (False)."""
        for f in files:
            if self.file(f).mode == mode:
                return f, True
        return files[0], False

    def scenario(self, name: str, mode: str, variant=None):
        """The library file ``name`` in ``mode`` for a subject ``variant`` ((parameter, end) or
        None), written to a temporary file when anything differs from the library's file."""
        key = (name, mode, variant)
        if key in self._made:
            return self._made[key]
        base = self.file(name)
        doc = copy.deepcopy(base.document)
        changed = False
        suffix = ""
        if base.mode != mode:
            doc["scenario"]["mode"] = mode
            doc.pop("inverse", None)
            if mode == "upright":
                keep_targets(doc, UPRIGHT_KEEPS.get(name, ()))
            else:
                doc.pop("upright", None)
            suffix += f"-{mode}"
            changed = True
        if variant is not None:
            param, end = variant
            table, k = VARIANT_DOC_KEY[param]
            value = self.variants[variant]
            if param != "pelvic_incidence_deg":         # a scale: relative to the file's own
                value *= float(doc.get(table, {}).get(k, 1.0))
            doc.setdefault(table, {})[k] = float(value)
            suffix += f"-{param.split('_')[0]}-{end}"
            changed = True
        if self.sweep_points and "sweep" in doc:
            thinned = thin_sweep(doc["sweep"], self.sweep_points)
            if thinned != doc["sweep"]:
                doc["sweep"] = thinned
                suffix += f"-n{self.sweep_points}"
                changed = True
        if not changed:
            sc = base
        else:
            doc["scenario"]["name"] = (doc["scenario"]["name"] + suffix)[:64]
            path = self.tmp / f"{doc['scenario']['name']}.toml"
            path.write_text(f"# {name} with {suffix[1:]} (written by scripts/claims_report.py)\n"
                            + to_toml(doc), encoding="utf-8")
            sc = load_scenario(path)
        self._made[key] = sc
        return sc


# =============================================================================================
# 5. Running and judging
# =============================================================================================
@dataclass
class Side:
    """The two postures a test compares, in one mode, for one subject."""

    start: object               # PointResult
    end: object                 # PointResult
    scenario: object            # the scenario of the end posture
    series: tuple = ()          # (x values, Δ values) along a sweep, for figures
    dose: float = math.nan      # the step of the dose (sweep parameter or dose_keys)
    dose_text: str = ""         # the dose in words: "psoas tension 30 → 800 N"
    series_from: float | None = None    # the series is relative to this x (the start had no
                                        # posture: its first point that has one), else None
    fallen_x: tuple = ()        # x of the sweep's points whose frozen body fell
    failed_x: tuple = ()        # x of the sweep's points without a posture for another reason
    params: tuple = ()          # the sweep's parameters (() for a single posture)


@dataclass
class TestResult:
    claim: str
    index: int
    test: Test
    mode: str
    file: str
    as_in_library: bool
    baseline: str | None
    delta: float = math.nan
    per_unit: float = math.nan
    threshold: float = math.nan
    start_value: float = math.nan
    default_verdict: str = NO_ANSWER
    verdict: str = NO_ANSWER
    spread: dict = field(default_factory=dict)      # (parameter, end) -> Δ
    bent: dict = field(default_factory=dict)        # (parameter, end) -> trunk inclination (deg)
                                                    # beyond BENT_TRUNK_DEG (a label, not a rule)
    failures: dict = field(default_factory=dict)    # (parameter, end) -> solver message
    population: tuple | None = None                 # (p5, p95, median, n, scaled to the dose?)
    message: str = ""
    side: Side | None = None


def _select(run, values: dict | None, default: int):
    """The sweep point a test names ({key: value, "min" or "max"}), or the default index."""
    if values is None:
        return run.points[default]
    keys = run.scenario.sweep.parameters
    want = []
    for i, k in enumerate(keys):
        v = values[k]
        if v in ("min", "max"):
            column = [pt.values[i] for pt in run.points]
            v = min(column) if v == "min" else max(column)
        want.append(float(v))
    for pt in run.points:
        if all(abs(a - b) < 1e-9 for a, b in zip(pt.values, want)):
            return pt
    raise KeyError(f"{run.scenario.name}: no sweep point {values}")


def _doc_value(doc: dict, dotted: str) -> float:
    node = doc
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return 0.0
        node = node[part]
    return float(node)


def quantity_delta(q: Quantity, start, end, model, scenario) -> tuple[float, float]:
    """(Δ, value at the start) of a quantity between two solved postures."""
    if q.delta is not None:
        return q.delta(start.report, end.report, model, scenario), math.nan
    a = q.value(start.report, model)
    return q.value(end.report, model) - a, a


def fell(pt) -> bool:
    """R7: the point is a frozen body that cannot balance on its support."""
    return (not pt.result.success and pt.scenario.mode == "equilibrium"
            and getattr(pt.result.code, "value", pt.result.code) == "fallen")


def _short_key(key: str) -> str:
    try:
        from biomech.viz.figures import parameter_label
        return parameter_label(key)
    except (ImportError, AttributeError):
        return key


def _sweep_dose(run, start, end) -> tuple[float, str]:
    """(the step of the first swept key that changes, the dose in words)."""
    keys = run.scenario.sweep.parameters
    step, words = math.nan, []
    for i, k in enumerate(keys):
        a, b = start.values[i], end.values[i]
        if k.startswith("support.") and "upright." + k.split(".", 1)[1] in keys:
            continue                    # the start posture of a kept target: said by the target
        if abs(b - a) > 1e-12 and not math.isfinite(step):
            step = b - a
        label = _short_key(k)
        m = re.fullmatch(r"(.*) \((.+)\)", label)
        name, unit = (m.group(1), m.group(2)) if m else (label, "")
        num = lambda x: f"{x:g}".replace("-", "−")  # noqa: E731
        unit = unit if unit == "°" else f" {unit}" if unit else ""
        words.append(f"{name} {num(a)} → {num(b)}{unit}" if abs(b - a) > 1e-12
                     else f"{name} {num(a)}{unit}")
    return step, "; ".join(words)


def side_of(test: Test, runs: dict, file: str, mode: str, variant) -> Side:
    run = runs[(file, mode, variant)]
    if test.baseline is not None:
        base = runs[(test.baseline, mode, variant)]
        start, end = base.points[0], _select(run, test.end, 0) if run.is_sweep else run.points[0]
        dose = sum(_doc_value(end.scenario.document, k) - _doc_value(start.scenario.document, k)
                   for k in test.dose_keys) if test.dose_keys else math.nan
        text = f"`{file}` against `{test.baseline}`"
        return Side(start, end, end.scenario, dose=dose, dose_text=text)
    start, end = _select(run, test.start, 0), _select(run, test.end, -1)
    dose, text = _sweep_dose(run, start, end)
    series, series_from, fallen_x, failed_x = (), None, (), ()
    if test.start is None and test.end is None:
        q = QUANTITIES[test.quantity]
        model = model_for(end.scenario)
        ref = start if start.result.success else next(
            (pt for pt in run.points if pt.result.success), None)
        if ref is not None:
            xs, ys = [], []
            for pt in run.points:
                if pt.result.success:
                    xs.append(pt.values[0])
                    ys.append(quantity_delta(q, ref, pt, model, pt.scenario)[0])
            series = (np.array(xs), np.array(ys))
            series_from = None if ref is start else ref.values[0]
        fallen_x = tuple(pt.values[0] for pt in run.points if fell(pt))
        failed_x = tuple(pt.values[0] for pt in run.points
                         if not pt.result.success and not fell(pt))
    return Side(start, end, end.scenario, series=series, dose=dose, dose_text=text,
                series_from=series_from, fallen_x=fallen_x, failed_x=failed_x,
                params=tuple(run.scenario.sweep.parameters))


#: Descriptive only (never a rule): a standing posture, balanced over the feet, whose trunk is
#: inclined more than this from the vertical is flagged in the spread's text as not standing
#: upright.
BENT_TRUNK_DEG = 30.0


def bent_trunk(side: Side) -> float | None:
    """The trunk inclination of the start or end posture of a standing test, if either is
    beyond ±`BENT_TRUNK_DEG` (the larger in magnitude), else None."""
    worst = None
    for pt in (side.start, side.end):
        if pt.result.success and pt.scenario.support.kind == "standing":
            t = float(pt.report.metrics["trunk_inclination_deg"])
            if abs(t) > BENT_TRUNK_DEG and (worst is None or abs(t) > abs(worst)):
                worst = t
    return worst


def _reason(message: str) -> str:
    """A solver message shortened to its first clause."""
    return message.split(";")[0].split(":")[0].strip()


def _why(message: str, outcome: str) -> str:
    """A failed posture in a few words: "fallen: tips backward over the heels", or the solver's
    first clause."""
    if outcome == FALLEN:
        m = re.search(r"the body ([^(;]+?)\s*\(", message)
        return "fallen: " + (m.group(1) if m else _reason(message))
    return _reason(message)


def evaluate(side: Side, test: Test) -> tuple[float, float, float, str, str]:
    """(Δ, start value, threshold, message, outcome) of one side; outcome is "" when both
    postures exist, else `FALLEN` (R7: a frozen body that cannot balance) or `NO_ANSWER`."""
    q = QUANTITIES[test.quantity]
    for pt in (side.start, side.end):
        if not pt.result.success:
            return math.nan, math.nan, math.nan, pt.result.message, FALLEN if fell(pt) else NO_ANSWER
    model = model_for(side.scenario)
    delta, start_value = quantity_delta(q, side.start, side.end, model, side.scenario)
    th = THRESHOLDS[q.threshold]
    return delta, start_value, th.of(start_value), "", ""


def _point_label(pt, keys=()) -> str:
    """A posture named by its swept values along a sweep (keys: the sweep's parameters), else by
    its scenario."""
    if pt.values and keys:
        return ", ".join(f"{_short_key(k)} {v:g}".replace("-", "−") for k, v in zip(keys, pt.values)
                         if not k.startswith("support.") or "upright." + k.split(".", 1)[1] not in keys)
    return pt.scenario.name


def fallen_text(side: Side) -> str:
    """How a test's frozen body fell: which posture, which way, and the equilibrium it settled
    in (not a posture anybody stands in: the support would have to pull)."""
    bits = []
    for which, pt in (("start", side.start), ("end", side.end)):
        if fell(pt):
            m = re.search(r"the body ([^(;]+?)\s*\(", pt.result.message)
            how = m.group(1) if m else _reason(pt.result.message)
            extra = ""
            if pt.report is not None and pt.scenario.support.kind != "lying":
                mt = pt.report.metrics
                extra = (f" (it settles at trunk {_f(mt['trunk_inclination_deg'], '°')}, PT "
                         f"{_f(mt['pelvic_tilt_deg'], '°', False)}, LL "
                         f"{_f(mt['lumbar_lordosis_deg'], '°', False)})")
            elif pt.report is not None:
                extra = f" (it settles at LL {_f(pt.report.metrics['lumbar_lordosis_deg'], '°', False)})"
            bits.append(f"the {which} posture ({_point_label(pt, side.params)}) falls: the frozen "
                        f"body {how}{extra}")
    return "; ".join(bits)


@dataclass
class Report:
    claims: tuple
    results: dict                   # claim id -> [TestResult]
    by_mode: dict                   # claim id -> {mode: verdict}
    overall: dict                   # claim id -> verdict
    population: dict                # mode -> summary dict (effects) or None
    population_note: dict           # mode -> text
    default_effect: dict            # mode -> psoas_effect of the default subject
    sensitivity: dict               # mode -> {output: [(factor, prcc, lo, hi)]}
    variants: dict
    wording: dict
    unused: list
    runs: dict
    descriptions: dict = field(default_factory=dict)    # file -> its question
    seconds: float = 0.0

    def basis(self, cid: str) -> tuple:
        """R6: the modes the overall verdict of a claim rests on."""
        return counted_modes(self.by_mode[cid])


def collect_jobs(claims, lib: Library, spread: bool) -> tuple[list, dict]:
    """The (file, mode, variant) runs every test needs, and each test's source file per mode."""
    variants = [None] + (sorted(lib.variants) if spread else [])
    jobs, sources = [], {}
    for c in claims:
        for i, t in enumerate(c.tests):
            for mode in t.modes:
                if mode in c.not_asked:
                    continue
                f, as_is = lib.source_for(t.files, mode)
                sources[(c.id, i, mode)] = (f, as_is)
                for v in variants:
                    jobs.append((f, mode, v))
                    if t.baseline:
                        jobs.append((t.baseline, mode, v))
    return list(dict.fromkeys(jobs)), sources


def run_all(claims, lib: Library, *, workers, spread: bool) -> tuple[dict, dict]:
    jobs, sources = collect_jobs(claims, lib, spread)
    scenarios = [lib.scenario(*j) for j in jobs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        solved = run_scenarios(scenarios, workers=workers)
    return dict(zip(jobs, solved)), sources


def judge(claims, runs: dict, sources: dict, lib: Library, population: dict) -> dict:
    out = {}
    for c in claims:
        rows = []
        for i, t in enumerate(c.tests):
            for mode in MODES:
                if mode not in t.modes or mode in c.not_asked:
                    continue
                f, as_is = sources[(c.id, i, mode)]
                r = TestResult(c.id, i, t, mode, f, as_is, t.baseline)
                side = side_of(t, runs, f, mode, None)
                r.side = side
                r.delta, r.start_value, r.threshold, r.message, outcome = evaluate(side, t)
                if t.per and math.isfinite(side.dose) and side.dose != 0:
                    r.per_unit = r.delta / (side.dose / t.per[0])
                r.default_verdict = outcome or verdict(r.delta, t.expected, r.threshold)
                values = [r.delta]
                for v in lib.variants:
                    if (f, mode, v) in runs:
                        vside = side_of(t, runs, f, mode, v)
                        d, _s, _th, msg, how = evaluate(vside, t)
                        r.spread[v] = d
                        values.append(d)
                        if msg:
                            r.failures[v] = _why(msg, how)
                        trunk = bent_trunk(vside)
                        if trunk is not None:
                            r.bent[v] = trunk
                pop = population.get(mode)
                if t.population and pop and t.population in pop.get("effects", {}):
                    e = pop["effects"][t.population]
                    scale = side.dose / 100.0 if math.isfinite(side.dose) else math.nan
                    r.population = (e["p5"], e["p95"], e["median"], pop.get("solved"), scale)
                    values += [e["p5"] * scale, e["p95"] * scale]
                r.verdict = spread_verdict(r.default_verdict, values, t.expected, r.threshold)
                rows.append(r)
        out[c.id] = rows
    return out


# =============================================================================================
# 6. The population and sensitivity studies' data
# =============================================================================================
def read_population(path: Path = POPULATION_SUMMARY) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_upright_population(n: int, workers, seed: int = 7) -> dict | None:
    """The population study's code on a small sample in the upright mode (its documented run
    is equilibrium only)."""
    if n <= 0:
        return None
    pop = _load_script("population")
    sample = pop.sample_population(n, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        results = pop.run_population(pop.study_subjects(sample, "upright"), batch=max(1, n // 20),
                                     workers=workers)
    return pop.summarize(sample, results)


def default_effects() -> dict:
    """`psoas_effect` of the default subject in both modes (the population study's measure)."""
    from biomech.studies import StudySubject, psoas_effect
    return {m: psoas_effect(StudySubject(mode=m)) for m in MODES}


_NUM = r"([+\-−]?\d+\.\d+)"


def read_sensitivity(path: Path = VALIDATION) -> dict:
    """The PRCC tables of the sensitivity block of docs/validation.md: {mode: {output:
    [(factor, prcc, lo, hi)]}}; {} if the block is missing or its format is not recognised."""
    try:
        text = path.read_text(encoding="utf-8")
        block = text[text.index(SENS_BEGIN):text.index(SENS_END)]
    except (OSError, ValueError):
        return {}
    out = {}
    for section in block.split("\n### ")[1:]:
        head = section.split("\n", 1)[0].lower()
        mode = next((m for m in MODES if head.startswith(m)), None)
        if mode is None:
            continue
        lines = [ln for ln in section.splitlines() if ln.startswith("|")]
        if not lines or "PRCC" not in lines[0]:
            continue
        cols = [c.strip() for c in lines[0].strip("|").split("|")]
        want = {"lumbar_lordosis_deg_per_100N": "PRCC ΔLL", "pelvic_tilt_deg_per_100N": "PRCC ΔPT"}
        idx = {k: next((i for i, c in enumerate(cols) if c.startswith(v)), None) for k, v in want.items()}
        tables = {k: [] for k in want}
        for ln in lines[2:]:
            cells = [c.strip() for c in ln.strip("|").split("|")]
            for k, i in idx.items():
                if i is None or i >= len(cells):
                    continue
                m = re.fullmatch(_NUM + r" \[" + _NUM + r", " + _NUM + r"\]", cells[i])
                if m:
                    v = [float(g.replace("−", "-")) for g in m.groups()]
                    tables[k].append((cells[0], *v))
        out[mode] = {k: v for k, v in tables.items() if v}
    return out


def largest_factors(rows) -> list:
    """The sensitivity block's own rule: |PRCC| ≥ 0.3 with a 95 % interval that excludes 0."""
    big = [r for r in rows if abs(r[1]) >= 0.3 and (r[2] > 0 or r[3] < 0)]
    return sorted(big, key=lambda r: -abs(r[1]))


# =============================================================================================
# 7. The claims' wording (the project's copy) and the whole report
# =============================================================================================
def read_wording(path: Path = CLAIMS_TEXT) -> dict:
    """{"C1": (claim, what to vary and watch)} from the table of docs/reference/claims.md."""
    out = {}
    for ln in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*(C\d+)\s*\|(.*)\|(.*)\|\s*$", ln)
        if m:
            out[m.group(1)] = (m.group(2).strip(), m.group(3).strip())
    return out


def build_report(*, scenarios: Path = LIBRARY, claims=None, workers=None, sweep_points=None,
                 spread=True, upright_subjects: int = 200) -> Report:
    """Run every claim's scenarios and judge them.

    claims : ids to keep ("C3" keeps C3a and C3b; None: all).
    workers : processes (None: every core).
    sweep_points : thin zipped sweeps to at most this many points (None: as in the files).
    spread : True: the one-at-a-time subjects of every `VARIANT_PARAMETERS`; a tuple: of those
        parameters only; False: none.
    upright_subjects : size of the upright-mode population run (0: none).
    """
    t0 = time.perf_counter()
    selected = tuple(c for c in CLAIMS if claims is None or c.id in claims or c.source in claims)
    if not selected:
        raise ValueError(f"no claim among {claims}")
    with tempfile.TemporaryDirectory(prefix="claims-") as tmp:
        keep = VARIANT_PARAMETERS if spread is True else tuple(spread or ())
        variants = {k: v for k, v in variant_values().items() if k[0] in keep}
        lib = Library(scenarios, Path(tmp), sweep_points, variants)
        runs, sources = run_all(selected, lib, workers=workers, spread=bool(variants))
        needs_population = any(t.population for c in selected for t in c.tests)
        population = {"equilibrium": None, "upright": None}
        if needs_population:
            population = {"equilibrium": read_population(),
                          "upright": run_upright_population(upright_subjects, workers)}
        results = judge(selected, runs, sources, lib, population)
    note = {"equilibrium": "the population study's documented run (docs/population.md, "
                           "docs/population/summary.json)",
            "upright": f"the population study's code run here on {upright_subjects} subjects "
                       f"(seed 7) in the upright mode; its documented run is equilibrium only"}
    by_mode, over = {}, {}
    for c in selected:
        by_mode[c.id] = {}
        for mode in MODES:
            rows = [r for r in results[c.id] if r.mode == mode]
            by_mode[c.id][mode] = combine([r.verdict for r in rows], c.combine) if rows else NOT_ASKED
        over[c.id] = overall(by_mode[c.id])
    used = {f for c in CLAIMS for t in c.tests for f in (*t.files, t.baseline) if f} | \
           {f for c in CLAIMS for f, _ in c.also}
    unused = sorted(p.name for p in Path(scenarios).glob("*.toml") if p.name not in used)
    rep = Report(selected, results, by_mode, over, population, note,
                 default_effects() if needs_population else {}, read_sensitivity(),
                 variants, read_wording(), unused, runs,
                 lib.descriptions())
    rep.seconds = time.perf_counter() - t0
    return rep


# =============================================================================================
# 8. Markdown
# =============================================================================================
def _f(x: float, unit: str = "", signed: bool = True) -> str:
    if not math.isfinite(x):
        return "—"
    a = abs(x)
    if a < 0.005:
        x, a = 0.0, 0.0
    s = f"{x:+.0f}" if a >= 100 else f"{x:+.1f}" if a >= 1 else f"{x:+.2f}"
    if not signed:
        s = s.lstrip("+")
    s = s.replace("-", "−")
    return f"{s} {unit}".strip() if unit and unit not in ("°",) else s + unit


def _word(v: str) -> str:
    return f"**{v}**" if v in VERDICTS else f"*{v}*"


def rules_markdown() -> list[str]:
    """The Rules section, from the rule data alone (no result enters it)."""
    lines = ["## Rules", "",
             "The thresholds, rules and the claim-to-scenario mapping are data at the top of "
             "`scripts/claims_report.py`, and this section is written from that data alone. "
             "Every verdict below is computed from them; none is typed. " + RULES_HISTORY, "",
             "| quantity | smallest change that counts | basis | source |", "|---|---|---|---|"]
    for th in THRESHOLDS.values():
        src = f"[{th.source}](#{th.source}) ({th.tag})" if th.source else "assumption"
        lines.append(f"| {th.what} | {th.text()} | {th.basis} | {src} |")
    lines += ["", "Tags: V = the number was seen in the source (abstract or table); "
              "assumption = no source gives it.", ""]
    lines += [f"* **{k}.** {text}" for k, text in RULES]
    lines += ["", "The two modes: " + "; ".join(f"*{MODE_TITLES[m]}*: {MODE_MEANING[m]}"
                                                for m in MODES) + ".", "",
              "Not a rule, a label: in the spread, a standing posture (start or end) that "
              f"balances over the feet but whose trunk is inclined more than {BENT_TRUNK_DEG:g}° "
              "from the vertical is marked *not standing upright*. Such subjects stay in R4; the "
              "text names them and the figures leave them out of the whiskers.",
              ""]
    return lines


def headline(report: Report, cid: str, mode: str) -> TestResult | None:
    """The test behind a claim's verdict in a mode: the first whose verdict is the claim's."""
    rows = [r for r in report.results[cid] if r.mode == mode]
    if not rows:
        return None
    v = report.by_mode[cid][mode]
    return next((r for r in rows if r.verdict == v), rows[0])


def _number(r: TestResult | None) -> str:
    if r is None:
        return ""
    q = QUANTITIES[r.test.quantity]
    per = f" ({_f(r.per_unit, q.unit)} per {r.test.per[1]})" if math.isfinite(r.per_unit) else ""
    return f"{q.label.split(' (')[0]} {_f(r.delta, q.unit)}{per}"


def _title(report: Report, c: Claim) -> str:
    text = report.wording.get(c.source, ("", ""))[0]
    return f"{c.id}: {c.short}" if text else c.id


def _missing(r: TestResult) -> str:
    """Why a test has no Δ, in a few words."""
    if r.default_verdict == FALLEN:
        return _why(r.message, FALLEN)
    return _reason(r.message) if r.message else ""


def _cell(report: Report, cid: str, mode: str) -> str:
    v = report.by_mode[cid][mode]
    if v == NOT_ASKED:
        return "not asked"
    rows = [r for r in report.results[cid] if r.mode == mode]
    if v in (FALLEN, NO_ANSWER):
        r = next((r for r in rows if r.verdict == v), None) if v == FALLEN else \
            next((r for r in rows if r.verdict == NO_ANSWER), None)
        return f"{_word(v)} · {_missing(r)}" if r is not None else _word(v)
    text = f"{_word(v)} · {_number(headline(report, cid, mode))}"
    aside = [r for r in rows if r.verdict in (FALLEN, NO_ANSWER)]
    if aside:
        n = len(aside)
        text += f" ({n} test{'s' if n > 1 else ''} without a posture: " + ", ".join(
            sorted({r.verdict for r in aside})) + ")"
    return text


def _overall_cell(report: Report, cid: str) -> str:
    v = report.overall[cid]
    basis = report.basis(cid)
    if v in (NOT_ASKED, FALLEN) or len(basis) != 1:
        return _word(v)
    return f"{_word(v)} ({basis[0]} mode only)"


def summary_markdown(report: Report) -> list[str]:
    lines = ["## Summary", "",
             "Each cell: the verdict (rules below) and the number behind it — the change of the "
             "quantity the deciding test judges, over the dose its scenario file sets (per unit "
             "in brackets); for a mode without a Δ, why. *fallen* means the frozen body cannot "
             "balance on its support in that question (R7), and that mode then does not count "
             "in the overall verdict (R6). Details, sources of the spread and limitations in "
             "each claim's section.", "",
             f"| claim | {MODE_TITLES['equilibrium']} | {MODE_TITLES['upright']} | overall |",
             "|---|---|---|---|"]
    for c in report.claims:
        cells = [_cell(report, c.id, mode) for mode in MODES]
        anchor = c.id.lower()
        lines.append(f"| [{c.id}](#{anchor}) {c.short} | {cells[0]} | {cells[1]} | "
                     f"{_overall_cell(report, c.id)} |")
    counts = {w: sum(v == w for v in report.overall.values())
              for w in (*VERDICTS, NO_ANSWER, FALLEN)}
    one = [c.id for c in report.claims if len(report.basis(c.id)) == 1
           and report.overall[c.id] not in (NOT_ASKED, FALLEN)]
    lines += ["", "Overall: " + ", ".join(f"{n} {w}" for w, n in counts.items() if n) + "." +
              (f" Resting on one mode only (R6): {', '.join(one)}." if one else ""), "",
              "![summary of the verdicts](claims/summary.png)", ""]
    return lines


def _test_table(report: Report, c: Claim) -> list[str]:
    lines = ["| test | mode | file (how) | dose | start → end | Δ over the dose | per unit | "
             "threshold | R2–R3 (default subject) | verdict (with R4) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in report.results[c.id]:
        q = QUANTITIES[r.test.quantity]
        how = "library" if r.as_in_library else "mode set in code"
        if not r.as_in_library and r.mode == "upright" and UPRIGHT_KEEPS.get(r.file):
            how += ", keeps " + " and ".join(k.replace("_deg", "").replace("_", " ")
                                             for k in UPRIGHT_KEEPS[r.file])
        f = f"`{r.file}` ({how})" + (f" vs `{r.baseline}`" if r.baseline else "")
        dose = r.side.dose_text if r.side is not None and not r.baseline else "—"
        if math.isfinite(r.start_value):
            se = f"{_f(r.start_value, q.unit, False)} → {_f(r.start_value + r.delta, q.unit, False)}"
        else:
            se = "—"
        per = f"{_f(r.per_unit, q.unit)} / {r.test.per[1]}" if math.isfinite(r.per_unit) else "—"
        th = THRESHOLDS[q.threshold]
        thr = (f"{_f(r.threshold, q.unit, False)}" + (" (10 %)" if th.relative else "")
               if math.isfinite(r.threshold) else "—")
        dv = r.default_verdict
        if dv == FALLEN:
            dv = _missing(r)
        elif dv == NO_ANSWER:
            dv = f"no answer ({_missing(r)})"
        lines.append(f"| {r.test.statement} | {r.mode} | {f} | {dose} | {se} | {_f(r.delta, q.unit)} | "
                     f"{per} | {thr} | {dv} | {_word(r.verdict)} |")
    return lines


def _details(report: Report, r: TestResult) -> str:
    """The other numbers of a test's two postures: posture, segments, muscles, loads."""
    s = r.side
    if s is None:
        return ""
    if not (s.start.result.success and s.end.result.success):
        bits = [fallen_text(s)] if r.default_verdict == FALLEN else [
            f"no posture: {pt.result.message}" for pt in (s.start, s.end) if not pt.result.success]
        return _sweep_failures(s, bits)
    a, b = s.start.report, s.end.report
    model = model_for(s.scenario)
    m0, m1 = a.metrics, b.metrics
    d = lambda k: m1[k] - m0[k]  # noqa: E731
    seg = ", ".join(f"{lv} {_f(m1['segmental_lordosis_deg'][lv] - m0['segmental_lordosis_deg'][lv], '°')}"
                    for lv in m0["segmental_lordosis_deg"])
    skip = set_groups(s.scenario, model)
    rises = []
    for g in bm.MUSCLE_GROUPS:
        lines = model.group_lines(g)
        if not len(lines) or g in skip:
            continue
        f0, f1 = float(a.muscle_force[lines].sum()), float(b.muscle_force[lines].sum())
        fm = float(np.sum(np.asarray(model.max_isometric_force)[lines]))
        rises.append((f1 - f0, g, f0, f1, 100 * (f1 - f0) / fm))
    rises.sort(reverse=True)
    take = "; ".join(f"{g.replace('_', ' ')} {f0:.0f} → {f1:.0f} N ({_f(p, '% MVC')})"
                     for df, g, f0, f1, p in rises[:3] if df > 0.5) or "none rises by more than 0.5 N"
    loads = []
    for j in ("L4_L5", "L5_S1"):
        k = model.joint_index(j)
        loads.append(f"{j.replace('_', '/')} compression {_f(a.compression[k], 'N', False)} → "
                     f"{_f(b.compression[k], 'N', False)}, shear {_f(a.shear[k], 'N', False)} → "
                     f"{_f(b.shear[k], 'N', False)}")
    parts = [f"ΔLL {_f(d('lumbar_lordosis_deg'), '°')}, ΔPT {_f(d('pelvic_tilt_deg'), '°')}, "
             f"ΔSS {_f(d('sacral_slope_deg'), '°')}, "
             f"Δ ASIS–PSIS tilt {_f(d('anterior_pelvic_tilt_deg'), '°')}, "
             f"Δ hip flexion {_f(d('hip_flexion_deg'), '°')}, Δ trunk inclination "
             f"{_f(d('trunk_inclination_deg'), '°')}", f"segmental lordosis {seg}",
             f"muscles that take over (largest rises of groups the file does not set): {take}",
             "; ".join(loads)]
    psoas = model.group_lines("psoas")
    if r.test.moments:
        mom = lambda rep: (rep.muscle_force[psoas][:, None] * rep.moment_arm[psoas]).sum(0)  # noqa: E731
        dm = mom(b) - mom(a)
        parts.append("Δ psoas moment per joint (N·m, + = extension): " + ", ".join(
            f"{j} {_f(dm[model.joint_index(j)], '')}"
            for j in ("L1_L2", "L2_L3", "L3_L4", "L4_L5", "L5_S1", "hip")))
    if r.test.lengths:
        from biomech.results import to_dict
        la = to_dict(s.start.result, report=a, mode=s.start.scenario.mode)["muscles"]
        lb = to_dict(s.end.result, report=b, mode=s.end.scenario.mode)["muscles"]
        for g in r.test.lengths:
            names = [model.muscle_names[i] for i in model.group_lines(g)]
            dl = np.mean([lb[n]["length_m"] - la[n]["length_m"] for n in names]) * 1000
            parts.append(f"{g.replace('_', ' ')} length {_f(dl, 'mm')} (mean of its lines)")
    return _sweep_failures(s, parts)


def _sweep_failures(s: Side, parts: list) -> str:
    """A test's text with the sweep points that have no posture named (R7)."""
    parts = [p for p in parts if p]
    if s.fallen_x:
        parts.append("sweep points whose frozen body falls: " + ", ".join(f"{x:g}" for x in s.fallen_x))
    if s.failed_x:
        parts.append("sweep points the solver does not find: " + ", ".join(f"{x:g}" for x in s.failed_x))
    if s.series_from is not None and len(s.series) and len(s.series[0]):
        parts.append(f"the figure shows the points that stand, relative to the first of them "
                     f"({s.series_from:g})")
    return "; ".join(parts) + "." if parts else ""


def _spread_text(report: Report, r: TestResult) -> str:
    q = QUANTITIES[r.test.quantity]
    bits = []
    if r.spread:
        vals = [(v, d) for v, d in r.spread.items() if math.isfinite(d)]
        failed = [v for v, d in r.spread.items() if not math.isfinite(d)]
        if vals:
            lo = min(vals, key=lambda x: x[1])
            hi = max(vals, key=lambda x: x[1])
            moves = {}
            for (p, end), dv in vals:
                moves.setdefault(p, []).append(dv)
            most = max(moves, key=lambda p: max(moves[p]) - min(moves[p]))
            lab = lambda v: f"{VARIANT_LABELS[v[0]]} at its {v[1][1:]}th percentile"  # noqa: E731
            bits.append(f"one-at-a-time 5th–95th percentile subjects: Δ {_f(lo[1], q.unit)} "
                        f"({lab(lo[0])}) to {_f(hi[1], q.unit)} ({lab(hi[0])}); the parameter that "
                        f"moves it most: {VARIANT_LABELS[most]}")
            bent = [(v, t) for v in r.spread if (t := r.bent.get(v))]
            if bent:
                bits.append("of these, not standing upright (trunk inclination beyond "
                            f"±{BENT_TRUNK_DEG:g}° at the start or end, as the model solved it): " +
                            ", ".join(f"{lab(v)} (trunk {_f(t, '°')}, Δ {_f(r.spread[v], q.unit)})"
                                      for v, t in bent))
        if failed:
            by_why = {}
            for p, e in failed:
                by_why.setdefault(r.failures.get((p, e), ""), []).append(
                    f"{VARIANT_LABELS[p]} at its {e[1:]}th percentile")
            if len(failed) == len(r.spread):
                bits.append("none of them has a posture (R7): " + "; ".join(
                    f"{why} ({len(who)})" for why, who in by_why.items()))
            else:
                bits.append("without a posture (R7): " + "; ".join(
                    f"{why}: {', '.join(who)}" for why, who in by_why.items()))
    if r.population:
        p5, p95, med, n, scale = r.population
        mine = report.default_effect.get(r.mode, {}).get(r.test.population, math.nan)
        bits.append(f"population ({n} solved subjects): {_f(med, q.unit)} per 100 N "
                    f"(5–95 %: {_f(p5, q.unit)} to {_f(p95, q.unit)}); the default subject on the "
                    f"same measure: {_f(mine, q.unit)} per 100 N")
    return "; ".join(bits)


def _key(values: dict | None):
    return None if values is None else tuple(sorted(values.items()))


def claim_markdown(report: Report, c: Claim) -> list[str]:
    wording, watch = report.wording.get(c.source, ("(wording not found in docs/reference/claims.md)", ""))
    lines = [f"## {c.id}", "", f"> {wording}" + (f" *(here: its {c.part})*" if c.part else ""), "",
             f"*What the claims list asks the model to vary and watch:* {watch}", "",
             f"**Mechanical question.** {c.question}", ""]
    # files
    lines += ["**Scenario files.**", ""]
    seen = {}
    for r in report.results[c.id]:
        seen.setdefault((r.file, r.mode), r.as_in_library)
        if r.baseline:
            seen.setdefault((r.baseline, r.mode), None)
    for (f, mode), lib in seen.items():
        how = "as in the library" if lib else "baseline, same mode" if lib is None else \
            "the library's file with `mode = \"" + mode + "\"` set in code"
        if lib is not None and not lib and mode == "upright" and UPRIGHT_KEEPS.get(f):
            how += ", keeping its support's " + " and ".join(
                f"`{k}` as `upright.{k}`" for k in UPRIGHT_KEEPS[f])
        desc = report.descriptions.get(f, "")
        lines.append(f"* `{f}`, {mode} mode ({how})" + (f": {desc}" if desc else ""))
    for f, why in c.also:
        lines.append(f"* `{f}` also asks it, not judged here: {why}")
    for mode, why in c.not_asked.items():
        lines.append(f"* {mode} mode: not asked — {why}")
    lines.append("")
    if c.note:
        lines += [c.note, ""]
    lines += ["**Answer.**", ""] + _test_table(report, c) + [""]
    first = {}
    for r in report.results[c.id]:
        key = (r.file, r.baseline, r.mode, _key(r.test.start), _key(r.test.end))
        if key in first:
            lines.append(f"* *{r.test.statement}, {r.mode}*: the same two postures as "
                         f"*{first[key]}*.")
            continue
        det = _details(report, r)
        if det:
            first[key] = f"{r.test.statement}, {r.mode}"
            lines.append(f"* *{r.test.statement}, {r.mode}*: {det}")
    lines.append("")
    v = report.by_mode[c.id]
    lines += [f"**Verdict.** {MODE_TITLES['equilibrium']}: {_word(v['equilibrium'])}; "
              f"{MODE_TITLES['upright']}: {_word(v['upright'])}; overall: {_word(report.overall[c.id])}"
              + (f", resting on the {report.basis(c.id)[0]} mode alone"
                 if len(report.basis(c.id)) == 1 and report.overall[c.id] not in (NOT_ASKED, FALLEN) else "")
              + f" (R5 over its tests: {'all must hold' if c.combine == 'all' else 'any one suffices'}; "
              f"R6 over the modes).", ""]
    lines += ["**What it depends on.**", ""]
    for r in report.results[c.id]:
        t = _spread_text(report, r)
        if t:
            lines.append(f"* *{r.test.statement}, {r.mode}*: {t}.")
    pops = {r.test.population for r in report.results[c.id] if r.test.population}
    for mode in MODES:
        for out in sorted(pops):
            rows = report.sensitivity.get(mode, {}).get(out)
            name = {"lumbar_lordosis_deg_per_100N": "ΔLL", "pelvic_tilt_deg_per_100N": "ΔPT"}[out]
            if rows is None:
                lines.append(f"* sensitivity study, {mode} mode, {name}: missing (no block in "
                             "docs/validation.md, or its format was not recognised)")
                continue
            big = largest_factors(rows)
            lines.append(f"* sensitivity study ([validation.md § Sensitivity](validation.md#sensitivity)), "
                         f"{mode} mode, {name} per 100 N of psoas: largest factors (|PRCC| ≥ 0.3, "
                         f"interval excludes 0): " + (", ".join(f"{f} ({p:+.2f})" for f, p, _l, _h in big)
                                                      or "none") + ".")
    if pops:
        lines.append("* population: " + "; ".join(f"{m}: {report.population_note[m]}"
                                                   for m in MODES if report.population.get(m)) + ".")
    for key in c.limitations:
        lines.append(f"* limitation: {LIMITATIONS[key]}")
    lines += ["", f"![{c.id}](claims/{c.id}.png)", ""]
    return lines


def markdown(report: Report) -> str:
    n_runs = len(report.runs)
    n_pts = sum(len(run.points) for run in report.runs.values())
    lines = [
        "# What the mechanics says about the claims",
        "",
        "Written by `scripts/claims_report.py` (generated: do not edit by hand; rerun the script "
        "after a model change). For each claim people make about the psoas "
        "([the claims](reference/claims.md)), the scenario files that ask it are solved in the "
        "**equilibrium** mode (the isolated pull: the frozen-tone experiment, ankles and knees "
        "held) and the **upright** mode (the person who compensates: gaze level and balance "
        "kept, least effort), and the answer is judged by [rules](#rules) that are data of the "
        "script (how and when they were fixed: there). A verdict is a statement about this "
        f"model (the whole body standing on its feet, 75 kg, 1.75 m, PI 52°, biomech "
        f"{bm.__version__}) and its "
        "limitations, listed with each claim: "
        "\"not supported\" says the mechanics gives no change a measurement would see, not "
        "that people are wrong about what they feel.",
        "",
        f"This run: {len({c.source for c in report.claims})} claims in {len(report.claims)} "
        f"entries (a claim that makes two independent statements is judged in two), {n_runs} "
        f"scenario runs, {n_pts} postures (the library's files, their other-mode counterparts and "
        "the one-at-a-time population subjects).",
        "",
    ]
    lines += summary_markdown(report)
    lines += rules_markdown()
    for c in report.claims:
        lines += claim_markdown(report, c)
    lines += ["## Scenario files no claim asks", ""]
    lines += [f"* `{f}`" for f in report.unused] or ["* none"]
    lines += ["", "## Sources", ""]
    lines += [f"* <a id=\"{k}\"></a>`{k}`: {v}" for k, v in SOURCES.items()]
    lines += ["", "Figures: one per claim (`claims/<id>.png`) and the summary (`claims/summary.png`). "
              "Regenerate everything with `python scripts/claims_report.py`.", ""]
    return "\n".join(lines)


# =============================================================================================
# 9. Figures
# =============================================================================================
COLOURS = {"equilibrium": "#0072B2", "upright": "#D55E00"}
VERDICT_COLOURS = {SUPPORTED: ("#0072B2", "white"), CONTRADICTED: ("#D55E00", "white"),
                   DEPENDS: ("#E69F00", "black"), NOT_SUPPORTED: ("#E5E5E5", "black"),
                   NO_ANSWER: ("#999999", "white"), NOT_ASKED: ("#FFFFFF", "#777777"),
                   FALLEN: ("#FFFFFF", "#CC3311")}


def _parameter_label(test: Test, scenario) -> str:
    if test.axis:
        return test.axis
    key = scenario.sweep.parameters[0]
    try:
        from biomech.viz.figures import parameter_label
        return parameter_label(key)
    except (ImportError, AttributeError):
        return key


def _whisker(r: TestResult) -> tuple[list, list]:
    """The spread's changes of subjects standing upright, and the (label, Δ, trunk) of the
    others (shown as a note, not as a whisker)."""
    ok, off = [], []
    for v, d in r.spread.items():
        if not math.isfinite(d):
            continue
        if v in r.bent:
            off.append((f"{VARIANT_LABELS[v[0]]} {v[1][1:]}th pct.", d, r.bent[v]))
        else:
            ok.append(d)
    return ok, off


def claim_figure(report: Report, c: Claim):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    tests = list(c.tests)
    n = len(tests)
    ncol = min(n, 2)
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(max(7.0, 5.6 * ncol), 4.0 * nrow + 0.9), squeeze=False)
    for k, t in enumerate(tests):
        ax = axes[k // ncol][k % ncol]
        q = QUANTITIES[t.quantity]
        rows = [r for r in report.results[c.id] if r.index == k]
        sweep_rows = [r for r in rows if r.side is not None and len(r.side.series)
                      and len(r.side.series[0]) > 1]
        notes = []
        if sweep_rows:
            for r in rows:
                if r in sweep_rows or r.side is None or r.baseline:
                    continue
                ax.annotate(f"{MODE_TITLES[r.mode]}: {r.verdict} at every point"
                            if r.verdict == FALLEN else f"{MODE_TITLES[r.mode]}: {r.verdict}",
                            (0.02, 0.03), xycoords="axes fraction", fontsize=7.5,
                            color=COLOURS[r.mode])
            for r in sweep_rows:
                xs, ys = r.side.series
                partial = r.side.series_from is not None
                label = f"{MODE_TITLES[r.mode]}: {r.verdict}"
                if partial:
                    label += ("\n(the points that stand, from the first of them, "
                              f"{r.side.series_from:g})".replace("-", "−"))
                ax.plot(xs, ys, color=COLOURS[r.mode], marker="o", ms=3.5, lw=1.8 if not partial else 1.1,
                        alpha=1.0 if not partial else 0.55, zorder=3,
                        ls="-" if r.mode == "equilibrium" else "--", label=label)
                for xx, what, mk in ((r.side.fallen_x, "frozen body falls", "x"),
                                     (r.side.failed_x, "no posture found", "s")):
                    if xx:
                        ax.plot(list(xx), [0.0] * len(xx), ls="none", marker=mk, ms=7, mew=1.6,
                                color=COLOURS[r.mode], mfc="none", zorder=5,
                                label=f"{r.mode}: {what} (no Δ, R7)")
                ok, off = _whisker(r)
                if ok and math.isfinite(r.delta):
                    lo, hi = min(ok + [r.delta]), max(ok + [r.delta])
                    span = abs(xs[-1] - xs[0]) or 1.0        # the two modes' whiskers side by side
                    shift = 0.012 * span * (-1 if r.mode == "equilibrium" else 1)
                    ax.errorbar([xs[-1] + shift], [r.delta], yerr=[[r.delta - lo], [hi - r.delta]],
                                color=COLOURS[r.mode], capsize=4, lw=1.1, zorder=4)
                notes += [(r.mode, *o) for o in off]
            run = report.runs[(sweep_rows[0].file, sweep_rows[0].mode, None)]
            ax.set_xlabel(_parameter_label(t, run.scenario))
            xs0 = sweep_rows[0].side.series[0]
            if run.points[-1].values[0] < run.points[0].values[0] and len(xs0) > 1:
                ax.invert_xaxis()       # the dose grows to the right (e.g. a shortening)
            by_mode = {r.mode: round(r.threshold, 6) for r in rows if math.isfinite(r.threshold)}
            ths = sorted(set(by_mode.values()))
            for th in ths:          # relative thresholds differ by mode: one band each
                who = [m for m, v in by_mode.items() if v == th]
                tag = f" ({', '.join(who)})" if len(ths) > 1 else ""
                ax.axhspan(-th, th, color="grey", alpha=0.18 if len(ths) == 1 else 0.10, lw=0,
                           zorder=0, label=f"smaller than ±{_f(th, q.unit, False)}{tag}: not supported")
            ax.legend(fontsize=7.5, loc="best")
        else:
            texts = []
            for i, r in enumerate(rows):
                if math.isfinite(r.threshold):
                    ax.fill_between([i - 0.42, i + 0.42], -r.threshold, r.threshold, color="grey",
                                    alpha=0.18, lw=0, zorder=0)
                    ax.hlines([-r.threshold, r.threshold], i - 0.42, i + 0.42, colors="black",
                              linestyles=":", lw=1.0, zorder=1)
                ax.bar(i, r.delta if math.isfinite(r.delta) else 0.0, 0.5, color=COLOURS[r.mode],
                       alpha=0.9, hatch="" if r.mode == "equilibrium" else "//",
                       edgecolor="white", zorder=2)
                if not math.isfinite(r.delta):
                    why = _missing(r).replace("fallen: ", "")
                    stood = [d for d in r.spread.values() if math.isfinite(d)]
                    extra = (f"\n\n{len(stood)} of {len(r.spread)} one-at-a-time\nsubjects have a "
                             "posture:\ntheir Δ as grey ticks" if stood else "")
                    texts.append((i, ("fallen" if r.verdict == FALLEN else "no answer") + "\n" +
                                  "\n".join(textwrap.wrap(why, 26)) + extra, r.mode, stood))
                    if stood:               # the one-at-a-time subjects that have a posture
                        ax.plot([i] * len(stood), stood, ls="none", marker="_", ms=14, mew=1.4,
                                color="#777777", zorder=4)
                ok, off = _whisker(r)
                if ok and math.isfinite(r.delta):
                    lo, hi = min(ok + [r.delta]), max(ok + [r.delta])
                    ax.errorbar([i], [r.delta], yerr=[[r.delta - lo], [hi - r.delta]],
                                color="black", capsize=4, lw=1.1, zorder=4)
                notes += [(r.mode, *o) for o in off]
            lo, hi = ax.get_ylim()
            for i, text, mode, stood in texts:      # clear of the subjects' ticks
                top = not any(d > lo + 0.45 * (hi - lo) for d in stood)
                ax.text(i, 0.97 if top else 0.03, text, ha="center", va="top" if top else "bottom",
                        fontsize=7.5, color=COLOURS[mode], fontweight="bold",
                        transform=ax.get_xaxis_transform())
            ax.set_xticks(np.arange(len(rows)), [f"{MODE_TITLES[r.mode]}\n{r.verdict}" for r in rows],
                          fontsize=8)
            pad = 0.9 if len(rows) == 1 else 0.3
            ax.set_xlim(-0.5 - pad, len(rows) - 0.5 + pad)
        if notes:
            text = "not standing upright, left out of the whisker: " + "; ".join(
                f"{mode}, {lab}: Δ {_f(d, q.unit)} (trunk {_f(tr, '°')})" for mode, lab, d, tr in notes)
            ax.annotate(text, (0.5, 0.0), xycoords="axes fraction", xytext=(0, -30 if sweep_rows else -34),
                        textcoords="offset points", ha="center", va="top", fontsize=6.5,
                        color="#555555", annotation_clip=False)
        ax.axhline(0, color="black", lw=0.6, zorder=1)
        ax.set_ylabel(f"change of {q.label} ({q.unit})\n{q.sign}", fontsize=8)
        want = {1: "claim: rises ↑", -1: "claim: falls ↓", 0: "claim: changes (either way)"}[t.expected]
        ax.set_title(f"{t.statement}\n({want})", fontsize=9)
        ax.grid(alpha=0.25, zorder=0)
    for k in range(n, nrow * ncol):
        axes[k // ncol][k % ncol].axis("off")
    v = report.by_mode[c.id]
    basis = report.basis(c.id)
    over = report.overall[c.id] + (f" ({basis[0]} only)" if len(basis) == 1 and
                                   report.overall[c.id] not in (NOT_ASKED, FALLEN) else "")
    fig.suptitle(f"{c.id} — {c.short}\nequilibrium: {v['equilibrium']} · upright: {v['upright']} · "
                 f"overall: {over}", fontsize=11, fontweight="bold")
    fig.text(0.5, 0.005, "Change from the start of the question (sweep: its first point; bars: the "
             "baseline file). Grey band: smaller than the detectable change (not supported). "
             "Whisker: default subject and the one-at-a-time 5th–95th percentile subjects. "
             "Fallen: the frozen body cannot balance on its support (no Δ, R7).",
             ha="center", va="bottom", fontsize=7.5, color="#444444", wrap=True)
    fig.tight_layout(rect=(0, 0.035 if ncol > 1 else 0.08, 1, 1))
    return fig


def summary_figure(report: Report):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    claims = report.claims
    cols = (*MODES, "overall")
    fig, ax = plt.subplots(figsize=(11.5, 0.55 * len(claims) + 1.6))
    for i, c in enumerate(claims):
        y = len(claims) - 1 - i
        for j, col in enumerate(cols):
            v = report.overall[c.id] if col == "overall" else report.by_mode[c.id][col]
            bg, fg = VERDICT_COLOURS.get(v, ("white", "black"))
            w = 1.0 if col == "overall" else 2.2
            x0 = 0 if j == 0 else 2.2 * j
            ax.add_patch(plt.Rectangle((x0, y), w - 0.04, 0.92, color=bg, ec="#bbbbbb", lw=0.5))
            text = v
            if col != "overall" and v != NOT_ASKED:
                r = headline(report, c.id, col)
                if r is not None and math.isfinite(r.delta):
                    q = QUANTITIES[r.test.quantity]
                    text += f"\n{q.label.split(' (')[0]} {_f(r.delta, q.unit)}"
                elif r is not None and v in (FALLEN, NO_ANSWER):
                    why = textwrap.wrap(_missing(r).replace("fallen: ", ""), 34)
                    text += "\n" + "\n".join(why[:2])
            elif col == "overall":
                basis = report.basis(c.id)
                if len(basis) == 1 and v not in (NOT_ASKED, FALLEN):
                    text += f"\n({basis[0]} only)"
            ax.text(x0 + w / 2, y + 0.46, text, ha="center", va="center", color=fg, fontsize=7.5)
        ax.text(-0.1, y + 0.46, f"{c.id}  {c.short}", ha="right", va="center", fontsize=8)
    for j, col in enumerate(cols):
        w = 1.0 if col == "overall" else 2.2
        ax.text(2.2 * j + w / 2, len(claims) + 0.25,
                MODE_TITLES.get(col, "overall"), ha="center", va="bottom", fontsize=9, fontweight="bold")
    ax.set_xlim(-5.6, 2.2 * 2 + 1.05)
    ax.set_ylim(-0.2, len(claims) + 0.9)
    ax.axis("off")
    ax.set_title("What the mechanics says about each claim (verdicts from the rules of docs/claims.md)",
                 fontsize=10, fontweight="bold")
    fig.tight_layout()
    return fig


def write_outputs(report: Report, out: Path, dpi: int = 130) -> Path:
    from biomech.viz import save_figure
    import matplotlib.pyplot as plt
    out = Path(out)
    figdir = out / "claims"
    figdir.mkdir(parents=True, exist_ok=True)
    for c in report.claims:
        fig = claim_figure(report, c)
        save_figure(fig, figdir / f"{c.id}.png", dpi=dpi)
        plt.close(fig)
    fig = summary_figure(report)
    save_figure(fig, figdir / "summary.png", dpi=dpi)
    plt.close(fig)
    md = out / "claims.md"
    md.write_text(markdown(report), encoding="utf-8")
    return md


# =============================================================================================
def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DOCS,
                    help="docs directory: writes claims.md and claims/*.png (default: docs)")
    ap.add_argument("--scenarios", type=Path, default=LIBRARY,
                    help="the scenario library (default: scenarios)")
    ap.add_argument("--claims", default=None, help="comma-separated claim ids (default: all)")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    ap.add_argument("--sweep-points", type=int, default=None,
                    help="thin every zipped sweep to at most this many points (ends kept)")
    ap.add_argument("--no-spread", action="store_true",
                    help="skip the one-at-a-time population subjects (R4 then uses the "
                         "population study only)")
    ap.add_argument("--upright-subjects", type=int, default=200,
                    help="subjects of the upright-mode population run (0: none)")
    ap.add_argument("--dpi", type=int, default=130)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.sweep_points is not None and args.sweep_points < 2:
        print("error: --sweep-points must be at least 2", file=sys.stderr)
        return 2
    claims = [s.strip() for s in args.claims.split(",")] if args.claims else None
    try:
        report = build_report(scenarios=args.scenarios, claims=claims, workers=args.workers,
                              sweep_points=args.sweep_points, spread=not args.no_spread,
                              upright_subjects=args.upright_subjects)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    md = write_outputs(report, args.out, dpi=args.dpi)
    for c in report.claims:
        v = report.by_mode[c.id]
        basis = report.basis(c.id)
        print(f"{c.id:4s} equilibrium {v['equilibrium']:14s} upright {v['upright']:14s} "
              f"overall {report.overall[c.id]}" + (f" ({basis[0]} only)" if len(basis) == 1 else ""))
    print(f"wrote {md} ({report.seconds:.1f} s to solve and judge)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

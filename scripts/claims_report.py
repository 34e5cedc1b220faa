"""The claims report (issue 18): what the mechanics says about each claim C1-C12.

For every claim of ``docs/reference/claims.md`` this script reruns the scenario files that ask
it, in the equilibrium mode (the isolated pull: every muscle a file does not set keeps its
frozen relaxed-standing tone) and in the upright mode (the person compensates: the trunk is kept
upright and the other muscles are recruited by least effort), and judges the answer by rules
that are data of this script, fixed before any number is computed (`THRESHOLDS`, `RULES`). No
verdict is typed anywhere: each one is the output of `verdict`, `spread_verdict` and `combine`
applied to the computed changes.

What lives here as data, so that the report regenerates when the library changes:

* `QUANTITIES`: what a claim is judged on and how it is read from a posture report;
* `THRESHOLDS`: the smallest change of each kind of quantity that counts, with its source;
* `CLAIMS`: for each claim, the mechanical question, the scenario files that ask it (a file's
  mode is read from the file; a mode no file of the claim uses is obtained by setting the mode
  of the first file in code, never by adding a file to the library), the quantity, the sign the
  claim predicts, and the model limitations that bear on it.

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
NO_ANSWER, NOT_ASKED = "no answer", "not asked"
VERDICTS = (SUPPORTED, NOT_SUPPORTED, CONTRADICTED, DEPENDS)

MODES = ("equilibrium", "upright")
MODE_TITLES = {
    "equilibrium": "isolated pull (equilibrium)",
    "upright": "person compensates (upright)",
}
MODE_MEANING = {
    "equilibrium": "every muscle a file does not set keeps its frozen relaxed-standing tone and "
                   "answers a change of posture only through its stretch response: what the pull "
                   "does by itself",
    "upright": "the trunk is kept upright (trunk inclination 0°) and every muscle a file does "
               "not set is recruited by least effort (Σa²), posture and forces solved together: "
               "the person who compensates",
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
        "pelvic tilt: it is read from "
        "the same landmarks (femoral heads, sacral plate) and, with the thigh set by the "
        "support, it changes by exactly the pelvic rotation",
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
    ("R1", "Each test of a claim compares two postures the scenario files define: the last point "
           "of a sweep against its first, or a file against its baseline file, solved in the same "
           "mode. The change Δ of the test's quantity over that whole step (the *dose*, e.g. "
           "psoas 0 → 800 N, about half its maximum force) is what is judged; a change per unit "
           "of dose (per 100 N, per 10 kg, ...) is reported beside it. The dose is the file's: "
           "a claim is about whether an effect is there to be seen in a person, and the "
           "thresholds are changes between two measurements."),
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
           "is; else depends if any does; else contradicted if all are; else not supported."),
    ("R6", "Over the two modes (overall): the verdict both modes give if they agree; depends if "
           "either mode depends, or if one mode supports the claim and the other does not (the "
           "answer then hangs on how the person holds themselves); contradicted if one mode "
           "contradicts it and the other does not support it. A mode in which a claim is not "
           "asked does not count."),
    ("R7", "A posture the solver cannot find (a failed solve) gives **no answer** for that test, "
           "reported with the solver's message; it is never replaced by a value."),
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
    if default == NO_ANSWER or expected == 0 or not vals:
        return default
    if any(v > 0 for v in vals) and any(v < 0 for v in vals) and max(abs(v) for v in vals) >= threshold:
        return DEPENDS
    return default


def combine(verdicts, how: str = "all") -> str:
    """R5 (the tests of a claim in one mode) and R7 (a test without an answer)."""
    vs = [v for v in verdicts if v != NOT_ASKED]
    if not vs:
        return NOT_ASKED
    if NO_ANSWER in vs:
        return NO_ANSWER
    if how == "all":
        for word in (CONTRADICTED, NOT_SUPPORTED, DEPENDS):
            if word in vs:
                return word
        return SUPPORTED
    if SUPPORTED in vs:
        return SUPPORTED
    if DEPENDS in vs:
        return DEPENDS
    return CONTRADICTED if all(v == CONTRADICTED for v in vs) else NOT_SUPPORTED


def overall(by_mode: dict) -> str:
    """R6: the verdict over the modes."""
    vs = {v for v in by_mode.values() if v != NOT_ASKED}
    if not vs:
        return NOT_ASKED
    if NO_ANSWER in vs:
        return NO_ANSWER
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
    start: dict | None = None   # sweep point to start from {key: value} (grid sweeps); None: first
    end: dict | None = None     # sweep point to end at; None: last
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
COCONTRACTION_AXIS = "psoas tension (N), with rectus abdominis at half of it"
LOAD_AXIS = "anterior abdominal load (kg)"
PER_100N = (100.0, "100 N")

CLAIMS = (
    Claim("C1", "C1", "", "tight psoas → hyperlordosis",
          "In standing, does a pull of the psoas, or a psoas shortened so that it pulls "
          "passively, increase the lumbar lordosis L1–S1?",
          (Test("psoas tension 0 → 800 N deepens the lordosis", "LL", +1, PSOAS_SWEEPS,
                per=PER_100N, population="lumbar_lordosis_deg_per_100N"),
           Test("a psoas 15 % short deepens the lordosis", "LL", +1, ("tight_psoas.toml",),
                baseline="neutral_standing.toml")),
          limitations=("frozen_tone", "least_effort", "rigid_thorax", "2d", "straight_paths"),
          also=(("tight_psoas_upright.toml", "a 20 % short psoas with the trunk kept upright: "
                 "judged in C7; here the 15 % file is put to both modes, like for like"),)),
    Claim("C2", "C2", "", "tight psoas → pelvis tilts forward",
          "In standing, does a pull of the psoas, or a shortened psoas, tilt the pelvis "
          "anteriorly (pelvic tilt down, sacral slope up)?",
          (Test("psoas tension 0 → 800 N tilts the pelvis forward", "PT", -1, PSOAS_SWEEPS,
                per=PER_100N, population="pelvic_tilt_deg_per_100N"),
           Test("a psoas 15 % short tilts the pelvis forward", "PT", -1, ("tight_psoas.toml",),
                baseline="neutral_standing.toml")),
          limitations=("frozen_tone", "least_effort", "thigh_set", "2d")),
    Claim("C3a", "C3", "first half", "psoas → hamstrings work harder",
          "As psoas tension rises in standing, does the hamstrings' force rise?",
          (Test("psoas tension 0 → 800 N makes the hamstrings work harder", "hamstrings", +1,
                PSOAS_SWEEPS, per=PER_100N),),
          limitations=("frozen_tone", "least_effort", "thigh_set", "lumped")),
    Claim("C3b", "C3", "second half", "tight hamstrings → psoas tightens",
          "Do shortened (tight) hamstrings raise the psoas's tension in standing?",
          (Test("hamstrings 10 % short raise the psoas force", "psoas_force", +1,
                ("tight_hamstrings.toml",), baseline="neutral_standing.toml"),),
          limitations=("frozen_tone", "least_effort", "thigh_set", "lumped")),
    Claim("C4", "C4", "", "psoas flattens the curve",
          "Does the psoas, as a whole and by the level of its fascicles, reduce the lumbar "
          "lordosis? (The opposite of C1's first test.)",
          (Test("psoas tension 0 → 800 N flattens the lordosis", "LL", -1, PSOAS_SWEEPS,
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
          (Test("psoas alone (400 N) tilts the pelvis forward", "PT", -1,
                ("psoas_vs_abdominals.toml",),
                start={"muscles.psoas.tension_N": 0.0, "muscles.rectus_abdominis.tension_N": 0.0},
                end={"muscles.psoas.tension_N": 400.0, "muscles.rectus_abdominis.tension_N": 0.0},
                per=PER_100N),
           Test("rectus abdominis alone (200 N) tilts the pelvis backward", "PT", +1,
                ("psoas_vs_abdominals.toml",),
                start={"muscles.psoas.tension_N": 0.0, "muscles.rectus_abdominis.tension_N": 0.0},
                end={"muscles.psoas.tension_N": 0.0, "muscles.rectus_abdominis.tension_N": 200.0},
                per=PER_100N)),
          limitations=("frozen_tone", "least_effort", "rectus_path", "no_iap", "rigid_thorax")),
    Claim("C6", "C6", "", "psoas + abdominals compress the spine",
          "Does co-contraction of psoas (0 → 500 N) and rectus abdominis (0 → 250 N) raise the "
          "compression of the L4/L5 and L5/S1 discs? (The abdominal contents are not modelled.)",
          (Test("co-contraction compresses L4/L5", "C_L4L5", +1,
                ("psoas_abdominal_cocontraction.toml",), per=PER_100N, axis=COCONTRACTION_AXIS),
           Test("co-contraction compresses L5/S1", "C_L5S1", +1,
                ("psoas_abdominal_cocontraction.toml",), per=PER_100N, axis=COCONTRACTION_AXIS)),
          limitations=("no_iap", "frozen_tone", "least_effort", "2d"),
          note="Per 100 N of psoas, i.e. with 50 N of rectus abdominis (the file zips the two)."),
    Claim("C7", "C7", "", "tight psoas → back extensors must fight",
          "With a psoas that pulls or is shortened, does holding the standing posture take more "
          "force from the back extensors (erector spinae and multifidus)?",
          (Test("psoas tension 0 → 800 N loads the back extensors", "extensors", +1,
                PSOAS_SWEEPS, per=PER_100N),
           Test("a psoas 20 % short loads the back extensors", "extensors", +1,
                ("tight_psoas_upright.toml",), baseline="neutral_standing.toml")),
          limitations=("no_small_gluteals", "least_effort", "frozen_tone", "rigid_thorax", "lumped")),
    Claim("C8", "C8", "", "feet behind / ahead of the hips → pelvis and curve change",
          "Does the thigh's inclination (sway-back: knee behind the hip; stoop: knee ahead) "
          "change the pelvic tilt and the lumbar lordosis?",
          (Test("thigh −15° → +3° tilts the pelvis", "PT", 0, ("thigh_inclination_sweep.toml",),
                per=(10.0, "10° of thigh")),
           Test("thigh −15° → +3° changes the lordosis", "LL", 0, ("thigh_inclination_sweep.toml",),
                per=(10.0, "10° of thigh")),
           Test("sway-back (thigh −10°) tilts the pelvis", "PT", 0, ("sway_back.toml",),
                baseline="neutral_standing.toml", modes=("equilibrium",)),
           Test("stoop (thigh +10°, hip flexors at 5 %) tilts the pelvis", "PT", 0,
                ("stooped.toml",), baseline="neutral_standing.toml", modes=("equilibrium",))),
          limitations=("thigh_set", "frozen_tone", "least_effort", "rigid_thorax"),
          note="sway_back.toml and stooped.toml are asked in the equilibrium mode only: the stoop "
               "file sets hip-flexor activations that the equilibrium mode needs and the upright "
               "mode would recruit; the upright mode asks the sweep."),
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
          limitations=("pregnancy_load", "frozen_tone", "least_effort", "rigid_thorax", "thigh_set"),
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
                baseline="lying.toml", modes=("equilibrium",)),
           Test("braced abdominals hold it down", "LL", -1, ("supine_leg_raise_abdominals.toml",),
                baseline="supine_leg_raise.toml", modes=("equilibrium",))),
          limitations=("lying_tone", "no_iap", "frozen_tone", "2d"),
          not_asked={"upright": "the upright mode keeps a trunk inclination; lying on a table "
                                "there is no upright trunk to keep"}),
)

LIMITATIONS = {
    "frozen_tone": "Equilibrium mode: the muscles a file does not set keep their frozen "
                   "relaxed-standing tone and respond only through their stretch response; no "
                   "voluntary correction. For a pelvis tilted at the hip this mode gives lumbar "
                   "flexion where people extend (docs/validation.md item 5, Levine & Whittle "
                   "1996).",
    "least_effort": "Upright mode: least-effort recruitment (Σa²) recruits almost no "
                    "co-contraction (its relaxed-standing L4/L5 compression is below the in vivo "
                    "range, docs/validation.md item 3), and the recruited postures are "
                    "statically unstable: they are held by active control.",
    "rigid_thorax": "The thorax with head and arms is one rigid body: the thoracic spine cannot "
                    "compensate, so a change of trunk inclination must come from the lumbar "
                    "spine or the hip.",
    "2d": "2D sagittal model with hinge joints at the disc centres: no lateral bending, no "
          "rotation, no joint translation.",
    "lumped": "Left and right muscles are lumped: one line carries both sides; asymmetric "
              "tightness cannot be expressed.",
    "straight_paths": "Straight muscle paths with fixed via points (no wrapping surfaces): the "
                      "psoas's moment arms at each level follow from its attachment points "
                      "(docs/validation.md item 6 compares their sign pattern with Bogduk et al. "
                      "1992).",
    "thigh_set": "In standing the thigh is set by the support (its inclination is an input); the "
                 "pelvis rotates on it. Knees and feet are not balanced: the shanks and feet "
                 "are carried as masses of the leg.",
    "no_iap": "No intra-abdominal pressure and no abdominal contents: the pressure that the "
              "abdominal wall raises (and that may unload the spine) is absent, and whether the "
              "abdominal contents are compressed cannot be asked.",
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
                  "item 3: the lying/standing load ratio is far above the in vivo one). The "
                  "leg's angle follows from the hip flexors' set tensions.",
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
                doc.setdefault("upright", {})
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
    fallen: dict = field(default_factory=dict)      # (parameter, end) -> trunk inclination (deg)
    failures: dict = field(default_factory=dict)    # (parameter, end) -> solver message
    population: tuple | None = None                 # (p5, p95, median, n, scaled to the dose?)
    message: str = ""
    side: Side | None = None


def _select(run, values: dict | None, default: int):
    if values is None:
        return run.points[default]
    keys = run.scenario.sweep.parameters
    want = tuple(float(values[k]) for k in keys)
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


def side_of(test: Test, runs: dict, file: str, mode: str, variant) -> Side:
    run = runs[(file, mode, variant)]
    if test.baseline is not None:
        base = runs[(test.baseline, mode, variant)]
        start, end = base.points[0], _select(run, test.end, 0) if run.is_sweep else run.points[0]
        dose = sum(_doc_value(end.scenario.document, k) - _doc_value(start.scenario.document, k)
                   for k in test.dose_keys) if test.dose_keys else math.nan
        return Side(start, end, end.scenario, dose=dose)
    start, end = _select(run, test.start, 0), _select(run, test.end, -1)
    dose = end.values[0] - start.values[0] if end.values else math.nan
    series = ()
    if test.start is None and test.end is None:
        q = QUANTITIES[test.quantity]
        model = model_for(end.scenario)
        xs, ys = [], []
        for pt in run.points:
            if pt.result.success and start.result.success:
                xs.append(pt.values[0])
                ys.append(quantity_delta(q, start, pt, model, pt.scenario)[0])
        series = (np.array(xs), np.array(ys))
    return Side(start, end, end.scenario, series=series, dose=dose)


#: Descriptive only (never a rule): a standing posture whose trunk is inclined more than this
#: from the vertical is flagged in the spread's text as not standing upright.
FALLEN_TRUNK_DEG = 30.0


def fallen_trunk(side: Side) -> float | None:
    """The trunk inclination of the start or end posture of a standing test, if either is
    beyond ±`FALLEN_TRUNK_DEG` (the larger in magnitude), else None."""
    worst = None
    for pt in (side.start, side.end):
        if pt.result.success and pt.scenario.support.kind == "standing":
            t = float(pt.report.metrics["trunk_inclination_deg"])
            if abs(t) > FALLEN_TRUNK_DEG and (worst is None or abs(t) > abs(worst)):
                worst = t
    return worst


def _reason(message: str) -> str:
    """A solver message shortened to its first clause."""
    return message.split(";")[0].split(":")[0].strip()


def evaluate(side: Side, test: Test) -> tuple[float, float, float, str]:
    """(Δ, start value, threshold, message) of one side."""
    q = QUANTITIES[test.quantity]
    for pt in (side.start, side.end):
        if not pt.result.success:
            return math.nan, math.nan, math.nan, pt.result.message
    model = model_for(side.scenario)
    delta, start_value = quantity_delta(q, side.start, side.end, model, side.scenario)
    th = THRESHOLDS[q.threshold]
    return delta, start_value, th.of(start_value), ""


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
                r.delta, r.start_value, r.threshold, r.message = evaluate(side, t)
                if t.per and math.isfinite(side.dose) and side.dose != 0:
                    r.per_unit = r.delta / (side.dose / t.per[0])
                r.default_verdict = verdict(r.delta, t.expected, r.threshold)
                values = [r.delta]
                for v in lib.variants:
                    if (f, mode, v) in runs:
                        vside = side_of(t, runs, f, mode, v)
                        d, _s, _th, msg = evaluate(vside, t)
                        r.spread[v] = d
                        values.append(d)
                        if msg:
                            r.failures[v] = _reason(msg)
                        trunk = fallen_trunk(vside)
                        if trunk is not None:
                            r.fallen[v] = trunk
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
             "Fixed before any number was computed: the thresholds, rules and the "
             "claim-to-scenario mapping are data at the top of `scripts/claims_report.py`, and "
             "this section is written from that data alone. Every verdict below is computed "
             "from them; none is typed.", "",
             "| quantity | smallest change that counts | basis | source |", "|---|---|---|---|"]
    for th in THRESHOLDS.values():
        src = f"[{th.source}](#{th.source}) ({th.tag})" if th.source else "assumption"
        lines.append(f"| {th.what} | {th.text()} | {th.basis} | {src} |")
    lines += ["", "Tags: V = the number was seen in the source (abstract or table); "
              "assumption = no source gives it.", ""]
    lines += [f"* **{k}.** {text}" for k, text in RULES]
    lines += ["", "The two modes: " + "; ".join(f"*{MODE_TITLES[m]}*: {MODE_MEANING[m]}"
                                                for m in MODES) + ".", "",
              "Not a rule, a label: in the spread, a standing posture (start or end) whose trunk "
              f"is inclined more than {FALLEN_TRUNK_DEG:g}° from the vertical is marked *not "
              "standing upright* (the solver reports it as an equilibrium, but the person has "
              "fallen backward or forward). Such subjects stay in R4, which was fixed before they "
              "were seen; the text names them and the figures leave them out of the whiskers.",
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


def summary_markdown(report: Report) -> list[str]:
    lines = ["## Summary", "",
             "Each cell: the verdict (rules below) and the number behind it — the change of the "
             "quantity the deciding test judges, over the dose its scenario file sets (per unit "
             "in brackets). Details, sources of the spread and limitations in each claim's "
             "section.", "",
             f"| claim | {MODE_TITLES['equilibrium']} | {MODE_TITLES['upright']} | overall |",
             "|---|---|---|---|"]
    for c in report.claims:
        cells = []
        for mode in MODES:
            v = report.by_mode[c.id][mode]
            if v == NOT_ASKED:
                cells.append("not asked")
            else:
                cells.append(f"{_word(v)} · {_number(headline(report, c.id, mode))}")
        anchor = c.id.lower()
        lines.append(f"| [{c.id}](#{anchor}) {c.short} | {cells[0]} | {cells[1]} | "
                     f"{_word(report.overall[c.id])} |")
    counts = {w: sum(v == w for v in report.overall.values()) for w in (*VERDICTS, NO_ANSWER)}
    lines += ["", "Overall: " + ", ".join(f"{n} {w}" for w, n in counts.items() if n) + ".", "",
              "![summary of the verdicts](claims/summary.png)", ""]
    return lines


def _test_table(report: Report, c: Claim) -> list[str]:
    lines = ["| test | mode | file (how) | start → end | Δ over the dose | per unit | threshold | "
             "R2–R3 (default subject) | verdict (with R4) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in report.results[c.id]:
        q = QUANTITIES[r.test.quantity]
        how = "library" if r.as_in_library else "mode set in code"
        f = f"`{r.file}` ({how})" + (f" vs `{r.baseline}`" if r.baseline else "")
        if math.isfinite(r.start_value):
            se = f"{_f(r.start_value, q.unit, False)} → {_f(r.start_value + r.delta, q.unit, False)}"
        else:
            se = "—"
        per = f"{_f(r.per_unit, q.unit)} / {r.test.per[1]}" if math.isfinite(r.per_unit) else "—"
        th = THRESHOLDS[q.threshold]
        thr = f"{_f(r.threshold, q.unit, False)}" + (" (10 %)" if th.relative else "")
        msg = f" ({r.message.split(';')[0]})" if r.message else ""
        lines.append(f"| {r.test.statement} | {r.mode} | {f} | {se} | {_f(r.delta, q.unit)} | {per} | "
                     f"{thr} | {r.default_verdict}{msg} | {_word(r.verdict)} |")
    return lines


def _details(report: Report, r: TestResult) -> str:
    """The other numbers of a test's two postures: posture, segments, muscles, loads."""
    s = r.side
    if s is None or not (s.start.result.success and s.end.result.success):
        return ""
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
    return "; ".join(parts) + "."


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
            fallen = [(v, t) for v in r.spread if (t := r.fallen.get(v))]
            if fallen:
                bits.append("of these, not standing upright (trunk inclination beyond "
                            f"±{FALLEN_TRUNK_DEG:g}° at the start or end, as the model solved it): " +
                            ", ".join(f"{lab(v)} (trunk {_f(t, '°')}, Δ {_f(r.spread[v], q.unit)})"
                                      for v, t in fallen))
        if failed:
            bits.append("no answer (the solver found no posture) for " + ", ".join(
                f"{VARIANT_LABELS[p]} at its {e[1:]}th percentile ({r.failures.get((p, e), '')})"
                for p, e in failed))
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
              f"{MODE_TITLES['upright']}: {_word(v['upright'])}; overall: {_word(report.overall[c.id])} "
              f"(R5 over its tests: {'all must hold' if c.combine == 'all' else 'any one suffices'}; "
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
        "**equilibrium** mode (the isolated pull) and the **upright** mode (the person who "
        "compensates), and the answer is judged by [rules](#rules) fixed before any number was "
        "computed. A verdict is a statement about this model (75 kg, 1.75 m, PI 52°, "
        f"biomech {bm.__version__}) and its limitations, listed with each claim: "
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
                   NO_ANSWER: ("#999999", "white"), NOT_ASKED: ("#FFFFFF", "#777777")}


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
        if v in r.fallen:
            off.append((f"{VARIANT_LABELS[v[0]]} {v[1][1:]}th pct.", d, r.fallen[v]))
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
            for r in sweep_rows:
                xs, ys = r.side.series
                ax.plot(xs, ys, color=COLOURS[r.mode], marker="o", ms=3.5, lw=1.8, zorder=3,
                        ls="-" if r.mode == "equilibrium" else "--",
                        label=f"{MODE_TITLES[r.mode]}: {r.verdict}")
                ok, off = _whisker(r)
                if ok and math.isfinite(r.delta):
                    lo, hi = min(ok + [r.delta]), max(ok + [r.delta])
                    ax.errorbar([xs[-1]], [r.delta], yerr=[[r.delta - lo], [hi - r.delta]],
                                color=COLOURS[r.mode], capsize=4, lw=1.1, zorder=4)
                notes += [(r.mode, *o) for o in off]
            run = report.runs[(sweep_rows[0].file, sweep_rows[0].mode, None)]
            ax.set_xlabel(_parameter_label(t, run.scenario))
            ths = sorted({round(r.threshold, 6) for r in rows if math.isfinite(r.threshold)})
            for th in ths:          # relative thresholds differ by mode: one band each
                ax.axhspan(-th, th, color="grey", alpha=0.18 if len(ths) == 1 else 0.10, lw=0,
                           zorder=0, label=f"smaller than ±{_f(th, q.unit, False)}: not supported")
            ax.legend(fontsize=7.5, loc="best")
        else:
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
                    ax.text(i, 0, "no answer", ha="center", va="bottom", fontsize=8)
                ok, off = _whisker(r)
                if ok and math.isfinite(r.delta):
                    lo, hi = min(ok + [r.delta]), max(ok + [r.delta])
                    ax.errorbar([i], [r.delta], yerr=[[r.delta - lo], [hi - r.delta]],
                                color="black", capsize=4, lw=1.1, zorder=4)
                notes += [(r.mode, *o) for o in off]
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
    fig.suptitle(f"{c.id} — {c.short}\nequilibrium: {v['equilibrium']} · upright: {v['upright']} · "
                 f"overall: {report.overall[c.id]}", fontsize=11, fontweight="bold")
    fig.text(0.5, 0.005, "Change from the start of the question (sweep: its first point; bars: the "
             "baseline file). Grey band: smaller than the detectable change (not supported). "
             "Whisker: default subject and the one-at-a-time 5th–95th percentile subjects.",
             ha="center", va="bottom", fontsize=7.5, color="#444444", wrap=True)
    fig.tight_layout(rect=(0, 0.035, 1, 1))
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
        print(f"{c.id:4s} equilibrium {v['equilibrium']:14s} upright {v['upright']:14s} "
              f"overall {report.overall[c.id]}")
    print(f"wrote {md} ({report.seconds:.1f} s to solve and judge)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

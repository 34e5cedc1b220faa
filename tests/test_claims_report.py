"""The claims report (scripts/claims_report.py): verdicts come from the rules, not from text.

The report is run on a reduced library (a copy of the files three claims need, sweeps thinned to
three points, the one-at-a-time spread on pelvic incidence only, no upright population run), and
every verdict is checked against the rule functions applied to the computed change. A posture
without an answer gives no Δ (R7): a frozen body that cannot balance on its support is reported
*fallen* and set aside (R5, R6), any other failed solve gives *no answer*. Flipping the sign of
the quantity a claim is judged on must flip its verdict.
"""

import dataclasses
import importlib.util
import math
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from biomech.scenario import load_scenario
from biomech.status import Status

ROOT = Path(__file__).resolve().parents[1]


def _load_script():
    spec = importlib.util.spec_from_file_location("claims_report_script",
                                                  ROOT / "scripts" / "claims_report.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod          # dataclasses look their module up by name
    spec.loader.exec_module(mod)
    return mod


cr = _load_script()

FILES = ("neutral_standing.toml", "psoas_tension_sweep.toml", "psoas_tension_upright.toml",
         "tight_psoas.toml", "lying.toml", "supine_leg_raise.toml",
         "supine_leg_raise_abdominals.toml", "psoas_abdominal_cocontraction.toml",
         "thigh_inclination_sweep.toml", "sway_back.toml", "psoas_vs_abdominals.toml")
CLAIMS = ["C1", "C6", "C12"]


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    folder = tmp_path_factory.mktemp("library")
    for f in FILES:
        shutil.copy(ROOT / "scenarios" / f, folder / f)
    return folder


def _report(library, claims, **kw):
    kw = {"workers": 1, "sweep_points": 3, "spread": ("pelvic_incidence_deg",),
          "upright_subjects": 0, **kw}
    return cr.build_report(scenarios=library, claims=claims, **kw)


@pytest.fixture(scope="module")
def report(library):
    return _report(library, CLAIMS)


# --- the rules ------------------------------------------------------------------------------

def test_verdict_rules():
    assert cr.verdict(5.0, +1, 3.9) == cr.SUPPORTED
    assert cr.verdict(-5.0, +1, 3.9) == cr.CONTRADICTED
    assert cr.verdict(3.0, +1, 3.9) == cr.NOT_SUPPORTED
    assert cr.verdict(-3.0, -1, 3.9) == cr.NOT_SUPPORTED
    assert cr.verdict(-5.0, 0, 3.9) == cr.SUPPORTED            # a change either way
    assert cr.verdict(math.nan, +1, 3.9) == cr.NO_ANSWER
    # R4: both signs over the spread, one beyond the threshold
    assert cr.spread_verdict(cr.SUPPORTED, [5.0, -1.0], +1, 3.9) == cr.DEPENDS
    assert cr.spread_verdict(cr.SUPPORTED, [5.0, 1.0], +1, 3.9) == cr.SUPPORTED
    assert cr.spread_verdict(cr.NOT_SUPPORTED, [1.0, -1.0], +1, 3.9) == cr.NOT_SUPPORTED
    assert cr.spread_verdict(cr.SUPPORTED, [5.0, -5.0], 0, 3.9) == cr.SUPPORTED
    # R5 and R6
    assert cr.combine([cr.SUPPORTED, cr.CONTRADICTED]) == cr.CONTRADICTED
    assert cr.combine([cr.SUPPORTED, cr.NOT_SUPPORTED]) == cr.NOT_SUPPORTED
    assert cr.combine([cr.SUPPORTED, cr.DEPENDS]) == cr.DEPENDS
    assert cr.combine([cr.SUPPORTED, cr.SUPPORTED]) == cr.SUPPORTED
    assert cr.combine([cr.NOT_SUPPORTED, cr.SUPPORTED], "any") == cr.SUPPORTED
    assert cr.combine([cr.CONTRADICTED, cr.NOT_SUPPORTED], "any") == cr.NOT_SUPPORTED
    assert cr.overall({"equilibrium": cr.SUPPORTED, "upright": cr.CONTRADICTED}) == cr.DEPENDS
    assert cr.overall({"equilibrium": cr.SUPPORTED, "upright": cr.NOT_SUPPORTED}) == cr.DEPENDS
    assert cr.overall({"equilibrium": cr.NOT_SUPPORTED, "upright": cr.CONTRADICTED}) == cr.CONTRADICTED
    assert cr.overall({"equilibrium": cr.SUPPORTED, "upright": cr.NOT_ASKED}) == cr.SUPPORTED
    # R7 in R4-R6: a test that fell is set aside, one with no answer decides only if it could
    # not change the verdict
    assert cr.spread_verdict(cr.FALLEN, [5.0, -5.0], +1, 3.9) == cr.FALLEN
    assert cr.spread_verdict(cr.NO_ANSWER, [5.0, -5.0], +1, 3.9) == cr.NO_ANSWER
    assert cr.combine([cr.FALLEN, cr.FALLEN]) == cr.FALLEN
    assert cr.combine([cr.FALLEN, cr.SUPPORTED]) == cr.SUPPORTED
    assert cr.combine([cr.FALLEN, cr.NOT_SUPPORTED], "any") == cr.NOT_SUPPORTED
    assert cr.combine([cr.NO_ANSWER, cr.FALLEN]) == cr.NO_ANSWER
    assert cr.combine([cr.NO_ANSWER, cr.SUPPORTED]) == cr.NO_ANSWER
    assert cr.combine([cr.NO_ANSWER, cr.NOT_SUPPORTED]) == cr.NO_ANSWER     # could be contradicted
    assert cr.combine([cr.NO_ANSWER, cr.CONTRADICTED]) == cr.CONTRADICTED   # whatever it would say
    assert cr.combine([cr.NO_ANSWER, cr.SUPPORTED], "any") == cr.SUPPORTED
    assert cr.combine([cr.NO_ANSWER, cr.DEPENDS], "any") == cr.NO_ANSWER
    assert cr.combine([cr.NOT_ASKED]) == cr.NOT_ASKED
    fell_eq = {"equilibrium": cr.FALLEN, "upright": cr.NOT_SUPPORTED}
    assert cr.overall(fell_eq) == cr.NOT_SUPPORTED and cr.counted_modes(fell_eq) == ("upright",)
    assert cr.overall({"equilibrium": cr.FALLEN, "upright": cr.FALLEN}) == cr.FALLEN
    assert cr.overall({"equilibrium": cr.NO_ANSWER, "upright": cr.SUPPORTED}) == cr.NO_ANSWER
    assert cr.overall({"equilibrium": cr.NO_ANSWER, "upright": cr.DEPENDS}) == cr.DEPENDS


def _point(code, mode="equilibrium", message=""):
    """A stand-in for a solved point (runner.PointResult) with the status code given."""
    return SimpleNamespace(result=SimpleNamespace(success=code == Status.SOLVED, code=code,
                                                  message=message),
                           scenario=SimpleNamespace(mode=mode, name="x",
                                                    support=SimpleNamespace(kind="standing")),
                           report=None, values=())


def test_a_frozen_body_that_falls_is_reported_fallen_and_any_other_failure_no_answer():
    msg = ("no balance on the support: the body tips backward over the heels (the centre of "
           "pressure is outside the foot; the support would have to pull with 12 N)")
    test = cr.CLAIMS[0].tests[1]
    ok = _point(Status.SOLVED)
    for end, outcome in ((_point(Status.FALLEN, "equilibrium", msg), cr.FALLEN),
                         (_point(Status.FALLEN, "upright", msg), cr.NO_ANSWER),   # a failed search
                         (_point(Status.COLLAPSED, "equilibrium", "no equilibrium"), cr.NO_ANSWER)):
        delta, _start, threshold, message, how = cr.evaluate(cr.Side(ok, end, end.scenario), test)
        assert math.isnan(delta) and math.isnan(threshold) and message == end.result.message
        assert how == outcome
    assert cr._why(msg, cr.FALLEN) == "fallen: tips backward over the heels"
    assert cr._why("no equilibrium within the physiological range: hip", cr.NO_ANSWER) == \
        "no equilibrium within the physiological range"


def test_a_grid_corner_is_named_by_min_and_max():
    pts = [SimpleNamespace(values=v) for v in ((30.0, 7.0), (30.0, 200.0), (400.0, 7.0), (400.0, 200.0))]
    run = SimpleNamespace(points=pts, scenario=SimpleNamespace(
        name="g", sweep=SimpleNamespace(parameters=(cr.PSOAS, cr.RECTUS))))
    assert cr._select(run, {cr.PSOAS: "max", cr.RECTUS: "min"}, 0) is pts[2]
    assert cr._select(run, {cr.PSOAS: "min", cr.RECTUS: 200.0}, 0) is pts[1]
    assert cr._select(run, None, -1) is pts[-1]
    with pytest.raises(KeyError):
        cr._select(run, {cr.PSOAS: 1.0, cr.RECTUS: "min"}, 0)


def test_rules_section_is_written_from_the_rule_data_alone():
    text = "\n".join(cr.rules_markdown())          # no result is passed: none can enter it
    for th in cr.THRESHOLDS.values():
        assert th.text() in text
    for key, _ in cr.RULES:
        assert f"**{key}.**" in text
    assert cr.RULES_HISTORY in text                 # how and when the rules were fixed
    for mode in cr.MODES:
        assert cr.MODE_MEANING[mode] in text
    assert "trunk inclination 0°" not in text       # the old upright mode's target


def test_every_claim_of_the_projects_list_is_mapped():
    wording = cr.read_wording()
    assert set(wording) == {f"C{i}" for i in range(1, 13)}
    assert {c.source for c in cr.CLAIMS} == set(wording)
    for c in cr.CLAIMS:
        assert c.tests and c.combine in ("all", "any")
        for t in c.tests:
            assert t.quantity in cr.QUANTITIES and t.expected in (-1, 0, 1)
            for f in (*t.files, t.baseline):
                assert f is None or (ROOT / "scenarios" / f).exists(), f
        assert all(k in cr.LIMITATIONS for k in c.limitations)


# --- scenarios written in code --------------------------------------------------------------

@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.toml")), ids=lambda p: p.name)
def test_a_library_file_written_back_loads_to_the_same_scenario(path, tmp_path):
    sc = load_scenario(path)
    out = tmp_path / "copy.toml"
    out.write_text(cr.to_toml(sc.document), encoding="utf-8")
    back = load_scenario(out)
    assert back.document == sc.document
    assert dataclasses.replace(back, path=sc.path) == sc


def test_thin_sweep_keeps_the_ends():
    assert cr.thin_sweep({"a": {"start": 0.0, "stop": 8.0, "num": 17}}, 3) == \
        {"a": {"start": 0.0, "stop": 8.0, "num": 3}}
    assert cr.thin_sweep({"a": [0.0, 1.0, 2.0, 3.0, 4.0], "b": [5.0, 6.0, 7.0, 8.0, 9.0]}, 3) == \
        {"a": [0.0, 2.0, 4.0], "b": [5.0, 7.0, 9.0]}
    grid = {"grid": True, "a": [0.0, 1.0, 2.0, 3.0]}
    assert cr.thin_sweep(grid, 2) == grid


def test_a_mode_set_in_code_changes_only_the_mode(library, tmp_path):
    lib = cr.Library(library, tmp_path)
    eq = lib.scenario("tight_psoas.toml", "equilibrium")
    up = lib.scenario("tight_psoas.toml", "upright")
    assert eq.mode == "equilibrium" and up.mode == "upright" and up.upright is not None
    assert up.muscles == eq.muscles and up.subject == eq.subject and up.support == eq.support
    # a file in the default (upright) mode, put to the frozen-tone experiment
    base = lib.scenario("neutral_standing.toml", "upright")
    frozen = lib.scenario("neutral_standing.toml", "equilibrium")
    assert base.mode == "upright" and frozen.mode == "equilibrium" and frozen.upright is None
    assert "upright" not in frozen.document
    assert frozen.subject == base.subject and frozen.support == base.support


def test_a_file_put_to_the_upright_mode_keeps_its_thigh_as_a_target(library, tmp_path):
    """In the upright mode the support's thigh inclination is only where the solve starts: the
    person keeps it as a target (with the gaze level), and a swept one is swept as the target."""
    lib = cr.Library(library, tmp_path)
    eq = lib.scenario("thigh_inclination_sweep.toml", "equilibrium")
    up = lib.scenario("thigh_inclination_sweep.toml", "upright")
    assert eq.sweep.parameters == ("support.thigh_inclination_deg",)
    assert up.sweep.parameters == ("upright.thigh_inclination_deg", "support.thigh_inclination_deg")
    assert [v[0] for v in up.sweep.values] == [v[1] for v in up.sweep.values] == \
        [v[0] for v in eq.sweep.values]
    assert up.muscles == eq.muscles and up.subject == eq.subject
    sway = lib.scenario("sway_back.toml", "upright")
    assert sway.upright.kept(sway.support) == {"head_angle_deg": 0.0, "thigh_inclination_deg": -10.0}
    supine = lib.scenario("supine_leg_raise.toml", "upright")     # lying: no gaze target
    assert supine.upright.kept(supine.support) == {"thigh_inclination_deg": 30.0,
                                                   "knee_flexion_deg": 0.0}
    # a file with no entry in UPRIGHT_KEEPS keeps only the default target
    plain = lib.scenario("tight_psoas.toml", "upright")
    assert plain.upright.kept(plain.support) == {"head_angle_deg": 0.0}


def test_the_frozen_pull_sweeps_start_at_the_relaxed_tone():
    """R1: the library's equilibrium sweeps of a pull start at relaxed standing, not at 0 N
    (which would take away the tone the experiment holds the muscle at)."""
    for name, keys in (("psoas_tension_sweep.toml", (cr.PSOAS,)),
                       ("psoas_vs_abdominals.toml", (cr.PSOAS, cr.RECTUS)),
                       ("psoas_abdominal_cocontraction.toml", (cr.PSOAS, cr.RECTUS))):
        sc = load_scenario(ROOT / "scenarios" / name)
        assert sc.mode == "equilibrium"
        first = dict(zip(sc.sweep.parameters, min(sc.sweep.values)))
        for k in keys:
            assert first[k] > 0.0, (name, k)


# --- the report -----------------------------------------------------------------------------

def test_every_claim_has_a_verdict_from_the_rules(report):
    assert [c.id for c in report.claims] == CLAIMS
    answered = 0
    for c in report.claims:
        assert report.overall[c.id] in (*cr.VERDICTS, cr.NO_ANSWER, cr.FALLEN)
        for mode in cr.MODES:
            v = report.by_mode[c.id][mode]
            assert v in (*cr.VERDICTS, cr.NO_ANSWER, cr.FALLEN) or (v == cr.NOT_ASKED and mode in c.not_asked)
        rows = report.results[c.id]
        assert rows
        for r in rows:
            if not math.isfinite(r.delta):
                # R7: no posture, no Δ; the report says why, and names a frozen body that fell
                assert r.default_verdict == r.verdict and r.message
                fell = [pt for pt in (r.side.start, r.side.end) if not pt.result.success]
                assert fell
                if r.mode == "equilibrium" and all(pt.result.code == Status.FALLEN for pt in fell):
                    assert r.verdict == cr.FALLEN
                else:
                    assert r.verdict == cr.NO_ANSWER
                continue
            answered += 1
            assert r.default_verdict == cr.verdict(r.delta, r.test.expected, r.threshold)
            values = [r.delta, *r.spread.values()]
            assert r.verdict == cr.spread_verdict(r.default_verdict, values, r.test.expected,
                                                  r.threshold)
            assert set(r.spread) == {("pelvic_incidence_deg", "p5"), ("pelvic_incidence_deg", "p95")}
        for mode in cr.MODES:
            mine = [r.verdict for r in rows if r.mode == mode]
            if mine:
                assert report.by_mode[c.id][mode] == cr.combine(mine, c.combine)
        assert report.overall[c.id] == cr.overall(report.by_mode[c.id])
        assert report.basis(c.id) == tuple(m for m in cr.MODES if report.by_mode[c.id][m]
                                           not in (cr.NOT_ASKED, cr.FALLEN))
    assert answered >= 6                         # the rules were applied to computed changes
    # R1: the frozen psoas sweep starts at relaxed standing (the psoas at its tone), so it has
    # an answer, and its start is the frozen relaxed standing posture
    sweep = next(r for r in report.results["C1"] if r.index == 0 and r.mode == "equilibrium")
    relaxed = report.runs[("neutral_standing.toml", "equilibrium", None)].points[0]
    assert math.isfinite(sweep.delta)
    assert sweep.start_value == pytest.approx(relaxed.report.metrics["lumbar_lordosis_deg"], abs=0.1)
    assert "30 → 800 N" in sweep.side.dose_text
    # C12 is asked in the upright mode now that lying is upright, the legs kept where the file
    # puts them
    assert report.by_mode["C12"]["upright"] != cr.NOT_ASKED and not cr.CLAIMS[-1].not_asked
    up = report.runs[("supine_leg_raise.toml", "upright", None)].scenario
    assert up.upright.kept(up.support) == {"thigh_inclination_deg": 30.0, "knee_flexion_deg": 0.0}
    # C1 is put to both modes: the library's upright file, and tight_psoas.toml with the mode set
    c1 = {(r.file, r.mode): r.as_in_library for r in report.results["C1"]}
    assert c1[("psoas_tension_upright.toml", "upright")] is True
    assert c1[("tight_psoas.toml", "upright")] is False
    assert c1[("tight_psoas.toml", "equilibrium")] is True
    # the library's files in the default mode are put to the equilibrium mode in code
    c6 = {(r.file, r.mode): r.as_in_library for r in report.results["C6"]}
    assert c6[("psoas_abdominal_cocontraction.toml", "equilibrium")] is True
    assert c6[("psoas_abdominal_cocontraction.toml", "upright")] is False


def test_the_report_files(report, tmp_path):
    md = cr.write_outputs(report, tmp_path, dpi=40)
    text = md.read_text(encoding="utf-8")
    assert text.index("## Summary") < text.index("## Rules") < text.index("## C1") < text.index("## C12")
    assert "generated" in text.splitlines()[2]
    for c in report.claims:
        png = tmp_path / "claims" / f"{c.id}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"](claims/{c.id}.png)" in text
    assert (tmp_path / "claims" / "summary.png").stat().st_size > 1000
    for c in report.claims:                          # a fallen mode is named, never hidden
        for r in report.results[c.id]:
            if r.verdict == cr.FALLEN:
                assert "*fallen*" in text and cr._missing(r) in text
        if len(report.basis(c.id)) == 1 and report.overall[c.id] in cr.VERDICTS:
            assert f"resting on the {report.basis(c.id)[0]} mode alone" in text


def test_the_verdict_follows_the_computed_answer(library, report, monkeypatch):
    """Flip the sign of the L4/L5 compression the report reads: C6's "co-contraction compresses
    L4/L5", put to the upright mode, goes from supported to contradicted, and so does the claim
    in that mode."""
    before = next(r for r in report.results["C6"] if r.index == 0 and r.mode == "upright")
    assert before.verdict == cr.SUPPORTED and before.delta > 0
    c = cr.QUANTITIES["C_L4L5"]
    monkeypatch.setitem(cr.QUANTITIES, "C_L4L5", dataclasses.replace(
        c, value=lambda rep, model: -c.value(rep, model)))
    flipped = _report(library, ["C6"], spread=False)
    after = next(r for r in flipped.results["C6"] if r.index == 0 and r.mode == "upright")
    assert after.delta == pytest.approx(-before.delta)
    assert after.verdict == cr.CONTRADICTED
    assert flipped.by_mode["C6"]["upright"] == cr.CONTRADICTED != report.by_mode["C6"]["upright"]
    assert flipped.overall["C6"] == cr.overall(flipped.by_mode["C6"])
    # the other test of the claim is not touched
    other = next(r for r in flipped.results["C6"] if r.index == 1 and r.mode == "upright")
    assert other.verdict == next(r for r in report.results["C6"]
                                 if r.index == 1 and r.mode == "upright").verdict


def test_command_line(library, tmp_path):
    assert cr.main(["--out", str(tmp_path), "--scenarios", str(library), "--claims", "C12",
                    "--no-spread", "--upright-subjects", "0", "--workers", "1", "--dpi", "40"]) == 0
    assert (tmp_path / "claims.md").exists() and (tmp_path / "claims" / "C12.png").exists()
    assert cr.main(["--out", str(tmp_path), "--claims", "C99"]) == 2
    assert cr.main(["--out", str(tmp_path), "--sweep-points", "1"]) == 2

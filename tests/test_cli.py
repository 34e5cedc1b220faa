import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from biomech.names import BODIES, JOINTS, MUSCLE_GROUPS

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "scenarios"


def biomech(*args, cwd=None):
    # as a user runs it: a separate process, `python -m biomech` (the console script is the same main)
    return subprocess.run([sys.executable, "-m", "biomech", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=300)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


MINIMAL = """
[scenario]
name = "{name}"
description = "A test posture."
"""


def test_help_of_every_subcommand_has_an_example():
    top = biomech("--help")
    assert top.returncode == 0 and "run" in top.stdout and "compare" in top.stdout
    for sub in ("run", "check", "list", "compare", "model", "export"):
        out = biomech(sub, "--help")
        assert out.returncode == 0, sub
        assert "example" in out.stdout, sub


def test_console_script_is_installed():
    out = subprocess.run(["biomech", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("biomech ")


def test_run_writes_the_three_outputs_and_a_table(tmp_path):
    # needs the figures (posture.png)
    out = biomech("run", LIB / "neutral_standing.toml", "--out", tmp_path)
    assert out.returncode == 0, out.stderr
    folder = tmp_path / "neutral-standing"
    for name in ("result.json", "metrics.csv", "posture.png"):
        assert (folder / name).stat().st_size > 100, name
    assert (folder / "posture.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "neutral-standing" in out.stdout and "ok" in out.stdout
    doc = json.loads((folder / "result.json").read_text())
    # the library's base file is in the default (upright) mode: solved; its static stability is
    # reported, not required (the posture is held actively), and the table marks it
    assert doc["scenario"]["mode"] == "upright"
    assert doc["status"]["code"] == "solved" and doc["status"]["converged"]
    assert doc["status"]["stable"] or ("†" in out.stdout and "active control" in out.stdout)
    assert doc["metrics"]["head_angle_deg"] == pytest.approx(0.0, abs=1e-4)     # gaze level
    assert not list(folder.glob(".*"))          # no temporary file left behind
    assert (folder / "result.json").stat().st_mode & 0o044  # readable by others, like any file


def test_json_flag_prints_exactly_one_document(tmp_path):
    one = biomech("run", LIB / "neutral_standing.toml", "--out", tmp_path, "--json", "--no-plots")
    assert one.returncode == 0, one.stderr
    doc = json.loads(one.stdout)                # the whole stdout is one JSON document
    assert doc["scenario"]["name"] == "neutral-standing"
    two = biomech("run", LIB / "neutral_standing.toml", LIB / "tight_psoas.toml", "--out", tmp_path,
                  "--json", "--no-plots")
    docs = json.loads(two.stdout)
    assert isinstance(docs, list) and [d["scenario"]["name"] for d in docs] == ["neutral-standing", "tight-psoas"]


def test_sweep_outputs_one_csv_row_per_point_and_a_sweep_figure(tmp_path):
    f = write(tmp_path / "s.toml", MINIMAL.format(name="small-sweep") + """
[muscles.psoas]
tension_N = 0.0
[sweep]
"muscles.psoas.tension_N" = [0.0, 150.0, 300.0]
""")
    out = biomech("run", f, "--out", tmp_path / "res")              # needs the figures
    assert out.returncode == 0, out.stderr
    folder = tmp_path / "res" / "small-sweep"
    rows = list(csv.DictReader((folder / "metrics.csv").open()))
    assert [float(r["muscles.psoas.tension_N"]) for r in rows] == [0.0, 150.0, 300.0]
    assert {"lumbar_lordosis_deg", "psoas_force_N", "L4_L5_compression_N", "L5_S1_shear_N",
            "segmental_lordosis_L5_S1_deg"} <= set(rows[0])
    assert abs(float(rows[2]["psoas_force_N"]) - 300.0) < 1e-6
    assert (folder / "sweep.png").stat().st_size > 10_000
    doc = json.loads((folder / "result.json").read_text())
    assert doc["sweep"]["parameters"] == ["muscles.psoas.tension_N"]
    assert doc["sweep"]["values"] == [[0.0], [150.0], [300.0]] and len(doc["points"]) == 3
    assert doc["scenario"]["mode"] == "upright"                      # the default mode
    assert all(p["status"]["code"] == "solved" for p in doc["points"])


@pytest.mark.parametrize("text, expect", [
    ('[scenario]\nname = "x"\ndescription = "d"\n[muscles.psoas]\ntenson_N = 3.0\n', "tension_N"),
    ('[scenario]\nname = "x"\ndescription = "d"\n[subject]\nbody_mass_kg = -75.0\n', "body_mass_kg"),
    ('[scenario]\nname = "x"\ndescription = "d"\n[muscles.psoas_majr]\ntension_N = 3.0\n', "psoas"),
    ('[scenario]\nname = "x"\ndescription = "d"\n[support\n', "line"),
    ('[scenario]\nname = "x"\ndescription = "d"\n[upright]\ntissue_weight = 20\n', "0 to 10"),
    ('[scenario]\nname = "x"\ndescription = "d"\n[support]\nkind = "sitting"\n'
     'backrest_inclination = 10\n', "did you mean `backrest_inclination_deg`"),
    ('[scenario]\nname = "x"\ndescription = "d"\nmode = "equilibrium"\n[upright]\n'
     'head_angle_deg = 0\n', 'mode is "equilibrium"'),
])
def test_bad_input_exits_2_with_one_paragraph_and_writes_nothing(tmp_path, text, expect):
    f = write(tmp_path / "bad.toml", text)
    out_dir = tmp_path / "res"
    for cmd in ("run", "check"):
        res = biomech(cmd, f, "--out", out_dir) if cmd == "run" else biomech(cmd, f)
        assert res.returncode == 2, (cmd, res.stdout, res.stderr)
        assert "Traceback" not in res.stderr and str(f.name) in res.stderr and expect in res.stderr
        assert res.stdout == "" or cmd == "check"
    assert not out_dir.exists()


def test_one_bad_file_among_good_ones_writes_nothing(tmp_path):
    good = write(tmp_path / "good.toml", MINIMAL.format(name="good"))
    bad = write(tmp_path / "bad.toml", MINIMAL.format(name="bad") + "[solver]\nmax_iterations = 0\n")
    res = biomech("run", good, bad, "--out", tmp_path / "res")
    assert res.returncode == 2 and "max_iterations" in res.stderr
    assert not (tmp_path / "res").exists()


def test_missing_file_is_bad_input(tmp_path):
    res = biomech("run", tmp_path / "nope.toml")
    assert res.returncode == 2 and "nope.toml" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("name, extra, code", [
    # the frozen-tone experiment without the muscles' stretch response: the osteoligamentous
    # spine cannot carry the trunk stably
    ("floppy", 'mode = "equilibrium"\n[solver]\nshort_range_stiffness = 0.0\n', "unstable"),
    # upright, a load no muscle can hold: a shortfall, no hidden reserve actuator
    ("heavy", '[[loads]]\nbody = "thorax_upper"\npoint_m = [0.4, 0.5]\nmass_kg = 200\n', "shortfall"),
], ids=["floppy-equilibrium", "heavy-upright"])
def test_unsolvable_posture_exits_1_and_still_writes_its_status(tmp_path, name, extra, code):
    f = write(tmp_path / f"{name}.toml", MINIMAL.format(name=name) + extra)
    res = biomech("run", f, "--out", tmp_path / "res", "--no-plots")
    assert res.returncode == 1, res.stderr
    doc = json.loads((tmp_path / "res" / name / "result.json").read_text())
    assert doc["status"]["code"] == code
    assert not (doc["status"]["converged"] and doc["status"]["stable"])
    assert doc["status"]["message"]
    assert "!" in res.stdout                    # the table says why


def test_without_muscle_stiffness_the_upright_mode_still_holds_the_posture(tmp_path):
    # the stretch response is the frozen-tone experiment's: the upright mode recruits the muscles
    f = write(tmp_path / "u.toml", MINIMAL.format(name="u") + "[solver]\nshort_range_stiffness = 0.0\n")
    res = biomech("run", f, "--out", tmp_path / "res", "--no-plots")
    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads((tmp_path / "res" / "u" / "result.json").read_text())["status"]["code"] == "solved"


def test_a_body_that_tips_over_its_feet_exits_1_as_fallen(tmp_path):
    # sway_back.toml holds the ankles and knees with the thigh 10° back: the frozen body's centre
    # of pressure leaves the foot (biomech/balance.py)
    res = biomech("run", LIB / "sway_back.toml", "--out", tmp_path, "--no-plots")
    assert res.returncode == 1, res.stderr
    doc = json.loads((tmp_path / "sway-back" / "result.json").read_text())
    assert doc["scenario"]["mode"] == "equilibrium"
    assert doc["status"]["code"] == "fallen" and not doc["status"]["converged"]
    assert "tips" in doc["status"]["message"] and "!" in res.stdout and "FALLEN" in res.stdout


def test_check_and_list(tmp_path):
    res = biomech("check", LIB)
    assert res.returncode == 0 and res.stdout.count("ok ") == len(list(LIB.glob("*.toml")))
    res = biomech("list", LIB)
    assert res.returncode == 0 and "tight_psoas.toml" in res.stdout and "?" in res.stdout
    res = biomech("list", tmp_path / "nowhere")
    assert res.returncode == 2


def test_compare_prints_differences_and_writes_an_overlay(tmp_path):
    # needs the figures (the overlay)
    res = biomech("compare", LIB / "neutral_standing.toml", LIB / "tight_psoas.toml", "--out", tmp_path)
    assert res.returncode == 0, res.stderr
    assert "pelvic_tilt_deg" in res.stdout and "Δ tight-psoas" in res.stdout
    stem = "compare_neutral-standing_vs_tight-psoas"
    assert sorted(p.name for p in tmp_path.glob("compare_*.png")) == [f"{stem}.png",
                                                                      f"{stem}_side_by_side.png"]
    assert "side by side: " in res.stdout
    res = biomech("compare", LIB / "neutral_standing.toml", LIB / "tight_psoas.toml", "--json", "--no-plots")
    table = json.loads(res.stdout)
    assert table["scenarios"] == ["neutral-standing", "tight-psoas"]
    res = biomech("compare", LIB / "psoas_tension_sweep.toml", LIB / "tight_psoas.toml", "--no-plots")
    assert res.returncode == 2 and "sweep" in res.stderr


def test_compare_solves_in_its_own_process_unless_told(monkeypatch, capsys):
    """A comparison's few single postures solve sooner here than worker processes start
    (README "All cores"): compare asks for 1 worker by default, for what --workers says else."""
    from biomech import cli, runner
    asked = []
    real = runner.run_scenarios

    def spy(scenarios, *, workers=1, dask=None, progress=None):
        asked.append(workers)
        return real(scenarios, workers=1)
    monkeypatch.setattr(runner, "run_scenarios", spy)
    files = [str(LIB / "neutral_standing.toml"), str(LIB / "tight_psoas.toml")]
    assert cli.main(["compare", *files, "--no-plots"]) == 0
    assert cli.main(["compare", *files, "--no-plots", "--workers", "2"]) == 0
    assert asked == [1, 2]
    capsys.readouterr()


def test_model_description_lists_everything_with_sources():
    res = biomech("model", "--json")
    assert res.returncode == 0
    desc = json.loads(res.stdout)
    assert list(desc["bodies"]) == list(BODIES) and list(desc["joints"]) == list(JOINTS)
    assert len(desc["muscles"]) >= 100
    assert {m["group"] for m in desc["muscles"].values()} == set(MUSCLE_GROUPS)
    assert all(m["parameter_source"] for m in desc["muscles"].values())
    assert {"christophy_skeleton", "myotorso", "gait2392"} <= set(desc["sources"])
    cav = desc["abdomen"]                         # the cavity's parameters (docs/model.md §6a)
    assert (cav["floor"]["body"], cav["roof"]["body"]) == ("pelvis", "thorax_lower") and cav["sources"]
    assert cav["pressure_per_tension_Pa_per_N"] == pytest.approx(
        1.0 / (2 * cav["hoop_radius_m"] * cav["wall_height_m"]), rel=1e-12)
    text = biomech("model")
    assert text.returncode == 0 and "psoas_L1_VB" in text.stdout and "abdominal cavity" in text.stdout


def test_a_target_combination_file_runs_and_reaches_its_targets(tmp_path):
    f = write(tmp_path / "lean.toml", MINIMAL.format(name="lean") + """
[upright]
head_angle_deg = 0.0
trunk_inclination_deg = 8.0
sagittal_vertical_axis_mm = 40.0
""")
    res = biomech("run", f, "--out", tmp_path / "res", "--no-plots", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert doc["scenario"]["mode"] == "upright" and doc["status"]["code"] == "solved"
    m = doc["metrics"]
    assert m["head_angle_deg"] == pytest.approx(0.0, abs=1e-4)
    assert m["trunk_inclination_deg"] == pytest.approx(8.0, abs=1e-4)
    assert m["sagittal_vertical_axis_mm"] == pytest.approx(40.0, abs=1e-3)
    assert json.loads((tmp_path / "res" / "lean" / "result.json").read_text())["metrics"] == m


def test_a_backrest_file_runs_and_the_backrest_carries_the_back(tmp_path):
    f = write(tmp_path / "chair.toml", MINIMAL.format(name="chair")
              + '[support]\nkind = "sitting"\nbackrest_inclination_deg = 20.0\n')
    res = biomech("run", f, "--out", tmp_path / "res", "--no-plots", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    support = json.loads(res.stdout)["support"]
    assert support["backrest_inclination_deg"] == 20.0
    assert any(c["name"] == "backrest" and c["force_N"] != [0.0, 0.0] for c in support["contacts"])

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from biomech.runner import model_for, run_scenario, solve_point
from biomech.scenario import load_scenario, sweep_points

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "scenarios").glob("*.toml"))

# conventions §5: every key a consumer may rely on
TOP = {"biomech_version", "scenario", "status", "metrics", "bodies", "joints", "muscles",
       "external_loads", "gravity_m_s2"}
STATUS = {"code", "converged", "stable", "message", "max_residual_Nm", "iterations"}
METRICS = {"pelvic_incidence_deg", "sacral_slope_deg", "pelvic_tilt_deg", "lumbar_lordosis_deg",
           "segmental_lordosis_deg", "anterior_pelvic_tilt_deg", "hip_flexion_deg",
           "trunk_inclination_deg", "sagittal_vertical_axis_mm"}
JOINT = {"inferior", "superior", "center_m", "angle_deg", "passive_moment_Nm", "reaction_force_N", "compression_N", "shear_N"}
MUSCLE = {"group", "force_N", "activation", "length_m", "max_isometric_force_N", "path", "moment_arms_m"}


@pytest.fixture(scope="module")
def library_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    res = subprocess.run([sys.executable, "-m", "biomech", "run", str(ROOT / "scenarios"), "--out", str(out),
                          "--json"], capture_output=True, text=True, timeout=600)
    return res, out


def test_library_has_the_scenarios_the_issue_asks_for():
    names = {f.stem for f in FILES}
    assert {"neutral_standing", "psoas_tension_sweep", "tight_psoas", "long_weak_psoas", "tight_hamstrings",
            "abdominal_bracing", "psoas_abdominal_cocontraction", "sway_back", "stooped", "pregnancy_load",
            "sitting", "lying"} <= names
    readme = (ROOT / "scenarios" / "README.md").read_text()
    for f in FILES:
        assert f"`{f.name}`" in readme, f"{f.name} missing from scenarios/README.md"


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_every_library_file_loads(path):
    sc = load_scenario(path)
    assert sc.description and sc.name
    assert path.read_text().lstrip().startswith("#"), "library files open with a comment"


def test_whole_library_runs_with_exit_code_0(library_run):
    res, out = library_run
    assert res.returncode == 0, res.stderr[-2000:]
    docs = json.loads(res.stdout)
    assert len(docs) == len(FILES)
    for doc in docs:
        folder = out / doc["scenario"]["name"]
        assert (folder / "result.json").exists() and (folder / "metrics.csv").exists()
        assert (folder / "posture.png").stat().st_size > 10_000
        points = doc["points"] if "sweep" in doc else [doc]
        if "sweep" in doc:
            assert (folder / "sweep.png").stat().st_size > 10_000
            assert len(doc["sweep"]["values"]) == len(points)
        for p in points:
            assert p["status"]["converged"], (doc["scenario"], p["status"])
            if doc["scenario"]["mode"] == "equilibrium":   # held passively: must be stable
                assert p["status"]["stable"], (doc["scenario"], p["status"])
            else:                                          # held actively: stability reported
                assert isinstance(p["status"]["stable"], bool) and "recruitment" in p
            assert p["status"]["max_residual_Nm"] < 1e-6


def test_json_document_has_every_key_of_the_contract(library_run):
    res, _ = library_run
    docs = {d["scenario"]["name"]: d for d in json.loads(res.stdout)}
    single = docs["pregnancy-load"]
    assert TOP <= set(single)
    assert set(single["scenario"]) == {"name", "file", "mode"}
    assert STATUS <= set(single["status"])
    assert METRICS <= set(single["metrics"])
    assert set(single["metrics"]["segmental_lordosis_deg"]) == {"L1_L2", "L2_L3", "L3_L4", "L4_L5", "L5_S1"}
    assert set(single["bodies"]) == {"femur", "pelvis", "L5", "L4", "L3", "L2", "L1", "thorax"}
    for b in single["bodies"].values():
        assert set(b) == {"mass_kg", "com_m"} and len(b["com_m"]) == 2
    assert set(single["joints"]) == {"hip", "L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2", "T12_L1"}
    for j in single["joints"].values():
        assert JOINT <= set(j) and len(j["reaction_force_N"]) == 2
    for name, m in single["muscles"].items():
        assert MUSCLE <= set(m), name
        assert all(set(pt) == {"body", "point_m", "lateral_m"} for pt in m["path"])
        assert m["moment_arms_m"], name
    assert single["external_loads"][0]["body"] == "L3" and len(single["external_loads"][0]["force_N"]) == 2
    assert single["gravity_m_s2"] == [0.0, -9.81]
    for c in single["support"]["contacts"]:
        assert {"body", "point_m", "force_N", "moment_Nm"} <= set(c)
    sweep = docs["psoas-tension-sweep"]
    assert {"biomech_version", "scenario", "sweep", "points"} <= set(sweep)
    assert "biomech_version" not in sweep["points"][0] and TOP - {"biomech_version"} <= set(sweep["points"][0])


@pytest.mark.parametrize("name", ["psoas_tension_sweep.toml", "psoas_vs_abdominals.toml",
                                  "thigh_inclination_sweep.toml"])
def test_sweep_points_equal_the_same_scenarios_run_one_by_one(name):
    sc = load_scenario(ROOT / "scenarios" / name)
    run = run_scenario(sc)                       # warm-started continuation along the sweep
    for pt, concrete in zip(run.points, sweep_points(sc)):
        alone = solve_point(concrete, model_for(concrete))   # from the reference posture
        assert alone.success and pt.result.success
        np.testing.assert_allclose(pt.result.q, alone.q, atol=1e-7)

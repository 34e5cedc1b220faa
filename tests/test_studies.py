"""The psoas-effect unit of work (biomech/studies.py) and the population and sensitivity scripts."""

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import biomech as bm
from biomech.errors import BiomechError
from biomech.studies import EFFECT_METRICS, StudySubject, psoas_effect

ROOT = Path(__file__).resolve().parents[1]


def _load_script(name):
    spec = importlib.util.spec_from_file_location(f"{name}_script", ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod          # dataclasses look their module up by name
    spec.loader.exec_module(mod)
    return mod


population = _load_script("population")
sensitivity = _load_script("sensitivity")


# --- psoas_effect ----------------------------------------------------------------------------

def test_psoas_effect_default_subject_succeeds():
    r = psoas_effect(StudySubject())
    assert r["success"] and r["message"] == "solved"
    for k in EFFECT_METRICS:
        assert math.isfinite(r[k]) and math.isfinite(r[f"{k}_per_100N"])
    # the reference posture is relaxed standing itself (calibrated PT 13°, LL 61°)
    assert r["pelvic_tilt_deg"] == pytest.approx(13.0, abs=0.05)
    assert r["lumbar_lordosis_deg"] == pytest.approx(61.0, abs=0.05)


def test_psoas_effect_equals_a_direct_computation(model):
    """Identity: the same numbers from the public API, step by step."""
    tension = 200.0
    standing = bm.Support("standing")
    relaxed = bm.solve_equilibrium(model, support=standing)
    lines = model.group_lines("psoas")
    f0 = bm.posture_report(relaxed).muscle_force[lines]
    f_max = np.asarray(model.max_isometric_force)[lines]
    metrics = []
    q0 = relaxed.q                        # continuation: relaxed standing, then the reference
    for extra in (0.0, tension):
        settings = {model.muscle_names[i]: bm.MuscleSetting(tension_N=float(f + extra * fm / f_max.sum()))
                    for i, f, fm in zip(lines, f0, f_max)}
        res = bm.solve_equilibrium(problem=bm.prepare(model, support=standing, settings=settings), q0=q0)
        assert res.success
        metrics.append(bm.posture_report(res).metrics)
        q0 = res.q
    r = psoas_effect(StudySubject(tension_N=tension))
    for k in EFFECT_METRICS:
        assert r[k] == pytest.approx(metrics[0][k], abs=1e-9)
        assert r[f"{k}_per_100N"] == pytest.approx((metrics[1][k] - metrics[0][k]) / 2.0, abs=1e-9)
    # the psoas pulls the lumbar spine into less lordosis in this model (docs/validation.md §6)
    assert r["lumbar_lordosis_deg_per_100N"] < 0


def test_psoas_effect_in_the_upright_mode_succeeds():
    r = psoas_effect(StudySubject(mode="upright"))
    assert r["success"] and r["message"] == "solved"
    for k in EFFECT_METRICS:
        assert math.isfinite(r[k]) and math.isfinite(r[f"{k}_per_100N"])
    # PI = PT + SS: the two effects cancel
    assert r["pelvic_tilt_deg_per_100N"] == pytest.approx(-r["sacral_slope_deg_per_100N"], abs=1e-9)


def _upright_direct(model, tension):
    """The psoas effect as the scenario's upright mode computes it (runner.solve_point): every
    joint free, the default targets."""
    from biomech.upright import UprightTarget, solve_upright
    standing = bm.Support("standing")
    relaxed = bm.prepare(model, support=standing)
    lines = model.group_lines("psoas")
    tone = bm.generalized_forces(relaxed, relaxed.q_ref)["muscle_forces"][lines]
    f_max = np.asarray(model.max_isometric_force)[lines]
    out, q0 = [], None
    for extra in (0.0, tension):
        settings = {model.muscle_names[i]: bm.MuscleSetting(tension_N=float(f + extra * fm / f_max.sum()))
                    for i, f, fm in zip(lines, tone, f_max)}
        res = solve_upright(bm.prepare(model, support=standing, settings=settings, locked_joints=()),
                            UprightTarget(), q0=q0)
        assert res.success, res.message
        out.append(bm.posture_report(res).metrics)
        q0 = res.q
    return out


def test_the_upright_study_is_the_scenarios_upright_mode(model):
    direct = _upright_direct(model, 200.0)
    r = psoas_effect(StudySubject(mode="upright", tension_N=200.0))
    for k in EFFECT_METRICS:
        assert r[k] == pytest.approx(direct[0][k], abs=1e-5)


def test_failed_subject_is_reported_with_nans():
    # without muscle stiffness (q = 0) the osteoligamentous spine cannot carry the trunk
    r = psoas_effect(StudySubject(short_range_stiffness=0.0))
    assert r["success"] is False and r["message"]
    for k in EFFECT_METRICS:
        assert math.isnan(r[k]) and math.isnan(r[f"{k}_per_100N"])


def test_a_batch_of_subjects_gives_each_subject_s_effect_in_order(monkeypatch):
    # studies.psoas_effects solves the equilibrium-mode subjects of one short-range stiffness
    # together (batch.solve_equilibria, stage by stage): each result is that subject's own,
    # failures (a model that cannot be built, relaxed standing unstable, a falling trunk) and
    # other modes in place
    from biomech import studies
    from biomech.errors import ModelError

    def build(subject, **kw):                 # a subject whose model cannot be built
        if subject.body_mass_kg == 123.0:
            raise ModelError("no model for this subject")
        return bm.build_model(subject, **kw)
    monkeypatch.setattr(studies, "build_model", build)
    weak = bm.Subject(body_mass_kg=120, height_m=1.6, muscle_strength_scale=0.2)
    batch = (StudySubject(bm.Subject(body_mass_kg=62, height_m=1.62, pelvic_incidence_deg=41), 1.3, 0.8),
             StudySubject(short_range_stiffness=0.0),
             StudySubject(bm.Subject(body_mass_kg=95, height_m=1.9, pelvic_incidence_deg=64), 0.8, 1.3, tension_N=300.0),
             StudySubject(weak, disc_stiffness_scale=0.4),
             StudySubject(bm.Subject(body_mass_kg=123.0)),
             StudySubject(mode="upright"),
             StudySubject())
    together = studies.psoas_effects(batch)
    assert [r["success"] for r in together] == [True, False, True, False, False, True, True]
    assert together[3]["message"].startswith("relaxed standing") and together[4]["message"].startswith("model:")
    for s, r in zip(batch, together):
        alone = psoas_effect(s)                 # a batch of one
        assert r["message"] == alone["message"]
        for k in EFFECT_METRICS:
            for key in (k, f"{k}_per_100N"):
                assert (math.isnan(r[key]) and math.isnan(alone[key])) or r[key] == pytest.approx(alone[key], abs=1e-8)


def test_study_subject_rejects_a_bad_mode():
    with pytest.raises(BiomechError, match="mode"):
        StudySubject(mode="inverse")
    with pytest.raises(BiomechError, match="tension_N"):
        StudySubject(tension_N=0.0)


# --- scripts/population.py -------------------------------------------------------------------

def test_population_sample_respects_bounds_and_seed():
    a = population.sample_population(3000, seed=5)
    b = population.sample_population(3000, seed=5)
    c = population.sample_population(3000, seed=6)
    for p in population.PARAMETERS:
        lo, hi = population.TRUNCATION[p]
        assert np.all((a[p] >= lo) & (a[p] <= hi)), p
        np.testing.assert_array_equal(a[p], b[p])
        assert not np.array_equal(a[p], c[p])
    np.testing.assert_array_equal(a["sex"], b["sex"])
    # the distributions are what the script documents
    assert np.mean(a["pelvic_incidence_deg"]) == pytest.approx(51.7, abs=1.0)
    assert np.std(a["pelvic_incidence_deg"]) == pytest.approx(11.0, abs=1.0)
    men = a["sex"] == "male"
    assert np.mean(a["height_m"][men]) == pytest.approx(1.754, abs=0.01)
    assert np.mean(a["height_m"][~men]) == pytest.approx(1.617, abs=0.01)
    assert np.median(a["muscle_strength_scale"]) == pytest.approx(1.0, abs=0.03)
    # every sampled subject is a valid model input
    population.study_subjects({k: v[:50] for k, v in a.items()})


@pytest.fixture(scope="module")
def small_population():
    sample = population.sample_population(40, seed=3)
    subjects = population.study_subjects(sample)
    serial = population.run_population(subjects, batch=10, workers=1)
    return sample, subjects, serial


def test_population_parallel_run_equals_serial(small_population):
    sample, subjects, serial = small_population
    parallel = population.run_population(subjects, batch=10, workers=2)
    assert len(parallel) == len(serial) == 40
    for a, b in zip(serial, parallel):
        assert a["success"] == b["success"] and a["message"] == b["message"]
        for k, v in a.items():
            if isinstance(v, float):
                assert (math.isnan(v) and math.isnan(b[k])) or v == b[k], k


def test_population_summary_counts_failures(small_population, tmp_path):
    sample, _, serial = small_population
    results = list(serial)
    nan = {k: math.nan for k in results[0] if k not in ("success", "message")}
    results[0] = nan | {"success": False, "message": "relaxed standing: the trunk fell backward (trunk inclination -45°)"}
    results[1] = nan | {"success": False, "message": "relaxed standing: the trunk fell backward (trunk inclination -50°)"}
    s = population.summarize(sample, results)
    n_failed = sum(not r["success"] for r in results)
    assert s["subjects"] == 40 and s["failed"] == n_failed >= 2 and s["solved"] == 40 - n_failed
    assert sum(s["failures_by_reason"].values()) == n_failed
    assert s["failures_by_reason"]["relaxed standing: the trunk fell backward (trunk inclination #°)"] >= 2
    for e in population.EFFECTS:
        st = s["effects"][e]
        assert st["p5"] <= st["median"] <= st["p95"] and math.isfinite(st["sd"])
        assert set(s["spearman"][e]) == set(population.PARAMETERS)
    population.write_csv(tmp_path / "subjects.csv", sample, results)
    assert len((tmp_path / "subjects.csv").read_text().splitlines()) == 41


# --- scripts/sensitivity.py ------------------------------------------------------------------

def test_prcc_ranks_a_known_function(rng):
    x = rng.random((300, 3))
    y = 3.0 * x[:, 0] + 1.0 * x[:, 1] + 0.0 * x[:, 2] + 0.2 * rng.normal(size=300)
    p = sensitivity.prcc(x, y)
    assert abs(p[0]) > abs(p[1]) > abs(p[2])
    assert p[0] > 0.9 and p[1] > 0.5 and abs(p[2]) < 0.15
    lo, hi = sensitivity.bootstrap_ci(sensitivity.prcc, x, y, rng, n_boot=200)
    assert np.all(lo <= p) and np.all(p <= hi)
    assert lo[2] < 0 < hi[2] and lo[1] > 0
    rho = sensitivity.spearman(x, y)
    assert rho[0] > rho[1] > abs(rho[2])
    # a decreasing dependence gives a negative PRCC
    assert sensitivity.prcc(x, -y)[0] == pytest.approx(-p[0])


def test_latin_hypercube_fills_every_stratum(rng):
    f = sensitivity.FACTORS + (sensitivity.CRITERION_FACTOR,)
    x = sensitivity.latin_hypercube(20, f, rng)
    for j, fa in enumerate(f):
        if fa.binary:
            assert set(np.unique(x[:, j])) == {0.0, 1.0} and x[:, j].sum() == 10
        else:
            strata = np.floor((x[:, j] - fa.low) / (fa.high - fa.low) * 20).astype(int)
            assert sorted(strata) == list(range(20)), fa.name


def test_tiny_equilibrium_sensitivity_run(tmp_path):
    st = sensitivity.run_study("equilibrium", 12, seed=2, workers=1, n_boot=50)
    assert len(st.results) == 12
    assert sum(st.failures().values()) == int((~st.ok).sum())
    for o in sensitivity.OUTPUTS:
        s = st.stats[o]
        assert s["n"] == int(st.ok.sum())
        if "prcc" in s:
            assert s["prcc"].shape == (len(sensitivity.FACTORS),)
            assert np.all(np.abs(s["prcc"][np.isfinite(s["prcc"])]) <= 1)
    # the markdown block replaces only what is between the markers
    md = tmp_path / "validation.md"
    md.write_text("before\n" + sensitivity.SENS_BEGIN + "\nold\n" + sensitivity.SENS_END + "\nafter\n")
    sensitivity.write_block(tmp_path, sensitivity.markdown_block([st], 50, 2).replace(
        "{interpretation}", sensitivity.interpretation([st])))
    text = md.read_text()
    assert text.startswith("before\n" + sensitivity.SENS_BEGIN) and text.endswith(sensitivity.SENS_END + "\nafter\n")
    assert "\nold\n" not in text and "Equilibrium mode: N = 12" in text

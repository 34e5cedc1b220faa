"""Population study (issue 7): the psoas effect on lordosis and pelvic tilt across many subjects.

Samples N subjects from documented distributions of pelvic incidence, sex, height, body mass,
lumbar disc stiffness, hip passive stiffness and trunk muscle strength, computes for each
`biomech.studies.psoas_effect` (change of lumbar lordosis LL, pelvic tilt PT and sacral slope
per 100 N of psoas tension in relaxed standing), and reports the distribution of the effect,
the failures (counted by reason, never dropped) and the rank correlation of the effect with each
sampled parameter (what explains the spread).

Distributions (the source next to each number in `DISTRIBUTIONS`; tags: V = the number was seen
in the source or its abstract, R = recalled / quoted second-hand, not re-checked; "assumption" =
no source gives the spread):

* pelvic incidence: normal 51.7 ± 11° (Vaz et al. 2002, V);
* sex: 1:1; height: normal by sex, mean from NHANES 2015-2018 (Fryar et al. 2021, R), SD from
  NHANES 1960-62 (NCHS Series 11 No. 8, V); body mass = BMI × height², BMI lognormal by sex,
  mean NHANES 2015-2018 (R), spread assumption;
* disc (intervertebral) stiffness scale: lognormal, median 1, CV ≈ 36 % (assumption: cadaver
  studies report a large inter-specimen scatter, Berkson et al. 1979 V, but no CV was confirmed);
* hip passive stiffness scale: lognormal, median 1, CV ≈ 30 % (assumption: Riener & Edrich 1999
  publish a mean curve, no spread was confirmed);
* muscle strength scale (on top of the model's body-mass^(2/3) scaling): lognormal, median 1,
  CV ≈ 25 % (Kocjan & Sarabon 2014, V: isometric trunk extension 504 ± 165 N standing, 911 ±
  272 N sitting, CV 30-33 % including body size and sex; the model already scales strength with
  body mass, so the residual spread is taken smaller: the 25 % is an assumption).

Every draw outside the model's valid range (`biomech.Subject` docstring; scales: the range in
`TRUNCATION`) is redrawn from the same distribution (truncated distributions), so no subject is
clipped onto a bound.

Usage::

    python scripts/population.py [--subjects 10000] [--workers N] [--dask ADDRESS] [--seed 7]
                                 [--mode equilibrium|upright] [--criterion activation_squared]
                                 [--out results/population] [--batch 100]

Writes ``subjects.csv`` (one row per subject: parameters, effects, success, message),
``summary.json`` and ``population.png`` into ``--out``, prints the summary and the wall time.
Exits 0 when it ran (failed subjects are content, counted in the summary), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:            # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import biomech as bm  # noqa: E402
from biomech.errors import BiomechError  # noqa: E402
from biomech.parallel import map_tasks  # noqa: E402
from biomech.recruitment import CRITERIA, Criterion  # noqa: E402
from biomech.studies import StudySubject, psoas_effects  # noqa: E402

#: Sampled parameters, in the column order of the outputs.
PARAMETERS = ("pelvic_incidence_deg", "height_m", "body_mass_kg", "disc_stiffness_scale",
              "hip_stiffness_scale", "muscle_strength_scale")
LABELS = {"pelvic_incidence_deg": "pelvic incidence (deg)", "height_m": "height (m)",
          "body_mass_kg": "body mass (kg)", "disc_stiffness_scale": "disc stiffness scale (-)",
          "hip_stiffness_scale": "hip passive stiffness scale (-)",
          "muscle_strength_scale": "muscle strength scale (-)"}
EFFECTS = ("lumbar_lordosis_deg_per_100N", "pelvic_tilt_deg_per_100N")
EFFECT_LABELS = {"lumbar_lordosis_deg_per_100N": "ΔLL per 100 N psoas (deg)",
                 "pelvic_tilt_deg_per_100N": "ΔPT per 100 N psoas (deg)"}

#: The distributions and their sources (see the module docstring for the tags).
DISTRIBUTIONS = {
    # Vaz G, Roussouly P, Berthonnaud E, Dimnet J (2002) Eur Spine J 11:80-87: PI 51.7 ± 11°,
    # range 33-85°, n = 100 asymptomatic adults (V; docs/validation.md item 1).
    "pelvic_incidence_deg": {"kind": "normal", "mean": 51.7, "sd": 11.0},
    # Fryar CD, Carroll MD, Gu Q, Afful J, Ogden CL (2021) Anthropometric reference data for
    # children and adults: United States, 2015-2018. Vital Health Stat 3(46): adults ≥ 20 y,
    # mean height men 175.4 cm, women 161.7 cm; mean BMI men 29.1, women 29.6 kg/m² (R: means
    # as recalled, not re-checked). Height SD: NCHS Vital Health Stat Series 11 No. 8 (1965),
    # adults 18-79 y, est. SD 2.85 in (7.2 cm) men, 2.58 in (6.6 cm) women (V).
    "height_m": {"kind": "normal_by_sex", "mean": {"male": 1.754, "female": 1.617},
                 "sd": {"male": 0.072, "female": 0.066}},
    # BMI lognormal, median chosen so that the mean is the NHANES mean; CV 20 % (assumption:
    # the NHANES reports give percentiles, not an SD; 20 % reproduces roughly their 5th-95th
    # percentile span of ≈ 21-40 kg/m², R). body mass = BMI × height².
    "bmi": {"kind": "lognormal_by_sex", "mean": {"male": 29.1, "female": 29.6}, "cv": 0.20},
    # Lumbar motion segment stiffness: "scatter in the behavior of individual motion segments is
    # pronounced, and very often overshadows any class differences" (Berkson MH, Nachemson A,
    # Schultz AB (1979) Spine 4:1-8, V, qualitative). No inter-specimen CV was confirmed:
    # CV 36 % (σ_log 0.35) is an ASSUMPTION. Scales every intervertebral passive moment.
    "disc_stiffness_scale": {"kind": "lognormal", "median": 1.0, "sigma": 0.35},
    # Hip passive moment (Riener R, Edrich T (1999) J Biomech 32:539-544, the model's law): a mean
    # curve; no inter-subject spread was confirmed: σ_log 0.30 is an ASSUMPTION.
    "hip_stiffness_scale": {"kind": "lognormal", "median": 1.0, "sigma": 0.30},
    # Kocjan A, Sarabon N (2014) J Sports Sci Med 13:365-370, n = 60 healthy adults: isometric
    # trunk extension 504.0 ± 165.4 N standing, 910.5 ± 271.5 N sitting (V): CV 30-33 %,
    # including body size and sex. The model scales strength with body mass^(2/3) already: the
    # residual σ_log 0.25 is an ASSUMPTION (a part of the published CV).
    "muscle_strength_scale": {"kind": "lognormal", "median": 1.0, "sigma": 0.25},
}

#: Calibrated pelvic tilt of relaxed standing (docs/calibration.md §1), and the deviation of a
#: subject's reference PT from it beyond which the summary counts the subject as "far" (deg).
CALIBRATED_PT_DEG = 13.0
FAR_PT_DEG = 5.0

#: Valid ranges: `biomech.Subject` (PI 20-90°, height 1.2-2.2 m, mass 30-200 kg, strength
#: 0.2-5); scales: a plausible span (0.4-2.5) inside what the solver accepts (hip 0-10).
TRUNCATION = {"pelvic_incidence_deg": (20.0, 90.0), "height_m": (1.2, 2.2),
              "body_mass_kg": (30.0, 200.0), "disc_stiffness_scale": (0.4, 2.5),
              "hip_stiffness_scale": (0.4, 2.5), "muscle_strength_scale": (0.2, 5.0)}


def _truncated(rng, n, draw, lo, hi):
    """n draws of ``draw(rng, k)`` within [lo, hi]: out-of-range draws are redrawn."""
    out = draw(rng, n)
    bad = (out < lo) | (out > hi)
    while bad.any():
        out[bad] = draw(rng, int(bad.sum()))
        bad = (out < lo) | (out > hi)
    return out


def sample_population(n: int, seed: int) -> dict[str, np.ndarray]:
    """Sample n subjects (``DISTRIBUTIONS``, truncated to ``TRUNCATION``); same seed, same sample.

    Returns arrays (n,) for every name of `PARAMETERS` and ``"sex"`` ("male"/"female").
    """
    rng = np.random.default_rng(seed)
    d = DISTRIBUTIONS
    out: dict[str, np.ndarray] = {}
    pi = d["pelvic_incidence_deg"]
    out["pelvic_incidence_deg"] = _truncated(rng, n, lambda r, k: r.normal(pi["mean"], pi["sd"], k),
                                             *TRUNCATION["pelvic_incidence_deg"])
    male = rng.random(n) < 0.5
    out["sex"] = np.where(male, "male", "female")
    h = np.empty(n)
    mass = np.empty(n)
    for sex, mask in (("male", male), ("female", ~male)):
        k = int(mask.sum())
        mu, sd = d["height_m"]["mean"][sex], d["height_m"]["sd"][sex]
        hs = _truncated(rng, k, lambda r, j: r.normal(mu, sd, j), *TRUNCATION["height_m"])
        cv = d["bmi"]["cv"]
        s_log = math.sqrt(math.log1p(cv * cv))
        m_log = math.log(d["bmi"]["mean"][sex]) - 0.5 * s_log * s_log
        # mass = BMI × h²; a draw outside the mass range redraws the BMI (height kept)
        ms = hs * hs * rng.lognormal(m_log, s_log, k)
        lo, hi = TRUNCATION["body_mass_kg"]
        bad = (ms < lo) | (ms > hi)
        while bad.any():
            ms[bad] = hs[bad] ** 2 * rng.lognormal(m_log, s_log, int(bad.sum()))
            bad = (ms < lo) | (ms > hi)
        h[mask], mass[mask] = hs, ms
    out["height_m"], out["body_mass_kg"] = h, mass
    for name in ("disc_stiffness_scale", "hip_stiffness_scale", "muscle_strength_scale"):
        p = d[name]
        out[name] = _truncated(rng, n, lambda r, k, p=p: r.lognormal(math.log(p["median"]), p["sigma"], k),
                               *TRUNCATION[name])
    return out


def study_subjects(sample: dict, mode: str = "equilibrium",
                   criterion: Criterion | None = None) -> list[StudySubject]:
    """One `StudySubject` per sampled subject."""
    criterion = criterion or Criterion()
    n = len(sample["pelvic_incidence_deg"])
    return [StudySubject(
        subject=bm.Subject(body_mass_kg=float(sample["body_mass_kg"][i]),
                           height_m=float(sample["height_m"][i]),
                           pelvic_incidence_deg=float(sample["pelvic_incidence_deg"][i]),
                           muscle_strength_scale=float(sample["muscle_strength_scale"][i])),
        disc_stiffness_scale=float(sample["disc_stiffness_scale"][i]),
        hip_stiffness_scale=float(sample["hip_stiffness_scale"][i]),
        mode=mode, criterion=criterion) for i in range(n)]


def run_population(subjects: list[StudySubject], *, batch: int = 100, workers=None, dask=None,
                   progress=None) -> list[dict]:
    """`psoas_effect` of every subject, in order, in tasks of ``batch`` subjects."""
    tasks = [tuple(subjects[k:k + batch]) for k in range(0, len(subjects), batch)]
    results = map_tasks(psoas_effects, tasks, workers=workers, dask=dask, progress=progress)
    return [r for block in results for r in block]


def failure_reason(message: str) -> str:
    """A failure message without its subject-specific numbers (to count failures by reason)."""
    import re
    return re.sub(r"[-+]?\d+(\.\d+)?(e[-+]?\d+)?", "#", message.split(";")[0])


def summarize(sample: dict, results: list[dict]) -> dict:
    """Distribution of the effects, failures by reason, rank correlations with the parameters."""
    from scipy import stats
    ok = np.array([bool(r["success"]) for r in results])
    summary = {"subjects": len(results), "solved": int(ok.sum()), "failed": int((~ok).sum()),
               "failures_by_reason": dict(Counter(failure_reason(r["message"])
                                                  for r in results if not r["success"]).most_common()),
               "effects": {}, "spearman": {}}
    for e in EFFECTS:
        y = np.array([r[e] for r in results], float)[ok]
        if y.size == 0:
            continue
        summary["effects"][e] = {
            "median": float(np.median(y)), "p5": float(np.percentile(y, 5)),
            "p95": float(np.percentile(y, 95)), "mean": float(y.mean()),
            "sd": float(y.std(ddof=1)) if y.size > 1 else math.nan,
            "min": float(y.min()), "max": float(y.max())}
        rho = {}
        for p in PARAMETERS:
            x = np.asarray(sample[p], float)[ok]
            rho[p] = float(stats.spearmanr(x, y).statistic) if y.size > 2 else math.nan
        summary["spearman"][e] = rho
    # solved subjects whose reference posture is far from the calibrated relaxed standing
    # (PT 13°, docs/calibration.md): their frozen tone does not hold the calibrated posture
    pt_ref = np.array([r["pelvic_tilt_deg"] for r in results], float)
    far = ok & (np.abs(pt_ref - CALIBRATED_PT_DEG) > FAR_PT_DEG)
    summary["reference_far_from_calibrated"] = int(far.sum())
    near = ok & ~far
    summary["effects_near_calibrated"] = {}
    for e in EFFECTS:
        y = np.array([r[e] for r in results], float)[near]
        if y.size:
            summary["effects_near_calibrated"][e] = {
                "n": int(y.size), "median": float(np.median(y)), "p5": float(np.percentile(y, 5)),
                "p95": float(np.percentile(y, 95)), "mean": float(y.mean()),
                "sd": float(y.std(ddof=1)) if y.size > 1 else math.nan}
    # where the failures are: failure rate in each quintile of each parameter
    summary["failure_rate_by_quintile"] = {}
    for p in PARAMETERS:
        x = np.asarray(sample[p], float)
        edges = np.quantile(x, np.linspace(0, 1, 6))
        k = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, 4)
        summary["failure_rate_by_quintile"][p] = {
            "edges": [float(e) for e in edges],
            "rate": [float(np.mean(~ok[k == q])) if np.any(k == q) else math.nan for q in range(5)]}
    return summary


def write_csv(path: Path, sample: dict, results: list[dict]) -> None:
    keys = [k for k in results[0] if k not in ("success", "message")] if results else []
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["subject", "sex", *PARAMETERS, *keys, "success", "message"])
        for i, r in enumerate(results):
            w.writerow([i, sample["sex"][i], *(f"{float(sample[p][i]):.6g}" for p in PARAMETERS),
                        *(f"{float(r[k]):.6g}" for k in keys), r["success"], r["message"]])


def figure(sample: dict, results: list[dict], summary: dict, title: str):
    """Histograms of ΔLL and ΔPT per 100 N; both against PI, coloured by the next strongest factor."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ok = np.array([bool(r["success"]) for r in results])
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    pi = np.asarray(sample["pelvic_incidence_deg"], float)[ok]
    for col, e in enumerate(EFFECTS):
        y = np.array([r[e] for r in results], float)[ok]
        ax = axes[0, col]
        lo, hi = (np.percentile(y, [0.5, 99.5]) if y.size else (0.0, 1.0))
        pad = 0.05 * (hi - lo) + 1e-9
        lo, hi = lo - pad, hi + pad                 # outliers (near-unstable subjects) counted, not drawn
        outside = int(np.sum((y < lo) | (y > hi)))
        if y.size:
            ax.hist(y[(y >= lo) & (y <= hi)], bins=60, color="#4c72b0", alpha=0.85)
            if outside:
                ax.text(0.02, 0.95, f"{outside} outside the axis (min {y.min():.1f}°)",
                        transform=ax.transAxes, fontsize=8, va="top", zorder=5,
                        bbox=dict(facecolor="white", edgecolor="none", pad=1.5))
            s = summary["effects"][e]
            for v, ls in ((s["median"], "-"), (s["p5"], "--"), (s["p95"], "--")):
                ax.axvline(v, color="k", ls=ls, lw=1)
            ax.set_title(f"median {s['median']:.2f}°, 5-95 % {s['p5']:.2f} to {s['p95']:.2f}°",
                         fontsize=10)
        ax.set_xlabel(EFFECT_LABELS[e])
        ax.set_ylabel("subjects")
        ax = axes[1, col]
        rho = summary["spearman"].get(e, {})
        others = [p for p in PARAMETERS if p != "pelvic_incidence_deg" and math.isfinite(rho.get(p, math.nan))]
        colour = max(others, key=lambda p: abs(rho[p])) if others else "body_mass_kg"
        c = np.asarray(sample[colour], float)[ok]
        sc = ax.scatter(pi, y, c=c, s=4, cmap="viridis", alpha=0.7, rasterized=True)
        fig.colorbar(sc, ax=ax, label=LABELS[colour])
        ax.set_ylim(lo, hi)
        ax.set_xlabel(LABELS["pelvic_incidence_deg"])
        ax.set_ylabel(EFFECT_LABELS[e])
        ax.set_title(f"Spearman ρ: PI {rho.get('pelvic_incidence_deg', math.nan):+.2f}, "
                     f"{colour.replace('_', ' ')} {rho.get(colour, math.nan):+.2f}", fontsize=10)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def report_text(summary: dict, wall_s: float, args) -> str:
    lines = [f"{summary['subjects']} subjects ({args.mode} mode, seed {args.seed}): "
             f"{summary['solved']} solved, {summary['failed']} failed; wall time {wall_s:.1f} s",
             f"  solved subjects whose reference PT is more than {FAR_PT_DEG:g}° from the calibrated "
             f"{CALIBRATED_PT_DEG:g}°: {summary['reference_far_from_calibrated']}"]
    for reason, k in summary["failures_by_reason"].items():
        lines.append(f"  failed ({k}): {reason}")
    if summary["failed"]:
        for p, q in summary["failure_rate_by_quintile"].items():
            lines.append(f"  failure rate by quintile of {p} ({q['edges'][0]:.3g}-{q['edges'][-1]:.3g}): "
                         + ", ".join(f"{r:.0%}" for r in q["rate"]))
    for e, s in summary["effects"].items():
        lines.append(f"{EFFECT_LABELS[e]}: median {s['median']:.3f}, 5-95 % {s['p5']:.3f} to "
                     f"{s['p95']:.3f}, mean {s['mean']:.3f} ± {s['sd']:.3f} (SD)")
        n = summary["effects_near_calibrated"].get(e)
        if n:
            lines.append(f"  the {n['n']} with reference PT within {FAR_PT_DEG:g}° of {CALIBRATED_PT_DEG:g}°: "
                         f"median {n['median']:.3f}, 5-95 % {n['p5']:.3f} to {n['p95']:.3f}, "
                         f"mean {n['mean']:.3f} ± {n['sd']:.3f}")
        rho = summary["spearman"][e]
        lines.append("  Spearman ρ: " + ", ".join(f"{p} {rho[p]:+.2f}" for p in
                                                   sorted(rho, key=lambda p: -abs(rho[p]))))
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=10_000, help="number of subjects (default 10000)")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    ap.add_argument("--dask", default=None, metavar="ADDRESS", help="Dask scheduler address")
    ap.add_argument("--seed", type=int, default=7, help="seed of the numpy Generator (default 7)")
    ap.add_argument("--mode", choices=("equilibrium", "upright"), default="equilibrium")
    ap.add_argument("--criterion", choices=CRITERIA, default="activation_squared",
                    help="effort criterion of the upright mode (stress_power: exponent 3)")
    ap.add_argument("--batch", type=int, default=100, help="subjects per task (default 100)")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "population")
    ap.add_argument("--dpi", type=int, default=130)
    return ap


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.subjects < 1 or args.batch < 1:
        print("error: --subjects and --batch must be ≥ 1", file=sys.stderr)
        return 2
    try:
        t0 = time.perf_counter()
        sample = sample_population(args.subjects, args.seed)
        subjects = study_subjects(sample, args.mode, Criterion(args.criterion))
        results = run_population(subjects, batch=args.batch, workers=args.workers, dask=args.dask)
        wall = time.perf_counter() - t0
    except BiomechError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = summarize(sample, results)
    summary.update(mode=args.mode, criterion=args.criterion, seed=args.seed, wall_time_s=wall,
                   workers=args.workers, dask=args.dask, distributions=DISTRIBUTIONS,
                   truncation=TRUNCATION)
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "subjects.csv", sample, results)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2, default=float), encoding="utf-8")
    fig = figure(sample, results, summary,
                 f"psoas effect in relaxed standing, {args.mode} mode: {summary['solved']} of "
                 f"{summary['subjects']} subjects (seed {args.seed})")
    fig.savefig(args.out / "population.png", dpi=args.dpi)
    print(report_text(summary, wall, args))
    print(f"wrote {args.out}/subjects.csv, summary.json, population.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())

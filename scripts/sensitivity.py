"""Sensitivity study (issue 6): which parameters change the psoas answer most?

The question: "how much do lumbar lordosis (LL) and pelvic tilt (PT) change per 100 N of psoas
tension in relaxed standing?" (`biomech.studies.psoas_effect`). The method is global:

* Latin-hypercube sample over the ranges of `FACTORS` (each range and its reason/source there);
* for each output (ΔLL, ΔPT per 100 N), the Spearman rank correlation and the partial rank
  correlation coefficient (PRCC: the correlation of the residuals of rank(x_j) and rank(y) after
  a linear regression on the ranks of all other factors; Marino et al. 2008, J Theor Biol
  254:178-196), with 95 % bootstrap percentile intervals (resampling subjects);
* two studies: the equilibrium mode (frozen tone) and the upright mode (least-effort
  recruitment keeping the trunk upright), in which the effort criterion (Σa² or Σ(F/PCSA)³) is a
  binary factor. Failed subjects are counted by reason and left out of the correlations.

Usage::

    python scripts/sensitivity.py [--n-equilibrium 1000] [--n-upright 128] [--seed 11]
                                  [--workers N] [--dask ADDRESS] [--bootstrap 1000]
                                  [--docs DOCS_DIR] [--no-docs]

Writes ``validation/sensitivity.png`` into ``--docs`` (default: docs of the repository) and the
text between ``<!-- sensitivity:begin -->`` and ``<!-- sensitivity:end -->`` of its
``validation.md`` (nothing else of the file changes), and ``results/sensitivity/*.csv``. Exits 0
when it ran, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:            # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

import biomech as bm  # noqa: E402
from biomech.errors import BiomechError  # noqa: E402
from biomech.parallel import map_tasks  # noqa: E402
from biomech.recruitment import Criterion  # noqa: E402
from biomech.studies import StudySubject, psoas_effects  # noqa: E402

SENS_BEGIN = "<!-- sensitivity:begin -->"
SENS_END = "<!-- sensitivity:end -->"
OUTPUTS = ("lumbar_lordosis_deg_per_100N", "pelvic_tilt_deg_per_100N")
OUTPUT_LABELS = {"lumbar_lordosis_deg_per_100N": "ΔLL per 100 N", "pelvic_tilt_deg_per_100N": "ΔPT per 100 N"}
CRITERIA = (Criterion("activation_squared"), Criterion("stress_power", exponent=3.0))


@dataclass(frozen=True)
class Factor:
    """One uncertain input: sampled uniformly in [low, high] (binary: 0 or 1)."""

    name: str
    label: str
    low: float
    high: float
    why: str
    binary: bool = False


#: The factors and their ranges, with the reason for each (V = seen in the source, R = recalled,
#: not re-checked; see docs/references.md). Height is held at 1.75 m, the psoas increment at 200 N.
FACTORS = (
    Factor("disc_stiffness_scale", "disc stiffness ×", 0.5, 2.0,
           "factor 2 either way of the in vitro laws (Yamamoto 1989 ROM, Gardner-Morse & Stokes "
           "2004 preload factor): cadaver segments scatter widely (Berkson et al. 1979, V, "
           "qualitative); no inter-specimen CV was confirmed, so the span is an assumption "
           "(it covers the population study's assumed 5-95 % span 0.56-1.78)"),
    Factor("hip_stiffness_scale", "hip passive moment ×", 0.5, 2.0,
           "factor 2 either way of Riener & Edrich (1999); no inter-subject spread was confirmed "
           "(assumption, as in the population study)"),
    Factor("pelvic_incidence_deg", "pelvic incidence (°)", 33.0, 85.0,
           "the range of 100 asymptomatic adults (Vaz et al. 2002, V: 51.7 ± 11°, 33-85°)"),
    Factor("body_mass_kg", "body mass (kg)", 50.0, 110.0,
           "about the 5th-95th percentiles of US adults, both sexes (NHANES 2015-2018, Fryar et "
           "al. 2021, R)"),
    Factor("muscle_strength_scale", "muscle strength ×", 0.6, 1.6,
           "±2 SD of a 25 % residual spread after body-mass scaling (trunk extension CV 30-33 %, "
           "Kocjan & Sarabon 2014, V; the residual part is an assumption)"),
    Factor("tone_scale", "baseline tone ×", 0.5, 3.0,
           "EMG floors of 1-3 % MVC (biomech/muscles.py, R) times 0.5-3: relaxed standing EMG is "
           "reported at 0-5 % (erector spinae, multifidus; O'Sullivan et al. 2002, R) and 0-8 % "
           "(obliques; Snijders et al. 1998, R)"),
    Factor("short_range_stiffness", "muscle stiffness gain q", 20.0, 60.0,
           "published q: 10 (Cholewicki & McGill 1996) to 40 (Bergmark 1989), R; relaxed standing "
           "of this model is unstable below q ≈ 25 (docs/calibration.md §3), so 20-60 brackets the "
           "model's 40 by a factor 1.5-2; a low-q subject settles at a nearby stable posture "
           "within range, or fails if there is none"),
)
CRITERION_FACTOR = Factor("criterion", "criterion (0 Σa², 1 Σ(F/PCSA)³)", 0.0, 1.0,
                          "the two criteria of the upright mode (Anderson & Pandy 2001; "
                          "Crowninshield & Brand 1981 p = 3), half the subjects each", binary=True)


def latin_hypercube(n: int, factors, rng: np.random.Generator) -> np.ndarray:
    """(n, k) Latin-hypercube sample: each factor's range cut in n strata, one point per stratum,
    strata permuted independently per factor. A binary factor takes 1 above its median stratum."""
    k = len(factors)
    u = (np.argsort(rng.random((n, k)), axis=0) + rng.random((n, k))) / n
    x = np.empty((n, k))
    for j, f in enumerate(factors):
        x[:, j] = (u[:, j] >= 0.5).astype(float) if f.binary else f.low + u[:, j] * (f.high - f.low)
    return x


def study_subject(row, factors, mode: str) -> StudySubject:
    v = dict(zip((f.name for f in factors), row))
    return StudySubject(
        subject=bm.Subject(body_mass_kg=float(v["body_mass_kg"]), height_m=1.75,
                           pelvic_incidence_deg=float(v["pelvic_incidence_deg"]),
                           muscle_strength_scale=float(v["muscle_strength_scale"]),
                           tone_scale=float(v["tone_scale"])),
        disc_stiffness_scale=float(v["disc_stiffness_scale"]),
        hip_stiffness_scale=float(v["hip_stiffness_scale"]),
        short_range_stiffness=float(v["short_range_stiffness"]),
        mode=mode, criterion=CRITERIA[int(v.get("criterion", 0.0))])


# ---------------------------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------------------------

def _ranks(a: np.ndarray) -> np.ndarray:
    return np.apply_along_axis(stats.rankdata, 0, a) if a.ndim == 2 else stats.rankdata(a)


def prcc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Partial rank correlation of each column of x (n, k) with y (n,), controlling for the others.

    Ranks are taken first; for factor j, rank(x_j) and rank(y) are regressed (least squares,
    with an intercept) on the ranks of the other factors, and PRCC_j is the Pearson correlation
    of the two residuals. NaN where a residual is constant.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n, k = x.shape
    rx, ry = _ranks(x), _ranks(y)
    out = np.full(k, np.nan)
    for j in range(k):
        z = np.column_stack([np.ones(n), np.delete(rx, j, axis=1)])
        ex = rx[:, j] - z @ np.linalg.lstsq(z, rx[:, j], rcond=None)[0]
        ey = ry - z @ np.linalg.lstsq(z, ry, rcond=None)[0]
        den = math.sqrt(float(ex @ ex) * float(ey @ ey))
        if den > 1e-12 * n * n:
            out[j] = float(ex @ ey) / den
    return out


def spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rank correlation of each column of x with y (NaN for a constant column)."""
    rx, ry = _ranks(np.asarray(x, float)), _ranks(np.asarray(y, float))
    rx = rx - rx.mean(axis=0)
    ry = ry - ry.mean()
    den = np.sqrt((rx * rx).sum(axis=0) * float(ry @ ry))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, rx.T @ ry / np.where(den > 0, den, 1.0), np.nan)


def bootstrap_ci(stat, x: np.ndarray, y: np.ndarray, rng: np.random.Generator, n_boot: int = 1000,
                 level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval (resampling rows) of ``stat(x, y)`` (k,), per column."""
    n = len(y)
    draws = np.array([stat(x[idx], y[idx]) for idx in rng.integers(0, n, (n_boot, n))])
    a = (1.0 - level) / 2.0
    return np.nanpercentile(draws, 100 * a, axis=0), np.nanpercentile(draws, 100 * (1 - a), axis=0)


# ---------------------------------------------------------------------------------------------
# the two studies
# ---------------------------------------------------------------------------------------------

@dataclass
class Study:
    mode: str
    factors: tuple
    x: np.ndarray                 # (n, k) sampled factors
    results: list                 # psoas_effect dicts
    stats: dict                   # output -> {"prcc", "prcc_lo", "prcc_hi", "rho", "rho_lo", "rho_hi"}
    wall_s: float

    @property
    def ok(self) -> np.ndarray:
        return np.array([bool(r["success"]) for r in self.results])

    def failures(self) -> Counter:
        return Counter(re.sub(r"[-+]?\d+(\.\d+)?(e[-+]?\d+)?", "#", r["message"].split(";")[0])
                       for r in self.results if not r["success"])


def run_study(mode: str, n: int, seed: int, *, workers=None, dask=None, n_boot: int = 1000,
              batch: int = 10) -> Study:
    """Sample, solve and analyse one study (``mode`` "equilibrium" or "upright")."""
    factors = FACTORS + ((CRITERION_FACTOR,) if mode == "upright" else ())
    rng = np.random.default_rng(seed)
    x = latin_hypercube(n, factors, rng)
    subjects = [study_subject(row, factors, mode) for row in x]
    t0 = time.perf_counter()
    tasks = [tuple(subjects[k:k + batch]) for k in range(0, n, batch)]
    results = [r for block in map_tasks(psoas_effects, tasks, workers=workers, dask=dask) for r in block]
    wall = time.perf_counter() - t0
    ok = np.array([bool(r["success"]) for r in results])
    out = {}
    boot_rng = np.random.default_rng(seed + 1)
    for o in OUTPUTS:
        y = np.array([r[o] for r in results], float)[ok]
        xs = x[ok]
        s = {"n": int(ok.sum())}
        if ok.sum() > len(factors) + 2:
            s["prcc"] = prcc(xs, y)
            s["prcc_lo"], s["prcc_hi"] = bootstrap_ci(prcc, xs, y, boot_rng, n_boot)
            s["rho"] = spearman(xs, y)
            s["rho_lo"], s["rho_hi"] = bootstrap_ci(spearman, xs, y, boot_rng, n_boot)
            s["median"] = float(np.median(y))
            s["p5"], s["p95"] = (float(v) for v in np.percentile(y, [5, 95]))
        out[o] = s
    return Study(mode, factors, x, results, out, wall)


def write_csv(study: Study, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([*(fa.name for fa in study.factors), *OUTPUTS, "success", "message"])
        for row, r in zip(study.x, study.results):
            w.writerow([*(f"{v:.6g}" for v in row), *(f"{float(r[o]):.6g}" for o in OUTPUTS),
                        r["success"], r["message"]])


def figure(studies: list[Study]):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(studies), 2, figsize=(11, 3.2 + 2.6 * len(studies)), squeeze=False)
    for i, st in enumerate(studies):
        for j, o in enumerate(OUTPUTS):
            ax = axes[i, j]
            s = st.stats[o]
            labels = [f.label for f in st.factors]
            pos = np.arange(len(labels))[::-1]
            if "prcc" in s:
                p = s["prcc"]
                err = np.vstack([p - s["prcc_lo"], s["prcc_hi"] - p])
                colours = ["#c44e52" if v < 0 else "#4c72b0" for v in p]
                ax.barh(pos, p, xerr=err, color=colours, alpha=0.85, capsize=3)
                ax.scatter(s["rho"], pos, marker="o", color="k", s=12, zorder=3, label="Spearman ρ")
            ax.axvline(0, color="k", lw=0.8)
            ax.set_xlim(-1, 1)
            ax.set_yticks(pos)
            ax.set_yticklabels(labels, fontsize=8)
            ax.set_xlabel("PRCC (bars, 95 % bootstrap CI); dots: Spearman ρ", fontsize=9)
            ax.set_title(f"{st.mode}: {OUTPUT_LABELS[o]} (deg), {s['n']}/{len(st.results)} solved",
                         fontsize=10)
            if i == 0 and j == 0:
                ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def _fmt_ci(v, lo, hi) -> str:
    return f"{v:+.2f} [{lo:+.2f}, {hi:+.2f}]" if math.isfinite(v) else "—"


def markdown_block(studies: list[Study], n_boot: int, seed: int) -> str:
    lines = [SENS_BEGIN, "",
             "Written by `scripts/sensitivity.py` (rerun it to update this block). The question: "
             "*how much do LL and PT change per 100 N of psoas tension in relaxed standing?* "
             "(`biomech.studies.psoas_effect`: relaxed standing against the same subject with 200 N "
             "more psoas tension, scaled to 100 N; height 1.75 m.)", "",
             "**Method.** Latin-hypercube sample over the ranges below (uniform; the criterion a "
             "binary factor, half the subjects each), then for each output the Spearman rank "
             "correlation ρ and the partial rank correlation coefficient (PRCC: correlation of "
             "rank residuals after regressing out the other factors' ranks; Marino et al. 2008, "
             "J Theor Biol 254:178-196), with 95 % percentile intervals from "
             f"{n_boot} bootstrap resamples of the subjects (seed {seed}). Failed subjects are "
             "counted and left out of the correlations. |PRCC| ranks the factors by how much each "
             "moves the answer when the others are held fixed; a positive sign means the output "
             "grows (algebraically) with the factor: ΔLL is negative in both modes, so + there "
             "means a smaller loss of lordosis.", "",
             "| factor | range | why |", "|---|---|---|"]
    for f in FACTORS + (CRITERION_FACTOR,):
        rng_txt = "Σa² or Σ(F/PCSA)³" if f.binary else f"{f.low:g} – {f.high:g}"
        lines.append(f"| {f.label} | {rng_txt} | {f.why} |")
    for st in studies:
        ok = st.ok
        lines += ["", f"### {st.mode.capitalize()} mode: N = {len(st.results)}, "
                  f"{int(ok.sum())} solved, {int((~ok).sum())} failed "
                  f"(wall time {st.wall_s:.0f} s)", ""]
        for reason, k in st.failures().most_common():
            lines.append(f"* failed ({k}): {reason}")
        if (~ok).any():
            lines.append("")
        for o in OUTPUTS:
            s = st.stats[o]
            if "prcc" in s:
                lines.append(f"{OUTPUT_LABELS[o]} over the solved subjects: median {s['median']:.2f}°, "
                             f"5-95 % {s['p5']:.2f}° to {s['p95']:.2f}°.  ")
        lines += ["", "| factor | PRCC ΔLL [95 % CI] | ρ ΔLL [95 % CI] | PRCC ΔPT [95 % CI] | ρ ΔPT [95 % CI] |",
                  "|---|---|---|---|---|"]
        for j, f in enumerate(st.factors):
            cells = []
            for o in OUTPUTS:
                s = st.stats[o]
                if "prcc" not in s:
                    cells += ["—", "—"]
                    continue
                cells += [_fmt_ci(s["prcc"][j], s["prcc_lo"][j], s["prcc_hi"][j]),
                          _fmt_ci(s["rho"][j], s["rho_lo"][j], s["rho_hi"][j])]
            lines.append(f"| {f.label} | " + " | ".join(cells) + " |")
        lines.append("")
        for o in OUTPUTS:
            s = st.stats[o]
            if "prcc" in s:
                order = [k for k in np.argsort(-np.abs(np.nan_to_num(s["prcc"])))]
                lines.append(f"Ranking for {OUTPUT_LABELS[o]} (|PRCC|): " + " > ".join(
                    f"{st.factors[k].label} ({s['prcc'][k]:+.2f})" for k in order) + ".  ")
    lines += ["", "![sensitivity](validation/sensitivity.png)", "", "{interpretation}", "",
              "**Caveats.** " + ("Every sampled subject was solved. " if all(st.ok.all() for st in studies)
                                  else "The correlations are over the solved subjects only, and the "
                                       "failures listed above are not random. ")
              + "In the equilibrium mode the baseline tone is frozen; where it leaves the calibrated "
              "posture unstable (low stiffness q, weak or heavy subjects: a tone near its ceiling "
              "has little stretch response left), the subject settles at a nearby stable "
              "posture within the physiological range (docs/model.md §8), so its relaxed posture "
              "is not the calibrated one. The sampled ranges are uniform "
              "boxes, not population distributions (for those, docs/population.md); several spreads "
              "are assumptions (see the table), so the ranking says which inputs matter, not how "
              "likely each value is.", "", SENS_END]
    return "\n".join(lines)


def interpretation(studies: list[Study]) -> str:
    """What the ranking means for someone asking the psoas question (derived from the numbers)."""
    parts = ["**What it means for the psoas question.**"]
    med = {(st.mode, o): st.stats[o].get("median") for st in studies for o in OUTPUTS}
    if all(med.get((m, o)) is not None for m in ("equilibrium", "upright") for o in OUTPUTS):
        parts.append(
            "The largest single choice is the mode itself: per 100 N the median ΔLL is "
            f"{med['equilibrium', OUTPUTS[0]]:.2f}° with frozen tone and {med['upright', OUTPUTS[0]]:.2f}° "
            f"in the default (upright) mode, where the person keeps the gaze level and the balance with least effort, and the median ΔPT is "
            f"{med['equilibrium', OUTPUTS[1]]:+.2f}° and {med['upright', OUTPUTS[1]]:+.2f}°"
            + (" (opposite signs)" if med['equilibrium', OUTPUTS[1]] * med['upright', OUTPUTS[1]] < 0 else "")
            + ": a user must first say whether the rest of the trunk musculature is held fixed or "
              "re-recruited. Within a mode (\"depends mostly on\": |PRCC| ≥ 0.3 with a 95 % interval "
              "that excludes 0, strongest first):")
    for st in studies:
        for o in OUTPUTS:
            s = st.stats[o]
            if "prcc" not in s:
                continue
            p = np.nan_to_num(s["prcc"])
            strong = [st.factors[k].label for k in np.argsort(-np.abs(p))
                      if abs(p[k]) >= 0.3 and s["prcc_lo"][k] * s["prcc_hi"][k] > 0]
            weak = [st.factors[k].label for k in range(len(p))
                    if s["prcc_lo"][k] <= 0 <= s["prcc_hi"][k]]
            parts.append(f"In the {st.mode} mode, {OUTPUT_LABELS[o]} (median {s['median']:.2f}°, "
                         f"5-95 % {s['p5']:.2f}° to {s['p95']:.2f}°) depends mostly on "
                         + (", ".join(strong) if strong else "no single factor (all |PRCC| < 0.3)")
                         + (f"; the interval of {', '.join(weak)} includes 0." if weak else "."))
    return " ".join(parts)


def write_block(docs: Path, block: str) -> Path:
    """Replace the text between the sensitivity markers of docs/validation.md (nothing else)."""
    md = docs / "validation.md"
    text = md.read_text(encoding="utf-8")
    a, b = text.find(SENS_BEGIN), text.find(SENS_END)
    if a < 0 or b < a:
        raise BiomechError(f"{md} has no {SENS_BEGIN} … {SENS_END} block")
    md.write_text(text[:a] + block + text[b + len(SENS_END):], encoding="utf-8")
    return md


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-equilibrium", type=int, default=1000, help="subjects, equilibrium mode (0: skip)")
    ap.add_argument("--n-upright", type=int, default=128, help="subjects, upright mode (0: skip)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    ap.add_argument("--dask", default=None, metavar="ADDRESS", help="Dask scheduler address")
    ap.add_argument("--docs", type=Path, default=ROOT / "docs")
    ap.add_argument("--no-docs", action="store_true", help="do not touch docs (print only)")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "sensitivity")
    ap.add_argument("--dpi", type=int, default=130)
    return ap


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.n_equilibrium < 0 or args.n_upright < 0 or args.bootstrap < 10:
        print("error: subject counts must be ≥ 0 and --bootstrap ≥ 10", file=sys.stderr)
        return 2
    studies = []
    try:
        for mode, n, seed in (("equilibrium", args.n_equilibrium, args.seed),
                              ("upright", args.n_upright, args.seed + 100)):
            if n:
                st = run_study(mode, n, seed, workers=args.workers, dask=args.dask, n_boot=args.bootstrap,
                               batch=10 if mode == "equilibrium" else 1)
                write_csv(st, args.out / f"{mode}.csv")
                studies.append(st)
                print(f"{mode}: {len(st.results)} subjects, {int(st.ok.sum())} solved, wall {st.wall_s:.1f} s")
                for reason, k in st.failures().most_common():
                    print(f"  failed ({k}): {reason}")
                for o in OUTPUTS:
                    s = st.stats[o]
                    if "prcc" in s:
                        print(f"  {OUTPUT_LABELS[o]}: " + ", ".join(
                            f"{f.name} {v:+.2f}" for f, v in zip(st.factors, s["prcc"])))
    except BiomechError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.no_docs and studies:
        fig = figure(studies)
        png = args.docs / "validation" / "sensitivity.png"
        png.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(png, dpi=args.dpi)
        block = markdown_block(studies, args.bootstrap, args.seed).replace(
            "{interpretation}", interpretation(studies))
        print(f"wrote {write_block(args.docs, block)} and {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Muscle force laws and muscle settings: the one place where a length becomes a tension.

Geometry (paths, lengths, moment arms) lives in `statics.py`; this module holds what turns a
length into a tension (docs/model.md §6). Positive tension is contractile: it pulls the ends of
the path together. Every mode uses the same law, `tension`; they differ only in where the
activation comes from (a frozen tone with its stretch response, `stretch_activation`, or a
recruited one).

    origin o----------o via -----------o insertion
            <-- T                T -->          (tension T >= 0 shortens the path)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import limits
from .errors import ModelError

# Thelen DG (2003) Adjustment of muscle mechanics model parameters to simulate dynamic
# contractions in older adults. J Biomech Eng 125:70-77: active force-length Gaussian width
# gamma = 0.45; passive force-length (exp(kPE (l - 1)/e0) - 1)/(exp(kPE) - 1) with kPE = 5,
# e0 = 0.6 for young adults (R: as implemented in OpenSim's Thelen2003Muscle defaults and
# ArtiSynth's Thelen2003AxialMuscle; the paper's Table 1 was not re-checked).
THELEN_GAMMA = 0.45
THELEN_KPE = 5.0
THELEN_E0 = 0.6
#: Width (in l̃) of the passive curve's onset (`force_length_passive`): Thelen's curve rises
#: from 0 at l̃ = 1 with a slope kPE / (e0 (e^kPE − 1)) = 0.057 at once, a corner in every
#: passive force; over 1 ± `PASSIVE_ONSET_WIDTH`/2 the ramp max(l̃ − 1, 0) inside the exponential
#: is replaced by its quadratic blend (a regularisation, as `supports.CONTACT_SMOOTHING_M` is
#: for the contacts; ASSUMPTION of width, a twelfth of the curve's own scale e0/kPE = 0.12).
#: Exact outside that band; inside it the force differs from Thelen's by at most 7e-5 F_max.
#: Without it the upright mode's least effort has a corner wherever a line's fibres reach
#: their optimal length, and its optimum was drawn there (docs/model.md §6).
PASSIVE_ONSET_WIDTH = 0.01

#: Muscle stiffness gain q in k = q F / l_fibre (dimensionless): the short-range stiffness of an
#: activated muscle, proportional to its active force over its fibre length (Bergmark A (1989)
#: Stability of the lumbar spine. Acta Orthop Scand Suppl 230, who used q ≈ 40 (R); Cholewicki J,
#: McGill SM (1996) Clin Biomech 11:1-15, who used a conservative q = 10 (R); Brown SHM, McGill SM
#: (2010) CMBBE 13:829-835 (V) found q to fall with activation). Default 40: with q = 10 or 20 the
#: default model's relaxed standing is unstable (docs/calibration.md); q is a scenario option.
DEFAULT_SHORT_RANGE_STIFFNESS = 40.0

#: Floor of the baseline activation of each group (the least tone every line keeps in relaxed
#: standing; `tone.baseline_activation` adds what holding the reference posture needs). EMG in
#: quiet standing: ≈ 1-5 % MVC for the lumbar extensors, ≈ 1-8 % for the obliques (internal
#: oblique the most active), a few % or less for rectus abdominis, psoas, gluteus maximus and
#: hamstrings (R, O'Sullivan PB et al. 2002 Spine 27:1238-1244; Snijders CJ, Ribbers MT, de
#: Bakker HV, Stoeckart R, Stam HJ (1998) J Electromyogr Kinesiol 8:205-214; Juker D et al. 1998
#: Med Sci Sports Exerc 30:301-310; docs/references.md). Torso muscles are continuously active
#: in relaxed standing ("Activity in torso muscles during relaxed standing", abstract V; most
#: likely Woodhull-McNeal AP (1986) Eur J Appl Physiol 55:419-424, authors and journal R,
#: docs/references.md).
DEFAULT_TONE = {
    "psoas": 0.02,
    "iliacus": 0.02,
    "rectus_abdominis": 0.01,
    "external_oblique": 0.01,
    "internal_oblique": 0.02,
    # transversus abdominis: tonically active in standing (Hodges PW, Gandevia SC (2000) J Appl
    # Physiol 89:967-976, V, qualitative); no % MVC of relaxed standing found: the internal
    # oblique's floor (ASSUMPTION)
    "transversus_abdominis": 0.02,
    "erector_spinae": 0.03,
    "multifidus": 0.03,
    "quadratus_lumborum": 0.02,
    "hamstrings": 0.02,
    "gluteus_maximus": 0.01,
    "rectus_femoris": 0.01,
    # legs: soleus < 5 % MVC in natural stance, tibialis anterior silent there (Okada M,
    # Fujiwara K (1984) J Hum Ergol 13:97-106, abstract V); the soleus is continuously active
    # in quiet standing and the quadriceps mostly silent (Joseph J (1962) Clin Orthop 25:92-97;
    # Portnoy H, Morin F (1956) Am J Physiol 186:122-126; R)
    "vasti": 0.01,
    "gastrocnemius": 0.01,
    "soleus": 0.02,
    "tibialis_anterior": 0.01,
    # neck: low continuous activity of the dorsal neck muscles holding the head upright, the
    # ventral ones near rest (ASSUMPTION at the level of the trunk floors; no normalised EMG of
    # relaxed standing found, docs/calibration.md)
    "neck_extensors": 0.02,
    "neck_flexors": 0.01,
}

#: Ceiling of the relaxed-standing tone of the trunk muscles (`tone.fit_tone`): the upper ends
#: of the relaxed-standing EMG ranges quoted with `DEFAULT_TONE` (R: ≈ 0-5 % MVC for the back
#: extensors and rectus abdominis, ≈ 0-8 % for the obliques; O'Sullivan et al. 2002, Snijders
#: et al. 1998). No line of these groups is given more in the relaxed tone: where they would
#: need more, the spine's passive tissues carry the rest (docs/calibration.md §2). The hip
#: muscles have none (the hip's tissues take no share in the fit: its published law is fixed,
#: so its muscles must hold what it needs), nor have the groups without a published range.
RELAXED_TONE_MAX = {"erector_spinae": 0.05, "multifidus": 0.05, "external_oblique": 0.08,
                    "internal_oblique": 0.08, "rectus_abdominis": 0.05}


def force_length_active(lt: np.ndarray):
    """Thelen (2003) active force-length curve f_L(l̃) and its derivative."""
    f = np.exp(-((lt - 1.0) ** 2) / THELEN_GAMMA)
    return f, f * (-2.0 * (lt - 1.0) / THELEN_GAMMA)


def force_length_passive(lt: np.ndarray):
    """Thelen (2003) passive force-length curve f_PE(l̃) and its derivative, its onset rounded
    over 1 ± w/2 (w = `PASSIVE_ONSET_WIDTH`): f_PE = (exp(kPE s / e0) − 1)/(exp(kPE) − 1) with
    s the ramp max(l̃ − 1, 0) but s = (l̃ − 1 + w/2)² / (2w) inside the band (continuous with
    its slope): zero below 1 − w/2, Thelen's exactly above 1 + w/2."""
    w = PASSIVE_ONSET_WIDTH
    x = lt - 1.0
    r = np.maximum(x + 0.5 * w, 0.0)
    s = np.where(x >= 0.5 * w, x, r * r / (2.0 * w))
    ds = np.minimum(r / w, 1.0)
    den = math.expm1(THELEN_KPE)
    ks = THELEN_KPE * s / THELEN_E0
    return np.expm1(ks) / den, THELEN_KPE / THELEN_E0 * np.exp(ks) / den * ds


@dataclass(frozen=True)
class MuscleSetting:
    """How a scenario sets one muscle group or line: exactly one of the three ways.

    Parameters
    ----------
    tension_N : a fixed tension along the path (N, >= 0); for a group, shared among its lines
        in proportion to their maximum isometric force. No stiffness.
    activation : 0-1, through the Hill-type law with short-range stiffness.
    resting_length_scale : 0.5-1.5; multiplies the optimal fibre length only (the number of
        sarcomeres in series; the tendon slack length is unchanged, docs/model.md §6):
        < 1 = "tight", adaptively shortened; > 1 = "long". The muscle keeps its default
        activation.
    """

    tension_N: float | None = None
    activation: float | None = None
    resting_length_scale: float | None = None

    def __post_init__(self):
        given = [k for k in ("tension_N", "activation", "resting_length_scale")
                 if getattr(self, k) is not None]
        if len(given) != 1:
            raise ModelError("a muscle setting needs exactly one of tension_N, activation, "
                             f"resting_length_scale; got {given or 'none'}")
        limits.check("MuscleSetting", f"muscles.{given[0]}", getattr(self, given[0]))

    @property
    def kind(self) -> str:
        return next(k for k in ("tension_N", "activation", "resting_length_scale")
                    if getattr(self, k) is not None)


#: |logit| beyond which the logistic stretch response is saturated.
LOGIT_CLIP = 60.0


@dataclass(frozen=True, eq=False)
class Lines:
    """The force-law parameters and settings of every line in one problem: arrays (M,).

    Made by `make_lines`, the one place that derives them; read by `fiber_curves`, `tension`
    and `stretch_activation`.
    """

    fmax_cos: np.ndarray        # F_max cos α (N)
    lopt: np.ndarray            # optimal fibre length (m), after a resting-length scale
    lts: np.ndarray             # tendon slack length (m)
    lopt_cos: np.ndarray        # l_opt cos α (m)
    fixed_tension: np.ndarray   # bool: the line pulls with a fixed tension (no stiffness)
    tension: np.ndarray         # the fixed tensions (N)
    activation: np.ndarray      # the set (or baseline) activation of every other line
    excess: np.ndarray          # int: lines whose passive force counts only above the default muscle's
    L_ref: np.ndarray           # length at the stretch response's set point (m)
    logit: np.ndarray           # logit of the set activation (−inf: none)
    gain: np.ndarray            # stretch-response gain (1/m; 0: none)
    # one evaluation of f_PE for every line and, after them, the default muscle of the `excess`
    # lines: line index, l_ts and l_opt cos α of each evaluation (M + E,)
    fpe_line: np.ndarray
    fpe_lts: np.ndarray
    fpe_lopt_cos: np.ndarray

    @property
    def n(self) -> int:
        return self.fmax_cos.shape[-1]


def make_lines(model, *, lopt, lts, fixed_tension, tension, activation, excess_passive,
               L_ref, short_range_stiffness: float) -> Lines:
    """The `Lines` of a problem: the model's F_max and pennation with the problem's fibre and
    tendon lengths, settings and stretch-response set point (docs/model.md §6).

    excess_passive : (M,) bool, lines whose passive force counts only above that of their
    default muscle (the hip-crossing lines: the published hip passive moment includes them).
    """
    cos_a = np.cos(np.asarray(model.pennation, float))
    lopt, lts = np.asarray(lopt, float), np.asarray(lts, float)
    lopt_cos = lopt * cos_a
    excess = np.flatnonzero(excess_passive)
    logit, gain = stretch_response(L_ref, lts, lopt, activation, fixed_tension, short_range_stiffness)
    lopt0_cos = np.asarray(model.optimal_fiber_length, float) * cos_a
    lts0 = np.asarray(model.tendon_slack_length, float)
    return Lines(fmax_cos=np.asarray(model.max_isometric_force, float) * cos_a, lopt=lopt, lts=lts,
                 lopt_cos=lopt_cos, fixed_tension=np.asarray(fixed_tension, bool),
                 tension=np.asarray(tension, float), activation=np.asarray(activation, float),
                 excess=excess, L_ref=np.asarray(L_ref, float), logit=logit, gain=gain,
                 fpe_line=np.concatenate((np.arange(len(lts)), excess)),
                 fpe_lts=np.concatenate((lts, lts0[excess])),
                 fpe_lopt_cos=np.concatenate((lopt_cos, lopt0_cos[excess])))


def stretch_response(set_point_length, lts, lopt, activation, fixed_tension, q):
    """Logit of the set activation and gain (1/m) of the stretch response about the set-point
    lengths (docs/model.md §6): k = q F / l_fibre at the set point, fibre length along the line
    with a rigid tendon. The logistic saturates at full activation; above 0.9 the gain is held
    at its a = 0.9 value so that it stays finite (the stiffness there is slightly below qF/l)."""
    fiber = np.maximum(np.asarray(set_point_length) - lts, 0.2 * lopt)
    activation = np.asarray(activation, float)
    a = np.clip(activation, 1e-12, 1.0 - 1e-12)
    logit = np.where(activation > 0, np.log(a / (1.0 - a)), -np.inf)
    gain = np.where(fixed_tension | (activation <= 0), 0.0, q / (fiber * (1.0 - np.minimum(a, 0.9))))
    return logit, gain


def fiber_curves(lines: Lines, length: np.ndarray):
    """The normalised force-length curves of every line at musculotendon lengths (M,):
    f_L, ∂f_L/∂L (1/m), the counted passive f_PE (net of the default muscle's for the `excess`
    lines) and ∂f_PE/∂L (1/m). l̃ = (L − l_ts) / (l_opt cos α), rigid tendon. Lengths (..., M)
    give curves (..., M)."""
    n = lines.n
    lt_all = (length.take(lines.fpe_line, -1) - lines.fpe_lts) / lines.fpe_lopt_cos
    fl, dfl = force_length_active(lt_all[..., :n])
    fpe_all, dfpe_all = force_length_passive(lt_all)
    dfpe_all = dfpe_all / lines.fpe_lopt_cos
    passive, dpassive = fpe_all[..., :n].copy(), dfpe_all[..., :n].copy()
    passive[..., lines.excess] -= fpe_all[..., n:]
    dpassive[..., lines.excess] -= dfpe_all[..., n:]
    return fl, dfl / lines.lopt_cos, passive, dpassive


def tension(lines: Lines, curves, activation: np.ndarray, dactivation=None, slope: bool = False):
    """The tension of every line (M,) (N, ≥ 0) and, if ``slope``, dT/dL (M,) (N/m; else None).

    T = F_max cos α [a f_L(l̃) + f_PE(l̃)], clipped at 0; a line with a fixed tension pulls with
    it and has no stiffness. ``curves`` is `fiber_curves` at the lengths; ``activation`` (M,) the
    activation of every line and ``dactivation`` its derivative along the line (1/m; None: 0).
    """
    fl, dfl, passive, dpassive = curves
    hill = lines.fmax_cos * (activation * fl + passive)
    out = np.where(lines.fixed_tension, lines.tension, np.maximum(hill, 0.0))
    if not slope:
        return out, None
    if dactivation is None:
        dhill = activation * dfl + dpassive
    else:
        dhill = dactivation * fl + activation * dfl + dpassive
    return out, np.where(lines.fixed_tension | (hill <= 0.0), 0.0, lines.fmax_cos * dhill)


def stretch_activation(lines: Lines, length: np.ndarray):
    """Activation after the stretch response about the set point (docs/model.md §6),
    a_eff = σ(logit a + g (L − L_ref)), and its derivative along the line (1/m; 0 where the
    logit is saturated). At L_ref its stiffness is q F / l_fibre (short-range stiffness); a_eff
    stays within 0-1 for any stretch."""
    x = lines.logit + lines.gain * (length - lines.L_ref)
    a = 1.0 / (1.0 + np.exp(-np.minimum(np.maximum(x, -LOGIT_CLIP), LOGIT_CLIP)))
    return a, np.where(np.abs(x) < LOGIT_CLIP, a * (1.0 - a) * lines.gain, 0.0)

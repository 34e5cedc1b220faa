# Shared fixtures of the physics test suite.
#
# Models take a few ms to build and a forward solve a few ms (an upright solve ~0.1 s), so every
# model and every scenario result is built once per session and shared (both are immutable).
# Scenarios are addressed by name; the hook below parametrises the fixtures `case` (every
# scenario), the subsets of `CASE_SUBSETS` (`standing_case`: standing scenarios of the
# equilibrium mode, for the rotation test; `equilibrium_case`, `upright_case`,
# `upright_standing_case`, `lying_case`) and `subject_key` (every subject). `fd_jacobian_bound`
# gives central-difference stiffness matrices with a first-principles bound on their error.

import warnings
from dataclasses import dataclass, field

import numpy as np
import pytest

import biomech as bm
from biomech.recruitment import Criterion
from biomech.upright import UprightTarget, solve_upright

SEED = 20261121

SUBJECTS = {
    "default": bm.Subject(body_mass_kg=75, height_m=1.75, pelvic_incidence_deg=52),
    "PI40": bm.Subject(body_mass_kg=75, height_m=1.75, pelvic_incidence_deg=40),
    "PI65": bm.Subject(body_mass_kg=75, height_m=1.75, pelvic_incidence_deg=65),
    "tall_heavy": bm.Subject(body_mass_kg=110, height_m=1.95, pelvic_incidence_deg=52),
    "weak_toned": bm.Subject(body_mass_kg=75, height_m=1.75, pelvic_incidence_deg=52,
                             muscle_strength_scale=0.6, tone_scale=2.0),
    "h170": bm.Subject(body_mass_kg=75, height_m=1.70, pelvic_incidence_deg=52),
}


@dataclass(frozen=True)
class Case:
    """One scenario: a subject, the `prepare` arguments, and the mode that solves it.

    target None: the equilibrium mode (`solve_equilibrium`, the ankles and knees held by
    default); an `UprightTarget`: the upright mode (`solve_upright` on the problem with every
    joint free, with ``Criterion(tissue_weight=tissue_weight)``)."""

    subject: str
    support: bm.Support
    settings: dict = field(default_factory=dict)
    loads: tuple = ()
    target: UprightTarget | None = None
    tissue_weight: float = 1.0
    fallen: bool = False        # an equilibrium of the joints that does not balance on the support

    @property
    def upright(self) -> bool:
        return self.target is not None

    def prepare_kwargs(self) -> dict:
        kw = dict(support=self.support, settings=self.settings, loads=self.loads)
        if self.upright:
            kw["locked_joints"] = ()
        return kw


_S, _M = bm.Support, bm.MuscleSetting
_PSOAS_ILIACUS = {"psoas": _M(tension_N=200), "iliacus": _M(tension_N=200)}
_LOAD_L3 = (bm.Load("L3", (0.15, 0.14), mass_kg=10),)

CASES = {
    # the equilibrium mode: one muscle's pull with everything else held
    "standing": Case("default", _S("standing")),
    "standing_psoas300": Case("default", _S("standing"), {"psoas": _M(tension_N=300)}),
    # the frozen body tips over its feet: equilibria of the joints, not balanced (FALLEN)
    "standing_thigh+10": Case("default", _S("standing", thigh_inclination_deg=10), fallen=True),
    "standing_thigh-10": Case("default", _S("standing", thigh_inclination_deg=-10), fallen=True),
    "sitting": Case("default", _S("sitting")),
    "sitting_backrest": Case("default", _S("sitting", backrest_inclination_deg=10)),
    "lying_supported": Case("default", _S("lying", legs="supported")),
    "lying_lifted_psoas_iliacus": Case("default", _S("lying", legs="lifted"), _PSOAS_ILIACUS),
    "standing_load_L3": Case("default", _S("standing"), loads=_LOAD_L3),
    "standing_PI40": Case("PI40", _S("standing")),
    "standing_PI65": Case("PI65", _S("standing")),
    "standing_tall_heavy": Case("tall_heavy", _S("standing")),
    "standing_weak_toned_psoas200": Case("weak_toned", _S("standing"), {"psoas": _M(tension_N=200)}),
    # the upright mode: every joint free, posture and activations together
    "upright_standing": Case("default", _S("standing"), target=UprightTarget()),
    "upright_trunk30": Case("default", _S("standing"), target=UprightTarget(trunk_inclination_deg=30)),
    "upright_standing_load_L3_no_tissue": Case("default", _S("standing"), loads=_LOAD_L3,
                                               target=UprightTarget(), tissue_weight=0.0),
    "upright_sitting": Case("default", _S("sitting"), target=UprightTarget()),
    "upright_sitting_backrest": Case("default", _S("sitting", backrest_inclination_deg=10),
                                     target=UprightTarget()),
    "upright_lying": Case("default", _S("lying"), target=UprightTarget()),
    "upright_lying_lifted_psoas_iliacus": Case("default", _S("lying", legs="lifted"), _PSOAS_ILIACUS,
                                               target=UprightTarget()),
}

# standing scenarios of the equilibrium mode: no support contact, so rotating the body, gravity
# and the floor together is a symmetry
STANDING_CASES = [k for k, c in CASES.items() if c.support.kind == "standing" and not c.upright]
# the other subsets the tests are parametrised over (fixture name -> case names)
CASE_SUBSETS = {
    "standing_case": STANDING_CASES,
    "equilibrium_case": [k for k, c in CASES.items() if not c.upright],
    "upright_standing_case": [k for k, c in CASES.items() if c.upright and c.support.kind == "standing"],
    "lying_case": [k for k, c in CASES.items() if c.support.kind == "lying"],
}


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", list(CASES))
    for name, cases in CASE_SUBSETS.items():
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, cases)
    if "subject_key" in metafunc.fixturenames:
        metafunc.parametrize("subject_key", [k for k in SUBJECTS if k != "h170"])


@pytest.fixture(scope="session")
def get_model():
    cache = {}

    def get(key):
        if key not in cache:
            with warnings.catch_warnings():
                # a failing baseline-tone fit may overflow; the tests check the outcome
                warnings.simplefilter("ignore", RuntimeWarning)
                cache[key] = bm.make_model(SUBJECTS[key])
        return cache[key]

    return get


@pytest.fixture(scope="session")
def cases():
    """{name: `Case`}: what each case name of the fixtures above stands for."""
    return CASES


@pytest.fixture(scope="session")
def model(get_model):
    return get_model("default")


@pytest.fixture(scope="session")
def prepare_case(get_model):
    """The problem a case is solved on (upright cases: every joint free; their result's own
    problem is the `holding_problem` of the recruited activations)."""
    cache = {}

    def prep(name):
        if name not in cache:
            c = CASES[name]
            cache[name] = bm.prepare(get_model(c.subject), **c.prepare_kwargs())
        return cache[name]

    return prep


@pytest.fixture(scope="session")
def solve_case(prepare_case):
    """The result of a case: an `EquilibriumResult` (equilibrium mode) or a `RecruitedResult`
    (upright mode)."""
    cache = {}

    def solve(name):
        if name not in cache:
            c = CASES[name]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                p = prepare_case(name)
                if c.upright:
                    cache[name] = solve_upright(p, c.target, criterion=Criterion(tissue_weight=c.tissue_weight))
                else:
                    cache[name] = bm.solve_equilibrium(problem=p)
        return cache[name]

    return solve


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
    # the tests call some of the algorithms below the solvers' own one-thread limit
    # (biomech/threads.py): on matrices this small more BLAS threads only synchronise, and on a
    # busy machine they made one test 10× slower
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture
def rng():
    return np.random.default_rng(SEED)


def fd_kink_allowance(p, u, h=1e-6):
    """(n_free, n_free) bound on |central differences − exact derivative| of ∂(Bᵀ R)/∂u at free
    coordinates u with step h, from the force laws' kinks inside the stencil [u − h, u + h].

    The generalized forces are smooth but at a few kinks, which the default model meets exactly
    in its reference postures by construction:

    * the passive force-length curve (Thelen 2003, its onset rounded over 1 ± w/2,
      `muscles.PASSIVE_ONSET_WIDTH`) has a continuous slope whose own slope jumps at the two ends
      of that band, by at most f_PE′(1 + w/2)/w per unit l̃², i.e. by J₂ = F_max cos α f_PE′/(w
      (l_opt cos α)²) per m² of the line's length; ∂R_i/∂u_j is continuous, and the central
      difference errs by at most J₂ |g_i| g_j² h/4 (g = ∂L/∂u); J₂ |g_i| g_j² h/2 is allowed.
    * the contact law k pen²/(2δ) | k (pen − δ/2) (`supports.contact_law`) has a continuous
      slope whose own slope jumps by k/δ at pen = 0 and pen = δ (the support contacts are
      preloaded by exactly δ in the reference posture): ∂R_i/∂u_j is continuous, and the
      central difference of a function whose second derivative jumps by J₂ within the stencil
      errs by at most J₂ h/4, J₂ = (k/δ) |v_i| v_j², v = ∂pen/∂u; J₂ h/2 is allowed.
    * an intervertebral law M(θ) is C² but at θ = 0 (its stress-free angle: the reference
      angle of the joints whose passive tissues the baseline tone leaves unloaded), where M''
      jumps by A_e/θ_e² + A_f/θ_f²; J₂ h/2 is allowed on the
      diagonal.
    """
    from biomech import muscles, statics
    from biomech.supports import CONTACT_SMOOTHING_M
    B = p.B
    n = B.shape[1]
    q = p.q_c + B @ u
    geo = bm.geometry(p, q)
    E = np.zeros((n, n))
    lines = p.lines
    g = geo.dLdq @ B                                                    # (M, n) ∂L/∂u
    lt = (geo.length[lines.fpe_line] - lines.fpe_lts) / lines.fpe_lopt_cos
    reach = h * np.abs(g[lines.fpe_line]) / lines.fpe_lopt_cos[:, None]   # |Δl̃| over the stencil
    w = muscles.PASSIVE_ONSET_WIDTH
    curve = muscles.force_length_passive(np.array([1.0 + w / 2]))[1][0] / w     # per unit l̃²
    for edge in (1.0 - w / 2, 1.0 + w / 2):
        for i in np.flatnonzero(np.any(np.abs(lt - edge)[:, None] <= reach, axis=1)):
            k = lines.fpe_line[i]
            if lines.fixed_tension[k]:
                continue
            J2 = lines.fmax_cos[k] * curve / lines.fpe_lopt_cos[i] ** 2
            within = np.abs(lt[i] - edge) <= reach[i]
            E[:, within] += J2 * np.abs(g[k])[:, None] * (g[k, within] ** 2)[None, :] * h / 2
    if len(p.contact_body):
        pen = statics._contact_state(p, geo)[3]
        v = np.column_stack([(statics._contact_state(p, bm.geometry(p, q + h * B[:, j]))[3]
                              - statics._contact_state(p, bm.geometry(p, q - h * B[:, j]))[3]) / (2 * h)
                             for j in range(n)])                         # (nC, n) ∂pen/∂u
        d = CONTACT_SMOOTHING_M
        for c in range(len(pen)):
            within = (np.abs(pen[c]) <= h * np.abs(v[c])) | (np.abs(pen[c] - d) <= h * np.abs(v[c]))
            J2 = p.contact_stiffness[c] / d
            E[:, within] += J2 * np.abs(v[c])[:, None] * (v[c, within] ** 2)[None, :] * h / 2
    theta = q[p.iv_joints] - p.rest_angle[p.iv_joints]
    free = {int(j): col for col, j in enumerate(np.argmax(B, axis=0))}
    for (k0, ae, te, af, tf), j, th in zip(p.iv_coeffs, p.iv_joints, theta):
        if abs(th) <= h and int(j) in free:
            E[free[int(j)], free[int(j)]] += (ae / te ** 2 + af / tf ** 2) * h / 2
    return E


#: rounding of a world position after the chain of joint rotations (m): ~ n_joints · eps · 2 m
POSITION_ROUNDING_M = 1e-14


def fd_jacobian(p, u, h=1e-6):
    """∂(Bᵀ R)/∂u at free coordinates u by central differences with step h (`statics.
    reduced_jacobian_fd`), and an elementwise bound (n_free, n_free) on its error:

    * truncation: for a smooth residual the step-h error is (J_2h − J_h)/3 (Richardson); the
      whole |J_2h − J_h| is allowed;
    * rounding: R is computed from positions rounded by δx = `POSITION_ROUNDING_M`, which a line
      of stiffness dT/dL turns into δT = dT/dL · 2δx (both ends) on a moment arm |∂L/∂u_i|, and a
      contact of slope F' into δF = F' δx on |∂pen/∂u_i|; plus 10 eps of the sum of the magnitudes
      of all the terms of R_i; the difference quotient divides this by h;
    * the force laws' kinks inside the stencil (`fd_kink_allowance`).
    """
    from biomech import statics
    from biomech.supports import contact_law
    J_h = statics.reduced_jacobian_fd(p, u, h)
    J_2h = statics.reduced_jacobian_fd(p, u, 2 * h)
    B = p.B
    q = p.q_c + B @ u
    geo = bm.geometry(p, q)
    T, dT = statics._tension(p, geo.length, True)
    g = np.abs(geo.dLdq @ B)                                         # (M, n) |∂L/∂u|
    dx = POSITION_ROUNDING_M
    noise = 2 * dx * (np.abs(dT) @ g) + 10 * np.finfo(float).eps * (T @ g)
    S = np.abs(p.S)

    def moments(body, pts, f):                                      # Σ |S| |r × F| per joint
        r = pts[:, None, :] - geo.centres[None]
        return np.einsum("nj,nj->j", S[body], np.abs(r[..., 0] * f[:, None, 1] - r[..., 1] * f[:, None, 0]))
    terms = moments(np.arange(len(p.mass)), geo.com, p.weight) + np.abs(statics.passive_moments(p, q)[0])
    if len(p.load_body):
        terms += moments(p.load_body, *statics.load_forces(p, geo))
    if len(p.contact_body):
        cb, cp, cf, pen = statics._contact_state(p, geo)
        terms += moments(cb, cp, cf)
        slope = contact_law(pen, p.contact_stiffness)[1]
        lever = np.linalg.norm(cp[:, None, :] - geo.centres[None], axis=-1) * S[cb]   # ≥ |∂pen/∂q|
        noise = noise + dx * (slope @ lever) @ np.abs(B)
    noise = noise + 10 * np.finfo(float).eps * (np.abs(B).T @ terms)
    bound = np.abs(J_2h - J_h) + noise[:, None] / h + fd_kink_allowance(p, u, h)
    return J_h, bound


@pytest.fixture(scope="session")
def fd_jacobian_bound():
    """`fd_jacobian`, for the tests that compare derivatives with central differences."""
    return fd_jacobian

# Shared fixtures of the physics test suite.
#
# Models take a few ms to build and a solve ~1-2 ms, so every model and every scenario result is
# built once per session and shared (both are immutable). Scenarios are addressed by name; the
# hook below parametrises the fixtures `case` (every scenario), `standing_case` (standing
# scenarios without contacts, for the rotation test) and `subject_key` (every subject).

import warnings

import numpy as np
import pytest

import biomech as bm

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

_PSOAS_ILIACUS = {"psoas": bm.MuscleSetting(tension_N=200), "iliacus": bm.MuscleSetting(tension_N=200)}

# name -> (subject key, solve_equilibrium keyword arguments)
CASES = {
    "standing": ("default", dict(support=bm.Support("standing"))),
    "standing_psoas300": ("default", dict(support=bm.Support("standing"),
                                          settings={"psoas": bm.MuscleSetting(tension_N=300)})),
    "standing_thigh+10": ("default", dict(support=bm.Support("standing", thigh_inclination_deg=10))),
    "standing_thigh+10_hip_flexors": ("default", dict(
        support=bm.Support("standing", thigh_inclination_deg=10),
        settings={"iliacus": bm.MuscleSetting(activation=0.05),
                  "rectus_femoris": bm.MuscleSetting(activation=0.05)})),
    "standing_thigh-10": ("default", dict(support=bm.Support("standing", thigh_inclination_deg=-10))),
    "sitting": ("default", dict(support=bm.Support("sitting"))),
    "lying_supported": ("default", dict(support=bm.Support("lying", legs="supported"))),
    "lying_lifted_psoas_iliacus": ("default", dict(support=bm.Support("lying", legs="lifted"),
                                                   settings=_PSOAS_ILIACUS)),
    "standing_load_L3": ("default", dict(support=bm.Support("standing"),
                                         loads=(bm.Load("L3", (0.15, 0.14), mass_kg=10),))),
    "standing_PI40": ("PI40", dict(support=bm.Support("standing"))),
    "standing_PI65": ("PI65", dict(support=bm.Support("standing"))),
    "standing_tall_heavy": ("tall_heavy", dict(support=bm.Support("standing"))),
    "standing_weak_toned_psoas200": ("weak_toned", dict(support=bm.Support("standing"),
                                     settings={"psoas": bm.MuscleSetting(tension_N=200)})),
}

# standing scenarios: no support contact, so rotating the body and gravity together is a symmetry
STANDING_CASES = [k for k, (_, kw) in CASES.items() if kw["support"].kind == "standing"]


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", list(CASES))
    if "standing_case" in metafunc.fixturenames:
        metafunc.parametrize("standing_case", STANDING_CASES)
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
def model(get_model):
    return get_model("default")


@pytest.fixture(scope="session")
def solve_case(get_model):
    cache = {}

    def solve(name):
        if name not in cache:
            key, kwargs = CASES[name]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                cache[name] = bm.solve_equilibrium(get_model(key), **kwargs)
        return cache[name]

    return solve


@pytest.fixture(scope="session")
def prepare_case(get_model):
    cache = {}

    def prep(name):
        if name not in cache:
            key, kwargs = CASES[name]
            cache[name] = bm.prepare(get_model(key), **kwargs)
        return cache[name]

    return prep


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


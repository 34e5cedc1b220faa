"""Many postures and problems at once (issue 17): the batched statics and `batch.solve_equilibria`
give what the one-posture functions and the single solve give."""

import numpy as np
import pytest

import biomech as bm
from biomech import statics
from biomech import batch
from biomech.batch import CHUNK, solve_equilibria, stack
from biomech.errors import ModelError
from biomech.legs import two_legs
from biomech.supports import Leg, Load


@pytest.fixture(scope="module")
def model():
    return bm.make_model(bm.Subject(body_mass_kg=75, height_m=1.75, pelvic_incidence_deg=52))


def _problems(model):
    psoas = {"psoas": bm.MuscleSetting(tension_N=300)}
    yield bm.prepare(model, support=bm.Support("standing"), settings=psoas)
    yield bm.prepare(model, support=bm.Support("sitting", backrest_inclination_deg=20), settings=psoas)
    yield bm.prepare(model, support=bm.Support("lying"))
    yield bm.prepare(model, support=bm.Support("standing"),
                     loads=(Load(body="thorax_upper", mass_kg=10, point_m=(0.2, 0.3)),))
    yield bm.prepare(two_legs(model), support=bm.Support("lying", right_leg=Leg("held")))


def test_a_batch_of_postures_gives_what_each_posture_gives(model):
    rng = np.random.default_rng(1)
    for p in _problems(model):
        Q = p.q_ref + rng.normal(0.0, 0.03, (2, 3, len(p.q_ref)))
        R, J, G = statics.residual(p, Q), statics.jacobian(p, Q), statics.generalized_forces(p, Q)
        assert R.shape == Q.shape and J.shape == Q.shape + Q.shape[-1:]
        assert G["geometry"].dLdq.shape == (2, 3, p.lines.n, len(p.q_ref))
        for idx in np.ndindex(2, 3):
            one = statics.generalized_forces(p, Q[idx])
            for k in statics.SOURCES + ("muscle_forces",):
                np.testing.assert_allclose(G[k][idx], one[k], rtol=1e-12, atol=1e-9, err_msg=k)
            assert G["pressure_Pa"][idx] == pytest.approx(one["pressure_Pa"], rel=1e-12, abs=1e-9)
            np.testing.assert_allclose(R[idx], statics.residual(p, Q[idx]), rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(J[idx], statics.jacobian(p, Q[idx]), rtol=1e-12, atol=1e-8)


def test_the_batched_stiffness_is_the_derivative_of_the_batched_residual(model):
    p = next(_problems(model))
    Q = p.q_ref + np.random.default_rng(2).normal(0.0, 0.03, (4, len(p.q_ref)))
    J = statics.jacobian(p, Q)
    h = 1e-6
    for j in range(len(p.q_ref)):
        e = np.zeros(len(p.q_ref))
        e[j] = h
        fd = (statics.residual(p, Q + e) - statics.residual(p, Q - e)) / (2 * h)
        np.testing.assert_allclose(J[:, :, j], fd, rtol=1e-5, atol=1e-4)


def test_moment_arms_vanish_exactly_at_the_joints_a_line_does_not_cross(model):
    p = next(_problems(model))
    geo = statics.geometry(p, p.q_ref)
    crossed = np.zeros(geo.dLdq.shape, bool)
    crossed[p.line_joint_index] = True
    assert np.all(geo.dLdq[~crossed] == 0.0)
    assert np.all(np.abs(geo.dLdq[crossed]).max() > 0.0)


def _sweep(model, tensions, **prepare_kwargs):
    return [bm.prepare(model, settings={"psoas": bm.MuscleSetting(tension_N=float(t))}, **prepare_kwargs)
            for t in tensions]


def test_solve_equilibria_gives_what_the_single_solve_gives(model):
    # more problems than one chunk; the first (psoas 0 N) falls, as it does alone
    problems = _sweep(model, np.linspace(0.0, 800.0, CHUNK + 5), support=bm.Support("standing"))
    problems.append(bm.prepare(model, settings={"erector_spinae": bm.MuscleSetting(activation=0.05)}))
    problems.append(bm.prepare(model, settings={"iliacus": bm.MuscleSetting(resting_length_scale=0.8)}))
    batch = solve_equilibria(problems)
    assert len(batch) == len(problems)
    assert batch[0].code is bm.Status.FALLEN
    assert sum(r.success for r in batch) == len(problems) - 1
    for p, res in zip(problems, batch):
        one = bm.solve_equilibrium(problem=p)
        assert res.problem is p
        assert res.code is one.code and res.message.split("(")[0] == one.message.split("(")[0]
        np.testing.assert_allclose(res.q, one.q, atol=1e-8)
        if res.success:
            assert res.max_residual_Nm < p.tolerance_Nm
            np.testing.assert_allclose(statics.residual(p, res.q) @ p.B, 0.0, atol=p.tolerance_Nm)
            np.testing.assert_allclose(res.stiffness_eigenvalues, one.stiffness_eigenvalues, rtol=1e-6)
            assert res.iterations == one.iterations
            assert np.array_equal(res.geometry.q, res.q)


def test_solve_equilibria_takes_one_start_or_one_per_problem(model):
    problems = _sweep(model, (200.0, 400.0), support=bm.Support("sitting"))
    single = [bm.solve_equilibrium(problem=p) for p in problems]
    starts = np.array([r.q for r in single])
    for q0 in (starts[0], starts):
        for p, res, one in zip(problems, solve_equilibria(problems, q0=q0), single):
            assert res.success and np.abs(res.q - one.q).max() < 1e-8
    from_solutions = solve_equilibria(problems, q0=starts)
    assert [r.iterations for r in from_solutions] == [0, 0]


def test_stack_refuses_problems_that_differ_in_more_than_their_settings(model):
    a = bm.prepare(model, support=bm.Support("standing"))
    with pytest.raises(ModelError, match="differ in 'support'"):
        stack([a, bm.prepare(model, support=bm.Support("sitting"))])
    with pytest.raises(ModelError, match="differ in 'loads'"):
        stack([a, bm.prepare(model, loads=(Load(body="thorax_upper", mass_kg=5, point_m=(0.2, 0.3)),))])
    with pytest.raises(ModelError, match="at least one"):
        stack([])
    with pytest.raises(ModelError, match="q0"):
        solve_equilibria([a], q0=np.full(model.n_joints, np.nan))
    with pytest.raises(ModelError, match="q0"):
        solve_equilibria([a, a], q0=np.zeros((3, model.n_joints)))
    with pytest.raises(ModelError, match="prepared problems"):
        stack([a, model])
    # equal problems prepared apart (not the same arrays) stack
    assert stack([a, bm.prepare(model, support=bm.Support("standing"), tolerance_Nm=1e-6)]).lines.tension.ndim == 1


def test_path_lengths_of_a_batch_of_postures_are_those_of_each_posture_bit_for_bit(model):
    # paths.path_lengths sums each line's segments in the same order for one posture and a batch
    from biomech import kinematics as kin
    from biomech.paths import path_lengths
    p = bm.prepare(model)
    Q = p.q_ref + np.random.default_rng(2).normal(0.0, 0.05, (3, 2, len(p.q_ref)))
    geo = statics.geometry(p, Q)
    pts = kin.points_world(geo.angles, geo.origins, p.paths.body, p.paths.local)
    total, seg = path_lengths(p.paths, pts)
    assert total.shape == (3, 2, model.n_muscles) and seg.shape == (3, 2, len(p.paths.seg_a))
    for idx in np.ndindex(3, 2):
        one_total, one_seg = path_lengths(p.paths, pts[idx])
        np.testing.assert_array_equal(total[idx], one_total)
        np.testing.assert_array_equal(seg[idx], one_seg)
    np.testing.assert_allclose(total, geo.length, rtol=1e-12)


def _subjects_problems(settings=None, support=None):
    from biomech.tone import calibrated_model
    subjects = [(bm.Subject(body_mass_kg=58, height_m=1.58, pelvic_incidence_deg=38, muscle_strength_scale=0.8), 1.4, 0.7),
                (bm.Subject(body_mass_kg=96, height_m=1.88, pelvic_incidence_deg=63), 0.7, 1.5),
                (bm.Subject(), 1.0, 1.0)]
    return [bm.prepare(calibrated_model(*s), support=support or bm.Support("standing"),
                       settings=settings or {"psoas": bm.MuscleSetting(tension_N=150 + 100 * k)})
            for k, s in enumerate(subjects)]


def test_a_batch_of_subjects_gives_what_each_subject_gives():
    # batch.stack of problems of other subjects (models of the same bodies, joints and lines):
    # their anatomy, masses, passive laws and reference postures gain the batch's dimension
    problems = _subjects_problems()
    stacked = stack(problems)
    assert {"all_local", "weight", "iv_coeffs", "rest_angle", "q_c", "leg_const"} <= set(stacked.batch_fields)
    Q = np.stack([p.q_ref for p in problems]) + np.random.default_rng(4).normal(0.0, 0.03, (3, problems[0].model.n_joints))
    G, J = statics.forces_and_jacobian(stacked, Q)
    for k, p in enumerate(problems):
        one, J_one = statics.forces_and_jacobian(p, Q[k])
        for key in statics.SOURCES + ("muscle_forces", "pressure_Pa"):
            np.testing.assert_allclose(G[key][k], one[key], rtol=1e-12, atol=1e-9, err_msg=key)
        np.testing.assert_allclose(J[k], J_one, rtol=1e-12, atol=1e-8 * np.abs(J_one).max())
    # solved together: the steps and the postures of each solved alone
    for res, p in zip(solve_equilibria(problems), problems):
        alone = statics.solve_equilibrium(problem=p)
        assert res.code == alone.code and res.iterations == alone.iterations
        assert np.abs(res.q - alone.q).max() < 1e-10 and res.problem is p
    # a chunk of them, as in a longer batch
    assert batch._take(stacked, np.arange(3)) is stacked               # all of them, in order
    taken = batch._take(stacked, np.array([2, 0]))
    np.testing.assert_allclose(statics.residual(taken, Q[[2, 0]]), statics.residual(stacked, Q)[[2, 0]], rtol=1e-12, atol=1e-9)


def test_a_batch_of_subjects_needs_one_topology_and_support():
    problems = _subjects_problems()
    with pytest.raises(ModelError, match="differ in 'support'"):
        stack([problems[0], _subjects_problems(support=bm.Support("sitting"))[1]])
    two = bm.prepare(two_legs(problems[1].model), support=bm.Support("standing"))
    with pytest.raises(ModelError, match="differ in"):
        stack([problems[0], two])
    with pytest.raises(ModelError, match="single problems"):
        stack([stack(problems), problems[0]])


def test_a_batch_steps_off_its_saddles_as_each_single_solve_does():
    # relaxed standing of some subjects is an equilibrium that is not a minimum: the reference
    # posture itself (the tone holds it exactly), a saddle. solve_equilibria steps off all such
    # rows at once (batch._step_off, both ways along the unstable mode, the nearer stable
    # equilibrium) as statics.solve_equilibrium does alone: the same status, message, iterations
    from biomech.tone import calibrated_model
    saddles = [(bm.Subject(body_mass_kg=78.53, height_m=1.7206, pelvic_incidence_deg=48.68,
                           muscle_strength_scale=0.8807), 0.813, 0.907),
               (bm.Subject(body_mass_kg=107.42, height_m=1.6685, pelvic_incidence_deg=40.79,
                           muscle_strength_scale=0.9628), 0.673, 0.894),
               (bm.Subject(body_mass_kg=74.54, height_m=1.5969, pelvic_incidence_deg=37.52,
                           muscle_strength_scale=0.8923), 0.946, 0.993)]
    problems = [bm.prepare(calibrated_model(*s), support=bm.Support("standing")) for s in saddles]
    problems.insert(1, bm.prepare(calibrated_model(bm.Subject()), support=bm.Support("standing")))  # no saddle
    for res, p in zip(solve_equilibria(problems), problems):
        alone = statics.solve_equilibrium(problem=p)
        assert (res.code, res.message, res.iterations) == (alone.code, alone.message, alone.iterations)
        assert np.abs(res.q - alone.q).max() < 1e-10 and res.problem is p
        np.testing.assert_allclose(res.stiffness_eigenvalues, alone.stiffness_eigenvalues, rtol=1e-9)
    moved = [statics.solve_equilibrium(problem=p).iterations > 0 for p in problems]
    assert moved == [True, False, True, True]          # the three left the reference posture


def test_a_batch_of_one_is_the_single_solve(model):
    # nothing to share: solve_equilibria of one problem is statics.solve_equilibrium itself
    p = bm.prepare(model, settings={"psoas": bm.MuscleSetting(tension_N=300)})
    (res,) = solve_equilibria([p], q0=p.q_ref + 0.01)
    alone = statics.solve_equilibrium(problem=p, q0=p.q_ref + 0.01)
    np.testing.assert_array_equal(res.q, alone.q)
    assert (res.code, res.iterations, res.max_residual_Nm) == (alone.code, alone.iterations, alone.max_residual_Nm)

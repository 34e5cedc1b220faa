"""Parallel and distributed runs give the results of a serial run (biomech/parallel.py)."""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import biomech as bm
from biomech import cli
from biomech.errors import BiomechError
from biomech.parallel import map_tasks
from biomech.runner import (CONTINUATION_BLOCK, _equal_steps, _values, document_bytes, dumps, run_document,
                            model_for, run_scenarios, solve_block, solve_point)
from biomech.scenario import load_scenario, sweep_points

ROOT = Path(__file__).resolve().parents[1]


def _square(x):
    return x * x


def _fails(x):
    if x == 3:
        raise BiomechError("task 3 failed")
    return x


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    # a multi-block forward sweep (with a fallen point), a one-posture scenario, an upright
    # (the default mode) sweep, an inverse posture and an upright sitting one with a backrest
    names = ("psoas_tension_sweep.toml", "tight_psoas.toml", "psoas_tension_upright.toml",
             "hyperlordosis_inverse.toml")
    scs = [load_scenario(ROOT / "scenarios" / n) for n in names]
    chair = tmp_path_factory.mktemp("chair") / "chair.toml"
    chair.write_text(f'extends = "{ROOT / "scenarios" / "sitting.toml"}"\n[scenario]\nname = "chair"\n'
                     "[support]\nbackrest_inclination_deg = 15.0\n")
    scs.append(load_scenario(chair))
    assert len(sweep_points(scs[0])) > CONTINUATION_BLOCK          # more than one block
    assert {s.mode for s in scs} == {"equilibrium", "upright", "inverse"}
    return scs


@pytest.fixture(scope="module")
def serial(scenarios):
    return run_scenarios(scenarios, workers=1)


def _assert_identical(runs_a, runs_b):
    """Same points, same statuses, same postures and documents, bit for bit."""
    assert len(runs_a) == len(runs_b)
    for a, b in zip(runs_a, runs_b):
        assert [p.values for p in a.points] == [p.values for p in b.points]
        for pa, pb in zip(a.points, b.points):
            assert np.array_equal(pa.result.q, pb.result.q)
            assert pa.result.code == pb.result.code and pa.result.message == pb.result.message
        assert run_document(a) == run_document(b)


def test_result_files_are_the_document_encoded_point_by_point(serial):
    # result.json is built and encoded one posture at a time (runner.document_bytes): the bytes
    # of encoding the whole document at once, for sweeps and single postures of every mode
    for run in serial:
        assert document_bytes(run) == dumps(run_document(run)), run.scenario.name


def test_the_secant_start_saves_newton_steps_and_finds_the_same_postures(scenarios):
    # a block of an evenly stepped psoas sweep: from the secant prediction through the two
    # previous postures, fewer iterations than from the previous posture alone, and the same
    # equilibria (each solved to the 1e-6 N·m residual of the file)
    sweep = scenarios[0]
    points = sweep_points(sweep)[1:1 + CONTINUATION_BLOCK]        # 50, 100, ... 500 N
    values = [_values(sweep, pt) for pt in points]
    secant = solve_block(points, values)
    plain = solve_block(points)
    assert all(r.success for r, _ in secant + plain)
    assert sum(r.iterations for r, _ in secant) < sum(r.iterations for r, _ in plain)
    for (a, _), (b, _) in zip(secant, plain):
        np.testing.assert_allclose(a.q, b.q, rtol=0, atol=1e-6)
    # a grid's jump to its next row is not an even step: no prediction there
    assert _equal_steps((0.0, 40.0), (0.0, 60.0), (0.0, 80.0))
    assert not _equal_steps((0.0, 40.0), (0.0, 60.0), (0.5, 40.0))


def test_each_block_of_a_sweep_starts_from_its_own_first_point(tmp_path):
    # the first points of the blocks are solved first, one after another (continuation every
    # CONTINUATION_BLOCK-th point): the second block's first point is that result, solved from
    # the first block's first point, not from the reference posture, and the same equilibrium
    # (a fine psoas sweep: 2 N steps)
    f = tmp_path / "fine.toml"
    f.write_text(f'extends = "{(ROOT / "scenarios" / "psoas_tension_sweep.toml").as_posix()}"\n[scenario]\n'
                 'name = "fine"\n[sweep]\n"muscles.psoas.tension_N" = { start = 30, stop = 70, num = 21 }\n')
    sweep = load_scenario(f)
    run = run_scenarios([sweep])[0]
    points = sweep_points(sweep)
    heads = solve_block(points[::CONTINUATION_BLOCK], [_values(sweep, p) for p in points[::CONTINUATION_BLOCK]])
    second = run.points[CONTINUATION_BLOCK].result
    assert np.array_equal(second.q, heads[1][0].q) and second.iterations == heads[1][0].iterations
    cold = solve_point(points[CONTINUATION_BLOCK], model_for(points[CONTINUATION_BLOCK]))
    assert second.success and cold.success and not np.array_equal(second.q, cold.q)   # another start
    np.testing.assert_allclose(second.q, cold.q, rtol=0, atol=1e-6)


def test_map_tasks_keeps_order_on_any_number_of_workers():
    tasks = list(range(37))
    expected = [t * t for t in tasks]
    for workers in (1, 2, 3):
        done = []
        assert map_tasks(_square, tasks, workers=workers, progress=done.append) == expected
        assert sorted(done) == tasks


def test_a_failing_task_raises_its_error():
    for workers in (1, 2):
        with pytest.raises(BiomechError, match="task 3 failed"):
            map_tasks(_fails, range(6), workers=workers)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_worker_counts_are_rejected(bad):
    with pytest.raises(BiomechError, match="workers must be a whole number"):
        map_tasks(_square, [1, 2], workers=bad)


def test_model_and_result_survive_pickling():
    model = bm.make_model(bm.Subject(pelvic_incidence_deg=60))
    res = bm.solve_equilibrium(model, settings={"psoas": bm.MuscleSetting(tension_N=200)})
    back = pickle.loads(pickle.dumps(res))
    m = back.problem.model
    assert m.passive == model.passive and type(m.landmarks) is type(model.landmarks)
    assert not m.mass.flags.writeable and not m.landmarks["ASIS"][1].flags.writeable
    with pytest.raises(TypeError):
        m.landmarks["ASIS"] = None
    assert np.array_equal(back.q, res.q)
    assert bm.to_dict(back) == bm.to_dict(res)


def test_process_pool_run_is_identical_to_serial(scenarios, serial):
    _assert_identical(serial, run_scenarios(scenarios, workers=2))


def test_progress_counts_postures(scenarios):
    calls = []
    run_scenarios(scenarios[:2], workers=2, progress=lambda d, t: calls.append((d, t)))
    total = sum(len(sweep_points(s)) for s in scenarios[:2])
    assert calls[-1] == (total, total) and [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_cli_workers_write_identical_files(tmp_path):
    # solved and drawn by two processes: the same bytes, figures included (needs the figures);
    # exit code 0 either way: every posture of the three files solves (tests/test_library.py)
    files = [str(ROOT / "scenarios" / n) for n in ("psoas_tension_sweep.toml", "tight_psoas.toml",
                                                   "sitting.toml")]
    for workers in ("1", "2"):
        assert cli.main(["run", *files, "--workers", workers, "--out", str(tmp_path / workers)]) == 0
    assert len(list((tmp_path / "2").rglob("*.png"))) == 4
    for f in sorted((tmp_path / "1").rglob("*.*")):
        twin = tmp_path / "2" / f.relative_to(tmp_path / "1")
        assert twin.read_bytes() == f.read_bytes(), f.name


@pytest.mark.parametrize("value", ["0", "two", "-3"])
def test_cli_rejects_bad_workers(value, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", str(ROOT / "scenarios" / "tight_psoas.toml"), "--workers", value])
    assert exc.value.code == 2
    assert "expected a whole number of processes" in capsys.readouterr().err


def test_unreachable_dask_scheduler_is_a_clear_error(capsys, monkeypatch):
    pytest.importorskip("dask.distributed")
    import biomech.parallel
    monkeypatch.setattr(biomech.parallel, "DASK_CONNECT_TIMEOUT_S", 1.0)   # nothing listens there
    code = cli.main(["run", str(ROOT / "scenarios" / "tight_psoas.toml"), "--no-plots",
                     "--dask", "tcp://127.0.0.1:9"])
    assert code == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err


def test_dask_local_cluster_run_is_identical_to_serial(scenarios, serial):
    # bit for bit: the solvers run with one BLAS thread (biomech/threads.py), as Dask's workers do
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        _assert_identical(serial, run_scenarios(scenarios, dask=cluster.scheduler_address))


def test_solvers_run_with_one_blas_thread_and_nested_calls_keep_the_limit():
    # biomech/threads.py: a decorated function runs with every BLAS at one thread; one called
    # inside another (the solves of a sweep block) runs under the same limit without setting
    # it again, and the caller's own threads come back afterwards
    import scipy.linalg  # noqa: F401  (its BLAS loaded before the count, as the decorator loads it)
    from threadpoolctl import threadpool_info

    from biomech import threads

    def blas_threads():
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    seen = []

    @threads.one_blas_thread
    def inner():
        seen.append(("inner", blas_threads(), threads.limited()))

    @threads.one_blas_thread
    def outer():
        seen.append(("outer", blas_threads(), threads.limited()))
        inner()

    before = blas_threads()
    outer()
    assert [s[0] for s in seen] == ["outer", "inner"]
    assert all(set(s[1]) <= {1} and s[2] for s in seen)
    assert blas_threads() == before and not threads.limited()


#: Run in a fresh interpreter (the session's tests have scipy loaded and every BLAS limited,
#: tests/conftest.py): scipy's BLAS loaded inside a limited call is limited until it returns.
SCIPY_LOADED_INSIDE = """
import sys
import biomech as bm
from biomech import threads
from biomech.supports import Support
from threadpoolctl import threadpool_info

def blas():
    return sorted((lib["filepath"], lib["num_threads"]) for lib in threadpool_info() if lib["user_api"] == "blas")

model = bm.make_model()
bm.solve_equilibrium(model, support=Support("standing"))
print("forward", "scipy" in sys.modules)
seen = []

@threads.one_blas_thread
def solve():
    threads.scipy_optimize()
    seen.append(blas())
    threads.scipy_optimize()          # loaded: nothing more to limit
    seen.append(blas())

before = blas()
solve()
after = blas()
print("inside", len(seen[0]) > len(before) and all(n == 1 for _, n in seen[0] + seen[1]))
print("after", [n for _, n in before] == [2] and [n for _, n in after] == [2] * len(after))

@threads.one_blas_thread
def again():
    return blas()

print("again", all(n == 1 for _, n in again()) and blas() == after)
"""


def test_forward_solves_do_not_import_scipy_and_scipys_blas_is_limited_where_it_loads():
    # issue 17: scipy.optimize costs 0.3 s to import; a forward solve never calls it. Where a
    # solver does (the SLSQP fallbacks), its BLAS, loaded inside the limited call, is limited
    # there too and restored on return; a later limited call limits it from the start
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")} | {"OPENBLAS_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, "-c", SCIPY_LOADED_INSIDE], capture_output=True, text=True,
                         env=env, check=True).stdout.split("\n")
    assert out[:4] == ["forward False", "inside True", "after True", "again True"]


def test_workers_started_early_have_the_preloaded_modules_imported(tmp_path):
    # `biomech run` with figures starts the process server before reading the scenario files,
    # preloading biomech.viz: the workers it forks have Matplotlib imported already. In a fresh
    # interpreter (this session's server may run already, with its own preload)
    (tmp_path / "probe.py").write_text("import sys\n\ndef loaded(name):\n    return name in sys.modules\n")
    code = ("import sys\nsys.path.insert(0, sys.argv[1])\nimport probe\n"
            "from biomech.parallel import PRELOAD, map_tasks, start_workers\n"
            "if __name__ == '__main__':\n"
            "    start_workers(PRELOAD + ('biomech.viz',))\n"
            "    print('main', 'matplotlib' in sys.modules)\n"
            "    print('workers', map_tasks(probe.loaded, ['matplotlib', 'biomech.viz'], workers=2))\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    if "forkserver" in __import__("multiprocessing").get_all_start_methods():
        assert out[:2] == ["main False", "workers [True, True]"]

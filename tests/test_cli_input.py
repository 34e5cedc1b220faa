"""The command line on bad input, in this process (`biomech.cli.main`): every bad file of a
folder reported, exit code 2, nothing written; progress on a terminal and in a log."""

import io
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from biomech import cli

LIB = Path(__file__).resolve().parents[1] / "scenarios"
GOOD = '[scenario]\nname = "{name}"\ndescription = "A test posture."\n'


def biomech(capsys, *args) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def folder(tmp_path):
    """Two good files and three bad ones, one of them with two problems."""
    d = tmp_path / "scenarios"
    d.mkdir()
    shutil.copy(LIB / "neutral_standing.toml", d / "neutral_standing.toml")
    (d / "good.toml").write_text(GOOD.format(name="good"))
    (d / "bad_a.toml").write_text(GOOD.format(name="bad-a") + "[subject]\nheigth_m = 1.8\n")
    (d / "bad_b.toml").write_text(GOOD.format(name="bad-b") + "[subject]\nheight_m = 9\n"
                                  + "[solver]\nmax_iterations = 0\n")
    (d / "bad_c.toml").write_text("[scenario\n")
    return d


def test_check_reports_every_bad_file_of_a_folder(capsys, folder):
    code, out, err = biomech(capsys, "check", folder)
    assert code == 2
    assert out.count("ok  ") == 2 and "good.toml" in out and "neutral_standing.toml" in out
    lines = err.splitlines()
    assert all(line.startswith("biomech check: error: ") for line in lines[:-1])
    assert lines[-1] == "biomech check: 4 problems"
    for pattern in ("bad_a.toml: subject.heigth_m: unknown key", "bad_b.toml: subject.height_m: 9",
                    "bad_b.toml: solver.max_iterations: 0", "bad_c.toml: malformed TOML"):
        assert pattern in err, pattern


def test_run_on_a_folder_with_bad_files_writes_nothing(capsys, folder, tmp_path):
    out_dir = tmp_path / "results"
    code, out, err = biomech(capsys, "run", folder, "--out", out_dir, "--no-plots")
    assert code == 2 and out == "" and not out_dir.exists()
    assert all(name in err for name in ("bad_a.toml", "bad_b.toml", "bad_c.toml"))


def test_list_shows_the_good_files_and_reports_the_bad(capsys, folder):
    code, out, err = biomech(capsys, "list", folder)
    assert code == 2 and "good.toml" in out and "A test posture." in out
    assert all(name in err for name in ("bad_a.toml", "bad_b.toml", "bad_c.toml"))


def test_check_reports_every_missing_path(capsys, tmp_path):
    code, _, err = biomech(capsys, "check", tmp_path / "a.toml", LIB / "lying.toml",
                           tmp_path / "b.toml")
    assert code == 2 and "a.toml: no such file" in err and "b.toml: no such file" in err


def test_a_child_inherits_the_question(capsys, tmp_path):
    (tmp_path / "child.toml").write_text(f'extends = "{LIB / "tight_psoas.toml"}"\n'
                                         '[scenario]\nname = "tighter"\n'
                                         "[muscles.psoas]\nresting_length_scale = 0.8\n")
    code, out, _ = biomech(capsys, "list", tmp_path)
    question = (LIB / "tight_psoas.toml").read_text().split('description = "')[1].split('"')[0]
    assert code == 0 and question in out


@pytest.mark.parametrize("args, expect", [
    (("--dpi", "0"), "--dpi must be within 20-600"),
    (("--out", "{file}"), "exists and is not a folder"),
    (("--out", "{file}/sub"), "is not a folder"),
])
def test_bad_output_options_exit_2_before_solving(capsys, tmp_path, args, expect):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    args = [a.format(file=a_file) for a in args]
    code, out, err = biomech(capsys, "run", LIB / "neutral_standing.toml", "--no-plots", *args)
    assert code == 2 and out == "" and expect in err


def test_progress_on_a_terminal_is_one_live_line(monkeypatch):
    stream = io.StringIO()
    stream.isatty = lambda: True
    monkeypatch.setattr(cli.sys, "stderr", stream)
    progress = cli._Progress("solved")
    progress.start -= 2.0                               # as if it had run for two seconds
    progress(10, 30)
    progress(30, 30)
    progress.done([])
    assert stream.getvalue() == "\rsolved: 10/30 postures\rsolved: 30/30 postures\n"


def test_progress_in_a_log_is_one_line_per_scenario(monkeypatch):
    stream = io.StringIO()
    stream.isatty = lambda: False
    monkeypatch.setattr(cli.sys, "stderr", stream)
    progress = cli._Progress("solved")
    progress.start -= 2.0
    progress(10, 30)
    progress(30, 30)

    def run(name, *ok):
        return SimpleNamespace(scenario=SimpleNamespace(name=name),
                               points=[SimpleNamespace(result=SimpleNamespace(success=s)) for s in ok])
    progress.done([run("a", True), run("b", True, False, True)])
    assert stream.getvalue() == "solved a: 1 posture\nsolved b: 3 postures, 1 not solved\n"
    assert "\r" not in stream.getvalue()


def test_a_quick_run_prints_no_progress(monkeypatch):
    stream = io.StringIO()
    stream.isatty = lambda: False
    monkeypatch.setattr(cli.sys, "stderr", stream)
    progress = cli._Progress("solved")
    progress.start += 60.0                               # not a second yet
    progress(1, 1)
    progress.done([SimpleNamespace(scenario=SimpleNamespace(name="a"), points=[])])
    assert stream.getvalue() == ""


def test_compare_of_many_long_names_keeps_the_figure_name_short(capsys, tmp_path):
    names = [f"scenario-with-a-rather-long-name-number-{i:02d}" for i in range(6)]
    files = []
    for name in names:
        files.append(tmp_path / f"{name}.toml")
        files[-1].write_text(f'extends = "{LIB / "neutral_standing.toml"}"\n'
                             f'[scenario]\nname = "{name}"\n')
    code, out, err = biomech(capsys, "compare", *files, "--out", tmp_path / "out", "--workers", "1")
    assert code == 0, err                          # the joined name was 280 characters: OSError
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"compare_{names[0]}_vs_5_more.png", f"compare_{names[0]}_vs_5_more_side_by_side.png"]


@pytest.mark.parametrize("command", ["run", "animate", "compare"])
def test_unusable_output_paths_exit_2(capsys, command):
    sweep = LIB / "psoas_tension_sweep.toml"
    files = {"run": [sweep, "--no-plots"], "animate": [sweep],
             "compare": [LIB / "tight_psoas.toml", LIB / "neutral_standing.toml"]}[command]
    for out in ("a\0b.gif", "/proc/no/such/folder/x.gif"):
        code, _, err = biomech(capsys, command, *files, "--out", out, "--workers", "1") \
            if command != "animate" else biomech(capsys, command, *files, "--out", out)
        assert code == 2 and "--out" in err and "internal error" not in err, (out, err)

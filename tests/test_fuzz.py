"""Fuzzing the command line with mutated scenario files (issue 16 §3).

The scenario library and the valid test files are mutated (keys deleted and misspelt, values
of the wrong type, out of range, huge, NaN or infinite, deep nesting, bad `extends`, unicode,
NUL characters, long strings, lines deleted) and fed to `biomech check` (every case) and
`biomech run --no-plots` (a sample), in this process through `biomech.cli.main`. Every case must
end with exit code 0, 1 or 2, never 3 (internal error); no output may hold a traceback; a run
that exits with 2 must write nothing; every error line must name a file and, unless the whole
file is at fault, a key path; and no message may repeat a long input (over 80 characters) in
full. Seeded: the same cases every time. BIOMECH_FUZZ_CASES=5000 fuzzes longer.
"""

import contextlib
import io
import json
import os
import random
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from biomech.cli import main

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "scenarios").glob("*.toml")) + sorted((ROOT / "tests" / "data" / "valid").glob("*.toml"))
SEED = int(os.environ.get("BIOMECH_FUZZ_SEED", "163"))
CASES = int(os.environ.get("BIOMECH_FUZZ_CASES", "400"))
MAX_RUNS = CASES // 12           # valid cases are also run, this many at most (each ~0.3 s:
                                 # BIOMECH_FUZZ_CASES=4000 for a deeper run),
MAX_RUN_POSTURES = 12            # ... when they have at most this many postures
MAX_SHOWN = 80                   # no message repeats more of a long input than this

# problems of a whole file: no key path follows the file name
FILE_LEVEL = ("malformed TOML", "file not found", "not UTF-8", "a directory, not a file",
              "not a regular file", "the file has", "cannot be read", "nested more than",
              "the path", "a symbolic link", "no *.toml scenario files", "no such file")

_SEGMENT = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*")'
KEY_PATH = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*: ")
"""A dotted key path, its parts bare or quoted, as error messages begin after the file."""

# ------------------------------------------------------------------------------------------
# a TOML writer for the mutated documents: every top-level key on one line, inline values


def toml_key(key) -> str:
    key = str(key)
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def toml_value(value) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)   # JSON escapes are TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value))                      # dates: as strings


def to_toml(document: dict) -> str:
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in document.items())


class Raw:
    """TOML text put in place of a value as it is (deep nesting, literal huge integers)."""

    def __init__(self, text):
        self.text = text


# ------------------------------------------------------------------------------------------
# mutations


def long_text(rng: random.Random) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz_-.0123456789 éλ中🙂\u202e\u0301"
    return "".join(rng.choice(alphabet) for _ in range(rng.choice((120, 400, 3000))))


WEIRD_STRINGS = ["", " ", "psoas", "sittting", "lying", "inverse", "upright", "L5_S1", "thorx",
                 "thorax", "thorax_uper", "foot", "T8_T9", "hold", "table_legs",
                 "a\u0000b", "\u202eevil", "ünïcödé", "🙂", "\n\n", "1.75", "nan", "75",
                 "x" * 65, "../x"]


def wrong_value(rng: random.Random, long_inputs: list):
    kind = rng.randrange(14)
    if kind == 0:
        return rng.choice(WEIRD_STRINGS)
    if kind == 1:
        text = long_text(rng)
        long_inputs.append(text)
        return text
    if kind == 2:
        return rng.choice([True, False])
    if kind == 3:
        return {rng.choice(["a", "start", "tension_N", "kind"]): rng.choice([1, "x", [1]])}
    if kind == 4:
        return [rng.choice([1, 2.5, "x", True])] * rng.choice((0, 1, 2, 3))
    if kind == 5:
        return rng.choice([float("nan"), float("inf"), float("-inf")])
    if kind == 6:
        return rng.choice([1e308, -1e308, 5e-324, 1e30, -1e30])
    if kind == 7:
        return rng.choice([10**30, -10**30, 2**63 - 1, 0, -1, 1])
    if kind == 8:
        return Raw("9" * rng.choice((20, 400, 4400)))
    if kind == 9:
        depth = rng.choice((11, 50, 200, 600))
        return Raw("[" * depth + "]" * depth if rng.random() < 0.5 else "{a=" * depth + "1" + "}" * depth)
    if kind == 10:
        return Raw("1979-05-27T07:32:00Z")
    if kind == 11:
        return rng.uniform(-1e4, 1e4)
    if kind == 12:
        return rng.choice([-180.0, 180.0, 150.0, -60.0, 0.0, 90.0, 1e-10, 1e-2, 10001.0])
    return rng.randint(-1000, 1000)


def paths_in(document, prefix=()):
    """Every key path of a document (tables and arrays descended)."""
    items = document.items() if isinstance(document, dict) else enumerate(document)
    for key, value in items:
        path = prefix + (key,)
        yield path
        if isinstance(value, (dict, list)):
            yield from paths_in(value, path)


def get_parent(document, path):
    node = document
    for part in path[:-1]:
        node = node[part]
    return node


def misspell(rng: random.Random, key: str, long_inputs: list) -> str:
    choice = rng.randrange(6)
    if choice == 0 and len(key) > 1:
        i = rng.randrange(len(key) - 1)
        return key[:i] + key[i + 1] + key[i] + key[i + 2:]
    if choice == 1 and key:
        i = rng.randrange(len(key))
        return key[:i] + key[i + 1:]
    if choice == 2:
        return key + rng.choice("s_x")
    if choice == 3:
        text = long_text(rng)
        long_inputs.append(text)
        return text
    if choice == 4:
        return rng.choice(["", "\u0000", "ключ", "🙂", "a.b", " "])
    return key.upper()


EXTRA_TABLES = [
    ("scenario", "mode", ["equilibrium", "upright", "inverse", "sideways"]),
    ("support", "kind", ["standing", "sitting", "lying"]),
    ("support", "legs", ["supported", "lifted"]),
    ("support", "thigh_inclination_deg", [-60.0, 0.0, 90.0, 150.0]),
    ("support", "knee_flexion_deg", [0.0, 45.0, 90.0, 150.0]),
    ("support", "backrest_inclination_deg", [0.0, 10.0, 45.0]),
    ("inverse", "pelvic_tilt_deg", [-40.0, 0.0, 15.0, 30.0, 80.0]),
    ("inverse", "lumbar_lordosis_deg", [-40.0, 40.0, 70.0, 100.0]),
    ("inverse", "trunk_inclination_deg", [-60.0, 0.0, 60.0]),
    ("inverse", "sacral_slope_deg", [-30.0, 40.0, 90.0]),
    ("inverse", "joint_angles_deg", [{"hip": 10.0}, {"L5_S1": 20.0}, {"T12_L1": -170.0}, {"knee": 30.0},
                                     {"ankle": -10.0}, {"T8_T9": 5.0}, {"C7_T1": 20.0}]),
    ("upright", "trunk_inclination_deg", [-60.0, 0.0, 30.0]),
    ("upright", "head_angle_deg", [-30.0, 0.0, 20.0]),
    ("upright", "sagittal_vertical_axis_mm", [-100.0, 0.0, 150.0]),
    ("upright", "thorax_angle_deg", [-20.0, 0.0, 20.0]),
    ("upright", "thigh_inclination_deg", [-10.0, 0.0, 90.0]),
    ("upright", "knee_flexion_deg", [0.0, 30.0, 90.0]),
    ("upright", "pelvic_tilt_deg", [0.0, 13.0, 30.0]),
    ("upright", "tissue_weight", [0.0, 1.0, 5.0]),
    ("upright", "criterion", ["stress_power", "activation_squared"]),
    ("upright", "stress_exponent", [2.0, 4.0]),
    ("sweep", "inverse.pelvic_tilt_deg", [[10.0, 80.0], {"start": -40, "stop": 80, "num": 3}]),
    ("sweep", "subject.height_m", [[1.2, 2.2], {"start": 1.2, "stop": 2.2, "num": 4}]),
    ("sweep", "loads.0.mass_kg", [[0.0, 5.0]]),
    ("sweep", "muscles.psoas.activation", [[0.0, 1.0]]),
    ("sweep", "support.backrest_inclination_deg", [[0.0, 30.0]]),
    ("sweep", "upright.head_angle_deg", [[-20.0, 20.0]]),
    ("muscles", "psoas", [{"tension_N": 1e4}, {"activation": 1.0}, {"resting_length_scale": 0.5}]),
    ("muscles", "neck_extensors", [{"activation": 0.0}, {"tension_N": 500.0}]),
    ("muscles", "soleus", [{"activation": 1.0}, {"resting_length_scale": 0.7}]),
    ("loads", None, [[{"body": "thorax_upper", "point_m": [3.0, -3.0], "force_N": [1e4, -1e4]}],
                     [{"body": "L3", "point_m": [0.1, 0.1], "mass_kg": 500.0}],
                     [{"body": "head", "point_m": [0.1, 0.6], "mass_kg": 5.0}],
                     [{"body": "foot", "point_m": [0.1, -0.9], "force_N": [0.0, -100.0]}],
                     [{"body": "thorax", "point_m": [0.1, 0.3], "mass_kg": 1.0}], []]),
    ("passive", "hip_stiffness_scale", [0.0, 2.0, 10.0]),
    ("passive", "disc_stiffness_scale", [0.5, 2.0]),
    ("solver", "max_iterations", [1, 1000, 3.5]),
    ("solver", "short_range_stiffness", [0.0, 100.0]),
    ("subject", "body_mass_kg", [30.0, 200.0]),
    ("subject", "pelvic_incidence_deg", [20.0, 90.0]),
]


def change_a_rule(rng: random.Random, document: dict) -> None:
    """Set a key that changes what else is allowed: a mode, a support kind, a sweep, ..."""
    table, key, values = rng.choice(EXTRA_TABLES)
    if key is None:
        document[table] = rng.choice(values)
        return
    if not isinstance(document.get(table), dict):
        document[table] = {}
    document[table][key] = rng.choice(values)


def bad_extends(rng: random.Random, folder: Path, long_inputs: list):
    options = ["../../../../../../etc/passwd", "no_such_file.toml", "a_directory.toml",
               "loop_a.toml", "chain_0000.toml", "self.toml", "x\u0000y.toml", "", 1,
               ["neutral_standing.toml"], "neutral_standing.toml", "../scenarios/lying.toml",
               "/", "neutral_standing.toml/", str(folder / "lying.toml")]
    value = rng.choice(options)
    if rng.random() < 0.1:
        value = "d/" * 160 + "neutral_standing.toml"
        long_inputs.append(value)
    return value


def mutate(rng: random.Random, document: dict, folder: Path, long_inputs: list) -> dict:
    for _ in range(rng.choice((1, 1, 2, 3))):
        op = rng.randrange(8)
        paths = list(paths_in(document))
        if op == 0 and paths:                                   # delete a key
            path = rng.choice(paths)
            parent = get_parent(document, path)
            if isinstance(parent, dict):
                del parent[path[-1]]
            elif parent:
                parent.pop(path[-1])
        elif op == 1 and paths:                                 # misspell a key
            path = rng.choice(paths)
            parent = get_parent(document, path)
            if isinstance(parent, dict):
                parent[misspell(rng, str(path[-1]), long_inputs)] = parent.pop(path[-1])
        elif op in (2, 3) and paths:                            # a value of the wrong kind
            path = rng.choice(paths)
            get_parent(document, path)[path[-1]] = wrong_value(rng, long_inputs)
        elif op == 4:                                           # extends gone wrong
            document["extends"] = bad_extends(rng, folder, long_inputs)
        elif op == 5:                                           # a key that changes the rules
            change_a_rule(rng, document)
        elif op == 6:                                           # a new key anywhere
            target = document
            tables = [p for p in paths if isinstance(get_parent(document, p).get(p[-1])
                                                     if isinstance(get_parent(document, p), dict)
                                                     else None, dict)]
            if tables and rng.random() < 0.7:
                path = rng.choice(tables)
                target = get_parent(document, path)[path[-1]]
            target[misspell(rng, rng.choice(["kind", "name", "tension_N", "x"]), long_inputs)] = \
                wrong_value(rng, long_inputs)
        else:                                                   # [scenario] of strange text
            scenario = document.setdefault("scenario", {})
            if isinstance(scenario, dict):
                field = rng.choice(["name", "description", "mode"])
                scenario[field] = wrong_value(rng, long_inputs)
    return document


def text_mutation(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    op = rng.randrange(4)
    if op == 0 and lines:
        del lines[rng.randrange(len(lines))]
    elif op == 1 and lines:
        lines.insert(rng.randrange(len(lines)), rng.choice(lines))
    elif op == 2:
        return text[:rng.randrange(len(text) + 1)]
    else:
        lines.append(rng.choice(["[subject\n", "x = \n", "\u0000\n", "[[loads]]\n", "a.b.c = 1\n",
                                 "= 1\n", "\xff\n"]))
    return "".join(lines)


# ------------------------------------------------------------------------------------------


def setup_folder(folder: Path) -> dict:
    """Copies of the sources (their extends resolve among them), and traps for extends."""
    for src in SOURCES:
        shutil.copy(src, folder / src.name)
    (folder / "a_directory.toml").mkdir()
    os.symlink("loop_b.toml", folder / "loop_a.toml")
    os.symlink("loop_a.toml", folder / "loop_b.toml")
    for i in range(300):                                        # a chain longer than allowed
        extends = f'extends = "chain_{i + 1:04d}.toml"\n' if i < 299 else ""
        (folder / f"chain_{i:04d}.toml").write_text(
            extends + f'[scenario]\nname = "chain-{i}"\ndescription = "A link of a long chain."\n')
    (folder / "self.toml").write_text('extends = "self.toml"\n[scenario]\nname = "s"\n')
    return {src.name: tomllib.loads(src.read_text()) for src in SOURCES}


def cli(*args) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue() + err.getvalue()


def check_output(code: int, output: str, case: str, long_inputs: list) -> None:
    assert code in (0, 1, 2), f"{case}: exit {code}\n{output[-3000:]}"
    assert "Traceback" not in output and "internal error" not in output, f"{case}\n{output[-3000:]}"
    messages = "\n".join(line for line in output.splitlines() if ": error: " in line)
    for text in long_inputs:                 # (a description is shown as it is, by design)
        for i in range(len(text) - MAX_SHOWN):
            assert text[i:i + MAX_SHOWN + 1] not in messages, \
                f"{case}: a message repeats a long input in full\n{messages[:2000]}"
    if code == 2:
        errors = [line for line in output.splitlines() if ": error: " in line]
        assert errors, f"{case}: exit 2 without an error line\n{output[-2000:]}"
        for line in errors:
            message = line.split(": error: ", 1)[1]
            match = re.match(r"(.+?\.toml[^:]*|[^:]*): (.*)", message)
            assert match and (".toml" in match[1] or "/" in match[1]), \
                f"{case}: an error that names no file: {line[:500]}"
            rest = match[2]
            assert KEY_PATH.match(rest) or rest.startswith(FILE_LEVEL), \
                f"{case}: an error with no key path: {line[:500]}"


def test_fuzz_the_command_line(tmp_path):
    rng = random.Random(SEED)
    folder = tmp_path / "lib"
    folder.mkdir()
    documents = setup_folder(folder)
    names = sorted(documents)
    runs = 0
    for case in range(CASES):
        source = rng.choice(names)
        long_inputs: list[str] = []
        if rng.random() < 0.15:
            text = text_mutation(rng, (folder / source).read_text())
        elif rng.random() < 0.25:                      # mild: keys that change the rules only
            document = json.loads(json.dumps(documents[source]))
            for _ in range(rng.choice((1, 2, 3))):
                change_a_rule(rng, document)
            text = to_toml(document)
        else:
            document = json.loads(json.dumps(documents[source]))       # a deep copy
            text = to_toml(mutate(rng, document, folder, long_inputs))
        path = folder / f"case_{case:04d}.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        label = f"case {case} (from {source}): {path}"
        code, output = cli("check", path)
        check_output(code, output, label, long_inputs)
        postures = re.search(r"\((\S+), (\d+) postures?\)", output)
        if code == 0 and runs < MAX_RUNS and postures and int(postures[2]) <= MAX_RUN_POSTURES:
            out_dir = tmp_path / f"out_{case:04d}"
            code, output = cli("run", path, "--no-plots", "--workers", "1", "--out", out_dir)
            check_output(code, output, label + " [run]", long_inputs)
            assert code != 2 or not out_dir.exists(), f"{label}: exit 2 but outputs written"
            runs += 1
        path.unlink()
    assert runs >= CASES // 30                          # the sample of runs is not empty
    # a folder of them: every bad file is reported, not just the first
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for name in ("neutral_standing.toml", "tight_psoas.toml"):
        shutil.copy(folder / name, mixed / name)
    for case in range(3):
        (mixed / f"bad_{case}.toml").write_text(f'[scenario]\nname = "bad-{case}"\n')
    code, output = cli("check", mixed)
    assert code == 2 and all(f"bad_{case}.toml" in output for case in range(3))
    assert output.count("ok  ") == 2
    check_output(code, output, "the folder", [])


def test_fuzz_writer_round_trips():
    # the writer the fuzzer relies on writes what tomllib reads back
    for name, document in ((p.name, tomllib.loads(p.read_text())) for p in SOURCES):
        assert tomllib.loads(to_toml(document)) == document, name


@pytest.mark.parametrize("depth", [11, 500])
def test_deep_nesting_is_a_clean_error(tmp_path, depth):
    path = tmp_path / "deep.toml"
    path.write_text('[scenario]\nname = "deep"\ndescription = "Deep."\n[subject]\nheight_m = '
                    + "[" * depth + "]" * depth + "\n")
    code, output = cli("check", path)
    assert code == 2 and "nested" in output and "Traceback" not in output


def test_every_sitting_thigh_inclination_has_a_sane_reference_posture():
    # found by this fuzzer (seed 4, from full.toml): sitting at a thigh inclination other than
    # 90° gave a reference posture thousands of degrees away, then an internal error (exit 3)
    # or an absurd collapse. Every allowed inclination and knee flexion must give a reference
    # posture within a turn, and a run that ends without an internal error
    import warnings

    import numpy as np

    import biomech as bm
    model = bm.make_model()
    bad = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for thigh in range(-60, 151, 10):
            for knee in (0.0, 45.0, 90.0):
                p = bm.prepare(model, support=bm.Support("sitting", thigh_inclination_deg=thigh, knee_flexion_deg=knee))
                if not np.all(np.abs(p.q_ref) < np.pi):
                    bad.append((thigh, knee))
    assert not bad, f"sitting reference postures beyond a turn at (thigh, knee) = {bad}"

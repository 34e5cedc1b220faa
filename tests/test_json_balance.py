# A result checked from its JSON alone (conventions §5, issue 16).
#
# The documents come from the command line (`biomech run FILE --json --no-plots`, run through
# `biomech.cli.main` with stdout captured); everything after that reads only the parsed JSON:
# no biomech internals. For every document (every sweep point):
#
# * every sub-chain of bodies on either side of every joint, and every single body, is in
#   balance (force and moment) under the weights (mass × gravity at the COM), the muscle path
#   segments (3D segment rule: a segment p→q pulls p with T·(q−p)_xy/ℓ and q with the opposite,
#   ℓ = √(|q−p|²_xy + (z_q−z_p)²)), the external loads, the support contacts (forces and
#   moments), the passive joint moments and the joint reactions, to 1e-6 of the size of the
#   forces involved;
# * every reported moment arm is −dL/dq of the path rebuilt from its points, by a central
#   difference of the 3D path length when the bodies on the superior side of the joint rotate
#   rigidly about the joint centre (q of a joint rotates its superior body relative to its
#   inferior one, whichever body the support holds; a rigid motion of the whole model leaves
#   every length unchanged, so moving the superior side is moving the joint);
# * every reported length is the rebuilt 3D path length.

import contextlib
import io
import json
import math
from pathlib import Path

import pytest

from biomech.cli import main

ROOT = Path(__file__).resolve().parents[1]
FILES = ["neutral_standing.toml", "sitting.toml", "lying.toml", "supine_leg_raise.toml",
         "pregnancy_load.toml", "tight_psoas_upright.toml", "psoas_tension_upright.toml",
         "hyperlordosis_inverse.toml"]
REL_TOL = 1e-6
ARM_TOL_M = 1e-9          # central difference with h = 1e-5 rad: truncation and rounding < 1e-11 m
H_RAD = 1e-5


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    out = tmp_path_factory.mktemp("json_balance")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(["run", *(str(ROOT / "scenarios" / f) for f in FILES), "--json", "--no-plots",
                     "--workers", "1", "--out", str(out)])
    assert code == 0
    docs = json.loads(stdout.getvalue())
    assert [Path(d["scenario"]["file"]).name for d in docs] == FILES
    return dict(zip(FILES, docs))


def postures(doc):
    """The one-posture documents of a document (the points of a sweep)."""
    return doc["points"] if "points" in doc else [doc]


# ---------------------------------------------------------------------------------------------
# the reader's side: plain Python on the parsed JSON
def cross(r, f):
    return r[0] * f[1] - r[1] * f[0]


def sides(doc):
    """For each joint: (bodies on its superior side, bodies on its inferior side), from the
    tree of `inferior`/`superior` names."""
    links = {}
    for j in doc["joints"].values():
        links.setdefault(j["inferior"], set()).add(j["superior"])
        links.setdefault(j["superior"], set()).add(j["inferior"])

    def reach(start, cut):
        seen, todo = {start}, [start]
        while todo:
            b = todo.pop()
            for n in links.get(b, ()):
                if n not in seen and {b, n} != cut:
                    seen.add(n)
                    todo.append(n)
        return seen
    out = {}
    for name, j in doc["joints"].items():
        cut = {j["inferior"], j["superior"]}
        out[name] = (reach(j["superior"], cut), reach(j["inferior"], cut))
    assert set().union(*out[next(iter(out))]) == set(doc["bodies"])
    return out


def body_loads(doc):
    """Every load on every body: {body: [(point or None, force (Fx, Fy), moment)]}; a point
    force has moment 0 about its point, a pure moment has point None and force (0, 0)."""
    loads = {b: [] for b in doc["bodies"]}
    g = doc["gravity_m_s2"]
    for b, v in doc["bodies"].items():
        loads[b].append((v["com_m"], (v["mass_kg"] * g[0], v["mass_kg"] * g[1]), 0.0))
    for m in doc["muscles"].values():
        t, path = m["force_N"], m["path"]
        for p, q in zip(path, path[1:]):
            (px, py), (qx, qy) = p["point_m"], q["point_m"]
            dx, dy, dz = qx - px, qy - py, q["lateral_m"] - p["lateral_m"]
            ell = math.sqrt(dx * dx + dy * dy + dz * dz)
            f = (t * dx / ell, t * dy / ell)
            loads[p["body"]].append((p["point_m"], f, 0.0))
            loads[q["body"]].append((q["point_m"], (-f[0], -f[1]), 0.0))
    for ld in doc["external_loads"]:
        loads[ld["body"]].append((ld["point_m"], ld["force_N"], 0.0))
    for c in doc["support"]["contacts"]:
        loads[c["body"]].append((c["point_m"], c["force_N"], c["moment_Nm"]))
    for j in doc["joints"].values():
        r, c, mp = j["reaction_force_N"], j["center_m"], j["passive_moment_Nm"]
        loads[j["superior"]].append((c, r, mp))
        loads[j["inferior"]].append((c, (-r[0], -r[1]), -mp))
    return loads


def imbalance(loads, bodies, about):
    """Resultant force, moment about ``about`` and their scales (sums of magnitudes)."""
    fx = fy = m = f_scale = m_scale = 0.0
    for b in bodies:
        for p, f, mo in loads[b]:
            fx += f[0]
            fy += f[1]
            arm = cross((p[0] - about[0], p[1] - about[1]), f)
            m += arm + mo
            f_scale += math.hypot(*f)
            m_scale += abs(arm) + abs(mo)
    return math.hypot(fx, fy), abs(m), f_scale, m_scale


def path_length(path, moved, centre, angle):
    """3D length of a path whose points on the bodies ``moved`` are rotated by ``angle`` about
    ``centre`` in the plane (their lateral offsets stay)."""
    c, s = math.cos(angle), math.sin(angle)
    pts = []
    for p in path:
        x, y = p["point_m"]
        if p["body"] in moved:
            rx, ry = x - centre[0], y - centre[1]
            x, y = centre[0] + c * rx - s * ry, centre[1] + s * rx + c * ry
        pts.append((x, y, p["lateral_m"]))
    return sum(math.dist(a, b) for a, b in zip(pts, pts[1:]))


# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("file", FILES)
def test_every_sub_chain_balances(documents, file):
    for doc in postures(documents[file]):
        assert doc["status"]["converged"], doc["status"]["message"]
        loads = body_loads(doc)
        chains = [(f"{'above' if k == 0 else 'below'} {name}", side[k], doc["joints"][name]["center_m"])
                  for name, side in sides(doc).items() for k in (0, 1)]
        chains += [(b, {b}, v["com_m"]) for b, v in doc["bodies"].items()]
        for label, bodies, about in chains:
            f, m, f_scale, m_scale = imbalance(loads, bodies, about)
            assert f <= REL_TOL * f_scale, (file, label, f, f_scale)
            assert m <= REL_TOL * m_scale, (file, label, m, m_scale)


@pytest.mark.parametrize("file", FILES)
def test_moment_arms_and_lengths_follow_from_the_paths(documents, file):
    for doc in postures(documents[file]):
        side = sides(doc)
        for name, m in doc["muscles"].items():
            assert abs(path_length(m["path"], set(), (0, 0), 0.0) - m["length_m"]) < 1e-12, name
            assert m["moment_arms_m"], name
            for joint, arm in m["moment_arms_m"].items():
                c = doc["joints"][joint]["center_m"]
                up = side[joint][0]
                fd = -(path_length(m["path"], up, c, H_RAD) - path_length(m["path"], up, c, -H_RAD)) / (2 * H_RAD)
                assert abs(fd - arm) <= ARM_TOL_M, (file, name, joint, fd, arm)


@pytest.mark.parametrize("file", FILES)
def test_support_lists_the_hold_of_the_held_body(documents, file):
    """The held body gets a force and a moment from the support; lying, the table carries the
    weight of every body whose weight it holds (all of them, or all but lifted legs)."""
    for doc in postures(documents[file]):
        sup = doc["support"]
        names = [c["name"] for c in sup["contacts"]]
        assert names.count("hold") == 1
        held = next(c["body"] for c in sup["contacts"] if c["name"] == "hold")
        assert held == ("thorax" if sup["kind"] == "lying" else "femur")
        for c in sup["contacts"]:
            assert set(c) == {"name", "body", "point_m", "force_N", "moment_Nm"}
        carried = {c["body"] for c in sup["contacts"] if c["name"] == "table_weight"}
        if sup["kind"] != "lying":
            assert not carried
        elif sup["legs"] == "lifted":
            assert carried == set(doc["bodies"]) - {"femur"}
        else:
            assert carried == set(doc["bodies"]) and "table_legs" in names

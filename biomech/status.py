"""The one status vocabulary of a solved posture (conventions §5 ``status.code``).

Every solver returns a result with one of these codes and a message for people; the JSON
result reports both, and the exit code of `biomech run` follows from them.
"""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """Why a posture is, or is not, an answer (the values are the JSON's ``status.code``)."""

    SOLVED = "solved"
    UNSTABLE = "unstable"
    NOT_CONVERGED = "not_converged"
    COLLAPSED = "collapsed"
    FALLEN = "fallen"
    SHORTFALL = "shortfall"
    TARGET_MISSED = "target_missed"

    @property
    def meaning(self) -> str:
        return MEANING[self]


MEANING = {
    Status.SOLVED: "an equilibrium: converged and, in the equilibrium mode, statically stable "
                   "(the upright and inverse modes report their static stability without "
                   "requiring it: the posture is held actively)",
    Status.UNSTABLE: "converged to an equilibrium that is statically unstable (equilibrium mode)",
    Status.NOT_CONVERGED: "the iteration did not reach the tolerance within its limit",
    Status.COLLAPSED: "no equilibrium within the physiological range: a joint collapsed beyond it",
    Status.FALLEN: "not balanced on the support: the centre of pressure is outside the foot (the "
                   "body tips over the toes or the heels), the feet lift off the floor, or the back "
                   "lifts off the table",
    Status.SHORTFALL: "the muscles cannot hold the posture: a joint moment is missing (the "
                      "shortfall per joint is in the result)",
    Status.TARGET_MISSED: "the upright mode could not reach its postural target",
}
"""What each code means (docs/api.md lists them)."""

"""Unit factors. SI inside the code; degrees appear only at the edges (conventions §1)."""

import math

RAD_PER_DEG = math.pi / 180.0
"""Multiply degrees by this to get radians."""

DEG_PER_RAD = 180.0 / math.pi
"""Multiply radians by this to get degrees."""

STANDARD_GRAVITY = 9.81
"""m/s²."""

"""Figures of biomech: matplotlib drawings of solved postures, sweeps, overlays, animations.

`viz.figures` builds the figures (`posture_figure`, `overlay_figure`, `side_by_side_figure`,
`sweep_figure`, `save_figure`), `viz.drawing` holds the pieces they share (the skeleton of a posture, bones,
muscles, angles, one style), `viz.viewer` the interactive window and `viz.animation` sweep
animations. Importing `biomech` does not import matplotlib; importing `biomech.viz` does.
"""

from .drawing import OKABE_ITO, STYLE
from .figures import (overlay_figure, parameter_label, plot_overlay, plot_posture, plot_sweep,
                      posture_figure, save_figure, side_by_side_figure, sweep_figure)

__all__ = ["OKABE_ITO", "STYLE", "overlay_figure", "parameter_label", "plot_overlay", "plot_posture",
           "plot_sweep", "posture_figure", "save_figure", "side_by_side_figure", "sweep_figure"]

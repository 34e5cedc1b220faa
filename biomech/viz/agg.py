"""An Agg canvas that draws text at less cost, pixel for pixel as matplotlib's (issue 17).

matplotlib 3.11 draws a string glyph by glyph from Python: it lays the string out with
``FT2Font._layout`` at every draw, its metrics with ``FT2Font.set_text`` once per renderer, and
builds a NumPy transform for every glyph. Text was a third of the time of a posture figure
(~130 of 400 ms, 1150 glyphs). `FigureCanvas` gives `Renderer`, which

* keeps the layout and the metrics of each (font, size, dpi, string, hinting) for the process:
  pure functions of these, and most strings (tick labels, axis labels, names, legend rows)
  recur from figure to figure;
* keeps each font's ascent, descent and line gap (`Renderer._get_font_height_metrics`), which
  `Text` otherwise reads from the font's tables at every one of its ~340 layouts per figure;
* sets the font size once per string instead of once per glyph (FreeType re-runs the font's
  hinting set-up after each size change: 40 -> 20 µs per glyph) and computes the glyph
  transform once per string;
* skips a line of text that lies wholly outside the clip rectangle (a label of the whole body
  beyond the lumbopelvic view): it would draw no pixel.

The glyphs are rendered and composited by the same FreeType and Agg calls with the same
arguments, so the pixels are the same (tests/test_plotting.py compares them). Measured on the
figures of `biomech run scenarios/` with the other changes of issue 17: text 130 -> ~55 ms of a
posture figure. `write_png` writes the PNG files.
"""

from __future__ import annotations

import functools
import math
import struct
import zlib

import numpy as np

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.font_manager import fontManager, get_font
from matplotlib.ft2font import FT2Font

try:
    from matplotlib.ft2font import RenderMode
except ImportError:                       # before matplotlib 3.11
    RenderMode = None

#: Whether `FigureCanvas` may be used: it follows matplotlib 3.11's own text drawing step by step
#: and calls private parts of it (``FT2Font._layout``, ``_set_transform``, ``_render_glyph``,
#: ``RendererAgg._prepare_font``), so only with that minor version; elsewhere the figures are
#: drawn by matplotlib's Agg canvas itself (the same pixels, slower). tests/test_plotting.py
#: compares the two pixel for pixel where this is True.
FAST_TEXT = (tuple(int(v) for v in matplotlib.__version__.split(".")[:2]) == (3, 11) and RenderMode is not None
             and all(hasattr(FT2Font, name) for name in ("_layout", "_set_transform", "_render_glyph"))
             and hasattr(RendererAgg, "_prepare_font"))

#: Text layouts and metrics kept per process (each entry a few hundred bytes).
CACHE_SIZE = 4096


@functools.lru_cache(maxsize=CACHE_SIZE)
def _layout(font, size: float, dpi: float, s: str, flags):
    """The glyphs of ``s``: (FT2Font, glyph index, x, y) per glyph, x and y in pixels from the
    text's origin (``FT2Font._layout``)."""
    font.set_size(size, dpi)
    items = font._layout(s, flags=flags, features=None, language=None)
    return tuple((it.ft_object, it.glyph_index, it.x, it.y) for it in items)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _metrics(font, size: float, dpi: float, s: str, flags) -> tuple[float, float, float]:
    """Width, height and descent (pixels) of ``s``, as `RendererAgg.get_text_width_height_descent`."""
    font.clear()
    font.set_size(size, dpi)
    font.set_text(s, 0.0, flags=flags)
    w, h = font.get_width_height()
    return w / 64.0, h / 64.0, font.get_descent() / 64.0


_FONT_HEIGHTS: dict = {}


class Renderer(RendererAgg):
    """`RendererAgg` with plain (not math, not TeX) text drawn as described in the module."""

    def _get_font_height_metrics(self, prop):
        """The ascent, descent and line gap (pixels) of the font of ``prop``, as
        `matplotlib.text.Text` computes them from the font's OS/2 or hhea table when a
        renderer has not this method, kept per font and size: Text asked for the font and
        read two tables at each of the ~340 layouts of a figure (matplotlib's hook for the
        PDF and PS backends; a posture figure ~15 ms sooner)."""
        key = (tuple(prop.__dict__.values()), self.dpi)
        found = _FONT_HEIGHTS.get(key)
        if found is None:
            font = get_font(fontManager._find_fonts_by_props(prop))
            found = (None, None, None)
            for table_name, gap_key, ascent_key, descent_key in (
                    ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                    ("hhea", "lineGap", "ascent", "descent")):
                table = font.get_sfnt_table(table_name)
                if table is None:
                    continue
                units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
                scale = 1 / units_per_em * prop.get_size_in_points() * self.dpi / 72
                found = (table[ascent_key] * scale, -table[descent_key] * scale, table[gap_key] * scale)
                break
            if len(_FONT_HEIGHTS) < CACHE_SIZE:
                _FONT_HEIGHTS[key] = found
        return found

    def get_text_width_height_descent(self, s, prop, ismath):
        # docstring inherited
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        font = self._prepare_font(prop)
        return _metrics(font, prop.get_size_in_points(), self.dpi, s, get_hinting_flag())

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        # docstring inherited
        if ismath or (mtext is not None and (mtext.get_fontfeatures() is not None
                                             or mtext.get_language() is not None)):
            return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        flags = get_hinting_flag()
        size = prop.get_size_in_points()
        font = self._prepare_font(prop)
        glyphs = _layout(font, size, self.dpi, s, flags)
        if not glyphs or self._outside_clip(gc, x, y, glyphs, size):
            return None
        # as RendererAgg._draw_text_glyphs_and_boxes, the transform computed once (extend 1,
        # slant 0: the matrix is the rotation's)
        cos = math.cos(math.radians(angle))
        sin = math.sin(math.radians(angle))
        matrix = [[round(0x10000 * cos), round(0x10000 * -sin)],
                  [round(0x10000 * sin), round(0x10000 * cos)]]
        aa = gc.get_antialiased()
        mode = RenderMode.NORMAL if aa else RenderMode.MONO
        height = self.height
        top_row = int(height)
        draw_image = self._renderer.draw_text_image
        sized = set()
        for ft, index, dx, dy in glyphs:           # dy is upwards
            if ft not in sized:                    # once per font and string, not per glyph
                ft.set_size(size, self.dpi)
                sized.add(ft)
            ft._set_transform(matrix, [round(0x40 * (x + dx * cos - dy * sin)),
                                       round(0x40 * (height - y + dx * sin + dy * cos))])
            bitmap = ft._render_glyph(index, flags, mode)
            buffer = bitmap.buffer
            if not aa:
                buffer *= 0xff
            draw_image(buffer, bitmap.left, top_row - bitmap.top + buffer.shape[0], 0, gc)
        return None

    def _outside_clip(self, gc, x, y, glyphs, size: float) -> bool:
        """Whether every glyph origin lies farther than three em from the clip rectangle (or
        the canvas), so that no glyph reaches into it."""
        reach = (max(abs(g[2]) for g in glyphs) + max(abs(g[3]) for g in glyphs)
                 + 3.0 * size * self.dpi / 72.0)          # any rotation
        box = gc.get_clip_rectangle()
        x0, y0, x1, y1 = box.extents if box is not None else (0.0, 0.0, self.width, self.height)
        yu = self.height - y                       # the origin, y upwards as the clip box
        return x + reach < x0 or x - reach > x1 or yu + reach < y0 or yu - reach > y1


class FigureCanvas(FigureCanvasAgg):
    """`FigureCanvasAgg` drawing with `Renderer`."""

    def get_renderer(self):
        # docstring inherited
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = Renderer(w, h, self.figure.dpi)
            self._lastKey = key
        return self.renderer


def canvas_class():
    """The Agg canvas class the figures are saved with: `FigureCanvas` where `FAST_TEXT`, else
    matplotlib's `FigureCanvasAgg`."""
    return FigureCanvas if FAST_TEXT else FigureCanvasAgg


def write_png(path, pixels, dpi: float, box=None) -> None:
    """Write the RGB(A) image ``pixels`` (h, w, 3 or 4) of uint8, of any strides, as an opaque
    RGB PNG with its ``dpi`` (pHYs); ``box``: (top, bottom, left, right) pixel rows and columns
    to write, white where they run past the image. Every row is unfiltered (PNG filter type 0)
    and deflated by zlib at level 3. Pillow's encoder (used before) chooses a filter per row by
    trying each: on these figures, mostly white, the unfiltered rows deflate as small, 2.5
    times faster (a posture figure 55 -> 23 ms, 562 -> 542 KB; a sweep figure 36 -> 14 ms,
    220 -> 238 KB)."""
    h, w = pixels.shape[:2]
    y0, y1, x0, x1 = (0, h, 0, w) if box is None else box
    H, W = y1 - y0, x1 - x0
    rows = np.full((H, 3 * W + 1), 255, np.uint8)   # each row: its filter type, its pixels
    rows[:, 0] = 0
    r0, r1, c0, c1 = max(y0, 0), min(y1, h), max(x0, 0), min(x1, w)
    image = np.ndarray((H, W, 3), np.uint8, rows, offset=1, strides=(3 * W + 1, 3, 1))
    image[r0 - y0:r1 - y0, c0 - x0:c1 - x0] = pixels[r0:r1, c0:c1, :3]
    ppm = int(dpi / 0.0254 + 0.5)                   # pixels per metre, as Pillow writes it

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0)))   # 8-bit RGB
        f.write(chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)))
        f.write(chunk(b"IDAT", zlib.compress(rows, 3)))
        f.write(chunk(b"IEND", b""))

"""The image: series view, calipers, tools, overlays, planes, window/level, prior pane, loading.

Owns everything drawn on or over the pixels: ``view`` (SeriesViewerWidget), ``calipers``
(CaliperRoi), ``tools``, ``annotations``, ``labels``, ``overlay_layer``, ``overlays``, ``planes``,
``fit``, ``keys``, ``viewbox``, ``image_item``, ``render`` (offscreen PNG), ``presets``
(window/level), ``scalebar``, ``loading`` (background series loading), ``prior`` (the comparison
pane) and ``layout`` (1x1/1x2/2x2 panes, linked planes, cine).
May import: PySide6, pyqtgraph, numpy, ``recist`` value types; it reads volumes through
``viewer.image.volume`` only.  Never ``storage`` or ``app``: geometry leaves this package in
millimetres.
"""

"""What a matplotlib program drew, traced the way ChartMimic's low-level evaluators trace it.

Runs INSIDE the sandboxed Python job, before the program (see chartmimic.traced_program): its source is executed in
a module of its own, `install()` patches matplotlib, networkx, squarify and matplotlib-venn, and after the program
`collect(graph_layout)` returns a JSON-able dict. Self-contained on purpose (stdlib + the plotting libraries only).

- texts: the strings the PDF backend draws (`RendererPdf.draw_text`, one entry per drawn line), as ChartMimic's text
  evaluator logs them while the program saves its PDF.
- types: how often each plotting function was called by the program (only the outermost traced call counts: a
  histogram's inner `bar` calls do not), keyed by the function's module and name; `plot` on a PolarAxes is its own
  key. The same function list as ChartMimic's chart-type evaluator.
- colors: "group--colour" strings as ChartMimic's colour evaluator builds them: at each traced call the drawn
  objects are remembered under (group, colour at call time) (the last object wins), and at the end the colours are
  read back from those objects (so later `set_color` calls count); hex colours upper-case, colormap names for
  image-like plots and for scatter/3-D calls given `cmap=`. Deduplicated and sorted.
- layouts: the gridspec cell of every axes of the current figure (nrows, ncols, row/col start and inclusive end);
  axes without a subplotspec are skipped. ChartMimic's "graph" charts use a fixed cell per axes instead.
"""

from __future__ import annotations

TEXTS: list = []
TYPE_COUNTS: dict = {}
COLOR_OBJECTS: dict = {}  # "group--colour at call time" -> (group, reader name, object)
_busy = {"type": False, "color": False}


# ------------------------------------------------------------------ helpers


def to_hex(color):
    """ChartMimic's colour normal form: '#RRGGBB' upper case (a given '#RRGGBBAA' string is kept); None when the
    value is no single colour."""
    import matplotlib.colors as mcolors
    import numpy as np

    try:
        if isinstance(color, str):
            if color.startswith("#") and len(color) in (7, 9):
                return color.upper()
            return mcolors.to_hex(mcolors.to_rgba(color)).upper()
        if isinstance(color, (list, tuple, np.ndarray)) and len(color) in (3, 4):
            return mcolors.to_hex(color).upper()
    except (ValueError, TypeError):
        return None
    return None


def _name(func, suffix: str = "") -> str:
    return f"{getattr(func, '__module__', '?')}/{getattr(func, '__name__', '?')}{suffix}"


def _traced(kind: str, func, on_result):
    """Wrap func: when no other traced call of this kind is running, call on_result(func, args, kwargs, result)
    after it. As in ChartMimic, a call that raises leaves the tracer of that kind busy (later calls go unlogged)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if _busy[kind]:
            return func(*args, **kwargs)
        _busy[kind] = True
        result = func(*args, **kwargs)
        try:
            on_result(func, args, kwargs, result)
        except Exception:  # a drawn object we cannot read is left out; the program goes on
            pass
        _busy[kind] = False
        return result

    return wrapper


# ------------------------------------------------------------------ chart types


def _count_type(func, args, kwargs, result) -> None:
    from matplotlib.projections.polar import PolarAxes

    polar = func.__name__ == "plot" and len(args) > 0 and type(args[0]) is PolarAxes
    key = _name(func, "_polar" if polar else "")
    TYPE_COUNTS[key] = TYPE_COUNTS.get(key, 0) + 1


# ------------------------------------------------------------------ colours


def _remember(group: str, reader: str, call_color, obj) -> None:
    if call_color is not None:
        COLOR_OBJECTS[f"{group}--{call_color}"] = (group, reader, obj)


def _cmap_name(cmap) -> str:
    return cmap if isinstance(cmap, str) else cmap.name


def _log_colors(func, args, kwargs, result) -> None:
    """What ChartMimic's colour tracer records for one call (group = the function, reader = how to re-read it)."""
    import matplotlib
    from matplotlib.projections.polar import PolarAxes

    name = func.__name__
    group = _name(func)
    first = args[0] if args else None
    if name in ("_makeline", "_make_line"):
        _remember(group, "line", to_hex(result[1]["color"]), result[0])
    elif name in ("axhline", "axvline"):
        _remember(group, "line", to_hex(result.get_color()), result)
    elif name == "_fill_between_x_or_y":
        _remember(group, "facecolors0", to_hex(list(result.get_facecolors()[0])), result)
    elif name == "bar":
        for patch in result:
            _remember(group, "original_face", to_hex(list(patch._original_facecolor)), patch)
    elif name == "scatter":
        polar = type(first) is PolarAxes
        group = _name(func, "_polar" if polar else "")
        if kwargs.get("cmap") is not None:
            cmap = _cmap_name(kwargs["cmap"])
            _remember(group, "as_named", cmap, result)
        elif len(result.get_facecolor()) != 0:
            _remember(group, "facecolor0", to_hex(list(result.get_facecolor()[0])), result)
    elif name == "pie":
        for wedge in result[0]:
            _remember(group, "face", to_hex(wedge.get_facecolor()), wedge)
    elif name in ("axvspan", "axhspan"):
        _remember(group, "face", to_hex(result.get_facecolor()), result)
    elif name in ("hlines", "vlines"):
        _remember_all(group, "edgecolors", result.get_edgecolors(), result)
    elif name == "boxplot":
        for box in result["boxes"]:
            if type(box) is matplotlib.patches.PathPatch:
                _remember(group, "face_list", to_hex(list(box.get_facecolor())), box)
    elif name == "violinplot":
        for body in result["bodies"]:
            _remember(group, "facecolor0", to_hex(list(body.get_facecolor()[0])), body)
    elif name == "hist":
        _log_hist(group, result[2])
    elif name == "quiver" or name == "broken_barh":
        _remember_all(group, "facecolors", result.get_facecolors(), result)
    elif name == "plot" and type(first) is PolarAxes:
        for line in result:
            _remember(_name(func, "_polar"), "line", to_hex(line.get_color()), line)
    elif name == "plot" and "squarify" in group:
        for container in result.containers:
            for patch in container:
                _remember(group, "face_list", to_hex(list(patch.get_facecolor())), patch)
    elif name in ("imshow", "pcolor", "contour", "contourf", "tripcolor"):
        _remember(group, "cmap", result.get_cmap().name, result)
    elif name == "fill":
        for patch in result:
            _remember(group, "face_list", to_hex(list(patch.get_facecolor())), patch)
    elif name == "__init__":
        _log_init(group, first)


def _log_hist(group: str, patches) -> None:
    import matplotlib

    items = [p for c in patches for p in c] if type(patches) is matplotlib.cbook.silent_list else list(patches)
    for patch in items:
        _remember(group, "face_list", to_hex(list(patch.get_facecolor())), patch)


def _log_init(group: str, obj) -> None:
    from matplotlib.image import NonUniformImage
    from matplotlib.patches import Circle, Ellipse

    if type(obj) is NonUniformImage:
        _remember(group, "cmap", obj.get_cmap().name, obj)
    elif type(obj) in (Ellipse, Circle):
        _remember(group, "face", to_hex(obj.get_facecolor()), obj)
    elif type(obj).__name__ == "VennDiagram":
        _remember_all(group, "venn", [p.get_facecolor() for p in obj.patches if p is not None], obj)


def _remember_all(group: str, reader: str, colors, obj) -> None:
    """A collection: remembered once, under its last colour (ChartMimic's key), and re-read whole at the end."""
    colors = [to_hex(list(c)) for c in colors]
    if colors:
        _remember(group, reader, colors[-1], obj)


def _log_3d(func, args, kwargs, result) -> None:
    name = func.__name__
    group = _name(func, "_3d")
    if name in ("scatter", "plot_surface") and kwargs.get("cmap") is not None:
        _remember(group, "as_named", _cmap_name(kwargs["cmap"]), result)
    elif name == "scatter" or name == "add_collection3d":
        _remember_all(group, "facecolors", result.get_facecolors(), result)
    elif name == "plot":
        for line in result:
            _remember(group, "line", to_hex(line.get_color()), line)
    elif name in ("plot_surface", "bar3d"):
        _remember(group, "facecolors0", to_hex(result.get_facecolors().tolist()[0]), result)
    elif name == "bar":
        for patch in result:
            _remember(group, "face", to_hex(patch.get_facecolor()), patch)


def _log_networkx(func, args, kwargs, result) -> None:
    group = _name(func)
    if func.__name__ == "draw_networkx_labels":
        for text in result.values():
            _remember(group, "line", to_hex(text.get_color()), text)
    elif func.__name__ == "draw_networkx_edges":
        if isinstance(result, list):
            _remember_all(group, "arrows", [a.get_facecolor() for a in result], result)
        else:
            _remember_all(group, "edgecolors", result.get_edgecolors(), result)
    else:
        _remember_all(group, "facecolors", result.get_facecolors(), result)


def _read(reader: str, obj, named: str) -> list:
    """The colours of a remembered object now, at the end of the program."""
    if reader == "as_named":
        return [named]
    if reader == "line":
        return [to_hex(obj.get_color())]
    if reader == "cmap":
        return [obj.get_cmap().name]
    if reader == "face":
        return [to_hex(obj.get_facecolor())]
    if reader == "face_list":
        return [to_hex(list(obj.get_facecolor()))]
    if reader == "original_face":
        return [to_hex(list(obj._original_facecolor))]
    if reader == "facecolor0":
        return [to_hex(list(obj.get_facecolor()[0]))] if len(obj.get_facecolor()) else []
    if reader == "facecolors0":
        return [to_hex(list(obj.get_facecolors()[0]))]
    if reader in ("facecolors", "edgecolors"):
        values = obj.get_facecolors() if reader == "facecolors" else obj.get_edgecolors()
        return [to_hex(list(c)) for c in values]
    if reader == "arrows":
        return [to_hex(a.get_facecolor()) for a in obj]
    if reader == "venn":
        return [to_hex(p.get_facecolor()) for p in obj.patches if p is not None]
    return []


def final_colors() -> list:
    out = set()
    for key, (group, reader, obj) in COLOR_OBJECTS.items():
        try:
            colors = _read(reader, obj, key.split("--", 1)[1])
        except Exception:  # an object the program broke: its colours are left out
            continue
        out.update(f"{group}--{c}" for c in colors if c is not None)
    return sorted(out)


# ------------------------------------------------------------------ layout, texts


def layouts(graph_layout: bool) -> list:
    import matplotlib.pyplot as plt

    cells = []
    for ax in plt.gcf().axes:
        if graph_layout:
            cells.append(dict(nrows=1, ncols=1, row_start=0, row_end=1, col_start=0, col_end=1))
            continue
        spec = ax.get_subplotspec()
        if spec is None:
            continue
        nrows, ncols = spec.get_gridspec().get_geometry()
        cells.append(dict(nrows=nrows, ncols=ncols, row_start=spec.rowspan.start, row_end=spec.rowspan.stop - 1,
                          col_start=spec.colspan.start, col_end=spec.colspan.stop - 1))
    return cells


def _install_text_log() -> None:
    from matplotlib.backends.backend_pdf import RendererPdf

    original = RendererPdf.draw_text

    def draw_text(self, gc, x, y, s, *args, **kwargs):
        TEXTS.append(str(s))
        return original(self, gc, x, y, s, *args, **kwargs)

    RendererPdf.draw_text = draw_text


# ------------------------------------------------------------------ install / collect

AXES_TYPES = ("bar", "barh", "plot", "axhline", "axvline", "axvspan", "axhspan", "hlines", "vlines", "errorbar",
              "boxplot", "violinplot", "violin", "hist", "fill_between", "fill_betweenx", "scatter", "quiver", "pie",
              "fill", "imshow", "pcolor", "contour", "contourf", "broken_barh", "tripcolor")
AXES_COLORS = ("bar", "scatter", "axhline", "axvline", "_fill_between_x_or_y", "pie", "axvspan", "axhspan", "hlines",
               "vlines", "boxplot", "violinplot", "hist", "quiver", "imshow", "pcolor", "contour", "contourf", "fill",
               "broken_barh", "tripcolor")
AXES3D = ("scatter", "plot", "plot_surface", "bar3d", "bar", "add_collection3d")
NETWORKX = ("draw_networkx_nodes", "draw_networkx_edges", "draw_networkx_labels")


def install() -> None:
    """Patch the libraries (chart types first, colours around them, as two independent tracers)."""
    import networkx as nx
    import networkx.drawing.nx_pylab as nx_pylab
    import squarify
    from matplotlib.axes import Axes
    from matplotlib.axes._base import _process_plot_var_args
    from matplotlib.image import NonUniformImage
    from matplotlib.patches import Circle, Ellipse
    from matplotlib.projections.polar import PolarAxes
    from matplotlib_venn._common import VennDiagram
    from mpl_toolkits.mplot3d import Axes3D

    _install_text_log()

    def patch(owner, attr, kind, on_result):
        setattr(owner, attr, _traced(kind, getattr(owner, attr), on_result))

    for attr in AXES_TYPES:
        patch(Axes, attr, "type", _count_type)
    for attr in AXES3D:
        patch(Axes3D, attr, "type", _count_type)
    for owner in (NonUniformImage, Ellipse, VennDiagram, Circle):
        patch(owner, "__init__", "type", _count_type)
    patch(squarify, "plot", "type", _count_type)
    for module in (nx_pylab, nx):
        for attr in NETWORKX:
            patch(module, attr, "type", _count_type)

    line_maker = "_make_line" if hasattr(_process_plot_var_args, "_make_line") else "_makeline"
    patch(_process_plot_var_args, line_maker, "color", _log_colors)
    for attr in AXES_COLORS:
        patch(Axes, attr, "color", _log_colors)
    PolarAxes.plot = _traced("color", Axes.plot, _log_colors)
    for owner in (NonUniformImage, Ellipse, VennDiagram, Circle):
        patch(owner, "__init__", "color", _log_colors)
    patch(squarify, "plot", "color", _log_colors)
    for attr in AXES3D:
        patch(Axes3D, attr, "color", _log_3d)
    for module in (nx_pylab, nx):
        for attr in NETWORKX:
            patch(module, attr, "color", _log_networkx)


def collect(graph_layout: bool = False) -> dict:
    return {"texts": list(TEXTS), "types": dict(TYPE_COUNTS), "colors": final_colors(),
            "layouts": layouts(graph_layout)}

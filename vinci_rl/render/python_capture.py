"""What a Python program drew, captured the way the author's own environment would have produced it.

Runs inside a forked job (python_job.py). Before the code runs, `Capture.install()` patches the calls that save or
show a picture; each call takes a snapshot AT THAT MOMENT (the last one wins), so `savefig(); clf()` keeps its chart:

- matplotlib `Figure.savefig` / `pyplot.savefig`: the figure drawn by matplotlib's own savefig with the program's
  arguments (figure size, `dpi`, `bbox_inches='tight'`, `pad_inches`, `facecolor`, `transparent`, rcParams), so the
  picture has the size and layout the saved file would have had. A PNG target (a path or a file object) also gets
  those bytes, other formats are written by matplotlib itself, so code that reads its file back works; a path the
  sandbox cannot write (`/mnt/data/chart.png`) is skipped.
- matplotlib `pyplot.show` / `Figure.show`: the current figure at its own size and dpi (a script's window), or with
  `bbox_inches='tight'` when `python_show` is "tight" (what Jupyter's inline backend displays).
- plotly `show` / `write_image` / `to_image` / `write_html` (methods and `plotly.io` functions): the figure's JSON at
  that moment and its pixel size: `width`/`height` (times `scale`) of write_image, else the layout's, else 700 x 500
  for images (the exporter's default); a `show` without a layout size fills the requested canvas.
- PIL `Image.save` / `Image.show`: a copy of the image.

With no such call, the fallback is what is left at exit: the current (else the last) open matplotlib figure with
content, drawn as `show` would; then a PIL image / plotly figure / PNG or JPEG bytes in the program's globals; then
an image file it wrote. A snapshot larger than `max_pixels` is drawn at a lower dpi (noted in the reply).
"""

from __future__ import annotations

import glob
import io
import math
import os

IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"\xff\xd8\xff\xdb")  # PNG, JPEG
PLOTLY_IMAGE_SIZE = (700, 500)  # plotly's image export size when neither the call nor the layout gives one
SHOW_MODES = ("figure", "tight")


class Capture:
    """The last picture the program saved or showed: ("figure" | "image", HxWx3 array at its own size) or
    ("plotly", json, size or None). "figure" is a matplotlib figure, "image" a PIL image or picture bytes."""

    def __init__(self, max_pixels: int, show: str = "figure"):
        self.max_pixels, self.show_mode = max_pixels, show
        self.last: tuple | None = None
        self.notes: dict = {}

    # ------------------------------------------------------------ patches

    def install(self) -> None:
        import matplotlib.figure
        import matplotlib.pyplot as plt
        import PIL.Image

        original_savefig = matplotlib.figure.Figure.savefig
        self._savefig = original_savefig
        matplotlib.figure.Figure.savefig = lambda fig, *a, **k: self._on_savefig(fig, a, k)
        matplotlib.figure.Figure.show = lambda fig, *a, **k: self._on_show(fig)
        plt.show = lambda *a, **k: self._on_show(plt.gcf()) if plt.get_fignums() else None
        original_save = PIL.Image.Image.save
        PIL.Image.Image.save = lambda img, fp=None, *a, **k: self._on_pil_save(original_save, img, fp, a, k)
        PIL.Image.Image.show = lambda img, *a, **k: self._record_pil(img)
        self._install_plotly()

    def _install_plotly(self) -> None:
        try:
            import plotly.io as pio
            from plotly.basedatatypes import BaseFigure
        except ImportError:
            return
        image_calls = ("write_image", "to_image")
        for name in ("show", "write_image", "to_image", "write_html"):
            as_image = name in image_calls
            setattr(BaseFigure, name, lambda fig, *a, _img=as_image, **k: self._on_plotly(fig, _img, a, k))
            setattr(pio, name, lambda fig, *a, _img=as_image, **k: self._on_plotly(fig, _img, a, k))

    # ------------------------------------------------------------ matplotlib

    def _on_savefig(self, fig, args: tuple, kwargs: dict) -> None:
        fname = args[0] if args else kwargs.pop("fname", None)
        if fname is None:
            return self._savefig(fig, *args, **kwargs)  # matplotlib's own error for a missing target
        png = self._figure_png(fig, {k: v for k, v in kwargs.items() if k != "format"})
        fmt = kwargs.get("format") or _format_of(fname)
        if fmt in (None, "png"):
            _write_target(fname, png)
        else:  # another format: matplotlib writes it, as the program asked
            _write_target(fname, None, lambda: self._savefig(fig, fname, *args[1:], **kwargs))

    def _on_show(self, fig) -> None:
        # nothing is written: the PNG only carries the pixels to the snapshot, so it is not compressed
        self._figure_png(fig, {"dpi": "figure", "bbox_inches": "tight" if self.show_mode == "tight" else None,
                               "pil_kwargs": {"compress_level": 0}})

    def _figure_png(self, fig, kwargs: dict) -> bytes:
        """Draw the figure with matplotlib's savefig into PNG bytes and record the picture; returns the bytes."""
        from matplotlib import rcParams

        dpi = kwargs.get("dpi", rcParams["savefig.dpi"])
        dpi = fig.dpi if dpi in (None, "figure") else float(dpi)
        w_in, h_in = fig.get_size_inches()
        if w_in * h_in * dpi * dpi > self.max_pixels:
            dpi = math.sqrt(self.max_pixels / max(w_in * h_in, 1e-6)) * 0.99
            self.notes["dpi_capped"] = round(dpi, 2)
        pil_kwargs = {"compress_level": 1, **(kwargs.get("pil_kwargs") or {})}
        buf = io.BytesIO()
        self._savefig(fig, buf, **{**kwargs, "format": "png", "dpi": dpi, "pil_kwargs": pil_kwargs})
        png = buf.getvalue()
        import PIL.Image

        self._record_pil(PIL.Image.open(io.BytesIO(png)), "figure")
        return png

    # ------------------------------------------------------------ PIL, plotly

    def _record_pil(self, img, kind: str = "image") -> None:
        from vinci_rl.render.raster import pil_to_rgb_array

        img.load()
        if img.width * img.height > self.max_pixels:
            scale = math.sqrt(self.max_pixels / (img.width * img.height))
            img = img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))))
        self.last = (kind, pil_to_rgb_array(img))

    def _on_pil_save(self, original, img, fp, args: tuple, kwargs: dict) -> None:
        self._record_pil(img.copy())
        if fp is not None and hasattr(fp, "write"):  # an in-memory target: the program may read it back
            original(img, fp, *args, **kwargs)

    def _on_plotly(self, fig, as_image: bool, args: tuple, kwargs: dict):
        if isinstance(fig, dict):
            import plotly.graph_objects as go

            fig = go.Figure(fig)
        layout = fig.layout
        width, height = kwargs.get("width") or layout.width, kwargs.get("height") or layout.height
        if as_image:
            scale = float(kwargs.get("scale") or 1)
            width, height = (width or PLOTLY_IMAGE_SIZE[0]) * scale, (height or PLOTLY_IMAGE_SIZE[1]) * scale
        size = (int(width), int(height)) if width and height else None
        if size and size[0] * size[1] > self.max_pixels:
            scale = math.sqrt(self.max_pixels / (size[0] * size[1]))
            size = (max(1, int(size[0] * scale)), max(1, int(size[1] * scale)))
        self.last = ("plotly", fig.to_json(), size)

    # ------------------------------------------------------------ at exit

    def output(self, scope: dict, job_dir: str) -> tuple | None:
        """The picture to score: the last snapshot, else what the program left behind (see the module doc)."""
        if self.last is not None:
            return self.last
        import matplotlib.pyplot as plt

        figures = [plt.figure(n) for n in plt.get_fignums()] if plt.get_fignums() else []
        current = plt.gcf() if figures else None
        for fig in ([current] if current is not None else []) + figures[::-1]:
            if _has_content(fig):
                self._on_show(fig)
                return self.last
        for value in reversed(list(scope.values())):
            found = self._as_output(value)
            if found:
                return self.last
        files = sorted(glob.glob(os.path.join(job_dir, "**", "*.[pj][np]g"), recursive=True), key=os.path.getmtime)
        if files:
            import PIL.Image

            self._record_pil(PIL.Image.open(files[-1]))
        return self.last

    def _as_output(self, value) -> bool:
        import PIL.Image

        if isinstance(value, PIL.Image.Image):
            self._record_pil(value)
            return True
        if type(value).__module__.startswith("plotly.") and hasattr(value, "to_json") and hasattr(value, "data"):
            self._on_plotly(value, False, (), {})
            return True
        if isinstance(value, (bytes, bytearray)) and bytes(value[:4]) in IMAGE_MAGIC:
            try:
                self._record_pil(PIL.Image.open(io.BytesIO(bytes(value))))
                return True
            except Exception:  # not a decodable image after all: not an output
                return False
        return False


def _has_content(fig) -> bool:
    return bool(fig.axes or fig.texts or fig.images or fig.patches or fig.lines or fig.artists)


def _format_of(fname) -> str | None:
    """The image format a savefig target implies by its extension (None: matplotlib's default, png)."""
    if hasattr(fname, "write"):
        return None
    ext = os.path.splitext(os.fspath(fname))[1].lower().lstrip(".")
    return {"jpeg": "jpg", "tiff": "tif"}.get(ext, ext) or None


def _write_target(fname, data: bytes | None, write=None) -> None:
    """Write a saved picture where the program asked: a file object gets it (errors are the program's); a path
    the sandbox cannot write (another machine's directory) is skipped, the snapshot is what counts."""
    if hasattr(fname, "write"):
        return fname.write(data) if write is None else write()
    try:
        if write is not None:
            return write()
        with open(os.fspath(fname), "wb") as f:
            f.write(data)
    except OSError:
        pass

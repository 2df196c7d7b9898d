"""matplotlib font lookups of the Python renderer (vinci_rl/render/fonts.py) and the RGBA -> RGB helper.

The font checks run in a fresh interpreter: install_matplotlib_fonts() changes matplotlib's process-wide font manager.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from vinci_rl.render.raster import rgba_to_rgb_on_white

LOOKUPS = r"""
import json, os
import matplotlib
matplotlib.use("Agg")
from matplotlib import font_manager as fm
from matplotlib.font_manager import FontProperties
from vinci_rl.render.fonts import install_matplotlib_fonts

picked = install_matplotlib_fonts()
find = fm.fontManager._find_fonts_by_props
name = lambda paths: [os.path.basename(p) for p in paths]
out = {"picked": picked, "by_size": {}}
out["by_size"]["10"] = name(find(FontProperties(family="sans-serif", size=10)))
misses = fm.fontManager._findfont_cached.cache_info().misses
for size in (6, 12, 17.28, 40):
    out["by_size"][str(size)] = name(find(FontProperties(family="sans-serif", size=size)))
out["new_misses_for_other_sizes"] = fm.fontManager._findfont_cached.cache_info().misses - misses
out["simhei"] = name(find(FontProperties(family="SimHei", size=14)))
matplotlib.rcParams["font.sans-serif"] = ["Liberation Sans"]
out["after_rc_change"] = name(find(FontProperties(family="sans-serif", size=12)))
print(json.dumps(out))
"""


def _lookups(tmp_path) -> dict:
    # a font list built now, as the renderer builds it (a user's cached list may predate the installed fonts)
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", LOOKUPS], capture_output=True, text=True, timeout=300, check=True,
                         env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_font_lookups_are_shared_across_sizes_and_keep_the_fallbacks(tmp_path):
    found = _lookups(tmp_path)
    assert found["picked"]["cjk_sans"] == "Noto Sans CJK SC"
    at_10 = found["by_size"]["10"]
    assert at_10[0] == "DejaVuSans.ttf"  # the family asked for comes first
    assert "NotoSansCJK-Regular.ttc" in at_10  # then the CJK fallback (and the symbol fonts)
    assert all(paths == at_10 for paths in found["by_size"].values())  # every size: the same files
    assert found["new_misses_for_other_sizes"] == 0  # ... found without a new font-file search
    assert found["simhei"][0] == "NotoSansCJK-Regular.ttc"  # a name CJK chart code sets
    assert found["after_rc_change"][0] == "LiberationSans-Regular.ttf"  # rcParams still decide


def test_rgba_to_rgb_on_white_opaque_and_translucent():
    rng = np.random.default_rng(0)
    opaque = rng.integers(0, 256, (5, 7, 4), dtype=np.uint8)
    opaque[..., 3] = 255
    assert np.array_equal(rgba_to_rgb_on_white(opaque), opaque[..., :3])
    pixels = np.array([[[0, 0, 0, 0], [0, 0, 0, 255], [200, 100, 0, 128], [10, 20, 30, 255]]], dtype=np.uint8)
    assert rgba_to_rgb_on_white(pixels).tolist() == [[[255, 255, 255], [0, 0, 0], [227, 177, 127], [10, 20, 30]]]

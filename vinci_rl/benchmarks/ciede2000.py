"""CIEDE2000 colour difference and the colour similarity ChartMimic and Design2Code build on it.

Both benchmarks convert 8-bit sRGB to CIELAB with python-colormath 3.0 (`convert_color(sRGBColor(..., is_upscaled=True),
LabColor)`) and score `max(0, 1 - dE2000 / 100)`. This module reproduces that conversion with colormath's constants:
sRGB companding, its rgb->XYZ matrix, the D65 2-degree white (0.95047, 1, 1.08883) as the Lab reference (colormath
keeps the RGB space's native illuminant), and its Lab linear segment (7.787 t + 16/116 below 216/24389).
`delta_e_2000` is the formula of Sharma, Wu and Dalal (2005), checked against their published test pairs.
"""

from __future__ import annotations

import math

_RGB_TO_XYZ = ((0.412424, 0.357579, 0.180464), (0.212656, 0.715158, 0.0721856), (0.0193324, 0.119193, 0.950444))
_D65 = (0.95047, 1.0, 1.08883)
_CIE_E = 216.0 / 24389.0


def srgb_to_lab(rgb) -> tuple[float, float, float]:
    """CIELAB (D65) of an 8-bit sRGB triple (0..255, ints or floats), as colormath computes it."""
    linear = []
    for v in rgb[:3]:
        v = float(v) / 255.0
        linear.append(v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4)
    xyz = [sum(m * c for m, c in zip(row, linear)) for row in _RGB_TO_XYZ]
    fx, fy, fz = (_lab_f(c / w) for c, w in zip(xyz, _D65))
    return 116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)


def _lab_f(t: float) -> float:
    return t ** (1.0 / 3.0) if t > _CIE_E else 7.787 * t + 16.0 / 116.0


def delta_e_2000(lab1, lab2, kl: float = 1.0, kc: float = 1.0, kh: float = 1.0) -> float:
    """CIEDE2000 difference of two CIELAB colours."""
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2.0
    g = 0.5 * (1.0 - math.sqrt(c_mean**7 / (c_mean**7 + 25.0**7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p, h2p = _hue_deg(b1, a1p), _hue_deg(b2, a2p)

    dl, dc = l2 - l1, c2p - c1p
    dh = _hue_difference(h1p, h2p, c1p * c2p)
    dh_big = 2.0 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh) / 2.0)

    l_mean, cp_mean = (l1 + l2) / 2.0, (c1p + c2p) / 2.0
    h_mean = _hue_mean(h1p, h2p, c1p * c2p)
    t = (1.0 - 0.17 * math.cos(math.radians(h_mean - 30.0)) + 0.24 * math.cos(math.radians(2.0 * h_mean))
         + 0.32 * math.cos(math.radians(3.0 * h_mean + 6.0)) - 0.20 * math.cos(math.radians(4.0 * h_mean - 63.0)))
    s_l = 1.0 + 0.015 * (l_mean - 50.0) ** 2 / math.sqrt(20.0 + (l_mean - 50.0) ** 2)
    s_c = 1.0 + 0.045 * cp_mean
    s_h = 1.0 + 0.015 * cp_mean * t
    r_c = 2.0 * math.sqrt(cp_mean**7 / (cp_mean**7 + 25.0**7))
    r_t = -r_c * math.sin(math.radians(60.0 * math.exp(-(((h_mean - 275.0) / 25.0) ** 2))))
    tl, tc, th = dl / (kl * s_l), dc / (kc * s_c), dh_big / (kh * s_h)
    return math.sqrt(max(0.0, tl * tl + tc * tc + th * th + r_t * tc * th))


def _hue_deg(b: float, a: float) -> float:
    if a == 0.0 and b == 0.0:
        return 0.0
    h = math.degrees(math.atan2(b, a))
    return h + 360.0 if h < 0.0 else h


def _hue_difference(h1: float, h2: float, chroma_product: float) -> float:
    if chroma_product == 0.0:
        return 0.0
    d = h2 - h1
    if d > 180.0:
        return d - 360.0
    if d < -180.0:
        return d + 360.0
    return d


def _hue_mean(h1: float, h2: float, chroma_product: float) -> float:
    if chroma_product == 0.0:
        return h1 + h2
    if abs(h1 - h2) <= 180.0:
        return (h1 + h2) / 2.0
    return (h1 + h2 + 360.0) / 2.0 if h1 + h2 < 360.0 else (h1 + h2 - 360.0) / 2.0


def color_similarity(rgb1, rgb2) -> float:
    """max(0, 1 - dE2000 / 100) of two 8-bit sRGB colours: 1 for identical colours, 0 from dE 100 on."""
    return max(0.0, 1.0 - delta_e_2000(srgb_to_lab(rgb1), srgb_to_lab(rgb2)) / 100.0)


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    """'#RRGGBB' (or '#RRGGBBAA': the alpha is ignored, as both benchmarks do) -> (r, g, b)."""
    h = color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)

"""Pure reward terms. Image terms take (pred, ref) RGB uint8 arrays and resize pred to ref first."""

from vinci_rl.reward.terms.coarse import PixelCoarse, ShapeOverlap, pixel_coarse, shape
from vinci_rl.reward.terms.dino import coarse_fine, crop_scores, crops_mean, dino_views, tile_grid
from vinci_rl.reward.terms.format import FormatReward, format_reward
from vinci_rl.reward.terms.length import LengthReward, length_reward
from vinci_rl.reward.terms.pixel import CannyL2, PixelL2, canny_l2, l2_reward, pixel_l2, standardize, standardized_l2
from vinci_rl.reward.terms.ssim import ssim, ssim_structure

__all__ = [
    "CannyL2",
    "PixelCoarse",
    "PixelL2",
    "ShapeOverlap",
    "FormatReward",
    "LengthReward",
    "canny_l2",
    "coarse_fine",
    "crop_scores",
    "crops_mean",
    "dino_views",
    "format_reward",
    "l2_reward",
    "length_reward",
    "pixel_coarse",
    "pixel_l2",
    "shape",
    "ssim",
    "ssim_structure",
    "standardize",
    "standardized_l2",
    "tile_grid",
]

"""Fixes for bugs in the verl release we pin (0.9.1), each in one module with its upstream reference.

Applied in every process by `vinci_rl.verl_plugin` (our `verl.plugins` entry point), only when the installed
verl is the version the fix was written for; on any other version they are skipped with a warning so a newer
verl is never silently patched.
"""

from __future__ import annotations

import logging
from importlib.metadata import version

from vinci_rl.verl_fixes import file_logger_append, mrope_equal_length

logger = logging.getLogger(__name__)

FIXED_VERL_VERSION = "0.9.1"


def apply_all() -> list[str]:
    """Apply every fix; returns the names of those applied."""
    installed = version("verl")
    if installed != FIXED_VERL_VERSION:
        logger.warning("vinci-rl: verl %s installed, fixes written for %s are skipped", installed, FIXED_VERL_VERSION)
        return []
    mrope_equal_length.apply()
    file_logger_append.apply()
    return ["mrope_equal_length", "file_logger_append"]

"""SMILES -> 2D depiction with RDKit, in-process (7-14 ms; parsing runs no user code).

Guards: inputs longer than MAX_SMILES_CHARS are refused (resource_limit) before RDKit sees them; an invalid string
is parse_error; a valid but empty molecule (`''`, whitespace) is empty.
"""

from __future__ import annotations

import time

from vinci_rl.render.raster import finish, pil_to_rgb_array, resize_exact
from vinci_rl.render.result import EMPTY, PARSE_ERROR, RESOURCE_LIMIT, RenderResult

MAX_SMILES_CHARS = 5_000
MAX_ATOMS = 1_000


class SmilesBackend:
    def __init__(self, config, mode: str, backends=None):
        from rdkit import RDLogger

        RDLogger.DisableLog("rdApp.*")  # parse errors are reported as statuses, not log spam

    def render(self, code: str, size: tuple[int, int]) -> RenderResult:
        from rdkit import Chem
        from rdkit.Chem import Draw

        t0 = time.monotonic()
        smiles = code.strip()
        if len(smiles) > MAX_SMILES_CHARS:
            return RenderResult(RESOURCE_LIMIT, None, f"SMILES longer than {MAX_SMILES_CHARS} characters")
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            return RenderResult(PARSE_ERROR, None, "RDKit could not parse the SMILES", time.monotonic() - t0)
        if mol.GetNumAtoms() == 0:
            return RenderResult(EMPTY, None, "empty molecule", time.monotonic() - t0)
        if mol.GetNumAtoms() > MAX_ATOMS:
            return RenderResult(RESOURCE_LIMIT, None, f"molecule has more than {MAX_ATOMS} atoms")
        image = pil_to_rgb_array(Draw.MolToImage(mol, size=size))
        return finish(resize_exact(image, size), time.monotonic() - t0)

    def close(self) -> None:
        pass

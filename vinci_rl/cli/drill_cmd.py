"""`vinci-rl drill cluster`: a real multi-node Ray cluster on this machine, drilled (see vinci_rl/cluster/drill.py).

    vinci-rl drill cluster                        # ~7 min on 2 cores; prints each check and the measured times
    vinci-rl drill cluster --root /tmp/drill --json   # last stdout line: the report as one JSON object

Starts a head and two reward nodes with `ray start` (own ports, own temp dirs, a private token), submits the
tiny CPU recipe twice with launch/submit.sh (the first job scaled mid-run and stopped, the second resuming it
and losing a reward node), checks everything, and stops exactly the processes it started. Exit status 1 when a
check fails. The root folder (default: a new one under /tmp) keeps the run folder, job logs and report.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from vinci_rl.cli import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("drill", choices=("cluster",), help="cluster: multi-node Ray cluster drill")
    parser.add_argument("--root", type=Path, help="working folder (default: a new folder under /tmp)")
    parser.add_argument("--steps", type=int, default=12, help="training steps in all (default 12)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object on the last line")


def run(args: argparse.Namespace) -> int:
    from vinci_rl.cluster.drill import Drill, DrillConfig
    from vinci_rl.cluster.drill_checks import report, run_checks

    if args.steps < 6:
        raise CliError(f"--steps {args.steps}: the drill needs at least 6 steps (stop after 3, resume, lose a node)")
    root = (args.root or Path(tempfile.mkdtemp(prefix="vinci-drill-"))).resolve()
    root.mkdir(parents=True, exist_ok=True)
    cfg = DrillConfig(root=root, steps=args.steps)
    drill = Drill(cfg)
    rec = drill.run()
    checks = run_checks(rec, cfg, drill.run_dir, root / "sample_data")
    result = report(rec, checks)
    (root / "report.json").write_text(json.dumps(result, indent=2, default=str))
    width = max(len(c.name) for c in checks)
    for c in checks:
        print(f"{'PASS' if c.ok else 'FAIL'}  {c.name:<{width}}  {c.detail}")
    print(f"times: {json.dumps(rec.timings)}; node loss: "
          f"{json.dumps({k: v for k, v in rec.node_loss.items() if k.endswith('_s')})}")  # fmt: skip
    print(f"report: {root / 'report.json'}")
    if args.json:
        print(json.dumps(result, default=str))
    return 0 if result["ok"] else 1

"""`vinci-rl workers`: run the reward pool on a Ray cluster as a standalone (detached) deployment.

    vinci-rl workers start  --address HEAD:6379 --config recipes/tiny_cpu.yaml --size 8
    vinci-rl workers status --address HEAD:6379 [--json]
    vinci-rl workers scale  --address HEAD:6379 --size 16
    vinci-rl workers stop   --address HEAD:6379

The pool is a detached named actor (vinci.pool.name / namespace of --config; defaults vinci_reward_pool /
vinci-rl): it outlives this command, and every training job on the cluster whose recipe has the same name finds
it instead of creating its own; a job whose vinci.reward differs from the pool's is refused, naming both. Workers
need vinci.pool.resource (default `reward_cpu`) on their node: start the CPU reward nodes with
`ray start --address HEAD:6379 --num-cpus 0 --resources '{"reward_cpu": 16}'`. --config gives both the pool block
(vinci.pool) and the reward config the workers score with (vinci.reward); it is read by `start` only (the other
actions read just the name and namespace from it). --address defaults to $RAY_ADDRESS.

Token authentication (Ray 2.60 turns it on at a head that has a token): give the cluster's token with
RAY_AUTH_TOKEN_PATH=/path/to/auth_token (or RAY_AUTH_TOKEN); token mode is then switched on for you.
"""

from __future__ import annotations

import argparse
import json
import os

from vinci_rl.cli import CliError

ACTIONS = ("start", "status", "scale", "stop")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=ACTIONS, help="start | status | scale | stop")
    parser.add_argument("--address", default=os.environ.get("RAY_ADDRESS"), help="Ray cluster address HOST:PORT (default $RAY_ADDRESS)")
    parser.add_argument("--size", type=int, help="number of workers (start: overrides vinci.pool.size; scale: required)")
    parser.add_argument("--config", metavar="RECIPE_OR_YAML", help="recipe with vinci.pool / vinci.reward blocks, or a reward YAML with a pool: block")
    parser.add_argument("--name", help="pool actor name (overrides vinci.pool.name)")
    parser.add_argument("--namespace", help="Ray namespace of the pool (overrides vinci.pool.namespace)")
    parser.add_argument("--wait", type=float, default=300.0, metavar="S", help="seconds to wait for workers to be ready (0: do not wait)")
    parser.add_argument("--json", action="store_true", help="print the pool status as one JSON object")


def _configs(args: argparse.Namespace):
    from reward_workers.config import PoolConfig, load_blocks

    pool, reward = ({}, {})
    if args.config:
        try:
            pool, reward = load_blocks(args.config)
        except ValueError as e:
            raise CliError(f"--config: {e}") from e
    for key, value in (("size", args.size), ("name", args.name), ("namespace", args.namespace)):
        if value is not None:
            pool[key] = value
    try:
        cfg = PoolConfig.from_dict(pool, source=args.config or "--size/--name")
        if args.action == "start":
            from vinci_rl.reward.config import RewardConfig

            RewardConfig.from_dict(reward, source=args.config or "default reward")
    except ValueError as e:
        raise CliError(str(e)) from e
    return cfg, reward


def run(args: argparse.Namespace) -> int:
    from reward_workers import deployment

    cfg, reward = _configs(args)
    if args.action == "scale" and (args.size is None or args.size < 0):
        raise CliError("scale needs --size N (N >= 0)")
    try:
        deployment.connect(args.address, cfg.namespace)
    except ValueError as e:
        raise CliError(str(e)) from e
    except ConnectionError as e:
        raise CliError(f"--address {args.address}: cannot connect to the Ray cluster: {e}") from e
    try:
        if args.action == "start":
            _, created = deployment.start_pool(cfg, reward, wait_s=args.wait)
            if not created:
                print(f"reward pool '{cfg.name}' already runs in namespace '{cfg.namespace}' (use `workers scale`)")
            status = deployment.pool_status(cfg)
        elif args.action == "status":
            status = deployment.pool_status(cfg)
        elif args.action == "scale":
            status = deployment.scale_pool(cfg, args.size, wait_s=args.wait)
        else:
            stopped = deployment.stop_pool(cfg)
            if not stopped:
                raise CliError(f"no reward pool '{cfg.name}' in namespace '{cfg.namespace}'")
            status = {"name": cfg.name, "namespace": cfg.namespace, "stopped": True}
    except deployment.PoolNotFound as e:
        raise CliError(str(e)) from e
    except ValueError as e:  # resources missing on the cluster, bad size
        raise CliError(str(e)) from e
    if args.json:
        print(json.dumps(status, default=str))
    else:
        print(format_status(status))
    return 0


def format_status(status: dict) -> str:
    if status.get("stopped"):
        return f"reward pool '{status['name']}' ({status['namespace']}) stopped"
    lines = [
        f"reward pool '{status['name']}' ({status['namespace']}): {status['ready']}/{status['size']} workers ready, "
        f"{status['queued']} queued, {status['in_flight']} in flight, {status['samples']} samples scored, "
        f"worker resources {status['worker_options']}",
        f"{'id':>4} {'state':<9} {'busy':>4} {'restarts':>8} {'node':<16} {'node id':<12} {'pid':>7}  error",
    ]
    for w in status["workers"]:
        lines.append(
            f"{w['worker_id']:>4} {w['state']:<9} {w['busy']:>4} {w['restarts']:>8} {str(w['node_ip'] or '-'):<16} "
            f"{(w.get('node_id') or '-')[:12]:<12} {str(w['pid'] or '-'):>7}  {w['error']}"
        )
    return "\n".join(lines)

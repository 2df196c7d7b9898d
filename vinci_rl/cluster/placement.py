"""Which actors may run on which nodes of a cluster, and the check that the cluster is laid out for it.

Trainer nodes are the GPU nodes (and the head when it offers CPUs). Reward nodes are CPU machines that offer the
pool's custom resource (`vinci.pool.resource`, default `reward_cpu`) and no generic CPU:

    ray start --address HEAD:6379 --num-cpus 0 --resources '{"reward_cpu": 32}'

Why no generic CPU: verl places its trainer-side actors by CPU — the TaskRunner, the TransferQueue controller and
the request load balancer ask for a CPU, the agent-loop and reward-loop workers go only to nodes with CPUs — so
a node offering none never gets one, while reward workers ask for `reward_cpu` alone and so get only reward
nodes. Two trainer-side pieces are pinned by node id instead, and are placed here explicitly: TransferQueue's
storage units (required_node_resource = GPU: trainer nodes) and the reward pool's router, which holds no CPU
and goes to the head (it must outlive any reward node).
"""

from __future__ import annotations

from typing import Any

TRAINER_NODE_RESOURCE = "GPU"
HEAD_RESOURCE = "node:__internal_head__"


class PlacementError(RuntimeError):
    """The cluster's nodes would let trainer and reward actors share a node; the message names node and fix."""


def alive_nodes() -> list[dict]:
    import ray

    return [n for n in ray.nodes() if n.get("Alive")]


def head_node_id() -> str | None:
    return next((n["NodeID"] for n in alive_nodes() if n["Resources"].get(HEAD_RESOURCE)), None)


def head_scheduling() -> Any:
    """Affinity to the head node (None when it cannot be found): for actors that hold no resources but must
    survive the loss of any worker node. Hard, not soft: Ray treats a head whose CPUs are all allocated as
    unavailable even for an actor that asks for none, and a soft affinity then spreads it to any node — a reward
    node included (seen in the cluster drill)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    head = head_node_id()
    return NodeAffinitySchedulingStrategy(node_id=head, soft=False) if head else None


def pool_resource(cfg: Any) -> str | None:
    """The custom resource the recipe's reward workers ask for (None: no pool, or no custom resource)."""
    from omegaconf import OmegaConf

    from reward_workers.config import PoolConfig

    section = OmegaConf.select(cfg, "vinci.pool")
    pool = PoolConfig.from_dict(OmegaConf.to_container(section, resolve=True) if section is not None else {})
    return pool.resource if pool.enabled and pool.resource_per_worker else None


def trainer_node_ids() -> list[str]:
    """Nodes where verl may place trainer-side actors: those offering CPUs or GPUs."""
    return [n["NodeID"] for n in alive_nodes() if n["Resources"].get("CPU", 0) > 0 or n["Resources"].get("GPU", 0) > 0]


def check_reward_nodes(resource: str | None) -> None:
    """Refuse a CPU-only node that offers both the reward resource and generic CPUs: verl's trainer actors
    (placed by CPU) could land on it and take what the reward workers were given, and die with it."""
    if not resource:
        return
    mixed = [n for n in alive_nodes()
             if n["Resources"].get(resource, 0) > 0 and n["Resources"].get("CPU", 0) > 0 and not n["Resources"].get("GPU")]  # fmt: skip
    if mixed:
        desc = ", ".join(f"{n['NodeManagerAddress']} (node {n['NodeID'][:12]}: {n['Resources'].get('CPU'):g} CPU, "
                         f"{n['Resources'].get(resource):g} {resource})" for n in mixed)  # fmt: skip
        raise PlacementError(
            f"reward node(s) {desc} also offer generic CPUs, so verl's trainer actors (TaskRunner, TransferQueue, "
            f"load balancer, agent/reward-loop workers) may be placed there; start reward nodes with "
            f"`ray start --address HEAD:6379 --num-cpus 0 --resources '{{\"{resource}\": N}}'`"
        )

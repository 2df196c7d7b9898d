"""A real multi-node Ray cluster on one machine, started with `ray start` exactly as an operator would on
several: a head and any number of reward nodes, each on its own ports and its own --temp-dir, with token
authentication on. Nothing here touches another Ray instance of the machine.

    cluster = LocalCluster(root)                     # a private token in root/auth_token
    cluster.start_head(num_cpus=8, num_gpus=1)
    cluster.add_node("reward-1", num_cpus=0, resources={"reward_cpu": 2})
    env = cluster.client_env()                      # RAY_ADDRESS + auth for `ray job submit`, vinci-rl, ray.init
    cluster.kill_node("reward-1")                    # node loss: SIGKILL every process of that node
    cluster.restart_node("reward-1")                 # it rejoins (a new Ray node id)
    cluster.shutdown()                               # every process the cluster started, by PID, and only those

Every process a node starts (GCS, raylet, dashboard, agents, workers, job drivers) inherits the node's
environment, which carries a tag (`VINCI_RL_CLUSTER_NODE=<cluster id>/<node name>`): that is how the cluster finds
exactly its own processes in /proc, and why a bare `ray stop` (which kills every Ray process of the machine)
is never needed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from vinci_rl.cluster.auth import auth_env

TAG_VAR = "VINCI_RL_CLUSTER_NODE"
# Ports each node needs besides the worker range; the head needs HEAD_PORTS more.
NODE_PORTS = ("node-manager-port", "object-manager-port", "dashboard-agent-listen-port",
              "dashboard-agent-grpc-port", "runtime-env-agent-port", "metrics-export-port")  # fmt: skip
HEAD_PORTS = ("port", "dashboard-port", "ray-client-server-port")
WORKER_PORTS = 64  # worker processes per node (actors and tasks each take one while alive)


class ClusterError(RuntimeError):
    """A node could not start, join, or stop; the message names the node and the log to read."""


@dataclass
class Node:
    name: str
    args: list[str]  # `ray start` arguments (ports, resources), reused when the node rejoins
    temp_dir: Path
    resources: dict = field(default_factory=dict)
    node_ids: list[str] = field(default_factory=list)  # every Ray node id it had (a rejoin gets a new one)
    alive: bool = False


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_block(size: int, low: int = 20000, high: int = 60000, tries: int = 200) -> int:
    """First port of `size` consecutive free ports, picked at random (other Ray instances may run here)."""
    rng = secrets.SystemRandom()
    for _ in range(tries):
        base = rng.randrange(low, high - size)
        if all(_port_free(p) for p in range(base, base + size)):
            return base
    raise ClusterError(f"no block of {size} free ports found in {low}-{high}")


def tagged_pids(tag_prefix: str) -> dict[int, str]:
    """PID -> tag of every process whose environment carries TAG_VAR starting with tag_prefix."""
    needle = f"{TAG_VAR}={tag_prefix}".encode()
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            for entry in (proc / "environ").read_bytes().split(b"\0"):
                if entry.startswith(needle):
                    found[int(proc.name)] = entry.split(b"=", 1)[1].decode()
                    break
        except OSError:  # gone, or not ours to read
            continue
    return found


class LocalCluster:
    def __init__(self, root: Path, ray_bin: str | None = None, extra_env: dict[str, str] | None = None):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.id = uuid.uuid4().hex[:10]
        self.ray_bin = ray_bin or str(Path(sys.executable).with_name("ray"))
        self.token_path = self.root / "auth_token"
        if not self.token_path.exists():
            self.token_path.write_text(secrets.token_hex(32))
            self.token_path.chmod(0o600)
        self.extra_env = dict(extra_env or {})
        # Ray's unix sockets live under each node's temp dir and their paths may not exceed 107 bytes: the nodes'
        # temp dirs go to a short path (linked from root/nodes), whatever root is.
        self.temp_base = Path(tempfile.gettempdir()) / f"vrc-{self.id}"
        self.temp_base.mkdir(parents=True, exist_ok=True)
        link = self.root / "nodes"
        if not link.exists():
            link.symlink_to(self.temp_base)
        self.nodes: dict[str, Node] = {}
        self.gcs_address = ""
        self.dashboard_url = ""
        self.killed: dict[int, str] = {}  # every PID this cluster signalled -> its tag

    # ---- environment ---------------------------------------------------------------------------------

    def client_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for a client of the cluster (`ray job submit`, `vinci-rl workers`, ray.init): its address
        and its token, never a node tag."""
        env = dict(os.environ if base is None else base)
        env.pop(TAG_VAR, None)
        env.update(auth_env(self.token_path))
        env["RAY_ADDRESS"] = self.gcs_address
        return env

    def _node_env(self, name: str) -> dict[str, str]:
        env = self.client_env()
        env.pop("RAY_ADDRESS", None)
        env.update(self.extra_env)
        env[TAG_VAR] = f"{self.id}/{name}"
        # the venv's bin first, as on a cluster image with vinci-rl installed (job entrypoints run `vinci-rl`)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        return env

    # ---- nodes ---------------------------------------------------------------------------------------

    def _ports(self, names: tuple[str, ...]) -> tuple[list[str], int]:
        base = free_port_block(len(names) + WORKER_PORTS)
        args = []
        for i, name in enumerate(names):
            args += [f"--{name}", str(base + i)]
        low = base + len(names)
        args += ["--min-worker-port", str(low), "--max-worker-port", str(low + WORKER_PORTS - 1)]
        return args, base

    def start_head(self, num_cpus: int, num_gpus: int = 0, resources: dict | None = None,
                   object_store_mb: int = 512) -> str:  # fmt: skip
        """Start the head (GCS, dashboard, job server); returns its GCS address HOST:PORT."""
        if self.gcs_address:
            raise ClusterError("the head already runs")
        args, base = self._ports(NODE_PORTS + HEAD_PORTS)
        gcs_port, dash_port = base + len(NODE_PORTS), base + len(NODE_PORTS) + 1
        args = ["--head", *args, "--dashboard-host", "127.0.0.1", "--include-dashboard", "true",
                "--node-ip-address", "127.0.0.1", "--disable-usage-stats"]  # fmt: skip
        self.gcs_address = f"127.0.0.1:{gcs_port}"
        self.dashboard_url = f"http://127.0.0.1:{dash_port}"
        self._start("head", args, num_cpus, num_gpus, resources or {}, object_store_mb)
        return self.gcs_address

    def add_node(self, name: str, num_cpus: int, resources: dict | None = None, num_gpus: int = 0,
                 object_store_mb: int = 256) -> Node:  # fmt: skip
        if not self.gcs_address:
            raise ClusterError("start the head first")
        if name in self.nodes:
            raise ClusterError(f"node {name} exists")
        args, _ = self._ports(NODE_PORTS)
        args = ["--address", self.gcs_address, *args, "--node-ip-address", "127.0.0.1", "--disable-usage-stats"]
        return self._start(name, args, num_cpus, num_gpus, resources or {}, object_store_mb)

    def _start(self, name: str, args: list[str], num_cpus: int, num_gpus: int, resources: dict,
               object_store_mb: int) -> Node:  # fmt: skip
        temp_dir = self.temp_base / name
        args = [*args, "--num-cpus", str(num_cpus), "--num-gpus", str(num_gpus),
                "--object-store-memory", str(object_store_mb * 1024 * 1024)]  # fmt: skip
        if resources:
            args += ["--resources", json.dumps(resources)]
        node = Node(name, args, temp_dir, dict(resources, CPU=num_cpus, GPU=num_gpus))
        self.nodes[name] = node
        self._ray_start(node)
        return node

    def _ray_start(self, node: Node) -> None:
        node.temp_dir.mkdir(parents=True, exist_ok=True)
        before = set(self.node_ids()) if self.nodes.get("head", node).alive else set()
        log = self.root / f"{node.name}.start.log"
        with log.open("a") as out:
            proc = subprocess.run([self.ray_bin, "start", *node.args, "--temp-dir", str(node.temp_dir)],
                                  env=self._node_env(node.name), stdout=out, stderr=subprocess.STDOUT, timeout=180)  # fmt: skip
        if proc.returncode != 0:
            raise ClusterError(f"`ray start` of node {node.name} failed (exit {proc.returncode}); see {log}")
        node.alive = True
        node.node_ids.append(self._wait_new_node(before, node.name))

    def _wait_new_node(self, before: set[str], name: str, timeout_s: float = 60.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            new = set(self.node_ids()) - before
            if new:
                return new.pop()
            time.sleep(0.5)
        raise ClusterError(f"node {name} did not register with the head within {timeout_s:.0f} s")

    def node_ids(self, alive_only: bool = True) -> list[str]:
        """Node ids the head knows (from the GCS, through the `ray` CLI's state API)."""
        return [n["node_id"] for n in self.list_nodes() if n["state"] == "ALIVE" or not alive_only]

    def list_nodes(self) -> list[dict]:
        out = subprocess.run([self.ray_bin, "list", "nodes", "--format", "json", "--limit", "1000"],
                             env=self.client_env(), capture_output=True, text=True, timeout=60)  # fmt: skip
        if out.returncode != 0:
            raise ClusterError(f"`ray list nodes` failed: {out.stderr[-2000:]}")
        return json.loads(out.stdout)

    def node_of(self, node_id: str) -> str | None:
        """The name of the node that had this Ray node id."""
        return next((n.name for n in self.nodes.values() if node_id in n.node_ids), None)

    def kill_node(self, name: str) -> list[int]:
        """Node loss: SIGKILL every process of the node at once (raylet, agents, workers). Returns their PIDs."""
        node = self.nodes[name]
        pids = self._signal(f"{self.id}/{name}", signal.SIGKILL)
        node.alive = False
        return pids

    def restart_node(self, name: str) -> str:
        """The node rejoins with the same resources and ports; returns its new Ray node id."""
        node = self.nodes[name]
        if node.alive:
            raise ClusterError(f"node {name} is still running")
        self._ray_start(node)
        return node.node_ids[-1]

    def wait_node_dead(self, node_id: str, timeout_s: float = 120.0) -> float:
        """Seconds until the head marks the node dead."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            if node_id not in self.node_ids():
                return time.monotonic() - t0
            time.sleep(0.5)
        raise ClusterError(f"the head still lists node {node_id} as alive after {timeout_s:.0f} s")

    # ---- processes -----------------------------------------------------------------------------------

    def pids(self) -> dict[int, str]:
        """Every live process the cluster started (any node), PID -> node tag."""
        return tagged_pids(f"{self.id}/")

    def _signal(self, tag: str, sig: int) -> list[int]:
        pids = [pid for pid, t in tagged_pids(tag).items() if t == tag or tag.endswith("/")]
        for pid in pids:
            try:
                os.kill(pid, sig)
                self.killed[pid] = tag
            except ProcessLookupError:
                pass
        return pids

    def shutdown(self, grace_s: float = 5.0) -> list[int]:
        """Stop every process of the cluster: SIGTERM, then SIGKILL what is left after grace_s. Only processes
        carrying this cluster's tag are signalled. Returns the PIDs signalled."""
        prefix = f"{self.id}/"
        signalled = self._signal(prefix, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.5)
        signalled += self._signal(prefix, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        for node in self.nodes.values():
            node.alive = False
        left = self.pids()
        if left:
            raise ClusterError(f"processes of cluster {self.id} still alive after SIGKILL: {sorted(left)}")
        return sorted(set(signalled))

    def remove_node_dirs(self) -> None:
        """Delete the nodes' temp dirs (Ray's session logs, spilled objects); only once the cluster is stopped."""
        if self.pids():
            raise ClusterError(f"cluster {self.id} still runs")
        shutil.rmtree(self.temp_base, ignore_errors=True)
        (self.root / "nodes").unlink(missing_ok=True)

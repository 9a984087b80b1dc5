"""Real Redis topologies for tests: a 3-primary Cluster and a Sentinel-watched primary + replica.

Every server is a `redis-server` child on a free loopback port in a temporary folder. Each is
started with PR_SET_PDEATHSIG, so the kernel stops it even if pytest itself is killed; the
context managers stop them by pid otherwise. A server that does not come up raises: tests fail.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis

SERVICE = "sbtest"  # the Sentinel service name


def _die_with_parent() -> None:
    # Runs in the child before exec: SIGTERM it when the test process goes away.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port(bus: bool = False) -> int:
    """A free loopback port; with `bus`, port + 10000 (the cluster bus) is free as well."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if not bus or (port < 55000 and _free(port + 10000)):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def node_ports(count: int) -> tuple[int, ...]:
    """`count` cluster node ports, none of them another's bus port (port + 10000)."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port(bus=True)
        taken = {*ports, *(p + 10000 for p in ports)}
        if port not in taken and port + 10000 not in taken:
            ports.append(port)
    return tuple(ports)


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class ServerGone(RuntimeError):
    """A server process ended while we waited for it."""


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll `check` until it holds; raise naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except ServerGone:
            raise
        except Exception:  # not up yet
            pass
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {seconds:.0f}s waiting for {what}")


@dataclass
class Servers:
    """The redis-server processes of one topology, stopped together."""

    folder: Path
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, port: int, *args: str) -> None:
        log = (self.folder / f"{port}.log").open("wb")
        self.processes[port] = subprocess.Popen(
            ["redis-server", *args], cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
        wait_for(lambda: self._up(port), 10, f"redis-server on port {port}")

    def _up(self, port: int) -> bool:
        """True once it answers; its own log as the error if it already exited."""
        if self.processes[port].poll() is not None:
            tail = (self.folder / f"{port}.log").read_text(errors="replace")[-500:]
            raise ServerGone(f"redis-server on port {port} exited: {tail}")
        return _ping(port)

    def stop(self, port: int) -> None:
        process = self.processes.pop(port)
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def stop_all(self) -> None:
        for port in list(self.processes):
            self.stop(port)


def _ping(port: int) -> bool:
    with Redis(port=port, socket_timeout=1, socket_connect_timeout=1) as client:
        return bool(client.ping())


def _node_args(port: int) -> list[str]:
    return ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--protected-mode", "no"]


@dataclass(frozen=True)
class Cluster:
    """A running cluster: its nodes' ports (primaries first) and their processes."""

    ports: tuple[int, ...]
    servers: Servers

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}"


@contextlib.contextmanager
def redis_cluster(primaries: int = 3, replicas: int = 0) -> Iterator[Cluster]:
    """Start the nodes, join them (`replicas` per primary) and wait for `cluster_state:ok`."""
    with tempfile.TemporaryDirectory(prefix="sbcluster") as folder:
        servers = Servers(Path(folder))
        try:
            ports = node_ports(primaries * (1 + replicas))
            for port in ports:
                servers.start(port, *_node_args(port), "--cluster-enabled", "yes",
                              "--cluster-config-file", f"nodes-{port}.conf",
                              "--cluster-node-timeout", "2000")
            subprocess.run(["redis-cli", "--cluster", "create",
                            *(f"127.0.0.1:{p}" for p in ports), "--cluster-replicas",
                            str(replicas), "--cluster-yes"], check=True, timeout=60,
                           capture_output=True)
            wait_for(lambda: all(_cluster_ok(p, len(ports)) for p in ports), 30,
                     "cluster_state:ok")
            if replicas:
                wait_for(lambda: all(_linked(p) for p in ports if _role(p) == "slave"), 30,
                         "the replicas to sync")
            yield Cluster(ports, servers)
        finally:
            servers.stop_all()


def _cluster_ok(port: int, nodes: int) -> bool:
    with Redis(port=port, decode_responses=True, socket_timeout=1) as client:
        info = client.execute_command("CLUSTER", "INFO")
        text = info if isinstance(info, str) else info.decode()
        return "cluster_state:ok" in text and f"cluster_known_nodes:{nodes}" in text


@dataclass
class SentinelSetup:
    """A primary, one replica and three sentinels watching them as `SERVICE`."""

    servers: Servers
    data_ports: tuple[int, int]
    sentinel_ports: tuple[int, ...]

    @property
    def url(self) -> str:
        nodes = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        return f"redis+sentinel://{nodes}/{SERVICE}"

    def primary_port(self) -> int:
        with Redis(port=self.sentinel_ports[0], decode_responses=True, socket_timeout=5) as client:
            _, port = client.sentinel_get_master_addr_by_name(SERVICE)
            return int(port)

    def failover(self, seconds: float = 30) -> int:
        """Ask the first sentinel (clients ask it first) to fail over; wait until it is done."""
        old = self.primary_port()
        with Redis(port=self.sentinel_ports[0], socket_timeout=5) as client:
            client.execute_command("SENTINEL", "FAILOVER", SERVICE)
        new = next(p for p in self.data_ports if p != old)
        wait_for(lambda: self.primary_port() == new and _role(new) == "master", seconds,
                 "the replica to take over")
        return new


def _role(port: int) -> str:
    with Redis(port=port, decode_responses=True, socket_timeout=2) as client:
        return str(client.info("replication")["role"])


@contextlib.contextmanager
def redis_sentinel() -> Iterator[SentinelSetup]:
    """Start a primary, a replica of it and three sentinels; wait until all see each other."""
    with tempfile.TemporaryDirectory(prefix="sbsentinel") as folder:
        servers = Servers(Path(folder))
        try:
            primary, replica = free_port(), free_port()
            servers.start(primary, *_node_args(primary))
            servers.start(replica, *_node_args(replica), "--replicaof", "127.0.0.1",
                          str(primary))
            sentinels = tuple(free_port() for _ in range(3))
            for port in sentinels:
                conf = Path(folder) / f"sentinel-{port}.conf"
                conf.write_text(_sentinel_conf(port, primary))
                servers.start(port, str(conf), "--sentinel")
            setup = SentinelSetup(servers, (primary, replica), sentinels)
            wait_for(lambda: _role(replica) == "slave" and _linked(replica), 20,
                     "the replica to sync")
            wait_for(lambda: all(_sees_all(p) for p in sentinels), 30,
                     "sentinels to see the replica and each other")
            yield setup
        finally:
            servers.stop_all()


def _sentinel_conf(port: int, primary: int) -> str:
    return "\n".join([
        f"port {port}", "bind 127.0.0.1", "protected-mode no",
        f"sentinel monitor {SERVICE} 127.0.0.1 {primary} 2",
        f"sentinel down-after-milliseconds {SERVICE} 1000",
        f"sentinel failover-timeout {SERVICE} 10000", ""])


def _linked(port: int) -> bool:
    with Redis(port=port, decode_responses=True, socket_timeout=1) as client:
        return client.info("replication")["master_link_status"] == "up"


def _sees_all(port: int) -> bool:
    with Redis(port=port, decode_responses=True, socket_timeout=1) as client:
        state = client.sentinel_master(SERVICE)
        return int(state["num-slaves"]) == 1 and int(state["num-other-sentinels"]) == 2

"""Real Ray clusters on 127.0.0.1 (`ray start --head`, then `ray start --address`).

The demo manifest runs with ``--ray-address`` against a two-node cluster and must give the same shards as
the embedded local run; a manifest's own ``ray.address`` key (no flag) must join a one-node cluster. The
cluster's processes are started in their own process groups and killed afterwards even when the test
fails, without `ray stop` (which would also stop other Ray instances on the machine).
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
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from pipeline.manifest import load_manifest
from pipeline.run import run_manifest
from tests.pipeline.helpers import tree_digest, write_manifest

REPO = Path(__file__).resolve().parents[2]
RAY = str(Path(sys.executable).with_name("ray"))
# Ray >= 2.5x secures clusters started with `ray start` by a token; every process of the test shares one.
ENV = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_copy(tmp_path: Path, name: str) -> Path:
    """The demo manifest, pointed at the repository's samples, writing into tmp_path."""
    data = yaml.safe_load((REPO / "manifests" / "demo.yaml").read_text())
    data["run"]["output_dir"] = str(tmp_path / name)
    for source in data["sources"]:
        source["paths"] = [str((REPO / "manifests" / p).resolve()) for p in source["paths"]]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _start(args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([RAY, "start", "--block", *args], stdout=open(log, "wb"),
                            stderr=subprocess.STDOUT, start_new_session=True, env=ENV)


# A worker node's `ray start --block` exits within ~1 s of SIGTERM; the head's never did (15 s, then the SIGKILL its
# process group got anyway, 16 s of every cluster test's teardown in CI), so the grace is short.
STOP_GRACE_S = 5


def _stop(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=STOP_GRACE_S if sig == signal.SIGTERM else 15)
            return
        except subprocess.TimeoutExpired:
            continue


def _alive_nodes(address: str) -> int:
    code = ("import ray; ray.init(address=%r, log_to_driver=False); "
            "print(sum(1 for n in ray.nodes() if n['Alive']))" % address)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=ENV)
    return int(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 and out.stdout.strip() else 0


COMMON = ["--num-cpus=1", "--object-store-memory=100000000", "--disable-usage-stats"]


@contextmanager
def head_node(tmp_path: Path, wait: bool = True) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A head node on a free port (alive before the body runs unless ``wait`` is off); yields its address
    and the node list (append worker nodes to it: they are stopped with the head, even when the body fails)."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    temp_dir = Path("/tmp") / f"ray-refinery-{os.getpid()}"  # short: Ray's socket paths have a length cap
    nodes: list[subprocess.Popen] = []
    try:
        nodes.append(_start(["--head", f"--port={port}", "--include-dashboard=false",
                             f"--temp-dir={temp_dir}", *COMMON], tmp_path / "head.log"))
        deadline = time.monotonic() + 120
        while wait and _alive_nodes(address) < 1:
            assert time.monotonic() < deadline, (tmp_path / "head.log").read_text()
            time.sleep(1)
        yield address, nodes
    finally:
        for node in reversed(nodes):
            _stop(node)
        shutil.rmtree(temp_dir, ignore_errors=True)


# Joins the cluster once (connecting costs 10-30 s on the loaded machine), says when its node is alive, and
# on a line from the test prints the PID of every driver that has joined since: the GCS job table (the
# dashboard's job API is off).
OBSERVER = """
import sys, time, ray
from ray._private.state import state
deadline = time.monotonic() + 120
while True:
    try:
        ray.init(address=sys.argv[1], log_to_driver=False)
        break
    except ConnectionError:
        if time.monotonic() > deadline:
            raise
        time.sleep(1)
while not any(n["Alive"] for n in ray.nodes()):
    time.sleep(0.5)
print("alive", flush=True)
sys.stdin.readline()
print(*[job["DriverPid"] for job in state.job_table()], flush=True)
"""


@pytest.fixture(scope="module")
def two_node_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A head and a worker node, both alive, shared by this module's tests (starting a cluster and seeing
    its nodes alive costs 20-60 s on the loaded machine); yields the head's address."""
    logs = tmp_path_factory.mktemp("cluster")
    with head_node(logs) as (address, nodes):
        nodes.append(_start([f"--address={address}", *COMMON], logs / "worker.log"))
        deadline = time.monotonic() + 120
        while _alive_nodes(address) < 2:
            assert time.monotonic() < deadline, (logs / "worker.log").read_text()
            time.sleep(1)
        yield address


@pytest.mark.cluster
def test_the_manifests_ray_address_key_joins_that_cluster(shared_data: Path, tmp_path: Path,
                                                          two_node_cluster: str) -> None:
    """``ray: {address: ...}`` in the manifest, no ``--ray-address``: the run's driver must be in the
    cluster's job table (an embedded Ray would have its own GCS, and this cluster would never see it)."""
    address = two_node_cluster
    observer = subprocess.Popen([sys.executable, "-c", OBSERVER, address], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=open(tmp_path / "observer.log", "w"),
                                text=True, env=ENV)
    try:
        assert observer.stdout.readline().strip() == "alive", (tmp_path / "observer.log").read_text()
        manifest = write_manifest(tmp_path, [{"name": "books", "kind": "books",
                                              "paths": [str(shared_data / "books/the-verdict.txt")]}],
                                  ray={"address": address})
        run = subprocess.Popen([sys.executable, "-m", "pipeline", "run", str(manifest)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
        output = run.communicate(timeout=300)[0]
        assert run.returncode == 0, output[-3000:]
        drivers = observer.communicate("jobs\n", timeout=60)[0].split()
    finally:
        if observer.poll() is None:
            observer.kill()
            observer.wait()
    assert str(run.pid) in drivers, (drivers, output[-2000:])
    stats = json.loads((tmp_path / "out" / "t" / "stats" / "crawl.json").read_text())
    assert stats["outputs"] and (tmp_path / "out" / "t" / stats["outputs"][0]).is_file()


@pytest.mark.cluster
@pytest.mark.slow
def test_demo_on_a_two_node_cluster(ray_local, tmp_path: Path, two_node_cluster: str) -> None:
    on_cluster = subprocess.run([sys.executable, "-m", "pipeline", "run", str(demo_copy(tmp_path, "c")),
                                 "--ray-address", two_node_cluster], cwd=REPO, capture_output=True, text=True,
                                timeout=900, env=ENV)
    assert on_cluster.returncode == 0, on_cluster.stderr[-3000:]

    # the embedded local run: in this process on the session's Ray (no CLI and Ray start of its own)
    run_manifest(load_manifest(demo_copy(tmp_path, "l")))
    folders = ("docs", "filtered", "removed", "dedup", "tokens")
    cluster_tree = tree_digest(tmp_path / "c" / "demo", folders)
    assert cluster_tree and cluster_tree == tree_digest(tmp_path / "l" / "demo", folders)

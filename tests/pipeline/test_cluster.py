"""A real two-node Ray cluster on 127.0.0.1 (`ray start --head`, then `ray start --address`).

The demo manifest runs with ``--ray-address`` against it and must give the same shards as the embedded
local run. The cluster's processes are started in their own process groups and killed afterwards even
when the test fails, without `ray stop` (which would also stop other Ray instances on the machine).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.pipeline.helpers import tree_digest

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


def _stop(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue


def _alive_nodes(address: str) -> int:
    code = ("import ray; ray.init(address=%r, log_to_driver=False); "
            "print(sum(1 for n in ray.nodes() if n['Alive']))" % address)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=ENV)
    return int(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 and out.stdout.strip() else 0


@pytest.mark.cluster
@pytest.mark.slow
def test_demo_on_a_two_node_cluster(tmp_path: Path) -> None:
    port = free_port()
    address = f"127.0.0.1:{port}"
    temp_dir = Path("/tmp") / f"ray-refinery-{os.getpid()}"  # short: Ray's socket paths have a length cap
    common = ["--num-cpus=1", "--object-store-memory=100000000", "--disable-usage-stats"]
    nodes: list[subprocess.Popen] = []
    try:
        nodes.append(_start(["--head", f"--port={port}", "--include-dashboard=false",
                             f"--temp-dir={temp_dir}", *common], tmp_path / "head.log"))
        deadline = time.monotonic() + 120
        while _alive_nodes(address) < 1:
            assert time.monotonic() < deadline, (tmp_path / "head.log").read_text()
            time.sleep(1)
        nodes.append(_start([f"--address={address}", *common], tmp_path / "worker.log"))
        while _alive_nodes(address) < 2:
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(1)

        on_cluster = subprocess.run([sys.executable, "-m", "pipeline", "run", str(demo_copy(tmp_path, "c")),
                                     "--ray-address", address], cwd=REPO, capture_output=True, text=True,
                                    timeout=900, env=ENV)
        assert on_cluster.returncode == 0, on_cluster.stderr[-3000:]
    finally:
        for node in reversed(nodes):
            _stop(node)
        shutil.rmtree(temp_dir, ignore_errors=True)

    local = subprocess.run([sys.executable, "-m", "pipeline", "run", str(demo_copy(tmp_path, "l"))],
                           cwd=REPO, capture_output=True, text=True, timeout=900)
    assert local.returncode == 0, local.stderr[-3000:]
    folders = ("docs", "filtered", "removed", "dedup", "tokens")
    cluster_tree = tree_digest(tmp_path / "c" / "demo", folders)
    assert cluster_tree and cluster_tree == tree_digest(tmp_path / "l" / "demo", folders)

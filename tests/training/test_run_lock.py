"""Ranks die with their torchrun launcher, and a run's out_dir is locked while it runs (real torchrun,
2 gloo ranks on CPU)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contracts.run_lock import LOCK_NAME, RunLock
from pipeline.ray_watchdog import _start_time
from tests.process_helpers import descendants, wait_until
from tests.training.trainer_helpers import bpe_dataset, config_dict, write_config
from training.config import parse_config
from training.run_lock import OutDirLockedError
from training.train import train

REPO = Path(__file__).resolve().parents[2]


def alive(processes: dict[int, str]) -> list[int]:
    return [pid for pid, started in processes.items() if _start_time(pid) == started]


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc are Linux's")
def test_killing_the_launcher_kills_its_ranks_and_a_second_run_is_refused_meanwhile(
        tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    out = tmp_path / "run"
    config = write_config(tmp_path / "long.yaml", config_dict(
        bpe_dataset(tmp_path_factory), out, optim={"max_steps": 20_000}, checkpoint={"every": 2},
        eval={"every": 0}))
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    launcher = subprocess.Popen([str(Path(sys.executable).with_name("torchrun")), "--standalone",
                                 "--nproc_per_node=2", "-m", "training.train", str(config)], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=open(tmp_path / "torchrun.log", "w"),
                                start_new_session=True)
    ranks: dict[int, str] = {}
    try:
        assert wait_until(lambda: (out / "checkpoint.pt").exists() or launcher.poll() is not None, 300)
        assert launcher.poll() is None, (tmp_path / "torchrun.log").read_text()[-3000:]
        ranks = {pid: started for pid, started in descendants(launcher.pid).items()
                 if b"training.train" in Path(f"/proc/{pid}/cmdline").read_bytes()}
        assert len(ranks) == 2
        holder = json.loads((out / LOCK_NAME).read_text())
        assert holder["pid"] in ranks  # rank 0 holds the folder

        second = subprocess.run([sys.executable, "-m", "training.train", str(config), "--resume"], cwd=REPO,
                                env=env, capture_output=True, text=True, timeout=300)
        assert second.returncode == 2, second.stderr[-2000:]
        assert f"is in use by another training run (PID {holder['pid']} on host {holder['host']}" in second.stderr
        assert "Traceback" not in second.stderr

        os.kill(launcher.pid, signal.SIGKILL)  # the launcher alone; its ranks sit in sessions of their own
        launcher.wait()
        assert wait_until(lambda: not alive(ranks), 60), f"ranks outlived their launcher: {alive(ranks)}"
        steps = (out / "metrics.jsonl").stat().st_size
        time.sleep(1)
        assert (out / "metrics.jsonl").stat().st_size == steps, "nothing writes to the run any more"
        RunLock(out, "training run").acquire().release()  # the dead run's lock is stale: taken over
    finally:
        for pid in alive(ranks):
            os.kill(pid, signal.SIGKILL)
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()


def test_a_held_out_dir_refuses_an_in_process_run_and_a_finished_run_releases_it(
        tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    config = parse_config(config_dict(bpe_dataset(tmp_path_factory), tmp_path / "run", optim={"max_steps": 2}))
    with RunLock(tmp_path / "run", "training run"):
        with pytest.raises(OutDirLockedError, match="in use by another training run"):
            train(config, echo=None)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()
    train(config, echo=None)
    assert (tmp_path / "run" / "checkpoint.pt").exists() and not (tmp_path / "run" / LOCK_NAME).exists()

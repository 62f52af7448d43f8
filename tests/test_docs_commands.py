"""Every example command in README.md and docs/ runs as written.

The commands are extracted from the fenced ``sh``/``bash`` blocks, and every one must have an entry in
``HOW`` saying how this test runs it: as written, with a synopsis's placeholders filled in, or not here
(and where instead). A new command in the docs without an entry fails the test, so the docs cannot drift
from what runs. The ``yaml`` manifest examples are checked with ``pipeline check``.

Reduced size, so the test stays a few minutes on 2 cores: the commands run in a scratch folder laid out
like the repository (``manifests/demo.yaml`` verbatim, ``samples/`` linked), and the only change is the
copy of ``training/configs/demo.yaml``, whose ``optim.max_steps`` is cut from 300 to 2.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
REDUCED_STEPS = 2

RUN = "run"
# command as it appears (comments stripped) -> (how, the command line run, or where it is covered instead)
HOW: dict[str, tuple[str, str]] = {
    "make demo": ("covered", "its steps are the pipeline run, training and generate commands run here"),
    "make test": ("covered", "runs this test suite itself"),
    "python -m pipeline run MANIFEST [--ray-address HOST:PORT] [--force]": (RUN, "python -m pipeline run manifests/demo.yaml"),
    "python -m pipeline check MANIFEST": (RUN, "python -m pipeline check manifests/demo.yaml"),
    "python -m pipeline report RUN_DIR [RUN_B]": (RUN, "python -m pipeline report runs/demo"),
    "python -m pipeline validate RUN_DIR/tokens": (RUN, "python -m pipeline validate runs/demo/tokens"),
    "ray start --head --port=6379": ("covered", "tests/pipeline/test_cluster.py (a real cluster on 127.0.0.1)"),
    "ray start --address=HEAD_IP:6379": ("covered", "tests/pipeline/test_cluster.py"),
    "python -m pipeline run manifests/demo.yaml --ray-address HEAD_IP:6379": (
        "covered", "tests/pipeline/test_cluster.py"),
    "torchrun --nproc_per_node=2 -m training.train training/configs/demo.yaml": (
        RUN, "torchrun --nproc_per_node=2 -m training.train training/configs/demo.yaml"),
    "python -m training.train training/configs/demo.yaml [--resume]": (
        RUN, "python -m training.train training/configs/demo.yaml --resume"),
    "python -m model.generate --checkpoint runs/demo/train/checkpoint.pt --prompt \"The\" --seed 1": (
        RUN, "python -m model.generate --checkpoint runs/demo/train/checkpoint.pt --prompt \"The\" --seed 1"),
    "python -m training.evaluate CHECKPOINT --tasks core [--limit N] [--bpb TEXT]": (
        RUN, "python -m training.evaluate runs/demo/train/checkpoint.pt --tasks core.copa,lambada_openai "
             "--limit 3 --bpb samples/books/the-verdict.txt"),
}
ORDER = [  # what a later command needs (the run folder, a checkpoint) an earlier one makes
    "python -m pipeline check MANIFEST",
    "python -m pipeline run MANIFEST [--ray-address HOST:PORT] [--force]",
    "python -m pipeline validate RUN_DIR/tokens",
    "python -m pipeline report RUN_DIR [RUN_B]",
    "torchrun --nproc_per_node=2 -m training.train training/configs/demo.yaml",
    "python -m training.train training/configs/demo.yaml [--resume]",
    "python -m model.generate --checkpoint runs/demo/train/checkpoint.pt --prompt \"The\" --seed 1",
    "python -m training.evaluate CHECKPOINT --tasks core [--limit N] [--bpb TEXT]",
]


def fenced_blocks(path: Path, languages: tuple[str, ...]) -> list[str]:
    return re.findall(rf"^```(?:{'|'.join(languages)})\n(.*?)^```", path.read_text(), flags=re.M | re.S)


def commands(path: Path) -> list[str]:
    found = []
    for block in fenced_blocks(path, ("sh", "bash", "console", "shell")):
        for line in block.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line and not line.startswith("#"):
                found.append(line)
    return found


def test_every_documented_command_has_a_way_to_run() -> None:
    documented = [c for doc in DOCS for c in commands(doc)]
    assert documented, "no commands found: did the README's code fences change?"
    unknown = [c for c in documented if c not in HOW]
    assert not unknown, f"commands in the docs that this test does not know how to run: {unknown}"
    assert sorted(c for c, (how, _) in HOW.items() if how == RUN) == sorted(ORDER)


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A folder laid out like the repository: the demo manifest verbatim, a reduced training config."""
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "demo.yaml").write_text((REPO / "manifests" / "demo.yaml").read_text())
    (tmp_path / "samples").symlink_to(REPO / "samples")
    config = (REPO / "training" / "configs" / "demo.yaml").read_text()
    reduced, n = re.subn(r"^(\s*max_steps:\s*)\d+", rf"\g<1>{REDUCED_STEPS}", config, flags=re.M)
    assert n == 1, "training/configs/demo.yaml has no optim.max_steps to reduce"
    (tmp_path / "training" / "configs").mkdir(parents=True)
    (tmp_path / "training" / "configs" / "demo.yaml").write_text(reduced)
    return tmp_path


def run_line(line: str, cwd: Path) -> subprocess.CompletedProcess:
    argv = shlex.split(line)
    if argv[0] == "python":
        argv[0] = sys.executable
    elif argv[0] == "torchrun":
        argv[0] = str(Path(sys.executable).with_name("torchrun"))
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")  # the packages, not the scratch copy
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_the_documented_commands_run_as_written(scratch: Path) -> None:
    for command in ORDER:
        done = run_line(HOW[command][1], scratch)
        assert done.returncode == 0, f"{command!r} failed:\n{done.stderr[-3000:]}"
    assert (scratch / "runs" / "demo" / "report" / "report.html").is_file()
    assert (scratch / "runs" / "demo" / "train" / "checkpoint.pt").is_file()


def test_the_readme_manifest_example_checks(tmp_path: Path) -> None:
    blocks = [b for doc in DOCS for b in fenced_blocks(doc, ("yaml",))]
    assert blocks
    (tmp_path / "samples").symlink_to(REPO / "samples")
    for i, block in enumerate(blocks):
        (tmp_path / "manifests").mkdir(exist_ok=True)
        path = tmp_path / "manifests" / f"example{i}.yaml"
        path.write_text(block)
        done = run_line(f"python -m pipeline check {path}", tmp_path)
        assert done.returncode == 0 and "manifest OK" in done.stdout, done.stderr[-2000:]

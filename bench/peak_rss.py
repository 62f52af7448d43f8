"""Peak RSS of the whole process tree (driver, GCS, raylet, agents, workers) per pipeline stage.

Runs a manifest's stages one by one in this process on an embedded local Ray and samples the summed
RSS of this process and all its descendants every ``--every`` seconds while each stage runs; the peer
is the same tree idle (Ray started, no stage running), measured in the same run. With ``--copies N`` the
manifest's local inputs are replaced by N copies of each (distinct names, same bytes): N x the reading,
extraction and filter work; dedup sees N x the documents and keeps one copy of each.

    .venv/bin/python bench/peak_rss.py manifests/demo.yaml --out /tmp/rss-demo
    .venv/bin/python bench/peak_rss.py manifests/demo.yaml --out /tmp/rss-10x --copies 10
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.manifest import load_manifest  # noqa: E402
from pipeline.ray_watchdog import _children  # noqa: E402
from pipeline.run import record_run  # noqa: E402
from pipeline.runner import connect_ray  # noqa: E402
from pipeline.stage import RunContext  # noqa: E402
from pipeline.stages import get_stage  # noqa: E402
from pipeline.stages.crawl import source_paths  # noqa: E402


def tree_rss_kib(pid: int) -> tuple[int, int]:
    """(sum of VmRSS over ``pid`` and its descendants, the largest single VmRSS), in KiB."""
    children, stack, sizes = _children(), [pid], []
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]))
        except OSError:
            pass
    return sum(sizes), max(sizes, default=0)


class Sampler:
    def __init__(self, every_s: float):
        self.every_s, self.peak, self.largest = every_s, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total, largest = tree_rss_kib(os_pid)
            self.peak, self.largest = max(self.peak, total), max(self.largest, largest)
            time.sleep(self.every_s)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


os_pid = __import__("os").getpid()


def copy_inputs(manifest, folder: Path, copies: int) -> None:  # noqa: ANN001 - a LoadedManifest
    for source in manifest.sources:
        paths = []
        for path in source_paths(source):
            for i in range(copies):
                name = Path(path).name
                target = folder / source.name / f"c{i:02d}-{name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                paths.append(str(target))
        source.paths = paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="output_dir for the run (emptied first)")
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--every", type=float, default=0.25)
    args = parser.parse_args()
    manifest = load_manifest(args.manifest)
    shutil.rmtree(args.out, ignore_errors=True)
    manifest.run_dir = args.out / manifest.run.name
    inputs_dir = Path(tempfile.mkdtemp(prefix="rss-inputs-"))
    if args.copies > 1:
        copy_inputs(manifest, inputs_dir, args.copies)
    record_run(manifest)
    ray_cfg = manifest.ray
    connect_ray(None, ray_cfg.num_cpus, ray_cfg.object_store_memory)
    time.sleep(5)  # let Ray's agents and first workers settle
    with Sampler(args.every) as idle:
        time.sleep(5)
    rows = []
    outputs: list[str] = []
    context = RunContext.on_ray(manifest)
    for name in manifest.stages.order:
        started = time.monotonic()
        with Sampler(args.every) as sample:
            result = get_stage(name).run(context, outputs)
        outputs = result.outputs
        rows.append((name, sample.peak, sample.largest, time.monotonic() - started,
                     result.tally.counts.get("docs_in", 0)))
    import ray

    ray.shutdown()
    shutil.rmtree(inputs_dir, ignore_errors=True)
    print(f"\n{args.manifest} x{args.copies}: idle tree (Ray up, no stage) {idle.peak / 1024:,.0f} MiB")
    print("| stage | docs in | seconds | peak tree RSS MiB | vs idle tree | largest process MiB |")
    print("|---|---|---|---|---|---|")
    for name, peak, largest, seconds, docs in rows:
        print(f"| {name} | {docs:,} | {seconds:,.1f} | {peak / 1024:,.0f} | {peak / max(idle.peak, 1):.2f}x | "
              f"{largest / 1024:,.0f} |")


if __name__ == "__main__":
    main()

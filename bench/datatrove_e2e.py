"""datatrove's side of bench/e2e_bench.py; runs inside .bench-venv-datatrove (bench/make_datatrove_venv.sh).

FineWeb's chain without dedup, as datatrove's LocalPipelineExecutor runs it with one task and one worker:
WarcReader -> Trafilatura(favour_precision) -> LanguageFilter(en, 0.65) -> GopherRepetitionFilter ->
GopherQualityFilter -> C4QualityFilter(filter_no_terminal_punct=False) -> FineWebQualityFilter -> JsonlWriter.
The language model is the lid.176 file given with --lid-model, injected (datatrove would download it).

    .bench-venv-datatrove/bin/python bench/datatrove_e2e.py INPUT_DIR WORK_DIR --lid-model PATH

Writes WORK_DIR/result.json: wall seconds, per-step seconds from datatrove's own stats, pages read, and the
kept documents' keys (input file name and WARC-Record-ID).
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("input_dir")
    parser.add_argument("work_dir")
    parser.add_argument("--lid-model", required=True)
    args = parser.parse_args()

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter, LanguageFilter)
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers import JsonlWriter
    import datatrove.utils.lid as lid

    # offline: the model file is given, not downloaded (the executor copies the pipeline, so the path is
    # patched where datatrove looks it up rather than a loaded model injected)
    lid.cached_asset_path_or_download = lambda *_, **__: args.lid_model
    work = Path(args.work_dir)
    language = LanguageFilter(languages=["en"], language_threshold=0.65)
    pipeline = [
        WarcReader(args.input_dir, glob_pattern="*.warc.gz"),
        Trafilatura(favour_precision=True),
        language,
        GopherRepetitionFilter(),
        GopherQualityFilter(),
        C4QualityFilter(filter_no_terminal_punct=False),
        FineWebQualityFilter(),
        JsonlWriter(str(work / "kept"), compression=None),
    ]
    executor = LocalPipelineExecutor(pipeline=pipeline, tasks=1, workers=1, logging_dir=str(work / "logs"))
    started = time.perf_counter()
    executor.run()
    wall = time.perf_counter() - started
    stats = json.loads((work / "logs" / "stats.json").read_text())
    steps = {}
    for step in stats:
        name = step.get("name", "?")
        seconds = (step.get("time_stats") or {}).get("total") or step.get("time_stats", {}).get("global_mean", 0)
        steps[name] = {"seconds": seconds, "stats": step.get("stats", {})}
    kept = []
    for path in sorted((work / "kept").glob("*.jsonl*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                doc = json.loads(line)
                meta = doc.get("metadata", {})
                kept.append([Path(meta.get("file_path", "")).name, doc["id"]])
    result = {"wall_seconds": wall, "steps": steps, "kept": kept}
    (work / "result.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

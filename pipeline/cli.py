"""Command line: ``python -m pipeline run|check MANIFEST``, ``validate DATASET`` and ``report RUN_DIR [RUN_B]``."""

from __future__ import annotations

import argparse
import sys

from contracts.fsio import InputError, io_error_hint
from pipeline.manifest import ManifestError, load_manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a manifest end to end (resumes: finished shards are skipped)")
    run.add_argument("manifest")
    run.add_argument("--ray-address", default=None,
                     help="join an existing Ray cluster (overrides ray.address in the manifest)")
    run.add_argument("--force", action="store_true",
                     help="write into an existing non-empty folder that is not a refinery run")
    check = sub.add_parser("check", help="validate a manifest and list its inputs without running it")
    check.add_argument("manifest")
    validate = sub.add_parser("validate", help="check a token dataset's shards against its index")
    validate.add_argument("dataset", help="the tokenize stage's output folder (<run_dir>/tokens)")
    report = sub.add_parser("report", help="corpus statistics report of a run, or two runs compared")
    report.add_argument("runs", nargs="+", metavar="RUN_DIR", help="a run folder; a second one compares them")
    report.add_argument("--train-dir", default=None, help="folder or file of the training metrics JSONL")
    report.add_argument("--out", default=None, help="output folder (default: <RUN_DIR>/report[/compare-<B>])")
    args = parser.parse_args(argv)
    if args.command == "report":
        from pipeline.report import report_command

        return report_command(args.runs, args.train_dir, args.out)
    if args.command == "validate":
        from contracts.token_dataset import validate_command

        return validate_command(args.dataset)

    try:
        manifest = load_manifest(args.manifest)
        if args.command == "check":
            from pipeline.preflight import load_resources
            from pipeline.stage import RunContext
            from pipeline.stages import crawl

            tasks = crawl.plan(RunContext(manifest))
            loaded = load_resources(manifest)  # tokenizer, language-ID models, block lists: fail here, not later
            print(f"manifest OK (hash {manifest.hash[:12]}): {len(manifest.sources)} sources, "
                  f"{len(tasks)} crawl tasks; run folder {manifest.run_dir}")
            for line in loaded:
                print(f"  loaded: {line}")
            return 0
        from pipeline.path_policy import PathPolicyError
        from pipeline.run import run_manifest
        from pipeline.run_folder import RunFolderError
        from contracts.run_lock import FolderLockedError
        from pipeline.runner import StageError

        try:
            run_manifest(manifest, ray_address=args.ray_address, force=args.force)
        except (RunFolderError, PathPolicyError, FolderLockedError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except StageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    except (ManifestError, InputError, FileNotFoundError) as exc:
        # A FileNotFoundError with an errno comes from the OS (e.g. the output folder vanished mid-run):
        # it gets the same what-to-do line as the other output errors.
        hint = io_error_hint(exc) if getattr(exc, "errno", None) else ""
        print(f"error: {exc}" + (f"\n{hint}" if hint else ""), file=sys.stderr)
        return 2
    except OSError as exc:  # the driver's own writes: run record, completion records, statistics
        print(f"error: {exc}\n{io_error_hint(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

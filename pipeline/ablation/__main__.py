"""``python -m pipeline.ablation ABLATION.yaml [--plan]``: print the variants' plan, then build their data."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from contracts.ablation import AblationError, load_ablation
from pipeline.ablation.build import build
from pipeline.ablation.plan import format_plan, make_plan
from pipeline.executors import StageError
from pipeline.manifest import ManifestError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.ablation", description=__doc__)
    parser.add_argument("ablation", help="ablation YAML (see ablations/demo.yaml)")
    parser.add_argument("--plan", action="store_true", help="print what each variant computes or reuses, and stop")
    parser.add_argument("--ray-address", default=None, help="join this Ray cluster for the pipeline stages")
    args = parser.parse_args(argv)
    try:
        ablation = load_ablation(args.ablation)
        plan = make_plan(ablation)
        print(format_plan(plan), file=sys.stderr)
        if args.plan:
            return 0
        build(ablation, plan, args.ray_address)
    except (AblationError, ManifestError, StageError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"variant datasets and held-out set: {ablation.layout.data_record}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

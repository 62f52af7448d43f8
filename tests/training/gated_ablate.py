"""``python -m training.ablate`` that halts for good when the Nth training run logs a chosen step, so a
test's SIGKILL lands inside that run, after its first checkpoint, every time (no race with a run that
might finish first).

    python -m tests.training.gated_ablate RUN STEP FLAG_FILE ABLATION
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from training import metrics
from training.ablate import main


def gate(run: int, step: int, flag: Path) -> None:
    write = metrics.MetricsLog.write
    seen = [0]

    def halting_write(self: metrics.MetricsLog, record: dict[str, Any]) -> None:
        write(self, record)
        if record.get("kind") == "train" and record.get("step") == step:
            seen[0] += 1
            if seen[0] == run:
                flag.write_text(str(self.path))
                while True:
                    time.sleep(3600)

    metrics.MetricsLog.write = halting_write  # type: ignore[method-assign]


if __name__ == "__main__":
    run, step, flag, *argv = sys.argv[1:]
    gate(int(run), int(step), Path(flag))
    sys.exit(main(argv))

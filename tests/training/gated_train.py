"""``python -m training.train`` that halts for good right after logging a chosen step, so a test's SIGKILL
lands between two checkpoints every time instead of racing a run that may finish first.

    python -m tests.training.gated_train STEP FLAG_FILE CONFIG [--resume]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from training import metrics
from training.train import main


def gate(step: int, flag: Path) -> None:
    write = metrics.MetricsLog.write

    def halting_write(self: metrics.MetricsLog, record: dict[str, Any]) -> None:
        write(self, record)
        if record.get("kind") == "train" and record.get("step") == step:
            flag.write_text(str(step))
            while True:
                time.sleep(3600)

    metrics.MetricsLog.write = halting_write  # type: ignore[method-assign]


if __name__ == "__main__":
    step, flag, *argv = sys.argv[1:]
    gate(int(step), Path(flag))
    sys.exit(main(argv))

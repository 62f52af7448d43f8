"""``python -m pipeline`` with the driver halted for good at a chosen point, so a test's kill lands there
and nowhere else: no race between a polling loop and a run that may finish first on a loaded machine.

    python -m tests.pipeline.gated_cli STAGE COUNT FLAG_FILE run MANIFEST

Once the driver has written COUNT completion records of STAGE it writes FLAG_FILE and sleeps until it is
killed. Tasks already handed to Ray workers may still finish their outputs (under temporary names), as they
would at a real kill; only their completion records are never written.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pipeline import runner
from pipeline.cli import main


def gate(stage: str, count: int, flag: Path) -> None:
    update = runner.Progress.update

    def halting_update(self: runner.Progress, docs: int, nbytes: int, force: bool = False,
                       computed_by: str | None = None) -> None:
        # called right after each completion record is written
        update(self, docs, nbytes, force, computed_by=computed_by)
        if self.stage == stage and self.done >= count:
            flag.write_text(str(self.done))
            while True:
                time.sleep(3600)

    runner.Progress.update = halting_update  # type: ignore[method-assign]


if __name__ == "__main__":
    stage, count, flag, *argv = sys.argv[1:]
    gate(stage, int(count), Path(flag))
    sys.exit(main(argv))

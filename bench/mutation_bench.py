"""Mutation score of one module against a fast, relevant test subset, with cosmic-ray.

cosmic-ray mutates files in place, so everything happens in a scratch copy of the repository (tracked files
plus the built C extensions; ``../shared`` linked beside it, where the tests look for real data): the
working tree is never touched, even when a run is killed. A module yields hundreds of mutants (every
operator replaced by every alternative) and a test run costs seconds, so a seeded random sample of
``--sample`` mutants is executed; the score is reported with its sample size and a 95 % Wilson interval.

    bash bench/make_mutation_venv.sh
    .venv/bin/python bench/mutation_bench.py --module pipeline/filters/gopher.py \
        --tests tests/pipeline/filters/test_gopher.py --sample 40 --seed 1

``--budget SECONDS`` stops executing when the time is spent and scores the mutants executed so far; the
score line says how many of the sample were executed.

Prints the score and every surviving mutant's diff, to be triaged: a missing test added, or the mutant
shown equivalent (bench/README.md, "Mutation testing").
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COSMIC_RAY = Path(os.environ.get("COSMIC_RAY", REPO / ".bench-venv-mutation" / "bin" / "cosmic-ray"))


def scratch_copy(root: Path) -> Path:
    """Tracked files and the built extensions in ``root/repo``; ``root/shared`` -> the real shared data."""
    copy = root / "repo"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    names = [n for n in files.decode().split("\0") if n] + [str(p.relative_to(REPO))
                                                          for p in REPO.glob("pipeline/filters/*.so")]
    for name in names:
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, target)
    (root / "shared").symlink_to((REPO.parent / "shared").resolve())
    return copy


def ordered_jobs(db: sqlite3.Connection) -> list[str]:
    """The session's job ids in the order of their mutations (position, then operator), so that a seed draws the
    same mutants in every session: cosmic-ray names each job with a random uuid4, so an order by id (as before 7
    December 2026) drew a different sample each time, whatever the seed."""
    return [j for (j,) in db.execute(
        "select job_id from mutation_specs order by module_path, start_pos_row, start_pos_col, end_pos_row, "
        "end_pos_col, operator_name, cast(operator_args as text), occurrence")]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", required=True, help="file to mutate, relative to the repository")
    parser.add_argument("--tests", required=True, nargs="+", help="pytest arguments: the fast relevant subset")
    parser.add_argument("--sample", type=int, default=40, help="mutants executed (seeded random sample)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per test run before 'killed'")
    parser.add_argument("--budget", type=float, default=None,
                        help="stop executing after this many seconds and score the mutants executed so far")
    parser.add_argument("--python", default=sys.executable, help="the project's interpreter for the tests")
    args = parser.parse_args(argv)
    if not COSMIC_RAY.exists():
        sys.exit(f"{COSMIC_RAY} missing: run bash bench/make_mutation_venv.sh first")

    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        copy = scratch_copy(Path(tmp))
        test_command = " ".join([args.python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                 *args.tests])
        config = copy / "cosmic-ray.toml"
        config.write_text(f'[cosmic-ray]\nmodule-path = "{args.module}"\ntimeout = {args.timeout}\n'
                          f'excluded-modules = []\ntest-command = "{test_command}"\n'
                          '[cosmic-ray.distributor]\nname = "local"\n')
        baseline = subprocess.run(test_command.split(), cwd=copy, capture_output=True, text=True)
        if baseline.returncode != 0:
            sys.exit(f"the unmutated tests fail in the copy:\n{baseline.stdout[-3000:]}")
        session = copy / "session.sqlite"
        subprocess.run([str(COSMIC_RAY), "init", str(config), str(session)], cwd=copy, check=True)
        db = sqlite3.connect(session)
        jobs = ordered_jobs(db)
        chosen = set(random.Random(args.seed).sample(jobs, min(args.sample, len(jobs))))
        dropped = [(j,) for j in jobs if j not in chosen]
        db.executemany("delete from mutation_specs where job_id = ?", dropped)
        db.executemany("delete from work_items where job_id = ?", dropped)
        db.commit()
        started = time.monotonic()
        executor = subprocess.Popen([str(COSMIC_RAY), "exec", str(config), str(session)], cwd=copy,
                                    start_new_session=True)  # its test runs too, so a budget stop ends them all
        try:
            if executor.wait(timeout=args.budget) != 0:
                sys.exit(f"cosmic-ray exec failed with exit code {executor.returncode}")
        except subprocess.TimeoutExpired:
            os.killpg(executor.pid, signal.SIGKILL)
            executor.wait()
            print(f"budget of {args.budget:.0f} s spent: scoring the mutants executed so far", file=sys.stderr)
        elapsed = time.monotonic() - started
        rows = db.execute("select r.test_outcome, r.diff, s.operator_name, s.start_pos_row from work_results r "
                          "join mutation_specs s using (job_id) order by s.start_pos_row").fetchall()
    killed = sum(1 for outcome, *_ in rows if str(outcome).lower() == "killed")
    survived = [(op, line, diff) for outcome, diff, op, line in rows if str(outcome).lower() == "survived"]
    other = len(rows) - killed - len(survived)  # incompetent: the mutant does not even import
    low, high = wilson(killed, killed + len(survived))
    print(f"{args.module}: {killed}/{killed + len(survived)} killed ({100 * killed / max(1, killed + len(survived)):.0f} %, "
          f"95 % interval {100 * low:.0f}-{100 * high:.0f} %) of {len(rows)} executed of {len(chosen)} sampled mutants "
          f"({len(jobs)} in the module, seed {args.seed}); {other} incompetent; {elapsed:.0f} s")
    for op, line, diff in survived:
        print(f"\n--- survived: {op} at line {line}\n{diff}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Cache misses and branch mispredictions per character of the word filters on Chinese and English, per
function, simulated by cachegrind (issue 13: why CPU time per character differs more than instructions).

Usage: ``python bench/multilingual_misses.py [--repo PATH] [--as documents|text] [--ll 1|32] [--top N]``
from the repository root (needs ``valgrind``; about 6 minutes on one core).

Why: the machine has no hardware counters (``perf stat``: "not supported"), and Chinese costs ~1.14x
English in instructions per character but 1.3-1.9x in CPU time. The method is
``bench/multilingual_instructions.py``'s (the same child, ``OPENBLAS_NUM_THREADS=1``, ``PYTHONHASHSEED=0``;
the setup run subtracted from the measured run), under ``valgrind --tool=cachegrind --cache-sim=yes
--branch-sim=yes`` with a 32 KiB 8-way first level (the machine's L1d and L1i) and a last level of 1 MiB
(``--ll 1``, the per-core L2) or 32 MiB (``--ll 32``, the L3 shared with the other core and other work).
The output files are parsed (self cost per function, not cg_annotate's rounded table) and subtracted per
function; a function's figure is its measured-run count minus its setup-run count, per character of the
language's texts. Cycles are estimated with a simple model (``CYCLES``, printed with the table): cachegrind
simulates neither prefetchers, nor out-of-order overlap of misses, nor a modern branch predictor (its is
a table of 2-bit counters and a branch target buffer), so the estimate ranks costs; it does not time them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from multilingual_instructions import CHILD, FILES  # noqa: E402

EVENTS = ("Ir", "I1mr", "ILmr", "Dr", "D1mr", "DLmr", "Dw", "D1mw", "DLmw", "Bc", "Bcm", "Bi", "Bim")
# Cycles per event (a Zen 4 core, roughly): instructions retire ~3 a cycle when nothing stalls; a first-level
# miss that hits the 1 MiB L2 ~14 cycles; an L2 miss that hits L3 ~50; a mispredicted branch ~15.
CYCLES = {"Ir": 1 / 3, "I1mr": 14, "D1mr": 14, "D1mw": 5, "LLm": 50, "Bcm": 15, "Bim": 15}


def parse(path: Path) -> dict[tuple[str, str], list[int]]:
    """Self events per (file, function) of one cachegrind output file."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(EVENTS))
    events: list[str] = []
    fl = fn = "?"
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("fl="):
                fl = line[3:].strip()
            elif line.startswith("fn="):
                fn = line[3:].strip()
            elif line[:1].isdigit():
                numbers = line.split()[1:]
                row = totals[(fl, fn)]
                for name, value in zip(events, numbers):
                    row[EVENTS.index(name)] += int(value)
    return totals


def run(repo: Path, texts_path: Path, lang: str, measure: bool, ll_mib: int) -> dict[tuple[str, str], list[int]]:
    """Per-function events of one child run under cachegrind."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "child.py"  # a file: a -c script's newlines would break cachegrind's output
        script.write_text(CHILD, encoding="utf-8")
        done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=yes", "--branch-sim=yes",
                               "--I1=32768,8,64", "--D1=32768,8,64", f"--LL={ll_mib << 20},16,64",
                               f"--cachegrind-out-file={tmp}/out", sys.executable, str(script),
                               str(texts_path), lang, "1" if measure else "0"],
                              cwd=repo, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"cachegrind run of {repo} ({lang}, measure={measure}) failed:\n{done.stderr[-2000:]}")
        return parse(Path(tmp) / "out")


def short(key: tuple[str, str]) -> str:
    """``file:function`` with the file's directories dropped."""
    fl, fn = key
    return f"{fl.rsplit('/', 1)[-1]}:{fn}"


def cycles(row: list[float]) -> float:
    """The model's cycles for one row of events."""
    e = dict(zip(EVENTS, row))
    return (e["Ir"] * CYCLES["Ir"] + e["I1mr"] * CYCLES["I1mr"] + e["D1mr"] * CYCLES["D1mr"]
            + e["D1mw"] * CYCLES["D1mw"] + (e["ILmr"] + e["DLmr"] + e["DLmw"]) * CYCLES["LLm"]
            + e["Bcm"] * CYCLES["Bcm"] + e["Bim"] * CYCLES["Bim"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout whose filters are measured")
    parser.add_argument("--as", dest="shape", choices=("documents", "text"), default="documents")
    parser.add_argument("--ll", type=int, choices=(1, 32), default=1, help="last level in MiB")
    parser.add_argument("--top", type=int, default=25, help="functions listed, by zh + en model cycles")
    parser.add_argument("--json", type=Path, help="also write the per-function table here")
    args = parser.parse_args()
    import multilingual_bench as mb

    per_char: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for lang, name in FILES.items():
            docs = [d.text for d in mb.documents(name)]
            texts = docs if args.shape == "documents" else ["\n\n".join(docs)]
            path = Path(tmp) / f"{lang}.json"
            path.write_text(json.dumps(texts), encoding="utf-8")
            n_chars = sum(map(len, texts))
            base, full = (run(args.repo.resolve(), path, lang, m, args.ll) for m in (False, True))
            zero = [0] * len(EVENTS)
            per_char[lang] = {short(k): [(a - b) / n_chars for a, b in zip(full.get(k, zero), base.get(k, zero))]
                              for k in set(full) | set(base)}
            print(f"{name}: {len(texts)} texts, {n_chars:,} chars", flush=True)
    if args.json:
        args.json.write_text(json.dumps(per_char), encoding="utf-8")
    report(per_char, args.top, args.ll)


def report(per_char: dict[str, dict[str, list[float]]], top: int, ll_mib: int) -> None:
    """Totals, then the functions with the largest model cycles, zh and en per character."""
    zero = [0.0] * len(EVENTS)
    cols = ("Ir", "D1mr", "D1mw", "LLm", "I1mr", "Bcm", "Bim")

    def view(row: list[float]) -> list[float]:
        e = dict(zip(EVENTS, row))
        return [e["Ir"], e["D1mr"], e["D1mw"], e["ILmr"] + e["DLmr"] + e["DLmw"], e["I1mr"], e["Bcm"], e["Bim"],
                cycles(row)]

    totals = {lang: [sum(r[i] for r in rows.values()) for i in range(len(EVENTS))] for lang, rows in per_char.items()}
    names = sorted(set(per_char["zh"]) | set(per_char["en"]),
                   key=lambda k: -(cycles(per_char["zh"].get(k, zero)) + cycles(per_char["en"].get(k, zero))))
    head = " | ".join(f"{c} zh / en" for c in (*cols[:3], f"LL({ll_mib} MiB) misses", *cols[4:], "model cycles"))
    print(f"\nper character | {head} |")
    print("|---" * (len(cols) + 2) + "|")
    for name in ["(whole measured call)", *names[:top]]:
        zh = view(totals["zh"] if name.startswith("(") else per_char["zh"].get(name, zero))
        en = view(totals["en"] if name.startswith("(") else per_char["en"].get(name, zero))
        cells = " | ".join(f"{a:.1f} / {b:.1f}" if i in (0, 7) else f"{a:.3f} / {b:.3f}"
                           for i, (a, b) in enumerate(zip(zh, en)))
        print(f"| {name} | {cells} |")
    z, e = view(totals["zh"]), view(totals["en"])
    print(f"\nzh / en: instructions {z[0] / e[0]:.2f}x, model cycles {z[7] / e[7]:.2f}x "
          f"(cycles per event: {CYCLES}, LL misses at {CYCLES['LLm']})")


if __name__ == "__main__":
    main()

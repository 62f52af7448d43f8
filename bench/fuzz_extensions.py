"""Differential fuzzing of refinery's C extensions under AddressSanitizer and UBSan (a bench tool, never run by CI).

Why: the pipeline's hot paths are hand-written C against the CPython API. A buffer overrun, a read past a SIMD
block's edge, a signed overflow or a reference-count slip would crash a Ray worker, or quietly change output,
only on some unusual input. Each extension has a reference it must agree with (the Python/numpy fallback its
module keeps, the library it replaces, or its own scalar path), so every input is checked twice: the sanitizers
catch memory and undefined-behaviour faults, the comparison catches wrong answers.

What it does:
  1. copies the tracked tree (``git ls-files``) to ``SCRATCH/tree`` and builds every extension there with
     ``-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1 -g`` (the working
     tree's ``.so`` files are never touched);
  2. for each extension, runs this script again as a worker in that copy, under ``LD_PRELOAD`` of libasan and
     libubsan with ``ASAN_OPTIONS=detect_leaks=0:abort_on_error=1``, for ``--seconds`` seconds: inputs from
     (a) mutated real data of ``../shared/data`` (web HTML and text, wiki in five languages, books: byte and
     character flips, truncation at line, space, block-width and UTF-8-sequence boundaries, splicing across
     languages, repeated blocks, huge lines, NULs, lone surrogates where the API takes str, invalid UTF-8 where
     it takes bytes, empty inputs, sizes around the vector widths 15/16/17/31/32/33/63/64/65) and (b) Hypothesis
     strategies (a quarter of the time; Hypothesis shrinks what fails);
  3. prints, per extension, inputs tried, mismatches, sanitizer faults and seconds, and exits non-zero on any.

A worker writes each input to ``SCRATCH/EXT.last`` (pickle) before the call, so a sanitizer abort leaves its
reproducer; mismatches are saved as ``SCRATCH/EXT.mismatch-N.pickle`` with a ``.txt`` describing them.
Seeded (``--seed``): a run is repeatable, up to how many inputs fit in the time.

    taskset -c 0 nice -n 19 .venv/bin/python bench/fuzz_extensions.py --seconds 120
    taskset -c 0 nice -n 19 .venv/bin/python bench/fuzz_extensions.py --seconds 600 --only _utf8 _lid
    .venv/bin/python bench/fuzz_extensions.py --replay /tmp/refinery-fuzz/pipeline.filters._lid.last
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pickle
import random
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
EXTENSIONS = {  # module -> source (pyproject.toml's [[tool.setuptools.ext-modules]])
    "pipeline._clean": "pipeline/_clean.c",
    "pipeline.dedup._minhash": "pipeline/dedup/_minhash.c",
    "pipeline.dedup._normalize": "pipeline/dedup/_normalize.c",
    "pipeline.extract._attrs": "pipeline/extract/_attrs.c",
    "pipeline.extract._lines": "pipeline/extract/_lines.c",
    "pipeline.filters._chunks": "pipeline/filters/_chunks.c",
    "pipeline.filters._jieba": "pipeline/filters/_jieba.c",
    "pipeline.filters._lid": "pipeline/filters/_lid.c",
    "pipeline.filters._lines": "pipeline/filters/_lines.c",
    "pipeline.filters._ngrams": "pipeline/filters/_ngrams.c",
    "pipeline.filters._tokens": "pipeline/filters/_tokens.c",
    "pipeline.filters._utf8": "pipeline/filters/_utf8.c",
}
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer", "-O1", "-g"]


# ----------------------------------------------------------------------------------------------- the driver

def build(scratch: Path) -> Path:
    """The tracked tree copied to ``scratch/tree``, its extensions built there with the sanitizers."""
    tree = scratch / "tree"
    if tree.exists():
        shutil.rmtree(tree)
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        src = ROOT / rel
        if src.is_file() and not src.is_symlink():
            dst = tree / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    shutil.copy2(__file__, tree / "bench" / "fuzz_extensions.py")  # this script, committed or not
    include, suffix = sysconfig.get_paths()["include"], sysconfig.get_config_var("EXT_SUFFIX")
    for module, source in EXTENSIONS.items():
        out = tree / (module.replace(".", "/") + suffix)
        cmd = ["gcc", "-shared", "-fPIC", *SANITIZE, "-std=gnu11", f"-I{include}", str(tree / source), "-o", str(out),
               "-lm"]
        subprocess.run(cmd, check=True)
    return tree


def sanitizer_env() -> dict[str, str]:
    libs = [subprocess.run(["gcc", f"-print-file-name={lib}"], check=True, capture_output=True, text=True).stdout.strip()
            for lib in ("libasan.so", "libubsan.so")]
    env = dict(os.environ)
    env.update(LD_PRELOAD=" ".join(libs), ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1", PYTHONHASHSEED="0",
               PYTHONDONTWRITEBYTECODE="1", PYTHONPATH="",
               # every object from malloc, so ASan's red zones sit right after each str and bytes (pymalloc's
               # pools would hide a read past a small object's end)
               PYTHONMALLOC="malloc")
    return env


def drive(args: argparse.Namespace) -> int:
    scratch = Path(args.scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    tree = scratch / "tree" if args.no_build else build(scratch)
    shutil.copy2(__file__, tree / "bench" / "fuzz_extensions.py")  # this script, as it is now
    corpus = scratch / "corpus.pickle"
    if not corpus.exists():
        subprocess.run([sys.executable, __file__, "--make-corpus", str(corpus)], cwd=ROOT, check=True)
    modules = [m for m in EXTENSIONS if not args.only or any(m.endswith(o) for o in args.only)]
    env = sanitizer_env()
    rows, bad = [], False
    for module in modules:
        report = scratch / f"{module}.json"
        report.unlink(missing_ok=True)
        log = scratch / f"{module}.log"
        start = time.monotonic()
        with open(log, "wb") as out:
            proc = subprocess.run([sys.executable, str(tree / "bench" / "fuzz_extensions.py"), "--worker", module,
                                   "--seconds", str(args.seconds), "--seed", str(args.seed), "--scratch", str(scratch),
                                   "--corpus", str(corpus), "--leak-inputs", str(args.leak_inputs)], cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT)
        took = time.monotonic() - start
        stats = json.loads(report.read_text()) if report.exists() else {}
        tried = stats.get("inputs", 0)
        if not stats:  # died before its report: read how far it got from the progress file
            progress = scratch / f"{module}.progress"
            tried = int(progress.read_text() or 0) if progress.exists() else 0
        faults = 0 if proc.returncode == 0 and stats else 1
        mismatches = stats.get("mismatches", 0)
        leaks = stats.get("leaks", 0)
        rows.append((module, tried, stats.get("crash_only", 0), mismatches, faults, stats.get("reference_wrong", 0),
                     f"{leaks}/{stats.get('leak_probes', 0)}", took))
        bad |= bool(faults or mismatches or leaks)
        if faults:
            print(f"{module}: worker exited {proc.returncode}; its input is {scratch / (module + '.last')}, the "
                  f"sanitizer's report in {log}:", file=sys.stderr)
            print(_tail(log), file=sys.stderr)
    print(f"{'extension':28} {'inputs':>9} {'crash-only':>10} {'mismatches':>10} {'faults':>6} {'ref wrong':>9} "
          f"{'leaks':>7} {'seconds':>8}")
    for module, tried, crash_only, mismatches, faults, wrong, leaks, took in rows:
        print(f"{module:28} {tried:9d} {crash_only:10d} {mismatches:10d} {faults:6d} {wrong:9d} {leaks:>7} "
              f"{took:8.0f}")
    return 1 if bad else 0


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# ----------------------------------------------------------------------------------------------- the corpus

def make_corpus(path: Path) -> None:
    """Real texts and pages from shared/data, read once (outside the sanitizers) for every worker."""
    import bz2
    import html as html_module
    import lzma

    texts: list[tuple[str, str]] = []
    pages: list[bytes] = []

    def wiki(name: str, raw: bytes, count: int) -> None:
        kept = 0
        for body in re.findall(rb"<text[^>]*>(.*?)</text>", raw, re.S):
            text = html_module.unescape(body.decode("utf-8", "replace"))
            if len(text) > 200 and kept < count:
                texts.append((name, text[:200_000]))
                kept += 1

    wiki("zhwiki", (SHARED / "wiki/zhwiki-test-pages.xml").read_bytes(), 60)
    wiki("dewiki", (SHARED / "wiki/dewiki-20170701-sample.xml").read_bytes()[:8_000_000], 40)
    with lzma.open(SHARED / "wiki/jawiki-2023-truncated-100k-lines.xml.xz") as f:
        wiki("jawiki", f.read(8_000_000), 60)
    with bz2.open(SHARED / "wiki/ruwiki-sample-pages-articles.xml.bz2") as f:
        wiki("ruwiki", f.read(40_000_000), 60)
    with bz2.open(SHARED / "wiki/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2") as f:
        wiki("enwiki", f.read(40_000_000), 60)
    for book in sorted((SHARED / "books").glob("*.txt")):
        texts.append((f"book:{book.stem}", book.read_text(encoding="utf-8", errors="replace")[:300_000]))

    from fastwarc.warc import ArchiveIterator, WarcRecordType

    for name in ("servo-zh-sohu-homepage-2018.warc.gz", "servo-zh-sina-homepage-2018.warc.gz",
                 "servo-ru-vk-homepage-cp1251-2018.warc.gz", "resiliparse-CC-MAIN-2020-34-excerpt.warc.gz",
                 "dolma-sample-0000.warc.gz", "cc-whirlwind.warc.gz"):
        with open(SHARED / "web" / name, "rb") as f:
            for n, record in enumerate(ArchiveIterator(f, record_types=WarcRecordType.response, parse_http=True)):
                if n >= 80:
                    break
                body = record.reader.read()
                if b"<" in body[:2000]:
                    pages.append(body[:400_000])
    with open(SHARED / "web" / "cc-whirlwind.warc.wet.gz", "rb") as f:
        for n, record in enumerate(ArchiveIterator(f, record_types=WarcRecordType.conversion, parse_http=False)):
            if n >= 200:
                break
            texts.append(("wet", record.reader.read().decode("utf-8", "replace")))
    from resiliparse.extract.html2text import extract_plain_text

    extracted = []
    for page in pages[:150]:
        text = extract_plain_text(page.decode("utf-8", "replace"), main_content=True, alt_texts=False)
        if text:
            extracted.append(text)
    with open(path, "wb") as f:
        pickle.dump({"texts": texts, "pages": pages, "extracted": extracted}, f)
    print(f"corpus: {len(texts)} texts, {len(pages)} pages, {len(extracted)} extracted texts -> {path}")


# --------------------------------------------------------------------------------------------- the mutator

SIZES = [0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 127, 128, 129, 255, 256, 257]
INTERESTING = ["\x00", "\n", "\r", "\r\n", "\n\n", "\t", " ", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x7f",
               "\x80", "\x85", "\x9f", "\xa0", "\xad", "\xe9", "\xff", "\u0100", "\u0130", "\u0301", "\u07ff", "\u0800",
               "\u1680", "\u2000", "\u200b", "\u200d", "\u2026", "\u2028", "\u2029", "\u202f", "\u205f", "\u212a",
               "\u3000", "\u3002", "\u3005", "\u3007", "\u3400", "\u4dbf", "\u4dff", "\u4e00", "\u4e2d", "\u9fd5",
               "\u9fd6", "\u9fff", "\ua000", "\ud7ff", "\ue000", "\uf900", "\ufaff", "\ufdd0", "\ufdd1", "\ufdd2",
               "\ufeff", "\ufffd", "\ufffe", "\uffff", "\U00010000", "\U0001f600", "\U00020000", "\U0003134f",
               "\U00031350", "\U000e0001", "\U0010ffff", "...", "…", "•", "- ", "#", "{", "[", "[1]", "lorem ipsum",
               "javascript", "C++", "AT&T", "1.2.3", "%", "的", "。", "！", "?", "__label__", "</s>", "mw-",
               ' class="nav menu"', " id='footer'", "<div class=\"", "'", '"', "<", ">", "=", "\\"]
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\ude00"]
NOT_UTF8 = [b"\x80", b"\xbf", b"\xc0\x80", b"\xc1\xbf", b"\xc2", b"\xc2\x41", b"\xe0\x80\x80", b"\xe0\x9f\xbf",
            b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xe4\xb8", b"\xe4\x41\xad", b"\xe4\xb8\x41", b"\xf0\x80\x80\x80",
            b"\xf0\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xff", b"\xfe", b"\xf0\x9f\x98", b"\x00"]


class Mutator:
    """Inputs from the real corpus, mutated; one seeded ``random.Random`` drives everything."""

    def __init__(self, corpus: dict[str, Any], rng: random.Random, surrogates: bool = True) -> None:
        self.texts = [t for _, t in corpus["texts"]] + corpus["extracted"]
        self.pages = corpus["pages"]
        self.extracted = corpus["extracted"]
        self.rng, self.surrogates = rng, surrogates

    def size(self) -> int:
        r = self.rng.random()
        if r < 0.35:
            return self.rng.choice(SIZES) + self.rng.choice((0, 0, 0, 16, 32, 64, 128))
        if r < 0.85:
            return self.rng.randrange(4096)
        if r < 0.99:
            return self.rng.randrange(70_000)
        return self.rng.randrange(1_200_000)  # huge lines and texts: 1 %, yet most of the time spent

    def window(self, text: str, size: int | None = None) -> str:
        size = self.size() if size is None else size
        if size >= len(text):
            return text if size < 2 * len(text) + 1 else text * (size // max(1, len(text)))
        start = self.rng.randrange(len(text) - size + 1)
        return text[start:start + size]

    def char(self) -> str:
        r = self.rng.random()
        if r < 0.6:
            return self.rng.choice(INTERESTING)
        if r < 0.7 and self.surrogates:
            return self.rng.choice(SURROGATES)
        if r < 0.85:
            return chr(self.rng.randrange(0x80, 0x3000))
        code = self.rng.randrange(0x110000)
        return chr(code) if self.surrogates or not 0xD800 <= code <= 0xDFFF else "\ufffd"

    def cut_point(self, text: str) -> int:
        """A position at some kind of boundary: line, space, block width, random."""
        if not text:
            return 0
        kind = self.rng.randrange(5)
        if kind == 0:
            found = [m.start() + self.rng.randrange(2) for m in re.finditer(r"[\n\r\x85\u2028]", text[:20_000])]
            if found:
                return min(len(text), self.rng.choice(found))
        if kind == 1:
            found = [m.start() for m in re.finditer(r"\s", text[:20_000])]
            if found:
                return self.rng.choice(found)
        if kind == 2:
            return min(len(text), self.rng.choice(SIZES) + 16 * self.rng.randrange(4))
        return self.rng.randrange(len(text) + 1)

    def mutate(self, text: str) -> str:
        rng = self.rng
        op = rng.randrange(14)
        if op == 0:  # flip characters
            chars = list(text) or [""]
            for _ in range(rng.randrange(1, 8)):
                chars[rng.randrange(len(chars))] = self.char()
            return "".join(chars)
        if op == 1:  # insert interesting characters
            at = self.cut_point(text)
            return text[:at] + "".join(self.char() for _ in range(rng.randrange(1, 6))) + text[at:]
        if op == 2:  # truncate at a boundary
            return text[:self.cut_point(text)]
        if op == 3:  # drop the head at a boundary
            return text[self.cut_point(text):]
        if op == 4:  # splice another text (another language, usually)
            at = self.cut_point(text)
            return text[:at] + self.window(rng.choice(self.texts), rng.randrange(2000)) + text[at:]
        if op == 5:  # a repeated block
            a = self.cut_point(text)
            block = text[a:a + rng.choice((1, 2, 3, 5, 16, 17, 40, 200))] or "x\n"
            return text[:a] + block * rng.choice((2, 3, 10, 100, 1000)) + text[a:]
        if op == 6:  # a huge line
            return re.sub(r"[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]", " ", text)
        if op == 7:  # NULs
            at = self.cut_point(text)
            return text[:at] + "\x00" * rng.choice((1, 2, 16, 17)) + text[at:]
        if op == 8:  # widen the str's storage: one wider character at an end
            wide = rng.choice(("\xe9", "\u4e2d", "\U0001f600", "\U00020000", "\uffff"))
            return wide + text if rng.random() < 0.5 else text + wide
        if op == 9:  # lines broken every way
            return re.sub(r"\n", lambda _: rng.choice(("\n", "\r\n", "\r", "\n\n", "\u2028", "\x85", "\n \n")), text)
        if op == 10:  # case
            a, b = sorted((self.cut_point(text), self.cut_point(text)))
            return text[:a] + (text[a:b].upper() if rng.random() < 0.5 else text[a:b].lower()) + text[b:]
        if op == 11:  # sized around the vector widths
            return self.window(text, rng.choice(SIZES))
        if op == 12:  # spaces of every kind between the words
            return re.sub(r" ", lambda _: rng.choice((" ", "  ", "\t", "\xa0", "\u3000", "\u2003", " \n", "\u200b")),
                          text)
        return text

    def text(self) -> str:
        rng = self.rng
        if rng.random() < 0.03:
            return ""
        text = self.window(rng.choice(self.texts))
        for _ in range(rng.choice((0, 1, 1, 2, 3, 5))):
            text = self.mutate(text)
            if len(text) > 2_000_000:
                text = text[:2_000_000]
        return text

    def page(self) -> str:
        raw = self.rng.choice(self.pages)
        text = raw.decode("utf-8", "surrogateescape" if self.surrogates else "replace")
        if self.rng.random() < 0.5:
            text = self.window(text)
        for _ in range(self.rng.choice((0, 1, 2, 3))):
            text = self.mutate(text)
        return text

    def extracted_text(self) -> str:
        text = self.rng.choice(self.extracted)
        for _ in range(self.rng.choice((0, 1, 2, 3))):
            text = self.mutate(text)
        return text

    def raw(self, valid_share: float = 0.5) -> bytes:
        """UTF-8 of a text, mutated as bytes about half the time (invalid UTF-8, cut inside a sequence)."""
        data = self.text().encode("utf-8", "surrogatepass")
        if self.rng.random() < valid_share:
            return data.replace(b"\xed\xa0", b"\xe4\xb8").replace(b"\xed\xb0", b"\xe4\xb8").replace(
                b"\xed\xa1", b"\xe4\xb8") if b"\xed" in data else data
        b = bytearray(data)
        for _ in range(self.rng.randrange(1, 5)):
            op = self.rng.randrange(5)
            at = self.rng.randrange(len(b) + 1)
            if op == 0 and b:
                b[min(at, len(b) - 1)] ^= 1 << self.rng.randrange(8)
            elif op == 1:
                b[at:at] = self.rng.choice(NOT_UTF8)
            elif op == 2:
                del b[at:]
            elif op == 3:
                b[at:at] = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 9)))
            else:
                del b[:at]
        return bytes(b)


# ------------------------------------------------------------------------------------------ the comparisons

class Mismatch(AssertionError):
    pass


class ReferenceWrong(Exception):
    """The compiled result disagrees with the reference, and a second reference says ours is right."""


def same(what: str, ours: Any, theirs: Any) -> None:
    import numpy as np

    def plain(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            return ("ndarray", str(v.dtype), v.tolist())
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, float) and v != v:
            return "nan"
        return v

    if plain(ours) != plain(theirs):
        a, b = repr(plain(ours)), repr(plain(theirs))
        raise Mismatch(f"{what}: ours {a[:600]} != reference {b[:600]}")


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", value) or ("raise", (type, message)): an exception is an outcome both paths must share."""
    try:
        return "ok", fn()
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as error:  # noqa: BLE001 - compared, not swallowed
        return "raise", (type(error).__name__, str(error))


@contextlib.contextmanager
def without(module: Any) -> Iterator[None]:
    """Every pipeline module's reference to the extension ``module`` set to None (its fallback path runs)."""
    patched = []
    for name, mod in list(sys.modules.items()):
        if not name.startswith("pipeline") or mod is None or mod is module:
            continue
        for key, value in list(vars(mod).items()):
            if value is module:
                patched.append((mod, key))
                setattr(mod, key, None)
    assert patched, f"no pipeline module holds {module.__name__}: the comparison would test it against itself"
    try:
        yield
    finally:
        for mod, key in patched:
            setattr(mod, key, module)


def check_clean(text: str) -> None:
    from collections import Counter

    from pipeline import clean

    ext = clean._clean
    same("mojibake_suspect", ext.mojibake_suspect(text), bool(clean.MOJIBAKE_RE.search(text)))
    for start in (0, 1, len(text) // 3, len(text) // 2, len(text) - 1, len(text)):
        if start < 0:
            continue
        match = clean.MOJIBAKE_RE.search(text, start)
        same(f"mojibake_at {start}", ext.mojibake_at(text, start), match.start() if match else -1)
    spaced = ext.space_separators(text)
    same("space_separators", (spaced, type(spaced).__name__), (clean.SPACES_RE.sub(" ", text), "str"))
    want = clean.regex_collapse_spaces(text)
    collapsed = ext.collapse_spaces(text)
    same("collapse_spaces", (collapsed, hash(collapsed)), (want, hash(want)))
    removed, want = ext.remove_control(text), clean.CONTROL_RE.sub("", text)
    same("remove_control", (removed, hash(removed)), (want, hash(want)))
    counts, plain_counts = Counter(), Counter()
    ours = outcome(lambda: clean.clean_text(text, counts))
    with without(ext):
        theirs = outcome(lambda: clean.clean_text(text, plain_counts))
    same("clean_text", (ours, counts), (theirs, plain_counts))


def make_minhash(m: Mutator) -> tuple[bytes, list[int], int, int, int]:
    data = m.raw(0.3) if m.rng.random() < 0.7 else bytes(m.rng.randrange(256) for _ in range(m.rng.choice(SIZES) * 8))
    n = len(data) // 8
    cuts = sorted(m.rng.randrange(n + 1) for _ in range(m.rng.choice((0, 1, 2, 5, 20))))
    return (data, cuts, m.rng.choice((1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 112, 128, 129, 256)),
            m.rng.choice((32, 64)), m.rng.randrange(1 << 20))


def check_minhash(case: tuple[bytes, list[int], int, int, int]) -> None:
    import numpy as np

    from pipeline.dedup import minhash

    data, cuts, num_perm, bits, seed = case
    hashes = np.frombuffer(data[:len(data) // 8 * 8], np.uint64).copy()
    edges = np.array([0, 1, (1 << 61) - 2, (1 << 61) - 1, 1 << 61, (1 << 64) - 1, (1 << 32) - 1, 1 << 32], np.uint64)
    if len(hashes):
        hashes[::7] = edges[hashes[::7] % np.uint64(len(edges))]
    offsets = np.array([0, *sorted(min(c, len(hashes)) for c in cuts), len(hashes)], np.int64)
    params = minhash.MinHashParams(num_perm=num_perm, seed=seed, hash_bits=bits)
    want = minhash.numpy_signatures_of_hashes(hashes, offsets, params)
    for kernel in minhash._compiled.KERNELS:
        same(f"signatures {kernel}", minhash.compiled_signatures_of_hashes(hashes, offsets, params, kernel), want)


def make_documents(m: Mutator) -> list[str]:
    return [m.text() for _ in range(m.rng.choice((1, 1, 2, 3, 8)))]


def check_normalize(texts: list[str] | list[bytes]) -> str | None:
    from pipeline.dedup import normalize

    if texts and isinstance(texts[0], bytes):  # bytes that are not UTF-8: no reference, the sanitizers only
        try:
            normalize._compiled.normalize(texts, normalize.codepoint_classes())
        except ValueError:  # "not UTF-8 at byte N": refused, as it should
            pass
        return "crash-only"
    ours = normalize.compiled_normalize_batch(texts)
    theirs = normalize.numpy_normalize_batch(texts)
    for field in ("data", "word_starts", "word_ends", "doc_words"):
        same(field, getattr(ours, field), getattr(theirs, field))
    return None


def make_normalize(m: Mutator) -> list[str] | list[bytes]:
    if m.rng.random() < 0.15:
        return [m.raw(0.0) for _ in range(m.rng.choice((1, 2, 5)))]
    return make_documents(m)


def check_attrs(page: str) -> None:
    from pipeline.extract import html

    ours = outcome(lambda: html._page_furniture(page))
    with without(html._attrs):
        theirs = outcome(lambda: html._page_furniture(page))
    same("_page_furniture", ours, theirs)


def check_extract_lines(text: str) -> None:
    from pipeline.extract import html

    for keep_whole in (False, True):
        ours = outcome(lambda: html._trimmed_text(text, keep_whole))
        with without(html._compiled_lines):
            theirs = outcome(lambda: html._trimmed_text(text, keep_whole))
        same(f"_trimmed_text keep_whole={keep_whole}", ours, theirs)


def check_filter_lines(text: str) -> None:
    import numpy as np

    from pipeline.filters import c4, fineweb, gopher, length, segment

    ext = gopher._lines
    ends = np.cumsum([len(line) for line in text.splitlines(keepends=True)], dtype=np.int64)
    same("line_ends", np.frombuffer(ext.line_ends(text), np.int64).tolist(), ends.tolist())
    same("repetition", ext.repetition(text), gopher.python_repetition_counts(text))
    same("quality", ext.quality(text), gopher.python_quality_counts(text))
    for short in (1, 3, 30):
        same(f"fineweb {short}", ext.fineweb(text, fineweb._TERMINAL_SORTED, short),
             fineweb.python_line_counts(text, short))
    same("length_counts", length.length_counts(text), length.python_length_counts(text))
    lowered = ext.ascii_lower(text)
    want = None if ("\u212a" in text or "\u0130" in text) else text.encode("ascii", "replace").lower()
    same("ascii_lower", lowered, want)
    lines = [line.strip() for line in text.splitlines()]
    for options in (c4.C4Options(), c4.C4Options(remove_citations=False, max_word_length=None),
                    c4.C4Options(max_word_length=3)):
        ours = outcome(lambda: ext.special_lines(text, "{[" if options.remove_citations else "{", c4._PHRASES,
                                                 -1 if options.max_word_length is None else options.max_word_length))
        theirs = outcome(lambda: c4.python_special_lines(text, lines, options))
        if ours[0] == theirs[0] == "ok" and theirs[1] == list(range(len(lines))) and ours[1] != theirs[1]:
            continue  # the reference gave up on positions (a character lowered to two): it keeps every line
        same(f"special_lines {options.remove_citations} {options.max_word_length}", ours, theirs)
    same("class_counts", segment._count_list(text), segment._python_count_list(text))


def _evaluate(chain: dict[str, dict[str, Any]], texts: list[str]) -> Any:
    import pyarrow as pa

    from pipeline.filters.base import compute_signals, decide, signal_schema
    from pipeline.filters.chain import ChainSpec, build

    built = build(ChainSpec.model_validate(chain))
    columns = compute_signals(built, texts, [None] * len(texts), 1_000_000)
    table = pa.table({"id": [str(i) for i in range(len(texts))], **columns}, schema=signal_schema(built))
    decisions = decide(built, table, 1_000_000)
    return table.to_pylist(), list(decisions.filter), list(decisions.rule)


_CHAIN = {"gopher_repetition": {}, "gopher_quality": {}, "fineweb": {}, "c4": {}}


def check_filter_chain(texts: list[str], ext_module: Any) -> None:
    ours = outcome(lambda: _evaluate(_CHAIN, texts))
    with without(ext_module):
        theirs = outcome(lambda: _evaluate(_CHAIN, texts))
    same("filter chain signals", ours, theirs)


_STATES: dict[str, dict[str, Any]] = {}


@contextlib.contextmanager
def vocabularies(name: str) -> Iterator[None]:
    """``words``' vocabularies swapped for those of ``name`` (each path keeps its own across inputs, so the
    compiled chunk table grows and renews as in a worker's task, and ids stay comparable by their strings)."""
    from pipeline.filters import words

    saved = words._vocabularies
    words._vocabularies = _STATES.setdefault(name, {})
    try:
        yield
    finally:
        words._vocabularies = saved


def _token_view(texts: list[str], segmenter: str) -> Any:
    import numpy as np

    from pipeline.filters import words

    out = []
    many = words.tokenize_many(texts, segmenter)
    for text, tokens in zip(texts, many):
        vocabulary = words._current(segmenter)
        strings = vocabulary.token_strings(tokens.ids) if tokens.generation == vocabulary.generation else None
        row = [strings, tokens.length, tokens.flags, tokens.word_stats()]
        by_line = words.tokenize_by_line(text, segmenter)
        row += [words.split_words(text, segmenter), by_line.length, by_line.flags]
        stats, per_line = by_line.line_stats(), by_line.chunks_per_line  # (line_stats before lines() sets .line)
        if per_line is not None:  # the same counts in numpy, as C4 makes them without the compiled pass
            line, n = by_line.lines(per_line.tolist()), len(per_line)
            counted = [np.bincount(line[(by_line.flags & words.MARK) == 0], minlength=n), np.bincount(line, minlength=n),
                       words.sentences_per_line(by_line, line, n)]
            if stats is not None:
                same("line_stats", [np.asarray(s).tolist() for s in stats], [c.tolist() for c in counted])
        row.append([c.tolist() for c in counted] if per_line is not None else None)
        row.append(by_line.count_present(["the", "a", "的", "и", "und"]))
        out.append(row)
    return out


def make_token_batch(m: Mutator) -> tuple[list[str], str]:
    from pipeline.filters.segment import JIEBA, WHITESPACE

    return make_documents(m), (JIEBA if m.rng.random() < 0.3 else WHITESPACE)


def check_tokens_toggle(case: tuple[list[str], str], ext_module: Any, name: str) -> None:
    texts, segmenter = case
    with vocabularies(f"{name}-ours"):
        ours = outcome(lambda: _token_view(texts, segmenter))
    with without(ext_module), vocabularies(f"{name}-reference"):
        theirs = outcome(lambda: _token_view(texts, segmenter))
    if ours[0] == theirs[0] == "ok":  # chunks per line are known only with the chunk table: compared where both are
        for a, b in zip(ours[1], theirs[1]):
            if a[-2] is None or b[-2] is None:
                a[-2] = b[-2] = None
    same(f"tokens ({segmenter})", ours, theirs)


def check_chunks(case: tuple[list[str], str]) -> None:
    import numpy as np

    from pipeline.filters import words

    ext = words._chunks
    table = _STATES.setdefault("table", {"table": ext.ChunkTable(), "ref": {}})
    if len(table["ref"]) > 200_000:
        table.update(table=ext.ChunkTable(), ref={})
    for text in case[0]:
        ids, new, per_line = table["table"].lookup(text, True)
        chunks = text.split()
        ref = table["ref"]
        expected_new = [c for c in dict.fromkeys(chunks) if c not in ref]
        ref.update(zip(expected_new, range(len(ref), len(ref) + len(expected_new))))
        same("lookup new", new, expected_new)
        same("lookup ids", np.frombuffer(ids, np.int64).tolist(), [ref[c] for c in chunks])
        same("lookup per line", np.frombuffer(per_line, np.int64).tolist(),
             [len(line.split()) for line in text.splitlines()])
    check_chunk_table(table["table"], table["ref"], case[0])
    check_tokens_toggle(case, ext, "chunks")
    if len(case[0]) > 0 and sum(map(len, case[0])) < 300_000:
        check_filter_chain(case[0], ext)


def check_chunk_table(table: Any, ref: dict[str, int], texts: list[str]) -> None:
    """The table's other readers against the dict kept beside it, and the module's run scans against regexes."""
    import numpy as np

    from pipeline.filters import c4, segment, words

    ext = words._chunks
    entries = list(ref)
    first = max(0, len(entries) - 300)
    tail = entries[first:]
    chunks = [c for text in texts for c in text.split()][:2000]
    for chunk in chunks[:50] + ["\udfff never held \U0010ffff"]:
        same("find", table.find(chunk), ref.get(chunk, -1))
    ids = np.array([ref[c] for c in chunks], np.int64)
    same("strings", table.strings(ids), chunks)
    lengths, alpha = table.columns(first)
    same("columns", (np.frombuffer(lengths, np.int64).tolist(), list(alpha)),
         ([len(c) for c in tail], [int(c.isalpha()) for c in tail]))
    same("chars", table.chars(first), sum(map(len, tail)))
    runs = [r for c in tail for r in segment._HAN_RUNS.findall(c)]
    same("ChunkTable.han_runs", table.han_runs(first), "\n".join(runs))
    text, run_lengths = table.han_ucs4(first)
    same("han_ucs4", (text.decode("utf-32-le", "surrogatepass"), np.frombuffer(run_lengths, np.int32).tolist()),
         ("".join(runs), [len(r) for r in runs]))
    same("han_runs", ext.han_runs(chunks), "\n".join(r for c in chunks for r in segment._HAN_RUNS.findall(c)))
    lines = [line for text in texts for line in text.splitlines()][:2000]
    same("letter_runs", np.frombuffer(ext.letter_runs(lines), np.int64).tolist(), list(map(c4._letter_runs, lines)))


def check_tokens(case: tuple[list[str], str]) -> None:
    from pipeline.filters import words

    check_tokens_toggle(case, words._tokens, "tokens")
    if sum(map(len, case[0])) < 300_000:
        check_filter_chain(case[0], words._tokens)


def check_filter_lines_all(text: str) -> None:
    from pipeline.filters import gopher

    check_filter_lines(text)
    if len(text) < 300_000:
        check_filter_chain([text], gopher._lines)


def check_ngrams(case: tuple[str, int, int]) -> None:
    import numpy as np

    from pipeline.filters import gopher

    text, distinct, n_chars_kind = case
    words = text.split()
    if distinct:  # few distinct words: many repeated n-grams
        words = [words[i % distinct] if words else "x" for i in range(len(words))]
    keys = np.fromiter(map(hash, words), dtype=np.int64, count=len(words)).view(np.uint64)
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    n_chars = [int(lengths.sum()), 0, 1, len(text), int(lengths.sum()) // 2 + 1][n_chars_kind]
    ours = outcome(lambda: gopher.hashed_ngram_fractions(keys, lengths, n_chars))
    theirs = outcome(lambda: gopher.numpy_ngram_fractions(keys, lengths, n_chars))
    same("ngram_fractions", ours, theirs)


def make_ngrams(m: Mutator) -> tuple[str, int, int]:
    return m.text(), m.rng.choice((0, 0, 1, 2, 3, 5, 17)), m.rng.randrange(5)


_LID: dict[str, Any] = {}


def _lid_models() -> dict[str, Any]:
    if not _LID:
        from pipeline.filters.fasttext_lid import FastTextLID
        from pipeline.filters.language import bundled_model_path, load_model

        path = bundled_model_path()
        _LID.update(reference=load_model(path), exact=FastTextLID(path),
                    inexact=FastTextLID(path, exact=False, cache_entries=4096, cache_bytes=1 << 20))
    return _LID


def make_lid(m: Mutator) -> tuple[list[str | bytes], int | None]:
    texts: list[str | bytes] = []
    for _ in range(m.rng.choice((1, 1, 2, 4, 9))):
        texts.append(m.text() if m.rng.random() < 0.6 else m.raw(0.5) if m.rng.random() < 0.5 else
                     Exact(m.raw(0.5)))
    return texts, m.rng.choice((None, 0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 64, 65, 1000, 100_000))


class Exact(bytes):
    """Bytes that a check hands on in a buffer of exactly their size (``exact``)."""


def exact(data: bytes) -> Any:
    """``data`` in a buffer of exactly its size (ctypes, from malloc under PYTHONMALLOC=malloc): bytes objects
    end in a NUL that a read one past the end would find, out of ASan's sight."""
    import ctypes

    if len(data) <= 16:  # ctypes keeps up to 16 bytes inside the object itself
        return data
    return memoryview((ctypes.c_char * len(data)).from_buffer_copy(data)).cast("B")


def _valid(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def check_lid(case: tuple[list[str | bytes], int | None]) -> str | None:
    from pipeline.filters import _lid
    from pipeline.filters.language import fasttext_predict_batch

    models = _lid_models()
    texts, cap = case
    texts = [exact(t) if isinstance(t, Exact) else t for t in texts]
    before = _lid.simd()
    try:
        _lid.set_simd(True)
        ours = outcome(lambda: models["exact"].predict_batch(texts, cap))
        loose = outcome(lambda: models["inexact"].predict_batch(texts, cap))
        _lid.set_simd(False)
        scalar = outcome(lambda: models["exact"].predict_batch(texts, cap))
    finally:
        _lid.set_simd(before)
    same("vector vs scalar", ours, scalar)
    comparable = [i for i, t in enumerate(texts) if isinstance(t, str) or _valid(bytes(t))]
    if ours[0] != "ok":
        raise Mismatch(f"predict raised {ours[1]}")
    ref_texts = [texts[i] if isinstance(texts[i], str) else bytes(texts[i]).decode("utf-8") for i in comparable]
    labels, probs = fasttext_predict_batch(models["reference"], ref_texts, 1 << 40 if cap is None else cap)
    same("labels", [ours[1][0][i] for i in comparable], labels)
    same("probabilities", [ours[1][1][i] for i in comparable], probs)
    if loose[0] != "ok":
        raise Mismatch(f"inexact model raised {loose[1]}")
    # exact=False adds cached row sums in another order: documented last-bit differences that grow with the
    # length (fasttext_lid's docstring: 1.2e-5 on a 1 MB line), so only a label flipped without a near tie
    # or a gross probability difference counts
    for i, label, p in zip(comparable, labels, probs):
        if (loose[1][0][i] != label and p > 0.5) or abs(loose[1][1][i] - p) > 1e-3:
            raise Mismatch(f"inexact: {loose[1][0][i]} {loose[1][1][i]} vs {label} {p}")
    return "crash-only" if len(comparable) < len(texts) else None


def _jieba_modules() -> tuple[Any, Any]:
    from pipeline.filters import segment

    return segment, segment.compiled_jieba()


def _python_jieba(text: str) -> list[str]:
    import logging

    import jieba

    jieba.setLogLevel(logging.ERROR)
    return list(jieba.cut(text, HMM=True))


def check_jieba(text: str) -> None:
    import numpy as np

    segment, ext = _jieba_modules()
    runs = segment._HAN_RUNS.findall(text)
    joined = "\n".join(runs)
    ours = ext.cut(joined)
    theirs = segment.rjieba_words(joined)
    if ours != theirs:
        if ours == _python_jieba(joined):
            raise ReferenceWrong(f"rjieba differs from jieba on {joined[:200]!r}")
        same("cut of the runs", ours, theirs)
    chunks = text.split()
    want = [len(w) for c in chunks for run in segment._HAN_RUNS.findall(c) for w in segment.rjieba_words(run)]
    got = np.frombuffer(ext.cut_runs(chunks), np.int32).tolist()
    if got != want:
        check = [len(w) for c in chunks for run in segment._HAN_RUNS.findall(c) for w in _python_jieba(run)]
        if got == check:
            raise ReferenceWrong("rjieba differs from jieba in cut_runs")
        same("cut_runs", got, want)
    mine = outcome(lambda: segment.jieba_split_many(chunks))
    saved = segment._compiled_jieba_to_cut
    segment._compiled_jieba_to_cut = lambda: None
    try:
        plain = outcome(lambda: segment.jieba_split_many(chunks))
    finally:
        segment._compiled_jieba_to_cut = saved
    same("jieba_split_many", mine, plain)
    from pipeline.filters import _chunks

    def interned(entry: bool) -> Any:
        tokens = _chunks.ChunkTable()
        if entry:  # the vocabulary's way: the chunks read from a chunk table, no str per chunk
            table = _chunks.ChunkTable()
            table.lookup(text, False, False)
            ids, per_chunk, _ = segment.jieba_entry_token_ids(table, 0, tokens)
        else:
            ids, per_chunk, _ = segment.jieba_token_ids(chunks, tokens, None)
        return tokens.strings(np.frombuffer(ids, np.int64)), np.frombuffer(per_chunk, np.int64).tolist()

    for entry in (False, True):
        mine = outcome(lambda: interned(entry))
        segment._compiled_jieba_to_cut = lambda: None
        try:
            plain = outcome(lambda: interned(entry))
        finally:
            segment._compiled_jieba_to_cut = saved
        same(f"jieba {'entry ' if entry else ''}token ids", mine, plain)


def make_utf8(m: Mutator) -> tuple[list[bytes | None], int, bool]:
    values: list[bytes | None] = []
    for _ in range(m.rng.choice((1, 1, 2, 3, 8, 20))):
        r = m.rng.random()
        if r < 0.1:
            values.append(None)
        elif r < 0.15:
            values.append(b"")
        elif r < 0.75:  # a value sized around the 16-byte blocks and the 24/28-byte three-byte runs
            size = m.rng.choice(SIZES) + m.rng.choice((0, 0, 12, 24, 28, 48))
            values.append(m.raw(0.75)[:size] if m.rng.random() < 0.3 else
                          m.window(m.rng.choice(m.texts), size).encode("utf-8", "replace"))
        else:
            values.append(m.raw(0.75))
    return values, m.rng.choice((0, 0, 1, 2, 3, 7)), m.rng.random() < 0.3


def check_utf8(case: tuple[list[bytes | None], int, bool]) -> None:
    import pyarrow as pa

    from pipeline.filters import _utf8
    from pipeline.filters.base import decode_texts

    values, pad, large = case
    raw = [b"p"] * pad + values
    offsets = [0]
    for r in raw:
        offsets.append(offsets[-1] + len(r or b""))
    typ = pa.large_string() if large else pa.string()
    validity = None
    if any(v is None for v in raw):
        validity = pa.array([v is not None for v in raw], pa.bool_()).buffers()[1]
    array = pa.Array.from_buffers(typ, len(raw), [validity, pa.py_buffer(
        pa.array(offsets, pa.int64() if large else pa.int32()).buffers()[1]), pa.py_buffer(exact(b"".join(r or b"" for r in raw)))],
        null_count=sum(v is None for v in raw)).slice(pad)
    before = _utf8.simd()
    try:
        results = []
        for on in (True, False):
            _utf8.set_simd(on)
            results.append(outcome(lambda: decode_texts(array)))
    finally:
        _utf8.set_simd(before)
    want = outcome(lambda: array.to_pylist())
    same("vector path vs to_pylist", results[0], want)
    same("scalar path vs to_pylist", results[1], want)
    if want[0] == "ok":
        same("kinds", [_kind(t) for t in results[0][1]], [_kind(t) for t in want[1]])


def _kind(text: str | None) -> Any:
    import ctypes

    if text is None:
        return None
    state = ctypes.c_uint32.from_address(id(text) + 4 * ctypes.sizeof(ctypes.c_ssize_t)).value
    return (state >> 2) & 7, (state >> 6) & 1


# each extension: (make an input from the mutator, check it, a hypothesis strategy or None)
def _specs() -> dict[str, tuple[Callable[[Mutator], Any], Callable[[Any], Any], Any]]:
    from hypothesis import strategies as st

    alphabet = st.sampled_from(INTERESTING + SURROGATES + list("ab .\n中文。"))
    texts = st.one_of(st.text(), st.lists(alphabet, max_size=80).map("".join))
    valid_texts = st.one_of(st.text(st.characters(blacklist_categories=("Cs",))),
                            st.lists(st.sampled_from(INTERESTING + list("ab .\n中文。")), max_size=80).map("".join))
    raw = st.one_of(st.binary(max_size=80), valid_texts.map(lambda t: t.encode()),
                    st.lists(st.sampled_from(NOT_UTF8 + [b"a", "中".encode(), "😀".encode(), b" "]), max_size=40
                             ).map(b"".join))
    docs = st.lists(texts, min_size=1, max_size=4)
    from pipeline.filters.segment import JIEBA, WHITESPACE

    token_batches = st.tuples(st.lists(valid_texts, min_size=1, max_size=4), st.sampled_from((WHITESPACE, JIEBA)))
    return {
        "pipeline._clean": (lambda m: m.text(), check_clean, texts),
        "pipeline.dedup._minhash": (make_minhash, check_minhash,
                                    st.tuples(st.binary(max_size=200), st.lists(st.integers(0, 25), max_size=5).map(sorted),
                                              st.sampled_from((1, 2, 3, 4, 5, 8, 9, 16, 17, 33, 112)),
                                              st.sampled_from((32, 64)), st.integers(0, 1000))),
        "pipeline.dedup._normalize": (make_normalize, check_normalize, docs),
        "pipeline.extract._attrs": (lambda m: m.page(), check_attrs,
                                    st.lists(st.sampled_from(['<div class="', "<p id='", 'class="', "id=", '"', "'",
                                                              " ", "\t", "\n", "nav", "menu", "footer", "mw-", "<", ">",
                                                              "NAV", "sidebar-x", "\u212a", "\u0130", "é", "中", "\ud800",
                                                              "\x00"]), max_size=60).map("".join)),
        "pipeline.extract._lines": (lambda m: m.extracted_text() if m.rng.random() < 0.6 else m.text(),
                                    check_extract_lines, texts),
        "pipeline.filters._chunks": (make_token_batch, check_chunks, token_batches),
        "pipeline.filters._jieba": (lambda m: m.text(), check_jieba, valid_texts),
        "pipeline.filters._lid": (make_lid, check_lid,
                                  st.tuples(st.lists(st.one_of(texts, raw), min_size=1, max_size=4),
                                            st.sampled_from((None, 0, 1, 2, 3, 16, 17, 100_000)))),
        "pipeline.filters._lines": (lambda m: m.text(), check_filter_lines_all, texts),
        "pipeline.filters._ngrams": (make_ngrams, check_ngrams,
                                     st.tuples(texts, st.integers(0, 5), st.integers(0, 4))),
        "pipeline.filters._tokens": (make_token_batch, check_tokens, token_batches),
        "pipeline.filters._utf8": (make_utf8, check_utf8,
                                   st.tuples(st.lists(st.one_of(st.none(), raw), min_size=1, max_size=6),
                                             st.integers(0, 3), st.booleans())),
    }


# ------------------------------------------------------------------------------------------------ the worker

def worker(args: argparse.Namespace) -> int:
    import numpy as np  # noqa: F401 - loaded before the clock starts

    module = args.worker
    scratch = Path(args.scratch)
    assert "libasan" in os.environ.get("LD_PRELOAD", ""), "a worker runs under the sanitizers (see drive)"
    __import__(module)
    origin = Path(sys.modules[module].__file__).resolve()
    assert scratch.resolve() in origin.parents, f"{module} was loaded from {origin}, not the sanitizer build"
    with open(args.corpus, "rb") as f:
        corpus = pickle.load(f)
    make, check, strategy = _specs()[module]
    rng = random.Random(f"{args.seed}:{module}")
    mutator = Mutator(corpus, rng)
    last = scratch / f"{module}.last"
    progress = scratch / f"{module}.progress"
    stats = {"inputs": 0, "crash_only": 0, "mismatches": 0, "reference_wrong": 0, "hypothesis_inputs": 0}
    saved: list[str] = []

    def run_one(value: Any, source: str) -> None:
        with open(last, "wb") as f:
            pickle.dump((module, value), f)
        stats["inputs"] += 1
        if stats["inputs"] % 50 == 0:
            progress.write_text(str(stats["inputs"]))
        try:
            if check(value) == "crash-only":
                stats["crash_only"] += 1
        except ReferenceWrong as why:
            stats["reference_wrong"] += 1
            _save(scratch, module, "reference-wrong", stats["reference_wrong"], value, str(why))
        except Mismatch as why:
            stats["mismatches"] += 1
            if stats["mismatches"] <= 5:
                saved.append(_save(scratch, module, "mismatch", stats["mismatches"], value, f"{source}: {why}"))
            raise

    start = time.monotonic()
    deadline = start + args.seconds
    hypothesis_until = start + args.seconds / 4
    if strategy is not None:
        from hypothesis import HealthCheck, given, seed, settings

        round_ = 0
        while time.monotonic() < hypothesis_until:
            round_ += 1

            @seed(args.seed * 1000 + round_)
            @settings(max_examples=100, deadline=None, database=None, derandomize=False,
                      suppress_health_check=list(HealthCheck))
            @given(strategy)
            def test(value: Any) -> None:
                stats["hypothesis_inputs"] += 1
                run_one(value, "hypothesis")

            try:
                test()
            except Mismatch:
                pass  # saved by run_one (Hypothesis' last failing call is its shrunk example)
    while time.monotonic() < deadline:
        value = make(mutator)
        try:
            run_one(value, "mutation")
        except Mismatch:
            pass
    stats["seconds"] = round(time.monotonic() - start, 1)
    if args.leak_inputs:
        stats["leak_probes"], stats["leaks"] = leak_probes(make, check, Mutator(corpus, random.Random(
            f"{args.seed}:{module}:leaks")), args.leak_inputs, scratch, module)
    (scratch / f"{module}.json").write_text(json.dumps(stats))
    print(json.dumps(stats))
    for path in saved:
        print("saved", path)
    return 0


def leak_probes(make: Callable[[Mutator], Any], check: Callable[[Any], Any], mutator: Mutator, count: int,
                scratch: Path, module: str) -> tuple[int, int]:
    """References the extension keeps by mistake: each of ``count`` small inputs checked twice (caches warm),
    then twice 32 times more; Python objects (those the C code makes with the CPython API included) traced by
    tracemalloc. A leak grows the traced memory in both rounds (by 512 bytes or more: one leaked float a call
    is 1,024); a cache fills in the first calls.
    Returns (inputs probed, inputs that leaked); a leak is saved with the allocation sites that grew."""
    import gc
    import tracemalloc

    probed = leaked = 0
    tracemalloc.start(8)
    try:
        while probed < count:
            value = make(mutator)
            if len(pickle.dumps(value)) > 20_000:  # 66 calls each: small inputs only
                continue
            try:
                check(value)
                check(value)
            except (Mismatch, ReferenceWrong):
                continue
            probed += 1
            gc.collect()
            first = tracemalloc.take_snapshot()
            grown, snapshots = [], [first]
            for _ in range(2):
                for _ in range(32):
                    check(value)
                gc.collect()
                snapshots.append(tracemalloc.take_snapshot())
                grown.append(sum(stat.size_diff for stat in snapshots[-1].compare_to(snapshots[-2], "traceback")
                                 if _ours(stat.traceback)))
            if min(grown) >= 512:  # 16 bytes a call in both rounds: one leaked int or float is 32
                leaked += 1
                top = [stat for stat in snapshots[-1].compare_to(first, "traceback") if _ours(stat.traceback)][:5]
                why = f"traced memory grew {grown} bytes over two rounds of 32 calls\n" + "\n\n".join(
                    f"{stat.size_diff} bytes in {stat.count_diff} blocks:\n" + "\n".join(stat.traceback.format())
                    for stat in top)
                _save(scratch, module, "leak", leaked, value, why)
    finally:
        tracemalloc.stop()
    return probed, leaked


def _ours(traceback: Any) -> bool:
    """Whether memory allocated at ``traceback`` (innermost frame last) can be the extensions': not numpy's or
    another library's own caches (the references' numpy paths grow some: ~300 bytes a call in _minhash's numpy
    signatures, none in the compiled kernel), nor this script's comparison of the results."""
    import inspect

    frame = traceback[-1]
    if "site-packages" in frame.filename or frame.filename.endswith("tracemalloc.py"):
        return False
    if frame.filename == __file__ or frame.filename.endswith("fuzz_extensions.py"):
        lines, start = inspect.getsourcelines(same)
        return not start <= frame.lineno < start + len(lines)
    return True


def _save(scratch: Path, module: str, kind: str, n: int, value: Any, why: str) -> str:
    base = scratch / f"{module}.{kind}-{n}"
    with open(f"{base}.pickle", "wb") as f:
        pickle.dump((module, value), f)
    Path(f"{base}.txt").write_text(f"{why}\n\ninput: {value!r:.3000}\n")
    return f"{base}.pickle"


def replay(path: str) -> int:
    """Run one saved input (``*.last`` or ``*.mismatch-N.pickle``) through its check, in this process."""
    with open(path, "rb") as f:
        module, value = pickle.load(f)
    __import__(module)
    _specs()[module][1](value)
    print("no mismatch")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120, help="per extension")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="extensions by name (_utf8, filters._lines, ...)")
    parser.add_argument("--scratch", default="/tmp/refinery-fuzz", help="the sanitizer build and the saved inputs")
    parser.add_argument("--no-build", action="store_true", help="reuse SCRATCH/tree's build")
    parser.add_argument("--leak-inputs", type=int, default=0,
                        help="after the time, probe this many inputs for references kept by mistake (tracemalloc)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--make-corpus", help=argparse.SUPPRESS)
    parser.add_argument("--replay", help="a saved input to run again (no sanitizers unless LD_PRELOAD is set)")
    args = parser.parse_args()
    if args.make_corpus:
        sys.path.insert(0, str(ROOT))
        make_corpus(Path(args.make_corpus))
        return 0
    if args.replay:
        sys.path.insert(0, str(ROOT))
        return replay(args.replay)
    if args.worker:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        return worker(args)
    return drive(args)


if __name__ == "__main__":
    sys.exit(main())

"""Charset decoding on real labelled files other projects collected (issue 13): ours against the detectors.

Why: the charset path was measured on the shared WARCs and on books re-encoded here (bench/books_charsets.py);
the project is judged on data nobody here has seen. Detector packages ship real labelled files in their sdists:

* chardet 5.2.0: ``tests/<ENCODING>[-language]/`` (~480 web pages, RSS feeds, subtitles; labelled by directory).
  chardet's own test (``test.py``) skips the directories of ``CHARDET_MISSING`` and expects the files of
  ``CHARDET_XFAIL`` to fail: both are kept here and flagged. chardet is fitted to these files: its score on them
  is not held out.
* charset_normalizer 3.5.3: ``data/sample-*.txt`` (Wikipedia / public-domain passages), each labelled by its
  tests (``CN_LABELS``, from tests/test_full_detection.py), and its UTF-8 samples re-encoded into their
  language's legacy charsets (``CN_REENCODE``; a sample a charset cannot hold whole is left out, counted).
* cchardet 2.1.7: ``src/tests/testdata/<lang>/<charset>.txt`` and ``src/tests/samples`` (uchardet's own test
  texts, short Wikipedia passages; labelled by file name). uchardet is the detector resiliparse bundles and
  ours calls: its score there is not held out either.

Each file, labelled L, is decoded through the project's public paths and compared with ``expected``: the file
decoded by L's first codec in ``EQUIVALENT[L]`` that decodes it whole (L itself, then the vendor supersets
browsers use for L per the WHATWG Encoding Standard: GB2312 -> GBK -> GB18030, Big5 -> cp950 -> Big5-HKSCS,
Shift_JIS -> cp932, EUC-KR -> cp949, ISO-8859-1 -> windows-1252, ISO-8859-9 -> windows-1254, TIS-620 ->
windows-874, EUC-JP -> EUC-JIS-2004). A decode is correct when its text equals the file decoded whole by any
codec of ``EQUIVALENT[L]``: the superset readings differ from the label's only in characters the label's
strict codec maps otherwise (Shift_JIS's 0x8160 as U+301C, cp932's as U+FF5E) or cannot decode. A file that
no codec of its class decodes whole is mislabelled or damaged: its expected text has U+FFFD for those bytes
and the comparison ignores U+FFFD (flagged ``label_damaged``). Ways a file arrives (``MODES``):

* ``a``  ``decode_html(body)``: an HTML page in a WARC response with no charset in Content-Type;
* ``b``  ``decode_html(body, L's HTTP label)``: the right charset in the header;
* ``c1`` ``decode_html(body, "iso-8859-1")``: the HTTP/1.1 default many servers send (files not labelled
  ASCII/latin-1/windows-1252);  ``c2`` ``decode_html(body, "utf-8")``: a server default of UTF-8 (files
  not labelled UTF-8 or ASCII);
* ``d``  ``pipeline.readers.books.decode(data)`` for plain-text files (not starting with ``<``);
* ``reader-a`` / ``reader-b``: the commoncrawl reader as it runs (``READER.read`` on a WARC written here with
  warcio, one response record per file, Content-Type ``text/html`` without / with the charset): a document's
  text must equal the reader's document for the same record whose body is the correct text in UTF-8.

Peers, same comparison, the file alone (no header): ``uchardet`` (resiliparse's ``detect_encoding``, the
detector ours calls, its label decoded by Python's codec), ``cchardet`` (faust-cchardet 3.2.0, a newer
uchardet), ``charset_normalizer`` 3.5.3 (the installed one), ``chardet`` 5.2.0 (from its sdist). A peer's
answer that Python cannot decode with, or that leaves bytes undecoded, is decoded with replacement characters.

    taskset -c 0 nice -n 5 python bench/charset_heldout.py [--cache DIR] [--json OUT] [--no-reader]

Downloads (pip download / pip install --target, into ``--cache``, never committed) on first use.
"""

from __future__ import annotations

import argparse
import codecs
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from contracts.accounting import Tally  # noqa: E402
from pipeline.extract.html import decode_html  # noqa: E402
from pipeline.readers.base import Split  # noqa: E402
from pipeline.readers.books import decode as books_decode  # noqa: E402
from pipeline.readers.commoncrawl import READER, Options  # noqa: E402

# (name, version, how: "sdist" unpacked for its files, "target" installed for its code). Pinned. Searched and
# found holding no labelled charset files: the sdists of cchardet 2.4.1 (test data left out since 2.2) and
# faust-cchardet 3.2.0 (wheels only, no sdist on the index); the npm tarballs of chardet 2.1.1, jschardet 3.1.4,
# encoding-japanese 2.2.0 and detect-file-encoding-and-language 2.4.0 (code only).
PACKAGES = [("chardet", "5.2.0", "sdist"), ("charset_normalizer", "3.5.3", "sdist"), ("cchardet", "2.1.7", "sdist"),
            ("faust-cchardet", "3.2.0", "target")]

# chardet test.py: directories it does not test yet, and files it expects to fail
CHARDET_MISSING = {"iso-8859-2", "iso-8859-6", "windows-1250", "windows-1254", "windows-1256"}
CHARDET_XFAIL = {"iso-8859-9-turkish/" + n for n in ("_ude_1.txt", "_ude_2.txt", "divxplanet.com.xml", "subtitle.srt",
                                                      "wikitop_tr_ISO-8859-9.txt")}
CHARDET_LANGUAGES = ("arabic", "bulgarian", "croatian", "czech", "greek", "hebrew", "hungarian", "polish", "romanian",
                     "russian", "slovak", "slovene", "turkish")
# charset_normalizer 3.5.3 tests/test_full_detection.py: each sample's encoding
CN_LABELS = {"sample-arabic-1.txt": "cp1256", "sample-french-1.txt": "cp1252", "sample-arabic.txt": "utf_8",
             "sample-russian-3.txt": "utf_8", "sample-french.txt": "utf_8", "sample-chinese.txt": "big5",
             "sample-greek.txt": "cp1253", "sample-greek-2.txt": "cp1253", "sample-hebrew-2.txt": "cp1255",
             "sample-hebrew-3.txt": "cp1255", "sample-bulgarian.txt": "utf_8", "sample-english.bom.txt": "utf_8",
             "sample-spanish.txt": "utf_8", "sample-korean.txt": "cp949", "sample-turkish.txt": "cp1254",
             "sample-russian-2.txt": "utf_8", "sample-russian.txt": "mac_cyrillic", "sample-polish.txt": "utf_8"}
# its UTF-8 samples written again in the legacy charsets of their language (what sites in that language used)
CN_REENCODE = {"sample-russian-2.txt": ("cp1251", "koi8_r", "cp866", "iso8859_5", "mac_cyrillic"),
               "sample-russian-3.txt": ("cp1251", "koi8_r", "cp866", "iso8859_5", "mac_cyrillic"),
               "sample-bulgarian.txt": ("cp1251", "iso8859_5"),
               "sample-arabic.txt": ("cp1256", "iso8859_6"),
               "sample-french.txt": ("cp1252", "latin_1"), "sample-spanish.txt": ("cp1252", "latin_1"),
               "sample-polish.txt": ("cp1250", "iso8859_2")}
# label codec -> the codecs whose reading counts as correct (WHATWG supersets; see the module docstring)
EQUIVALENT = {"gb2312": ("gb2312", "gbk", "gb18030"), "gbk": ("gbk", "gb18030"), "big5": ("big5", "cp950", "big5hkscs"),
              "cp950": ("cp950", "big5hkscs"), "shift_jis": ("shift_jis", "cp932"), "euc_kr": ("euc_kr", "cp949"),
              "euc_jp": ("euc_jp", "euc_jis_2004"), "latin_1": ("latin_1", "cp1252"), "iso8859_9": ("iso8859_9", "cp1254"),
              "tis_620": ("tis_620", "cp874"), "iso8859_11": ("iso8859_11", "cp874"), "utf_8_sig": ("utf_8_sig", "utf_8"),
              "utf_8": ("utf_8", "utf_8_sig"), "ascii": ("ascii", "utf_8", "cp1252")}
# Python codec -> the label a server would send for it
HTTP_LABEL = {"mac_cyrillic": "x-mac-cyrillic", "mac_roman": "macintosh", "cp1250": "windows-1250",
              "cp1251": "windows-1251", "cp1252": "windows-1252", "cp1253": "windows-1253", "cp1254": "windows-1254",
              "cp1255": "windows-1255", "cp1256": "windows-1256", "cp1257": "windows-1257", "cp1258": "windows-1258",
              "cp866": "ibm866", "cp855": "ibm855", "cp852": "ibm852", "cp949": "euc-kr", "cp932": "shift_jis",
              "utf_8_sig": "utf-8"}
WESTERN = {"ascii", "latin_1", "cp1252", "iso8859_15"}
MODES = ("a", "b", "c1", "c2", "d")


class Case:
    """One labelled file: its bytes, its label's Python codec and HTTP label, and its expected text."""

    def __init__(self, corpus: str, group: str, name: str, data: bytes, label: str, http: str, flags: list[str]):
        self.corpus, self.group, self.name, self.data, self.label, self.http = corpus, group, name, data, label, http
        self.flags = flags
        self.valid: dict[str, str] = {}  # codec of the label's class -> the whole-file text it decodes
        for codec in EQUIVALENT.get(label, (label,)):
            try:
                self.valid[codec] = data.decode(codec)
            except UnicodeDecodeError:
                pass
        if self.valid:
            self.expected = next(iter(self.valid.values()))
        else:
            self.expected = data.decode(label, errors="replace")
            self.flags.append("label_damaged")

    def correct(self, text: str) -> bool:
        if self.valid:
            return text in self.valid.values()
        return text.replace("\ufffd", "") == self.expected.replace("\ufffd", "")

    def why(self, text: str, charset: str) -> str:
        """What differs: the charset used, and the first differing characters."""
        ref = self.expected
        i = next((k for k, (x, y) in enumerate(zip(text, ref)) if x != y), min(len(text), len(ref)))
        return (f"read as {charset}; {sum(x != y for x, y in zip(text, ref)) + abs(len(text) - len(ref))} chars differ, "
                f"first at {i}: got {text[i:i + 12]!r} want {ref[i:i + 12]!r}")


def _codec(label: str) -> str | None:
    try:
        return codecs.lookup(label).name.replace("-", "_")
    except LookupError:
        return None


def download(cache: Path) -> dict[str, Path]:
    """Each package of ``PACKAGES`` unpacked (sdist) or installed (target) under ``cache``, fetched once."""
    cache.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, version, how in PACKAGES:
        root = cache / f"{name}-{version}"
        if not root.exists():
            if how == "sdist":
                subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                                "--no-build-isolation", f"{name}=={version}", "-d", str(cache)], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                sdist = next(p for p in cache.iterdir() if p.name.lower().replace("-", "_").startswith(
                    f"{name}-{version}".replace("-", "_")) and p.name.endswith(".tar.gz"))
                with tarfile.open(sdist) as tar:
                    tar.extractall(cache, filter="data")
            else:
                subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(root),
                                f"{name}=={version}"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out[name] = root
    return out


def cases(roots: dict[str, Path], left_out: list[str]) -> list[Case]:
    out: list[Case] = []
    tests = roots["chardet"] / "tests"
    for folder in sorted(p for p in tests.iterdir() if p.is_dir()):
        encoding = folder.name.lower()
        for language in CHARDET_LANGUAGES:
            encoding = encoding.removesuffix("-" + language)
        label = _codec(encoding)
        for path in sorted(folder.iterdir()):
            if label is None:
                left_out.append(f"chardet {folder.name}/{path.name}: Python has no {encoding} codec")
                continue
            flags = []
            if encoding in CHARDET_MISSING:
                flags.append("chardet_untested")
            if f"{folder.name}/{path.name}" in CHARDET_XFAIL:
                flags.append("chardet_xfail")
            if path.suffix.lower() not in (".html", ".txt", ".xml", ".srt"):
                flags.append("chardet_untested")
            out.append(Case("chardet", folder.name, path.name, path.read_bytes(), label,
                            HTTP_LABEL.get(label, encoding), flags))
    data = roots["charset_normalizer"] / "data"
    for name, label in CN_LABELS.items():
        raw = (data / name).read_bytes()
        out.append(Case("charset_normalizer", label, name, raw, label, HTTP_LABEL.get(label, label), []))
        for charset in CN_REENCODE.get(name, ()):
            try:
                legacy = raw.decode("utf-8-sig").encode(charset)
            except UnicodeEncodeError as exc:
                left_out.append(f"charset_normalizer {name} in {charset}: {exc.reason} ({exc.object[exc.start]!r})")
                continue
            out.append(Case("charset_normalizer", f"{charset} (re-encoded)", name, legacy, charset,
                            HTTP_LABEL.get(charset, charset.replace("_", "-")), ["reencoded"]))
    uchardet = roots["cchardet"] / "src" / "tests"
    for path in sorted([*uchardet.glob("testdata/*/*"), *uchardet.glob("samples/*")]):
        stem = path.stem if path.parent.name != "samples" else path.stem.rsplit("_", 1)[-1]
        if expected := re.search(r"_expected_(.+?)_got_", path.stem):  # "..._expected_windows_1252_got_ mac...txt"
            stem = expected.group(1).replace("_", "-")
        if path.suffix not in (".txt",) or path.name == "iso8859-2.csv":
            left_out.append(f"cchardet {path.parent.name}/{path.name}: no charset in its name")
            continue
        label = _codec(stem.replace("uhc", "cp949").replace("sjis", "shift_jis").replace("SJIS", "shift_jis"))
        if label is None:
            left_out.append(f"cchardet {path.parent.name}/{path.name}: Python has no {stem} codec")
            continue
        out.append(Case("uchardet", label, f"{path.parent.name}/{path.name}", path.read_bytes(), label,
                        HTTP_LABEL.get(label, stem), []))
    return out


def peers(roots: dict[str, Path]) -> dict[str, Callable[[bytes], str | None]]:
    from resiliparse.parse.encoding import detect_encoding

    sys.path.insert(0, str(roots["faust-cchardet"]))
    sys.path.insert(0, str(roots["chardet"]))
    import cchardet
    import chardet
    import charset_normalizer

    def normalizer(data: bytes) -> str | None:
        best = charset_normalizer.from_bytes(data).best()
        return best.encoding if best else None

    return {"uchardet": lambda d: detect_encoding(d, from_html_meta=False, html5_compatible=False),
            "cchardet": lambda d: cchardet.detect(d)["encoding"], "charset_normalizer": normalizer,
            "chardet": lambda d: chardet.detect(d)["encoding"]}


def peer_text(data: bytes, label: str | None) -> str:
    codec = _codec(label) if label else None
    return data.decode(codec or "utf-8", errors="replace")


def reader_docs(bodies: list[tuple[str, bytes, str | None]], tmp: Path, name: str) -> dict[str, tuple[str, str]]:
    """The commoncrawl reader's documents (url -> (text, charset)) for a WARC of one response per body."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = tmp / f"{name}.warc.gz"
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body, charset in bodies:
            content_type = "text/html" + (f"; charset={charset}" if charset else "")
            http = StatusAndHeaders("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          http_headers=http))
    docs = {}
    for split in READER.plan(str(path), path.stat().st_size, Options()):
        for doc in READER.read(split, Options(), Tally()):
            docs[doc.url] = (doc.text, doc.meta.get("charset"))
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "refinery-charset-heldout")
    parser.add_argument("--json", type=Path, help="write every file's outcome as JSON here")
    parser.add_argument("--no-reader", action="store_true", help="skip the commoncrawl reader runs")
    parser.add_argument("--no-peers", action="store_true", help="ours only")
    args = parser.parse_args()
    roots = download(args.cache)
    left_out: list[str] = []
    all_cases = cases(roots, left_out)
    detectors = {} if args.no_peers else peers(roots)
    rows: list[dict[str, Any]] = []
    seconds: Counter = Counter()
    for case in all_cases:
        row: dict[str, Any] = {"corpus": case.corpus, "group": case.group, "file": case.name, "label": case.label,
                               "flags": case.flags, "bytes": len(case.data), "ours": {}, "peers": {}, "wrong": {}}
        plain = not case.data.lstrip()[:1] == b"<"
        headers = {"a": None, "b": case.http}
        if case.label not in WESTERN:
            headers["c1"] = "iso-8859-1"
        if case.label not in ("utf_8", "utf_8_sig", "ascii"):
            headers["c2"] = "utf-8"
        for mode, header in headers.items():
            start = time.perf_counter()
            text, charset, _ = decode_html(case.data, header)
            seconds[mode] += time.perf_counter() - start
            row["ours"][mode] = case.correct(text)
            if not row["ours"][mode]:
                row["wrong"][mode] = case.why(text, charset)
        if plain:
            text, charset, _ = books_decode(case.data)
            row["ours"]["d"] = case.correct(text)
            if not row["ours"]["d"]:
                row["wrong"]["d"] = case.why(text, charset)
        for peer, detect in detectors.items():
            start = time.perf_counter()
            label = detect(case.data)
            seconds[peer] += time.perf_counter() - start
            text = peer_text(case.data, label)
            row["peers"][peer] = case.correct(text)
            if not row["peers"][peer]:
                row["wrong"][peer] = f"said {label}"
        rows.append(row)
    if not args.no_reader:
        with tempfile.TemporaryDirectory() as tmp:
            for mode in ("a", "b"):
                urls = [f"http://heldout.test/{i}" for i in range(len(all_cases))]
                got = reader_docs([(u, c.data, c.http if mode == "b" else None) for u, c in zip(urls, all_cases)],
                                  Path(tmp), f"got-{mode}")
                # the reference: the same record with the correct text in UTF-8 (ours' own reading where correct)
                correct = []
                for u, c in zip(urls, all_cases):
                    text = decode_html(c.data, c.http if mode == "b" else None).text
                    correct.append((u, (text if c.correct(text) else c.expected).encode("utf-8", "surrogatepass"),
                                    "utf-8"))
                want = reader_docs(correct, Path(tmp), f"want-{mode}")
                for u, row in zip(urls, rows):
                    if u not in want:
                        row["ours"][f"reader-{mode}"] = None  # no document from the correct text either
                        continue
                    ok = u in got and got[u][0] == want[u][0]
                    row["ours"][f"reader-{mode}"] = ok
                    if not ok:
                        row["wrong"][f"reader-{mode}"] = "no document" if u not in got else f"read as {got[u][1]}"
    report(rows, left_out, seconds, list(detectors))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "left_out": left_out, "seconds": dict(seconds)}, indent=1))


def report(rows: list[dict[str, Any]], left_out: list[str], seconds: Counter, peer_names: list[str]) -> None:
    modes = [m for m in (*MODES, "reader-a", "reader-b") if any(r["ours"].get(m) is not None for r in rows)]
    by: dict[tuple[str, str], list] = defaultdict(list)
    for row in rows:
        by[(row["corpus"], row["group"])].append(row)
    head = "| set | label (directory) | files | " + " | ".join(f"ours {m}" for m in modes) + " | " + \
        " | ".join(peer_names) + " |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    totals: dict[str, Counter] = defaultdict(Counter)

    def cell(group_rows: list, get: Callable[[dict], Any]) -> str:
        values = [get(r) for r in group_rows]
        values = [v for v in values if v is not None]
        return f"{sum(values)}/{len(values)}" if values else "-"

    for (corpus, group), group_rows in by.items():
        flags = sorted({f for r in group_rows for f in r["flags"] if f not in ("reencoded",)})
        print(f"| {corpus} | {group}{' (' + ', '.join(flags) + ')' if flags else ''} | {len(group_rows)} | "
              + " | ".join(cell(group_rows, lambda r, m=m: r["ours"].get(m)) for m in modes) + " | "
              + " | ".join(cell(group_rows, lambda r, p=p: r["peers"].get(p)) for p in peer_names) + " |")
        for r in group_rows:
            totals[corpus]["files"] += 1
            for key, value in [*r["ours"].items(), *((p, r["peers"].get(p)) for p in peer_names)]:
                if value is not None:
                    totals[corpus][key + ".n"] += 1
                    totals[corpus][key] += bool(value)
    for corpus, t in totals.items():
        print(f"| **{corpus}** | all | {t['files']} | "
              + " | ".join(f"**{t[m]}/{t[m + '.n']}**" for m in modes) + " | "
              + " | ".join(f"**{t[p]}/{t[p + '.n']}**" for p in peer_names) + " |")
    print("\nWrong (ours):")
    for row in rows:
        ours_wrong = {k: v for k, v in row["wrong"].items() if k in row["ours"]}
        if ours_wrong:
            print(f"- {row['corpus']} {row['group']}/{row['file']} [{', '.join(row['flags'])}] "
                  + "; ".join(f"{k}: {v}" for k, v in ours_wrong.items())
                  + " | peers: " + ", ".join(f"{p} {'ok' if row['peers'].get(p) else row['wrong'].get(p)}"
                                            for p in peer_names))
    print("\nLeft out:")
    for line in left_out:
        print(f"- {line}")
    print("\nseconds: " + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items()))


if __name__ == "__main__":
    main()

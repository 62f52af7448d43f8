"""Peak RSS and the new segmentation libraries imported by an English filter run (issue 13, branch ko41): the four
word filters (Gopher repetition, Gopher quality, C4, FineWeb) on the articles of a wikipedia dump, one process.

    cd REPO && taskset -c 0 python bench/segment_lib_rss.py ../shared/data/wiki/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2
"""
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
t0 = time.perf_counter()
from contracts.accounting import Tally
from pipeline.filters.base import compute_signals, decide, signal_schema
from pipeline.filters.chain import ChainSpec, build
from pipeline.readers import get_reader, reader_module
from pipeline.readers.base import Split
import pyarrow as pa
t_import = time.perf_counter() - t0
path = sys.argv[1]
docs = list(get_reader("wikipedia").read(Split(path), reader_module("wikipedia").Options(), Tally()))
texts = [d.text for d in docs]
chain = build(ChainSpec.model_validate({f: {} for f in ("gopher_repetition", "gopher_quality", "c4", "fineweb")}))
cols = compute_signals(chain, texts, [None] * len(texts), 1_000_000, declared=["en"] * len(texts))
table = pa.table({"id": [str(i) for i in range(len(texts))], **cols}, schema=signal_schema(chain))
d = decide(chain, table, 1_000_000, ["en"] * len(texts))
new = sorted(m for m in sys.modules if m.split(".")[0] in ("kiwipiepy", "pythainlp", "indicnlp", "pandas", "khmernltk",
                                                             "laonlp", "pyidaungsu", "pycrfsuite", "sklearn_crfsuite"))
print(f"{__import__('pipeline').__file__}: docs {len(texts)}, "
      f"kept {sum(r is None for r in d.rule)}, import {t_import:.2f}s, peak RSS "
      f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB, new-library modules {sorted({m.split('.')[0] for m in new})}")

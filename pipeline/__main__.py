import gc
import sys

from pipeline.cli import main

# What the imports made lives as long as the process: frozen, the cyclic collector's full passes skip it
# (issue 19: ~0.045 CPU s of a one-core crawl + filter run of e2e_bench's WARCs, at 3 copies and at 15;
# the run's gen-2 collections 0.061-0.082 -> 0.016-0.029 CPU s). Here rather than in ``main``: a caller
# that imports ``main`` (the tests) keeps its own collector as it was.
gc.freeze()
sys.exit(main())

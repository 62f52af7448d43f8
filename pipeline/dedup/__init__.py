"""Global deduplication: exact (hash of normalised text) and near (MinHash LSH), across all sources.

The pieces, each a pure function over numpy arrays so the Ray stage (``pipeline.stages.dedup``) only moves
files around them:

* ``normalize``   text -> normalised UTF-8 words (lowercase, punctuation stripped, digits -> 0, CJK characters
                  and grapheme clusters of scripts without spaces as words), one compiled pass per batch
* ``shingles``    words -> 64-bit word hashes -> 64-bit hashes of word n-grams, vectorised
* ``minhash``     shingle hashes -> signatures, bit-compatible with datasketch's (legacy) MinHash
* ``lsh_params``  published settings (FineWeb, RedPajama-v2) and bands/rows for a target Jaccard threshold
* ``artefacts``   checksummed intermediate files, verified on every read
* ``buckets``     band keys, bucket partitioning and candidate pairs
* ``verify``      exact Jaccard of candidate pairs, to drop LSH false positives
* ``components``  connected components by alternating large-star / small-star steps, one partition at a time
* ``clusters``    the keep rule (source priority, then lowest id) and cluster statistics
"""

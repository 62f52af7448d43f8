"""What pipeline/, training/ and model/ agree on, owned once and imported downward by all three.

* ``token_dataset`` - the token dataset format: writer, reader and validator under one version;
* ``tiktoken_ranks`` - the tokenizer's ``.tiktoken`` ranks file: one parser, one writer;
* ``fsio`` - file input (fsspec, decompression, the damaged-archive rule) and atomic, fsynced writes;
* ``run_lock`` - one run per folder (pipeline runs and training runs);
* ``config_errors`` - one layout for every YAML validation error (manifests, training configs);
* ``accounting`` and ``corpus_stats`` - run accounting: ``Tally`` and the per-source statistics keys the
  stages write and the report reads.

This package imports nothing of ours (``tests/test_import_layering.py`` holds every package to its layer),
so a change of a contract is made here and nowhere else. See docs/architecture.md.
"""

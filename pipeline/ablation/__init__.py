"""The data side of data ablations (``python -m training.ablate``): which stage outputs the variants share
(``plan``), the held-out yardstick and its scrub (``held_out``), building every variant's token dataset
(``build``). ``python -m pipeline.ablation ABLATION.yaml [--plan]`` runs it alone."""

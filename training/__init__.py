"""Training-side data: the token dataset, the mixture and the sampler, and export to flat .bin files.

Everything here reads only the tokenize stage's dataset folder (``training.dataset``), never pipeline
internals, so a trainer can run where the pipeline's dependencies (Ray) are not installed.
"""

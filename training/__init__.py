"""Training: the mixture and the sampler over a token dataset, the trainer, evaluation, fine-tuning, export.

Everything here reads only the tokenize stage's dataset folder, through ``contracts.token_dataset``, never
pipeline internals, so a trainer can run where the pipeline's dependencies (Ray) are not installed.
"""

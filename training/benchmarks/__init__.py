"""Benchmarks for a checkpoint: task registry (``tasks.yaml``), prompts, batched scoring, CORE, bits per byte.

``python -m training.evaluate CHECKPOINT --tasks core`` is the command line (``training.benchmarks.cli``).
"""

"""refinery's data pipeline: crawl, extract and clean, filter, dedupe and tokenize, on Ray."""

__version__ = "0.1.0"

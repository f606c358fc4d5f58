"""Declarative method entries (one JSON file per method), shipped as ``poseval_refine.baselines``."""

"""Metrics: pure functions of canonical arrays returning additive statistics and a finalize step."""

"""Helpers of the test suite (builders of cases, the fuzzing harness, recorded official cases):
imported by tests and benchmarks, never collected as tests."""

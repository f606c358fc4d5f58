"""The package list, the one thing pyproject.toml cannot say: every package under poseval_refine/, found
automatically, plus baselines/ and results/ at the repository root installed as ``poseval_refine.baselines``
and ``poseval_refine.shipped_results``."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["poseval_refine", "poseval_refine.*"]), "poseval_refine.baselines",
                 "poseval_refine.shipped_results"])

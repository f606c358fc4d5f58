"""Which torch device a run uses: the one named, else the first available of CUDA, MPS, CPU."""

from __future__ import annotations

import torch

from ..errors import ConfigError


def pick_device(name: str | None = None) -> torch.device:
    if name:
        try:
            return torch.device(name)
        except RuntimeError:
            raise ConfigError(f"unknown device {name!r}", fix="use cpu, cuda, cuda:N or mps") from None
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")

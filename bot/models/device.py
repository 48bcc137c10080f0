"""The one device policy: which device and dtype a model runs on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import ModelUnavailable

if TYPE_CHECKING:
    import torch


def pick_device(preference: str | None = "auto") -> str:
    """The device policy: "auto" takes cuda, then mps, then cpu; an explicit device must exist."""
    import torch

    preference = preference or "auto"
    if preference == "auto":
        if torch.cuda.is_available():
            return "cuda:0"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if preference.startswith("cuda"):
        index = int(preference.split(":", 1)[1]) if ":" in preference else 0
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            found = torch.cuda.device_count() if torch.cuda.is_available() else 0
            raise ModelUnavailable(f"device {preference!r} is configured but this machine has {found} CUDA device(s)")
        return f"cuda:{index}"
    if preference == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ModelUnavailable("device 'mps' is configured but this machine has no Apple GPU")
    return preference


def pick_dtype(device: str, preference: str | None = "auto") -> torch.dtype:
    """float32 on the CPU; on a GPU "auto" takes bfloat16 where supported, else float16."""
    import torch

    preference = preference or "auto"
    if preference != "auto":
        dtype = getattr(torch, preference)
        if device == "cpu" and dtype is torch.float16:
            raise ModelUnavailable("dtype float16 is not supported on the CPU; use float32 or bfloat16")
        return dtype
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32

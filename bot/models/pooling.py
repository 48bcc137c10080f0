"""Sentence-transformers' pooling, reproduced for the ONNX export: which modes a model uses, and each mode in torch.

Both formats of ``1_Pooling/config.json`` are read: the boolean flags sentence-transformers wrote up to 5.x and the
single ``pooling_mode`` key of 6.x. A model whose ``modules.json`` lists more than a transformer, its pooling and a
normalization (a Dense projection, say) is refused with a clear message: it serves on torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.errors import ModelUnavailable

# sentence-transformers' pooling modes, as its 1_Pooling/config.json names them: the legacy boolean flags (up to
# 5.x: {"pooling_mode_mean_tokens": true, ...}) and the single key of 6.x ({"pooling_mode": "mean"} or a list).
# Several modes are concatenated in this order, as sentence-transformers does.
POOLING_FLAGS = {"pooling_mode_cls_token": "cls", "pooling_mode_max_tokens": "max", "pooling_mode_mean_tokens": "mean",
                 "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
                 "pooling_mode_weightedmean_tokens": "weightedmean", "pooling_mode_lasttoken": "lasttoken"}
POOLING_MODES = tuple(POOLING_FLAGS.values())
# Modules a sentence-transformers model may list that the export reproduces: the transformer, the pooling, and the
# normalization that every embedding we serve gets anyway (search compares normalized vectors).
_EXPORTED_MODULES = ("Transformer", "Pooling", "Normalize")


def pooling_modes(source: Path) -> tuple[str, ...]:
    """The pooling modes of the sentence-transformers model at `source` (mean for a plain transformer)."""
    modules_file = source / "modules.json"
    if modules_file.is_file():
        kinds = [str(module.get("type", "")).rsplit(".", 1)[-1] for module in json.loads(modules_file.read_text())]
        others = [kind for kind in kinds if kind not in _EXPORTED_MODULES]
        if others:
            raise ModelUnavailable(f"{source}: ONNX serving exports a transformer, its pooling and normalization; "
                                   f"this model also has {', '.join(others)} (serve it with runtime = \"torch\")")
    configs = sorted(source.glob("*Pooling/config.json"))
    if not configs:
        return ("mean",)
    config = json.loads(configs[0].read_text())
    if "pooling_mode" in config:
        named = config["pooling_mode"]
        modes = (named,) if isinstance(named, str) else tuple(named)
    else:
        modes = tuple(mode for flag, mode in POOLING_FLAGS.items() if config.get(flag)) or ("mean",)
    unknown = [mode for mode in modes if mode not in POOLING_MODES]
    if unknown:
        raise ModelUnavailable(f"{source}: unknown pooling mode {unknown[0]!r} in {configs[0].name} "
                               f"(ONNX serving knows {', '.join(POOLING_MODES)})")
    return modes


def pool(mode: str, hidden: Any, mask: Any) -> Any:
    """One sentence-transformers pooling mode over (batch, tokens, dim) states with a (batch, tokens) mask."""
    import torch

    weights = mask.unsqueeze(-1).to(hidden.dtype)
    if mode == "cls":
        first = mask.to(torch.int32).argmax(dim=1)  # the first real token (left padding included)
        return torch.gather(hidden, 1, first.view(-1, 1, 1).expand(-1, 1, hidden.shape[-1])).squeeze(1)
    if mode == "max":
        return hidden.masked_fill(weights == 0, float("-inf")).max(dim=1).values
    if mode == "lasttoken":
        last = weights.squeeze(-1).sum(1).to(torch.int64).clamp(min=1) - 1  # right padding, as the tokenizer pads
        return torch.gather(hidden, 1, last.view(-1, 1, 1).expand(-1, 1, hidden.shape[-1])).squeeze(1)
    if mode == "weightedmean":
        weights = weights * torch.arange(1, hidden.shape[1] + 1, dtype=hidden.dtype).view(1, -1, 1)
    total = (hidden * weights).sum(1)
    count = weights.sum(1).clamp(min=1e-9)
    return total / (count.sqrt() if mode == "mean_sqrt_len_tokens" else count)

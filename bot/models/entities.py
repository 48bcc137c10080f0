"""Token labels grouped into entities the way the transformers pipeline's "simple" aggregation groups them."""

from __future__ import annotations

from typing import Any

import numpy as np


def bio(label: str) -> tuple[str, str]:
    """("B" or "I", the entity type) of a label; a label without a B-/I- prefix continues its type."""
    return (label[0], label[2:]) if label.startswith(("B-", "I-")) else ("I", label)


def group_entities(text: str, tokens: list[tuple[str, float, tuple[int, int]]]) -> list[dict[str, Any]]:
    """The pipeline's "simple" aggregation: consecutive tokens of one type form an entity unless a B- starts one."""
    groups: list[list[tuple[str, float, tuple[int, int]]]] = []
    for token in tokens:
        bi, kind = bio(token[0])
        if groups and bio(groups[-1][-1][0])[1] == kind and bi != "B":
            groups[-1].append(token)
        else:
            groups.append([token])
    entities = []
    for group in groups:
        kind = bio(group[0][0])[1]
        if kind == "O":
            continue
        start, end = group[0][2][0], group[-1][2][1]
        entities.append({"entity_group": kind, "score": float(np.mean([score for _, score, _ in group])),
                         "word": text[start:end], "start": start, "end": end})
    return entities

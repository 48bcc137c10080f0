"""Model calls grouped by token length, so a batch is not padded far past what its inputs need."""

from __future__ import annotations

# One model call costs about as much as this many more padded tokens in the batch (int8 MiniLM on this 2-core
# machine: ~0.6 ms per call, ~0.05 ms per token of batch x width), so a batch is split where padding costs more.
CALL_COST_TOKENS = 12


def length_groups(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into model calls of similar token lengths, at most `batch_size` each, cheapest in total.

    A batch is padded to its longest input, so one long text in a batch of short ones multiplies its cost (the
    benchmark's texts: 44% of a 32-batch's tokens were padding). Sorted by length, the split points minimize
    sum(CALL_COST_TOKENS + size x longest) over the calls (dynamic programming, batch_size steps per input).
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    if len(order) <= 1:
        return [order] if order else []
    ordered = [lengths[i] for i in order]
    best, cut = [0] * (len(order) + 1), [0] * (len(order) + 1)  # cheapest cost of the first `end`, its last split
    for end in range(1, len(order) + 1):
        width = ordered[end - 1]
        best[end], cut[end] = min((best[start] + CALL_COST_TOKENS + (end - start) * width, start)
                                  for start in range(max(0, end - batch_size), end))
    groups, end = [], len(order)
    while end:
        groups.append(order[cut[end]:end])
        end = cut[end]
    return groups[::-1]

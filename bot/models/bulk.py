"""Bulk ONNX Runtime calls: batches formed by a token budget, the next texts tokenized while the model runs.

What it guarantees: one output per input, in input order, whatever the calls were; the same outputs as
`OnnxModel.run` on each input alone (to float rounding), since padding is masked. An output with a token axis
(a tagger's) is cut to its input's own tokens.

Why it is shaped so (MiniLM-L6 on the 2-core machine, bench/SPEED3.md):

- A call is padded to its longest input, so inputs are sorted by token length inside each window of WINDOW texts
  and cut into calls of at most `token_budget` tokens (rows x longest) and `max_rows` rows: 200-token document
  chunks go 40 to a call, short messages up to `max_rows`. A window of a few thousand texts sorts almost as well
  as sorting everything, and the model starts on the first window instead of after the whole input is tokenized.
- `tokenizers` releases the GIL while it encodes, and so does ONNX Runtime while it runs: the next window is
  tokenized on the caller's thread while the calls of this one run on the workers.
- `workers` calls run side by side (the session's calls are thread-safe; default `OnnxModel.parallel_calls`: on the
  CPU a session with half the cores per call serves two calls at once), so a batch job keeps every core busy.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterable

import numpy as np

WINDOW = 2048  # texts tokenized and sorted together
TOKEN_BUDGET = 8192  # tokens per call, padding included: 40 chunks of 200 tokens, up to max_rows short texts
SPREAD, SLACK = 1.15, 4  # a call's longest input vs its shortest: padding stays under about 15% of its tokens

Done = Callable[[int], object]


def budget_groups(lengths: list[int], *, token_budget: int, max_rows: int) -> list[list[int]]:
    """Indices of `lengths` in calls of similar length: sorted, each call's rows x longest <= token_budget (a single
    input longer than that gets a call of its own), and its longest at most SPREAD x its shortest + SLACK tokens."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    groups: list[list[int]] = []
    current: list[int] = []
    for index in order:  # ascending: the input being added is the call's longest
        size = lengths[index]
        if current and (len(current) >= max_rows or (len(current) + 1) * size > token_budget
                        or size > SPREAD * lengths[current[0]] + SLACK):
            groups.append(current)
            current = []
        current.append(index)
    if current:
        groups.append(current)
    return groups


def bulk_rows(model: Any, texts: list[str], *, max_rows: int, token_budget: int = TOKEN_BUDGET,
              max_length: int | None = None, workers: int | None = None, done: Done | None = None,
              window: int = WINDOW) -> list[np.ndarray]:
    """`model`'s output (an `OnnxModel`'s first output) for each text, in order; `done(n)` as each call's n finish."""
    encoder = model.encoder(max_length)
    windows = (encoder.encode_batch(texts[start:start + window]) for start in range(0, len(texts), window))
    return _run(model, windows, max_rows=max_rows, token_budget=token_budget, workers=workers, done=done)


def run_encoded(model: Any, encodings: list[Any], *, max_rows: int, token_budget: int = TOKEN_BUDGET,
                workers: int | None = None, done: Done | None = None) -> list[np.ndarray]:
    """The same for inputs tokenized already (`tokenizers` encodings: a tagger's overlapping windows)."""
    return _run(model, iter([encodings]), max_rows=max_rows, token_budget=token_budget, workers=workers, done=done)


def _run(model: Any, windows: Iterable[list[Any]], *, max_rows: int, token_budget: int, workers: int | None,
         done: Done | None) -> list[np.ndarray]:
    workers = max(1, workers or getattr(model, "parallel_calls", 1))
    rows: list[np.ndarray] = []
    running: deque[tuple[list[int], list[int], Future]] = deque()  # (positions, token counts, the call)

    def collect(keep: int) -> None:
        while len(running) > keep:
            positions, sizes, call = running.popleft()
            output = call.result()
            for row, position in enumerate(positions):
                rows[position] = output[row, :sizes[row]] if output.ndim == 3 else output[row]
            if done is not None:
                done(len(positions))

    with ThreadPoolExecutor(workers, thread_name_prefix="onnx-bulk") as pool:
        for encodings in windows:  # a generator tokenizes the next window here, while the last one's calls run
            start = len(rows)
            rows.extend([None] * len(encodings))  # type: ignore[list-item]
            collect(keep=workers)  # the last window's calls but those still keeping the workers busy
            lengths = [len(encoding) for encoding in encodings]
            for group in budget_groups(lengths, token_budget=token_budget, max_rows=max_rows):
                running.append(([start + i for i in group], [lengths[i] for i in group],
                                pool.submit(model.run, [encodings[i] for i in group])))
        collect(keep=0)
    return rows

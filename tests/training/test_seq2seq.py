"""Summaries and translations: data checks, ROUGE/BLEU, and a run on a tiny BART built on the spot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.errors import NlpbotError, UserInputError
from bot.training.kinds import get_kind
from bot.training.evaluate import evaluate
from bot.training.kinds.seq2seq import text_metrics
from bot.plugin_manager import trainable
from bot.training.run import train

from tests.support.trainingdata import make_config


def test_scores_are_on_a_zero_to_one_scale() -> None:
    same = text_metrics(["the cat sat on the mat"], ["the cat sat on the mat"])
    assert same["rougeL"] == pytest.approx(1.0) and same["bleu"] == pytest.approx(1.0)
    other = text_metrics(["dogs run fast"], ["the cat sat on the mat"])
    assert other["rougeL"] == 0.0 and other["bleu"] < 0.1


def test_bad_seq2seq_lines_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"text": "Hallo Welt", "target": "Hello world", "source_lang": "de", "target_lang": "en"}\n'
                    '{"text": "Hallo", "target": ""}\n{"text": "Hallo", "target": "Hi", "source_lang": 7}\n')
    with pytest.raises(UserInputError) as caught:
        get_kind("seq2seq", metric="bleu").read(path)
    assert f'{path}:2: "target" is empty' in str(caught.value)
    assert f'{path}:3: "source_lang" must be a string' in str(caught.value)
    assert get_kind("seq2seq", metric="bleu").primary_metric == "bleu"
    assert get_kind("seq2seq").primary_metric == "rougeL"


@pytest.fixture(scope="module")
def tiny_bart(tmp_path_factory: pytest.TempPathFactory, minilm_path: Path) -> Path:
    from transformers import AutoTokenizer, BartConfig, BartForConditionalGeneration

    folder = tmp_path_factory.mktemp("tiny-bart")
    tokenizer = AutoTokenizer.from_pretrained(minilm_path)
    config = BartConfig(vocab_size=tokenizer.vocab_size, d_model=32, encoder_layers=1, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                        max_position_embeddings=128, pad_token_id=tokenizer.pad_token_id,
                        bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id,
                        decoder_start_token_id=tokenizer.sep_token_id, forced_eos_token_id=tokenizer.sep_token_id)
    BartForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_summarize_run_reports_rouge_and_bleu(tmp_path: Path, tiny_bart: Path) -> None:
    data = tmp_path / "summaries.jsonl"
    lines = [{"text": f"meeting {i} moved to room {i % 3} because of the fire drill", "target": f"meeting {i} moved"}
             for i in range(24)]
    data.write_text("".join(json.dumps(line) + "\n" for line in lines))
    config = make_config(tmp_path, "[training]\nmax_length = 24\n")
    result = train(config, plugin="summarize", kind="seq2seq", data=data, base=str(tiny_bart), max_steps=2,
                   batch_size=8, show_bar=False)
    assert result.promoted and result.primary_metric == "rougeL"
    assert {"rouge1", "rouge2", "rougeL", "bleu", "loss"} <= set(result.metrics)
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    model = AutoModelForSeq2SeqLM.from_pretrained(result.path)
    tokenizer = AutoTokenizer.from_pretrained(result.path)
    inputs = tokenizer(["meeting 3 moved"], return_tensors="pt", return_token_type_ids=False)
    assert model.generate(**inputs, max_new_tokens=4).shape[0] == 1
    assert json.loads((result.path / "metadata.json").read_text())["data"]["eval"]["held_out_from_train"] is True


def test_translations_are_ranked_by_the_metric_the_plugin_declares(tmp_path: Path, tiny_bart: Path) -> None:
    config = make_config(tmp_path, "[training]\nmax_length = 24\n")
    declared = trainable(config, "translate")
    assert (declared.kind, declared.metric) == ("seq2seq", "bleu")  # plugins/translate.py: training_metric
    assert trainable(config, "summarize").metric is None  # the kind's own: ROUGE-L
    data = tmp_path / "pairs.jsonl"
    lines = [{"text": f"Sitzung {i} im Raum {i % 3}", "target": f"meeting {i} in room {i % 3}",
              "source_lang": "de", "target_lang": "en"} for i in range(24)]
    data.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = train(config, plugin="translate", kind=declared.kind, metric=declared.metric, data=data,
                   base=str(tiny_bart), max_steps=2, batch_size=8, show_bar=False)
    assert result.primary_metric == "bleu" and result.summary().startswith(f"translate {result.version}: ")
    assert json.loads((result.path / "metadata.json").read_text())["primary_metric"] == "bleu"
    with pytest.raises(NlpbotError, match="cannot rank by 'accuracy'"):
        get_kind("seq2seq", metric="accuracy")
    scored = evaluate(config, "translate", data, kind=declared.kind, metric=declared.metric)  # the serving version
    assert scored.version == result.version and scored.examples == 24 and scored.primary_metric == "bleu"
    assert {"rouge1", "rouge2", "rougeL", "bleu"} <= set(scored.metrics)
    assert all(0 <= scored.metrics[name] <= 1 for name in ("rougeL", "bleu"))

"""The [training] table is typed and checked at load like every table; `nlpbot train` errors are one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.cli import main

from tests.support.trainingdata import make_config


def test_plugin_tables_inherit_the_training_defaults(tmp_path: Path) -> None:
    config = make_config(tmp_path, '[training]\nepochs = 2\nlr = 3e-5\n[training.sentiment]\n'
                                   'data = "data/vader/train.jsonl"\nepochs = 1\n')
    settings = config.training
    assert settings.run_defaults("sentiment").epochs == 1 and settings.run_defaults("sentiment").lr == 3e-5
    assert settings.run_defaults("ner").epochs == 2 and settings.run_defaults("ner").batch_size == 16
    assert settings.plugin("sentiment").data == tmp_path / "data/vader/train.jsonl"  # relative to the config file
    assert settings.plugin("ner").data is None and settings.plugin("ner").eval_data is None


@pytest.mark.parametrize(("table", "message"), [
    ("[training]\nepoch = 2\n", "training.epoch: unknown key"),
    ("[training]\nlr = -1\n", "training.lr: Input should be greater than 0"),
    ("[training.sentiment]\ndata_file = \"x\"\n", "training.sentiment.data_file: unknown key"),
    ("[training]\nsentiment = 3\n", "training.sentiment: unknown key"),
])
def test_mistakes_in_the_training_table_name_the_key(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")) as caught:
        make_config(tmp_path, table)  # load_config refuses it: no training run needed to find out
    assert str(tmp_path / "config.toml") in str(caught.value)


def test_train_command_reports_bad_data_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_config(tmp_path)
    data = tmp_path / "train.jsonl"
    data.write_text('{"text": "great", "label": "positive"}\n{"text": "great", "label": "positive",}\n')
    config = str(tmp_path / "config.toml")
    assert main(["--config", config, "train", "sentiment", "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 1 problem in the training data:\n")
    assert f"{data}:2: not valid JSON" in err
    assert main(["--config", config, "train", "sentiment"]) == 2
    err = capsys.readouterr().err
    assert "no training data for sentiment: give --data FILE or set [training.sentiment] data" in err
    assert main(["--config", config, "train", "weather", "--data", str(data)]) == 2
    assert "'weather' cannot be trained; trainable plugins: ner, search, sentiment, summarize, translate" in capsys.readouterr().err
    assert not (tmp_path / "models").exists()

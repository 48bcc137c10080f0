"""config.toml mistakes stop start-up with one clear message naming the key and the file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.config import load_config
from bot.core import Nlpbot
from bot.errors import ConfigError
from tests.support.bots import ROOT


def start(path):
    return Nlpbot(load_config(path))


def test_the_shipped_config_is_valid_and_works_offline():
    config = load_config(ROOT / "config.toml")
    assert config.models.offline is True
    assert Nlpbot(config).plugins  # builds every enabled plugin without loading a model


def test_an_unknown_key_is_named_with_its_file(make_config):
    path = make_config("[bot]\nworkerz = 3\n")
    with pytest.raises(ConfigError) as error:
        start(path)
    assert str(path) in str(error.value)
    assert "bot.workerz: unknown key" in str(error.value)


def test_a_wrong_type_is_named_with_what_was_given(make_config):
    path = make_config('[plugins.sentiment]\nbatch_size = "lots"\n')
    with pytest.raises(ConfigError) as error:
        start(path)
    message = str(error.value)
    assert "plugins.sentiment.batch_size" in message and "'lots'" in message and str(path) in message


def test_an_unknown_key_in_a_plugin_section(make_config):
    with pytest.raises(ConfigError, match=r"plugins\.sentiment\.colour: unknown key"):
        start(make_config("[plugins.sentiment]\ncolour = 'blue'\n"))


def test_an_unknown_plugin_section_lists_the_real_ones(make_config):
    with pytest.raises(ConfigError, match=r"plugins\.sentimnet: no such plugin \(available: .*sentiment"):
        start(make_config("[plugins.sentimnet]\nenabled = true\n"))


def test_a_missing_model_path_stops_start_up(make_config, tmp_path):
    with pytest.raises(ConfigError) as error:
        start(make_config('[plugins.sentiment]\nmodel = "./no/such/model"\n'))
    assert "plugins.sentiment.model" in str(error.value)
    assert str(tmp_path / "no" / "such" / "model") in str(error.value)


def test_a_missing_model_package_says_how_to_install_it(make_config):
    with pytest.raises(ConfigError, match="pip install no-such-model-package"):
        start(make_config('[plugins.sentiment]\nmodel = "package:no_such_model_package"\n'))


def test_invalid_toml_and_a_missing_file(make_config, tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(make_config("[bot\nname = 1"))
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.toml")


def test_devices_and_admin_ids_are_checked(make_config):
    with pytest.raises(ConfigError, match="'gpu' is not a device"):
        load_config(make_config('[models]\ndevice = "gpu"\n'))
    with pytest.raises(ConfigError, match="not a Slack user id"):
        load_config(make_config('[bot]\nadmins = ["alice"]\n'))


def test_a_disabled_plugin_is_not_loaded_and_its_command_is_unknown(make_config):
    bot = start(make_config("[plugins.sentiment]\nenabled = false\n"))
    assert "sentiment" not in bot.plugins
    reply = bot.ask("/sentiment I love this")
    assert "I don't know the command `sentiment`" in reply.text


def test_nlpbot_config_environment_variable_and_cli_error(make_config, tmp_path):
    path = make_config("[bot]\nworkers = 0\n")
    result = subprocess.run([sys.executable, "-m", "bot", "ask", "help"], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "NLPBOT_CONFIG": str(path), "PYTHONPATH": str(ROOT)}, timeout=120)
    assert result.returncode == 3  # a runtime error: the command was right, the config is not
    assert "bot.workers" in result.stderr and "greater than or equal to 1" in result.stderr
    assert "Traceback" not in result.stderr


def test_python_3_10_reads_the_config_with_tomli():
    """requires-python says 3.10: there tomllib does not exist, and the `tomli` dependency stands in."""
    pytest.importorskip("tomli", reason="tomli is in the test extras: pip install -e '.[test]'")
    script = ("import sys; sys.modules['tomllib'] = None  # as on Python 3.10: `import tomllib` fails\n"
              "from bot.config import load_config\n"
              "config = load_config(sys.argv[1])\n"
              "assert sys.modules['bot.config'].tomllib.__name__ == 'tomli'\n"
              "print(config.bot.name, sorted(config.plugins))\n")
    result = subprocess.run([sys.executable, "-c", script, str(ROOT / "config.toml")], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("nlpbot ['")


@pytest.mark.parametrize(("body", "message"), [
    ('[search]\ndefault_indx = "docs"\n', "search.default_indx: unknown key"),
    ("[search]\nmin_score = 2\n", "search.min_score: Input should be less than or equal to 1"),
    ("[search]\nchunk_tokens = 32\nchunk_overlap = 32\n", "search: Value error, chunk_overlap (32) must be smaller"),
    ('[training.sentiment]\neval_dta = "eval.jsonl"\n', "training.sentiment.eval_dta: unknown key"),
    ("[training.sentiment]\nepochs = 0\n", "training.sentiment.epochs: Input should be greater than 0"),
    ("[training]\nepoch = 2\n", "training.epoch: unknown key"),
])
def test_search_and_training_mistakes_stop_load_config_naming_the_key_and_the_file(make_config, body, message):
    path = make_config(body)
    with pytest.raises(ConfigError) as error:
        load_config(path)  # at load: before any plugin, index or training run reads the table
    assert str(error.value).startswith(f"{path}: {message}")
    assert len(str(error.value).splitlines()) == 1


def test_search_and_training_are_typed_sections_with_paths_relative_to_the_config_file(make_config, tmp_path):
    config = load_config(make_config('[search]\nindexes_dir = "idx"\ndefault_index = "handbook"\n'
                                     'allowed_paths = ["shared/docs"]\n[training]\nepochs = 2\n'
                                     '[training.sentiment]\ndata = "data/train.jsonl"\neval_data = "/abs/eval.jsonl"\n'))
    assert config.search.default_index == "handbook" and config.search.chunk_tokens == 200  # a default, typed
    assert config.search.indexes_dir == tmp_path / "idx"
    assert config.search.allowed_paths == [(tmp_path / "shared" / "docs").resolve()]
    assert config.training.epochs == 2 and config.training.plugin("sentiment").data == tmp_path / "data/train.jsonl"
    assert str(config.training.plugin("sentiment").eval_data) == "/abs/eval.jsonl"
    assert config.training.run_defaults("sentiment").epochs == 2  # its table inherits the [training] defaults
    assert config.training.plugin("ner").data is None  # no table: nothing to train on, nothing invented


def test_a_training_table_for_no_plugin_stops_start_up(make_config):
    with pytest.raises(ConfigError, match=r"training\.sentimnet: no such plugin \(available: .*sentiment"):
        start(make_config('[training.sentimnet]\ndata = "train.jsonl"\n'))

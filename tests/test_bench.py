"""bench/ measures the bot through its public API: no private name, no adapter module, no internal table."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.bots import ROOT

BENCH_FILES = sorted((ROOT / "bench").glob("*.py"))
# What a benchmark may import from bot/: the bot, its config, the model hub and the search library; the recap
# rules are what bench/recaps_rules.py measures. The adapters are reached through `nlpbot run`, as users do.
PUBLIC = ("bot.core", "bot.config", "bot.models", "bot.search", "bot.recap_rules", "bot.recaps")


def bot_imports(source: str) -> list[tuple[str, str | None]]:
    """(module, name) for every import of bot code anywhere in a file (name None for `import bot.x`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names if alias.name.split(".")[0] == "bot"]
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "bot":
            found += [(node.module, alias.name) for alias in node.names]
    return found


def problems(source: str) -> list[str]:
    found = []
    for module, name in bot_imports(source):
        where = f"{module}.{name}" if name else module
        if any(part.startswith("_") for part in where.split(".")):
            found.append(f"{where}: a private name")
        elif module.startswith("bot.adapters") or module == "bot" and name == "adapters":
            found.append(f"{where}: an adapter module (run `nlpbot run` instead)")
        elif not module.startswith(PUBLIC):
            found.append(f"{where}: not the public API ({', '.join(PUBLIC)})")
        elif name and name != "*" and not _is_submodule(module, name):
            exported = getattr(importlib.import_module(module), "__all__", None)
            if exported is not None and name not in exported:
                found.append(f"{where}: not in {module}.__all__")
    return found


def _is_submodule(module: str, name: str) -> bool:
    return importlib.util.find_spec(f"{module}.{name}") is not None if hasattr(
        importlib.import_module(module), "__path__") else False


def test_there_are_benchmarks_to_check():
    assert {"run.py", "ab.py", "soak.py"} <= {path.name for path in BENCH_FILES}


def test_the_check_catches_what_bench_run_did_before():
    old = ("from bot.adapters.slack import SlackAdapter\nfrom bot.models.onnx import VARIANT_FILES, session_options\n"
           "from bot.search.hybrid import _normalise\nimport bot.adapters.http\nfrom bot.bootstrap import bootstrap\n")
    assert problems(old) == [
        "bot.adapters.slack.SlackAdapter: an adapter module (run `nlpbot run` instead)",
        "bot.models.onnx.VARIANT_FILES: not in bot.models.onnx.__all__",
        "bot.search.hybrid._normalise: a private name",
        "bot.adapters.http: an adapter module (run `nlpbot run` instead)",
        "bot.bootstrap.bootstrap: not the public API (bot.core, bot.config, bot.models, bot.search, bot.recap_rules, "
        "bot.recaps)",
    ]


@pytest.mark.parametrize("path", BENCH_FILES, ids=lambda path: path.name)
def test_a_benchmark_imports_only_public_names(path: Path):
    found = problems(path.read_text(encoding="utf-8"))
    assert not found, f"bench/{path.name}: " + "; ".join(found)


def test_the_gpu_benchmark_runs_on_the_cpu_and_prints_one_table(tmp_path: Path):
    """bench/gpu.sh is ready for the day a GPU is lent: its whole path runs here on tiny sizes, fp16/bf16 marked."""
    done = subprocess.run(["bash", str(ROOT / "bench" / "gpu.sh"), "--device", "cpu", "--texts", "32",
                           "--documents", "6", "--steps", "2"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=900, env={**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert lines[0] == "| work | dtype | raw library | raw /s | nlpbot | nlpbot /s | nlpbot / raw |"
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    assert [(row[0], row[1]) for row in rows[:6]] == [
        ("classification", "float32"), ("embeddings", "float32"), ("classification", "float16"),
        ("embeddings", "float16"), ("classification", "bfloat16"), ("embeddings", "bfloat16")]
    assert all(row[6] == "not measured on a CPU" for row in rows[2:6])
    assert [row[0] for row in rows[6:]] == ["classification, ONNX Runtime", "embeddings, ONNX Runtime",
                                            "index add (chunks/s)", "training step (steps/s)"]
    measured = rows[:2] + rows[6:]
    assert all(float(row[3]) > 0 and float(row[5]) > 0 and float(row[6]) > 0 for row in measured), measured

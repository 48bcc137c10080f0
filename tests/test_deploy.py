"""deploy/: the Dockerfile and docker-compose.yml read as intended (no Docker daemon here: the files are parsed)."""

from __future__ import annotations

import re
import shlex

import yaml

from tests.support.bots import ROOT

DEPLOY = ROOT / "deploy"


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_image_installs_torch_first_then_nlpbot_on_a_cpu_or_a_cuda_base():
    steps = dockerfile()
    args = {value.split("=", 1)[0]: value.split("=", 1)[1] for kind, value in steps if kind == "ARG" and "=" in value}
    assert steps[1] == ("FROM", "${BASE}") and args["BASE"].startswith("python:3.")
    assert "--build-arg BASE=nvidia/cuda:" in (DEPLOY / "Dockerfile").read_text(), "the CUDA base is documented"
    runs = [value for kind, value in steps if kind == "RUN"]
    torch = next(i for i, run in enumerate(runs) if "pip install torch==${TORCH_VERSION}" in run)
    nlpbot = next(i for i, run in enumerate(runs) if "pip install '.[redis,ray]'" in run)
    assert torch < nlpbot, "torch (pinned, of the chosen variant) comes before nlpbot"
    makefile = (ROOT / "Makefile").read_text()
    assert f"TORCH_VERSION ?= {args['TORCH_VERSION']}" in makefile, "the image pins the torch that make setup pins"
    for kind, value in steps:
        if kind == "COPY":
            *sources, _ = shlex.split(value)
            assert all((ROOT / source).exists() for source in sources), value
    [cmd] = [value for kind, value in steps if kind == "CMD"]
    assert yaml.safe_load(cmd)[:5] == ["nlpbot", "run", "--adapter", "http", "--host"]
    assert ("EXPOSE", "3000") in steps


def test_compose_runs_two_http_replicas_on_one_redis_with_shared_models_and_indexes():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    replicas = {name: s for name, s in services.items() if "nlpbot" in " ".join(s.get("command", []))}
    assert len(replicas) == 2 and "redis" in services
    mounts = {name: dict(volume.rsplit(":", 1)[::-1] for volume in s["volumes"]) for name, s in replicas.items()}
    first, second = mounts.values()
    assert first["/app/models"] == second["/app/models"] and first["/app/indexes"] == second["/app/indexes"]
    assert first["/app/state"] != second["/app/state"], "each replica keeps its own job store"
    assert set(first.values()) | set(second.values()) <= set(compose["volumes"])
    for replica in replicas.values():
        assert replica["command"][:4] == ["nlpbot", "run", "--adapter", "http"]
        assert replica["build"]["dockerfile"] == "deploy/Dockerfile"
        assert replica["environment"]["NLPBOT_REDIS_URL"] == "redis://redis:6379/0"
        secrets = {key: value for key, value in replica["environment"].items() if key.startswith("SLACK_")}
        assert secrets and all(value.startswith("${") for value in secrets.values()), "secrets come from the environment"
        assert replica["ports"][0].endswith(":3000")

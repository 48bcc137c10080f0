"""The suite runs on the library versions pyproject.toml admits: the pins README names are the ones tested."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import pytest
from packaging.requirements import Requirement

from tests.support.bots import ROOT

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

DECLARED = [Requirement(line) for line in
            tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]]
# Libraries whose files nlpbot reads or writes: each is held below its next major version.
FILE_FORMATS = {"transformers", "sentence-transformers", "faiss-cpu", "onnx", "onnxruntime", "apscheduler", "spacy",
                "slack-sdk", "slack-bolt", "torch"}


@pytest.mark.parametrize("requirement", [r for r in DECLARED if r.marker is None or r.marker.evaluate()],
                         ids=lambda r: r.name)
def test_the_installed_version_is_one_pyproject_admits(requirement):
    try:
        installed = version(requirement.name)
    except PackageNotFoundError:
        pytest.fail(f"{requirement.name} is not installed: `make setup` installs pyproject's dependencies")
    assert requirement.specifier.contains(installed, prereleases=True), (
        f"{requirement.name} {installed} is installed, pyproject.toml asks for {requirement.specifier}")


def test_libraries_whose_files_we_read_are_pinned_below_their_next_major_version():
    declared = {r.name.lower(): r for r in DECLARED}
    unpinned = sorted(name for name in FILE_FORMATS if not any(s.operator in {"<", "<=", "~=", "=="}
                                                               for s in declared[name].specifier))
    assert not unpinned, f"no upper bound for {unpinned} in pyproject.toml"

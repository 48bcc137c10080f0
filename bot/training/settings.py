"""The [training] config table: defaults for every run and, per plugin, the data an admin retrains on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field

from bot.config import Config, Section, validate_section
from bot.errors import ConfigError


class RunDefaults(Section):
    """Hyper-parameters; every one can be overridden per plugin and on the command line."""

    epochs: float = Field(3.0, gt=0, le=1000)
    lr: float = Field(5e-5, gt=0, lt=1)
    batch_size: int = Field(16, ge=1, le=4096)
    max_length: int = Field(128, ge=8, le=8192, description="tokens per example; longer texts are cut")
    seed: int = 42
    patience: int = Field(2, ge=1, le=100, description="early stopping: evaluations without improvement")
    eval_fraction: float = Field(0.1, gt=0, lt=0.9, description="held out when no eval data is given")
    max_steps: int | None = Field(None, ge=1)


class PluginTraining(RunDefaults):
    """[training.PLUGIN]: where its data lives and what it starts from."""

    data: Path | None = Field(None, description="training data (JSON lines or CoNLL); relative to the config file")
    eval_data: Path | None = None
    base: str | None = Field(
        None, description="model spec to fine-tune: path, package:MODULE, trained:PLUGIN or hub id")
    # Defaults are filled from the [training] table, so unset keys here mean "inherit".
    epochs: float | None = Field(None, gt=0, le=1000)  # type: ignore[assignment]
    lr: float | None = Field(None, gt=0, lt=1)  # type: ignore[assignment]
    batch_size: int | None = Field(None, ge=1, le=4096)  # type: ignore[assignment]
    max_length: int | None = Field(None, ge=8, le=8192)  # type: ignore[assignment]
    seed: int | None = None  # type: ignore[assignment]
    patience: int | None = Field(None, ge=1, le=100)  # type: ignore[assignment]
    eval_fraction: float | None = Field(None, gt=0, lt=0.9)  # type: ignore[assignment]


class TrainingSettings(RunDefaults):
    """The whole [training] table: run defaults plus one sub-table per plugin.

    Example config.toml::

        [training]
        epochs = 2
        [training.sentiment]
        data = "data/vader/train.jsonl"
        eval_data = "data/vader/eval.jsonl"
    """

    model_config = ConfigDict(extra="allow", validate_default=True)

    def plugin(self, name: str) -> PluginTraining:
        raw = (self.model_extra or {}).get(name) or {}
        return raw if isinstance(raw, PluginTraining) else PluginTraining.model_validate(raw)

    def run_defaults(self, plugin: str) -> RunDefaults:
        """The effective hyper-parameters for PLUGIN: its table over the [training] defaults."""
        own = self.plugin(plugin).model_dump(exclude_none=True, exclude={"data", "eval_data", "base"})
        return RunDefaults.model_validate({**self.model_dump(include=set(RunDefaults.model_fields)), **own})


def training_settings(config: Config) -> TrainingSettings:
    """Validate config.training; unknown keys and bad values raise ConfigError naming the key and the file."""
    raw: dict[str, Any] = dict(config.training)
    settings: TrainingSettings = validate_section(config, TrainingSettings, raw, key="training")
    for name, value in (settings.model_extra or {}).items():
        if not isinstance(value, dict):
            raise ConfigError(
                f"{config.where()}: training.{name}: unknown key (see config.toml for the keys; "
                "per-plugin tables are written [training.PLUGIN])"
            )
        validate_section(config, PluginTraining, value, key=f"training.{name}")
    return settings

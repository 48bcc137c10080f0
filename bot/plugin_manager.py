"""Finds plugins (built-ins in plugins/, third-party via the `nlpbot.plugins` entry points), builds the enabled ones
beside the [classifiers.NAME] of the config, and says what each declares for training (kind, labels, ranking metric)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
import logging
import pkgutil
from importlib.metadata import entry_points
from typing import Any, Callable

from bot.classifier import RESERVED, Classifier
from bot.config import Config, PluginSettings, validate_section
from bot.errors import ConfigError, ModelUnavailable, UserInputError
from bot.models import resolve_model
from bot.models.specs import PACKAGE, require_package
from bot.plugin import CommandSpec, Plugin, Services

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "nlpbot.plugins"
BUILTIN_PACKAGE = "plugins"


def _builtin_sources() -> dict[str, Callable[[], type[Plugin]]]:
    """name -> a loader; built-in plugin modules are named after their plugin."""
    package = importlib.import_module(BUILTIN_PACKAGE)
    sources = {}
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            sources[module.name] = lambda name=module.name: _plugin_class(importlib.import_module(f"{BUILTIN_PACKAGE}.{name}"), name)
    return sources


def _plugin_class(module: Any, name: str) -> type[Plugin]:
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, Plugin) and value is not Plugin and value.name == name:
            return value
    raise ConfigError(f"module {module.__name__} has no Plugin subclass named {name!r}")


def discover() -> dict[str, Callable[[], type[Plugin]]]:
    """Every plugin that could be enabled, by name, without importing any of them yet."""
    sources = _builtin_sources()
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in sources:
            log.warning("plugin %r from %s shadows another plugin of that name; keeping the first", entry.name, entry.value)
            continue
        sources[entry.name] = lambda entry=entry: entry.load()
    return sources


def plugin_class(name: str) -> type[Plugin] | None:
    """The class of the installed plugin NAME (its module imported now), or None when there is none."""
    load = discover().get(name)
    return load() if load else None


def build_plugins(config: Config, services: Services, *, extra: dict[str, type[Plugin]] | None = None) -> dict[str, Plugin]:
    """Validate every [plugins.NAME] table and construct the enabled plugins (cheaply: no models yet)."""
    sources = discover()
    for name, cls in (extra or {}).items():
        sources[name] = lambda cls=cls: cls
    unknown = sorted(name for name in set(config.plugins) - set(sources)
                     if not (isinstance(config.plugins[name], dict) and config.plugins[name].get("enabled") is False))
    if unknown:
        raise ConfigError(
            f"{config.where()}: plugins.{unknown[0]}: no such plugin (available: {', '.join(sorted(sources))})"
        )
    untrained = sorted(set(config.training.plugins) - set(sources) - set(config.classifiers))
    if untrained:
        raise ConfigError(
            f"{config.where()}: training.{untrained[0]}: no such plugin (available: {', '.join(sorted(sources))})"
        )
    plugins: dict[str, Plugin] = {}
    for name, load in sorted(sources.items()):
        raw = config.plugins.get(name, {})
        if not isinstance(raw, dict):
            raise ConfigError(f"{config.where()}: plugins.{name}: must be a table ([plugins.{name}])")
        if raw.get("enabled", True) is False:
            log.debug("plugin %s is disabled", name)
            continue
        cls = load()
        if not (isinstance(cls, type) and issubclass(cls, Plugin)):
            raise ConfigError(f"plugin {name!r} ({cls!r}) is not an nlpbot Plugin class")
        settings = validate_section(config, cls.Settings, raw, key=f"plugins.{name}")
        if not settings.enabled:
            continue
        check_model_setting(config, name, settings.model)
        plugins[name] = cls(settings=settings, services=services)
    return {**plugins, **_classifiers(config, services, taken=sources, plugins=plugins)}


def _classifiers(config: Config, services: Services, *, taken: dict[str, Any],
                 plugins: dict[str, Plugin]) -> dict[str, Plugin]:
    """The enabled [classifiers.NAME]: each a plugin whose command is /NAME; a name already in use is refused."""
    commands = {spec.name: plugin.name for plugin in plugins.values() for spec in plugin.commands()}
    built: dict[str, Plugin] = {}
    for name, table in sorted(config.classifiers.items()):
        clash = ("the name of a plugin" if name in taken else f"the {commands[name]} plugin's command /{name}"
                 if name in commands else "a word the router keeps for itself" if name in RESERVED else None)
        if clash:
            raise ConfigError(f"{config.where()}: classifiers.{name}: {name!r} is {clash}; "
                              f"give the classifier another name")
        if not table.enabled:
            log.info("classifier %s is disabled", name)
            continue
        settings = Classifier.settings_for(name, table)
        check_model_setting(config, name, settings.model)
        built[name] = Classifier.from_table(name, table)(settings=settings, services=services)
    return built


def configured(config: Config, name: str) -> tuple[type[Plugin], PluginSettings] | None:
    """Plugin NAME's class and settings as the config has them (a classifier's from its table); None: no such plugin."""
    if name in config.classifiers:
        table = config.classifiers[name]
        return Classifier.from_table(name, table), Classifier.settings_for(name, table)
    load = discover().get(name)
    if load is None:
        return None
    cls = load()
    return cls, validate_section(config, cls.Settings, config.plugins.get(name, {}), key=f"plugins.{name}")


def serving_runtime(config: Config, spec: str) -> str:
    """The runtime ("torch" or "onnx") of the enabled plugin that serves SPEC (its `served_model`): how the bot runs
    that model, so a command using it alone (`nlpbot search` and [search] embedding_model) gets the same vectors."""
    for name, load in sorted(discover().items()):
        raw = config.plugins.get(name, {})
        if not isinstance(raw, dict) or raw.get("enabled", True) is False:
            continue
        cls = load()
        settings = validate_section(config, cls.Settings, raw, key=f"plugins.{name}")
        if settings.enabled and cls.served_model(config, settings) == spec:
            return settings.runtime
    return "torch"


def check_model_setting(config: Config, plugin: str, spec: str | None) -> None:
    """At start-up, a configured path or package that is missing stops the bot with one clear message.

    Hub ids and trained models are checked on first use: a missing trained model gets a reply saying
    how to train it, not a bot that will not start.
    """
    if not spec or spec.startswith("trained:"):
        return
    try:
        if spec.startswith(PACKAGE):  # installed is enough here: importing a spaCy model package imports torch (1.5 s)
            require_package(spec[len(PACKAGE):].strip(), f"plugins.{plugin}.model")
            return
        resolved = resolve_model(spec, config=config, what=f"plugins.{plugin}.model")
    except ModelUnavailable as exc:
        if spec.startswith("package:") or "no model at" in str(exc):
            raise ConfigError(f"{config.where()}: {exc}") from None
        return
    log.debug("plugin %s uses %s (%s)", plugin, resolved.path, resolved.source)


def command_table(plugins: dict[str, Plugin]) -> dict[str, tuple[Plugin, CommandSpec]]:
    """command name -> (plugin, spec); two plugins claiming one command is a configuration error."""
    table: dict[str, tuple[Plugin, CommandSpec]] = {}
    for plugin in plugins.values():
        for spec in plugin.commands():
            if spec.name in table:
                other = table[spec.name][0].name
                raise ConfigError(f"command {spec.name!r} is claimed by both the {other} and {plugin.name} plugins; disable one")
            table[spec.name] = (plugin, spec)
    return table


@dataclass(frozen=True)
class Trainable:
    """What a plugin declares for training: `training_kind`, `labels`, `training_metric` and `out_of_scope_label` on
    its class, or a classifier's in its [classifiers.NAME] table."""

    plugin: str
    kind: str
    labels: list[str] | None = None
    metric: str | None = None  # None: the kind's own primary metric
    out_of_scope_label: str | None = None  # a classifier's examples that fit none of its labels


def trainable_plugins(config: Config) -> dict[str, Trainable]:
    """Every installed plugin with a training kind, and every configured classifier, by name."""
    found = {}
    for name, load in sorted(discover().items()):
        cls = load()
        kind = getattr(cls, "training_kind", None)
        if kind:
            labels = getattr(cls, "labels", None)
            found[name] = Trainable(name, kind, list(labels) if isinstance(labels, (list, tuple)) else None,
                                    getattr(cls, "training_metric", None), getattr(cls, "out_of_scope_label", None))
    for name, table in sorted(config.classifiers.items()):
        cls = Classifier.from_table(name, table)
        found[name] = Trainable(name, str(cls.training_kind), list(table.labels) if table.labels else None,
                                None, table.out_of_scope_label)
    return found


def trainable(config: Config, plugin: str) -> Trainable:
    """PLUGIN's declarations, or UserInputError naming the plugins that can be trained."""
    found = trainable_plugins(config)
    if plugin not in found:
        raise UserInputError(f"{plugin!r} cannot be trained; trainable plugins: {', '.join(found)}")
    return found[plugin]


def plugins_of_kind(config: Config, kind: str) -> list[str]:
    """The plugins trained with KIND (e.g. "sentence-embeddings"), by name."""
    return [name for name, declared in trainable_plugins(config).items() if declared.kind == kind]

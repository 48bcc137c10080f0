"""Which plugins can be trained, and what each declares: its training kind, labels and ranking metric."""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import UserInputError


@dataclass(frozen=True)
class Trainable:
    """A plugin's declarations (`training_kind`, `labels`, `training_metric` on its class)."""

    plugin: str
    kind: str
    labels: list[str] | None = None
    metric: str | None = None  # None: the kind's own primary metric


def trainable_plugins() -> dict[str, Trainable]:
    """Every installed plugin with a training kind, by name."""
    from bot.plugin_manager import discover

    found = {}
    for name, load in sorted(discover().items()):
        cls = load()
        kind = getattr(cls, "training_kind", None)
        if kind:
            labels = getattr(cls, "labels", None)
            found[name] = Trainable(name, kind, list(labels) if labels else None,
                                    getattr(cls, "training_metric", None))
    return found


def trainable(plugin: str) -> Trainable:
    """PLUGIN's declarations, or UserInputError naming the plugins that can be trained."""
    found = trainable_plugins()
    if plugin not in found:
        raise UserInputError(f"{plugin!r} cannot be trained; trainable plugins: {', '.join(found)}")
    return found[plugin]


def plugins_of_kind(kind: str) -> list[str]:
    """The installed plugins trained with KIND (e.g. "sentence-embeddings"), by name."""
    return [name for name, declared in trainable_plugins().items() if declared.kind == kind]

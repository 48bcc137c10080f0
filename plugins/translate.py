"""Translation: the source language detected offline (lingua), then a pair model or a multilingual model."""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bot.errors import ModelUnavailable, UserInputError
from bot.format import escape
from bot.plugin import Option, Plugin, PluginSettings, Reply, Request, Shortcut, command
from bot.request import require_words

USAGE = "/translate [to LANG] TEXT"
NLLB_CODES = {
    "ar": "arb_Arab", "cs": "ces_Latn", "da": "dan_Latn", "de": "deu_Latn", "el": "ell_Grek", "en": "eng_Latn",
    "es": "spa_Latn", "fi": "fin_Latn", "fr": "fra_Latn", "hi": "hin_Deva", "hu": "hun_Latn", "it": "ita_Latn",
    "ja": "jpn_Jpan", "ko": "kor_Hang", "nl": "nld_Latn", "pl": "pol_Latn", "pt": "por_Latn", "ro": "ron_Latn",
    "ru": "rus_Cyrl", "sv": "swe_Latn", "tr": "tur_Latn", "uk": "ukr_Cyrl", "zh": "zho_Hans",
}
NO_MODEL = (
    "No translation model is configured. Add one to [plugins.translate] in config.toml: a pair, e.g. "
    '`models = {{ "{pair}" = "Helsinki-NLP/opus-mt-{pair}" }}`, or a multilingual model, e.g. '
    '`multilingual_model = "facebook/nllb-200-distilled-600M"` (hub ids must be in the local Hugging Face cache, '
    "or use a local path)."
)
_PAIR = re.compile(r"^[a-z]{2}-[a-z]{2}$")


def language(code_or_name: str):
    """A lingua Language from an ISO 639-1 code ("de") or an English name ("German"); None if unknown."""
    from lingua import IsoCode639_1, Language

    word = code_or_name.strip().lower()
    try:
        if len(word) == 2:
            return Language.from_iso_code_639_1(IsoCode639_1.from_str(word))
        return Language.from_str(word)
    except ValueError:
        return None


def language_name(code: str) -> str:
    found = language(code)
    return f"{found.name.title()} ({code})" if found else code


class TranslateSettings(PluginSettings):
    default_target: str = Field("en", description="target language (ISO 639-1) when the request names none")
    languages: list[str] = Field(["en", "de", "fr", "es", "it", "nl", "pt"], min_length=1,
                                 description="languages the detector chooses among (ISO 639-1); fewer is faster")
    models: dict[str, str] = Field(default_factory=dict,
                                   description='"src-tgt" -> a translation model, e.g. "en-de" = "Helsinki-NLP/opus-mt-en-de"')
    multilingual_model: str | None = Field(None, description="one model for many pairs (NLLB, M2M100, Marian multi)")
    multilingual_family: Literal["nllb", "m2m100", "marian"] = Field(
        "nllb", description="how the multilingual model names languages: nllb eng_Latn, m2m100 en, marian >>deu<<")
    language_codes: dict[str, str] = Field(default_factory=dict, description="ISO 639-1 -> the multilingual model's code")
    max_length: int = Field(512, ge=8, le=4096, description="longest translation, in tokens")
    num_beams: int = Field(4, ge=1, le=32)

    @field_validator("default_target", "languages", "language_codes")
    @classmethod
    def _known_languages(cls, value: Any) -> Any:
        for code in [value] if isinstance(value, str) else value:
            if len(code) != 2 or language(code) is None:
                raise ValueError(f"{code!r} is not an ISO 639-1 language code (like en, de, fr)")
        return value

    @field_validator("models")
    @classmethod
    def _pairs(cls, models: dict[str, str]) -> dict[str, str]:
        for pair in models:
            if not _PAIR.match(pair) or any(language(code) is None for code in pair.split("-")):
                raise ValueError(f"{pair!r} is not a pair of ISO 639-1 codes written source-target, like \"en-de\"")
        return models

    @model_validator(mode="after")
    def _model_is_not_used(self) -> TranslateSettings:
        if self.model:
            raise ValueError("translate has no single model: use models (a table of pairs) or multilingual_model")
        return self


class TranslatePlugin(Plugin):
    name = "translate"
    description = "Translates a text; the source language is detected for you."
    Settings = TranslateSettings
    training_kind = "seq2seq"
    training_metric = "bleu"  # a translation is judged by BLEU, a summary (the seq2seq default) by ROUGE-L
    predict_options = (Option("to", metavar="LANG", help="target language (default: [plugins.translate] default_target)"),)
    shortcuts = (Shortcut("translate_message", "Translate", command="translate", description="Translate this message"),)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._detector = None
        self._detector_lock = threading.Lock()

    def warm_up(self) -> None:
        self.detect("warm up")
        if self.settings.multilingual_model:
            self.model("seq2seq", spec=self.settings.multilingual_model, what="plugins.translate.multilingual_model")

    def detect(self, text: str) -> str | None:
        """The ISO 639-1 code of the text's language among the configured ones, or None if it cannot tell."""
        return self.detect_all([text])[0]

    def detect_all(self, texts: list[str]) -> list[str | None]:
        from lingua import LanguageDetectorBuilder

        candidates = [language(code) for code in self.settings.languages]
        if len(candidates) == 1:
            return [self.settings.languages[0]] * len(texts)
        with self._detector_lock:  # built once, lazily: building for all 75 languages would take seconds
            if self._detector is None:
                self._detector = LanguageDetectorBuilder.from_languages(*candidates).build()
        found = self._detector.detect_languages_in_parallel_of(texts)
        return [lang.iso_code_639_1.name.lower() if lang else None for lang in found]

    def multilingual_code(self, lang: str) -> str | None:
        family = self.settings.multilingual_family
        if lang in self.settings.language_codes:
            return self.settings.language_codes[lang]
        if family == "nllb":
            return NLLB_CODES.get(lang)
        return lang if family == "m2m100" else language(lang).iso_code_639_3.name.lower()

    def available(self) -> str:
        parts = [f"{src} → {tgt}" for src, tgt in (pair.split("-") for pair in sorted(self.settings.models))]
        if self.settings.multilingual_model:
            codes = sorted({*self.settings.languages, *self.settings.language_codes})
            parts.append("any two of " + ", ".join(c for c in codes if self.multilingual_code(c)) + " (multilingual)")
        return "; ".join(parts)

    def route(self, source: str, target: str) -> tuple[str, str, str | None, str | None]:
        """(model spec, its setting's name, source code, target code) for a pair; codes only for multilingual models."""
        pair = f"{source}-{target}"
        if pair in self.settings.models:
            return self.settings.models[pair], f'plugins.translate.models."{pair}"', None, None
        source_code, target_code = self.multilingual_code(source), self.multilingual_code(target)
        if self.settings.multilingual_model and source_code and target_code:
            return self.settings.multilingual_model, "plugins.translate.multilingual_model", source_code, target_code
        if not self.settings.models and not self.settings.multilingual_model:
            raise ModelUnavailable(NO_MODEL.format(pair=pair))
        raise ModelUnavailable(f"I can't translate {language_name(source)} to {language_name(target)}: no model for "
                               f"that pair is configured. Available: {self.available()}.")

    def _translate(self, texts: list[str], source: str, target: str) -> tuple[list[str], str]:
        spec, what, source_code, target_code = self.route(source, target)
        options: dict[str, Any] = {"max_length": self.settings.max_length, "num_beams": self.settings.num_beams}
        if source_code and self.settings.multilingual_family == "marian":
            texts = [f">>{target_code}<< {text}" for text in texts]  # Marian multi reads the target from the text
        elif source_code:
            options.update(src_lang=source_code, tgt_lang=target_code)
        return self.model("seq2seq", spec=spec, what=what)(texts, **options), spec

    def predict(self, texts: list[str], **options: Any) -> list[dict[str, Any]]:
        target = self._target(options.get("to") or self.settings.default_target)
        if not self.settings.models and not self.settings.multilingual_model:
            raise ModelUnavailable(NO_MODEL.format(pair=f"en-{target}"))
        results: list[dict[str, Any]] = [{"text": text, "translation": None, "source_lang": source, "target_lang": target}
                                         for text, source in zip(texts, self.detect_all(texts))]
        groups: dict[str, list[int]] = defaultdict(list)
        for index, result in enumerate(results):
            if result["source_lang"] is None:
                result["error"] = "could not tell which language this is"
            elif result["source_lang"] == target:
                result["translation"] = result["text"]
            else:
                groups[result["source_lang"]].append(index)
        for source, indices in groups.items():
            try:
                translations, spec = self._translate([texts[i] for i in indices], source, target)
            except ModelUnavailable as exc:
                for i in indices:
                    results[i]["error"] = str(exc)
                continue
            for i, translation in zip(indices, translations):
                results[i].update(translation=translation, model=spec)
        return results

    @staticmethod
    def _target(word: str) -> str:
        found = language(word)
        if found is None:
            raise UserInputError(f"I don't know the language {word!r}: use a code like `de` or a name like `German`.")
        return found.iso_code_639_1.name.lower()

    @command(usage=USAGE)
    def translate(self, request: Request) -> Reply:
        """Translate a text (default target: the configured language; `to de` or `to German` picks another)."""
        target, text = self.settings.default_target, request.text
        words = text.split(None, 2)
        if len(words) >= 2 and words[0].lower() == "to":
            target, text = self._target(words[1]), (words[2] if len(words) > 2 else "")
        text = require_words(text, usage=USAGE)
        source = self.detect(text)
        if source is None:
            raise UserInputError("I couldn't tell which language this is (I know "
                                 f"{', '.join(self.settings.languages)}); try a longer text.")
        result = {"text": text, "source_lang": source, "target_lang": target}
        if source == target:
            return Reply(text=f"That is already in {language_name(target)}.", data={**result, "translation": text})
        try:
            (translation,), spec = self._translate([text], source, target)
        except ModelUnavailable as exc:
            raise ModelUnavailable(f"This looks like {language_name(source)}. {exc}") from None
        return Reply(
            text=escape(translation) if translation.strip() else "_The model returned an empty translation._",
            fields=[("From", language_name(source)), ("To", language_name(target))],
            footer=spec,
            data={**result, "translation": translation, "model": spec},
        )

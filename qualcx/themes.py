"""Inductive themes (Kvale's stage 5) with BERTopic over segment embeddings.

Themes are found within each top-level code (sub-themes) and among the segments no code
covers (emergent themes). Components are chosen by corpus size: below
``UMAP_MIN_SEGMENTS`` segments, k-means on the embeddings themselves (deterministic, never
all outliers, no numba compilation); above it, UMAP and HDBSCAN with outliers reassigned
to the nearest theme when they are close enough.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np

UMAP_MIN_SEGMENTS = 300
OUTLIER_MIN_SIMILARITY = 0.35
FILLER = {
    "um", "uh", "umm", "hmm", "mm", "yeah", "yes", "ja", "okay", "ok", "oh", "like", "know",
    "mean", "kind", "sort", "really", "actually", "basically", "honestly", "just", "maybe",
    "think", "lot", "thing", "things", "say", "said", "thats", "dont", "im", "theyre", "laughs",
    "right", "well", "quite", "bit", "also", "something", "somebody", "guess", "pretty", "way",
    "people", "time", "good", "sure", "one", "two", "get", "got", "go", "going", "want",
    "would", "could", "much", "many", "every", "always", "still", "even", "need", "make",
    # fragments left by contractions (didn't -> didn)
    "didn", "doesn", "don", "isn", "wasn", "aren", "weren", "couldn", "wouldn", "shouldn",
    "haven", "hasn", "ve", "ll", "re", "youre", "thats", "theyre", "didnt", "dont",
}
MIN_THEME_WORDS = 12  # shorter segments ("Yes, go ahead.") are not clustered
FREQUENT_SHARE = 0.3  # words in more of all segments than this say nothing about one theme


@dataclass(frozen=True)
class Theme:
    key: str
    label: str
    keywords: tuple[str, ...]
    parent_code: str | None
    members: tuple[int, ...]  # positions in the segment list given to find_themes
    similarity: tuple[float, ...] = field(default=())  # each member's cosine to the centroid


def frequent_words(texts: list[str]) -> set[str]:
    """Words that occur in more than ``FREQUENT_SHARE`` of the texts (e.g. 'customer')."""
    from collections import Counter
    counts = Counter()
    for text in texts:
        counts.update(set(re.findall(r"[a-z][a-z\-]+", text.lower())))
    return {w for w, n in counts.items() if n > FREQUENT_SHARE * len(texts)} if texts else set()


def _vectorizer(extra_stop: set[str] = frozenset()):
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
    stop = sorted(ENGLISH_STOP_WORDS | FILLER | set(extra_stop))
    return CountVectorizer(stop_words=stop, ngram_range=(1, 2), min_df=1,
                           token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z\-]+\b")


def _choose_k(embeddings: np.ndarray, seed: int) -> int:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    n = len(embeddings)
    low = 2 if n < 30 else 3
    candidates = range(low, max(low, min(10, n // 10)) + 1)
    best_k, best = low, -1.0
    for k in candidates:
        labels = KMeans(n_clusters=k, random_state=seed, n_init=10).fit_predict(embeddings)
        if len(set(labels)) < 2:
            continue
        score = silhouette_score(embeddings, labels, metric="cosine")
        if score > best + 1e-9:
            best_k, best = k, score
    return best_k


def make_topic_model(n_docs: int, embeddings: np.ndarray, seed: int = 42,
                     stop_words: set[str] = frozenset()):
    """A BERTopic model whose components suit a corpus of ``n_docs`` segments."""
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer
    ctfidf = ClassTfidfTransformer(reduce_frequent_words=True)
    if n_docs < UMAP_MIN_SEGMENTS:
        from bertopic.dimensionality import BaseDimensionalityReduction
        from sklearn.cluster import KMeans
        k = _choose_k(embeddings, seed)
        return BERTopic(umap_model=BaseDimensionalityReduction(),
                        hdbscan_model=KMeans(n_clusters=k, random_state=seed, n_init=10),
                        vectorizer_model=_vectorizer(stop_words), ctfidf_model=ctfidf,
                        min_topic_size=2, top_n_words=10)
    from hdbscan import HDBSCAN
    from umap import UMAP
    size = max(5, n_docs // 60)
    return BERTopic(umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0,
                                    metric="cosine", random_state=seed),
                    hdbscan_model=HDBSCAN(min_cluster_size=size, min_samples=1,
                                          metric="euclidean", prediction_data=True),
                    vectorizer_model=_vectorizer(stop_words), ctfidf_model=ctfidf,
                    min_topic_size=size, top_n_words=10)


def cluster(texts: list[str], embeddings: np.ndarray, seed: int = 42, topic_model=None,
            stop_words: set[str] = frozenset()) -> tuple[list[int], dict[int, list[str]]]:
    """Cluster texts; returns a topic per text (-1 for outliers) and keywords per topic."""
    model = topic_model or make_topic_model(len(texts), embeddings, seed, stop_words)
    topics, _ = model.fit_transform(texts, embeddings=embeddings)
    topics = list(topics)
    if any(t == -1 for t in topics) and any(t != -1 for t in topics):
        topics = _reassign_outliers(topics, embeddings)
        model.update_topics(texts, topics=topics, vectorizer_model=_vectorizer(stop_words))
    keywords = {t: [w for w, _ in (model.get_topic(t) or []) if w] for t in set(topics) if t != -1}
    return topics, keywords


def _reassign_outliers(topics: list[int], embeddings: np.ndarray) -> list[int]:
    ids = sorted(t for t in set(topics) if t != -1)
    centroids = np.vstack([embeddings[[i for i, t in enumerate(topics) if t == k]].mean(axis=0)
                           for k in ids])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    out = list(topics)
    for i, t in enumerate(topics):
        if t == -1:
            sims = centroids @ embeddings[i]
            if sims.max() >= OUTLIER_MIN_SIMILARITY:
                out[i] = ids[int(sims.argmax())]
    return out


def label_from_keywords(keywords: list[str], n: int = 3) -> str:
    """A readable label: the best phrases, skipping words already inside a chosen phrase."""
    chosen: list[str] = []
    for word in keywords:
        if any(word in c.split() or c in word.split() for c in chosen):
            continue
        if any(set(word.split()) & set(c.split()) for c in chosen):
            continue
        chosen.append(word)
        if len(chosen) == n:
            break
    label = ", ".join(chosen)
    return label[:1].upper() + label[1:] if label else "Unlabelled"


def _themes_from_clusters(prefix: str, parent: str | None, topics: list[int],
                          keywords: dict[int, list[str]], positions: list[int],
                          embeddings: np.ndarray) -> list[Theme]:
    groups: dict[int, list[int]] = {}
    for local, topic in enumerate(topics):
        if topic != -1:
            groups.setdefault(topic, []).append(local)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), positions[kv[1][0]]))
    themes = []
    for n, (topic, members) in enumerate(ordered, start=1):
        centroid = embeddings[members].mean(axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        sims = embeddings[members] @ centroid
        kws = keywords.get(topic, [])
        themes.append(Theme(key=f"{prefix}-{n}", label=label_from_keywords(kws),
                            keywords=tuple(kws[:8]), parent_code=parent,
                            members=tuple(positions[m] for m in members),
                            similarity=tuple(round(float(s), 4) for s in sims)))
    return themes


def find_themes(texts: list[str], embeddings: np.ndarray, code_sets: list[set[str]],
                codebook, min_segments: int = 12, seed: int = 42, progress=None) -> list[Theme]:
    """Sub-themes per top-level code and emergent themes among uncoded segments.

    Args:
        texts: segment texts.
        embeddings: one normalised row per text.
        code_sets: per segment, the codes applied to it (any coder).
        codebook: the :class:`~qualcx.codebook.Codebook`.
        min_segments: a group with fewer segments is not split into themes.
    """
    groups: list[tuple[str, str | None, list[int]]] = []
    roots = [{codebook.root(c) for c in codes if c in codebook.codes} for codes in code_sets]
    long_enough = [len(t.split()) >= MIN_THEME_WORDS for t in texts]
    for code in codebook.top_level:
        positions = [i for i, r in enumerate(roots) if code.id in r and long_enough[i]]
        groups.append((_slug(code.id), code.id, positions))
    groups.append(("emergent", None, [i for i, codes in enumerate(code_sets)
                                      if not codes and long_enough[i]]))
    stop_words = frequent_words(texts)
    themes: list[Theme] = []
    for prefix, parent, positions in groups:
        if len(positions) >= min_segments:
            sub_texts = [texts[i] for i in positions]
            topics, keywords = cluster(sub_texts, embeddings[positions], seed,
                                       stop_words=stop_words)
            themes += _themes_from_clusters(prefix, parent, topics, keywords, positions,
                                            embeddings[positions])
        if progress:
            progress(1)
    return themes


def _slug(code_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", code_id)


def themes_project(project, embedder, progress=None) -> list[Theme]:
    """Find themes over the project's respondent segments and store them (replacing old ones)."""
    store = project.store
    segments = store.respondent_segments()
    texts = [s["text"] for s in segments]
    codes: dict[int, set[str]] = {}
    for row in store.codings():
        codes.setdefault(row["segment_id"], set()).add(row["code"])
    code_sets = [codes.get(s["id"], set()) for s in segments]
    embeddings = embedder.encode(texts) if texts else np.zeros((0, 1))
    settings = project.settings
    themes = find_themes(texts, embeddings, code_sets, project.codebook,
                         settings["min_theme_segments"], settings["seed"], progress)
    with store.transaction() as db:
        db.execute("DELETE FROM themes")
        for ordinal, theme in enumerate(themes):
            cur = db.execute("INSERT INTO themes (key, label, keywords, parent_code, ordinal) "
                             "VALUES (?, ?, ?, ?, ?)",
                             (theme.key, theme.label, json.dumps(list(theme.keywords)),
                              theme.parent_code, ordinal))
            db.executemany("INSERT INTO theme_segments VALUES (?, ?, ?)",
                           [(cur.lastrowid, segments[m]["id"], s)
                            for m, s in zip(theme.members, theme.similarity)])
    return themes

"""Themes on 10,000 segments, after embeddings exist.

Usage: .venv/bin/python benchmarks/themes.py [--project .] [--segments 10000] [--repeat 2]

Reads the project's respondent segments, their codes and their cached embeddings (run
``qualcx run`` on the project first), then repeats them until there are ``--segments`` of
them: each copy counts as new interviews, and its embeddings get a little noise so that no
two vectors are equal. Times the bertopic import, the first :func:`find_themes` in the process
(which pays the numba compilation of UMAP and HDBSCAN) and the following ones (median).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's qualcx


def synthetic(project, n_segments: int, seed: int = 0):
    from qualcx.nlp import Embedder
    store = project.store
    segments = store.respondent_segments()
    texts = [s["text"] for s in segments]
    embedder = Embedder(project.settings["embedding_model"], store)
    base = embedder.encode(texts)  # from the cache; the model is loaded only if text is missing
    codes: dict[int, set[str]] = {}
    for row in store.codings():
        codes.setdefault(row["segment_id"], set()).add(row["code"])
    base_codes = [codes.get(s["id"], set()) for s in segments]
    follow = store.follow_ups()
    base_prompts = [follow.get(s["turn_id"], "") for s in segments]
    rng = np.random.default_rng(seed)
    copies = -(-n_segments // len(texts))
    all_texts, all_codes, interviews, rows, prompts = [], [], [], [], []
    for c in range(copies):
        noisy = base + rng.normal(0, 0.05, base.shape).astype(np.float32)
        rows.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
        all_texts += texts
        all_codes += base_codes
        prompts += base_prompts
        interviews += [f"{s['interview_id']}-{c}" for s in segments]
    emb = np.vstack(rows)[:n_segments]
    return (all_texts[:n_segments], emb, all_codes[:n_segments], interviews[:n_segments],
            prompts[:n_segments])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default=".")
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    from qualcx.nlp import load_spacy
    from qualcx.project import Project
    project = Project(Path(args.project))
    texts, emb, codes, interviews, prompts = synthetic(project, args.segments)
    nlp = load_spacy(project.settings["spacy_model"], "lemmas")
    from qualcx.nlp import Embedder
    # label phrases are embedded too (cached in the store after the first run)
    embedder = Embedder(project.settings["embedding_model"], project.store)
    start = time.perf_counter()
    import bertopic  # noqa: F401
    from qualcx.themes import find_themes
    print(f"import bertopic: {time.perf_counter() - start:.1f} s")
    times = []
    for run in range(args.repeat + 1):
        start = time.perf_counter()
        result = find_themes(texts, emb, codes, project.codebook,
                             project.settings["min_theme_segments"], project.settings["seed"],
                             interviews=interviews, nlp=nlp, embed=embedder.encode,
                             prompts=prompts)
        times.append(time.perf_counter() - start)
        what = "first fit in process (numba compilation)" if run == 0 else f"run {run}"
        print(f"{len(texts)} segments, {len(result.themes)} themes, "
              f"{len(result.small_talk)} small-talk: {what}: {times[-1]:.1f} s")
    if args.repeat:
        print(f"median after the first: {statistics.median(times[1:]):.1f} s")
    for theme in result.themes:
        print(f"  {theme.key:12s} {len(theme.members):5d}  {theme.label}")


if __name__ == "__main__":
    main()

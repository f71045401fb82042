"""How well theme labels name what researchers named: the SERDIF study's codes as themes.

Usage: .venv/bin/python benchmarks/labels.py [--data ../shared/data/serdif-usability]
                                             [--workdir DIR] [--min-segments 10]

The researchers' highlights of the SERDIF think-aloud study are imported as human codes;
the participant segments of each code then form one "theme" (a segment coded twice belongs
to both), and qualcx labels every theme the way ``qualcx themes`` does (noun-phrase
candidates, coverage, lift over the other themes and over the corpus, interviewee spread,
centrality). The label is compared with the code's own name, which the researchers wrote:

- label hit: the label shares a content word with the code name (singular forms; evaluative
  words such as "clear", "complex", "useful" and "not" do not count);
- keyword hit: one of the first three keywords does;
- cosine: the label's embedding against the code name's (MiniLM).

Codes named only by a verdict ("Positive comment", "Wording not clear") cannot be hit by a
noun phrase of the talk and keep the hit rates below 100%; the figures are for comparing
labelling methods on the same data. ``--workdir`` keeps the ingested project (and its
embedding cache) between runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from serdif import DEFAULT_DATA, open_project  # noqa: E402

EVALUATIVE = {"clear", "complex", "useful", "not", "simple", "concept", "design", "and", "or",
              "confusing", "overall", "positive", "experience", "additional", "process", "of",
              "the", "a", "to", "in", "content"}


def words(text: str) -> set[str]:
    from qualcx.themes import _singular
    return {_singular(w) for w in text.lower().replace("(", " ").replace(")", " ").split()
            if w not in EVALUATIVE}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--min-segments", type=int, default=10)
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    from qualcx.nlp import Embedder, load_spacy
    from qualcx.themes import PhraseRepresentation, frequent_words, label_from_keywords, spoken
    import pandas as pd

    project, tmp, took = open_project(args.data, args.workdir, "qualcx-labels-")
    if took is not None:
        print(f"ingested and imported in {took:.1f} s")
    store = project.store
    segments = store.respondent_segments()
    position = {s["id"]: i for i, s in enumerate(segments)}
    texts = [spoken(s["text"]) for s in segments]  # as qualcx themes reads them
    names = {c.id: c.name for c in project.codebook.codes.values()}
    members: dict[str, list[int]] = {}
    for row in store.codings():
        if not row["is_machine"] and row["segment_id"] in position:
            members.setdefault(row["code"], []).append(position[row["segment_id"]])
    codes = sorted(c for c, m in members.items() if len(set(m)) >= args.min_segments)
    embedder = Embedder(project.settings["embedding_model"], store)
    start = time.perf_counter()
    embeddings = embedder.encode(texts)
    print(f"{len(texts)} segments embedded (or read from the cache) in "
          f"{time.perf_counter() - start:.1f} s; {len(codes)} codes with at least "
          f"{args.min_segments} segments")

    docs, topics, interviews, rows = [], [], [], []
    for t, code in enumerate(codes):
        for m in sorted(set(members[code])):
            docs.append(texts[m])
            topics.append(t)
            interviews.append(segments[m]["interview_id"])
            rows.append(m)
    nlp = load_spacy(project.settings["spacy_model"], "lemmas")
    rep = PhraseRepresentation(nlp, frequent_words(texts), background=texts,
                               interviews=interviews, embed=embedder.encode,
                               embeddings=embeddings[rows])
    documents = pd.DataFrame({"Document": docs, "Topic": topics})
    start = time.perf_counter()
    keywords = rep.extract_topics(None, documents, None, {})
    elapsed = time.perf_counter() - start

    label_hits = keyword_hits = 0
    cosines = []
    print(f"\n{'code':42} {'n':>4}  {'label':32} hit  keywords")
    for t, code in enumerate(codes):
        kws = [k for k, _ in keywords.get(t, [])]
        label = label_from_keywords(kws, scores=[v for _, v in keywords.get(t, [])])
        target = words(names[code])
        hit = bool(words(label) & target)
        kw_hit = any(words(k) & target for k in kws[:3])
        label_hits += hit
        keyword_hits += kw_hit
        vec = embedder.encode([label, names[code]])
        cosines.append(float(vec[0] @ vec[1]))
        print(f"{names[code][:42]:42} {len(set(members[code])):4d}  {label[:32]:32} "
              f"{'yes' if hit else ' - '}  {', '.join(kws[:4])}")
    n = len(codes)
    print(f"\nlabel hit {label_hits}/{n} ({label_hits / n:.0%}), keyword hit (top 3) "
          f"{keyword_hits}/{n} ({keyword_hits / n:.0%}), label-name cosine median "
          f"{statistics.median(cosines):.3f} (mean {np.mean(cosines):.3f}); labelling took "
          f"{elapsed:.1f} s")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()

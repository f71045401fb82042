"""Cost of coding against the cost of embedding the same segments.

Usage: .venv/bin/python benchmarks/coding.py [--segments 10000] [--project .]

Builds a temporary project of about ``--segments`` respondent segments, recombining the
demo project's respondent sentences (deterministically) into new interviews so that every
segment is a new text, with the demo project's codebook (keywords, examples, hierarchy).
Then times, each from a cold embedding cache:

* embedding: the segment texts encoded by the sentence model alone;
* coding: ``qualcx code`` (embedding through the cache, keyword matching on lemmas,
  scoring, decisions, evidence, writing), and a breakdown of its parts;

and prints the ratio coding / embedding. The issue's target is at most about 1.2.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qualcx import pipeline  # noqa: E402
from qualcx.code import KeywordMatcher, score_project  # noqa: E402
from qualcx.nlp import Embedder, load_sentence_model, load_spacy  # noqa: E402
from qualcx.project import Project  # noqa: E402


def sentences(project: Project) -> list[str]:
    out = []
    for row in project.store.db.execute("SELECT text FROM segments"):
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", row[0]) if len(s.split()) >= 4]
    return out


def build(source: Path, root: Path, n_segments: int) -> Project:
    seed = root / "seed"
    for sub in ("interviews", "codebook"):
        shutil.copytree(source / sub, seed / sub)
    first = Project(seed)
    pipeline.ingest(first)
    pool = sentences(first)
    questions = [r[0] for r in first.store.db.execute(
        "SELECT text FROM turns WHERE role = 'interviewer'")]
    first.close()
    rng = random.Random(7)
    big = root / "big"
    shutil.copytree(source / "codebook", big / "codebook")
    (big / "interviews").mkdir(parents=True)
    (big / "reports").mkdir()
    (big / "qualcx.toml").write_text('segment_unit = "turn"\n', encoding="utf-8")
    per_interview = 100
    for k in range((n_segments + per_interview - 1) // per_interview):
        lines = []
        for t in range(per_interview):
            lines.append(f"Interviewer: {questions[t % len(questions)]}\n")
            lines.append("Respondent: " + " ".join(rng.sample(pool, 2)) + f" (case {k}.{t})\n")
        (big / "interviews" / f"i{k:04d}.txt").write_text("\n".join(lines), encoding="utf-8")
    project = Project(big)
    pipeline.ingest(project)
    return project


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=10000)
    parser.add_argument("--project", type=Path, default=ROOT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = build(args.project, Path(tmp), args.segments)
        s = project.settings
        model = load_sentence_model(s["embedding_model"])
        nlp = load_spacy(s["spacy_model"], "lemmas")
        texts = [r["text"] for r in project.store.respondent_segments()]
        model.encode(texts[:64], batch_size=int(s["batch_size"]))  # warm up

        def embed_alone() -> float:
            start = time.perf_counter()
            Embedder(s["embedding_model"], None, model=model,
                     batch_size=int(s["batch_size"])).encode(texts)
            return time.perf_counter() - start
        # The machine is shared: embed before and after coding and take the mean.
        before = embed_alone()
        start = time.perf_counter()
        result = pipeline.code(project)
        code = time.perf_counter() - start
        embed = (before + embed_alone()) / 2
        start = time.perf_counter()
        KeywordMatcher(project.codebook, nlp).find_spans(texts)
        keywords = time.perf_counter() - start
        start = time.perf_counter()
        emb = Embedder(s["embedding_model"], project.store, batch_size=int(s["batch_size"]))
        score_project(project, emb, nlp)
        cached = time.perf_counter() - start
        print(f"segments: {len(texts)}; codings: {result['codings']}")
        print(f"embedding alone (mean of 2): {embed:7.1f} s")
        print(f"qualcx code (cold cache):    {code:7.1f} s")
        print(f"  keyword matching:          {keywords:7.1f} s")
        print(f"  everything but embedding:  {cached:7.1f} s  (a second pass, vectors cached)")
        print(f"ratio code / embedding:      {code / embed:7.2f}")
        project.close()


if __name__ == "__main__":
    main()

"""Ingest throughput (words per second) per stage on a generated corpus.

Usage: .venv/bin/python benchmarks/ingest.py [--interviews 200] [--words 9000]
       [--sample 10] [--guide]

Writes a corpus of one-hour interviews (about 9,000 words each, Interviewer/Respondent
labels, seeded so every run sees the same text) into a temporary project, then times:

- read + speaker turns (every file, ``parse_file``)
- sentence segmentation with each ``sentence_splitter`` (sentencizer on every file; senter and
  parser on ``--sample`` files, their rate extrapolated)
- the whole ``qualcx ingest`` into a fresh store with the default settings (no codebook guide
  unless ``--guide``; guide linking embeds every interviewer turn with MiniLM)
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

from qualcx.project import Project, init_project
from qualcx.transcribe import ingest, parse_file, segment_turns, sentence_pipeline

WORDS = ("customer support price contract team product billing report meter data energy "
         "renewal call ticket account invoice manager month year week service system portal "
         "feature problem answer question reason change quality time cost partner market "
         "utility network outage install upgrade training document process update").split()
VERBS = "is was seems took made helps needs gets sends calls asks breaks works fixes".split()
OPENERS = ["I think", "Well,", "Honestly,", "So", "Mostly", "In our case", "Yeah,", "Sometimes"]


def sentence(rng: random.Random) -> str:
    n = rng.randint(6, 22)
    words = [rng.choice(WORDS) if i % 3 else rng.choice(VERBS) for i in range(n)]
    return f"{rng.choice(OPENERS)} the {' '.join(words)}{rng.choice('...?!')}"


def interview(rng: random.Random, words: int) -> str:
    out, count = [], 0
    while count < words:
        question = f"Interviewer: Could you tell me about the {rng.choice(WORDS)} and the " \
                   f"{rng.choice(WORDS)}?"
        answer = " ".join(sentence(rng) for _ in range(rng.randint(6, 14)))
        if rng.random() < 0.3:  # a multi-line answer
            cut = answer.find(". ", len(answer) // 2)
            answer = answer[:cut + 1] + "\n" + answer[cut + 2:] if cut > 0 else answer
        out.append(f"{question}\n\nRespondent: {answer}\n")
        count += len(question.split()) + len(answer.split())
    return "\n".join(out)


def build(root: Path, n: int, words: int, guide: bool) -> None:
    init_project(root)
    if not guide:
        text = (root / "codebook" / "cx.yaml").read_text()
        start = text.index("guide:")
        end = text.index("\ncodes:", start)
        (root / "codebook" / "cx.yaml").write_text(text[:start] + text[end + 1:])
    rng = random.Random(42)
    for i in range(n):
        (root / "interviews" / f"I{i:03d}.txt").write_text(interview(rng, words))


def rate(words: int, seconds: float) -> str:
    return f"{seconds:7.2f} s  {words / seconds:>12,.0f} words/s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interviews", type=int, default=200)
    parser.add_argument("--words", type=int, default=9000)
    parser.add_argument("--sample", type=int, default=10,
                        help="interviews for the slower splitters (senter, parser)")
    parser.add_argument("--guide", action="store_true", help="keep the codebook's guide")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    try:
        root = tmp / "project"
        build(root, args.interviews, args.words, args.guide)
        project = Project(root)
        settings = project.settings
        folder = project.interviews_dir
        files = sorted(folder.glob("*.txt"))
        start = time.perf_counter()
        parsed = [t for f in files for t in parse_file(f, folder, {}, settings)]
        read_s = time.perf_counter() - start
        words = sum(len(t.text.split()) for t in parsed)
        resp = [t for t in parsed]
        print(f"corpus: {len(files)} interviews, {words:,} words, "
              f"{sum(len(t.turns) for t in parsed):,} turns")
        print(f"{'read + speaker turns':>34}: {rate(words, read_s)}")
        for splitter in ("sentencizer", "senter", "parser"):
            nlp = sentence_pipeline(settings["spacy_model"], splitter)
            subset = resp if splitter == "sentencizer" else resp[:args.sample]
            sub_words = sum(t.respondent_words for t in subset)
            start = time.perf_counter()
            n = sum(len(segment_turns(t.turns, nlp, "chunk", 80)) for t in subset)
            seconds = time.perf_counter() - start
            print(f"{'segmentation, ' + splitter:>34}: {rate(sub_words, seconds)}  "
                  f"({len(subset)} interviews, {n:,} segments)")
        sentence_pipeline(settings["spacy_model"], settings["sentence_splitter"])  # warm
        start = time.perf_counter()
        result = ingest(project)
        seconds = time.perf_counter() - start
        assert not result.errors, result.errors
        print(f"{'whole ingest (default settings)':>34}: {rate(words, seconds)}")
        project.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

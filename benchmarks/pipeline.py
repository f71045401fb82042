"""Stage timings and throughput of the whole pipeline on the demo project.

Usage: .venv/bin/python benchmarks/pipeline.py [--repeat 3] [--project .]

Each repetition copies the project's interviews/ and codebook/ into a fresh temporary
project (so no cached embeddings), then times ingest, code, themes and report, and a
second, cached code pass. Prints the median of each.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from qualcx import pipeline
from qualcx.nlp import load_sentence_model, load_spacy
from qualcx.project import Project


def one_run(source: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        for sub in ("interviews", "codebook"):
            shutil.copytree(source / sub, root / sub)
        if (source / "qualcx.toml").exists():
            shutil.copy(source / "qualcx.toml", root / "qualcx.toml")
        project = Project(root)
        times = {}
        for stage, call in (("ingest", pipeline.ingest), ("code", pipeline.code),
                            ("themes", pipeline.themes), ("report", pipeline.report),
                            ("code (cached embeddings)", pipeline.code)):
            start = time.perf_counter()
            call(project)
            times[stage] = time.perf_counter() - start
        db = project.store.db
        times["_segments"] = db.execute("SELECT COUNT(*) FROM segments").fetchone()[0]
        times["_words"] = sum(len(r[0].split()) for r in db.execute(
            "SELECT text FROM turns WHERE role = 'respondent'"))
        project.close()
        return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--project", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    start = time.perf_counter()
    project = Project(args.project)
    load_spacy(project.settings["spacy_model"], "sentences")
    load_spacy(project.settings["spacy_model"], "lemmas")
    load_sentence_model(project.settings["embedding_model"])
    print(f"model loading (once per process): {time.perf_counter() - start:.1f} s")
    runs = [one_run(args.project) for _ in range(args.repeat)]
    segments, words = runs[0]["_segments"], runs[0]["_words"]
    print(f"corpus: {segments} segments, {words} respondent words; median of {args.repeat} runs")
    for stage in [k for k in runs[0] if not k.startswith("_")]:
        median = statistics.median(r[stage] for r in runs)
        extra = ""
        if stage == "ingest":
            extra = f"  ({words / median:,.0f} words/s)"
        elif stage.startswith("code"):
            extra = f"  ({segments / median:,.0f} segments/s)"
        print(f"{stage:>26}: {median:6.2f} s{extra}")


if __name__ == "__main__":
    main()

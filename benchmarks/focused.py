"""The zero-shot coder in a study focused on one topic, simulated from a project's human codes.

Usage: .venv/bin/python benchmarks/focused.py --project DIR [--coder NAME] [--share 0.4]

In a study where every interview is about churn, a code like churn applies to 30-50% of the
segments. The datasets at hand are not like that (no code reaches 25%), so for each code
this keeps every segment a person coded with it and just enough of the others (evenly spread
over the project) that the code applies to ``--share`` of them, calibrates the codebook's
evidence on that corpus alone, and prints the code's machine share, recall, precision and
kappa: with the calibration of :func:`qualcx.code.calibrate` (each code's spread measured on
the half of the segments least like it) and, for comparison, with each code's mean and
standard deviation over all segments. Only segments a person coded count (as in
``qualcx agree``); a child code implies its parent on both sides.

DIR is a project with human codes whose embeddings are cached, e.g. the SERDIF project
(``benchmarks/serdif.py --keep DIR``) or a copy of the demo project after ``qualcx
import-codes codebook/human-codes.csv`` and ``qualcx code``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's qualcx

from qualcx.agree import table_figures  # noqa: E402
from qualcx.code import calibrate, decide, human_labels, score_project  # noqa: E402
from qualcx.coder import evidence as ev  # noqa: E402
from qualcx.nlp import Embedder, load_spacy  # noqa: E402
from qualcx.project import Project  # noqa: E402


def over_all_segments(evidence: np.ndarray) -> np.ndarray:
    """Zero-shot scores with each code's mean and standard deviation over every segment (the
    calibration before the lower half), shrunk toward the pooled ones like ``calibrate``'s."""
    n, prior = len(evidence), ev.PRIOR_SEGMENTS
    mean = (n * evidence.mean(axis=0) + prior * evidence.mean()) / (n + prior)
    var = (n * evidence.var(axis=0) + prior * evidence.var()) / (n + prior)
    z = (evidence - mean) / np.maximum(np.sqrt(var), ev.MIN_SPREAD)
    gap = (evidence - evidence.max(axis=1, keepdims=True)) / max(evidence.std(), ev.MIN_SPREAD)
    return 1 / (1 + np.exp(-(ev.Z_SLOPE * (z - ev.Z_CENTRE) + ev.GAP_SLOPE * gap)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--coder", default=None, help="whose codes are the truth (default: all)")
    parser.add_argument("--share", type=float, default=0.4)
    args = parser.parse_args()
    project = Project(args.project)
    s, codebook = project.settings, project.codebook
    embedder = Embedder(s["embedding_model"], project.store, batch_size=int(s["batch_size"]))
    scored = score_project(project, embedder, load_spacy(s["spacy_model"], "lemmas"), learn=False)
    ids = scored.code_ids
    others = tuple(r[0] for r in project.store.db.execute(
        "SELECT DISTINCT coder FROM codings WHERE is_machine = 0")
        if args.coder is not None and r[0] != args.coder)
    labels = human_labels(project.store, scored.segments, codebook, ids, others)
    coded = labels.known.all(axis=1)
    evidence, truth = scored.parts["evidence"][labels.index[coded]], labels.y[coded]
    family = [[ids.index(d) for d in codebook.descendants(c)] for c in ids]
    decide_args = (ids, codebook, s["thresholds"], s["threshold"], int(s["max_codes_per_segment"]))

    def applied(scores):
        out = np.zeros(scores.shape, dtype=bool)
        for r, cols in enumerate(decide(scores, *decide_args)):
            out[r, cols] = True
        return np.column_stack([out[:, f].any(axis=1) for f in family])

    print(f"each code applying to {args.share:.0%} of its corpus: machine share, recall, "
          f"precision, kappa")
    print(f"{'code':40} {'n':>5}  {'half least like it':>26}  {'all segments':>26}")
    found = {"half": [], "all": []}
    for j, code in enumerate(ids):
        pos, neg = np.flatnonzero(truth[:, j]), np.flatnonzero(~truth[:, j])
        if len(pos) < 10:
            continue
        k = min(len(neg), int(len(pos) * (1 - args.share) / args.share))
        rows = np.sort(np.concatenate([pos, neg[np.linspace(0, len(neg) - 1, k).astype(int)]]))
        line = f"{code[:40]:40} {len(rows):5d}"
        for name, scores in (("half", calibrate(evidence[rows])[0]),
                             ("all", over_all_segments(evidence[rows]))):
            a, b = truth[rows, j], applied(scores)[:, j]
            f = table_figures(code, int((a & b).sum()), int((a & ~b).sum()),
                              int((~a & b).sum()), int((~a & ~b).sum()))
            found[name].append((f.recall, f.kappa or 0))
            line += (f"  {b.mean():5.2f} {f.recall:5.2f} {f.precision or 0:5.2f} "
                     f"{f.kappa or 0:6.3f}")
        print(line)
    for name, label in (("half", "half least like each code"), ("all", "all segments")):
        recall, kappa = np.mean(found[name], axis=0)
        print(f"mean recall {recall:.2f}, mean kappa {kappa:.3f} ({label})")
    project.close()


if __name__ == "__main__":
    main()

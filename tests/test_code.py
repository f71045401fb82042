import json

import numpy as np
import pytest

from qualcx.code import (Prototype, build_prototypes, code_project, decide, score_segments)
from qualcx.codebook import parse_codebook
from qualcx.nlp import Embedder
from qualcx.project import Project
from qualcx.transcribe import ingest

from conftest import MINI_CODEBOOK

CB = parse_codebook(MINI_CODEBOOK)
IDS = list(CB.codes)


def _score(embedder, segments, contexts=None, hits=None, context_weight=0.0, keyword_weight=0.08):
    protos = build_prototypes(CB)
    seg = embedder.encode(segments)
    ctx = embedder.encode(contexts) if contexts else np.zeros_like(seg)
    scores, _ = score_segments(seg, ctx, embedder.encode([p.text for p in protos]), protos, IDS,
                               hits or [{} for _ in segments], context_weight, keyword_weight)
    return scores


def test_semantic_evidence_moves_the_score(hash_embedder):
    scores = _score(hash_embedder, ["The support team answered my ticket within two hours.",
                                    "We had lunch near the lake yesterday."])
    col = IDS.index("support")
    assert scores[0, col] > scores[1, col] + 0.2


def test_lexical_evidence_moves_the_score(hash_embedder):
    text = ["Honestly it was a hard year for several of them."]
    without = _score(hash_embedder, text)
    with_kw = _score(hash_embedder, text, hits=[{"churn": ["leave"]}])
    col = IDS.index("churn")
    assert with_kw[0, col] > without[0, col]
    others = [j for j in range(len(IDS)) if j != col]
    assert np.allclose(with_kw[0, others], without[0, others], atol=0.5)


def test_context_changes_the_code(hash_embedder):
    answer = ["Honestly that is the biggest reason, for the small ones."]
    question = ["Why do customers cancel or leave at renewal, is the price a reason?"]
    alone = _score(hash_embedder, answer, context_weight=0.0)
    in_context = _score(hash_embedder, answer, contexts=question, context_weight=0.5)
    col = IDS.index("churn.price")
    assert in_context[0, col] > alone[0, col] + 0.1


def test_children_imply_parents_and_parent_alone_when_no_child_fits():
    scores = np.array([[0.9, 0.8, 0.1],    # churn and churn.price -> child only
                       [0.7, 0.2, 0.1],    # parent alone
                       [0.1, 0.1, 0.2]])   # nothing
    chosen = decide(scores, IDS, CB, {}, 0.5)
    assert [[IDS[j] for j in row] for row in chosen] == [["churn.price"], ["churn"], []]
    assert decide(scores, IDS, CB, {"churn.price": 0.85}, 0.5)[0] == [IDS.index("churn")]


def test_prototypes_include_children_examples_for_the_parent():
    protos = build_prototypes(CB)
    parent_texts = {p.text for p in protos if p.code == "churn"}
    assert "The price increase made them cancel." in parent_texts
    assert all(isinstance(p, Prototype) for p in protos)


TRANSCRIPT = """\
Interviewer: Why do customers leave?

Rita: The price increase made many small customers cancel their contract.

Interviewer: And support?

Rita: The support team answers every ticket within two hours, that is our promise.
"""


def test_machine_rerun_keeps_human_codes_and_stores_evidence(make_project, hash_embedder,
                                                               blank_nlp):
    project = Project(make_project({"a.txt": TRANSCRIPT}))
    ingest(project, nlp=blank_nlp)
    seg = project.store.db.execute("SELECT * FROM segments ORDER BY idx").fetchone()
    with project.store.transaction() as db:
        db.execute('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                   "coder, is_machine, created_at) VALUES (?, 'a', ?, ?, ?, 'support', 'Ana', 0, "
                   "'now')", (seg["id"], seg["start"], seg["end"], seg["text"]))
    embedder = Embedder("hash", project.store, model=hash_embedder)
    for _ in range(2):
        summary = code_project(project, embedder, blank_nlp)
    rows = project.store.db.execute("SELECT * FROM codings ORDER BY id").fetchall()
    assert [(r["code"], r["coder"]) for r in rows if not r["is_machine"]] == [("support", "Ana")]
    machine = [r for r in rows if r["is_machine"]]
    assert len(machine) == summary["codings"] > 0
    ev = json.loads(machine[0]["evidence"])
    assert {"score", "semantic", "nearest", "keywords", "context"} <= ev.keys()
    assert ev["context"]["question"] in ("Why do customers leave?", "And support?")


def test_embeddings_are_cached(make_project, hash_embedder, blank_nlp):
    project = Project(make_project({"a.txt": TRANSCRIPT}))
    ingest(project, nlp=blank_nlp)
    embedder = Embedder("hash", project.store, model=hash_embedder)
    first = embedder.encode(["one text", "two text"])
    calls = hash_embedder.calls
    again = embedder.encode(["two text", "one text"])
    assert hash_embedder.calls == calls
    assert np.allclose(first[::-1], again)

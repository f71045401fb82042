import json

import numpy as np
import pytest

import qualcx.code as code_module
from qualcx.code import (Labels, Prototype, ancestor_columns, build_prototypes, calibrate,
                         code_project, cross_validate, decide, learned_scores, near_misses,
                         rival_codes, score_segments)
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


def test_keywords_match_lemmas_but_not_inside_hyphenated_words(real_nlp_full):
    from qualcx.coder.evidence import KeywordMatcher
    codebook = parse_codebook(MINI_CODEBOOK)
    matcher = KeywordMatcher(codebook, real_nlp_full)
    found = matcher.find(["They cancelled because it was too expensive.",
                          "Our ticket-free week was calm.", "We answer every ticket."])
    assert found[0]["churn"] == ["cancelled"] and found[0]["churn.price"] == ["expensive"]
    assert "support" not in found[1]             # 'ticket' only inside 'ticket-free'
    assert found[2]["support"] == ["ticket"]
    spans = matcher.find_spans(["They cancelled, and cancelled again."])[0]["churn"]
    assert spans == [{"word": "cancelled", "keyword": "cancel", "start": 5, "end": 14},
                     {"word": "cancelled", "keyword": "cancel", "start": 20, "end": 29}]


def test_context_changes_the_code(hash_embedder):
    answer = ["Honestly that is the biggest reason, for the small ones."]
    question = ["Why do customers cancel or leave at renewal, is the price a reason?"]
    alone = _score(hash_embedder, answer, context_weight=0.0)
    in_context = _score(hash_embedder, answer, contexts=question, context_weight=0.5)
    col = IDS.index("churn.price")
    assert in_context[0, col] > alone[0, col] + 0.1


def _normal(n, mean, sd):
    from statistics import NormalDist
    return [NormalDist(mean, sd).inv_cdf((k + 0.5) / n) for k in range(n)]


def test_a_code_common_in_the_corpus_still_stands_out():
    """30 of 100 segments are about the first code, 3 to 10 spreads above the other 70. Their
    own strength inflated the mean and spread over all segments (the weakest of them would
    sit 0.3 standard deviations up); the segments least like the code are not moved by it."""
    common = np.array(_normal(70, 0.20, 0.02) + list(np.linspace(0.26, 0.40, 30)))
    rare = np.array(_normal(100, 0.10, 0.02))
    scores, z, gap = calibrate(np.column_stack([common, rare]), prior_segments=0)
    assert (gap[70:, 0] == 0).all()
    assert (common[70] - common.mean()) / common.std() < 0.5  # the measure over all segments
    assert z[70:, 0].min() > 1.5 and scores[70:, 0].min() > 0.7
    assert (z[:70, 0] < 2).all()
    # A code without such a group is measured as before: standard deviations above its mean.
    assert np.allclose(z[:, 1], (rare - rare.mean()) / rare.std(), atol=0.05)


def test_a_child_is_not_measured_against_its_parent():
    """A segment about price-driven churn: the parent (which owns the child's examples) is a
    little stronger than the child, support far behind. The child refines its parent, so its
    gap is measured from support, its strongest rival, and it is not held back."""
    rivals = rival_codes(CB, IDS)
    churn, price, support = (IDS.index(c) for c in ("churn", "churn.price", "support"))
    assert not rivals[price, churn] and not rivals[churn, price]
    assert rivals[price, support] and rivals[support, churn] and not rivals.diagonal().any()
    rng = np.random.default_rng(0)
    evidence = rng.normal(0.2, 0.03, (60, 3))
    evidence[0] = [0.31, 0.25, 0.20]
    with_kin, _, gap = calibrate(evidence, rivals=rivals)
    assert gap[0, price] == 0 and gap[0, churn] == 0 and gap[0, support] < -2
    flat, _, flat_gap = calibrate(evidence)  # every other code a rival, as in a flat codebook
    assert flat_gap[0, price] < -1 and flat[0, price] < 0.5 < with_kin[0, price]
    pooled = evidence.std()
    assert np.allclose(flat_gap, (evidence - evidence.max(axis=1, keepdims=True)) / pooled)


def test_the_evidence_names_the_rival_the_gap_was_measured_from(hash_embedder):
    protos = build_prototypes(CB)
    seg = hash_embedder.encode(["The price increase made them cancel."])
    _, parts = score_segments(seg, np.zeros_like(seg),
                              hash_embedder.encode([p.text for p in protos]), protos, IDS,
                              [{}], 0.0, 0.08, rival_codes(CB, IDS))
    strongest = {c: parts["strongest"][0, j] for j, c in enumerate(IDS)}
    assert strongest["churn"] == strongest["churn.price"] == "support"
    assert strongest["support"] in {"churn", "churn.price"}
    lone = parse_codebook(MINI_CODEBOOK.split("  - id: support")[0].replace(
        "    codes: [support]", "    codes: [churn]"))
    _, parts = score_segments(seg, np.zeros_like(seg), hash_embedder.encode(
        [p.text for p in build_prototypes(lone)]), build_prototypes(lone), list(lone.codes),
        [{}], 0.0, 0.08, rival_codes(lone, list(lone.codes)))
    assert parts["strongest"][0].tolist() == [None, None] and not parts["gap"].any()


def test_children_imply_parents_and_parent_alone_when_no_child_fits():
    scores = np.array([[0.9, 0.8, 0.1],    # churn and churn.price -> child only
                       [0.7, 0.2, 0.1],    # parent alone
                       [0.1, 0.1, 0.2]])   # nothing
    chosen = decide(scores, IDS, CB, {}, 0.5)
    assert [[IDS[j] for j in row] for row in chosen] == [["churn.price"], ["churn"], []]
    assert decide(scores, IDS, CB, {"churn.price": 0.85}, 0.5)[0] == [IDS.index("churn")]


def test_a_rejected_code_is_not_applied_and_only_that_code_is_rejected():
    scores = np.array([[0.9, 0.8, 0.1],    # churn.price rejected: the parent alone
                       [0.4, 0.8, 0.1],    # churn.price rejected, churn below: nothing
                       [0.9, 0.8, 0.1],    # churn rejected: its child still applies
                       [0.9, 0.8, 0.1]])   # nothing rejected
    rejected = np.zeros_like(scores, dtype=bool)
    rejected[0, 1] = rejected[1, 1] = rejected[2, 0] = True
    chosen = decide(scores, IDS, CB, {}, 0.5, rejected=rejected)
    assert [[IDS[j] for j in row] for row in chosen] == [["churn"], [], ["churn.price"],
                                                         ["churn.price"]]
    # one code per segment: a rejected code does not take the only place
    scores = np.array([[0.6, 0.1, 0.9]])
    assert decide(scores, IDS, CB, {}, 0.5, 1, np.array([[False, False, True]])) == [[0]]


def test_near_misses_leave_out_implied_parents_and_keep_rejected_codes(monkeypatch):
    limits = np.full(3, 0.5)
    scores = np.array([[0.45, 0.8, 0.3],   # churn.price applied: churn is implied, no near miss
                       [0.45, 0.8, 0.3],   # churn.price rejected: a near miss, and churn too
                       [0.45, 0.2, 0.3]])  # no code applied: churn is a near miss
    chosen = [[1], [], []]
    rejected = np.zeros_like(scores, dtype=bool)
    rejected[1, 1] = True
    missed = near_misses(scores, limits, chosen, ancestor_columns(IDS, CB), rejected)
    assert [[IDS[j] for j in row] for row in missed] == [
        ["support"], ["churn.price", "churn", "support"], ["churn", "support"]]
    assert ancestor_columns(IDS, CB) == {1: [0]}
    # a rejected code over its threshold is kept beyond the cap of near misses
    monkeypatch.setattr(code_module, "MAX_NEAR_MISSES", 1)
    many = np.array([[0.45, 0.9, 0.4]])
    assert near_misses(many, limits, [[]], {}, np.array([[False, True, False]])) == [[1, 0]]
    assert near_misses(many, limits) == [[0]]


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


ONE_LINE_CODEBOOK = """\
name: Garden study
version: "1"
codes:
  - id: watering
    name: Watering
    definition: How often plants are watered, hoses and irrigation.
  - id: pests
    name: Pests
    definition: Slugs, aphids and other pests eating the plants.
  - id: harvest
    name: Harvest
    definition: Picking fruit and vegetables when they are ripe.
"""

GARDEN = """\
Interviewer: Tell me about your garden.

{name}: I water the plants every evening with the hose, the irrigation is {a}.

Interviewer: Anything else?

{name}: The slugs and aphids ate all my {b} plants this year.

Interviewer: And later in the year?

{name}: We pick the ripe tomatoes and beans in August, a good harvest of {c}.

Interviewer: What do you do for a living?

{name}: I work in an office in town, mostly meetings.
"""
GARDENERS = {f"{n.lower()}.txt": GARDEN.format(name=n, a=a, b=b, c=c) for n, a, b, c in (
    ("Ben", "broken", "lettuce", "fruit"), ("Cat", "new", "cabbage", "apples"),
    ("Dan", "slow", "bean", "plums"))}


def test_keywordless_one_line_codebook_codes_segments(make_project, real_sentence_model,
                                                      blank_nlp):
    project = Project(make_project(GARDENERS, codebook=ONE_LINE_CODEBOOK))
    ingest(project, nlp=blank_nlp)
    summary = code_project(project, Embedder("real", project.store, model=real_sentence_model),
                           blank_nlp)
    rows = project.store.db.execute("SELECT text, code FROM codings WHERE is_machine = 1")
    got = {}
    for r in rows:
        got.setdefault(r["code"], []).append(r["text"])
    assert len(got["watering"]) == 3 and all("hose" in t for t in got["watering"])
    assert len(got["pests"]) == 3 and all("slugs" in t for t in got["pests"])
    assert len(got["harvest"]) == 3 and all("harvest" in t for t in got["harvest"])
    assert summary["coded_segments"] == 9 and summary["learned_from"] == 0


def _human(project, segment, code, coder="Ana"):
    with project.store.transaction() as db:
        db.execute('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                   "coder, is_machine, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'now')",
                   (segment["id"], segment["interview_id"], segment["start"], segment["end"],
                    segment["text"], code, coder))


ABOUT_WEATHER = {
    "w1.txt": "Interviewer: How was it?\n\nAl: The weather was grey and cold all week.\n",
    "w2.txt": "Interviewer: How was it?\n\nBo: The weather was grey and rainy all week.\n",
    "w3.txt": "Interviewer: How was it?\n\nCy: The weather was grey and windy all week.\n",
}


def test_learning_from_human_codes_changes_a_decision(make_project, hash_embedder, blank_nlp):
    # The codebook says nothing of weather; the researcher codes weather talk as pests.
    # Two human examples weigh as much as the codebook text at learning_prior = 2.
    project = Project(make_project(ABOUT_WEATHER, codebook=ONE_LINE_CODEBOOK,
                                   toml="learning_prior = 2.0\n"))
    ingest(project, nlp=blank_nlp)
    embedder = Embedder("hash", project.store, model=hash_embedder)
    segs = {r["interview_id"]: r for r in project.store.respondent_segments()}
    code_project(project, embedder, blank_nlp)
    w3 = "SELECT code FROM codings WHERE is_machine = 1 AND interview_id = 'w3'"
    assert "pests" not in {r["code"] for r in project.store.db.execute(w3)}
    _human(project, segs["w1"], "pests")
    _human(project, segs["w2"], "pests")
    summary = code_project(project, embedder, blank_nlp)
    assert summary["learned_from"] == 2 and summary["learned_interviews"] == 2
    rows = project.store.db.execute(w3.replace("code FROM", "code, evidence FROM")).fetchall()
    assert "pests" in {r["code"] for r in rows}
    ev = json.loads(next(r["evidence"] for r in rows if r["code"] == "pests"))
    assert ev["learned"]["examples"] == 2 and ev["learned"]["nearest"]["text"].startswith("The")
    # Learning can be switched off.
    project.settings["learn_from_humans"] = False
    code_project(project, embedder, blank_nlp)
    assert "pests" not in {r["code"] for r in project.store.db.execute(w3)}


def test_learned_scores_never_use_the_segments_own_interview():
    vecs = np.eye(3, dtype=np.float32)
    labels = Labels(np.array([0, 1]), np.array([[True], [False]]),
                    np.array(["a", "b"], dtype=object), ["x", "y"], [10, 11])
    share, near, _, _ = learned_scores(vecs, labels, np.array(["a", "b", "c"], dtype=object), 5)
    assert share[0, 0] == 0.0          # its own code is invisible to segment 0
    assert near[0, 0] == -1 and near[1, 0] == 0
    # A segment nobody coded (group None) learns from every labelled segment.
    vecs = np.array([[1, 0], [0.9, 0.1], [1, 0]], dtype=np.float32)
    share, near, _, _ = learned_scores(vecs, labels, np.array(["a", "b", None], dtype=object), 5)
    assert near[2, 0] == 0 and 0 < share[2, 0] < 1


def test_cross_validation_never_scores_on_training_segments(make_project, hash_embedder,
                                                            blank_nlp, monkeypatch):
    files = {f"i{k}.txt": f"Interviewer: How was it?\n\nP{k}: The weather was grey "
             f"and cold, day {k}.\n\nInterviewer: And the garden?\n\nP{k}: The slugs ate "
             f"the lettuce, day {k}.\n" for k in range(4)}
    project = Project(make_project(files, codebook=ONE_LINE_CODEBOOK,
                                   toml="learning_prior = 1.0\n"))
    ingest(project, nlp=blank_nlp)
    for seg in project.store.respondent_segments():
        _human(project, seg, "pests" if "slugs" in seg["text"] else "harvest")
    seen = []
    original = code_module.learned_scores

    def spy(vecs, labels, groups, k):
        seen.append((groups.copy(), labels.groups.copy()))
        return original(vecs, labels, groups, k)
    monkeypatch.setattr(code_module, "learned_scores", spy)
    cv = cross_validate(project, Embedder("hash", project.store, model=hash_embedder),
                        blank_nlp, folds=2)
    groups, train_groups = seen[0]
    assert set(train_groups) == {0, 1} and set(groups) == {0, 1}
    # Every fold's decisions come only from the other fold: the spy saw fold labels, and
    # learned_scores masks equal groups; here each fold must still find the other's codes.
    assert cv.truth.shape == cv.learned.shape == cv.zero_shot.shape
    assert len(cv.segment_ids) == 8 and set(cv.folds) == {0, 1}
    col = cv.codes.index("pests")
    assert (cv.learned[:, col] == cv.truth[:, col]).all()


def test_neighbours_unlike_the_segment_are_not_trusted():
    from qualcx.coder.learn import blend_scores, reliability
    closeness = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.1, 0.522])  # labelled 1%/10%: .504/.54
    labelled = np.array([0, 1, 2, 3, 4])
    trust = reliability(closeness, labelled)
    assert trust[0] == trust[1] == 1.0          # as close as most coded segments are
    assert trust[5] == 0.0                      # less alike than almost every coded segment
    assert trust[6] == pytest.approx(0.5)     # in between: half
    # Without trust the learned score moves the zero-shot one; with none it stays.
    zero, share = np.array([[0.1]]), np.array([[1.0]])
    moved, _, _ = blend_scores(zero, share, np.array([10.0]), 1.0)
    kept, _, weight = blend_scores(zero, share, np.array([10.0]), 1.0, np.array([0.0]))
    assert moved[0, 0] > 0.8 and kept[0, 0] == pytest.approx(0.1) and weight[0, 0] == 0.0


def test_uncoded_segments_of_a_coded_interview_are_negatives(make_project, blank_nlp):
    from qualcx.coder.learn import human_labels
    files = {"a.txt": "Interviewer: How was it?\n\nP: The slugs ate the lettuce.\n\n"
                      "Interviewer: Anything else?\n\nP: Thanks, good luck with the study.\n",
             "b.txt": "Interviewer: How was it?\n\nQ: The weather was grey.\n"}
    project = Project(make_project(files, codebook=ONE_LINE_CODEBOOK))
    ingest(project, nlp=blank_nlp)
    segs = project.store.respondent_segments()
    _human(project, next(s for s in segs if "slugs" in s["text"]), "pests")
    segments = [dict(s) for s in segs]
    codes = list(project.codebook.codes)
    labels = human_labels(project.store, segments, project.codebook, codes)
    texts = {segments[i]["text"]: row for row, i in enumerate(labels.index)}
    assert set(texts) == {"The slugs ate the lettuce.", "Thanks, good luck with the study."}
    assert labels.y[texts["The slugs ate the lettuce."], codes.index("pests")]
    assert not labels.y[texts["Thanks, good luck with the study."]].any()
    assert labels.known[texts["Thanks, good luck with the study."]].all()  # a full "no"
    # codes that are a sample (human_codes_complete = false): the uncoded segment is no example
    sample = human_labels(project.store, segments, project.codebook, codes, complete=False)
    assert [segments[i]["text"] for i in sample.index] == ["The slugs ate the lettuce."]
    assert sample.y[0, codes.index("pests")] and sample.known[0].all()
    assert sample.y[0].sum() == 1  # the coded segment is still a negative for the other codes


def test_rejections_are_negatives_only_for_the_rejected_code():
    vecs = np.array([[1, 0], [1, 0], [1, 0]], dtype=np.float32)
    # Row 0 was coded A (so not B); row 1 only had A rejected: it says nothing about B.
    labels = Labels(np.array([0, 1]), np.array([[True, False], [False, False]]),
                    np.array(["a", "b"], dtype=object), ["x", "y"], [10, 11],
                    np.array([[True, True], [True, False]]))
    share, _, _, _ = learned_scores(vecs, labels, np.array(["a", "b", "c"], dtype=object), 5)
    assert share[2, 0] == pytest.approx(0.5)   # one yes, one no for A
    assert share[2, 1] == pytest.approx(0.0)   # one no for B, the rejection not counted
    assert share[0, 0] == 0.0 and share[1, 0] == pytest.approx(1.0)

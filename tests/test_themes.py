import numpy as np

from qualcx.codebook import parse_codebook
from qualcx.themes import cluster, find_themes, label_from_keywords

from conftest import MINI_CODEBOOK

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


def _planted(embedder, copies=3, groups=(SUPPORT, OFFICE)):
    texts = [f"{t} number {i}" for i in range(copies) for g in groups for t in g]
    return texts, embedder.encode(texts)


def test_small_corpus_gives_themes_not_outliers_and_is_reproducible(hash_embedder):
    texts, emb = _planted(hash_embedder)
    topics, keywords = cluster(texts, emb, seed=1)
    assert -1 not in topics and len(set(topics)) >= 2
    assert cluster(texts, emb, seed=1) == (topics, keywords)


def test_planted_subtopics_inside_one_code_separate(hash_embedder):
    texts, emb = _planted(hash_embedder)
    cb = parse_codebook(MINI_CODEBOOK)
    themes = find_themes(texts, emb, [{"support"}] * len(texts), cb, min_segments=6, seed=3)
    support_themes = [t for t in themes if t.parent_code == "support"]
    assert len(support_themes) >= 2
    for theme in support_themes:
        kinds = {"office" in texts[m] for m in theme.members}
        assert len(kinds) == 1, theme.label  # no theme mixes the two planted topics


def test_uncoded_talk_becomes_emergent_themes(hash_embedder):
    texts, emb = _planted(hash_embedder, groups=(SUPPORT, PRICE, SUPPORT[::-1], OFFICE))
    codes = [set() if t.split(" number")[0] in OFFICE else {"support"} for t in texts]
    cb = parse_codebook(MINI_CODEBOOK)
    themes = find_themes(texts, emb, codes, cb, min_segments=6, seed=3)
    emergent = [t for t in themes if t.parent_code is None]
    assert emergent and all("office" in texts[m] or "sauna" in texts[m]
                            for t in emergent for m in t.members)
    assert any("office" in t.keywords or "kitchen" in t.keywords or "sauna" in t.keywords
               for t in emergent)


def test_labels_skip_words_inside_chosen_phrases():
    assert label_from_keywords(["price increase", "price", "routefox", "increase", "small"]) == \
        "Price increase, routefox, small"
    assert label_from_keywords([]) == "Unlabelled"

"""Inductive themes (Kvale's stage 5) with BERTopic over segment embeddings.

Themes are found within each top-level code, over the segments of the code and its children
(sub-themes), and among the segments no code covers (emergent themes).

Components are passed in or chosen by the size of each group of segments:

- below ``UMAP_MIN_SEGMENTS`` segments, k-means on the embeddings themselves, with k chosen by
  silhouette (deterministic, never an outlier, no numba compilation);
- from ``UMAP_MIN_SEGMENTS`` on, UMAP and HDBSCAN. HDBSCAN's outliers are reassigned to the
  nearest theme when their cosine to its centroid is at least ``OUTLIER_MIN_SIMILARITY``; the
  rest stay outliers (no theme, an empty ``theme`` in the exports). When HDBSCAN finds fewer
  than two clusters the group falls back to k-means, so no group is ever all outliers.

Labels come from c-TF-IDF over 1-3-grams, re-ranked by :class:`PhraseRepresentation`, which
keeps whole noun phrases found by spaCy's part-of-speech tags ("response time", "health
score") over single words, stop words and interview filler. A sub-theme most of whose
segments carry one child code is named after it ("Causes of churn: price increase"), so the
label says what is said of its object, not only the object.

Emergent themes whose segments sit mostly in the openings and closings of their interviews
(greetings, consent, introductions of the interviewee's own role, thanks) are set aside as
small talk rather than reported as findings.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

UMAP_MIN_SEGMENTS = 300
OUTLIER_MIN_SIMILARITY = 0.35
# Interview filler: never part of a keyword or phrase.
FILLER = {
    "um", "uh", "umm", "hmm", "mm", "yeah", "yes", "ja", "okay", "ok", "oh", "like", "know",
    "mean", "kind", "sort", "really", "actually", "basically", "honestly", "just", "maybe",
    "think", "lot", "lots", "thing", "things", "say", "said", "thats", "dont", "im", "theyre",
    "laughs", "right", "well", "quite", "bit", "also", "something", "somebody", "guess",
    "pretty", "sure", "get", "got", "go", "going", "want", "would", "could", "much", "many",
    "every", "always", "still", "even", "need", "make", "stuff", "course", "anyway", "sorry",
    # fragments left by contractions (didn't -> didn)
    "didn", "doesn", "don", "isn", "wasn", "aren", "weren", "couldn", "wouldn", "shouldn",
    "haven", "hasn", "ve", "ll", "re", "youre", "didnt",
}
# Words too general to name a theme alone, though fine as the head of a phrase.
GENERIC = {
    "people", "person", "time", "times", "good", "one", "two", "way", "example", "point",
    "case", "part", "side", "question", "answer", "team", "day", "days", "week", "weeks",
    "month", "months", "year", "years", "number", "numbers", "work", "job", "place", "ones",
    "company", "companies", "customer", "customers", "new", "first", "last", "other", "same",
    "different", "big", "small", "whole", "level", "kinds", "problem", "problems", "idea",
    "half", "couple", "rest", "bunch", "beginning", "start", "end",
}
MIN_THEME_WORDS = 12  # shorter segments ("Yes, go ahead.") are not clustered
FREQUENT_SHARE = 0.3  # words in more of all segments than this say nothing about one theme
MIXED_STAND_IN = 0.5  # a sub-code named in place of one whose name is a list codes this share
#                     of what that one codes, at least
LABEL_PHRASES = 2  # phrases in a label, at most
SECOND_PHRASE_SHARE = 0.6  # a second label phrase must score this share of the first
WORD_SECOND_SHARE = 0.3  # ... or this share when the first is a single word ("Product and
# support"): one word alone seldom names a theme
SECOND_PHRASE_PEOPLE = 1 / 3  # a second label phrase must be used by this share of the
# theme's interviewees
LEAD_PHRASE_SHARE = 0.4  # a phrase of several words leads a label if it scores this share of
# the best keyword; otherwise the best keyword does
ABSORB_SHARE = 0.3  # a phrase holding a better single word takes its place at this share
# of its score ("price" -> "price increase")
ABSORB_COVERAGE = 0.25  # ... and when it is used in this share of the segments using the word
MIN_CENTRALITY = 0.05  # floor of a phrase's cosine to its theme's centroid
PROPER_MIN_INTERVIEWS = 3  # a name enters a label only when this many interviews use it,
PROPER_MIN_COVERAGE = 0.4  # in this share of the theme's segments and half its interviews
KEYWORDS = 8  # keywords kept per theme
PHRASE_BONUS = 1.0  # score bonus per extra word of a phrase: whole phrases read better
MAX_THEMES = 12  # more clusters in one group are merged
MISFIT_SILHOUETTE = -0.02  # a k-means member clearly closer to another theme belongs to none
MIN_THEME_INTERVIEWS = 3  # a cluster fewer interviewees raise is an anecdote, not a theme
CODE_KEYWORD_SHARE = 0.5  # a code's keyword used in more of its segments names the code, not a
#                          sub-theme
MIN_THEME_SIZE = 5  # ... and a cluster of fewer segments is an aside ("Meetings": three
#                     passing mentions), when the group has clusters this large
EXACT_NEIGHBOURS_MAX = 20_000  # larger groups use UMAP's approximate neighbour search
BACKGROUND_SAMPLE = 2000  # segments, evenly spread, to estimate how common a phrase is
PHRASE_DOCS = 20  # documents per theme tagged for phrases (enough to find its vocabulary)
OPENING_SHARE = 0.1  # an interview's opening (greetings, consent, the interviewee's role)
EDGE_SHARE = 0.05  # and its closing: these shares of its segments
EDGE_MIN_SEGMENTS = 10  # interviews shorter than this have no opening or closing to speak of
SMALL_TALK_SHARE = 0.5  # an emergent theme with this share of members at the edges is small talk
CHILD_LABEL_SHARE = 0.4  # a sub-theme is named after the child code this share of its members
CHILD_LABEL_LEAD = 1.25  # carry, when this many times as many as carry the next child code
NARROW_MARGIN = 0.1  # a sub-code passing the share or the lead by less than this is said to pass
# narrowly (one segment coded otherwise would often change the label)
SECOND_PHRASE_SEGMENTS = 0.25  # ... and in this share of its segments (itself or a word of it)
TAIL_EXACT_SEGMENTS = 0.15  # a phrase after a sub-code's name must itself be used in this share
# of the sub-theme's segments ("handover meeting", in 3 of 27, is one moment of the journey),
# and by MIN_THEME_INTERVIEWS of its interviewees: two people's phrase is their anecdote
TAIL_EACH_SEGMENTS = 1 / 3  # with two phrases after a sub-code's name, one fewer segments use
# is a minority put in the headline ("Expectation management: sales and ERP") and is left out
TAIL_MINOR_RATIO = 2 / 3  # ... and at most this share as many as use the other
MIXED_LEAD_COVERAGE = 1 / 3  # a sub-theme no child code dominates, whose label phrases fewer
# of its segments use, is named after the two child codes most of it carries
# Adjectives that describe one instance of a thing ("new office", "big utilities"), not a kind
# of it ("mobile app"): such a phrase gives its place to its head word when more segments use it.
DESCRIPTIVE = {"new", "old", "big", "small", "good", "bad", "nice", "great", "little", "large",
               "whole", "other", "same", "different"}
JOINING_WORDS = {"and", "of", "the", "a", "an", "to", "in", "for", "with", "on"}
NOUN_POS = {"NOUN", "PROPN"}
PHRASE_POS = NOUN_POS | {"ADJ"}


@dataclass(frozen=True)
class Theme:
    key: str
    label: str
    keywords: tuple[str, ...]
    parent_code: str | None
    members: tuple[int, ...]  # positions in the segment list given to find_themes
    similarity: tuple[float, ...] = field(default=())  # each member's cosine to the centroid
    machine_label: str = ""  # set when ``label`` is the researcher's name for the theme
    # keywords that took the place of single words ("February outage" of "outage"), with them
    stands_for: tuple[tuple[str, tuple[str, ...]], ...] = ()
    why: tuple[str, ...] = ()  # how the machine label was made, with its evidence


def names_a_topic(theme: Theme) -> bool:
    """Whether the machine named ``theme`` by one phrase of its talk alone ("Mobile app",
    "Office"): that says what its segments are about, not what they say of it, and readers
    of the demo's reviews rejected such labels as "a keyword, not a theme". False when the
    researcher named it."""
    return not theme.machine_label and bool(theme.why) \
        and theme.why[0].startswith("Named after its keyword ")


@dataclass(frozen=True)
class ThemeResult:
    """What :func:`find_themes` found: the themes and the small talk it set aside."""

    themes: list[Theme]
    small_talk: list[Theme] = field(default_factory=list)
    unmatched: list = field(default_factory=list)  # researcher's names no theme took now


# A word as keywords count it: letters and hyphens ("mid-market"), or a key combination as
# a whole ("Control+F" is no "control")
WORD = r"(?u)(?<![\w+])(?:[a-zA-Z][a-zA-Z\-]+|[a-zA-Z]+(?:\+[a-zA-Z]+)+)(?![\w+])"


def frequent_words(texts: list[str]) -> set[str]:
    """Words that occur in more than ``FREQUENT_SHARE`` of the texts (e.g. 'customer'),
    singular and plural counted as one word (both forms returned)."""
    counts: Counter = Counter()
    forms: dict[str, set[str]] = {}
    for text in texts:
        words = set(re.findall(r"[a-z][a-z\-]+", text.lower()))
        for w in words:
            forms.setdefault(_singular(w), set()).add(w)
        counts.update({_singular(w) for w in words})
    return {w for key, n in counts.items() if n > FREQUENT_SHARE * len(texts)
            for w in forms[key]}


def stop_words(extra: set[str] = frozenset()) -> set[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
    return set(ENGLISH_STOP_WORDS) | FILLER | GENERIC | set(extra)


def _vectorizer(extra_stop: set[str] = frozenset(), n_docs: int = 0):
    from sklearn.feature_extraction.text import CountVectorizer
    # On large groups a phrase seen once says nothing about a theme and bloats the vocabulary.
    return CountVectorizer(stop_words=sorted(stop_words(extra_stop)), ngram_range=(1, 3),
                           min_df=2 if n_docs >= 1000 else 1,
                           token_pattern=WORD)


def _is_acronym(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def _is_keys(word: str) -> bool:
    """A key combination, "Control+F": kept as written, and no name."""
    parts = word.split("+")
    return len(parts) > 1 and all(p.isalpha() for p in parts)


CALENDAR = {"january", "february", "march", "april", "may", "june", "july", "august",
            "september", "october", "november", "december", "monday", "tuesday", "wednesday",
            "thursday", "friday", "saturday", "sunday"}


def _is_proper(token) -> bool:
    """A name (person, company, place): tagged PROPN, or capitalised inside a sentence.

    Acronyms ("ERP", "HVAC") name things, not people, and are not counted as names; nor are
    months and weekdays ("the February outage" names an event, and identifies nobody).
    """
    if _is_acronym(token.text) or _is_keys(token.text) or token.lower_ in CALENDAR:
        return False
    return token.pos_ == "PROPN" or (token.text[:1].isupper() and token.is_sent_start is False)


@lru_cache(maxsize=1)
def _hard_stop() -> frozenset[str]:
    """Function words and filler: never part of a phrase."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
    return frozenset(ENGLISH_STOP_WORDS) | frozenset(FILLER)


def _generic(word: str) -> bool:
    """A word too general to name a theme alone, in either number ("team", "teams")."""
    return word in GENERIC or _singular(word) in GENERIC


def _is_word(token) -> bool:
    """Letters only, words joined by hyphens ("mid-market", "self-service"), or a key
    combination ("Control+F")."""
    return _is_keys(token.text) or token.text.replace("-", "").isalpha() \
        and not token.text.startswith("-") and not token.text.endswith("-")


def join_hyphens(doc):
    """``doc`` with each hyphenated compound as one token ("mid-market", "in-app"), tagged
    as its last part: the tokenizer splits them, and "market" alone is another phrase."""
    spans, i = [], 0
    while i < len(doc) - 2:
        j = i
        while j + 2 < len(doc) and doc[j + 1].text == "-" and doc[j].is_alpha \
                and doc[j + 2].is_alpha and not doc[j].whitespace_ \
                and not doc[j + 1].whitespace_:
            j += 2
        if j > i:
            spans.append((doc[i:j + 1], doc[j].pos_))
        i = j + 1
    if spans:
        with doc.retokenize() as retokenizer:
            for span, pos in spans:
                retokenizer.merge(span, attrs={"POS": pos})
    return doc


def _phrases(doc, stop: set[str], display: dict[str, str] | None = None,
             proper: set[str] | None = None) -> list[str]:
    """Noun phrases of a tagged spaCy doc: runs of adjectives and nouns ending in a noun; an
    adjective after a noun begins the next phrase ("health score | last autumn").

    A phrase never holds a function word, filler or a word of ``stop`` written with a capital
    (a speaker's name); a generic word, or another word of ``stop`` (one frequent in the whole
    study, "data" in a study of a data tool), may be part of a longer phrase ("response
    time", "work orders", "data sets"), not a phrase alone or with other such words ("last
    year"). Acronyms as written ("ERP") go into ``display``, keyed by the lower-case phrase,
    and so do names as written; phrases holding a name ("Anna", "Kestrel Plumbing") go into
    ``proper``.
    """
    out: list[str] = []

    def emit(run):
        run = run[-3:]
        while run and run[0].pos_ not in PHRASE_POS:
            run.pop(0)
        while run and run[-1].pos_ not in NOUN_POS:
            run.pop()
        if run and not all(_generic(t.lower_) or t.lower_ in stop for t in run):
            out.append(" ".join(t.lower_ for t in run))
            if proper is not None and any(_is_proper(t) for t in run):
                proper.add(out[-1])
            written = [_is_acronym(t.text) or _is_keys(t.text) or _is_proper(t)
                       or t.lower_ in CALENDAR for t in run]
            if display is not None and any(written):
                display[out[-1]] = " ".join(t.text if keep else t.lower_
                                            for t, keep in zip(run, written))

    run: list = []
    for token in list(join_hyphens(doc)) + [None]:
        if token is not None and token.pos_ == "ADJ" and run and run[-1].pos_ in NOUN_POS:
            emit(run)  # an adjective after a noun begins the next phrase ("score | last autumn")
            run = []
        if token is not None and token.pos_ in PHRASE_POS and _is_word(token) \
                and (token.lower_ not in stop or _generic(token.lower_)
                     or token.text.islower() and token.lower_ not in _hard_stop()):
            run.append(token)
            continue
        emit(run)
        run = []
    return out


class PhraseRepresentation:
    """A BERTopic representation that prefers whole noun phrases to loose words.

    Candidates are the noun phrases of up to ``PHRASE_DOCS`` of each topic's documents,
    tagged with spaCy (without part-of-speech tags, a blank pipeline or ``nlp=None``, the
    topic's c-TF-IDF n-grams). Each is scored by how many of the topic's documents use it
    (coverage) times the log of how much more often they do than the group's other documents
    (lift), with a bonus per extra word; phrases that repeat a word of a better one are skipped.
    With ``background``, also times the log of its lift over the whole corpus. With
    ``interviews``, also times the square root of the share of the topic's interviews that use
    it: a phrase of one interviewee is an example, not the theme.
    Interview filler never enters a phrase, and generic words ("team", "time") only as the
    head of a longer phrase ("support team", "response time"). Names of people, companies and
    places are left out unless at least ``PROPER_MIN_INTERVIEWS`` interviews use them in at
    least ``PROPER_MIN_COVERAGE`` of the topic's segments (a product everyone talks about).

    Args:
        nlp: a spaCy pipeline with a tagger (and attribute ruler), or None.
        stop: more words that are never a keyword (e.g. words frequent in the whole corpus).
        top_n: phrases kept per topic.
        exclude: phrases that say nothing here, such as the name of the code being split.
        background: all segments of the corpus; when given, a phrase's score is also weighted
            by how much more often the topic uses it than the whole corpus does.
        interviews: per document (in the order given to the topic model), its interview.
        embed: ``embed(phrases)`` returns one normalised vector per phrase, in the space of
            ``embeddings``; with both, a phrase's score is also times its cosine to the
            topic's centroid (how central it is to what the segments say, as in KeyBERT).
        embeddings: per document, its normalised embedding.
        prompts: per document, the interviewer's words it answers; a document uses a phrase
            when it or its prompt says it (an answer to "tell me about the outage" is about
            the outage, though it may say "that day"). ``background_prompts`` likewise for
            ``background``. Phrases are still only taken from the documents themselves.
    """

    def __init__(self, nlp=None, stop: set[str] = frozenset(), top_n: int = KEYWORDS,
                 exclude: set[str] = frozenset(), background: Sequence[str] | None = None,
                 interviews: Sequence[str] | None = None, embed: Callable | None = None,
                 embeddings: np.ndarray | None = None, prompts: Sequence[str] | None = None,
                 background_prompts: Sequence[str] | None = None):
        self.nlp = nlp
        self.prompts = prompts
        self.background_prompts = background_prompts
        self.embed = embed
        self.embeddings = embeddings
        self.background = background
        self.interviews = interviews
        self.display: dict[str, str] = {}  # lower-case phrase -> as shown (acronyms kept)
        self.forms: dict[str, Counter] = {}  # phrase key (singular) -> its forms as shown
        self.proper_keys: set[str] = set()  # keys of phrases holding a name
        self.nominal: set[str] = set()  # words tagged as nouns or adjectives somewhere
        # word key -> [uses tagged otherwise, uses tagged as a noun] in the tagged segments
        self.as_noun: dict[str, list[int]] = {}
        self.parts: dict[int, dict[str, tuple]] = {}  # topic -> phrase -> score components
        # topic -> phrase key -> the words whose place it took ("data quality": {"data"})
        self.stands_for: dict[int, dict[str, set[str]]] = {}
        self.central: dict[int, dict[str, float]] = {}  # topic -> phrase key -> its cosine
        self.stop = stop_words(stop)
        self.top_n = top_n
        self.exclude = {e.lower() for e in exclude}

    def extract_topics(self, topic_model, documents, c_tf_idf, topics):
        from sklearn.feature_extraction.text import CountVectorizer
        labels = sorted(int(t) for t in documents.Topic.unique())
        docs = documents.Document.tolist()
        doc_topics = documents.Topic.to_numpy()
        candidates = {t: self._candidates([d for d, k in zip(docs, doc_topics) if k == t],
                                          topics.get(t, [])) for t in labels}
        vocab = sorted(set().union(*candidates.values())) if candidates else []
        if not vocab:
            return {t: list(topics.get(t, []))[: self.top_n] for t in labels}
        counter = CountVectorizer(vocabulary=vocab, binary=True, analyzer=_singular_ngrams)
        present = _uses(counter, docs, self.prompts).tocsc()
        df_all = np.asarray(present.sum(axis=0)).ravel()
        corpus_share = None
        if self.background is not None and len(self.background):
            picks = range(len(self.background)) if len(self.background) <= BACKGROUND_SAMPLE \
                else [int(i) for i in np.linspace(0, len(self.background) - 1,
                                                   BACKGROUND_SAMPLE)]
            background = [self.background[i] for i in picks]
            said = [self.background_prompts[i] for i in picks] \
                if self.background_prompts is not None else None
            corpus_share = np.asarray(_uses(counter, background, said).sum(axis=0)).ravel() \
                / len(background)
        index = {p: i for i, p in enumerate(vocab)}
        owners = None
        if self.interviews is not None and len(self.interviews) == len(docs):
            from scipy import sparse
            ids = sorted(set(self.interviews))
            column = {v: j for j, v in enumerate(ids)}
            owners = sparse.csr_matrix(
                (np.ones(len(docs)), (np.arange(len(docs)),
                                      [column[v] for v in self.interviews])),
                shape=(len(docs), len(ids)))
        phrase_vectors = None
        if self.embed is not None and self.embeddings is not None \
                and len(self.embeddings) == len(docs):
            phrase_vectors = np.asarray(self.embed([self._shown(p) for p in vocab]),
                                        dtype=np.float32)
        out = {}
        for topic in labels:
            rows = np.flatnonzero(doc_topics == topic)
            df_topic = np.asarray(present[rows].sum(axis=0)).ravel()
            centrality = None
            if phrase_vectors is not None:
                centroid = np.asarray(self.embeddings[rows], dtype=np.float32).mean(axis=0)
                centroid /= np.linalg.norm(centroid) or 1.0
                centrality = np.maximum(phrase_vectors @ centroid, MIN_CENTRALITY)
            spread = n_people = None
            if owners is not None:  # interviews using each phrase within the topic
                spread = np.asarray(((present[rows].T @ owners[rows]) > 0).sum(axis=1)).ravel()
                n_people = int((np.asarray(owners[rows].sum(axis=0)).ravel() > 0).sum())
            scored = []
            # a phrase two segments share; when none is, one segment's phrases still name
            # the theme better than loose words would
            least = min(2, len(rows)) if any(df_topic[index[p]] >= min(2, len(rows))
                                             for p in candidates[topic]) else 1
            for phrase in sorted(candidates[topic]):
                i = index[phrase]
                if df_topic[i] < least:
                    continue
                coverage = df_topic[i] / len(rows)
                if phrase in self.proper_keys and (
                        spread is None or coverage < PROPER_MIN_COVERAGE
                        or spread[i] < max(PROPER_MIN_INTERVIEWS, n_people / 2)):
                    continue  # a name is an example, unless the theme is about it
                lift = coverage / (df_all[i] / len(docs))
                bonus = 1 + PHRASE_BONUS * phrase.count(" ")
                score = coverage * np.log1p(lift) * bonus
                if corpus_share is not None and corpus_share[i] > 0:
                    # a phrase all interviews use everywhere ("customer success") names nothing
                    score *= np.log1p(coverage / corpus_share[i])
                if spread is not None and n_people:
                    if spread[i] < 2 <= n_people - 1:
                        continue  # one interviewee's phrase is an example, not the theme
                    score *= np.sqrt(spread[i] / n_people)
                if centrality is not None:
                    score *= float(centrality[i])
                scored.append((phrase, float(score)))
                self.parts.setdefault(topic, {})[phrase] = (
                    int(df_topic[i]), len(rows), round(float(lift), 2),
                    None if corpus_share is None else round(float(corpus_share[i]), 3),
                    None if spread is None else int(spread[i]),
                    None if centrality is None else round(float(centrality[i]), 3),
                    round(float(score), 3))
            if centrality is not None:
                self.central[topic] = {p: float(centrality[index[p]]) for p, _ in scored}
            took: dict[str, set[str]] = {}
            scored = _absorb(scored, {p: int(df_topic[index[p]]) for p, _ in scored}, took)
            self.stands_for[topic] = took
            chosen = [(self._shown(p), v) for p, v in _distinct(scored, self.top_n, kinds=True)]
            # no phrase at all: c-TF-IDF's single words (its n-grams cross function words,
            # "ask jonas hear"), those tagged as nouns or adjectives ("took" is a verb), and
            # as nouns in most of their uses ("it is not important" names nothing)
            out[topic] = chosen or [(w, v) for w, v in topics.get(topic, [])
                                    if w and " " not in w
                                    and (not self.nominal or w in self.nominal)
                                    and self._mostly_noun(w)][: self.top_n]
        return out

    def _candidates(self, docs: list[str], base: list[tuple[str, float]]) -> set[str]:
        sample = docs if len(docs) <= PHRASE_DOCS else \
            [docs[int(i)] for i in np.linspace(0, len(docs) - 1, PHRASE_DOCS)]
        found: set[str] = set()
        if self.nlp is not None:
            for doc in self.nlp.pipe(sample, batch_size=64):
                if any(t.pos_ for t in doc):
                    self.nominal.update(t.lower_ for t in doc if t.pos_ in PHRASE_POS)
                    for t in doc:
                        if t.is_alpha:
                            self.as_noun.setdefault(_singular(t.lower_), [0, 0])[
                                t.pos_ in NOUN_POS] += 1
                    proper: set[str] = set()
                    written: dict[str, str] = {}  # this segment's forms: each use votes
                    for phrase in _phrases(doc, self.stop, written, proper):
                        key = _label_key(phrase)
                        self.forms.setdefault(key, Counter())[written.get(phrase, phrase)] += 1
                        if phrase in proper:
                            self.proper_keys.add(key)
                        found.add(key)
                    self.display.update(written)
        if not found:  # c-TF-IDF's words, but not one used mostly as an adjective or verb
            found = {_label_key(w) for w, _ in base if w and not set(w.split()) & self.stop
                     and (" " in w or self._mostly_noun(w))}
        return found - {_label_key(e) for e in self.exclude}

    def _mostly_noun(self, word: str) -> bool:
        """Whether the single word ``word`` (singular or plural) is tagged as a noun (or
        name) in at least half of its uses in the tagged segments (true when it was never
        tagged)."""
        other, noun = self.as_noun.get(_label_key(word), (0, 1))
        return noun >= other

    def _shown(self, key: str) -> str:
        """A phrase as it reads in the talk: its commonest form ("meetings" for "meeting"),
        the longer (plural) one on a tie."""
        forms = self.forms.get(key)
        if not forms:
            return self.display.get(key, key)
        return min(forms.items(), key=lambda f: (-f[1], -len(f[0]), f[0]))[0]


def _uses(counter, docs: Sequence[str], prompts: Sequence[str] | None = None):
    """Which documents use which phrase of a binary ``counter``'s vocabulary (a sparse 0/1
    matrix): the document itself or, with ``prompts`` (one per document), the interviewer's
    words it answers."""
    present = counter.transform(docs)
    if prompts is not None and len(prompts) == len(docs):
        present = ((present + counter.transform(list(prompts))) > 0).astype(np.int64)
    return present


def _absorb(scored: list[tuple[str, float]], used: dict[str, int] | None = None,
            took: dict[str, set[str]] | None = None) -> list[tuple[str, float]]:
    """Best first; a single word gives its place to the best phrase holding it ("price" to
    "price increase") when the phrase scores at least ``ABSORB_SHARE`` of it and, with
    ``used`` (segments using each phrase), is used in at least ``ABSORB_COVERAGE`` of the
    segments using the word: "sales" stays "sales" when only 2 of its 11 segments say
    "sales process". A phrase whose other words only describe its head (``DESCRIPTIVE``: "new
    office") gives its place to the head word instead, when more segments use the word.
    ``took``, when given, gets for each phrase the words whose place it took."""
    best = dict(scored)
    for phrase, score in sorted(scored, key=lambda p: (-p[1], p[0])):
        words = phrase.split()
        if len(words) > 1 and words[-1] in best and all(w in DESCRIPTIVE for w in words[:-1]) \
                and (used is None or used[words[-1]] > used[phrase]):
            best[words[-1]] = max(best[words[-1]], best.pop(phrase))
    scored = sorted(best.items(), key=lambda p: (-p[1], p[0]))
    out: dict[str, float] = {}
    for phrase, score in scored:
        if " " not in phrase:
            longer = [(p, v) for p, v in scored if " " in p and phrase in p.split()
                      and v >= ABSORB_SHARE * score
                      and (used is None or used[p] >= ABSORB_COVERAGE * used[phrase])]
            if longer:
                if took is not None:
                    took.setdefault(longer[0][0], set()).add(phrase)
                phrase = longer[0][0]
                score = max(score, best[phrase])
        out[phrase] = max(score, out.get(phrase, 0.0))
    return sorted(out.items(), key=lambda p: (-p[1], p[0]))


def _singular(word: str) -> str:
    """A crude singular, enough to tell "integration" and "integrations" (or "query" and
    "queries") are one word."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if len(word) > 3 and word.endswith("s") \
        and not word.endswith(("ss", "us", "is")) else word


def _label_key(label: str) -> str:
    return " ".join(_singular(w) for w in label.lower().split())


def keyword_use(keywords: Sequence[str], texts: Sequence[str]) -> list[tuple[str, int]]:
    """Each keyword with the number of texts using it (singular and plural alike), for a
    reader to check what a label rests on."""
    grams = [set(_singular_ngrams(t)) for t in texts]
    return [(k, sum(_label_key(k) in g for g in grams)) for k in keywords]


def keyword_asked(keywords: Sequence[str], texts: Sequence[str], prompts: Sequence[str]
                  ) -> list[int]:
    """Per keyword, the texts not using it whose prompt (the interviewer's follow-up question
    each answers, "" for none) does: labels count these as using it too."""
    said = [set(_singular_ngrams(t)) for t in texts]
    asked = [set(_singular_ngrams(p)) if p else set() for p in prompts]
    return [sum(1 for s, a in zip(said, asked) if _label_key(k) in a and _label_key(k) not in s)
            for k in keywords]


def keyword_standing(keywords: Sequence[str], texts: Sequence[str], prompts: Sequence[str],
                     stands_for: dict[str, Sequence[str]]) -> list[int | None]:
    """Per keyword that took the place of single words (``stands_for``, keyword -> words:
    "February outage" -> ["outage"]), the texts using it or one of those words, themselves or
    in their prompt (as labels count them); None for the other keywords."""
    grams = [set(_singular_ngrams(f"{t}\n{p}" if p else t)) for t, p in zip(texts, prompts)]
    out: list[int | None] = []
    for k in keywords:
        words = stands_for.get(k)
        out.append(sum(1 for g in grams if g & ({_label_key(k)} | {_label_key(w) for w in words}))
                   if words else None)
    return out


NOTE = re.compile(r"(?<!\w)[(\[][^()\[\]]{1,300}[)\]](?!\w)")  # "(laughs)", "[inaudible]"


def spoken(text: str) -> str:
    """A segment without the transcriber's notes in brackets ("(laughs)", "(The participant
    reads the task again)", "[inaudible]"): what the speaker said. A bracket inside a word,
    "(meta)data", stays."""
    return NOTE.sub(" ", text)


def _singular_words(text: str) -> list[str]:
    """The words a text says (:func:`spoken`) in lower case, each in its crude singular."""
    return [_singular(w)
            for w in re.findall(WORD, spoken(text).lower())]


def _singular_ngrams(text: str) -> list[str]:
    """The 1- to 3-grams of a text in lower case with each word in its crude singular, so
    "meeting" and "meetings" count as one phrase."""
    tokens = _singular_words(text)
    return [" ".join(tokens[i:i + n]) for n in (1, 2, 3) for i in range(len(tokens) - n + 1)]


def _head(phrase: str) -> str:
    return _singular(phrase.lower().split()[-1])


def _modifiers(phrase: str) -> set[str]:
    return {_singular(w) for w in phrase.lower().split()[:-1]}


def _shares_head(phrase: str, other: str) -> bool:
    """Two phrases of one head and other words ("enterprise customers", "mid-market
    customers"): they name two kinds of one thing, which a label can contrast."""
    return " " in phrase and " " in other and _head(phrase) == _head(other) \
        and not _modifiers(phrase) & _modifiers(other) \
        and _head(phrase) not in _modifiers(phrase) | _modifiers(other)


def _distinct(scored: list[tuple[str, float]], n: int, kinds: bool = False
              ) -> list[tuple[str, float]]:
    """The best phrases, skipping any that shares a word (or its singular) with a better one;
    with ``kinds``, a phrase sharing only its head with one better phrase is kept
    ("enterprise customers", "mid-market customers")."""
    chosen: list[tuple[str, float]] = []
    seen: set[str] = set()
    for phrase, score in scored:
        words = {_singular(w) for w in phrase.lower().split()}
        if words & seen and not (kinds and words & seen == {_head(phrase)} and sum(
                _shares_head(phrase, p) for p, _ in chosen) == 1 and not any(
                _head(phrase) in _modifiers(p) for p, _ in chosen)):
            continue
        chosen.append((phrase, score))
        seen |= words
        if len(chosen) == n:
            break
    return chosen


def _coordinate(phrases: list[str]) -> list[str]:
    """Phrases of one head joined: ["enterprise customers", "mid-market customers"] ->
    ["enterprise and mid-market customers"]."""
    out: list[str] = []
    for phrase in phrases:
        twin = next((i for i, p in enumerate(out) if _shares_head(p, phrase)), None)
        if twin is None:
            out.append(phrase)
            continue
        first = out[twin].split()
        out[twin] = " ".join(first[:-1]) + " and " + phrase
    return out


def _choose_k(embeddings: np.ndarray, seed: int) -> int:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    n = len(embeddings)
    low = 2 if n < 36 else 3
    best_k, best = low, -1.0
    for k in range(low, max(low, min(10, n // 10)) + 1):
        labels = KMeans(n_clusters=k, random_state=seed, n_init=10).fit_predict(embeddings)
        if len(set(labels)) < 2:
            continue
        score = silhouette_score(embeddings, labels, metric="cosine")
        if score > best + 1e-9:
            best_k, best = k, score
    return best_k


def exact_neighbours(embeddings: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` nearest rows (itself first) by cosine distance, computed in blocks."""
    emb = np.asarray(embeddings, dtype=np.float32)
    indices = np.empty((len(emb), k), dtype=np.int64)
    distances = np.empty((len(emb), k), dtype=np.float32)
    for start in range(0, len(emb), 1024):
        sims = emb[start:start + 1024] @ emb.T
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = np.inf  # itself first, whatever rounding says
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        indices[start:start + len(rows)] = top
        dist = 1 - np.take_along_axis(sims, top, axis=1)
        dist[:, 0] = 0.0
        distances[start:start + len(rows)] = np.maximum(dist, 0)
    return indices, distances


class ExactNeighboursUMAP:
    """UMAP over exact cosine neighbours found with a matrix product.

    Up to ``EXACT_NEIGHBOURS_MAX`` segments this is faster than UMAP's own search, exact, and
    skips compiling the nearest-neighbour descent (the larger part of the first fit's cost).
    """

    def __init__(self, n_neighbors: int = 15, n_components: int = 5, seed: int = 42):
        self.n_neighbors, self.n_components, self.seed = n_neighbors, n_components, seed

    def fit_transform(self, X, y=None):
        import warnings
        from umap import UMAP
        k = min(self.n_neighbors, len(X) - 1)
        knn = (*exact_neighbours(X, k), None)
        self.umap_ = UMAP(n_neighbors=k, n_components=self.n_components, min_dist=0.0,
                          metric="cosine", n_epochs=200, random_state=self.seed,
                          precomputed_knn=knn)
        with warnings.catch_warnings():  # no search index: transform is not needed here
            warnings.simplefilter("ignore")
            self.embedding_ = self.umap_.fit_transform(X)
        return self.embedding_

    def fit(self, X, y=None):
        self.fit_transform(X)
        return self

    def transform(self, X):
        if len(X) != len(self.embedding_):
            raise ValueError("ExactNeighboursUMAP maps only the segments it was fitted on")
        return self.embedding_


def default_reducer(n_docs: int, seed: int = 42):
    """No reduction below ``UMAP_MIN_SEGMENTS`` documents; UMAP to 5 dimensions above."""
    if n_docs < UMAP_MIN_SEGMENTS:
        from bertopic.dimensionality import BaseDimensionalityReduction
        return BaseDimensionalityReduction()
    if n_docs <= EXACT_NEIGHBOURS_MAX:
        return ExactNeighboursUMAP(seed=seed)
    from umap import UMAP
    # Below 4,096 points UMAP finds exact neighbours through a Python-level metric callable
    # (~50x slower than the total); nearest-neighbour descent is compiled and seeded.
    return UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                n_epochs=200, random_state=seed, low_memory=True,
                force_approximation_algorithm=True)


def default_clusterer(n_docs: int, embeddings: np.ndarray, seed: int = 42):
    """k-means (k by silhouette) on small groups; HDBSCAN on large ones."""
    if n_docs < UMAP_MIN_SEGMENTS:
        from sklearn.cluster import KMeans
        return KMeans(n_clusters=_choose_k(embeddings, seed), random_state=seed, n_init=10)
    from hdbscan import HDBSCAN
    return HDBSCAN(min_cluster_size=min_cluster_size(n_docs), min_samples=5,
                   metric="euclidean", cluster_selection_method="eom", prediction_data=False)


def min_cluster_size(n_docs: int) -> int:
    """Smallest HDBSCAN cluster: about 3% of the group, at least 10 segments."""
    return max(10, n_docs // 30)


def make_topic_model(n_docs: int, embeddings: np.ndarray, seed: int = 42,
                     stop_words: set[str] = frozenset(), reducer=None, clusterer=None,
                     representation=None, embedding_model=None):
    """A BERTopic model; components not passed in are chosen for a group of ``n_docs``."""
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer
    return BERTopic(embedding_model=embedding_model,
                    umap_model=reducer if reducer is not None else default_reducer(n_docs, seed),
                    hdbscan_model=clusterer if clusterer is not None
                    else default_clusterer(n_docs, embeddings, seed),
                    vectorizer_model=_vectorizer(stop_words, n_docs),
                    ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
                    representation_model=_as_list(representation
                                                  or PhraseRepresentation(None, stop_words)),
                    min_topic_size=2, top_n_words=KEYWORDS, calculate_probabilities=False)


def _as_list(representation) -> list:
    # BERTopic runs each tuner of a list without requiring its base class, which keeps the
    # 10-second bertopic import out of importing this module.
    return list(representation) if isinstance(representation, (list, tuple)) else [representation]


def cluster(texts: list[str], embeddings: np.ndarray, seed: int = 42, topic_model=None,
            stop_words: set[str] = frozenset(), nlp=None, exclude: set[str] = frozenset(),
            background: Sequence[str] | None = None, interviews: Sequence[str] | None = None,
            scores: dict[int, list[float]] | None = None, embed: Callable | None = None,
            took: dict[int, dict[str, set[str]]] | None = None,
            prompts: Sequence[str] | None = None,
            background_prompts: Sequence[str] | None = None,
            central: dict[int, dict[str, float]] | None = None
            ) -> tuple[list[int], dict[int, list[str]]]:
    """Cluster texts; returns a topic per text (-1 for outliers) and keywords per topic.

    ``interviews`` (per text) lets the labels prefer phrases many interviewees use, and
    ``embed`` (phrases to normalised vectors like ``embeddings``) phrases central to a topic;
    when a ``scores`` dict is given it is filled with each topic's keyword scores, and a
    ``took`` dict with each topic's phrases and the words whose place they took. ``prompts``
    (per text) and ``background_prompts`` (per ``background`` text) are the interviewer's
    words each answers, counted with it for labels (see :class:`PhraseRepresentation`). A
    ``central`` dict is filled with each topic's phrases (keys) and their cosine to its
    centroid, when phrases are embedded.

    A model that puts (almost) everything into the outlier topic is replaced by k-means over
    the embeddings, so a result always has themes. Outliers close to a theme join it; more
    than ``MAX_THEMES`` clusters are merged by centroid similarity. The representation runs
    once, on the final topics (phrase tagging is the costly part of labelling).
    """
    import logging
    if topic_model is None:
        topic_model = make_topic_model(len(texts), embeddings, seed, stop_words,
                                       representation=PhraseRepresentation(
                                           nlp, stop_words, exclude=exclude,
                                           background=background, interviews=interviews,
                                           embed=embed, embeddings=embeddings,
                                           prompts=prompts,
                                           background_prompts=background_prompts))
    representation, topic_model.representation_model = topic_model.representation_model, None
    topics = [int(t) for t in topic_model.fit_transform(texts, embeddings=embeddings)[0]]
    if len({t for t in topics if t != -1}) < 2 and len(texts) >= 4:
        from sklearn.cluster import KMeans
        from bertopic.dimensionality import BaseDimensionalityReduction
        topic_model = make_topic_model(
            len(texts), embeddings, seed, stop_words, reducer=BaseDimensionalityReduction(),
            clusterer=KMeans(n_clusters=_choose_k(embeddings, seed), random_state=seed, n_init=10))
        topic_model.representation_model = None
        topics = [int(t) for t in topic_model.fit_transform(texts, embeddings=embeddings)[0]]
    topics = merge_topics(reassign_outliers(topics, embeddings), embeddings)
    if len(texts) < UMAP_MIN_SEGMENTS:
        topics = drop_misfits(topics, embeddings)
    if interviews is not None:
        topics = dissolve_anecdotes(topics, interviews, embeddings)
    topics = _renumber_topics(topics)
    logger = logging.getLogger("BERTopic")
    level, logger.level = logger.level, logging.ERROR  # custom topics are intended here
    try:
        topic_model.update_topics(texts, topics=topics, top_n_words=KEYWORDS,
                                  vectorizer_model=topic_model.vectorizer_model,
                                  ctfidf_model=topic_model.ctfidf_model,
                                  representation_model=representation)
    finally:
        logger.level = level
    keywords = {t: [w for w, _ in (topic_model.get_topic(t) or []) if w]
                for t in set(topics) if t != -1}
    if scores is not None:
        scores.update({t: [float(v) for w, v in (topic_model.get_topic(t) or []) if w]
                       for t in set(topics) if t != -1})
    if took is not None:
        for model in _as_list(representation):
            took.update(getattr(model, "stands_for", None) or {})
    if central is not None:
        for model in _as_list(representation):
            central.update(getattr(model, "central", None) or {})
    return topics, keywords


def _centroids(topics: list[int], embeddings: np.ndarray) -> tuple[list[int], np.ndarray]:
    ids = sorted(t for t in set(topics) if t != -1)
    labels = np.asarray(topics)
    centroids = np.vstack([embeddings[labels == k].mean(axis=0) for k in ids])
    return ids, centroids / np.linalg.norm(centroids, axis=1, keepdims=True)


def merge_topics(topics: list[int], embeddings: np.ndarray, max_themes: int = None) -> list[int]:
    """Merge clusters whose centroids are closest (average linkage) until at most
    ``max_themes`` remain: a group split into forty themes helps no reader."""
    max_themes = max_themes or MAX_THEMES
    ids = sorted(t for t in set(topics) if t != -1)
    if len(ids) <= max_themes:
        return list(topics)
    from sklearn.cluster import AgglomerativeClustering
    _, centroids = _centroids(topics, embeddings)
    merged = AgglomerativeClustering(n_clusters=max_themes, metric="cosine",
                                     linkage="average").fit_predict(centroids)
    mapping = dict(zip(ids, (int(m) for m in merged)))
    return [mapping.get(t, -1) for t in topics]


def _least_interviews(interviews: Sequence[str], floor: int = MIN_THEME_INTERVIEWS) -> int:
    """How many interviewees a theme of a group needs: ``floor``, or all when fewer."""
    return min(floor, len(set(interviews)))


def _least_size(sizes: Sequence[int], floor: int = MIN_THEME_SIZE) -> int:
    """How many segments a theme of a group needs: ``floor``, or the largest cluster's size
    when no cluster is that large."""
    return min(floor, max(sizes, default=0))


def dissolve_anecdotes(topics: list[int], interviews: Sequence[str], embeddings: np.ndarray,
                       min_interviews: int = MIN_THEME_INTERVIEWS,
                       min_size: int = MIN_THEME_SIZE) -> list[int]:
    """Clusters raised by fewer than ``min_interviews`` interviewees (fewer when the group
    has fewer), or of fewer than ``min_size`` segments (fewer when no cluster is that large),
    are anecdotes and asides, not themes: their segments join the nearest other theme when
    close enough (as outliers do) and otherwise belong to none. A group whose every cluster
    is that small keeps them."""
    people: dict[int, set] = {}
    for topic, interview in zip(topics, interviews):
        if topic != -1:
            people.setdefault(topic, set()).add(interview)
    sizes = Counter(t for t in topics if t != -1)
    need = _least_interviews(interviews, min_interviews)
    least = _least_size(list(sizes.values()), min_size)
    small = {t for t, p in people.items() if len(p) < need or sizes[t] < least}
    if not small or len(small) == len(people):
        return list(topics)
    moved = reassign_outliers([-1 if t in small else t for t in topics], embeddings)
    return [moved[i] if t in small else t for i, t in enumerate(topics)]


def drop_misfits(topics: list[int], embeddings: np.ndarray,
                 floor: float = MISFIT_SILHOUETTE) -> list[int]:
    """Segments closer to another theme's segments than to their own theme's (silhouette, by
    cosine, below ``floor``) belong to no theme: k-means puts every segment somewhere, and
    these are the ones it forced, which blur what a theme is about and what it is called."""
    idx = [i for i, t in enumerate(topics) if t != -1]
    if len({topics[i] for i in idx}) < 2:
        return list(topics)
    from sklearn.metrics import silhouette_samples
    fit = silhouette_samples(embeddings[idx], [topics[i] for i in idx], metric="cosine")
    out = list(topics)
    for i, value in zip(idx, fit):
        if value < floor:
            out[i] = -1
    return out


def _renumber_topics(topics: list[int]) -> list[int]:
    """Topics numbered 0, 1, ... in order of first appearance (outliers stay -1)."""
    mapping: dict[int, int] = {}
    for t in topics:
        if t != -1 and t not in mapping:
            mapping[t] = len(mapping)
    return [mapping.get(t, -1) for t in topics]


def reassign_outliers(topics: list[int], embeddings: np.ndarray,
                      min_similarity: float = OUTLIER_MIN_SIMILARITY) -> list[int]:
    """Move each outlier (-1) to the theme with the nearest centroid, if close enough."""
    if -1 not in topics or all(t == -1 for t in topics):
        return list(topics)
    ids, centroids = _centroids(topics, embeddings)
    labels = np.asarray(topics)
    out = list(topics)
    outliers = np.flatnonzero(labels == -1)
    sims = embeddings[outliers] @ centroids.T
    for row, i in enumerate(outliers):
        if sims[row].max() >= min_similarity:
            out[i] = ids[int(sims[row].argmax())]
    return out


def label_from_keywords(keywords: Sequence[str], n: int = LABEL_PHRASES,
                        scores: Sequence[float] | None = None,
                        min_share: float = SECOND_PHRASE_SHARE,
                        members: Sequence[tuple[str, str]] | None = None,
                        took: dict[str, set[str]] | None = None,
                        central: dict[str, float] | None = None) -> str:
    """A readable label in sentence case: one phrase, or a few joined by "and".

    Among the first ``2 * n + 1`` keywords, words already inside a chosen phrase are
    skipped. Without ``scores``, phrases of several words come before single words. With
    ``scores`` (one per keyword, best first), a phrase of several words leads only when it
    scores at least ``LEAD_PHRASE_SHARE`` of the best keyword, and a further phrase joins the
    label, best score first, only when it scores at least ``min_share`` of the lead and has
    several words (or the lead is a single word too), so no loose word is glued on ("Work
    orders, connection"), unless, with ``central`` (phrase key -> cosine to the theme's
    centroid), the word is the theme's most central keyword, and at least as central as the
    lead: what the segments say is about it ("Status page and outage"). With ``min_share`` 0 (to tell two themes apart) the next
    phrase joins. A phrase naming another kind of the lead's head, scoring at least
    ``WORD_SECOND_SHARE`` of it, makes the label with the lead alone: "Enterprise and
    mid-market customers". With ``members`` (``(interview, text)`` of the theme), a phrase
    joins the lead only when it is widespread (:func:`_widespread`) and common
    (:func:`_common`, with ``took`` from :func:`_absorb`) among them.
    """
    chosen, _ = label_choice(keywords, n, scores, min_share, members, took, central)
    return _label_of([p for p, _ in chosen])


def label_choice(keywords: Sequence[str], n: int = LABEL_PHRASES,
                 scores: Sequence[float] | None = None,
                 min_share: float = SECOND_PHRASE_SHARE,
                 members: Sequence[tuple[str, str]] | None = None,
                 took: dict[str, set[str]] | None = None,
                 central: dict[str, float] | None = None
                 ) -> tuple[list[tuple[str, float]], dict[str, str]]:
    """The phrases :func:`label_from_keywords` makes a label of, ``(phrase, score)`` in label
    order, and why each other keyword it weighed was passed over (keyword -> the reason, a
    clause such as "is a single word, ..."), so a reader can see why a keyword ranked above a
    label's phrase is not in it (with ``scores`` only)."""
    pairs = [(k, scores[i] if scores is not None and i < len(scores) else 0.0)
             for i, k in enumerate(keywords) if k][: 2 * n + 1]
    passed: dict[str, str] = {}
    if scores is None:
        pairs = [p for p in pairs if " " in p[0]] + [p for p in pairs if " " not in p[0]]
        return _distinct(pairs, n), passed
    if not pairs:
        return [], passed
    top = max(v for _, v in pairs)
    lead = next((p for p in pairs if " " in p[0] and p[1] >= LEAD_PHRASE_SHARE * top),
                pairs[0])
    share = min_share if " " in lead[0] else min(min_share, WORD_SECOND_SHARE)
    grams = [(interview, set(_singular_ngrams(text))) for interview, text in members] \
        if members else None
    rest = []
    for p in pairs:
        if p == lead:
            continue
        if p[1] < share * lead[1]:
            passed[p[0]] = f"scores less than {share:.0%} of {_q(lead[0])}"
        elif not (" " in p[0] or " " not in lead[0] or not min_share
                  or _as_central(p[0], lead[0], central, keywords)):
            passed[p[0]] = ("is a single word, which follows a phrase only as the theme's "
                            "most central keyword")
        elif grams and not _widespread(p[0], grams):
            passed[p[0]] = (f"is said by {_people_using([p[0]], grams)} of its "
                            f"{len({i for i, _ in grams})} interviewees, fewer than "
                            f"{SECOND_PHRASE_PEOPLE:.0%}")
        elif grams and not _common(p[0], grams, took):
            said = round(coverage([p[0]], [g for _, g in grams], took) * len(grams))
            passed[p[0]] = (f"is said in {said} of its {len(grams)} segments, fewer than "
                            f"{SECOND_PHRASE_SEGMENTS:.0%}")
        else:
            rest.append(p)
            continue
        if pairs.index(p) < pairs.index(lead):  # a single word above the lead
            why = passed[p[0]]
            passed[p[0]] = (f"is a single word: a phrase of several words leads a label when "
                            f"it scores at least {LEAD_PHRASE_SHARE:.0%} of the best keyword"
                            + (", and a word follows one only as the theme's most central "
                               "keyword" if why.startswith("is a single word") else
                               f"; it {why}"))
    twins = [p for p in pairs if _shares_head(lead[0], p[0])
             and p[1] >= WORD_SECOND_SHARE * lead[1]]
    if grams:
        twins = [p for p in twins
                 if _widespread(p[0], grams) and _common(p[0], grams, took)]
    # two kinds of one thing make one phrase: "enterprise and mid-market customers"
    chosen = [lead, twins[0]] if twins else _distinct([lead] + rest, n)
    for p in rest:
        if p not in chosen:
            other = next((c for c, _ in chosen if _shares_word(c, p[0])), None)
            passed[p[0]] = (f"shares a word with {_q(other)}" if other else
                            f"would make the label longer than {len(chosen)} phrase"
                            f"{'s' if len(chosen) > 1 else ''}")
    return chosen, passed


def _shares_word(phrase: str, other: str) -> bool:
    """Whether two phrases share a word (or its singular)."""
    return bool({_singular(w) for w in phrase.lower().split()}
                & {_singular(w) for w in other.lower().split()})


def _as_central(word: str, lead: str, central: dict[str, float] | None,
                keywords: Sequence[str]) -> bool:
    """Whether ``word`` is the closest of ``keywords`` to their theme's centroid, and at
    least as close as ``lead`` (cosines in ``central``, phrase key -> cosine)."""
    if not central:
        return False
    mine, theirs = central.get(_label_key(word)), central.get(_label_key(lead))
    return mine is not None and theirs is not None and mine >= theirs and all(
        central.get(_label_key(k), 0.0) <= mine for k in keywords if k)


def _widespread(phrase: str, members: Sequence[tuple[str, set[str]]]) -> bool:
    """Whether at least ``SECOND_PHRASE_PEOPLE`` of the interviewees of a theme's members,
    ``(interview, its n-grams)``, use ``phrase``: a phrase joining a label must name something
    of the theme, not one or two people's detail ("Warning signs and sales side")."""
    people = {i for i, _ in members}
    return _people_using([phrase], members) >= SECOND_PHRASE_PEOPLE * len(people)


def _common(phrase: str, members: Sequence[tuple[str, set[str]]],
            took: dict[str, set[str]] | None = None,
            share: float = SECOND_PHRASE_SEGMENTS) -> bool:
    """Whether at least ``share`` of a theme's members, ``(interview, its n-grams)``, use
    ``phrase`` or a word whose place it took (``took``, phrase key -> words): "data
    migration", in 2 of 17 segments, is a detail; "data quality", which took the place of
    "data", is used in the 6 of 18 segments saying either."""
    return coverage([phrase], [g for _, g in members], took) >= share


def _people_using(phrases: Sequence[str], members: Sequence[tuple[str, set[str]]]) -> int:
    """How many interviewees of ``members`` (``(interview, its n-grams)``) use any of
    ``phrases``."""
    keys = {_label_key(p) for p in phrases if p}
    return len({i for i, grams in members if keys & grams})


def _keys_with_took(phrases: Sequence[str], took: dict[str, set[str]] | None = None
                    ) -> set[str]:
    """The keys of ``phrases`` and of the words whose place they took (``took``, phrase key ->
    words): what a text says when it uses them."""
    keys = {_label_key(p) for p in phrases if p}
    return keys | {w for k in keys for w in (took or {}).get(k, ())}


def coverage(phrases: Sequence[str], grams: Sequence[set[str]],
             took: dict[str, set[str]] | None = None) -> float:
    """The share of texts (their :func:`_singular_ngrams` as sets) using any of ``phrases``
    or a word whose place one of them took (``took``, phrase key -> words)."""
    keys = _keys_with_took(phrases, took)
    if not grams or not keys:
        return 0.0
    return sum(1 for g in grams if g & keys) / len(grams)


def child_counts(member_codes: Sequence, codebook, parent: str) -> list[tuple[int, str]]:
    """``(members, child)`` for each child code of ``parent``, most carried first (codebook
    order on a tie): a member carries a child when any of its codes is the child or one of
    its descendants."""
    counts = []
    for child in codebook.codes[parent].children if parent in codebook.codes else ():
        wanted = set(codebook.descendants(child))
        counts.append((sum(1 for codes in member_codes if wanted & codes), child))
    return sorted(counts, key=lambda c: -c[0])


def dominant_child(member_codes: Sequence[set[str]], codebook, parent: str,
                   share: float = CHILD_LABEL_SHARE, lead: float = CHILD_LABEL_LEAD):
    """The child code of ``parent`` that most of a sub-theme's members carry, or None.

    The parent itself counts for no child. The child must be carried by at least ``share`` of
    the members and by ``lead`` times as many as the next child, so a sub-theme spread over
    several children keeps its own name (or see :func:`mixed_children`); and the next child
    by fewer than ``share``: a sub-theme two children each code that much is about both.
    """
    ranked = child_counts(member_codes, codebook, parent)
    if not ranked or not member_codes:
        return None
    n, best = ranked[0]
    runner = ranked[1][0] if len(ranked) > 1 else 0
    if n >= share * len(member_codes) and n >= lead * runner \
            and runner < share * len(member_codes):
        return codebook.codes[best]
    return None


class Both(list):
    """The two child codes of a sub-theme that each code at least ``CHILD_LABEL_SHARE`` of its
    segments (from :func:`mixed_children`): the sub-theme is about both, and is named after
    them whatever its phrases ("Instrumental and expressive performance": the software
    working, and how customers are treated when it does not)."""


def mixed_children(member_codes: Sequence[set[str]], codebook, parent: str,
                   share: float = CHILD_LABEL_SHARE) -> list:
    """The two child codes of ``parent`` a sub-theme's members carry most, when no child
    dominates (see :func:`dominant_child`); else []. When each is carried by at least
    ``share`` of the members they are its halves (:class:`Both`), whatever their names (see
    :func:`agreed_children` for halves whose name is a list). Otherwise the two are taken
    among those whose name is not itself a list ("X and Y"), and must together be carried
    by at least ``share`` of the members. A sub-theme of reliability and of how customers
    are treated when it fails is, in the codebook's words, "Instrumental and expressive
    performance"."""
    if not member_codes or dominant_child(member_codes, codebook, parent, share) is not None:
        return []
    counts = [(n, c) for n, c in child_counts(member_codes, codebook, parent) if n]
    if len(counts) > 1 and counts[1][0] >= share * len(member_codes):  # halves, any names
        return Both([codebook.codes[counts[0][1]], codebook.codes[counts[1][1]]])
    # "Automation, personalisation and self-service and journey stages, ..." would not read
    def listed(c):
        return _listed(codebook.codes[c].name)
    ranked = [(n, c) for n, c in counts if not listed(c)]
    if len(ranked) < 2:
        return []
    # nor does a code passed over give way to one far rarer: on the SERDIF study, "Query
    # inputs and elements useful" (10 of 20) to "Query process complex" (2 of 20)
    passed = max((n for n, c in counts if listed(c) and n > ranked[1][0]), default=0)
    if ranked[1][0] < MIXED_STAND_IN * passed:
        return []
    wanted = set(codebook.descendants(ranked[0][1])) | set(codebook.descendants(ranked[1][1]))
    if sum(1 for codes in member_codes if wanted & set(codes)) < share * len(member_codes):
        return []
    return [codebook.codes[ranked[0][1]], codebook.codes[ranked[1][1]]]


def other_code(member_codes: Sequence[set[str]], researcher_codes: Sequence[set[str] | None],
               codebook, parent: str, share: float = CHILD_LABEL_SHARE):
    """Where a sub-theme of ``parent`` that none of its sub-codes names meets another code:
    ``(code, children, carried, people, coded, applied)`` when another top-level code (or
    one of its descendants) codes at least ``share`` of its members, any coder, and, where
    people coded (``researcher_codes``, None elsewhere), people applied it to at least
    ``share`` of the segments they coded; and when, on the members that code carries, one of
    its sub-codes passes the sub-code test (:func:`dominant_child`) or two each code
    ``share`` of them (:class:`Both`), people's codes there agreeing
    (:func:`agreed_children`). ``carried`` counts those members, ``people`` those people
    coded it on, of ``coded`` they coded; ``applied`` is ``(segments, name)`` of the
    sub-codes people applied most to those members. Else None.

    On the demo, the "Customer experience" sub-theme about the mobile app: "Service quality"
    codes 6 of its 12 segments (people 5 of 12), and of those 6, "Instrumental performance"
    and "Expressive performance" each code 3. The app working, and how customers are treated
    when it does not, is what reviewers read in it; its one phrase, "Mobile app", they
    rejected as a word, not a theme.
    """
    n = len(member_codes)
    theirs = [codes for codes in researcher_codes if codes is not None]
    best = None
    for code in codebook.top_level:
        if code.id == parent or not code.children:
            continue
        wanted = set(codebook.descendants(code.id))
        carried = [i for i, codes in enumerate(member_codes) if wanted & set(codes)]
        people = sum(1 for codes in theirs if wanted & codes)
        if not n or len(carried) < share * n or (theirs and people < share * len(theirs)):
            continue
        if best is None or len(carried) > len(best[2]):
            best = (code, people, carried)
    if best is None:
        return None
    code, people, carried = best
    children = agreed_children(
        _children_of([member_codes[i] for i in carried], codebook, code.id),
        [researcher_codes[i] for i in carried] if researcher_codes else [], codebook, code.id)
    if not children or (len(children) == 2 and not isinstance(children, Both)):
        return None  # a mere mix of its sub-codes names too little of it
    there = [researcher_codes[i] for i in carried
             if researcher_codes and researcher_codes[i] is not None]
    applied = [(k, codebook.codes[c].name) for k, c in child_counts(there, codebook, code.id)
               if k][:3]
    return code, children, len(carried), people, len(theirs), applied


def _listed(name: str) -> bool:
    """Whether a code's name is itself a list ("Support and its speed"), which does not read
    as one of two names joined by "and"."""
    return " and " in name or "," in name


def plain_name(name: str) -> str:
    """A code's name without its asides in brackets: "Instrumental performance (the software
    works)" -> "Instrumental performance", "Export (meta)data useful" -> "Export data
    useful"."""
    plain = re.sub(r"\s+([,.;:])", r"\1", " ".join(re.sub(r"\([^)]*\)", " ", name).split()))
    return plain or name


def clusterable(text: str) -> bool:
    """Whether a segment says enough to be clustered (``MIN_THEME_WORDS``, the transcriber's
    notes in brackets not counted)."""
    return len(spoken(text).split()) >= MIN_THEME_WORDS


def children_label(names: Sequence[str]) -> str:
    """Child code names as one label, brackets left out, a shared head said once:
    ["Instrumental performance (the software works)", "Expressive performance"] ->
    "Instrumental and expressive performance"."""
    plain = [plain_name(n) for n in names]
    lowered = [n if _is_acronym(n.split()[0]) else n[:1].lower() + n[1:] for n in plain]
    from .analysis import prose_list
    label = prose_list(_coordinate(lowered))
    return label[:1].upper() + label[1:]


def child_label(child_name: str, label: str, keywords: Sequence[str] = (),
                alone: bool = True) -> str:
    """A sub-theme's label under the child code most of it carries: "Causes of churn: price
    increase". The child name says what is said about the phrase's object; a phrase whose
    words the child name already holds ("Warning signs" under "Warning signs of churn") adds
    nothing, and the label is the child name alone (unless not ``alone``: another sub-theme
    has it). The phrase keeps its capital when its first word is an acronym or a name ("ERP",
    "QBRs", or written so in ``keywords``). A child name's aside in brackets is left out
    ("Instrumental performance (the software works)")."""
    child_name = plain_name(child_name)
    if not label or label == "Unlabelled":
        return child_name
    have = set(_singular_words(child_name))
    words = [w for w in _singular_words(label) if w not in JOINING_WORDS]
    if alone and words and all(w in have for w in words):
        return child_name
    return f"{child_name}: {_as_written(label, keywords)}"


def next_child(member_codes: Sequence[set[str]], codebook, parent: str, skip,
               share: float = SECOND_PHRASE_SEGMENTS,
               researcher_codes: Sequence[set[str] | None] = ()):
    """The child code of ``parent`` a sub-theme's members carry most after ``skip``, when at
    least ``share`` of them carry it, else None. Where people coded the interviews
    (``researcher_codes``, None elsewhere), it must be the one they applied most after
    ``skip`` too, to at least ``share`` of the segments they coded: a code the machine
    applied where the researcher read the talk otherwise does not name it."""
    def after(codes):
        n, child = next(((n, c) for n, c in child_counts(codes, codebook, parent)
                         if c != skip.id), (0, None))
        return child if n and n >= share * len(codes) else None
    child = after(member_codes)
    theirs = [codes for codes in researcher_codes if codes is not None]
    if child is None or (theirs and after(theirs) != child):
        return None
    return codebook.codes[child]


def agreed_children(children: list, researcher_codes: Sequence[set[str] | None], codebook,
                    parent: str) -> list:
    """``children`` (a sub-theme's dominant child code, or two mixed ones) as they are, unless
    it is one dominant child that people, on the segments of interviews they coded
    (``researcher_codes``, None elsewhere), did not apply most: then [] (the sub-theme keeps
    its own phrase). A code the machine applied where the researcher applied another should
    not name what the researcher read differently ("Instrumental performance: status page"
    when the researcher coded most of it as support). Two mixed ones give way to the two
    people applied most (:func:`mixed_children` of their codes) when those differ: on the
    demo, "Expressive performance and service gaps", where the machine's codes made it
    "Instrumental and expressive performance", the name of a sibling. Two that each code
    :data:`CHILD_LABEL_SHARE` of it (:class:`Both`) give way to one of them that people's
    codes make dominant (:func:`dominant_child`), or to none when theirs make a third one
    dominant. Halves one of whose names is itself a list give [] when people's codes do not
    make one of them dominant: "Query inputs and elements useful and query process clear"
    does not read as two names."""
    theirs = [codes for codes in researcher_codes if codes is not None]
    if len(children) == 2 and theirs:
        pair = mixed_children(theirs, codebook, parent)
        if pair and {c.id for c in pair} != {c.id for c in children}:
            children = pair
        elif not pair and isinstance(children, Both):
            one = dominant_child(theirs, codebook, parent)
            if one is not None:  # two codes each code 40%, but people applied one most
                return [one] if one.id in {c.id for c in children} else []
    if isinstance(children, Both) and any(_listed(c.name) for c in children):
        return []  # halves one of whose names is a list: named by its own phrases
    if len(children) != 1 or not theirs:
        return children
    ranked = child_counts(theirs, codebook, parent)
    most = ranked[0][0] if ranked else 0
    mine = next((n for n, c in ranked if c == children[0].id), 0)
    return children if mine and mine == most else []


def sub_code_note(member_codes: Sequence[set[str]], researcher_codes: Sequence[set[str] | None],
                  codebook, parent: str) -> str:
    """What the sub-codes of ``parent`` say of a sub-theme's members, for the reader of its
    label: which code most of them, whether one does enough to name it (see
    :func:`dominant_child`), and which ones people applied most where they coded."""
    n = len(member_codes)
    ranked = [(k, c) for k, c in child_counts(member_codes, codebook, parent) if k]
    if not ranked:
        name = _q(codebook.codes[parent].name)
        return f"{name} has no sub-codes to name it after." \
            if not codebook.codes[parent].children else f"No sub-code of {name} codes its segments."
    parts = ", ".join(f"{_q(codebook.codes[c].name)} {k} of {n}" for k, c in ranked[:3])
    rule = f"at least {CHILD_LABEL_SHARE:.0%} of them and {CHILD_LABEL_LEAD} times the next"
    note = f"Sub-codes on its segments (any coder): {parts}"
    best = dominant_child(member_codes, codebook, parent)
    theirs = [codes for codes in researcher_codes if codes is not None]
    mine = [(k, c) for k, c in child_counts(theirs, codebook, parent) if k] if theirs else []
    where = "on all of them (people coded their interviews)" if len(theirs) == n else \
        f"on the {len(theirs)} of them in interviews people coded"
    from .analysis import prose_list
    applied = (f"; {where}, people applied " + prose_list(
        [f"{_q(codebook.codes[c].name)} to {k}{' segments' if not i else ''}"
         for i, (k, c) in enumerate(mine[:3])])) if mine else ""
    if best is None and len(ranked) > 1 and ranked[1][0] >= CHILD_LABEL_SHARE * n:
        both = (f"{note}; {_q(codebook.codes[ranked[0][1]].name)} and "
                f"{_q(codebook.codes[ranked[1][1]].name)} each code at least "
                f"{CHILD_LABEL_SHARE:.0%} of them")
        theirs_best = dominant_child(theirs, codebook, parent) if theirs else None
        if theirs_best is not None and theirs_best.id in (ranked[0][1], ranked[1][1]):
            narrow = _narrow(mine[0][0], mine[1][0] if len(mine) > 1 else 0, len(theirs))
            return (f"{both}, but {applied[2:]}: by their codes {_q(theirs_best.name)} codes "
                    f"{rule}{f' ({narrow})' if narrow else ''}, and the sub-code test passes "
                    "for it.")
        return f"{both}, so neither names it alone: the sub-code test fails{applied}."
    if best is None:
        return f"{note}; none codes {rule}: the sub-code test fails{applied}."
    narrow = _narrow(ranked[0][0], ranked[1][0] if len(ranked) > 1 else 0, n)
    rule += f" ({narrow})" if narrow else ""
    if not mine:
        return f"{note}; {_q(best.name)} codes {rule}: the sub-code test passes."
    most = [c for k, c in mine if k == mine[0][0]]
    there = (f"{where}, people applied "
             f"{' and '.join(_q(codebook.codes[c].name) for c in most)} most "
             f"({mine[0][0]} segments{' each' if len(most) > 1 else ''}")
    if best.id in most:
        return f"{note}; {_q(best.name)} codes {rule}, and {there}): the sub-code test passes."
    theirs_best = next((k for k, c in mine if c == best.id), 0)
    return (f"{note}; {_q(best.name)} codes {rule}, but {there}; {_q(best.name)}: "
            f"{theirs_best}): the sub-code test fails.")


def _narrow(best: int, runner: int, n: int, margin: float = NARROW_MARGIN) -> str:
    """"" when a sub-code carried by ``best`` of ``n`` segments, the next by ``runner``, passes
    the share and the lead of :func:`dominant_child` clearly; otherwise which it meets only
    narrowly ("narrowly: 10 against 8 is 1.25 times"), so a reader knows one segment coded
    differently would have changed the label."""
    notes = []
    if best < CHILD_LABEL_SHARE * (1 + margin) * n:
        notes.append(f"{best} of {n} is {best / n:.0%}")
    if runner and best < CHILD_LABEL_LEAD * (1 + margin) * runner:
        notes.append(f"{best} against {runner} is {best / runner:.2f} times")
    return f"narrowly: {' and '.join(notes)}" if notes else ""


def _children_of(member_codes: Sequence[set[str]], codebook, parent: str) -> list:
    """[the dominant child code], or the two :func:`mixed_children`, or []."""
    child = dominant_child(member_codes, codebook, parent)
    return [child] if child is not None else mixed_children(member_codes, codebook, parent)


def _picked(said: Sequence[str], keywords: Sequence[str], grams: Sequence[set[str]]
            ) -> tuple[str, str] | None:
    """Whether a label's words are a pick among the theme's equally common words: two or
    more single words, with a keyword left out used in as many segments as the least used
    of them. "Product and sales" names two of the parties who create customer experience
    when "support" is said as often; the sub-code's name says it better alone. Returns
    ``(the keyword left out, the least used word)``, or None."""
    if len(said) < 2 or any(" " in p for p in said):
        return None
    least = min(said, key=lambda p: coverage([p], grams))
    floor = coverage([least], grams)
    other = next((k for k in keywords if k and k not in said and coverage([k], grams) >= floor),
                 None)
    return (other, least) if other else None


def _label_phrases(label: str, keywords: Sequence[str]) -> list[str]:
    """The keywords a label is made of (all their words are in it)."""
    words = set(_singular_words(label))
    return [k for k in keywords if k and set(_singular_words(k)) <= words]


def _themes_from_clusters(prefix: str, parent: str | None, topics: list[int],
                          keywords: dict[int, list[str]], positions: list[int],
                          embeddings: np.ndarray,
                          scores: dict[int, list[float]] | None = None,
                          labels: set[str] | None = None,
                          members_of: Callable | None = None,
                          child_of: Callable | None = None,
                          took: dict[int, dict[str, set[str]]] | None = None,
                          next_child_of: Callable | None = None,
                          central: dict[int, dict[str, float]] | None = None,
                          code_note: Callable | None = None,
                          other_of: Callable | None = None) -> list[Theme]:
    groups: dict[int, list[int]] = {}
    for local, topic in enumerate(topics):
        if topic != -1:
            groups.setdefault(topic, []).append(local)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), positions[kv[1][0]]))
    themes = []
    labels = set() if labels is None else labels  # labels already given (to other groups)
    children_of = [child_of(members) if child_of else [] for _, members in ordered]
    named_by = Counter(c[0].id for c in children_of if len(c) == 1)  # sub-themes per child
    for n, (topic, members) in enumerate(ordered, start=1):
        centroid = embeddings[members].mean(axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        sims = embeddings[members] @ centroid
        kws = keywords.get(topic, [])
        weights = (scores or {}).get(topic)
        who = members_of(members) if members_of else None
        member_grams = [(i, set(_singular_ngrams(t))) for i, t in who] if who else None
        grams = [g for _, g in member_grams] if member_grams else None
        stands = (took or {}).get(topic, {})
        cosines = (central or {}).get(topic)
        children = children_of[n - 1]
        child = children[0] if len(children) == 1 else None
        mixed = None
        if len(children) == 2 and who is not None:
            mixed = children_label([c.name for c in children])
        meets = other_of(members) if other_of and not children else None
        own_kws, own_weights = kws, weights
        if child is not None and weights:  # a word of the sub-code's name adds nothing to it
            named_words = set(_singular_words(plain_name(child.name)))
            kept = [i for i, k in enumerate(kws) if not set(_singular_words(k)) <= named_words]
            own_kws = [kws[i] for i in kept]
            own_weights = [weights[i] for i in kept if i < len(weights)]
        first, passed = label_choice(own_kws, scores=own_weights, members=who, took=stands,
                                     central=cosines)
        candidates = (  # no two themes may read (almost) the same
            lambda: _label_of([p for p, _ in first]),
            lambda: label_from_keywords(kws, scores=weights, min_share=0.0, members=who,
                                        took=stands),
            lambda: label_from_keywords(kws, LABEL_PHRASES + 1))
        for attempt, make in enumerate(candidates):
            label = make()
            said = _label_phrases(label, kws)
            above = _passed_over(said, kws, own_kws, passed) if not attempt else ""
            label_text = _as_written(label, kws)
            evidence = _evidence(said, member_grams, stands)
            why = f"its keyword{'s' if len(said) > 1 else ''} {_q(label_text)}{evidence}"
            count = evidence.replace(", said", " are said" if len(said) > 1 else " is said", 1)
            if child is not None:
                short = _too_few(said, kws, member_grams, stands) if grams else ""
                minor = _minor_tail(said, grams, stands) if grams and not short else []
                if minor:  # one of two phrases names a minority: the sub-code's name and
                    # the other say what the sub-theme is about
                    kept = [p for p in said if p not in minor]
                    label = _label_of(kept)
                    why = (f"its keyword{'s' if len(kept) > 1 else ''} "
                           f"{_q(_as_written(label, kws))}"
                           f"{_evidence(kept, member_grams, stands)}")
                    above = " ".join(part for part in (
                        _passed_over(kept, kws, own_kws, passed) if not attempt else "",
                        _minor_note(minor, said, grams, stands)) if part)
                    said, label_text = kept, _as_written(label, kws)
                    short = _too_few(said, kws, member_grams, stands)
                named = child_label(child.name, label, kws)
                alt = _passing_tail(child.name, said, own_kws, kws, member_grams, stands,
                                    labels) if short else None
                if alt is not None:  # the best keyword that does name enough of it
                    named = child_label(child.name, _label_of([alt]), kws)
                    why = (f"the sub-code {_q(child.name)} and its best keyword "
                           f"{_q(_as_written(_label_of([alt]), kws))}"
                           f"{_evidence([alt], member_grams, stands)}: "
                           f"{_q(label_text)}, the phrase of several words that would lead "
                           f"a label, {short}")
                    short, above = "", ""
                elif short:
                    named = child_label(child.name, "", kws)  # a detail of the sub-theme
                    why = f"the sub-code {_q(child.name)} alone: {_q(label_text)} {short}"
                    other = next_child_of(members, child) \
                        if next_child_of and named_by[child.id] > 1 else None
                    if other is not None and not named_by[other.id]:
                        # a sibling is "<child>: <phrase>"; this one, named "<child>" alone,
                        # would read as its parent: the code it carries next tells it apart
                        named = child_label(other.name, "", kws)
                        why = (f"{_q(other.name)}, the sub-code its segments carry next "
                               f"(it must code at least {SECOND_PHRASE_SEGMENTS:.0%} of them; "
                               f"counts below). {_q(child.name)} passes the sub-code test "
                               f"below, but another sub-theme of this code is named after it "
                               f"too, and here {_q(label_text)} {short}: called "
                               f"{_q(child.name)} alone, it would read as the other's parent")
                elif named == plain_name(child.name):
                    why = f"the sub-code {_q(child.name)}, whose name holds {_q(label_text)}"
                else:
                    why = f"the sub-code {_q(child.name)} and {why}"
                if _label_key(named) in labels:  # another sub-theme took the child alone
                    named = child_label(child.name, label, kws, alone=False)
                    why = (f"the sub-code {_q(child.name)} and {_q(label_text)}: another "
                           "sub-theme is named after the sub-code alone")
                label = named
            elif mixed and (isinstance(children, Both)
                            or coverage(said, grams, stands) < MIXED_LEAD_COVERAGE):
                if isinstance(children, Both):
                    why = (f"the two sub-codes that each code at least {CHILD_LABEL_SHARE:.0%} "
                           f"of its segments (counts below): it is about both")
                    above = ""  # its phrases name none of it
                else:  # its words name a part of it; the codes it carries name the whole
                    why = (f"the two sub-codes coding most of its segments (where people coded "
                           f"its interviews, the two they applied most; a name that is itself "
                           f"a list is passed over, and a tie goes to the codebook's order), "
                           f"since {'its keywords' if len(said) > 1 else 'its keyword'} "
                           f"{_q(label_text)}{count}: fewer than a third of its segments")
                if _label_key(mixed) in labels:
                    why += f", and another theme is called {_q(mixed)}"
                label = mixed if _label_key(mixed) not in labels \
                    else f"{mixed}: {_as_written(label, kws)}"
            elif meets is not None and len(said) == 1:  # one phrase says what it is about,
                # not what is said of it; two phrases say more ("Renewal negotiation and
                # account manager" would take a pair's long name after them)
                label, why = _meeting_label(label_text, why, meets, len(members))
            if attempt:
                why += "; a shorter label was another theme's"
            if _label_key(label) not in labels:
                break
        reasons = [f"Named after {why}.", above]
        if code_note is not None:
            reasons.append(code_note(members))
        labels.add(_label_key(label))
        if mixed and label == mixed:  # "B and A" would read as the same theme
            labels.add(_label_key(children_label([c.name for c in reversed(children)])))
        themes.append(Theme(key=f"{prefix}-{n}", label=label,
                            keywords=tuple(kws[:KEYWORDS]), parent_code=parent,
                            members=tuple(positions[m] for m in members),
                            similarity=tuple(round(float(s), 4) for s in sims),
                            stands_for=tuple((k, _words_of(k, stands[_label_key(k)]))
                                             for k in kws[:KEYWORDS]
                                             if stands.get(_label_key(k))),
                            why=tuple(r for r in reasons if r)))
    return _without_sibling_names(themes, {plain_name(c.name) for cs in children_of for c in cs},
                                  labels)


def meeting_tail(names: Sequence[str]) -> str:
    """Sub-code names as they follow a sub-theme's phrase where two codes meet (see
    :func:`other_code`): "instrumental and expressive performance"."""
    label = children_label(names)
    return label if _is_acronym(label.split()[0]) else label[:1].lower() + label[1:]


def _meeting_label(label_text: str, why: str, meets: tuple, n: int) -> tuple[str, str]:
    """The label and reason of a sub-theme named by one phrase of its own (``label_text``,
    ``why``) where it meets another code (``meets``, from :func:`other_code`; ``n``
    members): "Mobile app: instrumental and expressive performance"."""
    code, children, carried, people, coded, applied = meets
    tail = meeting_tail([c.name for c in children])
    label = f"{label_text[:1].upper()}{label_text[1:]}: {tail}"
    theirs = f"; people applied it to {people} of the {coded} they coded" if coded else ""
    if len(children) == 1:
        test = (f"{_q(children[0].name)} codes at least {CHILD_LABEL_SHARE:.0%} and "
                f"{CHILD_LABEL_LEAD} times the next")
    else:
        test = (f"{_q(children[0].name)} and {_q(children[1].name)} each code at least "
                f"{CHILD_LABEL_SHARE:.0%}")
    if applied:
        from .analysis import prose_list
        test += "; there, people applied " + prose_list([f"{_q(c)} to {k}" for k, c in applied])
    return label, (
        f"where two codes meet: {why}, followed by the sub-code{'s' if len(children) > 1 else ''}"
        f" of {_q(code.name)} that name{'s' if len(children) == 1 else ''} its part coded "
        f"{_q(code.name)}. None of its own code's sub-codes names it (see below), but "
        f"{_q(code.name)} codes {carried} of its {n} segments (any coder{theirs}), and of those "
        f"{carried}, {test}")


def _minor_tail(said: Sequence[str], grams: Sequence[set[str]],
                took: dict[str, set[str]] | None = None,
                share: float = TAIL_EACH_SEGMENTS) -> list[str]:
    """The phrases of a label of two or more (``said``; two kinds of one thing count as one,
    "enterprise and mid-market customers") that fewer than ``share`` of a sub-theme's
    segments (their n-grams, ``grams``) use, counting the words they took the place of
    (``took``), and at most ``TAIL_MINOR_RATIO`` as many as the most used one: after a
    sub-code's name, "sales and ERP", where 6 of 20 segments say "ERP" and 11 "sales", puts a
    minority in the headline; "product and support", said in 10 and 9 of 30, names two
    parts alike."""
    if len(_coordinate(list(said))) < 2:
        return []
    used = {p: coverage([p], grams, took) for p in said}
    most = max(used.values())
    minor = [p for p in said if used[p] < share and used[p] <= TAIL_MINOR_RATIO * most]
    return minor if len(minor) < len(said) else []


def _minor_note(minor: Sequence[str], said: Sequence[str], grams: Sequence[set[str]],
                took: dict[str, set[str]] | None = None) -> str:
    """"“ERP”, said in 6 of its 20 segments (fewer than 33%, and at most 67% of the 11 saying
    “sales”), is left out after the sub-code's name." for the phrases :func:`_minor_tail`
    found among ``said``."""
    n = len(grams)
    count = {p: round(coverage([p], grams, took) * n) for p in said}
    most = max(said, key=lambda p: count[p])
    parts = [f"{_q(p)}, said in {count[p]} of its {n} segments" for p in minor]
    return (f"{' and '.join(parts)} (fewer than {TAIL_EACH_SEGMENTS:.0%}, and at most "
            f"{TAIL_MINOR_RATIO:.0%} of the {count[most]} saying {_q(most)}), "
            f"{'is' if len(minor) == 1 else 'are'} left out after the sub-code's name.")


def _label_of(phrases: Sequence[str]) -> str:
    """Phrases as a label: coordinated, joined by "and", in sentence case."""
    from .analysis import prose_list
    label = prose_list(_coordinate(list(phrases))) if phrases else ""
    return label[:1].upper() + label[1:] if label else "Unlabelled"


def _passed_over(said: Sequence[str], keywords: Sequence[str], own: Sequence[str],
                 passed: dict[str, str]) -> str:
    """Why the keywords ranked above the last of a label's phrases ``said`` are not in it:
    "“Routefox”, ranked above “price increase”, is a single word: ..." (``own``: the keywords
    the label was chosen from; ``passed``: keyword -> reason, from :func:`label_choice`)."""
    if not said:
        return ""
    last = max(keywords.index(p) for p in said)
    notes = []
    for k in keywords[:last]:
        if k in said:
            continue
        if k not in own:
            notes.append((_q(k), "is a word of the sub-code's name"))
        elif k in passed:
            notes.append((_q(k), passed[k]))
    if len(notes) == 1:
        return f"{notes[0][0]}, ranked above {_q(keywords[last])}, {notes[0][1]}."
    return (f"Ranked above {_q(keywords[last])}: " + "; ".join(f"{k} {why}" for k, why in notes)
            + ".") if notes else ""


def _q(text: str) -> str:
    return f"“{plain_name(text)}”"


def _as_written(label: str, keywords: Sequence[str]) -> str:
    """A label made of keywords, as they are written: "price increase" for "Price
    increase", "ERP integration" as it is."""
    first = label.split()[0] if label else ""
    keep = any(c.isupper() for c in first[1:]) or any(
        k.split()[0] == first for k in keywords if k and k[:1].isupper())
    return label if keep else label[:1].lower() + label[1:]


def _evidence(said: Sequence[str], members: Sequence[tuple[str, set[str]]] | None,
              took: dict[str, set[str]] | None = None) -> str:
    """", said in 9 of 18 segments by 4 of 6 interviewees" for phrases ``said`` among
    ``members`` (``(interview, its n-grams)``), counting the words they took the place of."""
    if not said or not members:
        return ""
    own = {_label_key(p) for p in said}
    keys = _keys_with_took(said, took)
    using = [i for i, g in members if g & keys]
    literal = sum(1 for _, g in members if g & own)
    as_written = f" ({literal} as written)" if literal < len(using) else ""
    return (f", said in {len(using)} of {len(members)} segments{as_written} by "
            f"{len(set(using))} of {len({i for i, _ in members})} interviewees")


def _too_few(said: Sequence[str], keywords: Sequence[str],
             members: Sequence[tuple[str, set[str]]], took: dict[str, set[str]] | None
             ) -> str:
    """Why phrases ``said`` after a sub-code's name would name a detail of its sub-theme
    (``members``: ``(interview, its n-grams)``), or "" when they may follow it."""
    grams = [g for _, g in members]
    n = len(grams)
    need = _least_interviews([i for i, _ in members])
    if coverage(said, grams, took) < SECOND_PHRASE_SEGMENTS:
        return (f"is said in {round(coverage(said, grams, took) * n)} of its {n} segments, "
                f"fewer than {SECOND_PHRASE_SEGMENTS:.0%}")
    if coverage(said, grams) < TAIL_EXACT_SEGMENTS:
        return (f"is itself said in {round(coverage(said, grams) * n)} of its {n} segments, "
                f"fewer than {TAIL_EXACT_SEGMENTS:.0%}")
    pick = _picked(said, keywords, grams)
    if pick:
        other, least = pick
        return (f"is a pick among words its segments say as often: “{other}” is said in "
                f"{round(coverage([other], grams) * n)} of them, “{least}” in "
                f"{round(coverage([least], grams) * n)}")
    people = _people_using(said, members)
    if people < need:
        return f"is said by {people} of its interviewees, fewer than {need}"
    return ""


def _passing_tail(child_name: str, said: Sequence[str], own_keywords: Sequence[str],
                  keywords: Sequence[str], members: Sequence[tuple[str, set[str]]],
                  took: dict[str, set[str]] | None, labels: set[str]) -> str | None:
    """A sub-theme's best keyword (the first of ``own_keywords``, none a word of the
    sub-code's name), when a phrase of several words took the lead from it (``said``) but
    may not follow the sub-code's name by :func:`_too_few`, and the keyword may, and no
    other theme has its label: "Journey stages, touchpoints and handovers: onboarding",
    said in 8 of its 27 segments, where "handover meeting" is said in 3. Other keywords are
    not tried: below the best, a word that passes is often one every sub-theme says
    ("data", "manager"). None otherwise."""
    if not own_keywords or not any(" " in p for p in said):
        return None
    best = own_keywords[0]
    named = child_label(child_name, _label_of([best]), keywords)
    if _label_key(best) in {_label_key(p) for p in said} or named == plain_name(child_name) \
            or _label_key(named) in labels or _too_few([best], keywords, members, took):
        return None  # the label's own phrase, the name's words, taken, or too little
    return best


def _words_of(phrase: str, keys: set[str]) -> tuple[str, ...]:
    """The words of ``phrase`` as it is written whose keys are in ``keys``: ("ERP",) for
    "ERP integration" and {"erp"}."""
    return tuple(w for w in phrase.split() if _label_key(w) in keys)


def _without_sibling_names(themes: list[Theme], child_names: set[str], labels: set[str]
                           ) -> list[Theme]:
    """When one sub-theme is named after a sub-code alone, its siblings named "<sub-code>:
    <phrases>" read as parts of it: they keep their phrases alone ("ERP integration and
    enterprise" beside "Journey stages, touchpoints and handovers", as on the demo before
    that sibling was named after its best keyword), when there are two
    (one phrase alone, such as "Sales", says too little of what is said about it) and no
    other theme has them. ``labels`` (keys of the labels given) is kept up to date."""
    from dataclasses import replace
    alone = {t.label for t in themes if t.label in child_names}
    out = []
    for theme in themes:
        name, _, phrase = theme.label.partition(": ")
        if " and " in phrase and name in alone:
            own = phrase[:1].upper() + phrase[1:]
            if _label_key(own) not in labels:
                labels.discard(_label_key(theme.label))
                labels.add(_label_key(own))
                sibling = next(t.key for t in themes if t.label == name)
                first = theme.why[0].replace(f"the sub-code {_q(name)} and ", "", 1) \
                    if theme.why else ""
                theme = replace(theme, label=own, why=(
                    f"{first[:-1]}; the sub-code {_q(name)}, which passes the test below, is "
                    f"left out of the label, since the sibling {sibling} is named after it "
                    "alone.", *theme.why[1:]))
        out.append(theme)
    return out


SHARED_SHARE = 0.25  # two sub-themes are said to overlap when they share this share of either


def shared_segments(themes: Sequence[Theme], share: float = SHARED_SHARE
                    ) -> list[tuple[str, str, int]]:
    """``(key, key, segments shared)`` for sub-themes of different codes that share at least
    ``share`` of either's segments, most shared first. A segment coded under two codes is
    clustered with each, so adding up themes of different codes counts it twice."""
    pairs = []
    for i, a in enumerate(themes):
        for b in themes[i + 1:]:
            if a.parent_code == b.parent_code:
                continue
            n = max(shared(set(a.members), set(b.members), share),
                    shared(set(b.members), set(a.members), share))
            if n:
                pairs.append((a.key, b.key, n))
    return sorted(pairs, key=lambda p: -p[2])


def shared(mine: set, other: set, share: float = SHARED_SHARE) -> int:
    """How many of ``mine`` (a theme's segments) ``other`` holds, when that is at least
    ``share`` of them, else 0."""
    n = len(mine & other)
    return n if n and n >= share * len(mine) else 0


def at_edges(interviews: Sequence[str]) -> list[str]:
    """Per segment (in reading order): "opening" when it lies in the first ``OPENING_SHARE``
    of its interview's segments, "closing" in the last ``EDGE_SHARE``, else "" (false)."""
    sizes = Counter(interviews)
    seen: Counter = Counter()
    out = []
    for interview in interviews:
        n, index = sizes[interview], seen[interview]
        seen[interview] += 1
        if n < EDGE_MIN_SEGMENTS:
            out.append("")
        elif index < max(1, round(OPENING_SHARE * n)):
            out.append("opening")
        elif index >= n - max(1, round(EDGE_SHARE * n)):
            out.append("closing")
        else:
            out.append("")
    return out


def is_small_talk(theme: Theme, edges: Sequence[str]) -> bool:
    """Talk that lives in interviews' openings and closings: greetings, consent,
    introductions of the interviewee's own role, thanks.

    By chance about ``OPENING_SHARE + EDGE_SHARE`` of a theme's segments sit there; a theme
    with at least ``SMALL_TALK_SHARE`` of them there is about the interview itself (and the
    interviewee), not the research topic.
    """
    return bool(theme.members) and \
        sum(bool(edges[m]) for m in theme.members) >= SMALL_TALK_SHARE * len(theme.members)


def _members_where(theme: Theme, keep: Callable[[int], bool], **changes) -> Theme:
    """``theme`` with only the members ``keep`` accepts (and their similarities)."""
    from dataclasses import replace
    chosen = [i for i, m in enumerate(theme.members) if keep(m)]
    return replace(theme, members=tuple(theme.members[i] for i in chosen),
                   similarity=tuple(theme.similarity[i] for i in chosen)
                   if theme.similarity else (), **changes)


def _without_edges(theme: Theme, edges: Sequence[str]) -> Theme:
    """An emergent theme without its segments in interviews' openings and closings: uncoded
    talk there ("Sorry I'm late, the meeting before ran over") is about the interview even
    when it sounds like the theme."""
    n = sum(1 for m in theme.members if edges[m])
    note = (f"Its label was made before {n} of its {len(theme.members)} segments, in interview "
            "openings and closings, were set aside as small talk.",) if n else ()
    return _members_where(theme, lambda m: not edges[m], why=theme.why + note)


def _as_small_talk(theme: Theme, edges: Sequence[str], whole: bool = True) -> Theme:
    """The segments of ``theme`` at the edges, set aside. A ``whole`` theme set aside is
    labelled "Introductions" when most of them sit in openings (the interviewee's role and
    team); its other segments belong to no theme."""
    at = [edges[m] for m in theme.members if edges[m]]
    label = "Introductions" if whole and at.count("opening") > len(at) / 2 else theme.label
    return _members_where(theme, lambda m: bool(edges[m]), label=label)


def find_themes(texts: list[str], embeddings: np.ndarray, code_sets: list[set[str]],
                codebook, min_segments: int = 12, seed: int = 42, progress=None,
                interviews: Sequence[str] | None = None, nlp=None,
                make_model: Callable | None = None, embed: Callable | None = None,
                names: Sequence[str] = (), prompts: Sequence[str] | None = None,
                researcher_codes: Sequence[set[str] | None] | None = None) -> ThemeResult:
    """Sub-themes per top-level code and emergent themes among uncoded segments.

    Args:
        texts: segment texts, in interview and reading order.
        embeddings: one normalised row per text.
        code_sets: per segment, the codes applied to it (any coder).
        codebook: the :class:`~qualcx.codebook.Codebook`.
        min_segments: a group with fewer segments is not split into themes.
        interviews: per segment, its interview's id (to set small talk aside).
        nlp: a spaCy pipeline with a tagger, for phrase labels (None: n-gram labels).
        make_model: ``make_model(texts, embeddings)`` returns a BERTopic model to use for a
            group instead of the defaults.
        embed: ``embed(phrases)`` returns normalised vectors in the space of ``embeddings``
            (e.g. ``Embedder.encode``); label phrases are then weighed by how central they
            are to their theme.
        names: the study's speakers ("Jonas", "Interviewer"); their words never enter a
            label or keyword: a participant's name names no theme, and would identify them.
        prompts: per segment, the interviewer's turn it answers. Labels count a phrase as
            used by a segment when the segment or its prompt says it: answers to "Could you
            tell me about the outage?" are about the outage whether or not they repeat it.
            Clustering and the 12-word rule use the segments alone.
        researcher_codes: per segment, the codes people applied to it, or None where no
            person coded its interview. A sub-theme is named after the sub-code most of it
            carries only when, on the segments people coded, they applied that sub-code most
            too (see :func:`agreed_child`).
    """
    roots = [{codebook.root(c) for c in codes if c in codebook.codes} for codes in code_sets]
    long_enough = [clusterable(t) for t in texts]
    groups: list[tuple[str, str | None, list[int]]] = []
    for code in codebook.top_level:
        positions = [i for i, r in enumerate(roots) if code.id in r and long_enough[i]]
        groups.append((_slug(code.id), code.id, positions))
    groups.append(("emergent", None, [i for i, codes in enumerate(code_sets)
                                      if not codes and long_enough[i]]))
    name_words = {w for name in names for w in re.findall(r"[a-z][a-z\-]+", name.lower())}
    stop = frequent_words(texts) | name_words
    result = ThemeResult([])
    labels: set[str] = set()
    edges = at_edges(interviews) if interviews is not None else [""] * len(texts)
    said = (lambda i: f"{texts[i]}\n{prompts[i]}") if prompts is not None \
        else (lambda i: texts[i])
    for prefix, parent, positions in groups:
        if len(positions) >= min_segments:
            sub_texts, sub_emb = [texts[i] for i in positions], embeddings[positions]
            model = make_model(sub_texts, sub_emb) if make_model else None
            exclude = set()
            if parent is not None:  # a sub-theme of "Churn" is not labelled "churn"
                exclude = _code_words(codebook.codes[parent], sub_texts)
            scores: dict[int, list[float]] = {}
            took: dict[int, dict[str, set[str]]] = {}
            central: dict[int, dict[str, float]] = {}
            topics, keywords = cluster(
                sub_texts, sub_emb, seed, model,
                stop if _says_more(sub_texts, stop) else name_words, nlp, exclude, texts,
                interviews=[interviews[i] for i in positions] if interviews is not None
                else None, scores=scores, embed=embed, took=took,
                prompts=[prompts[i] for i in positions] if prompts is not None else None,
                background_prompts=prompts, central=central)
            def codes_at(local):  # a theme's members' codes, any coder
                return [code_sets[positions[m]] for m in local]

            def theirs_at(local):  # ... and people's (None where nobody coded)
                return [researcher_codes[positions[m]] for m in local] \
                    if researcher_codes is not None else []

            found = _themes_from_clusters(
                prefix, parent, topics, keywords, positions, sub_emb, scores, labels,
                (lambda local: [(interviews[positions[m]], said(positions[m])) for m in local])
                if interviews is not None else None,
                (lambda local: agreed_children(
                    _children_of(codes_at(local), codebook, parent), theirs_at(local),
                    codebook, parent)) if parent is not None else None, took,
                lambda local, child: next_child(codes_at(local), codebook, parent, child,
                                                researcher_codes=theirs_at(local)),
                central,
                (lambda local: sub_code_note(codes_at(local), theirs_at(local), codebook,
                                             parent)) if parent is not None else None,
                (lambda local: other_code(codes_at(local), theirs_at(local), codebook, parent))
                if parent is not None else None)
            if parent is None:
                kept, partly = [], []  # whole small-talk themes are listed first
                for theme in found:
                    if is_small_talk(theme, edges):
                        result.small_talk.append(_as_small_talk(theme, edges))
                        continue
                    if any(edges[m] for m in theme.members):
                        partly.append(_as_small_talk(theme, edges, whole=False))
                    kept.append(_without_edges(theme, edges))
                result.small_talk.extend(partly)
                if interviews is not None:  # what is left must still be more than an anecdote
                    need = _least_interviews([interviews[i] for i in positions])
                    least = _least_size([len(t.members) for t in found])
                    kept = [t for t in kept if len(t.members) >= least
                            and len({interviews[m] for m in t.members}) >= need]
                found = _renumber([t for t in kept if t.members], prefix)
            result.themes.extend(found)
        if progress:
            progress(1)
    return result


def _code_words(code, texts: Sequence[str], share: float = CODE_KEYWORD_SHARE) -> set[str]:
    """What never labels a sub-theme of ``code``: its name, id and the last word of its name
    ("experience" in "Customer experience"), and those of its keywords that more than
    ``share`` of its segments (``texts``) use, which name the code itself. Its other keywords
    may: they are often what tells its sub-themes apart ("laptop" in a code "Equipment and
    access setup" whose keywords are laptop, access, VPN …)."""
    words = [f" {' '.join(_singular_words(t))} " for t in texts]
    common = {k for k in code.keywords
              if sum(f" {_label_key(k)} " in w for w in words) > share * len(words)}
    head = re.findall(r"[a-z][a-z\-]+", code.name.lower())[-1:]
    return {code.name.lower(), code.id.lower(), *head} | common


def _says_more(texts: Sequence[str], stop: set[str]) -> bool:
    """Whether ``texts`` use any word outside ``stop`` (and the stop words): in a small,
    repetitive study every word of a group may be frequent in the whole study, and the
    group is then labelled without the study's frequent words set aside."""
    never = stop_words(stop)
    return any(w not in never for t in texts for w in re.findall(WORD, t.lower()))


def _renumber(themes: list[Theme], prefix: str) -> list[Theme]:
    from dataclasses import replace
    return [replace(t, key=f"{prefix}-{n}") for n, t in enumerate(themes, start=1)]


def _slug(code_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", code_id)


def people_codes(store, segments: Sequence) -> list[set[str] | None]:
    """Per segment of ``segments`` (rows with ``id`` and ``interview_id``), the codes people
    applied to it when people coded its interview (an empty set for one they left uncoded),
    None in interviews nobody coded."""
    human: dict[int, set[str]] = {}
    for row in store.human_codings():
        human.setdefault(row["segment_id"], set()).add(row["code"])
    coded = {s["interview_id"] for s in segments if s["id"] in human}
    return [human.get(s["id"], set()) if s["interview_id"] in coded else None
            for s in segments]


def themes_project(project, embedder, progress=None, nlp=None) -> ThemeResult:
    """Find themes over the project's respondent segments and store them (replacing old ones),
    with the researcher's names re-applied (see :mod:`qualcx.theme_names`)."""
    from dataclasses import replace
    from .theme_names import apply_names
    store = project.store
    segments = store.respondent_segments()
    texts = [s["text"] for s in segments]
    codes: dict[int, set[str]] = {}
    for row in store.codings():
        codes.setdefault(row["segment_id"], set()).add(row["code"])
    code_sets = [codes.get(s["id"], set()) for s in segments]
    embeddings = embedder.encode(texts) if texts else np.zeros((0, 1))
    prompted = store.follow_ups()
    settings = project.settings
    # what a person left uncoded in an interview they coded, they read as no code
    theirs = people_codes(store, segments) if settings["human_codes_complete"] else None
    # the transcriber's notes in brackets are not the interviewee's words: no keyword or
    # label comes from them, and a segment that is only a note is not clustered
    result = find_themes([spoken(t) for t in texts], embeddings, code_sets, project.codebook,
                         settings["min_theme_segments"], settings["seed"], progress,
                         interviews=[s["interview_id"] for s in segments], nlp=nlp,
                         embed=embedder.encode, names=store.speakers(),
                         prompts=[prompted.get(s["turn_id"], "") for s in segments],
                         researcher_codes=theirs)
    with store.transaction() as db:
        db.execute("DELETE FROM themes")
        for ordinal, theme in enumerate(result.themes):
            cur = db.execute("INSERT INTO themes (key, label, machine_label, keywords, "
                             "parent_code, ordinal, keyword_words, label_reason) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (theme.key, theme.label, theme.label,
                              json.dumps(list(theme.keywords)), theme.parent_code, ordinal,
                              json.dumps({k: list(w) for k, w in theme.stands_for}),
                              json.dumps(list(theme.why))))
            db.executemany("INSERT INTO theme_segments VALUES (?, ?, ?)",
                           [(cur.lastrowid, segments[m]["id"], s)
                            for m, s in zip(theme.members, theme.similarity)])
        result.unmatched.extend(apply_names(db))
        named = {r["key"]: r["label"] for r in db.execute(
            "SELECT key, label FROM themes WHERE name_id IS NOT NULL")}
    result.themes[:] = [replace(t, label=named[t.key], machine_label=t.label)
                        if t.key in named else t for t in result.themes]
    return result


def draft_code(theme: Theme, texts: Sequence[str], interviews: Sequence[str],
               roles: dict[str, str], taken: set[str], n_examples: int = 3) -> dict:
    """A draft codebook entry for an emergent theme: id, name, definition, keywords, examples.

    The definition is drafted from the keywords and the most central quote; the researcher
    is expected to rewrite it.
    """
    from .analysis import prose_list
    from .quotes import Candidate, select_quotes
    candidates = [Candidate(m, texts[m], interviews[m], roles.get(interviews[m], interviews[m]),
                            s) for m, s in zip(theme.members, theme.similarity)]
    quotes = select_quotes(candidates, n_examples, max_words=40)
    head = re.split(r", | and ", theme.label)[0] if theme.label != "Unlabelled" else theme.key
    base = "emergent." + (re.sub(r"[^a-z0-9]+", "-", head.lower()).strip("-") or theme.key)
    code_id, n = base, 2
    while code_id in taken:
        code_id, n = f"{base}-{n}", n + 1
    taken.add(code_id)
    people = len({interviews[m] for m in theme.members})
    kws = list(theme.keywords[:5])
    topic = prose_list(kws) if kws else "this"
    definition = (f"Talk about {topic}. Drafted from an emergent theme raised by {people} "
                  f"interviewee(s) in {len(theme.members)} segments")
    if quotes:
        definition += f", e.g. \"{quotes[0].text}\" ({quotes[0].candidate.role})"
    return {"id": code_id, "name": theme.label, "definition": definition + ".",
            "keywords": list(theme.keywords), "examples": [q.text for q in quotes]}


def suggested_codebook(themes: Sequence[Theme], texts: Sequence[str],
                       interviews: Sequence[str], roles: dict[str, str],
                       codebook_name: str = "") -> str:
    """YAML of a codebook holding one draft code per emergent theme (loads with the codebook
    loader, so it can be merged into the project's codebook by hand)."""
    import yaml
    from .codebook import parse_codebook
    taken: set[str] = set()
    codes = [draft_code(t, texts, interviews, roles, taken) for t in themes
             if t.parent_code is None]
    data = {"name": f"Suggested codes{' for ' + codebook_name if codebook_name else ''}",
            "version": "draft",
            "description": "Draft codes from emergent themes (talk no code covers). Review, "
                           "rewrite the definitions and copy the ones worth keeping into the "
                           "project's codebook.",
            "codes": codes}
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    parse_codebook(text, "<suggested codes>")  # what is written must load
    return text


def write_suggested_codes(project, result: ThemeResult, path=None):
    """Write the emergent themes of ``result`` as draft codes; returns (path, number of codes).

    Raises:
        ProjectError: there are no emergent themes to suggest.
    """
    from pathlib import Path
    from .errors import ProjectError
    from .report import write_atomic
    emergent = [t for t in result.themes if t.parent_code is None]
    if not emergent:
        raise ProjectError(f"{project.root}: no emergent themes to suggest as codes (the "
                           "codebook covers the talk, or too few uncoded segments; see the "
                           "min_theme_segments setting)")
    segments = project.store.respondent_segments()
    roles = {}
    for row in project.store.interviews():
        roles[row["id"]] = json.loads(row["metadata"]).get("role") or row["id"]
    text = suggested_codebook(emergent, [s["text"] for s in segments],
                              [s["interview_id"] for s in segments], roles,
                              project.codebook.name)
    path = Path(path) if path else project.reports_dir / "suggested-codes.yaml"
    write_atomic(path, text)
    return path, len(emergent)

import re

from qualcx.analysis import Corpus, pick_quotes
from qualcx.quotes import Candidate, select_quotes, sentences, trim

TALKATIVE = [f"The renewal call went badly because the invoice was wrong again, case {i}."
             for i in range(8)]


def _candidates():
    out = [Candidate(i, t + " We had to fix it by hand before the customer would sign.",
                     "I1", "Account manager", 0.95 - i * 0.01) for i, t in enumerate(TALKATIVE)]
    out.append(Candidate(100, "Our invoices came late for months and the finance team at the "
                         "customer complained at every renewal meeting we had.", "I2",
                         "Support lead", 0.7))
    out.append(Candidate(101, "Billing errors were the first thing the customer raised when "
                         "we talked about renewing the contract this spring.", "I3",
                         "Sales lead", 0.6))
    return out


def test_quotes_spread_across_interviewees():
    chosen = select_quotes(_candidates(), 3)
    assert {q.candidate.interview for q in chosen} == {"I1", "I2", "I3"}
    assert chosen[0].candidate.key == 0  # the most central comes first


def test_an_interviewee_is_quoted_twice_only_when_no_one_else_is_left():
    chosen = select_quotes(_candidates(), 4)
    assert [q.candidate.interview for q in chosen].count("I1") == 2


def test_quotes_differ_from_each_other():
    same = "The support team answered our ticket within an hour and explained the fix well."
    cands = [Candidate(0, same, "I1", "a", 0.9), Candidate(1, same, "I2", "b", 0.89),
             Candidate(2, "Pricing went up twenty percent and two small plumbing firms left us "
                          "at renewal time.", "I3", "c", 0.7)]
    keys = [q.candidate.key for q in select_quotes(cands, 2)]
    assert keys == [0, 2]


def test_long_segments_are_trimmed_to_whole_central_sentences():
    text = ("We talked about the weather first. It was raining all week in Tallinn. "
            "The invoice errors made the customer furious at renewal. "
            "Invoice errors at renewal are the worst thing for trust. "
            "Then we went to lunch at a nice place near the harbour with the whole team. "
            "Afterwards everyone went home early because of the weather and the long drive.")
    spans = sentences(text)
    scores = [0, 0, 1, 1, 0, 0]
    start, end = trim(text, max_words=20, sentence_scores=scores)
    excerpt = text[start:end]
    assert excerpt.startswith("The invoice errors") and excerpt.endswith("trust.")
    assert (start, end) in [(a, b) for a, _ in spans for _, b in spans]
    long = [Candidate(0, text, "I1", "a", 0.9)]
    quote = select_quotes(long, 1, max_words=20)[0]
    assert re.match(r"^[A-Z].*[.!?]$", quote.text) and len(quote.text.split()) <= 20
    assert text[quote.start:quote.end] == quote.text


def test_selection_is_deterministic():
    assert select_quotes(_candidates(), 3) == select_quotes(_candidates(), 3)


def test_pick_quotes_attributes_and_keeps_offsets():
    segs = {c.key: {"text": c.text, "interview_id": c.interview, "start": 10 * c.key,
                    "end": 10 * c.key + len(c.text)} for c in _candidates()}
    interviews = [{"id": i, "role": r} for i, r in
                  (("I1", "Account manager"), ("I2", "Support lead"), ("I3", "Sales lead"))]
    corpus = Corpus(interviews, segs, {}, [])
    ranked = [(c.key, c.centrality) for c in _candidates()]
    quotes = pick_quotes(corpus, ranked, 3)
    assert [(q.interview, q.role) for q in quotes] == \
        [("I1", "Account manager"), ("I2", "Support lead"), ("I3", "Sales lead")]
    assert all(q.start == 10 * q.segment_id for q in quotes)


def test_a_quote_shows_where_the_speaker_s_turn_was_left_out():
    text = ("We talked about the weather first. It was raining all week in Tallinn. "
            "The invoice errors made the customer furious at renewal. "
            "Invoice errors at renewal are the worst thing for trust. "
            "Then we went to lunch at a nice place near the harbour with the whole team. "
            "Afterwards everyone went home early because of the weather and the long drive.")
    whole = "Invoice errors at renewal are the worst thing for trust."

    def quote(seg_text, start, turn_start, turn_end):
        segs = {0: {"text": seg_text, "interview_id": "I1", "start": start,
                    "end": start + len(seg_text), "turn_start": turn_start,
                    "turn_end": turn_end}}
        corpus = Corpus([{"id": "I1", "role": "Account manager"}], segs, {}, [])
        return pick_quotes(corpus, [(0, 0.9)], 1)[0]
    # the segment is the whole turn: nothing left out
    q = quote(whole, 100, 100, 100 + len(whole))
    assert (q.cut_before, q.cut_after, q.shown) == (False, False, whole)
    # the turn goes on after this segment, and began before it
    assert quote(whole, 100, 100, 300).shown == whole + " …"
    assert quote(whole, 100, 40, 100 + len(whole)).shown == "… " + whole
    # a long segment cut to its central sentences, in a turn that is just this segment
    q = quote(text, 0, 0, len(text))
    assert q.text != text and (q.cut_before, q.cut_after) == (q.start > 0, q.end < len(text))
    assert q.shown == ("… " if q.start else "") + q.text + (" …" if q.end < len(text) else "")


def test_of_runs_about_as_central_the_trim_keeps_the_one_filling_the_room():
    sentence = "This sentence has exactly ten words in it, you see."
    text = " ".join([sentence] * 5)
    # the second sentence is a little more central alone; three together fill the 30 words
    start, end = trim(text, max_words=30, sentence_scores=[0.3, 0.36, 0.3, 0.3, 0.3])
    assert len(text[start:end].split()) == 30
    # a sentence far more central than its neighbours is still quoted alone
    start, end = trim(text, max_words=30, sentence_scores=[0.1, 0.6, 0.1, 0.1, 0.1])
    assert text[start:end] == sentence

"""Text handling shared by the chunker, retrieval, the quote composer, the LLM citer and follow-ups.

A leaf module: sentence splitting, keyword tokenizing/stemming, folding for comparison, and the
small sentence-shape tests (does it end a sentence, does it open on a reference to what came
before) that quote selection and the answer eval both rely on.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Collection
from typing import Any

import Stemmer

# A sentence ends at . ! ? (and any closing quotes/brackets, group 1) before whitespace and
# a capital letter or digit (possibly after an opening quote/bracket).
_SENTENCE_BOUNDARY = re.compile(r"(?<=[.!?])([\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9])")

_ABBREVIATIONS = frozenset(
    {"al", "e.g", "i.e", "vs", "cf", "dr", "mr", "mrs", "ms", "st", "prof", "s.t", "w.r.t"}
)


def sentence_spans(text: str, start: int = 0) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences in `text[start:]`; the text between them is spaces."""
    spans: list[tuple[int, int]] = []
    begin = start
    for match in _SENTENCE_BOUNDARY.finditer(text, start):
        before = text[begin : match.start()].rsplit(None, 1)
        last_word = before[-1].rstrip(".!?").lstrip("(\"'“‘").casefold() if before else ""
        # "et al. (2022)", "e.g. The", "J. Smith" do not end a sentence.
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        spans.append((begin, match.end(1)))
        begin = match.end()
    if text[begin:].strip():
        spans.append((begin, len(text.rstrip())))
    return spans


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences; each sentence is an exact substring of `text`."""
    return [text[a:b].strip() for a, b in sentence_spans(text) if text[a:b].strip()]


# Keyword tokens: the Snowball English stemmer (PyStemmer, the one bm25s supports) over our
# own stop-word list. Measured on the real corpus (dev / extra MRR@10; answer-set rows whose
# gold passage is in the top 10 of 27; answers eval gold_in_quotes):
#   hand-written stemmer + this list + alias table   0.864 / 0.945; 18; 0.609 (before)
#   Snowball + this list + alias table               0.865 / 0.945; 19; 0.652
#   Snowball + this list, no aliases (chosen)        0.865 / 0.945; 20; 0.652
#   Snowball + NLTK's 179-word list (bm25s EN_PLUS)  0.865 / 0.859; 19; 0.609
#   Snowball + both lists                            0.865 / 0.901; 19; 0.609
# The library stemmer is as good or better everywhere, so it replaces the hand-written one;
# NLTK's list drops words a question leans on ("between", "only", "other", "up") and keeps
# ones it does not ("would", "could", "get"), so the short list stays. The alias table
# ("evals" -> "evaluations") measured no gain on any set and goes; dense retrieval and the
# corpus's own close forms (`close_forms`) join such words instead.
_STOPWORDS = frozenset(
    """a about after all also am an and any are as at be been before being but by can could
    did do does doing for from get got had has have having he her here him his how i if in
    into is it its just me might more most my no not of on or our out own she should so some
    such than that the their them then there these they this those to too very was we were
    what when where which while who whom why will with would you your yours""".split()
)
# Words that questions use to talk *about* a post ("what did the author say in the post...")
# rather than about its subject; matching them in passages is noise.
_QUERY_STOPWORDS = frozenset(
    """according article author authors blog describe described describes essay explain
    explains mention mentioned mentions piece post say said says writer writes wrote""".split()
    # Chat shorthand carries register, not a subject: "where do ppl find jobs" is about jobs,
    # and no message should be declined because the posts never write "ppl" or "rn".
    + """ppl ppls lol lmao rn tbh idk imo imho btw pls plz thx ty kinda sorta gonna wanna
    gotta ya yeah ok okay""".split()
    # Stop words as chat types them, without the apostrophe: "whats the best way…" must not
    # leave "what" behind as a word the posts never use.
    + """whats thats hows wheres whos dont doesnt didnt isnt arent wasnt werent cant couldnt
    wont wouldnt shouldnt havent hasnt im ive youre youve theyre theyve weve""".split()
)
# The posts' field, named in a question ("should i quit my job to do ai safety full time?"),
# says nothing about which passage answers it: every post is about it, and a ranking that
# matches it favours the sentences that happen to name the field. The quote composer ranks
# sentences by the question without it; retrieval and the relevance gate read it whole (see the
# README, "Quotes chosen by what is asked").
_FIELD = r"(?:ai|agi)[\s-]+(?:safety|alignment)"
# "AI safety job postings": the field says which jobs, and the jobs are what is asked about.
_FIELD_NOUNS = (
    r"(?:jobs?|roles?|careers?|positions?|postings?|openings?|orgs?|organi[sz]ations?|"
    r"research|researchers?|work|people|folks)\b"
)
_FIELD_PHRASE = re.compile(
    rf"\b{_FIELD}\s+(?={_FIELD_NOUNS})"
    # "…in AI safety", "…for the AI safety community": where the asker would be. "Is AI
    # safety oversaturated?" and "how do I get into AI safety?" ask about the field itself.
    rf"|\s*\b(?:in|for|of|on|to|within|about)\s+(?:the\s+)?"
    rf"(?:{_FIELD}(?!\s+{_FIELD_NOUNS})|"
    # "working on alignment" names the field too; "in alignment theory" is a topic of it.
    r"(?:alignment|safety)(?![\s-]+(?!(?:field|space|community|world|ecosystem)\b)\w))"
    r"(?:\s+(?:field|space|community|world|ecosystem))?\b",
    re.IGNORECASE,
)


def without_field(text: str) -> str:
    """`text` without the field's name, when a word of its own remains."""
    stripped = _FIELD_PHRASE.sub("", text)
    if stripped == text or not keyword_tokens(stripped, query=True):
        return text
    return stripped


# Sentences of a chat message: they end at . ? ! whatever case the next word starts with.
_MESSAGE_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")


def message_sentences(text: str) -> list[str]:
    """The sentences of a message as people type them ("…null result. is that normal?")."""
    return [c.strip() for c in _MESSAGE_SENTENCE_END.split(text) if c.strip()]


_QUERY_DROP = _STOPWORDS | _QUERY_STOPWORDS


def _skeleton(word: str) -> str:
    """A word as chat types it without its vowels, first letter kept: "should" -> "shld"."""
    return word[:1] + "".join(c for c in word[1:] if c not in "aeiouy")


# Stop words typed without their vowels ("shld i", "wht did he", "cld i") are stop words too:
# the posts never write "shld", and no question is about it. Only skeletons of three letters or
# more (two-letter tokens name nothing anyway) that drop a vowel between two letters: "int"
# and "als" (only a last vowel gone) and "yrs" are as often "integer", "ALS", "years".
_STOPWORD_SKELETONS = frozenset(
    _skeleton(w)
    for w in _STOPWORDS
    if len(_skeleton(w)) >= 3
    and _skeleton(w) not in _STOPWORDS
    and w[0] != "y"
    and re.search(r"[aeiouy][^aeiouy]", w[1:]) is not None
)
_QUERY_DROP = _QUERY_DROP | _STOPWORD_SKELETONS
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
# "I'm", "you've", "we'd": the pronoun is a stop word, so the contraction is one too. Negations
# stay ("wasn't for him" finds the passage that says so; dropping them cost extra MRR 0.02).
_CLITIC = re.compile(r"'(?:m|ve|re|ll|d)$")
_POSSESSIVE = re.compile(r"'s?$")
# Snowball keeps British and American spellings apart ("organis" / "organ"); "-isation" is
# all but always the British "-ization" ("-ise" is not: "promise", "expertise").
_BRITISH = re.compile(r"isation(s?)$")
# A PyStemmer instance is not thread-safe (it keeps per-call buffers and a cache), and
# questions are answered on worker threads: one stemmer per thread, made on first use.
_STEMMERS = threading.local()


def _stemmer() -> Any:
    stemmer = getattr(_STEMMERS, "english", None)
    if stemmer is None:
        stemmer = _STEMMERS.english = Stemmer.Stemmer("english")
    return stemmer


@functools.lru_cache(maxsize=65536)
def _stem(token: str) -> str:
    """The Snowball (Porter2) stem of a lower-cased word: 'engineers'/'engineering' -> 'engin'."""
    return str(_stemmer().stemWord(_BRITISH.sub(r"ization\1", token)))


def word_forms(text: str) -> list[str]:
    """The words of `text` as typed: lower-cased, apostrophes straightened, not stemmed."""
    return _TOKEN.findall(text.lower().replace("’", "'").replace("‘", "'"))


def keyword_tokens(text: str, query: bool = False) -> list[str]:
    """Lower-cased, stop-word-free, stemmed tokens for BM25 (queries drop meta words too)."""
    drop = _QUERY_DROP if query else _STOPWORDS
    out: list[str] = []
    for token in word_forms(text):
        token = _CLITIC.sub("", _POSSESSIVE.sub("", token))
        # "security-related" also counts as "security" and "related".
        parts = [token, *token.split("-")] if "-" in token else [token]
        for part in parts:
            if part and part not in drop:
                out.append(_stem(part))
    return out


def _within_one_edit(a: str, b: str) -> bool:
    """Whether `b` is `a` with one letter changed, added or dropped ("independant")."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = next((n for n, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
    return a[i + (len(a) == len(b)) :] == b[i + 1 :]


# A keyword token this short is a word of its own ("paid", "plan"); only longer words are
# read as another form of a corpus word.
_MIN_VARIANT = 5


def long_forms(
    token: str, vocabulary: Collection[str], limit: int = 3, *, stop_words: bool = False
) -> list[str]:
    """Corpus words a chat shorthand stands for: a three- or four-letter token the posts never
    use that opens longer corpus words ("gov" for governance, "reqs" for requirements).
    Shorthand for a stop word ("tho", "thru") stands for no corpus word unless `stop_words`."""
    if token in vocabulary or not 3 <= len(token) <= 4 or not token.isalpha():
        return []
    if not stop_words and any(word.startswith(token) for word in _STOPWORDS):
        return []
    found = sorted(w for w in vocabulary if len(w) >= len(token) + 2 and w.startswith(token))
    found.sort(key=len)
    return found[:limit]


def close_forms(token: str, vocabulary: Collection[str], limit: int = 3) -> list[str]:
    """Corpus words that look like another form or a typo of `token` (empty if it is known).

    "burnt" finds "burnout" and "burn" (all but the last two letters shared), "independant"
    finds "independent" (one edit). What the stemmer cannot join, the corpus's own
    vocabulary does: no alias or synonym list.
    """
    if token in vocabulary or token.isdigit() or len(token) < _MIN_VARIANT:
        return []
    head = token[: max(4, len(token) - 2)]
    found = [
        w
        for w in vocabulary
        if w.startswith(head) or (w[:2] == token[:2] and _within_one_edit(token, w))
    ]
    found.sort(key=lambda w: (abs(len(w) - len(token)), w))
    return found[:limit]


_CHAR_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
    }
)
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Case-fold, map curly quotes and dashes to ASCII, collapse whitespace."""
    return _SPACES.sub(" ", text.translate(_CHAR_MAP).casefold()).strip()


# A quote that opens on one of these leans on the sentence before it ("This is much easier…",
# "But that…", "They…"): it cannot stand alone.
_DANGLING_OPENERS = frozenset(
    """this these that those it its they them their so but and or also however which
    such then thus hence therefore he she his her him here there instead still yet
    otherwise likewise similarly additionally furthermore moreover besides""".split()
)
_FIRST_WORD = re.compile(r"[\"'“‘(\[*_]*([A-Za-z]+)")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]*_]*$")


# Punctuation that clings to a typed word ("paid?", "(india)", "“pivot”"): stripped to read
# the word itself.
WORD_EDGE = "?!.,;:()\"'“”‘’"


def first_word(text: str) -> str:
    """The first word of `text`, lower-cased ('' when it has none)."""
    match = _FIRST_WORD.match(text.lstrip())
    return match.group(1).casefold() if match else ""


# "There are…" and "It's worth…" open on a dummy subject, not on a reference back.
_EXISTENTIAL = re.compile(
    r"^[\"'“‘(]*(?:(?:these|those) days\b|this (?:year|week|month)\b|"
    r"there(?:'s|’s| is| are| was| were| will| may| might| seems?| could)\b|"
    r"here (?:are|is) (?:some|a few|several|my|the|\w+ (?:ways|things|topics|steps))\b|"
    r"it(?:'s|’s| is| was| can be| may be| might be| seems| takes| helps| pays)\s+"
    r"(?:(?:also|often|usually|generally|really|probably|clearly|definitely|still|very|"
    r"quite|entirely|not|much|far|almost|always|sometimes)\s+)*"
    r"(?:worth|important|hard|harder|easy|easier|a good idea|a bad idea|possible|impossible|"
    r"fine|ok|okay|likely|unlikely|unclear|clear|true|helpful|useful|valuable|crucial|common|"
    r"normal|better|best|rare|difficult|reasonable|natural|tempting|vital|essential|"
    r"surprisingly|good|bad|great|totally|completely|perfectly|a lot|time|tough))",
    re.IGNORECASE,
)


# A pronoun in a sentence's opening clause ("If you have it, …", "To learn about them, …",
# "As you do so, …") points back as surely as one in first position.
_CLAUSE_PRONOUN = re.compile(
    r"\b(it(?! comes\b)|them|this|these|those|him|her|his|they|their|do so)\b", re.IGNORECASE
)


def _first_clause(text: str) -> str:
    """A sentence up to its first comma, semicolon, colon or sentence end."""
    return re.split(r"[,;:]|[.!?](?:\s|$)", text, maxsplit=1)[0]


def _opening_clause(text: str) -> str:
    return " ".join(_first_clause(text).split()[:6])


# A discourse marker before the sentence proper ("Essentially, this is the concept of
# comparative advantage", "In short, this is because…", "Note that it is good to have a
# plan…"): what follows it decides.
_DISCOURSE_MARKER = re.compile(
    r"^[\"'“‘(]*(?:(?:essentially|basically|in short|in other words|in particular|specifically|"
    r"in fact|ultimately|overall|importantly|put simply|simply put|in practice|concretely|"
    r"more generally|of course|naturally|admittedly|realistically|in the end|to be fair)\s*,\s*|"
    r"(?:note|remember|keep in mind|bear in mind)\s+that\s+)",
    re.IGNORECASE,
)


# "(…) I’d definitely recommend it": an aside in brackets, then the sentence proper.
_LEADING_ASIDE = re.compile(r"^\([^()]{3,}\)\s+\S")
# A subject and a bare auxiliary, its verb left out because the sentence before said it
# ("…think they need to spend a long time on the theory first. You don’t—you can get started…",
# "Most people won't. You should."): an answer to what came before, meaningless alone.
_ELLIPTICAL = re.compile(
    r"^[\"'“‘(]*(?:you|we|they|i|it|he|she|people|most people|one)\s+"
    r"(?:(?:do|does|did|could|would|should|must|need|have|has|are|is|was|were)(?:n['’]t)?|"
    r"can(?:not|['’]t)?|will|won['’]t)(?:\s+not)?\s*(?:[—–]|\s-\s|[,;:.!](?:\s|$)|$)",
    re.IGNORECASE,
)


def opens_dangling(text: str) -> bool:
    """Whether a sentence opens on a reference to what came before it, or on an aside in
    brackets that the sentence goes on after ("(In fact, my next project would not have
    happened without …) I’d definitely recommend it…"): the aside qualifies what came before;
    or on a bare auxiliary whose verb the sentence before gave ("You don’t—you can…")."""
    if _LEADING_ASIDE.match(text.lstrip()) or _ELLIPTICAL.match(text.lstrip()):
        return True
    marker = _DISCOURSE_MARKER.match(text.lstrip())
    if marker:
        return opens_dangling(text.lstrip()[marker.end() :])
    if _EXISTENTIAL.match(text.lstrip()):
        return False
    if _CLAUSE_PRONOUN.search(_opening_clause(text)):
        return True
    word = first_word(text)
    if word in {"this", "that", "these", "those"}:
        # "This post…"/"That said" still point back; "These days" does not.
        rest = text.lstrip().split(None, 2)
        second = rest[1].casefold().strip(",.") if len(rest) > 1 else ""
        return second not in {"days", "year", "week", "month"}
    return word in _DANGLING_OPENERS


# Pronouns that may stand for the topic a heading names ("What is the most impactful work?"
# then "I spent a lot of time trying to figure this out…").
_TOPIC_PRONOUNS = frozenset({"this", "that", "it", "these"})


def may_mean_the_heading(text: str) -> bool:
    """Whether a sentence leans on a topic it does not name, which its heading may name: by a
    pronoun in its first clause ("This is…", "I spent a lot of time trying to figure this
    out, and…"), not by a connective ("So…", "But…") or a pointer ahead ("Here’s a list…")."""
    word = first_word(text)
    if word in _TOPIC_PRONOUNS:
        return True
    head = set(re.findall(r"[a-z]+", _first_clause(text).casefold()))
    return word not in _DANGLING_OPENERS and bool(_TOPIC_PRONOUNS & head)


# Function words of the languages newcomers most often write in besides English (Spanish,
# Portuguese, French, German, Italian), none of them an English word in its own right.
_FOREIGN_WORDS = frozenset(
    """de la el los las en que qué como cómo para por una es del al sobre pero más und der das
    ich wie mit nicht ist ein eine auf für kann le les des est pour une du je et dans pas sur
    avec não uma em com você di il che sono della""".split()
)


def reads_as_english(text: str) -> bool:
    """Whether a message reads as English: not mostly in another script, and not using more
    function words of another language than of English ("¿Cómo empiezo en seguridad de IA?",
    "Wie fange ich mit KI-Sicherheit an?"). A short or telegraphic English message ("MATS vs
    PhD", "sourdough starter smells weird") has neither, and is English."""
    letters = [ch for ch in text if ch.isalpha()]
    if letters and 2 * sum(ord(ch) > 0x24F for ch in letters) > len(letters):
        return False  # Cyrillic, CJK, Arabic…: the posts are in English
    words = re.findall(r"[^\W\d_]+", text.casefold())
    foreign = sum(w in _FOREIGN_WORDS for w in words)
    english = sum(w in _STOPWORDS for w in words)
    return foreign < 2 or foreign <= english


def ends_sentence(text: str) -> bool:
    """Whether `text` ends where a sentence ends (. ! ? …, maybe inside closing quotes)."""
    return bool(_SENTENCE_END.search(text.rstrip()))


# A list item's marker ("- ", "3. ", "2) "), maybe inside a block quote ("> - ").
LIST_MARKER = re.compile(r"^\s*(?:>\s?)*(?:[-*+]|\d+[.)])\s+")

# A list item of at most this many words, its marker not counted, names something in a list
# ("1. MLAB", "2. ARENA") rather than making a point of its own: the chunker keeps such items
# together, and the composer quotes them only with the lead-in that says what they are.
SHORT_ITEM_WORDS = 11


def item_words(line: str) -> int:
    """How many words a list item's line says, its marker ("- ", "3. ") not counted."""
    marker = LIST_MARKER.match(line)
    return len(line[marker.end() if marker else 0 :].split())


def is_short_item(line: str) -> bool:
    """Whether a list item's line names something rather than makes a point (SHORT_ITEM_WORDS)."""
    return item_words(line) <= SHORT_ITEM_WORDS


def ends_quote(text: str) -> bool:
    """Whether a quote ends where a sentence ends or on a whole list item: "…(roughly in
    order):\n1. MLAB\n2. ARENA" is complete though its items have no full stops."""
    lines = text.rstrip().split("\n")
    return ends_sentence(text) or (len(lines) > 1 and bool(LIST_MARKER.match(lines[-1])))


_WORD = re.compile(r"[a-z0-9]+")


def word_overlap(query: str, text: str) -> float:
    """Share of the query's words that also occur in `text`."""
    q = set(_WORD.findall(query.lower()))
    t = set(_WORD.findall(text.lower()))
    return len(q & t) / (len(q) or 1)


_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]+`", re.DOTALL)


def without_code(text: str) -> str:
    """A chat message without its code (```fenced``` or `inline`): "```def f(x)``` is this
    enough python?" asks about the Python, not about "def"."""
    return " ".join(_CODE.sub(" ", text).split())


def clean_text(text: str) -> str:
    """`text` as valid Unicode: undecodable bytes (lone surrogates) become U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")  # bytes a reader could not decode
        except UnicodeEncodeError:
            return text.encode("utf-8", "replace").decode("utf-8")
        return raw.decode("utf-8", "replace")


# The author speaking of themselves: "I", "I'm", "my", "me", "myself" in any case ("My plan
# was…" as much as "…my plan"), but not the "i" of "i.e.".
_FIRST_PERSON = re.compile(r"\b(?:i(?!\.e\.)|me|my|myself)\b", re.IGNORECASE)


def speaks_as_author(text: str) -> bool:
    """Whether `text` says something in the first person ("I quit my job", "My advice…")."""
    return bool(_FIRST_PERSON.search(text))

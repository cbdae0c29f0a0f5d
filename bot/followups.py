"""Follow-ups without an LLM: carry the conversation's topic into the search, resolve "he/she".

A follow-up ("why?", "what about for someone older?", "how did he turn it around?", "and for
governance?") leans on the turn before it. It is searched, and judged in or out of scope, as
the merged question: the previous question plus this one. Who "he"/"the author" is comes from
the posts the previous reply quoted; "why?" and "tell me more" continue after the quotes already
shown instead of starting over.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.models import Turn
from bot.text import keyword_tokens, message_sentences, speaks_as_author

# Words that only thank or acknowledge ("thanks, that helps!", "ok cool", "got it 👍").
_ACKNOWLEDGING = frozenset(
    "thanks thank thx ty tysm tyvm cheers you u ok okay k kk cool great awesome nice perfect "
    "got it makes sense that this helps helped helpful useful very so much a lot really super "
    "lol haha good to know will do sounds wow amazing appreciate appreciated alright sure yes "
    "yeah yep noted all the post answer advice info bit little lot much actually mate man bro "
    "dude folks definitely totally exactly needed clears up clear insightful interesting "
    "kinda kind now".split()
)
_ACK_THANKS = frozenset("thanks thank thx ty tysm tyvm cheers appreciate appreciated".split())
# Words that ask: a message holding one asks something, with or without a "?" ("why is that").
_ASKING = frozenset("why how what when where who which whats hows".split())


# ... the same, as keyword tokens (stemmed, stop words gone: "this was really helpful").
_ACK_TOKENS = frozenset(keyword_tokens(" ".join(_ACKNOWLEDGING)))


def acknowledges(text: str) -> bool:
    """Whether a message only thanks or acknowledges ("thanks, that helps!", "ok cool", "👍"):
    it asks nothing, so it gets no quotes. Anything that asks ("ok, and for governance?") or
    says more ("thanks! also, should I do a PhD") is a question. Small words do not count:
    "thank you so much, this was really helpful!" only thanks."""
    if "?" in text:
        return False
    words = _chat_words(text)
    if _ASKING & set(words):
        return False
    if not words:
        # Emoji or punctuation alone ("👍", "🙏"): a reaction, unless it is nothing at all.
        return any(not ch.isascii() and not ch.isspace() for ch in text)
    if len(words) > 12:
        return False
    tokens = keyword_tokens(" ".join(words))
    return all(t in _ACK_TOKENS for t in tokens) and (thanks(text) or len(words) <= 3)


def thanks(text: str) -> bool:
    """Whether a message says thank you ("thx", "cheers", "much appreciated")."""
    return bool(_ACK_THANKS & set(_chat_words(text)))


_GREETING_WORDS = frozenset(
    "hi hello hey hiya heya yo morning evening there all everyone folks".split()
)


def greets(text: str) -> bool:
    """Whether a message only says hello ("hi", "hey there!")."""
    words = _chat_words(text)
    return bool(words) and len(words) <= 4 and all(w in _GREETING_WORDS for w in words)


def small_talk(text: str) -> bool:
    """Whether a message only thanks, acknowledges or greets: it asks nothing of the posts."""
    return acknowledges(text) or greets(text)


def _chat_words(text: str) -> list[str]:
    """A chat message's words, lower case, curly apostrophes made straight ("that’s")."""
    return re.findall(r"[a-z']+", text.casefold().replace("’", "'"))


# What the posts are about as a whole ("what are the five posts about? give me an overview",
# "tl;dr what do these posts say"): the bot's description of its posts answers it; their
# words are no concept the posts lack.
_POSTS = r"(?:the|your|these|those)(?: (?:five|5))? (?:posts|sources|articles)"
# Asking for an overview: of the posts, or bare right after a question about them ("what are
# the five posts about? give me an overview"). Alone, after an answer, "give me a summary" asks
# for that answer in brief.
_BARE_OVERVIEW = r"(?:(?:give|show) me |can (?:you|u) give (?:me )?)?an? (?:overview|summary)"
_POSTS_OVERVIEW = (
    rf"(?:tl ?dr )?(?:what (?:are|is) {_POSTS} (?:about|on)|"
    rf"what do {_POSTS} (?:say|cover|talk about)|"
    rf"{_BARE_OVERVIEW} of {_POSTS}|"
    rf"summari[sz]e {_POSTS}(?: for me)?)"
)
# A question about the bot itself ("what can you do?", "help", "which posts do you use?",
# "who wrote the posts?"), asked as a whole message: "what can you do with a physics degree in
# AI safety?" is a career question.
_ABOUT_BOT = re.compile(
    rf"(?:(?:hi|hey|hello)\W+)?(?:{_POSTS_OVERVIEW}(?: {_POSTS_OVERVIEW}| {_BARE_OVERVIEW})?|"
    r"help|about|"
    r"what can (?:you|u) (?:do|help with)|how can (?:you|u) help(?: me)?|who are (?:you|u)|"
    r"what are (?:you|u)|what is this(?: bot)?|how do (?:you|u) work|what do (?:you|u) know|"
    r"what can i ask(?: (?:you|u))?|"
    r"(?:what|which) (?:posts|sources|articles) (?:do|did) (?:you|u) "
    r"(?:use|know|have|draw on|read)|"
    r"where do (?:you|u) get (?:your|the) (?:answers|info|information)(?: from)?|"
    r"who wrote (?:the|your|these|those) (?:posts|sources|articles)(?: (?:you|u) use)?|"
    r"(?:(?:when|what year) (?:were|was|are) (?:the|your|these|those) (?:posts|sources|articles) "
    r"(?:written|published|from)|how (?:old|recent|current) are (?:the|your|these|those) "
    r"(?:posts|sources|articles)|are (?:the|your|these|those) (?:posts|sources|articles) "
    r"(?:still )?(?:up to date|up-to-date|outdated|out of date|current|recent))"
    r"(?: are they (?:still )?(?:up to date|up-to-date|outdated|out of date|current|recent))?)",
    re.IGNORECASE,
)


def asks_about_bot(text: str) -> bool:
    """Whether a message asks what the bot is or does, not a career question."""
    plain = " ".join(re.sub(r"[^\w\s']", " ", text.casefold().replace("’", "'")).split())
    return bool(_ABOUT_BOT.fullmatch(plain))


def without_acknowledgements(history: Sequence[Turn]) -> list[Turn]:
    """The conversation without its thank-yous and their replies: "tell me more" after
    "thanks!" is about the answer before the thanks."""
    kept: list[Turn] = []
    skip_reply = False
    for turn in history:
        if turn.role == "user":
            skip_reply = small_talk(turn.text)
            if not skip_reply:
                kept.append(turn)
        elif not skip_reply:
            kept.append(turn)
    return kept


def without_asides(history: Sequence[Turn], declined: str) -> list[Turn]:
    """The conversation without the questions declined after its opening question (replies
    opening on `declined`) and their replies: after "ok. are there remote roles then?" was
    declined for "remote", "and job boards?" follows up on finding jobs, the question before."""
    kept: list[Turn] = []
    skip_reply = False
    for at, turn in enumerate(history):
        if turn.role == "user":
            reply = history[at + 1] if at + 1 < len(history) else None
            skip_reply = (
                reply is not None
                and reply.role == "assistant"
                and reply.text.startswith(declined)
                and any(t.role == "user" for t in kept)
            )
            if not skip_reply:
                kept.append(turn)
        elif not skip_reply:
            kept.append(turn)
    return kept


# What a reply to the last answer may open on before what it asks ("wait, so is that…",
# "hmm but doesn't that…").
_OPENER = r"^\W*(?:(?:and|but|so|ok|okay|wait|hm+|hmm+)\W+)*"
_CUES = re.compile(
    r"^\W*(and|but|also|so|what about|how about|what if|why|how come|then|ok|okay|nice|thanks|"
    r"cool|great|is that|does that|do they|did (?:he|she|they)|how did|tell me more|more on|"
    r"any|same|even|wait|no|nah|i meant|i was asking|"
    # pushing back: "isn't that super competitive though?", "doesn't that take years?"
    r"(?:isn|aren|doesn|don|wouldn|won)['’]?t)\b",
    re.IGNORECASE,
)
# Leaning on the last reply wherever it stands, however long the message: "does the same
# advice apply to academics?", "would you say the same for governance?", "what would the
# first step look like then?", "can you say more about the mentor part?". ("…jobs in other
# countries instead" is often a question of its own.)
_LEANS = re.compile(
    r"\b(?:the same|say more|more about (?:the|that|this)|the first step|"
    r"(?:that|this|the (?:\w+ ){1,2})(?:part|bit))\b|"
    r"\b(?:then|too|as well)\W*$",
    re.IGNORECASE,
)
# Asking what somebody would make of the question just asked, as the whole message: "what
# would richard ngo say?", "and what does jay think?".
_THEIR_VIEW = re.compile(
    r"^\W*(?:(?:and|so|ok|okay|but|hm+)\W+)*what\s+(?:would|does|did|do)\s+(?:[\w'’.-]+\s+){1,3}"
    r"(?:say|think|recommend|suggest|advise)(?:\s+(?:about|of|on|to)\s+(?:that|this|it))?\W*$",
    re.IGNORECASE,
)
# Pushing back on what was just quoted ("isn't that super competitive though?", "but doesn't
# that take years?"): the answer is as often in the quote itself as after it.
_PUSHBACK = re.compile(
    _OPENER + r"(?:isn|aren|doesn|don|wouldn|won|wasn|weren|can|couldn|shouldn)['’]?t\b",
    re.IGNORECASE,
)
# Asking for more of what was just said, wherever it stands in the message: "can u expand,
# like what does a pitch look like", "anything else? nothing posted fits me".
# So is pushing on the last reply: "can you be more specific?", "what next?", "ok and after
# that?", "what would you do in my place?", "that doesn't answer my question".
_MORE = re.compile(
    r"\b(expand|elaborate|in practice|(?:for|an|some) examples?|anything else|what else|"
    r"any others?|any other (?:options?|ways?|ideas?|resources?)|others on|"
    # "any more?", "more?", "more like that": the rest of what was quoted, not "any more" in
    # "i cant do this any more".
    r"any ?more(?=\W*$)|^\W*more(?=\W*$)|more (?:like|of) (?:that|this|those|these)|"
    r"more specific|be (?:more )?specific|specifics|in (?:more )?detail|more concrete|"
    # "what does he mean by that?", "what do you mean": the passage just quoted, explained
    r"what (?:does|do|did) (?:he|she|they|that|this|it|you|u) (?:mean|imply)(?=\s+by\b|\W*$)|"
    r"what(?:'s|’s| is)? next|then what|after that|next steps?|step[- ]by[- ]step|"
    r"what (?:should|do) i do first|what would (?:you|u) do|if (?:you|u) were me|"
    r"in my (?:place|shoes|position)|what do (?:you|u) (?:recommend|suggest))\b",
    re.IGNORECASE,
)
MISSED = "missed"  # "that doesn't answer my question": the last reply missed
_MISSED = re.compile(
    r"^\W*(?:(?:no|nah|hmm+|um+|sorry|but|ok|okay|well)\W+)*(?:that|this|it|you)?\W*"
    r"(?:(?:doesn['’]?t|does not|didn['’]?t|did not|don['’]?t) (?:really )?(?:answer|help)|"
    r"(?:is|was|'s|’s)? ?not what i (?:asked|meant|was asking)|(?:is|was|'s|’s)? ?not (?:helpful|"
    r"relevant|it|useful)|(?:is|was|'s|’s)? ?(?:irrelevant|unhelpful|useless|off[- ]topic))"
    r"\b.{0,40}$",
    re.IGNORECASE,
)
_ANAPHORA = re.compile(
    r"\b(he|she|him|her|his|hers|they|them|their|it|that|this|those|these|there|the author|"
    r"the post|the writer|that one)\b",
    re.IGNORECASE,
)
# Somebody named by what they are: "that guy", "the author", "this person".
_NAMED_PERSON = r"(?:that|this|the)\s+(?:guy|person|author|writer)"
# "they" for one person, read from what is said of them: "what changed their mind?", "how did
# they end up there?". A bare "they" is as often the organisations ("do they hire juniors?").
_SINGULAR_THEY = (
    r"their\s+(?:own\s+)?(?:mind|views?|opinion|story|career|plans?|path|experience|background|"
    r"thinking|decision|life)|"
    r"they\s+(?:\w+\s+)?(?:change[sd]?|decided?|end(?:ed)?\s+up|feel|felt|think|thought|"
    r"switch(?:ed)?|learn(?:ed|t)?|reali[sz]e[sd]?|figured?|turn(?:ed)?|cope[sd]?|regret\w*|quit)"
)
_PERSON = re.compile(
    rf"\b(he|she|him|her|his|hers|himself|herself|{_NAMED_PERSON}|{_SINGULAR_THEY})\b",
    re.IGNORECASE,
)
# What a follow-up asks of the reply before it, read from the form of the question:
# "why?", "how come", "then why bother…" ask for the reason the post gives for what was quoted;
# "is that also true for X or just Y?", "does that apply to…" ask what qualifies it;
# "anything else?", "any others?", "can you expand" ask for more of the same passage or list.
WHY = "why"
CLARIFY = "clarify"
MORE = "more"
OUTCOME = "outcome"  # "did it actually help him?": how what was just quoted turned out
EXAMPLE = "example"  # "any examples?", "like what?": the example the post gives for the quote
SHORTER = "shorter"  # "tl;dr?": the last reply's point in one sentence
SOURCE = "source"  # "which post says that?": where the last reply's quotes come from
DATED = "dated"  # "is that still true?": when the posts quoted were written
OTHERS = "others"  # "does anyone else agree?", "did anyone push back?": other voices on it
STEP = "step"  # "what's the first step?": the action the advice just given starts with
# Asking what others make of what was just quoted: somebody other than its author, agreeing
# or not ("does anyone else agree?", "does anyone disagree?", "did anyone push back on that?").
_OTHERS = re.compile(
    r"\b(?:any(?:one|body)|some(?:one|body)|others?|other (?:people|authors|posts|folks)|"
    r"every(?:one|body)|who)(?:\s+else)?\s+(?:\w+\s+)?"
    r"(?:(?:agree[sd]?|disagree[sd]?|push(?:ed|es)?\s+back|object(?:s|ed)?)\b|"
    # "say that" ending its clause ("does anyone else think that?"), not "think that a PhD…"
    r"(?:say|says|said|think|thinks|thought)\s+(?:so|that|this|the same|otherwise|differently)"
    r"(?=\s*(?:[^\w\s]|$|too\b|as well\b|tho\b|though\b)))",
    re.IGNORECASE,
)
_DATED = re.compile(
    r"^\W*(?:(?:ok|okay|so|and|but|wait|hm+|hmm+)\W+)*(?:"
    r"(?:is|are) (?:that|this|it|those|these|they) still (?:true|the case|accurate|valid|current|"
    r"relevant|up to date|up-to-date|good advice|right)|"
    r"(?:is|are) (?:that|this|it|those|these|they) (?:up to date|up-to-date|outdated|out of date|"
    r"current|old advice|recent)|"
    r"how (?:old|recent|current) is (?:that|this|it)|"
    r"when (?:was|were) (?:that|this|it|those|these|they) (?:written|published|posted|said)|"
    r"(?:does|do) (?:that|this|it|those|these) still (?:hold|apply)"
    r")\b.{0,40}$",
    re.IGNORECASE,
)
# Asking where the last reply came from, as the whole message.
_SOURCE = re.compile(
    r"^\W*(?:(?:ok|okay|so|and|wait|cool|nice|thanks|thx)\W+)*(?:"
    r"(?:which|what) (?:post|posts|article|articles|source|sources|blog|one)\b"
    r"(?=.{0,30}\b(?:say|says|said|from|was|is)\b)(?=.{0,30}\b(?:that|this|it|those|these)\b)"
    r".{0,30}|"
    r"(?:where|who) (?:is|was|does|did|'s) (?:that|this|it)\b.{0,12}"
    r"\b(?:from|come from|said|say|written|wrote)|"
    r"who (?:said|says|wrote) (?:that|this|it)|"
    r"(?:sources?|links?|citations?|refs?|references?)(?: (?:please|pls|plz))?|"
    r"(?:can|could) (?:you|u) (?:link|cite) (?:it|that|this|the (?:post|source))"
    r")\W*$",
    re.IGNORECASE,
)
# Asking for the last reply in brief.
_SHORTER = re.compile(
    r"\b(tl;? ?dr|tldr|summar(?:y|ise|ize)|in short|short version|in a nutshell|too long|"
    r"in one sentence|bottom line|key (?:point|takeaway))\b",
    re.IGNORECASE,
)
_WHY = re.compile(r"\b(why|how come|what for|for what reason)\b", re.IGNORECASE)
# Asking for an example of what was just quoted: "any examples?", "can you give an example?",
# and, once the message is read as a follow-up, "for instance?", "like what?", "such as?".
_EXAMPLE = re.compile(
    r"\b(?:examples?|for instance|instances?)\b|"
    r"^\W*(?:(?:and|so|ok|okay|hm+)\W+)*(?:like what|such as|e\.?g\.?|for example)\W*$",
    re.IGNORECASE,
)
# Asking for the action the advice just given starts with, as the whole question: "what's the
# first step", "give me the concrete next step", "ok so where do i start". ("The first step to
# getting a visa" names a topic of its own.)
_STEP = re.compile(
    r"^\W*(?:(?:and|so|ok|okay|but|alright|then|hm+)\W+)*(?:"
    r"(?:what(?:['’]?s| is| would be| should be)|whats|give me|tell me|show me)\s+"
    r"(?:the|a|my)\s+(?:(?:very|concrete|first|next|practical|actual|immediate|1st)\s+){1,3}"
    r"steps?|where (?:do|should|would|can) i (?:even |actually )?(?:start|begin)|"
    r"what(?:['’]?s| is| would be| should be)\s+the\s+(?:one|first|single|1st)\s+thing\s+"
    r"(?:(?:i|to)\s+)?(?:(?:should|could|must|can)\s+)?(?:do|start with|try)(?:\s+first)?|"
    r"(?:the\s+)?(?:first|next|1st) (?:step|thing)(?: to do)?|how(?: (?:do|would|can) i do that)?)"
    r"(?:\s+(?:then|here|now|exactly|tho|though|for (?:me|that|this)|this (?:week|weekend)|"
    r"today|tomorrow|tonight))*\W*$",
    re.IGNORECASE,
)
# Where a chat message's first clause ends: punctuation, or a dash set off by spaces.
_CLAUSE_BREAK = r"[,;:?!]|\s[-–—]\s"
# A bare "why" opening the message before a comma or dash: "why tho, …", "but why - …".
_BARE_WHY = re.compile(
    r"^\W*(?:(?:but|and|ok|okay|so|wait|hm+)\W+)*(?:why|how come)"
    rf"(?:\s+(?:tho|though|so|exactly|is that|would that be|not))?\s*(?:{_CLAUSE_BREAK})",
    re.IGNORECASE,
)


def first_clause(text: str) -> str:
    """A message up to its first clause break ("why would it be situational tho, …" → the
    question; what follows is the asker's reaction)."""
    return re.split(_CLAUSE_BREAK, text, maxsplit=1)[0]


# "does that actually work?", "did it help him?": whether what was just quoted worked, which
# the author says right where they tell it.
_OUTCOME = re.compile(
    _OPENER + r"(?:does|did|do|has|have|will|would)\s+"
    r"(?:that|this|it|those|these)\s+(?:\w+\s+){0,2}?(?:work|help|pay off|paid off|pan out)"
    r"(?:\s+(?:him|her|them|you|u|me))?"
    # … as the whole question: "does that work for seniors too?" asks what qualifies it
    r"(?:\s+(?:for (?:him|her|them|you|u|people)|though|tho|in practice|at all|really|then))*"
    r"\W*$",
    re.IGNORECASE,
)
_CLARIFY = re.compile(
    _OPENER + r"(?:is|does|do|would|will|can|should)\s+(?:that|this|it|the same)\b",
    re.IGNORECASE,
)
_VAGUE = frozenset(
    keyword_tokens(
        "more else detail details example examples mean explain elaborate thing things one ones "
        "stuff tell say said again instead really why how come so reason reasons go on continue "
        "expand practice else others other options specific specifically exactly "
        "nice ok okay thanks cool great sure"
    )
)
# A quote bullet of an extractive reply: `- “…” — author…` (items of a list quote are indented).
# A quote with no section (a post's preamble) ends on its citation number: `- “…” [2]`.
_QUOTE = re.compile(r"^\s*- “(.+?)”(?= —| \[\d+\]|\n|$)", re.MULTILINE)
# A follow-up with this many topic words or fewer is read in the light of the turn before.
_SHORT = 4
# "and for governance?", "what about evals?", "how about for someone older?": the question just
# answered, asked again about something else. Only a short rest counts ("and if it goes badly,
# can I apply again next cycle?" is a question of its own).
_SHIFT = re.compile(
    r"^\W*(?:(?:and|but|ok|okay|so|also|no|nah|sorry)\W+)?(?:(?:what|how)\s+about|"
    r"and\s+(?:for|in|with|at|on)|same\s+(?:for|with|in)|i\s+mean(?:t)?|i\s+was\s+asking\s+about)"
    r"\b(?P<rest>.*)$",
    re.IGNORECASE,
)
_SHIFT_WORDS = 3
_SOMEONE = frozenset(keyword_tokens("someone somebody anyone person people"))
# "how did he turn it around?", "so what did she end up doing?", "what happened next?": the
# asker wants the rest of the story the last quote began, not other facts about its author
# ("what was his plan?", "what did he get out of it?").
_WHO = rf"(?:he|she|they|{_NAMED_PERSON})"
_STORY_GOES_ON = re.compile(
    rf"\b(?:how\s+did\s+{_WHO}\b"
    rf"|what\s+did\s+{_WHO}\s+(?:end\s+up\s+)?do(?:ing)?\b"
    rf"|what\s+happened\s+(?:next|then|after)|{_WHO}\s+end(?:ed)?\s+up\b"
    # "so what did he go into after that?", "where did she go next?"
    rf"|\b{_WHO}\b.{{0,30}}\b(?:after\s+(?:that|this)|next|afterwards)\W*$)",
    re.IGNORECASE,
)
# "how did that guy end up in safety himself?", "what's her background?", "how did he get into
# alignment?": how the author came to the field, which the author tells where introducing
# themself, not the rest of the story the last quote began.
_BACKGROUND = re.compile(
    rf"\b(?:{_WHO}\s+(?:end(?:ed)?\s+up|get|got|gotten|break|broke|come|came)\s+in(?:to)?\b"
    rf"|how\s+did\s+{_WHO}\s+(?:start|begin|get\s+started)\b"
    r"|(?:his|her|their|the\s+author'?s?|that\s+guy'?s)\s+(?:background|path|career\s+path))",
    re.IGNORECASE,
)
# "besides the paper", "other than Neel's stuff", "apart from the soft skills": the asker has
# that already and wants the rest. The clause runs to the next punctuation.
_EXCLUDED = re.compile(
    r"\b(?:besides|other than|apart from|aside from|except(?: for)?|not counting|excluding|"
    r"instead of|rather than)"
    r"\s+(?P<what>[^?!.,;:]+)",
    re.IGNORECASE,
)


# "what about someone without a PhD?", "and if I don't have a degree?": the conversation's
# question asked under a condition, not a question about the thing lacked. A verb after
# "without" ("without burning out") is what the asker wants to avoid: that is the topic.
_LACKING = re.compile(
    r"\b(?:without|with\s+no|(?:if\s+)?(?:i|you|they)\s+(?:don['’]?t|do\s+not|dont)\s+have|"
    r"(?:i|you|they)\s+(?:have|has)\s+no)"
    r"\s+(?!\w+ing\b)(?P<what>[^?!.,;:]+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TurnContext:
    """How to search one turn: the merged query and what the previous reply showed."""

    query: str
    is_follow_up: bool = False
    vague: bool = False  # no topic words of its own: "why?", "tell me more"
    # A few topic words of its own ("and once I have the basics?", "so what matters more
    # then?"): the post usually goes on about them right where the last reply's quote stopped.
    short: bool = False
    prefer_docs: tuple[str, ...] = ()
    previous_quotes: tuple[str, ...] = ()  # every quote shown in the conversation, oldest first
    last_reply_quotes: int = 0  # how many of them the last reply showed
    # The quotes of the last reply that had any: "which post says that?" after "is that still
    # true?" (answered without quotes) is about the answer before it.
    last_quoted: tuple[str, ...] = ()
    # The message as the author would put it when "he/she/the author" is the author just
    # quoted ("how did he fix it?" -> "how did I fix it?"): posts tell their story as "I", and
    # a "he" inside a post is somebody else. Empty when nothing was resolved.
    message: str = ""
    # The posts the last reply quoted, in order: who "he" may be when the search decides.
    quoted_docs: tuple[str, ...] = ()
    # Each quote of the last reply with the post it came from: "he" is the author of the one
    # the conversation is about.
    last_quotes: tuple[tuple[str, str], ...] = ()
    # "and for governance?": the new topic's words (stemmed); the answer comes from passages
    # about it, asked the way the question before was asked.
    shift_to: tuple[str, ...] = ()
    # "besides the paper": words (stemmed) of what the asker does not want again.
    excluded: tuple[str, ...] = ()
    # "what about without a PhD?": words (stemmed) of what the asker lacks; the answer is not
    # the section about it, though a sentence may name it ("from no experience to a job").
    lacking: tuple[str, ...] = ()
    # The message without its "besides …" clause (the message itself when there is none).
    own_text: str = ""
    # The conversation's question this one follows up on (the previous turn's, carried).
    carried: str = ""
    # "how did he turn it around?": the answer goes on from the author's quote just shown.
    story_goes_on: bool = False
    # "how did that guy end up in safety?": how the author came to the field (their background).
    background: bool = False
    # "isn't that super competitive though?": pushing back on what was just quoted.
    pushback: bool = False
    # The query is the question before reframed on the new topic: quotes are ranked on it
    # alone, not half on the bare "and for governance?".
    message_is_query: bool = False
    # What it asks of the last reply: WHY (its reason), CLARIFY (what qualifies it), MORE (the
    # rest of its passage or list), STEP (the step its advice starts with), or "" (a question
    # on the conversation's topic).
    asks: str = ""
    # "can you say more about the second one": the quote of the last reply it points at.
    pointed: str = ""
    # "what would Richard Ngo say?": the question before, asked of the post named.
    their_view: bool = False

    @property
    def last_reply_shown(self) -> tuple[str, ...]:
        """The quotes the last reply showed (the tail of `previous_quotes`)."""
        if not self.last_reply_quotes:
            return ()
        return self.previous_quotes[-self.last_reply_quotes :]

    @property
    def about_quotes(self) -> tuple[str, ...]:
        """The quotes of the last reply this turn is about: the one it points at by its place
        ("the second one"), else all the last reply showed, best first."""
        return (self.pointed,) if self.pointed else self.last_reply_shown


def quotes_in(reply: str) -> tuple[str, ...]:
    """The quotes a previous extractive reply showed (text between curly quotes)."""
    return tuple(m.group(1) for m in _QUOTE.finditer(reply))


# Pointing at one thing the last reply showed by its place: "can you say more about the second
# one", "and the last one?", "where do i start with the first one?" ("the first step" asks for a
# step, not for the first thing shown).
_PLACES = {
    "first": 0,
    "1st": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
    "fifth": 4,
    "5th": 4,
    "last": -1,
}
_ORDINAL = re.compile(
    r"\bthe\s+(" + "|".join(_PLACES) + r")\s+(?:one|point|item|bullet|quote|lesson|tip|option|"
    r"idea|area|direction|category|cluster|skill|suggestion)s?\b",
    re.IGNORECASE,
)


def pointed_quote(text: str, reply: str) -> str:
    """The quote of `reply` that `text` points at by its place ("the second one"), else "".

    A reply that quoted a list counts the list's items, as the asker sees them numbered down
    the page; otherwise its quotes, one a bullet."""
    found = _ORDINAL.search(text)
    if found is None:
        return ""
    lines = [(line, _QUOTE.match(line)) for line in reply.split("\n")]
    quoted = [(line[:1].isspace(), m.group(1)) for line, m in lines if m is not None]
    items = [quote for indented, quote in quoted if indented]
    shown = items or [quote for _, quote in quoted]
    place = _PLACES[found.group(1).casefold()]
    return shown[place] if -len(shown) <= place < len(shown) else ""


# Third-person words that point at the author, and how the author says them.
_AS_AUTHOR = {
    "he": "I",
    "she": "I",
    "him": "me",
    "his": "my",
    "her": "my",
    "hers": "mine",
    "himself": "myself",
    "herself": "myself",
    "the author": "I",
    "the writer": "I",
    "that guy": "I",
    "this guy": "I",
    "the guy": "I",
    "that person": "I",
    "this person": "I",
    "the person": "I",
    "that author": "I",
    "this author": "I",
    "that writer": "I",
    "they": "I",
    "them": "me",
    "their": "my",
    "themselves": "myself",
}
_THIRD_PERSON = re.compile(
    r"\b(" + "|".join(sorted(_AS_AUTHOR, key=len, reverse=True)) + r")\b", re.IGNORECASE
)


# Somebody picked out by what they did: "the guy who quit his job", "the author that switched
# to evals", "the one who did MATS twice" ("the one that covers X" is as often a post).
_DESCRIBED = re.compile(
    r"\b(?:that|this|the)\s+(?:(?:guy|person|author|writer|dude|woman|man|girl|lady)\s+"
    r"(?:who|that)|one\s+who)\s+((?:[\w'’-]+\s+){0,2}[\w'’-]+)",
    re.IGNORECASE,
)


def described_deed(text: str) -> str:
    """What the person a message asks about did, as they would write it ("the guy who quit
    his job" -> "quit my job"), or "" when it names nobody that way."""
    found = _DESCRIBED.search(text)
    return as_author(found.group(1)).strip() if found else ""


def as_author(text: str) -> str:
    """`text` with "he/she/his/the author" said the way the author writes: I, my, me."""
    return _THIRD_PERSON.sub(lambda m: _AS_AUTHOR[m.group(1).casefold()], text)


def narrator(reply: str, titles: Mapping[str, str]) -> str | None:
    """The post whose quote in `reply` tells the author's own story (in the first person).

    "how did he fix it?" after a reply quoting three posts means the one whose author spoke
    about himself; failing that, the first post named.
    """
    docs = docs_in(reply, titles)
    if not docs:
        return None
    for line in reply.split("\n"):
        quote = _QUOTE.match(line)
        if quote is None or not speaks_as_author(quote.group(1)):
            continue
        named = docs_in(line, titles)
        return named[0] if named else docs[0]
    return docs[0]


def quoted_by(reply: str, titles: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """(doc id, quote) for each quote of `reply` whose line names its post."""
    docs = docs_in(reply, titles)
    found: list[tuple[str, str]] = []
    for line in reply.split("\n"):
        quote = _QUOTE.match(line)
        if quote is None:
            continue
        named = docs_in(line, titles)
        # A reply quoting one post names it once, in its opening line, not under each quote.
        doc = named[0] if named else docs[0] if len(docs) == 1 else None
        if doc is not None:
            found.append((doc, quote.group(1)))
    return tuple(found)


def _split_clause(text: str, clause: re.Pattern[str]) -> tuple[str, tuple[str, ...]]:
    """`text` without the first match of `clause`, and the topic words of its "what" group."""
    match = clause.search(text)
    if match is None:
        return text, ()
    words = tuple(w for w in keyword_tokens(match.group("what"), query=True) if w not in _VAGUE)
    rest = " ".join((text[: match.start()] + " " + text[match.end() :]).split())
    rest = re.sub(r"\s+(?=[?!.,;:])", "", rest).strip(" ,;:")
    return (rest or text), words


def split_excluded(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` without its "besides X" clause, and X's topic words (stemmed)."""
    return _split_clause(text, _EXCLUDED)


def split_lacking(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` without its "without X" / "if I don't have X" clause, and X's topic words; a
    clause naming no topic ("without much") is left in."""
    rest, words = _split_clause(text, _LACKING)
    return (rest, words) if words else (text, ())


# "would you say the same for governance people?", "is it the same in policy?": the question
# just answered, asked about something else, however the message opens.
_SAME_FOR = re.compile(r"\bthe\s+same\s+(?:for|with|in|about)\b(?P<rest>.*)$", re.IGNORECASE)


def shifted_topic(text: str) -> tuple[str, ...]:
    """The new topic of "and for governance?" / "what about evals?" (stemmed), else ()."""
    match = _SHIFT.match(text) or _SAME_FOR.search(text)
    if match is None:
        return ()
    words = [w for w in keyword_tokens(match.group("rest"), query=True) if w not in _VAGUE]
    if not 0 < len(words) <= _SHIFT_WORDS:
        return ()
    # "what about someone (without a PhD)?": a person is nobody's topic.
    return tuple(w for w in words if w not in _SOMEONE)


# Asked of the last reply as a whole message, whatever its length, in this order.
_OF_THE_REPLY = ((_MISSED, MISSED), (_SOURCE, SOURCE), (_DATED, DATED))


def asks_of_last_reply(text: str, topic_words: int) -> str:
    """What a follow-up asks of the last reply (MISSED, SOURCE, DATED, OUTCOME, CLARIFY,
    STEP, SHORTER, OTHERS, WHY, EXAMPLE, MORE), else "".

    The first five are read from the whole message, however long: "is that…" points back
    however long it goes on ("is that the same skillset once you're hired or just to get in
    the door?"). The rest only from a short one: a long "why…" is a question of its own.
    """
    for pattern, kind in _OF_THE_REPLY:
        if pattern.search(text):
            return kind
    sentences = message_sentences(text)
    if len(sentences) == 2 and any(_SOURCE.search(s) for s in sentences):
        # "hm that's discouraging. who says that": a reaction, then where it comes from.
        return SOURCE
    if _OUTCOME.search(text):
        return OUTCOME
    if _CLARIFY.search(text):
        return CLARIFY
    if _BARE_WHY.match(text):
        # "why tho, seems like such a dumb way to hire ppl": the reason for what was quoted,
        # with the asker's reaction after the comma.
        return WHY
    if topic_words > _SHORT:
        # "why tho?? none of that is what you do day to day": a short question first, the
        # asker's reaction after it. What is asked is the question.
        head = sentences[0] if len(sentences) > 1 else ""
        short = len([w for w in keyword_tokens(head, query=True) if w not in _VAGUE]) <= _SHORT
        if not head.endswith("?") or not short:
            return ""
        text = head
    for pattern, kind in (
        (_STEP, STEP),
        (_SHORTER, SHORTER),
        (_OTHERS, OTHERS),
        (_WHY, WHY),
        (_EXAMPLE, EXAMPLE),
        (_MORE, MORE),
    ):
        if pattern.search(text):
            return kind
    return ""


# What the asker does to what the conversation is about ("what should i send them?", "can i
# do it remotely?"): the object is the topic before, so the verb is how the follow-up is put.
_DONE_TO_TOPIC = re.compile(
    r"\b(?:i|we)\s+(?:(?:even|just|still|really|\w+ly)\s+)?([a-z]+)\s+"
    r"(?:it|that|this|them|those|these|one)\b",
    re.IGNORECASE,
)


# What the asker says the last reply said before asking on from it: "you said job boards but
# what about making my own job?", "you mentioned mentors, what about…". It quotes the reply
# (rightly or not): what the follow-up adds comes after it.
_YOU_SAID = re.compile(
    r"^\W*(?:(?:ok|okay|so|but|and|wait|hm+)\W+)*(?:you|u|he|she|they|the post|it)\s+"
    r"(?:said|say|says|mentioned|mention|wrote|suggested|suggest|recommended|recommend)\b"
    r"[^,;?!]*?(?:,|;|\s(?=but\b))",
    re.IGNORECASE,
)


def new_topic_words(context: TurnContext) -> tuple[str, ...]:
    """The words (stemmed) a follow-up adds to the conversation: what it asks about that the
    question before did not. Not its follow-up form: the "tell", "more" and "why" of asking
    for more (`_VAGUE`), nor a verb the asker would do to the topic before ("send them").
    Pushing back ("isnt that risky with a mortgage tho") and asking after the author's story
    ("how did he turn it around?") add nothing: they are about what was just quoted, and so is
    asking for more of it, however long ("can u expand, like what does a pitch look like")."""
    if context.pushback or context.story_goes_on or context.background:
        return ()
    if _MORE.search(context.own_text):
        return ()
    old = set(keyword_tokens(context.carried))
    done = {t for w in _DONE_TO_TOPIC.findall(context.own_text) for t in keyword_tokens(w)}
    # "the fourth one" after a reply that showed three is still how it points, not its topic.
    own = _ORDINAL.sub(" ", _YOU_SAID.sub(" ", context.own_text, count=1))
    return tuple(
        dict.fromkeys(
            w
            for w in keyword_tokens(own, query=True)
            if w not in old and w not in _VAGUE and w not in done
        )
    )


def docs_in(reply: str, titles: Mapping[str, str]) -> tuple[str, ...]:
    """Doc ids whose titles the reply names, in order of first mention."""
    found = [(reply.find(title), doc) for title, doc in titles.items() if title in reply]
    return tuple(doc for _, doc in sorted(found))


# The asker says the question is a new one ("unrelated but should i move to SF?", "different
# question:"): whatever it shares with the conversation, it does not follow up on it.
_NEW_TOPIC = re.compile(
    r"^\W*(?:(?:ok|okay|also|so|hey|btw|and)\W+)?(?:totally |completely |slightly |kinda )?"
    # a bare "unrelated" marks only before "but…" or a stop ("unrelated degree, …" asks)
    r"(?:(?:unrelated|off-topic)(?:\s+(?:question|topic|q)\b|"
    r"(?=\s*[^\w\s]|\s+(?:but|though|tho|here)\b))|"
    r"(?:different|new|separate|random|another|other)\s+(?:question|topic|q)\b)"
    r"\W*(?:(?:but|though|tho|here)\b\W*){0,2}"
    r"|^\W*(?:on another note|changing (?:the )?(?:topic|subject)|switching (?:gears|topics?))\W+",
    re.IGNORECASE,
)


def new_topic(text: str) -> str | None:
    """The question after a marker saying it is a new one ("unrelated but should i move to
    SF?" -> "should i move to SF?"), else None."""
    found = _NEW_TOPIC.match(text)
    if found is None or not text[found.end() :].strip():
        return None
    return text[found.end() :].strip()


def resolve(text: str, history: Sequence[Turn], titles: Mapping[str, str]) -> TurnContext:
    """Decide whether `text` follows up on the conversation, and build what to search."""
    users = [t.text for t in history if t.role == "user"]
    fresh = new_topic(text)
    if fresh is not None:
        return TurnContext(query=fresh, own_text=fresh)
    if not users:
        return TurnContext(query=text, own_text=text)
    # Whether it leans on the turn before is judged on the whole message; a message of its
    # own that says "besides" is not made short by cutting that clause out.
    words = [w for w in keyword_tokens(text, query=True) if w not in _VAGUE]
    cue = any(
        p.search(text)
        for p in (
            _CUES,
            _MORE,
            _LEANS,
            _SHORTER,
            _OTHERS,
            _THEIR_VIEW,
            _STEP,
            _YOU_SAID,
            *(p for p, _ in _OF_THE_REPLY),
        )
    )
    replies = [t.text for t in history if t.role == "assistant"]
    pointed = pointed_quote(text, replies[-1]) if replies else ""
    dependent = (
        cue
        or not words
        # "the fourth one?" points back even at a place the last reply does not have
        or bool(pointed or (replies and _ORDINAL.search(text)))
        or (bool(_ANAPHORA.search(text)) and len(words) <= _SHORT)
        # "examples of papers?": asking for examples of a thing or two names no question of
        # its own; the examples are of what was just said.
        or (bool(_EXAMPLE.search(text)) and len(words) <= _SHORT)
    )
    if not dependent:
        return TurnContext(query=text, own_text=text)
    own, excluded = split_excluded(text)
    cut, lacking = split_lacking(own)
    topic = [w for w in keyword_tokens(own, query=True) if w not in _VAGUE]
    # The topic of the conversation: the last question, and the one before when the last was
    # itself a short follow-up.
    carried = [users[-1]]
    if len(users) > 1 and len(keyword_tokens(users[-1], query=True)) <= _SHORT:
        carried.insert(0, users[-2])
    before = pointed_quote(users[-1], replies[-2]) if len(replies) > 1 else ""
    if before:
        # "say more about the second one" … "why?": the conversation is about what the second
        # one was, not about "the second" of anything.
        carried[-1] = _ORDINAL.sub(lambda _: f"“{before}”", users[-1], count=1)
    if set(lacking) & {t for c in carried for t in keyword_tokens(c)}:
        # "should I do a PhD?" … "what about someone without a PhD?": the PhD leaves the
        # question. A new condition ("and if I don't have a degree?") is asked with it.
        own = cut
        carried = [
            " ".join(w for w in c.split() if not set(keyword_tokens(w)) & set(lacking))
            for c in carried
        ]
    else:
        lacking = ()
    docs = docs_in(replies[-1], titles) if replies else ()
    person = bool(_PERSON.search(text))
    background = person and bool(_BACKGROUND.search(own))
    prefer = docs
    if person and replies:
        story = narrator(replies[-1], titles)
        prefer = (story,) if story else ()
    story_goes_on = person and not background and bool(_STORY_GOES_ON.search(own))
    shift_to = shifted_topic(own)
    asks = "" if story_goes_on or background else asks_of_last_reply(own, len(topic))
    if pointed:
        if asks in ("", CLARIFY):
            # "where do i start with the first one?": more of what that quote began.
            asks = MORE
        # Searched and ranked as what it points at: "the second one" is no topic ("I can
        # forgive myself the second" is no answer).
        own = _ORDINAL.sub(lambda _: f"“{pointed}”", own, count=1)
    if shift_to and asks == CLARIFY:
        asks = ""  # "is it the same for evals?": the question before, asked about evals
    pushback = bool(_PUSHBACK.search(own))
    per_reply = [quotes_in(reply) for reply in replies]
    shown = tuple(q for quotes in per_reply for q in quotes)
    last = len(per_reply[-1]) if per_reply else 0
    if asks == STEP and not last:
        # "what's the first step" after a reply without quotes (a decline) has no advice to
        # start from: it asks for the first steps the posts give.
        asks = ""
    return TurnContext(
        # "what's the first step?" names no topic: "step" would find the posts' lists of steps
        query=" ".join(carried if asks == STEP else [*carried, own]),
        is_follow_up=True,
        vague=not topic and not excluded and not lacking,
        short=len(topic) <= _SHORT and not pushback,
        pushback=pushback,
        prefer_docs=prefer,
        previous_quotes=shown,
        last_reply_quotes=last,
        last_quoted=next((quotes for quotes in reversed(per_reply) if quotes), ()),
        message=as_author(own) if person and prefer else "",
        quoted_docs=docs,
        last_quotes=quoted_by(replies[-1], titles) if replies else (),
        shift_to=shift_to,
        excluded=excluded,
        lacking=lacking,
        own_text=own,
        carried=" ".join(carried),
        story_goes_on=story_goes_on,
        background=background,
        # "why does he think that?", "what does he mean by that?" ask of what he was just
        # quoted saying as "why?" does; only his story and his background are asked of him.
        asks=asks,
        pointed=pointed,
        their_view=bool(_THEIR_VIEW.search(text)),
    )

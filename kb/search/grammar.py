"""The small query language, parsed by hand so that no input can make it raise.

Supported: words, ``"exact phrase"``, ``-exclude``, ``-"phrase"``, ``OR``, ``prefix*``,
``topic:slug``. Everything else (brackets, operators, boosts, ranges, unknown
``field:`` prefixes, control characters) is read as plain words or dropped.
"""

from __future__ import annotations

import re
import unicodedata

from kb.limits import MAX_CLAUSES, MAX_PHRASE_WORDS, MAX_QUERY_CHARS, MAX_WORD_CHARS
from kb.query_model import Alternative, Clause, ParsedQuery, Phrase, Term

WORD_RE = re.compile(r"\w+(?:[-'’.]\w+)*\*?")
TOKEN_RE = re.compile(r'(-?)"([^"]*)"?|(\S+)')

# Question words and filler that carry no meaning in a search: "what is your plan for…"
STOP_WORDS = frozenset(
    """a about am an and any are as at be been but by can could did do does doing for from
    had has have how i if in into is it its me my of on or our ours please plan plans policy
    policies position positions say says should so tell than that the their them then there
    these they this those to us was we were what whats when where which who whom why will
    with would you your yours""".split()
)

# How people open a question to a party. A frame is dropped from the front of the
# query before it is read, so "do you support the EU" searches for "the EU" and
# "what do you think about brexit" for "brexit": verbs such as "support" or "think"
# are content words elsewhere ("support for carers"), so they are only dropped here.
# (The pattern is verbose: a space in it means nothing, so spaces are written \s+.)
_WHO = (
    r"(?:(?:the|your|this)\s+(?:\w+\s+){0,2}?(?:party|movement|campaign|government)"
    r"|you\s+guys|you\s+all|y'all|your|ur|yr|you|u|labour|progress|we|i)"
)
_VERB = (
    r"(?:think|feel|believe|say|do|plan|propose|intend|want|support|back|oppose|stand|"
    r"offer|promise|mean)"
)
_STANCE = r"(?:position|stance|view|views|policy|policies|plan|plans|opinion|thoughts|line|take)"
_ON = r"(?:about|on|of|for|to|regarding|towards?)"
_ACT = r"(?:fix|tackle|solve|deal\s+with|handle|address)"
QUESTION_FRAMES = re.compile(
    rf"""^(?:
        (?:what|how|why|where|when)(?:'s|s|\s+(?:is|are|do|does|did|will|would|should|can))?
            \s+{_WHO}(?:'s)?\s+(?:{_STANCE}|{_VERB}(?:\s+(?:to\s+do|of|about|on|for|in|with))?)
            (?:\s+{_ON})?
      | (?:how|what)\s+(?:will|would|do|does|are|is|can)\s+{_WHO}(?:\s+going\s+to)?\s+{_ACT}
      | (?:what|how)\s+about
      | (?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+)?
            (?:explain|describe|outline|summari[sz]e|clarify|tell\s+me)
            (?:\s+(?:{_WHO}(?:'s)?\s+)?{_STANCE})?(?:\s+{_ON})?
      | (?:do|does|did|will|would|can|could|should|are|is)\s+{_WHO}
            (?:\s+(?:going\s+to|plan\s+to|want\s+to|intend\s+to))?
            (?:\s+(?:{_VERB}|agree\s+with|believe\s+in|care\s+about|in\s+favou?r\s+of
                |for\s+or\s+against|against\s+or\s+for|for|against))?
      | (?:tell|show)\s+me\s+(?:about|more\s+about)?
      | (?:i\s+want\s+to\s+know|i'm\s+interested\s+in|i\s+am\s+interested\s+in)(?:\s+about)?
      | (?:{_WHO}(?:'s)?\s+)?{_STANCE}\s+{_ON}
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)


def clean(text: str) -> str:
    """Normalise Unicode, drop control and format characters, cap the length."""
    text = unicodedata.normalize("NFKC", str(text or ""))[: MAX_QUERY_CHARS * 2]
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def _words(text: str) -> list[str]:
    return [w.lower().rstrip("*")[:MAX_WORD_CHARS] for w in WORD_RE.findall(text)]


def _term(raw: str) -> Term | None:
    words = WORD_RE.findall(raw)
    if not words:
        return None
    word = words[0].lower()[:MAX_WORD_CHARS]
    if word.endswith("*"):
        stem = word.rstrip("*")
        return Term(stem, prefix=len(stem) >= 2) if stem else None
    return Term(word)


def strip_question_frame(text: str) -> str:
    """``text`` without a leading question frame ("what is your position on …"), unless
    nothing would be left."""
    rest = QUESTION_FRAMES.sub("", text, count=1).strip(" ,:;-")
    return rest if re.search(r"\w", rest) else text


def parse(text: str) -> ParsedQuery:
    """Parse anything a person might type; never raises."""
    query = ParsedQuery(text=clean(text))
    join_next = negate_next = False
    for negate, quoted, bare in TOKEN_RE.findall(strip_question_frame(query.text)):
        if bare in ("OR", "|", "||"):
            join_next = bool(query.clauses)
            continue
        if bare == "NOT":
            negate_next = True
            continue
        if bare in ("AND", "&&"):
            continue
        clauses = _clauses(negate, quoted, bare, query)
        for clause, exclude in clauses:
            if exclude or negate_next:
                negate_next = False
                query.excluded.append(clause)
            elif join_next and query.clauses:
                query.clauses[-1].alternatives.extend(clause.alternatives)
            else:
                query.clauses.append(clause)
            join_next = False
    query.clauses = _drop_filler(query.clauses)[:MAX_CLAUSES]
    query.excluded = query.excluded[:MAX_CLAUSES]
    return query


def _clauses(negate: str, quoted: str, bare: str, query: ParsedQuery) -> list:
    if quoted or (not bare and negate == "" and quoted == ""):
        words = tuple(w.rstrip("*") for w in _words(quoted))[:MAX_PHRASE_WORDS]
        if not words:
            return []
        alternative = Phrase(words) if len(words) > 1 else Term(words[0])
        return [(Clause([alternative], quoted=True), bool(negate))]
    exclude = bare.startswith("-") and len(bare) > 1
    body = bare[1:] if exclude else bare
    if body.lower().startswith("topic:"):
        slug = body[6:].strip().lower()
        if re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug):
            query.topics.append(slug)
        return []
    if ":" in body:  # unknown field prefixes are read as words
        body = body.replace(":", " ")
    terms = [_term(part) for part in WORD_RE.findall(body)]
    return [(Clause([term]), exclude) for term in terms if term]


def _drop_filler(clauses: list[Clause]) -> list[Clause]:
    """Remove unquoted stop words, unless nothing else would be left."""
    kept = [
        c for c in clauses
        if c.quoted or len(c.alternatives) > 1 or not _is_stop(c.alternatives[0])
    ]  # fmt: skip
    return kept or clauses


def _is_stop(alternative: Alternative) -> bool:
    return (
        isinstance(alternative, Term)
        and not alternative.prefix
        and (alternative.word.replace("’", "'").replace("'", "") in STOP_WORDS)
    )

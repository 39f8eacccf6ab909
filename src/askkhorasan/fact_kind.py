"""What kind of fact a question asks for, and whether a quote states one.

A question can ask for a fact of a kind a quote either states or does not: a year or date,
a sum of money, a count, a share. When the best quote states none ("How many sons did she
bear?" answered with a sentence about her brothers' names, "When did he become premier?"
with "The current premier is …"), the sources talk about the subject without giving the fact,
and the honest answer is a refusal. The answer model cannot tell: it scores how well a
sentence is *about* the question, and such a sentence is.

The rule only refuses. Quoting instead a lower sentence that states such a fact (one the
answer model also gave a logit of at least 0) changed no answer on the tune halves or the SQuAD
sample, and answered "How many fighters does ISKP have?" with "… killing 53 Taliban fighters …".

A question that asks for a person ("Who leads ISKP?", "What was the name of his father?",
"Which experts argue …?") needs a quote that names someone the question does not: a capital
letter is not a name, so spaCy's entity recogniser decides (names.py), and only for these
questions. A place's name is not checked. Tuned on the paraphrase sets' tune halves only
(bench/bench_paraphrase.py).

    kind = asked_kind("In what year did Rollo die?")    # Kind("year", "a year")
    states(kind, "Rollo died in 932.", question)         # True
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str  # "year", "date", "money", "count", "share", "quantity" or "person"
    phrase: str  # what a refusal says is missing: "the closest sentences state no {phrase}"


YEAR = Kind("year", "year")
DATE = Kind("date", "date or time")
MONEY = Kind("money", "sum of money")
COUNT = Kind("count", "number")
SHARE = Kind("share", "share or percentage")
QUANTITY = Kind("quantity", "number")
PERSON = Kind("person", "person's name")

# Shared with answer.py's features, which also count vague words ("many", "few") as numbers.
CARDINAL_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|(?:thir|four|fif|six|seven|eigh|nine)teen|"
    r"(?:twen|thir|for|fif|six|seven|eigh|nine)ty|dozens?|hundreds?|thousands?|millions?|billions?|trillions?"
)
MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_NUMBER_WORD = rf"(?:{CARDINAL_WORDS}|a (?:few|handful|dozen|score)|several|twice|thrice|half|halves|thirds?|quarters?|[a-z]+fold)"
_ORDINAL = (r"(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|"
            r"twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|"
            r"twenty-first)")
_YEAR_TOKEN = re.compile(r"(?<![\d,.$£€])\b(?:1[0-9]{3}|20[0-9]{2})(?:s|’s|'s)?\b(?![,.]\d)")
_EARLY_YEAR = re.compile(r"\b(?<=(?:in|by|of|AD|CE) )[1-9][0-9]{2}\b(?![,.]\d)")
_DATE = re.compile(
    rf"{_YEAR_TOKEN.pattern}|\b{MONTHS}\b|\b{_ORDINAL}\b[\w ,-]{{0,24}}?\bcentur(?:y|ies)\b|\b(?:centur(?:y|ies)|decades?) (?:ago|later|earlier)\b"
    r"|\b(?:years?|months?|weeks?|days?) (?:ago|later|earlier|after|before)\b",
    re.I,
)
# "When did X …?" is answered by a relation to another event as often as by a date.
_WHEN_ANSWER = re.compile(
    rf"{_DATE.pattern}|\b(?:after|before|during|since|until|till|soon|following|"
    r"ago|later|earlier|upon|by the time|at the (?:time|start|end|beginning)|in the wake)\b",
    re.I,
)
_CURRENCY = re.compile(
    r"[$£€¥₹]\s?\d|\b(?:US|A|C|NZ|HK)\$|\d[\d,.]*\s*(?:million|billion|trillion|thousand|m|bn|k)?\s*(?:dollars?|pounds?|euros?|yen|yuan|rupees?|"
    r"francs?|marks?|lire|pesos?|roubles?|rubles?|sterling|guineas?|shillings?|USD|GBP|EUR)\b",
    re.I,
)
_SHARE = re.compile(
    rf"\d\s?%|\b(?:per ?cent|percentage points?)\b|\b(?:half|halves|thirds?|quarters?|fifths?|tenths?)\b"
    rf"|\b(?:one|{_NUMBER_WORD}) in (?:every )?(?:\d+|{_NUMBER_WORD})\b|\b(?:majority|minority|most|all|none)\b",
    re.I,
)
_NUMBER = re.compile(rf"\d[\d,.]*(?:\s?%)?|\b{_NUMBER_WORD}\b", re.I)

# Roles only a person fills, and what only a person does: "Who founded it?" is asked of a person,
# "Who fought them?" as often of an army.
_PERSON_NOUN = (
    r"(?:leaders?|founders?|co-founders?|fathers?|mothers?|sons?|daughters?|sisters?|brothers?|wi(?:fe|ves)|husbands?|"
    r"kings?|queens?|emperors?|empress|shahs?|sultans?|emirs?|amirs?|caliphs?|presidents?|premiers?|prime ministers?|"
    r"ministers?|chancellors?|governors?|mayors?|commanders?|generals?|admirals?|authors?|writers?|poets?|composers?|"
    r"painters?|architects?|inventors?|scientists?|mathematicians?|chief executives?|chairm[ae]n|spokes(?:man|men|person)|"
    r"successors?|predecessors?|heirs?|popes?|bishops?|clerics?|imams?|mullahs?|deputy|deputies|representatives?|"
    r"ambassadors?|envoys?|experts?|scholars?|historians?|analysts?|officials?|journalists?|person|people)"
)
# Groups rule, found, fight and kill as often as people do ("Who rules Afghanistan?" — the
# Taliban), so only deeds a person does, and leading only a group ("Who leads ISKP?", not "Who
# led the crackdown?").
_PERSON_DEED = (
    r"(?:wrote|authored|commanded|invented|discovered|proved|composed|painted|coined|chairs|chaired|succeeded|"
    r"preceded|(?:leads|led|heads|headed) (?:the |its |their )?(?:(?-i:[A-Z])[\w’'-]*|(?:[\w-]+ ){0,2}?(?:group|organi[sz]ation|"
    r"movement|resistance|party|army|network|faction|militia|insurgency|rebels|state|government|regime|branch)\b))"
)

_ASKS = (
    # the order matters: "When … how many …?" asks for a count
    (MONEY, re.compile(
        r"\bhow much (?:money|cash|funding|prize money)\b|\bhow much (?:\w+ ){0,6}?(?:pay|paid|cost|costs|spend|spent|"
        r"earn|earned|raise|raised|charge|charged|worth|offer|offered|bid|sell|sold|buy|bought|fee|fees|price|owe|owed)\b"
        r"|\bwhat (?:was|is|were|are) the (?:price|cost|fee|value|sum)\b|\bfor how much\b", re.I)),
    (SHARE, re.compile(r"\bwhat (?:percentage|proportion|share|fraction|percent)\b|\bhow much of\b", re.I)),
    (COUNT, re.compile(r"\bhow many\b|\bwhat (?:number|count)\b", re.I)),
    (QUANTITY, re.compile(r"\bhow (?:much|long|old|far|large|big|high|tall|deep|wide|often|fast)\b|\bwhat amount\b",
                          re.I)),
    (YEAR, re.compile(r"\b(?:what|which) (?:year|decade|century)\b", re.I)),
    (PERSON, re.compile(
        rf"\bwhat (?:was|is|were|are) (?:the (?:\w+ )?names? of (?:[\w’'-]+ ){{0,4}}?{_PERSON_NOUN}\b"
        rf"|(?:[\w-]+[’']s|his|her|their) (?:[\w’'-]+ )?(?:full |first |real )?name)"
        rf"|^\s*(?:and |but |so )?who (?:(?:was|is|were|are|became|becomes) (?:the |its |their |his |her |[\w-]+[’']s )"
        rf"(?:[\w’'-]+ ){{0,3}}?{_PERSON_NOUN}\b|{_PERSON_DEED}\b)"
        rf"|\bwhich (?:[\w-]+ ){{0,2}}?{_PERSON_NOUN}\b", re.I)),
    (DATE, re.compile(r"\bwhat (?:date|day|month)\b|^\s*(?:and |but |so )?when (?:did|was|were|is|are|does|do|will|"
                      r"would|had|has|have|could)\b|\bsince when\b|\bon what (?:date|day)\b", re.I)),
)


def asked_kind(question: str) -> Kind | None:
    """The kind of fact the question asks for, or None for a question a pattern cannot check."""
    for kind, pattern in _ASKS:
        if pattern.search(question):
            return kind
    return None


def _numbers(text: str) -> list[str]:
    return [m.group(0).lower().rstrip(",.") for m in _NUMBER.finditer(text)]


def states(kind: Kind, quote: str, question: str) -> bool:
    """Whether the quote states a fact of this kind, one the question does not already give."""
    if kind is YEAR:
        asked = {m.group(0) for p in (_YEAR_TOKEN, _EARLY_YEAR) for m in p.finditer(question)}
        return any(m.group(0) not in asked for p in (_YEAR_TOKEN, _EARLY_YEAR) for m in p.finditer(quote))
    if kind is DATE:
        return bool(_WHEN_ANSWER.search(quote))
    if kind is MONEY:
        return bool(_CURRENCY.search(quote))
    if kind is SHARE:
        return bool(_SHARE.search(quote))
    if kind is PERSON:
        from .names import people  # spaCy loads only for such questions

        return any(p.lower() not in question.lower() for p in people(quote))
    asked = set(_numbers(question))
    years_asked = "year" in question.lower()
    for m in _NUMBER.finditer(quote):
        token = m.group(0).lower().rstrip(",.")
        if token in asked:
            continue
        if kind is COUNT and not years_asked and _YEAR_TOKEN.fullmatch(m.group(0).rstrip(",.")):
            continue  # "How many were deported?" is not answered by "In 1755, …"
        return True
    return False

"""Consistency flags and unpaid setups: what a script says that it later contradicts or drops.

Facts are what a character says of themself in the first person: their age ("I'm
thirty-four", "I am 52 years old"), their job ("I'm a nurse", "I work as a lawyer") and
their relations ("my brother Tom", "I have no brother", "I'm an only child"). Two facts
of one character that cannot both hold are flagged with both lines.

A setup is something the script asks the audience to remember: a prop written in
capitals in an action line (the Fountain habit: "she hides a REVOLVER") or a cue in
dialogue ("remember the key", "don't forget the letter", "never open the box"). It is
paid off when its word comes back in a later scene; one that never does is flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reelops.content.model import ACTION, DIALOGUE, Script

_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen".split()
_UNITS += "fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_NUMBER = r"(\d{1,3}|(?:" + "|".join(_TENS + _UNITS) + r")(?:[- ](?:" + "|".join(_UNITS) + "))?)"
_AGE = re.compile(rf"\bI(?:'m| am)\s+(?:only\s+|just\s+|nearly\s+)?{_NUMBER}\b", re.I)
_AGE_OLD = re.compile(rf"\bI(?:'m| am)\s+{_NUMBER}\s+years?\s+old\b", re.I)

# Occupations a character can state (a closed list: "I'm a fool" is not a job).
JOBS = """accountant actor actress architect artist baker banker barber builder butcher carpenter
chef cleaner clerk cook dancer dentist detective doctor driver electrician engineer farmer
firefighter fisherman gardener guard hairdresser journalist judge lawyer librarian
mechanic midwife miner musician nurse painter paramedic pharmacist photographer physician
pilot plumber poet police officer policeman priest professor programmer reporter sailor
scientist secretary senator singer soldier student surgeon tailor teacher thief
veterinarian waiter waitress writer""".split()
_JOB = re.compile(
    r"\bI(?:'m| am)\s+(?:a|an)\s+(?:\w+\s+)?(" + "|".join(JOBS) + r")\b"
    r"|\bI work as (?:a|an)\s+(?:\w+\s+)?(" + "|".join(JOBS) + r")\b",
    re.I,
)
RELATIONS = ["brother", "sister", "father", "mother", "wife", "husband", "son", "daughter"]
_HAS_RELATION = re.compile(
    r"\bmy\s+(?:(?:older|younger|little|big|late)\s+)?(" + "|".join(RELATIONS) + r")\b", re.I
)
_NO_RELATION = re.compile(
    r"\bI\s+(?:have|had|'ve)\s+(?:no|never had an?y?)\s+(" + "|".join(RELATIONS) + r")s?\b"
    r"|\bI(?:'m| am)\s+(?:an\s+)?only\s+(child)\b"
    r"|\bI(?:'ve| have)\s+never\s+(?:been\s+)?(married)\b",
    re.I,
)
# An only child has no brother or sister; someone never married has no wife or husband.
_DENIED_BY = {"child": {"brother", "sister"}, "married": {"wife", "husband"}}

_SETUP_CUE = re.compile(
    r"\b(?:remember|don't forget|do not forget|never open|never touch|keep|hide|guard)\s+"
    r"(?:about\s+)?(?:the|my|your|this|that)\s+([a-z]{3,})\b",
    re.I,
)
_PROP = re.compile(r"\b([A-Z]{3,}(?:\s+[A-Z]{3,})?)\b")


@dataclass(frozen=True)
class Fact:
    speaker: str
    attribute: str  # age, job, relation
    value: str
    line: int
    scene: int
    text: str


@dataclass(frozen=True)
class Contradiction:
    """Two statements of one character that cannot both hold."""

    speaker: str
    attribute: str
    first: Fact
    second: Fact

    @property
    def message(self) -> str:
        return (
            f"{self.speaker}'s {self.attribute}: line {self.first.line} says "
            f"{self.first.value!r}, line {self.second.line} says {self.second.value!r}"
        )


@dataclass(frozen=True)
class Setup:
    """A setup and where (if anywhere) it is paid off."""

    word: str
    line: int
    scene: int
    text: str
    payoff_line: int | None


def _number(text: str) -> int | None:
    text = text.lower().replace("-", " ")
    if text.isdigit():
        return int(text)
    total = 0
    for part in text.split():
        if part in _TENS:
            total += 20 + 10 * _TENS.index(part)
        elif part in _UNITS:
            total += _UNITS.index(part)
        else:
            return None
    return total


def stated_facts(script: Script) -> list[Fact]:
    """First-person facts of age, job and relations, in script order."""
    facts = []
    for scene in script.scenes:
        for line in scene.lines:
            if line.kind != DIALOGUE or not line.speaker:
                continue

            def add(attribute: str, value: str, line=line, scene=scene) -> None:
                facts.append(
                    Fact(line.speaker, attribute, value, line.number, scene.index, line.text)
                )

            for match in _AGE_OLD.finditer(line.text):
                add("age", str(_number(match.group(1))))
            if not _AGE_OLD.search(line.text):
                for match in _AGE.finditer(line.text):
                    age = _number(match.group(1))
                    if age is not None and 5 <= age <= 110 and _plausible_age(line.text, match):
                        add("age", str(age))
            for match in _JOB.finditer(line.text):
                add("job", (match.group(1) or match.group(2)).lower())
            for match in _HAS_RELATION.finditer(line.text):
                add("relation", f"has a {match.group(1).lower()}")
            for match in _NO_RELATION.finditer(line.text):
                denied = next(g for g in match.groups() if g).lower()
                kinds = {"child": "only child", "married": "never married"}
                add("relation", kinds.get(denied, f"no {denied}"))
    return facts


def _plausible_age(text: str, match: re.Match) -> bool:
    # "I'm 52 and too tired": a bare number after "I am" reads as an age unless a noun
    # follows it ("I am two steps ahead").
    rest = text[match.end() :].lstrip(" ,.!?;:-")
    following = rest.split(" ")[0].lower() if rest else ""
    return following in ("", "and", "but", "now", "today", "next", "this", "so", "too", "years")


def _denies(denial: str, claim: str) -> bool:
    relation = claim.removeprefix("has a ")
    if denial.startswith("no "):
        return denial.removeprefix("no ") == relation
    return relation in _DENIED_BY["child" if denial == "only child" else "married"]


def contradictions(facts: list[Fact]) -> list[Contradiction]:
    """Pairs of one character's facts that cannot both hold (first pair per conflict)."""
    found: dict[tuple, Contradiction] = {}
    by_speaker: dict[tuple[str, str], list[Fact]] = {}
    for fact in facts:
        by_speaker.setdefault((fact.speaker, fact.attribute), []).append(fact)
    for (speaker, attribute), said in by_speaker.items():
        for i, first in enumerate(said):
            for second in said[i + 1 :]:
                if attribute == "age":
                    clash = abs(int(first.value) - int(second.value)) > 1
                elif attribute == "job":
                    clash = first.value != second.value
                else:
                    a, b = first.value, second.value
                    clash = (a.startswith("has") and not b.startswith("has") and _denies(b, a)) or (
                        b.startswith("has") and not a.startswith("has") and _denies(a, b)
                    )
                key = (speaker, attribute, frozenset((first.value, second.value)))
                if clash and key not in found:
                    found[key] = Contradiction(speaker, attribute, first, second)
    return sorted(found.values(), key=lambda c: (c.first.line, c.second.line))


def setups(script: Script, names: set[str] | None = None) -> list[Setup]:
    """Every setup with the line of its first payoff in a later scene (None: unpaid)."""
    names = {n.upper() for n in (names or set(script.characters))}
    name_words = {w for n in names for w in n.split()}
    found: list[Setup] = []
    seen: set[str] = set()
    for scene in script.scenes:
        for line in scene.lines:
            words = []
            if line.kind == DIALOGUE:
                words = [m.group(1).lower() for m in _SETUP_CUE.finditer(line.text)]
            elif line.kind == ACTION:
                words = [
                    m.group(1).lower()
                    for m in _PROP.finditer(line.text)
                    if not set(m.group(1).split()) & name_words
                ]
            for word in words:
                if word in seen:
                    continue
                seen.add(word)
                payoff = None
                pattern = re.compile(rf"\b{re.escape(word)}")
                for later in script.scenes[scene.index + 1 :]:
                    hit = next((ln for ln in later.lines if pattern.search(ln.text.lower())), None)
                    if hit is not None:
                        payoff = hit.number
                        break
                found.append(Setup(word, line.number, scene.index, line.text, payoff))
    return found

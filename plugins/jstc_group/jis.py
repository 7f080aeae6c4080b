"""JST-AP-2 (section 3.6): names with characters outside JIS level 1/2 may be garbled.

A character is safe when it is ASCII or a character of JIS X 0208 (the kana, symbols and
level 1/2 kanji). Python's ``shift_jis`` codec is exactly JIS X 0201 + JIS X 0208 (without
Windows' CP932 extensions), so a safe non-ASCII character encodes to two bytes in it.
Flagged: CP932 vendor kanji (髙, 﨑), JIS X 0213 level 3/4 (𠮷), circled digits (①),
half-width katakana and anything else outside JIS X 0208.
"""
from __future__ import annotations


def is_jis_level_1_2(char: str) -> bool:
    if char.isascii():
        return char.isprintable()
    try:
        return len(char.encode("shift_jis")) == 2
    except UnicodeEncodeError:
        return False


def characters_outside_jis(text: str) -> list[str]:
    """The distinct characters of ``text`` outside JIS level 1/2, in order of appearance."""
    found: list[str] = []
    for char in text:
        if not is_jis_level_1_2(char) and char not in found:
            found.append(char)
    return found

"""Regular expressions compiled at their first use.

`re` compiles a pattern in Python code, about a tenth of a millisecond each: compiled at import, a
module's patterns cost every run all of them, even those only a project with migrations, a Procfile
or an env file reaches. `lazy(r"...")` stands where `re.compile(r"...")` would, and compiles when
the pattern is first used.
"""

from __future__ import annotations

import re


class LazyPattern:
    """A compiled pattern's methods and attributes (search, sub, pattern...), compiled on first use."""

    def __init__(self, pattern: str, flags: int = 0):
        self._source = (pattern, flags)

    def __getattr__(self, name: str):
        # Reached once per attribute: the compiled pattern's own is then kept on this object.
        value = getattr(re.compile(*self._source), name)
        setattr(self, name, value)
        return value


def lazy(pattern: str, flags: int = 0) -> re.Pattern:
    return LazyPattern(pattern, flags)  # type: ignore[return-value]  (it answers as a Pattern does)


def has_word(text: str, word: str, *, start: bool = True, end: bool = True) -> bool:
    """Whether `word` occurs in `text` with no letter, digit or `_` just before it (unless `start` is
    False) and just after it (unless `end` is False): what `\\bword\\b` finds, `\\b` standing only
    where the word begins or ends with a letter or digit."""
    at = text.find(word)
    while at >= 0:
        after = at + len(word)
        if (not start or at == 0 or not _word_character(text[at - 1])) \
                and (not end or after == len(text) or not _word_character(text[after])):
            return True
        at = text.find(word, at + 1)
    return False


def _word_character(c: str) -> bool:
    return c.isalnum() or c == "_"


def mentions(text: str, words: tuple[str, ...]) -> bool:
    """Whether `text`, in any case, contains one of the lower-case `words`: what searching for
    `word|word|...` ignoring case answers, with no pattern to compile."""
    lowered = text.lower()
    return any(word in lowered for word in words)

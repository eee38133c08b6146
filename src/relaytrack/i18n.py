"""Korean and English text for people, from one message table.

Machine outputs (JSON keys, the `reasons` strings of the CLI contracts, audit detail) stay English; what a
person reads in a table, a report or an explanation is rendered in the chosen language:

- the language is `--lang ko|en` (the global CLI option), else the `RELAYTRACK_LANG` environment variable,
  else Korean when the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`) is Korean (`ko_KR...`), else English;
- `t(msg_id, **fields)` renders one message of `MESSAGES` (Korean, English);
- `tr(text)` renders an English phrase the stages produce (a search, relay or alert reason, a relay stop
  reason, an error message) in the current language: each `PHRASES` entry is an English template, read back
  from the phrase, with its words (colours, items, edges, kinds, roles, spots) looked up in `WORDS`. A phrase
  no template fits is returned as it is, so nothing is lost.
- the service sets the language of one request (`use_lang`, from `lang=` or Accept-Language): it wins over the
  process's for that request only (a context variable, so concurrent requests never see each other's).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from relaytrack.i18n_tables import MESSAGES, PHRASES, STOP_EN, WORDS  # noqa: F401  (the tables, re-exported)

LANGS = ("ko", "en")
_current: str | None = None
_request: ContextVar[str | None] = ContextVar("relaytrack_request_lang", default=None)


def set_lang(lang: str | None) -> None:
    """Choose the language for this process (None: back to the environment's)."""
    global _current
    if lang is not None and lang not in LANGS:
        from relaytrack.errors import InputError

        raise InputError(f"--lang {lang!r}: use {' or '.join(LANGS)}")
    _current = lang


@contextmanager
def use_lang(lang: str | None) -> Iterator[None]:
    """Within the block (one service request), `lang` wins over the process's language (None: no change)."""
    token = _request.set(lang if lang in LANGS else None)
    try:
        yield
    finally:
        _request.reset(token)


def chosen_lang() -> str | None:
    """The language someone chose for this process (--lang, else RELAYTRACK_LANG); None when nobody did."""
    env = (os.environ.get("RELAYTRACK_LANG") or "").strip().lower()
    return _current or (env if env in LANGS else None)


def lang() -> str:
    """The language people read: the request's (service), --lang, RELAYTRACK_LANG, a Korean locale, else
    English."""
    req = _request.get()
    if req:
        return req
    if _current:
        return _current
    env = (os.environ.get("RELAYTRACK_LANG") or "").strip().lower()
    if env in LANGS:
        return env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        v = os.environ.get(var)
        if v:
            return "ko" if v.lower().startswith("ko") else "en"
    return "en"


def t(msg_id: str, **fields: object) -> str:
    """Message `msg_id` in the current language."""
    ko, en = MESSAGES[msg_id]
    return (ko if lang() == "ko" else en).format(**fields)


def word(w: str) -> str:
    """One English word (or a ~ / , joined group of them) in Korean; unknown words kept. A quoted word
    ('investigator', as errors quote names) is looked up without its quotes."""
    w = w.strip()
    if len(w) > 1 and w[0] == w[-1] and w[0] in "'\"" and w[1:-1] in WORDS:
        return WORDS[w[1:-1]]
    if w in WORDS:
        return WORDS[w]
    for sep in ("~", "/", ", "):
        if sep in w:
            return sep.join(word(p) for p in w.split(sep))
    return w


def spot(label: str) -> str:
    """A hiding spot's label ("AC unit z3") with its kind in Korean ("에어컨 실외기 z3")."""
    for kind in sorted((k for k in WORDS if " " in k or k.islower()), key=len, reverse=True):
        if label == kind or label.startswith(kind + " "):
            return WORDS[kind] + label[len(kind) :]
    return label


def _measures(text: str) -> str:
    """Words inside a list of measures ("knee 80°, torso 40°, height x0.85") in Korean."""
    text = re.sub(r"\bx(?=\d)", "×", text)
    return re.sub(r"[A-Za-z]+(?: [A-Za-z]+)*", lambda m: WORDS.get(m.group(0), m.group(0)), text)


@cache
def _compiled() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for en, ko in PHRASES:
        parts = re.split(r"(\{\w+\})", en)
        rx = "".join(f"(?P<{p[1:-1]}>.+?)" if p.startswith("{") else re.escape(p) for p in parts)
        out.append((re.compile(f"^{rx}$", re.S), ko))
    return out


def _field(name: str, value: str) -> str:
    if name in ("w", "v", "x"):
        return word(value)
    if name == "r":  # a phrase inside a phrase (an error's reason)
        return ko(value)
    if name == "spot":
        return spot(value)
    if name == "d":
        return _measures(value)
    if name == "o":  # an English ordinal: 2nd -> 2
        return re.sub(r"(\d+)(st|nd|rd|th)$", r"\1", value)
    return value


def _split_top(text: str, sep: str) -> list[str]:
    """`text` split at `sep` outside brackets."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        depth += ch in "([" and 1 or 0
        depth -= ch in ")]" and 1 or 0
        if depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    return [*parts, text[start:]]


def ko(text: str) -> str:
    """An English phrase of the stages in Korean (unchanged when no template fits). A list of phrases joined
    by "; " or ", " (an alert's one-line explanation) is rendered phrase by phrase when every phrase is."""
    for sep in ("; ", ", "):
        parts = _split_top(text, sep)
        if len(parts) > 1:
            out = [ko(x) for x in parts]
            if all(o != x or not re.search("[A-Za-z]", x) for o, x in zip(out, parts, strict=True)):
                return sep.join(out)
            break
    for rx, tmpl in _compiled():
        m = rx.match(text)
        if m:
            return tmpl.format(**{k: _field(k, v) for k, v in m.groupdict().items()})
    return word(text) if text in WORDS else text


def tr(text: str) -> str:
    """An English phrase of the stages (reason, stop reason, action) in the current language."""
    return ko(text) if lang() == "ko" else text


def tr_all(texts: list[str]) -> list[str]:
    return [tr(x) for x in texts]


def stop_sentence(side: str, why: str) -> str:
    """Why the relay ended in one direction, as a sentence: "이후 방향 추적 중단: …" / "forward stopped: …"."""
    if lang() == "ko":
        return t("stopped", side=t(side) if side in MESSAGES else side, why=ko(why) if why else "-")
    return t("stopped", side=side, why=STOP_EN.get(why, why) or "-")

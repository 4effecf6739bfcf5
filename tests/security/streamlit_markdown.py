"""What Streamlit's Markdown renderer makes of a text, modelled for the security tests.

Streamlit (1.67, ``StreamlitMarkdown``) parses with CommonMark plus GitHub's tables,
strikethrough and autolink literals, remark-math (``$x$``) and remark-directive
(``:red[...]``), then rewrites text nodes, whose backslash escapes are already resolved:
GitHub's autolink literals (``mdast-util-gfm-autolink-literal``: ``www.``, ``http://``,
``https://``, ``name@host``), ``:material_icon:`` (after replacing ``:material/`` in the
source), ``:streamlit:``, emoji ``:shortcodes:`` and typographic arrows and dashes. This module
parses with markdown-it-py (CommonMark, tables, strikethrough; its text tokens are merged as
mdast's text nodes are) and applies the same rewrites to each text token, reporting each as a
kind of element: a model, checked against the real renderer in a browser by
``tests/e2e/test_user_text.py``.
"""

from __future__ import annotations

import re
import unicodedata

from markdown_it import MarkdownIt

WORD_JOINER = "\u2060"
MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["strikethrough", "table"])

# mdast-util-gfm-autolink-literal's transform (JavaScript \w is ASCII)
_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.IGNORECASE | re.ASCII)
_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.ASCII)
_TRAIL = re.compile(r"""[!"&'),.:;<>?\]}]+$""")
_MATERIAL = re.compile(r":material_(\w+):", re.ASCII)
_EMOJI = re.compile(r":(?:[+-]1|100|1234|[\w-]*[A-Za-z][\w-]*):", re.ASCII)
_TYPOGRAPHY = [
    (re.compile(r"(^|\s)<->(\s|$)"), r"\1↔\2"),
    (re.compile(r"(^|\s)->(\s|$)"), r"\1→\2"),
    (re.compile(r"(^|\s)<-(\s|$)"), r"\1←\2"),
    (re.compile(r"(^|\s)--(\s|$)"), r"\1—\2"),
    (re.compile(r"(^|\s)>=(\s|$)"), r"\1≥\2"),
    (re.compile(r"(^|\s)<=(\s|$)"), r"\1≤\2"),
    (re.compile(r"(^|\s)~=(\s|$)"), r"\1≈\2"),
]


def _whitespace_or_punctuation(character: str) -> bool:
    category = unicodedata.category(character)
    return character.isspace() or category.startswith(("P", "S")) or category == "Zs"


def _previous_allows(text: str, index: int, *, email: bool = False) -> bool:
    if index == 0:
        return True
    before = text[index - 1]
    return _whitespace_or_punctuation(before) and not (email and before == "/")


def _correct_domain(domain: str) -> bool:
    parts = domain.split(".")
    if len(parts) < 2:
        return False
    for part in parts[-2:]:
        if part and ("_" in part or not re.search(r"[a-zA-Z\d]", part)):
            return False
    return True


def _url_kept(url: str) -> str:
    trail = _TRAIL.search(url)
    if not trail:
        return url
    kept, rest = url[: trail.start()], trail.group()
    closing = rest.find(")")
    opening, closed = kept.count("("), kept.count(")")
    while closing != -1 and opening > closed:
        kept += rest[: closing + 1]
        rest = rest[closing + 1 :]
        closing = rest.find(")")
        closed += 1
    return kept


def autolinks(text: str) -> list[str]:
    """The links GitHub's autolink literal transform makes of a text node."""
    found = []
    for index in range(len(text)):
        url = _URL.match(text, index)
        if url and _previous_allows(text, index):
            protocol, domain, path = url.groups()
            if protocol.lower().startswith("w"):
                domain, protocol = protocol + domain, ""
            if _correct_domain(domain) and _url_kept(domain + path):
                found.append(protocol + _url_kept(domain + path))
        email = _EMAIL.match(text, index)
        if (
            email
            and _previous_allows(text, index, email=True)
            and not re.search(r"[-\d_]$", email.group(2))
        ):
            found.append(email.group())
    return found


def _unescaped(body: str, pattern: str) -> list[re.Match[str]]:
    """Matches of ``pattern`` whose first character is not backslash-escaped."""
    return [
        match
        for match in re.finditer(pattern, body)
        if (len(body[: match.start()]) - len(body[: match.start()].rstrip("\\"))) % 2 == 0
    ]


def read(body: str) -> tuple[str, set[str]]:
    """What a person reads of ``body`` as Streamlit renders it, and the kinds of element it
    renders to (markdown-it's token types, plus ``autolink``, ``material_icon``,
    ``streamlit_logo``, ``emoji``, ``typography``, ``directive`` and ``math``)."""
    source = body.replace(":material/", ":material_")
    kinds: set[str] = set()
    if _unescaped(source, r"(?<!:):[A-Za-z]"):
        kinds.add("directive")
    if len(_unescaped(source, r"\$")) >= 2:
        kinds.add("math")
    shown: list[str] = []
    for token in MARKDOWN.parse(source):
        kinds.add(token.type)
        inside_link = False
        for child in token.children or []:
            kinds.add(child.type)
            inside_link = {"link_open": True, "link_close": False}.get(child.type, inside_link)
            if child.type == "text":
                text = child.content
                if not inside_link:
                    if autolinks(text):
                        kinds.add("autolink")
                    if _MATERIAL.search(text):
                        kinds.add("material_icon")
                    if ":streamlit:" in text:
                        kinds.add("streamlit_logo")
                    if _EMOJI.search(text):
                        kinds.add("emoji")
                    for pattern, replacement in _TYPOGRAPHY:
                        if pattern.search(text):
                            kinds.add("typography")
                            text = pattern.sub(replacement, text)
                shown.append(text)
            elif child.type == "code_inline":
                shown.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                shown.append("\n")
    # the word joiner is invisible: a person does not read it
    return "".join(shown).replace(WORD_JOINER, ""), kinds

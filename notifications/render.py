"""Messages rendered from Jinja2 templates (消息模板) an office can edit.

Each kind of message is one file ``messages/{kind}.j2`` defining three blocks, ``subject``, ``text``
and ``html``; ``messages/digest.j2`` lists a recipient's messages of one day. The context keys are
documented in ``config/templates/README.md``. Files named ``*.html.j2`` (shared HTML snippets) are
autoescaped; a kind file is not, so its ``html`` block opens ``{% autoescape true %}`` itself and its
subject and text stay plain (an ``&`` in a title is not turned into ``&amp;``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    select_autoescape,
)

from config import ConfigError
from states.errors import RectiflowError

KINDS = (
    "assigned",
    "reminder",
    "due_today",
    "overdue",
    "supervision",
    "talk",
    "sent_back",
    "extension_decided",
    "closed",
)
"""The kinds the engine sends; each must have a template. An office may add more files."""
DIGEST = "digest"
BULLETIN = "weekly"
"""The weekly bulletin for leaders (not about one item: its context is ``week``, ``stats``, ``overdue``, ``changes``)."""
REPORT_READY = "report_ready"
"""To the office: a notice's rectification report is written (context: the notice and the ``files``)."""
BLOCKS = ("subject", "text", "html")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    """One message, ready for a channel."""

    subject: str
    """One line, whitespace collapsed."""
    text: str
    """Plain text (also the markdown of webhooks), ending with a newline."""
    html: str
    """An HTML fragment (no ``<html>`` wrapper), values escaped."""


class UnknownKind(RectiflowError, LookupError):
    """No template exists for a message kind.

    Attributes:
        kind: the requested kind.
        known: the kinds that have a template.
    """

    def __init__(self, kind: str, known: Sequence[str]) -> None:
        self.kind, self.known = kind, tuple(known)
        super().__init__(f"消息类型「{kind}」没有模板；可用：{', '.join(self.known)}")


class RenderError(RectiflowError, ValueError):
    """A template failed on the given context (a missing key, a bad filter argument …).

    Attributes:
        template: the template file name.
    """

    def __init__(self, template: str, why: str) -> None:
        self.template, self.why = template, why
        super().__init__(f"消息模板 {template} 渲染失败：{why}")


def cn_date(value: str | date | None) -> str:
    """``2026-09-28`` → ``2026年9月28日``; ``None`` → ``未设定``; anything else unchanged."""
    if value is None:
        return "未设定"
    try:
        day = value if isinstance(value, date) else date.fromisoformat(value)
    except ValueError:
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日"


class Renderer:
    """Renders messages from the templates in one folder, compiled and checked once.

    Args:
        templates_dir: ``config/templates`` (its ``messages/`` subfolder is used), or the
            ``messages`` folder itself.

    Raises:
        ConfigError: a kind or the digest has no template, a template does not compile, or it
            lacks one of the blocks ``subject``, ``text``, ``html``.
    """

    def __init__(self, templates_dir: Path) -> None:
        folder = templates_dir / "messages" if (templates_dir / "messages").is_dir() else templates_dir
        self._env = Environment(
            loader=FileSystemLoader(folder),
            undefined=StrictUndefined,
            autoescape=select_autoescape(("html", "html.j2"), default_for_string=False, default=False),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["cn_date"] = cn_date
        names = sorted(
            p.stem for p in folder.glob("*.j2") if not p.name.startswith("_") and "." not in p.stem
        )
        missing = sorted((set(KINDS) | {DIGEST, BULLETIN, REPORT_READY}) - set(names))
        if missing:
            raise ConfigError(f"{folder}: 缺少消息模板 {', '.join(m + '.j2' for m in missing)}")
        self._templates = {name: self._load(name + ".j2") for name in names}

    @property
    def kinds(self) -> tuple[str, ...]:
        """The message kinds that have a template (the digest excluded)."""
        return tuple(k for k in self._templates if k != DIGEST)

    def render(self, kind: str, context: Mapping[str, Any]) -> Rendered:
        """Render the message of ``kind``.

        Args:
            kind: a template name, e.g. ``overdue``.
            context: the keys listed in ``config/templates/README.md``.

        Raises:
            UnknownKind: no template for ``kind``.
            RenderError: the template failed, e.g. a context key is missing.
        """
        if kind == DIGEST or kind not in self._templates:
            raise UnknownKind(kind, self.kinds)
        return self._render(self._templates[kind], context)

    def render_digest(self, recipient_name: str, day: date, parts: Sequence[Rendered]) -> Rendered:
        """One message listing every message of ``day`` for one recipient.

        Args:
            recipient_name: e.g. ``赵立新（医务科）``.
            day: the working day the messages belong to.
            parts: the rendered messages, in the order to list them.

        Raises:
            RenderError: the digest template failed.
        """
        context = {"recipient_name": recipient_name, "day": day.isoformat(), "parts": list(parts)}
        return self._render(self._templates[DIGEST], context)

    def _load(self, name: str) -> Template:
        try:
            template = self._env.get_template(name)
        except TemplateSyntaxError as exc:
            raise ConfigError(f"{exc.filename}:{exc.lineno}: 消息模板语法错误：{exc.message}") from exc
        absent = [b for b in BLOCKS if b not in template.blocks]
        if absent:
            raise ConfigError(f"{template.filename}: 缺少 {', '.join(absent)} 块（{{% block … %}}）")
        return template

    def _render(self, template: Template, context: Mapping[str, Any]) -> Rendered:
        ctx = template.new_context(dict(context))
        try:
            out = {b: "".join(template.blocks[b](ctx)) for b in BLOCKS}
        except TemplateError as exc:
            raise RenderError(str(template.name), str(exc)) from exc
        text = re.sub(r"\n{3,}", "\n\n", out["text"].strip()) + "\n"
        return Rendered(subject=" ".join(out["subject"].split()), text=text, html=out["html"].strip())

"""The configuration schema read as data: its settings, and the texts made from it.

``kiosk config template`` (the annotated TOML an installer starts from) and
``docs/configuration.md`` are both rendered here from the pydantic models, so a
setting, its default and its meaning are written once, in the model.

A setting whose type holds a ``SecretStr`` is a secret: the texts say so, and point to
a systemd credential or the environment rather than the file.
"""

from __future__ import annotations

import enum
import json
import re
import textwrap
import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from pathlib import PurePath
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

ENV_PREFIX = "KIOSK_"
ENV_DELIMITER = "__"
_SECTION_TAG = re.compile(r"^``\[[^\]]*\]``:\s*")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Setting:
    """One leaf of the schema: ``path`` is its dotted place, ``("devices", "camera", "fps")``."""

    path: tuple[str, ...]
    field: FieldInfo

    @property
    def key(self) -> str:
        return ".".join(self.path)

    @property
    def default(self) -> Any:
        return self.field.get_default(call_default_factory=True)

    @property
    def secret(self) -> bool:
        return _holds(self.field.annotation, SecretStr)

    @property
    def env(self) -> str:
        return ENV_PREFIX + ENV_DELIMITER.join(part.upper() for part in self.path)

    @property
    def description(self) -> str:
        return self.field.description or ""

    def constraints(self) -> str:
        """The allowed values in words: 'one of "a", "b"', 'from 0 to 10', ''."""
        choices = _literal_choices(self.field.annotation)
        if choices:
            return "one of " + ", ".join(toml_value(choice) for choice in choices)
        bounds = []
        for item in self.field.metadata:  # annotated_types bounds, pydantic's pattern
            for name, word in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
                if getattr(item, name, None) is not None:
                    bounds.append(f"{word} {getattr(item, name)}")
            if getattr(item, "pattern", None):
                bounds.append(f"matches {item.pattern}")
        return ", ".join(bounds)


def sections(model: type[BaseModel]) -> Iterator[tuple[str, ...]]:
    """Dotted places of ``model``'s tables, parents first, each before its sub-tables."""
    for name, field in model.model_fields.items():
        sub = _section_model(field)
        if sub is not None:
            yield (name,)
            yield from ((name, *rest) for rest in sections(sub))


def walk(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[Setting]:
    """Every setting of ``model``, depth first, in declaration order."""
    for name, field in model.model_fields.items():
        sub = _section_model(field)
        if sub is None:
            yield Setting((*prefix, name), field)
        else:
            yield from walk(sub, (*prefix, name))


def section_model(model: type[BaseModel], path: tuple[str, ...]) -> type[BaseModel]:
    for name in path:
        sub = _section_model(model.model_fields[name])
        assert sub is not None, f"{name} is not a table"
        model = sub
    return model


def section_summary(model: type[BaseModel]) -> str:
    """The first paragraph of the model's docstring, without its ``[table]``: tag."""
    doc = (model.__doc__ or "").strip().split("\n\n")[0]
    return _SECTION_TAG.sub("", " ".join(doc.split()))


def toml_value(value: Any) -> str:
    """``value`` as a TOML literal (Decimal as a string: TOML floats are binary)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Decimal | PurePath | str):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, time):  # a TOML local time
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"no TOML literal for {type(value).__name__}")


def toml_key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name)


# --- the template -------------------------------------------------------------------------

TEMPLATE_HEAD = """\
# Lobby kiosk configuration (/etc/kiosk/kiosk.toml), from `kiosk config template`.
#
# Every setting is listed with its default, commented out: a site uncomments and
# changes only what differs, and takes new defaults with an upgrade. Check a change
# with `kiosk config check FILE`; docs/configuration.md describes every setting.
#
# The environment overrides this file: KIOSK_<TABLE>__<KEY>, e.g. KIOSK_BACKEND__TOKEN
# sets [backend] token. Settings marked SECRET are better given as a systemd credential
# named after the setting (LoadCredential=backend.token:/etc/kiosk/credentials/backend.token)
# or in the environment than in this file.
"""


def render_template(model: type[BaseModel]) -> str:
    """The annotated TOML of ``model``: a loadable file that leaves every default as is."""
    lines = [TEMPLATE_HEAD]
    lines.extend(_template_table(model, ()))
    return "\n".join(lines).rstrip("\n") + "\n"


def _template_table(model: type[BaseModel], path: tuple[str, ...]) -> Iterator[str]:
    if path:
        yield f"[{'.'.join(path)}]"
        yield from _comment(section_summary(model))
        yield ""
    subs = []
    for name, field in model.model_fields.items():
        sub = _section_model(field)
        if sub is not None:
            subs.append((sub, (*path, name)))
            continue
        setting = Setting((*path, name), field)
        yield from _comment(setting.description)
        if setting.constraints():
            yield from _comment(f"({setting.constraints()})")
        if setting.secret:
            yield from _comment(f"SECRET: better a credential named {setting.key} or {setting.env}")
        default = setting.default
        yield f"#{name} =" if default is None else f"#{name} = {toml_value(default)}"
        yield ""
    for sub, sub_path in subs:
        yield from _template_table(sub, sub_path)


def _comment(text: str) -> list[str]:
    return textwrap.wrap(
        text,
        88,
        initial_indent="# ",
        subsequent_indent="# ",
        break_on_hyphens=False,
        break_long_words=False,
    )


# --- the reference page -------------------------------------------------------------------

DOCS_HEAD = """\
<!-- Generated from the configuration schema by `kiosk config docs --output
docs/configuration.md`; edit the pydantic models (kiosk/config.py and the sections it
composes), not this page. tests/unit/test_config_docs.py fails when it is stale. -->

# Configuration

The kiosk reads one TOML file, `/etc/kiosk/kiosk.toml` (`kiosk run --config FILE` for
another), validated at start-up against the schema below; an unknown key or a bad value
stops the kiosk with the setting's dotted name and what is wrong with it.

- `kiosk config template` prints an annotated file with every setting and its default,
  commented out (the install script writes it once; an existing file is never
  overwritten). Uncomment and change only what differs from the default.
- `kiosk config check FILE` validates a file as `kiosk run` would load it (environment and
  credentials included): exit 0 when valid, 2 with each bad setting named. Secret values
  are never printed.
- The environment overrides the file: `KIOSK_<TABLE>__<KEY>` (`KIOSK_DEVICES__ENCODER__SITE_KEY_A`
  sets `[devices.encoder] site_key_a`).
- **Secrets** (marked below) are better kept out of the file: as a systemd credential
  named after the setting (`LoadCredential=backend.token:/etc/kiosk/credentials/backend.token`,
  read from `$CREDENTIALS_DIRECTORY/backend.token`), or in the environment. Precedence:
  environment, then credential, then file, then default.
- With no file at all the defaults run the embedded property simulator and simulated
  devices (`kiosk demo`).
"""


def render_markdown(model: type[BaseModel]) -> str:
    """The reference page of ``model``: one table per section."""
    out = [DOCS_HEAD]
    for path in sections(model):
        sub = section_model(model, path)
        leaves = [
            Setting((*path, name), field)
            for name, field in sub.model_fields.items()
            if _section_model(field) is None
        ]
        out.append(f"## `[{'.'.join(path)}]`\n")
        out.append(section_summary(sub) + "\n")
        if not leaves:
            continue
        out.append("| key | default | meaning |")
        out.append("| --- | --- | --- |")
        for setting in leaves:
            name, default = setting.path[-1], _md_default(setting)
            out.append(f"| `{name}` | {default} | {_md_meaning(setting)} |")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _md_default(setting: Setting) -> str:
    default = setting.default
    if default is None:
        return "not set"
    return "`" + toml_value(default).replace("|", "\\|") + "`"


def _md_meaning(setting: Setting) -> str:
    text = setting.description
    if setting.constraints():
        text += f" ({setting.constraints()})"
    if setting.secret:
        text += f". **Secret**: credential `{setting.key}` or `{setting.env}`"
    return text.replace("|", "\\|").replace("<", "\\<")  # "<state dir>" is no HTML tag


# --- types ---------------------------------------------------------------------------------


def _section_model(field: FieldInfo) -> type[BaseModel] | None:
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _holds(annotation: Any, wanted: type) -> bool:
    if annotation is wanted:
        return True
    return any(_holds(arg, wanted) for arg in get_args(annotation))


def _literal_choices(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        for arg in get_args(annotation):
            choices = _literal_choices(arg)
            if choices:
                return choices
    return ()

"""Griffe extension for the API reference (mkdocs.yml): the docstrings' Sphinx roles.

The docstrings say ``:func:`liquidate```, ``:class:`~krg_liquidity.core.errors.BookError``` and so on,
which ``help()`` shows as written. On the pages each becomes a link to the object's entry when it
has one (a public name of ``krg_liquidity`` or a member of one), else inline code. A link whose
target is missing is a warning of ``mkdocs build --strict``, so the references stay true.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(func|class|meth|mod|attr|exc|data|obj):`(~?)([^`]+)`")


class SphinxRoles(griffe.Extension):
    """Rewrite the roles of every docstring of the ``krg_liquidity`` package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name != "krg_liquidity":
            return
        names = [str(name) for name in pkg.exports or ()]  # the figures load lazily: not members, no link
        public = {name: pkg.all_members[name] for name in names if name in pkg.all_members}
        for obj in _objects(pkg):
            if obj.docstring is not None:
                obj.docstring.value = ROLE.sub(lambda m: _reference(m, obj, public), obj.docstring.value)


def _objects(obj: griffe.Object):
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)


def _reference(match: re.Match, obj: griffe.Object, public: dict) -> str:
    role, short, target = match.groups()
    target = target.lstrip(".")
    parts = target.split(".")
    shown = parts[-1] if short else target
    identifier = None if role == "mod" else _identifier(parts, role, obj, public)
    return f"[`{shown}`][{identifier}]" if identifier else f"`{shown}`"


def _identifier(parts: list[str], role: str, obj: griffe.Object, public: dict) -> str | None:
    """The page anchor of the target (``krg_liquidity.Name`` or ``krg_liquidity.Name.member``), or None."""
    last = parts[-1]
    if len(parts) == 1 and role in ("meth", "attr"):  # a member of the class being documented
        owner = obj if obj.is_class else obj.parent
        if owner is not None and owner.is_class and owner.name in public and last in owner.members:
            return f"krg_liquidity.{owner.name}.{last}"
        return None
    if len(parts) >= 2 and parts[-2] in public and public[parts[-2]].is_class:  # Class.member
        return f"krg_liquidity.{parts[-2]}.{last}" if last in public[parts[-2]].members else None
    if last in public:
        dotted = ".".join(parts)
        if len(parts) == 1 or dotted in (f"krg_liquidity.{last}", public[last].target_path):
            return f"krg_liquidity.{last}"
    return None

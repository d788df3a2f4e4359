"""Writes docs/cli.md from the `overture` command's own --help; with --check, fails if the file is out of date."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from overture.cli import main

TARGET = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def help_of(command: click.Command, path: list[str]) -> str:
    with click.Context(command, info_name=" ".join(path), terminal_width=100, max_content_width=100) as context:
        return command.get_help(context)


def walk(command: click.Command, path: list[str]) -> list[str]:
    sections = [f"## `{' '.join(path)}`\n\n```text\n{help_of(command, path)}\n```\n"]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            sections.extend(walk(command.commands[name], [*path, name]))
    return sections


def render() -> str:
    intro = (
        "# Command line\n\n"
        "Made from `overture --help` by `python scripts/cli_docs.py`; a test fails when it is out of date.\n\n"
    )
    return intro + "\n".join(walk(main, ["overture"]))


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET} is out of date: run python scripts/cli_docs.py")  # noqa: T201
            sys.exit(1)
    else:
        TARGET.write_text(text)

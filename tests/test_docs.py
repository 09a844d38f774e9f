"""The README documents every setting, command-line option and API parameter (in the spirit of
datasette's test_docs.py): adding one without a word for the reader fails here."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import click
import pytest

from vnsearch.cli import main
from vnsearch.config import Settings
from vnsearch.web.params import PARAM_NAMES

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
# Parameters read outside the search form's parser (CSV exports, completions).
OTHER_API_PARAMETERS = ("limit",)


def command_options():
    for name, command in main.commands.items():
        for param in command.params:
            if isinstance(param, click.Option):
                for option in param.opts:
                    if option.startswith("--"):
                        yield name, option


@pytest.mark.parametrize("setting", [f"VNSEARCH_{f.name.upper()}" for f in dataclasses.fields(Settings)])
def test_every_setting_is_in_the_readme(setting):
    assert f"`{setting}`" in README, f"{setting} is not documented in README.md"


@pytest.mark.parametrize("command,option", sorted(set(command_options())))
def test_every_command_option_is_in_the_readme(command, option):
    if option in ("--help", "--version"):
        return
    assert re.search(rf"`[^`]*{re.escape(option)}\b[^`]*`", README), f"vnsearch {command} {option} is not in README.md"


@pytest.mark.parametrize("parameter", sorted(set(PARAM_NAMES.values()) | set(OTHER_API_PARAMETERS)))
def test_every_api_parameter_is_in_the_readme(parameter):
    assert re.search(rf"`{re.escape(parameter)}(=[^`]*)?`", README), f"the API parameter {parameter} is not in README.md"


def test_the_check_fails_on_an_undocumented_name():
    with pytest.raises(AssertionError):
        test_every_setting_is_in_the_readme("VNSEARCH_NOT_A_SETTING")

"""Linting with the guard rules (tests/template/guard/), shared by the guard-rule tests
(test_*_rules.py): a snippet's findings among some rule ids, and the project's two templates'
findings, each template linted once per test run (a full lint takes seconds)."""

from functools import cache
from pathlib import Path

from cfnlint.api import ManualArgs, lint, lint_file

ROOT = Path(__file__).resolve().parents[2]
GUARD = str(ROOT / "tests/template/guard")
PROJECT_TEMPLATES = ("template.yaml", "examples/consumer/template.yaml")


def _config():
    return ManualArgs(append_rules=[GUARD], regions=["us-east-1"])


def findings(template: str, ids) -> list[tuple[str, str]]:
    """(rule id, message) of every finding of a rule in `ids` on a template's text, sorted."""
    return sorted((m.rule.id, m.message) for m in lint(template, config=_config()) if m.rule.id in ids)


@cache
def _project(path: str) -> tuple[tuple[str, str], ...]:
    return tuple((m.rule.id, m.message) for m in lint_file(ROOT / path, config=_config()))


def project_findings(path: str, ids) -> list[str]:
    """`<rule id> <message>` of every finding of a rule in `ids` on a project template."""
    return [f"{rule} {message}" for rule, message in _project(path) if rule in ids]

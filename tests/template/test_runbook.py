"""Every alarm of both templates names a runbook section in its AlarmDescription, every section
it names exists in docs/runbook.md, and every section says what it means, how to look and what
to do.

Run: python -m unittest discover -s tests/template (the venv's python, which has cfn-lint)."""

import re
import unittest
from pathlib import Path

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "docs" / "runbook.md"
TEMPLATES = [ROOT / "template.yaml", ROOT / "examples" / "consumer" / "template.yaml"]
REFERENCE = re.compile(r"Runbook: docs/runbook\.md#([a-z0-9-]+)")


def anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def sections(text: str) -> dict[str, str]:
    """anchor -> body of every `## ` section."""
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return {anchor(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def alarms(path: Path) -> dict[str, str]:
    tpl, errors = decode(str(path))
    assert not errors, errors
    return {
        name: (r.get("Properties") or {}).get("AlarmDescription", "")
        for name, r in (tpl.get("Resources") or {}).items()
        if r.get("Type") == "AWS::CloudWatch::Alarm"
    }


class RunbookTest(unittest.TestCase):
    def test_every_alarm_names_a_section_that_exists_and_says_what_to_do(self):
        found = sections(RUNBOOK.read_text())
        checked = 0
        for path in TEMPLATES:
            for name, description in alarms(path).items():
                with self.subTest(alarm=name, template=path.name):
                    refs = REFERENCE.findall(description if isinstance(description, str) else "")
                    self.assertEqual(len(refs), 1, f"{name}: AlarmDescription names no runbook section: {description!r}")
                    self.assertIn(refs[0], found, f"{name}: docs/runbook.md has no section #{refs[0]}")
                    body = found[refs[0]]
                    for part in ("**What it means.**", "**How to look.**", "**What to do.**"):
                        self.assertIn(part, body, f"section #{refs[0]} lacks {part}")
                    checked += 1
        self.assertGreaterEqual(checked, 13)

    def test_every_link_of_the_runbook_reaches_a_section(self):
        text = RUNBOOK.read_text()
        found = sections(text)
        for target in re.findall(r"\]\(#([a-z0-9-]+)\)", text):
            self.assertIn(target, found, f"docs/runbook.md links to #{target}, which is no section")
        for source in [ROOT / "deploy" / "preflight.py", ROOT / "template.yaml"]:
            for target in re.findall(r"docs/runbook\.md#([a-z0-9-]+)", source.read_text()):
                self.assertIn(target, found, f"{source.name} refers to docs/runbook.md#{target}, which is no section")

    def test_the_check_catches_an_alarm_without_a_section(self):
        self.assertEqual(REFERENCE.findall("Events failed. Runbook: docs/runbook.md#nosuchalarm"), ["nosuchalarm"])
        self.assertNotIn("nosuchalarm", sections(RUNBOOK.read_text()))
        self.assertEqual(REFERENCE.findall("Events failed."), [])


if __name__ == "__main__":
    unittest.main()

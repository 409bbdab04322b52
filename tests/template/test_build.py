"""How `sam build` builds the functions: BuildMethod makefile with lambda/Makefile (one
whole-workspace `cargo lambda build`), not a CodeUri of the whole repository. Checks what
would otherwise only fail at `sam build` time, or silently build the wrong thing.

Run: python -m unittest discover -s tests/template (the venv's python)."""

import re
import tomllib
import unittest
from pathlib import Path

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]


def template():
    tpl, errors = decode(str(ROOT / "template.yaml"))
    assert not errors, errors
    return tpl


def makefile_binaries(text):
    """LogicalId -> binary, from lambda/Makefile's `BIN_<LogicalId> := <binary>` lines."""
    return dict(re.findall(r"^BIN_(\w+) := ([\w-]+)$", text, re.MULTILINE))


class BuildTest(unittest.TestCase):
    def setUp(self):
        self.functions = {
            name: r for name, r in template()["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
        }
        self.makefile = (ROOT / "lambda/Makefile").read_text()

    def test_every_function_is_built_by_lambda_makefile_in_the_workspace_root(self):
        self.assertTrue(self.functions)
        for name, fn in self.functions.items():
            meta, props = fn["Metadata"], fn["Properties"]
            self.assertEqual(meta.get("BuildMethod"), "makefile", name)
            # The root as CodeUri makes SAM hash (cached) or copy (makefile) target/ and the venvs.
            self.assertEqual(props.get("CodeUri"), "lambda/", name)
            self.assertEqual(meta.get("WorkingDirectory"), ".", name)

    def test_the_makefile_copies_each_functions_own_binary(self):
        mapped = makefile_binaries(self.makefile)
        for name, fn in self.functions.items():
            binary = fn["Metadata"]["BuildProperties"]["Binary"]
            self.assertEqual(mapped.get(name), binary, f"lambda/Makefile: BIN_{name} := {binary} expected")
            self.assertTrue((ROOT / "functions" / binary / "Cargo.toml").is_file(), binary)
        self.assertEqual(set(mapped), set(self.functions), "lambda/Makefile maps a function the template lacks")

    def test_the_scanner_reads_the_table(self):
        self.assertEqual(makefile_binaries("BIN_AFunction := a-b\nBIN_X:=y\n"), {"AFunction": "a-b"})

    def test_sam_build_is_neither_cached_nor_parallel(self):
        # SAM's cache keys on a hash of CodeUri, which is lambda/ alone: a Rust change would not
        # invalidate it; cargo decides what is stale instead. Parallel builds run concurrent
        # `cargo lambda build`s, which race when they copy the binaries ("no binaries found").
        config = tomllib.loads((ROOT / "samconfig.toml").read_text())
        checked = 0
        for env, sections in config.items():
            if isinstance(sections, dict) and "build" in sections:
                self.assertIs(sections["build"]["parameters"].get("cached"), False, env)
                self.assertIs(sections["build"]["parameters"].get("parallel"), False, env)
                checked += 1
        self.assertGreaterEqual(checked, 1)

    def test_the_makefile_builds_one_at_a_time(self):
        self.assertIn('flock "$(TARGET_DIR)/.lambda-build.lock" cargo lambda build', self.makefile)


if __name__ == "__main__":
    unittest.main()

"""The README keeps telling the truth about template.yaml where a test can tell: the functions
it lists (and how many it says there are), the diagram's schedules, every parameter and its
default, the outputs, the alarms (and which functions the throttles alarm covers), the request
budget's split, the `samconfig.toml` environments it tells a deployer to write (parsed the way
`sam deploy` parses them), and the template's own Description.

Run: python -m unittest discover -s tests/template (the venv's python: cfn-lint's decoder, the
SAM CLI's parameter parser)."""

import json
import re
import sys
import tomllib
import unittest
from pathlib import Path

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

sys.path.insert(0, str(ROOT / "tests/template/guard"))
import docs_rules  # noqa: E402
from test_template import NO_PARTNER_CENTRAL  # noqa: E402

NUMBERS = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}


def load(path):
    template, errors = decode(str(ROOT / path))
    assert not errors, errors
    return template


def section(text, heading):
    """The text of the `## heading` section (up to the next `## `)."""
    start = text.index(f"\n## {heading}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def table_rows(text):
    """The cells of every row of the markdown tables in `text` (header and rule rows dropped)."""
    rows = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("| ") or re.match(r"^\|\s*-", line):
            continue
        if i + 1 < len(lines) and re.match(r"^\|\s*-", lines[i + 1]):
            continue  # header
        rows.append([c.strip() for c in line.strip().strip("|").split(" | ")])
    return rows


def ticked(cell):
    return re.findall(r"`([^`]+)`", cell)


def functions_of(template):
    """function name (the binary) -> logical id."""
    return {
        r["Metadata"]["BuildProperties"]["Binary"]: name
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }


def crates():
    return {p.parent.name for p in (ROOT / "functions").glob("*/Cargo.toml")}


class ReadmeMatchesTheTemplate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.text = README.read_text()
        cls.template = load("template.yaml")
        cls.functions = functions_of(cls.template)

    def test_the_function_table_lists_every_function_and_the_intro_counts_them(self):
        self.assertEqual(set(self.functions), crates(), "template functions vs. crates under functions/")
        intro = self.text[: self.text.index("\n## ")]
        listed = re.findall(r"^\| \*\*([a-z-]+)\*\* \|", intro, re.M)
        self.assertEqual(sorted(listed), sorted(self.functions))
        count = NUMBERS[len(self.functions)]
        self.assertRegex(intro, rf"\b{count.capitalize()} small Lambda functions\b")
        for word in set(NUMBERS.values()) - {count}:
            self.assertNotRegex(intro.lower(), rf"\b{word} small lambda functions\b")

    def test_make_invoke_names_every_function(self):
        line = re.search(r"- `FN`: any function under `functions/` — ([a-z,\s-]+);", self.text)
        self.assertIsNotNone(line, "the make invoke bullet naming FN's values")
        self.assertEqual({f.strip() for f in line.group(1).split(",")}, crates())

    def test_the_diagram_shows_every_schedule_and_the_fast_path(self):
        diagram = re.search(r"```\n(.*?)```", self.text, re.S).group(1)
        params = self.template["Parameters"]
        for binary, logical in self.functions.items():
            self.assertIn(binary, diagram)
            events = self.template["Resources"][logical]["Properties"].get("Events", {})
            for event_name, event in events.items():
                props = event["Properties"]
                with self.subTest(function=binary, event=event_name):
                    if event["Type"] == "ScheduleV2":
                        expression = props["ScheduleExpression"]
                        if "Ref" in expression:
                            shown = params[expression["Ref"]]["Default"]
                        else:  # Fn::If [HasX, Ref X, fallback]: the parameter decides
                            shown = expression["Fn::If"][1]["Ref"]
                        self.assertTrue(
                            any(binary in l and shown in l for l in diagram.splitlines()),
                            f"no diagram line shows {binary} with {shown}")
                    elif event["Type"] == "SQS":
                        self.assertRegex(diagram, r"default bus ──▶ rule ──▶ SQS queue")

    def test_the_parameter_table_is_every_parameter_with_its_default(self):
        rows = table_rows(section(self.text, "Parameters"))
        documented = {}
        for cells in rows:
            (name,) = ticked(cells[0])
            documented[name] = cells[1]
        params = self.template["Parameters"]
        self.assertEqual(set(documented), set(params))
        for name, cell in documented.items():
            default = params[name].get("Default")
            with self.subTest(parameter=name):
                if default in ("", []):
                    self.assertEqual(cell, "(empty)")
                else:
                    self.assertEqual(cell, f"`{default}`")

    def test_the_outputs_table_is_every_output(self):
        rows = table_rows(section(self.text, "Outputs"))
        documented = [name for cells in rows for name in ticked(cells[0])]
        self.assertEqual(sorted(documented), sorted(self.template["Outputs"]))
        # Conditional outputs say when they exist.
        for cells in rows:
            for name in ticked(cells[0]):
                condition = self.template["Outputs"][name].get("Condition")
                if condition:
                    with self.subTest(output=name):
                        self.assertRegex(cells[1], r"^with ", f"{name} exists only with {condition}")

    def test_every_output_the_readme_names_exists(self):
        """`output X` / `outputs X / Y` anywhere in the README: an output of our stack or of the
        example consumer stack."""
        known = set(self.template["Outputs"]) | set(load("examples/consumer/template.yaml")["Outputs"])
        named = set()
        for match in re.finditer(r"outputs? ((?:`\w+`(?:,? ?(?:/|and|or)? ?))+)", self.text):
            named.update(ticked(match.group(1)))
        self.assertTrue(named)
        self.assertEqual(named - known, set())

    def test_the_alarm_table_is_every_alarm(self):
        rows = table_rows(section(self.text, "Operate"))
        alarms = [ticked(cells[0])[0] for cells in rows if cells[0].startswith("`") and cells[0].endswith("Alarm`")]
        template_alarms = [n for n, r in self.template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"]
        self.assertEqual(sorted(alarms), sorted(template_alarms))

    def test_the_throttles_alarm_covers_the_functions_the_readme_says(self):
        row = next(cells for cells in table_rows(section(self.text, "Operate")) if cells[0] == "`ThrottlesAlarm`")
        said = {f.strip() for f in re.search(r"\(([a-z, -]+)\)", row[1]).group(1).split(",")}
        logical_to_binary = {v: k for k, v in self.functions.items()}
        covered = {
            logical_to_binary[m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]]
            for m in self.template["Resources"]["ThrottlesAlarm"]["Properties"]["Metrics"]
            if "MetricStat" in m
        }
        self.assertEqual(said, covered)
        for left_out in set(self.functions) - covered:
            self.assertIn(f"{left_out} is not in it", row[1])

    def test_the_request_budget_is_the_templates(self):
        row = next(cells for cells in table_rows(section(self.text, "Parameters")) if cells[0] == "`MaxRequestsPerSecond`")
        parameter = self.template["Parameters"]["MaxRequestsPerSecond"]
        self.assertEqual(row[1], f"`{parameter['Default']}`")
        self.assertTrue(row[2].startswith(f"{parameter['MinValue']}–{parameter['MaxValue']}:"), row[2])
        self.assertIn("shared at run time", row[2])
        # The mechanism's section names the lease item the code writes and says what a skipped run returns.
        budget = self.text[self.text.index("\n### The request budget") : self.text.index("\n### What gets created")]
        lease = (ROOT / "shared/src/adapters/lease_table.rs").read_text()
        for key in re.findall(r'pub const LEASE_[PS]K: &str = "([A-Z]+)";', lease):
            self.assertIn(f"`{key}`", budget.replace("pk = LEASE", "`LEASE`").replace("sk = BUDGET", "`BUDGET`"))
        self.assertIn('"skipped": true', budget)
        self.assertNotIn("ReservedConcurrentExecutions", (ROOT / "template.yaml").read_text())

    def test_the_templates_description_names_every_function_and_the_fast_path(self):
        description = self.template["Description"]
        for binary in self.functions:
            self.assertIn(binary, description)
        self.assertIn("fast path", description)
        self.assertLessEqual(len(description.encode()), 1024, "CloudFormation's limit")

    def test_contact_details_are_described_alike(self):
        parameter = self.template["Parameters"]["IncludeContactDetails"]["Description"]
        row = next(cells for cells in table_rows(section(self.text, "Parameters")) if cells[0] == "`IncludeContactDetails`")
        for what in ("name", "e-mail address", "message"):
            self.assertIn(what, parameter)
            self.assertIn(what, row[2])


class ReadmeConfigurationsDeploy(unittest.TestCase):
    """The `samconfig.toml` text the README tells a deployer to write, read as the SAM CLI reads
    it (tomllib, then its own `--parameter-overrides` parser)."""

    @classmethod
    def setUpClass(cls):
        from samcli.cli.types import CfnParameterOverridesType

        cls.parse = staticmethod(lambda v: CfnParameterOverridesType().convert(v, None, None))
        cls.template = load("template.yaml")
        cls.blocks = [tomllib.loads(b) for b in re.findall(r"```toml\n(.*?)```", README.read_text(), re.S)]

    def overrides(self):
        """(where, parameter values) of every parameter_overrides the README shows."""
        out = []
        for i, block in enumerate(self.blocks):
            if "parameter_overrides" in block:
                out.append((f"toml block {i}", self.parse(block["parameter_overrides"])))
            for env, commands in block.items():
                if isinstance(commands, dict) and "deploy" in commands:
                    out.append((f"[{env}.deploy]", self.parse(commands["deploy"]["parameters"]["parameter_overrides"])))
        return out

    def test_there_is_a_whole_environment_and_a_policy_example(self):
        envs = [(env, c) for b in self.blocks for env, c in b.items() if isinstance(c, dict)]
        self.assertTrue(envs, "no samconfig environment in the README")
        for env, commands in envs:
            with self.subTest(env=env):
                self.assertEqual(commands["global"]["parameters"]["region"], "us-east-1")
                deploy = commands["deploy"]["parameters"]
                self.assertEqual(deploy["capabilities"], "CAPABILITY_IAM")
                self.assertTrue(deploy["resolve_s3"], "the functions' code goes through S3")
        self.assertTrue(any("CancelPolicy" in values or "RespondPolicy" in values for _, values in self.overrides()))

    def test_every_override_is_a_parameter_with_an_accepted_value(self):
        params = self.template["Parameters"]
        for where, values in self.overrides():
            for name, value in values.items():
                with self.subTest(where=where, parameter=name):
                    self.assertIn(name, params)
                    spec = params[name]
                    if "AllowedValues" in spec:
                        self.assertIn(value, [str(v) for v in spec["AllowedValues"]])
                    if "AllowedPattern" in spec:
                        self.assertRegex(value, spec["AllowedPattern"])
                    if name in ("CancelPolicy", "RespondPolicy"):
                        policy = json.loads(value)
                        self.assertEqual((policy["version"], policy["dryRun"]), (1, True), "examples stay dry runs")
                        self.assertTrue(policy["rules"])

    def test_the_quickstart_environment_passes_the_templates_rules(self):
        """CloudFormation would not refuse it (a destination for the alarms, us-east-1)."""
        base = docs_rules.defaults(self.template)
        envs = [values for where, values in self.overrides() if where.startswith("[")]
        self.assertTrue(envs)
        for values in envs:
            self.assertIsNone(docs_rules.refused(self.template, {**base, **values}))

    def test_every_sam_deploy_command_passes_parameters_its_template_accepts(self):
        """The README's `sam deploy` command lines, split as the shell splits them and their
        `--parameter-overrides` parsed by the SAM CLI: parameters of the template they deploy
        (the consumer's with `-t examples/consumer/template.yaml`), accepted values, and for our
        stack nothing the template's Rules would refuse."""
        import shlex

        consumer = load("examples/consumer/template.yaml")
        values = {
            "<EventBusArn>": "arn:aws:events:us-east-1:123456789012:event-bus/pc-invitations-invitations",
            "<our account>": "123456789012",
            "<stack>": "pc-invitations",
        }
        text = README.read_text()
        commands = []
        for block in re.findall(r"```sh\n(.*?)```", text, re.S):
            for line in block.replace("\\\n", " ").splitlines():
                if line.strip().startswith("sam deploy"):
                    commands.append(line.strip())
        self.assertGreaterEqual(len(commands), 3, "the Quickstart's consumer, Consume's, and the policy example")
        for command in commands:
            for placeholder, value in values.items():
                command = command.replace(placeholder, value)
            with self.subTest(command=command[:80]):
                self.assertNotRegex(command, r"<[^>]+>", "a placeholder without a test value")
                tokens = shlex.split(command)
                start = tokens.index("--parameter-overrides") + 1
                end = next((i for i in range(start, len(tokens)) if tokens[i].startswith("--")), len(tokens))
                overrides = self.parse(tuple(tokens[start:end]))
                is_consumer = "examples/consumer/template.yaml" in tokens
                template = consumer if is_consumer else self.template
                if is_consumer:
                    self.assertEqual(tokens[tokens.index("--region") + 1], "us-east-1")
                for name, value in overrides.items():
                    spec = template["Parameters"][name]
                    if "AllowedValues" in spec:
                        self.assertIn(value, [str(v) for v in spec["AllowedValues"]])
                    if "AllowedPattern" in spec:
                        self.assertRegex(value, spec["AllowedPattern"])
                    if name.endswith("Policy"):
                        self.assertEqual(json.loads(value)["dryRun"], True)
                if not is_consumer:
                    self.assertIsNone(docs_rules.refused(self.template, {**docs_rules.defaults(self.template), **overrides}))

    def test_the_consumer_stack_has_its_own_samconfig_in_us_east_1(self):
        """`sam deploy -t examples/consumer/template.yaml` reads the samconfig.toml next to the
        template (the SAM CLI sets its config directory to the template's)."""
        from samcli.lib.config.samconfig import SamConfig

        config = SamConfig(str(ROOT / "examples/consumer"))
        self.assertTrue(config.exists())
        self.assertEqual(config.get_all(["deploy"], "parameters")["region"], "us-east-1")


if __name__ == "__main__":
    unittest.main()

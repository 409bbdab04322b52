"""Checks of template.yaml that cfn-lint, sam validate and checkov cannot make: each
function's Partner Central permissions are exactly the operations its code calls, every
IAM statement is named, and the schema registry holds exactly the checked-in registry
documents, under names the Schemas API accepts.

Run: python -m unittest discover -s tests/template (the venv's python: it has cfn-lint, whose
decoder understands the CloudFormation YAML tags)."""

import json
import re
import unittest
from pathlib import Path

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]

# The port traits whose methods are Partner Central operations (adapters call the SDK operation
# of the same name: `get_connection_invitation` -> GetConnectionInvitation).
PORT_TRAITS = ("ConnectionInvitations", "EngagementInvitations")


def port_operations():
    """snake_case method name -> IAM action, read from shared/src/ports.rs."""
    source = (ROOT / "shared/src/ports.rs").read_text()
    ops = {}
    for trait in PORT_TRAITS:
        body = re.search(r"pub trait %s\b[^{]*\{(.*?)\n\}" % trait, source, re.S)
        assert body, f"trait {trait} not found in shared/src/ports.rs"
        for name in re.findall(r"\bfn (\w+)\s*\(", body.group(1)):
            ops[name] = "partnercentral:" + "".join(p.capitalize() for p in name.split("_"))
    return ops


def port_helpers(ops):
    """Free functions of shared/src/ports.rs that call port methods (e.g. `get_invitation`,
    a Get of either kind) -> the IAM actions a call of them needs."""
    source = strip_comments((ROOT / "shared/src/ports.rs").read_text())
    helpers = {}
    for name, body in re.findall(r"\npub (?:async )?fn (\w+)\s*\(.*?\)[^{]*\{(.*?)\n\}", source, re.S):
        actions = {action for op, action in ops.items() if re.search(r"\.%s\s*\(" % op, body)}
        if actions:
            helpers[name] = actions
    return helpers


def strip_comments(rust):
    rust = re.sub(r"/\*.*?\*/", "", rust, flags=re.S)
    return re.sub(r"//[^\n]*", "", rust)


def operations_called(crate: Path, ops):
    """IAM actions of the port methods the crate's non-test code calls."""
    called = set()
    for path in (crate / "src").rglob("*.rs"):
        # Unit-test modules in their own files (`mod tests;` -> tests.rs, tests/*.rs).
        if path.stem == "tests" or "tests" in path.relative_to(crate / "src").parts[:-1]:
            continue
        code = strip_comments(path.read_text())
        # Unit tests live in `#[cfg(test)] mod tests { ... }` at the end of a file.
        code = code.split("#[cfg(test)]")[0]
        for name, action in ops.items():
            if re.search(r"\.%s\s*\(" % name, code):
                called.add(action)
        for name, actions in port_helpers(ops).items():
            if re.search(r"\b%s\s*\(" % name, code):
                called |= actions
    return called


def template():
    tpl, matches = decode(str(ROOT / "template.yaml"))
    assert not matches, matches
    return tpl


def statements(function):
    for policy in function["Properties"].get("Policies", []):
        if isinstance(policy, dict):
            yield from policy.get("Statement", [])


def actions_of(statement):
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


class TemplateTest(unittest.TestCase):
    def setUp(self):
        self.tpl = template()
        self.ops = port_operations()
        self.functions = {
            name: r
            for name, r in self.tpl["Resources"].items()
            if r["Type"] == "AWS::Serverless::Function"
        }

    def test_partner_central_permissions_equal_the_operations_the_code_calls(self):
        self.assertEqual(len(self.functions), 4)
        for name, fn in self.functions.items():
            binary = fn["Metadata"]["BuildProperties"]["Binary"]
            crate = ROOT / "functions" / binary
            self.assertTrue(crate.is_dir(), f"{name}: no crate at {crate}")
            granted = {
                a for s in statements(fn) for a in actions_of(s) if a.startswith("partnercentral:")
            }
            called = operations_called(crate, self.ops)
            self.assertTrue(called, f"{binary}: no Partner Central call found")
            self.assertEqual(
                granted,
                called,
                f"{binary}: missing permissions {sorted(called - granted)}, "
                f"extra permissions {sorted(granted - called)}",
            )

    def test_partner_central_statements_are_scoped_to_the_catalog(self):
        for name, fn in self.functions.items():
            for s in statements(fn):
                if any(a.startswith("partnercentral:") for a in actions_of(s)):
                    cond = s.get("Condition", {}).get("StringEquals", {})
                    self.assertEqual(cond.get("partnercentral:Catalog"), {"Ref": "Catalog"}, f"{name} {s['Sid']}")
                if "partnercentral:CancelConnectionInvitation" in actions_of(s):
                    resource = s["Resource"]["Fn::Sub"]
                    self.assertIn("::catalog/${Catalog}/connection-invitation/*", resource)

    def test_the_request_budget_holds_with_every_function_running_at_once(self):
        """Each process has its own limiter: the shares of all functions, times the processes
        each may run at once, must stay within the account's budget for every allowed value."""
        budget = self.tpl["Parameters"]["MaxRequestsPerSecond"]
        split = self.tpl["Mappings"]["RequestBudget"]
        self.assertEqual({str(v) for v in budget["AllowedValues"]}, set(split))
        processes = {}
        for name, fn in self.functions.items():
            key = name.removesuffix("Function")
            share = fn["Properties"]["Environment"]["Variables"]["MAX_REQUESTS_PER_SECOND"]
            self.assertEqual(share, {"Fn::FindInMap": ["RequestBudget", {"Ref": "MaxRequestsPerSecond"}, key]}, name)
            reserved = fn["Properties"].get(
                "ReservedConcurrentExecutions",
                self.tpl["Globals"]["Function"].get("ReservedConcurrentExecutions"),
            )
            self.assertIsInstance(reserved, int, f"{name}: concurrency must be capped for the split to hold")
            processes[key] = reserved
        for value, shares in split.items():
            total = sum(shares[key] * n for key, n in processes.items())
            self.assertLessEqual(total, int(value), f"budget {value}: {shares} x processes {processes} = {total}")
            self.assertTrue(all(shares[key] >= 1 for key in processes), f"budget {value}: every function needs a share")

    def test_every_statement_has_a_sid(self):
        def walk(node, path):
            if isinstance(node, dict):
                if "Effect" in node and "Action" in node:
                    self.assertIn("Sid", node, f"statement without Sid at {path}")
                for k, v in node.items():
                    walk(v, f"{path}.{k}")
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, f"{path}[{i}]")

        walk(self.tpl["Resources"], "Resources")

    def test_the_scanner_sees_calls_and_ignores_comments(self):
        # A crate that calls one operation in code and mentions another in a comment.
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            src = Path(d) / "src"
            src.mkdir()
            (src / "lib.rs").write_text(
                "// we never .cancel_connection_invitation( here\n"
                "async fn f(c: &impl X) { c.get_connection_invitation(id).await; }\n"
                "#[cfg(test)]\nmod tests { fn t() { c.list_engagement_invitations(q); } }\n"
            )
            self.assertEqual(operations_called(Path(d), self.ops), {"partnercentral:GetConnectionInvitation"})

    def test_a_shared_helper_call_needs_the_operations_it_calls(self):
        import tempfile

        self.assertEqual(
            port_helpers(self.ops).get("get_invitation"),
            {"partnercentral:GetConnectionInvitation", "partnercentral:GetEngagementInvitation"},
        )
        with tempfile.TemporaryDirectory() as d:
            src = Path(d) / "src"
            src.mkdir()
            (src / "lib.rs").write_text("async fn f() { get_invitation(c, e, kind, id, side).await; }\n")
            self.assertEqual(
                operations_called(Path(d), self.ops),
                {"partnercentral:GetConnectionInvitation", "partnercentral:GetEngagementInvitation"},
            )


# CloudFormation's limit on a template body uploaded to S3 (sam deploy uploads it).
MAX_TEMPLATE_BYTES = 1_000_000


def resolve_schema_name(value, event_source):
    """The SchemaName the template computes for `event_source`: Fn::Sub over a variable map
    whose only variable is the source with "/" joined as "." (Fn::Join over Fn::Split)."""
    text, variables = value["Fn::Sub"]
    (var, expr), = variables.items()
    separator, (split_on, ref) = expr["Fn::Join"][0], expr["Fn::Join"][1]["Fn::Split"]
    assert ref == {"Ref": "EventSource"}, ref
    return text.replace("${%s}" % var, separator.join(event_source.split(split_on)))


class SchemaRegistryTest(unittest.TestCase):
    def setUp(self):
        self.tpl = template()
        self.schemas = {
            name: r for name, r in self.tpl["Resources"].items() if r["Type"] == "AWS::EventSchemas::Schema"
        }
        self.documents = {
            path.name: json.loads(path.read_text()) for path in sorted((ROOT / "schemas/registry").glob("*.json"))
        }

    def test_the_parameter_turns_registry_schemas_and_output_off_together(self):
        param = self.tpl["Parameters"]["SchemaRegistryEnabled"]
        self.assertEqual((param["Default"], param["AllowedValues"]), ("true", ["true", "false"]))
        self.assertEqual(self.tpl["Conditions"]["SchemaRegistryOn"], {"Fn::Equals": [{"Ref": "SchemaRegistryEnabled"}, "true"]})
        registry = self.tpl["Resources"]["SchemaRegistry"]
        self.assertEqual(registry["Type"], "AWS::EventSchemas::Registry")
        self.assertEqual(registry["Properties"]["RegistryName"], {"Fn::Sub": "${AWS::StackName}-invitation-events"})
        conditional = [registry] + list(self.schemas.values()) + [self.tpl["Outputs"]["SchemaRegistryName"]]
        for resource in conditional:
            self.assertEqual(resource.get("Condition"), "SchemaRegistryOn", resource)
        # Nothing else refers to the registry or its schemas (it would fail with the registry off).
        others = {k: v for k, v in self.tpl["Resources"].items() if k != "SchemaRegistry" and k not in self.schemas}
        self.assertNotIn("SchemaRegistry", json.dumps(others))

    def test_one_schema_per_registry_document_with_that_document_as_content(self):
        self.assertEqual(len(self.documents), 17)
        by_title = {}
        for name, schema in self.schemas.items():
            props = schema["Properties"]
            self.assertEqual(props["Type"], "JSONSchemaDraft4", name)
            self.assertEqual(props["RegistryName"], {"Fn::GetAtt": ["SchemaRegistry", "RegistryName"]}, name)
            content = json.loads(props["Content"])
            by_title[content["title"]] = (name, content)
        files_by_title = {doc["title"]: (file, doc) for file, doc in self.documents.items()}
        self.assertEqual(sorted(by_title), sorted(files_by_title), "a schema resource per schemas/registry/ file")
        for title, (name, content) in by_title.items():
            file, doc = files_by_title[title]
            self.assertEqual(content, doc, f"{name}: Content differs from schemas/registry/{file} (run make schemas)")
            self.assertEqual(name, f"{title}Schema")

    def test_schema_names_are_source_at_type_and_valid_for_every_allowed_source(self):
        pattern = re.compile(self.tpl["Parameters"]["EventSource"]["AllowedPattern"])
        sources = ["partnercentral.invitations", "acme/partner-central.invitations", "a" * 256]
        for source in sources:
            self.assertRegex(source, pattern)
            names = set()
            for name, schema in self.schemas.items():
                title = json.loads(schema["Properties"]["Content"])["title"]
                resolved = resolve_schema_name(schema["Properties"]["SchemaName"], source)
                self.assertEqual(resolved, source.replace("/", ".") + "@" + title)
                # A schema name is a path segment of the Schemas API (no "/"); ours use only these.
                self.assertRegex(resolved, r"^[A-Za-z0-9._@-]{1,385}$", name)
                names.add(resolved)
            self.assertEqual(len(names), len(self.schemas), "schema names are distinct")

    def test_the_template_stays_under_cloudformations_size_limit(self):
        size = (ROOT / "template.yaml").stat().st_size
        self.assertLess(size, MAX_TEMPLATE_BYTES * 0.5, f"template.yaml is {size} bytes; CloudFormation takes 1,000,000")


if __name__ == "__main__":
    unittest.main()

"""Checks of template.yaml that cfn-lint, sam validate and checkov cannot make: each
function's Partner Central permissions are exactly the operations its code calls, every
IAM statement is named, and the schema registry holds exactly the checked-in registry
documents, under names the Schemas API accepts.

Run: python -m unittest discover -s tests/template (the venv's python: it has cfn-lint, whose
decoder understands the CloudFormation YAML tags)."""

import json
import re
import sys
import unittest
from pathlib import Path

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]

# The port traits whose methods are Partner Central operations. Which operation a method is
# comes from its adapter (shared/src/adapters/partner_central.rs): the SDK operations the
# method's body calls (`self.client.start_engagement_by_accepting_invitation_task()` ->
# StartEngagementByAcceptingInvitationTask), with the operation names read from the service
# models. A trait's default methods need what the methods they call need.
PORT_TRAITS = ("ConnectionInvitations", "ConnectionResponses", "EngagementInvitations", "EngagementResponses")
ADAPTERS = ROOT / "shared/src/adapters/partner_central.rs"
MODELS = ROOT / "tests/partnercentral-local/models"

# Operations that AWS authorizes with more than their own action (AcceptEngagementInvitation,
# CreateOpportunity, ... for StartEngagementByAcceptingInvitationTask): one table, the guard
# rule E9111's.
sys.path.insert(0, str(ROOT / "tests/template/guard"))
from deploy_rules import DEPENDENT_ACTIONS  # noqa: E402


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def sdk_operations():
    """snake_case SDK method -> IAM action, for every operation of both service models."""
    import json

    ops = {}
    for model in MODELS.glob("*.service.json"):
        for name in json.loads(model.read_text())["operations"]:
            ops[snake(name)] = "partnercentral:" + name
    assert ops, f"no service models in {MODELS}"
    return ops


def fn_bodies(block):
    """name -> body of each `fn` in an impl or trait block (up to the next fn)."""
    parts = re.split(r"\n    (?:async )?fn (\w+)", block)
    return dict(zip(parts[1::2], parts[2::2]))


def port_operations():
    """snake_case port method name -> the IAM actions it needs."""
    sdk = sdk_operations()
    adapters = strip_comments(ADAPTERS.read_text())
    ports = strip_comments((ROOT / "shared/src/ports.rs").read_text())
    ops = {}
    for trait in PORT_TRAITS:
        impl = re.search(r"\nimpl %s for \w+ \{(.*?)\n\}" % trait, adapters, re.S)
        assert impl, f"no adapter implements {trait} in {ADAPTERS}"
        for name, body in fn_bodies(impl.group(1)).items():
            called = {sdk[m] for m in re.findall(r"\.(\w+)\(\)", body) if m in sdk}
            assert called, f"{trait}::{name}: its adapter calls no Partner Central operation"
            ops[name] = called
        body = re.search(r"pub trait %s\b[^{]*\{(.*?)\n\}" % trait, ports, re.S)
        assert body, f"trait {trait} not found in shared/src/ports.rs"
        for name, default in fn_bodies(body.group(1)).items():
            if name not in ops:
                calls = {m for m in re.findall(r"self\.(\w+)\s*\(", default) if m in ops}
                assert calls, f"{trait}::{name}: neither implemented by the adapter nor calling a port method"
                ops[name] = set().union(*(ops[m] for m in calls))
    return ops


def needed(actions):
    """The actions themselves and the ones AWS requires with them."""
    return set(actions).union(*(DEPENDENT_ACTIONS.get(a, set()) for a in actions))


def port_helpers(ops):
    """Free functions of shared/src/ports.rs that call port methods (e.g. `get_invitation`,
    a Get of either kind) -> the IAM actions a call of them needs."""
    source = strip_comments((ROOT / "shared/src/ports.rs").read_text())
    helpers = {}
    for name, body in re.findall(r"\npub (?:async )?fn (\w+)\s*\(.*?\)[^{]*\{(.*?)\n\}", source, re.S):
        actions = set().union(*(a for op, a in ops.items() if re.search(r"\.%s\s*\(" % op, body)))
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
        for name, actions in ops.items():
            if re.search(r"\.%s\s*\(" % name, code):
                called |= actions
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
        self.assertEqual(len(self.functions), len(list((ROOT / "functions").glob("*/Cargo.toml"))))
        for name, fn in self.functions.items():
            binary = fn["Metadata"]["BuildProperties"]["Binary"]
            crate = ROOT / "functions" / binary
            self.assertTrue(crate.is_dir(), f"{name}: no crate at {crate}")
            granted = {
                a for s in statements(fn) for a in actions_of(s) if a.startswith("partnercentral:")
            }
            called = needed(operations_called(crate, self.ops))
            if binary in NO_PARTNER_CENTRAL:
                self.assertEqual((granted, called), (set(), set()), f"{binary} calls no Partner Central API")
                continue
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
        """The budget is shared at run time (shared/src/budget.rs): every function that calls
        Partner Central gets the whole account's budget (the one knob) and may read and write the
        lease item of its state table; nothing reserves concurrency (it made CreateStack fail in
        accounts with a low concurrency quota), native-relay's pollers are capped by the event
        source mapping alone."""
        self.assertNotIn("Mappings", self.tpl, "no static split of the budget")
        self.assertNotIn("ReservedConcurrentExecutions", self.tpl["Globals"]["Function"])
        budget = self.tpl["Parameters"]["MaxRequestsPerSecond"]
        self.assertEqual(budget["Default"], 8)
        self.assertLessEqual(budget["MaxValue"], 10, "the Selling API allows 10/s per account")
        callers = 0
        for name, fn in self.functions.items():
            props = fn["Properties"]
            self.assertNotIn("ReservedConcurrentExecutions", props, name)
            calls_partner_central = any(a.startswith("partnercentral:") for s in statements(fn) for a in actions_of(s))
            if not calls_partner_central:
                continue
            callers += 1
            variables = props["Environment"]["Variables"]
            self.assertEqual(variables["MAX_REQUESTS_PER_SECOND"], {"Ref": "MaxRequestsPerSecond"}, name)
            on_table = [s for s in statements(fn) if s.get("Resource") == {"Fn::GetAtt": ["StateTable", "Arn"]}]
            allowed = {a for s in on_table for a in actions_of(s)}
            self.assertLessEqual({"dynamodb:GetItem", "dynamodb:PutItem"}, allowed, f"{name}: the lease item")
        self.assertGreaterEqual(callers, 5)
        relay = self.tpl["Resources"]["NativeRelayFunction"]["Properties"]["Events"]["NativeEvents"]["Properties"]
        self.assertEqual(relay["ScalingConfig"]["MaximumConcurrency"], 2, "pollers capped without a reservation")

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

    def test_each_port_method_is_the_operation_its_adapter_calls(self):
        self.assertEqual(
            self.ops["start_accepting_engagement_invitation"],
            {"partnercentral:StartEngagementByAcceptingInvitationTask"},
        )
        self.assertEqual(self.ops["reject_engagement_invitation"], {"partnercentral:RejectEngagementInvitation"})
        # Default methods of the trait need what they call.
        for helper in ("acceptance_task", "acceptance_tasks_of", "list_acceptance_tasks"):
            self.assertEqual(self.ops[helper], {"partnercentral:ListEngagementByAcceptingInvitationTasks"}, helper)
        self.assertEqual(self.ops["get_connection_invitation"], {"partnercentral:GetConnectionInvitation"})

    def test_an_operation_that_acts_as_the_caller_needs_its_dependent_actions(self):
        """StartEngagementByAcceptingInvitationTask alone is denied at run time: the task
        accepts and creates the opportunity with the caller's permissions."""
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            src = Path(d) / "src"
            src.mkdir()
            (src / "lib.rs").write_text("async fn f() { c.start_accepting_engagement_invitation(id, token).await; }\n")
            required = needed(operations_called(Path(d), self.ops))
        self.assertIn("partnercentral:AcceptEngagementInvitation", required)
        self.assertIn("partnercentral:CreateOpportunity", required)
        self.assertEqual(len(required), 10)
        respond = self.functions["AutoRespondFunction"]
        granted = {a for s in statements(respond) for a in actions_of(s) if a.startswith("partnercentral:")}
        self.assertLessEqual(required, granted)

    def test_the_scheduled_functions_are_all_invoked_by_the_scheduler_role(self):
        role = self.tpl["Resources"]["SchedulerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        invokable = {r["Fn::GetAtt"][0] for s in role if s["Action"] == "lambda:InvokeFunction" for r in s["Resource"]}
        scheduled = {
            name
            for name, fn in self.functions.items()
            if any(e["Type"] == "ScheduleV2" for e in fn["Properties"].get("Events", {}).values())
        }
        self.assertEqual(invokable, scheduled)


# Functions that call no Partner Central API (no budget share, no partnercentral permission).
NO_PARTNER_CENTRAL = {"notify"}


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
        self.assertEqual(len(self.documents), 21)
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

"""The `aws` commands of the README's deployer sections: "Quickstart", "Consume the events from
another account", "Turn on auto-cancel and auto-respond safely", "Operate", "Upgrade and
uninstall".

`make`/`cargo` commands are checked by readme-commands.txt (tests/harness). Here, every `aws`
command of those sections' ```sh blocks is translated into the AWS SDK call it makes (options to
request members, shorthand `K=V,...` structures, `file://`, boolean `--x`/`--no-x` flags; the
CLI's own `--region`, `--query`, `--output`, `--cli-binary-format` and `lambda invoke`'s outfile
set aside), validated against the service's API model, and — where moto can run it — run against
moto, with its effect checked: each `start-replay` brings the missed events back to the
consumer's queue with the same eventIds; the uninstall's `dynamodb` commands delete a
deletion-protected table that a plain delete cannot. Where moto cannot, the reason is named in
SKIP. Other commands of the sections (`sam`, `make`, the shell's) are listed in NOT_AWS with what
checks them instead.
"""

import json
import re
import shlex
import unittest

import botocore.session
from botocore.validate import ParamValidator
from moto import mock_aws

import published

SKIP = {
    "aws events put-rule": "a rule created by the consumer account on our bus: moto looks the bus ARN up in the "
    "caller's own account (test_cross_account.test_moto_cannot_create_a_rule_on_another_accounts_bus)",
    "aws events put-targets": "the target of that rule: same reason",
    "aws lambda invoke": "invokes a deployed function: moto runs Lambda functions only in Docker; locally "
    "`make invoke` runs the same payload (readme-commands.txt), in AWS `make smoke` invokes every function",
    "aws sqs start-message-move-task": "moto 5.2.5 has no StartMessageMoveTask",
    "aws cloudformation describe-stacks": "reads a deployed stack's outputs; tests/template/test_readme.py checks "
    "that every output the README names is one of the template's",
}
NOT_AWS = {
    "sam deploy": "deploys to AWS; make template-check lints, validates and scans both templates, and "
    "tests/template/test_readme.py reads the consumer stack's samconfig.toml as the SAM CLI does",
    "sam delete": "deletes a stack in AWS; the table it retains is what the dynamodb commands delete, run here on moto",
    "make venv": "readme-commands.txt (tests/harness) runs it",
    "make preflight": "readme-commands.txt lists it (needs AWS credentials: skipped there)",
    "make deploy": "readme-commands.txt lists it (deploys: skipped there)",
    "make smoke": "readme-commands.txt lists it (invokes the deployed functions: skipped there)",
    'export PATH="$PWD/.venv/bin:$PATH"': "the shell: what the Makefile does for its own targets",
    "rustup target": "the Makefile's build and template-check targets run the same command",
}
RUN = {
    "aws events start-replay",
    "aws events describe-replay",
    "aws dynamodb update-table",
    "aws dynamodb delete-table",
    "aws ssm put-parameter",
}

# A cancellation policy that outgrew Lambda's 4 KB environment: one rule per blocked partner.
LARGE_POLICY = json.dumps({
    "version": 1, "dryRun": True, "maxCancellationsPerRun": 10, "maxCancellationsPerDay": 10,
    "rules": [{"name": f"blocked-partner-{i:02}", "match": {"otherParticipantIdentifiers": [f"9000000000{i:02}"]}}
              for i in range(60)],
})
FILES = {"cancel-policy.json": LARGE_POLICY}

SECTIONS = (
    "## Quickstart",
    "## Consume the events from another account",
    "## Turn on auto-cancel and auto-respond safely",
    "## Operate",
    "## Upgrade and uninstall",
)
# The AWS CLI's own options, not members of the request.
CLI_OPTIONS = {"--region", "--query", "--output", "--cli-binary-format"}

STACK = "invitations"
BUS = f"{STACK}-invitations"
ARCHIVE = "invitations-archive"
PLACEHOLDERS = {
    "<our account>": published.PRODUCER,
    "<their account>": published.CONSUMER,
    "<stack>": STACK,
    "<state table>": f"{STACK}-StateTable-1AB2CD3EF4",
    "<archive name>": ARCHIVE,
    "<role allowing events:PutEvents there>": f"arn:aws:iam::{published.CONSUMER}:role/put-events-on-default",
    "<EventBusArn>": f"arn:aws:events:us-east-1:{published.PRODUCER}:event-bus/{BUS}",
    "<EventArchiveArn>": f"arn:aws:events:us-east-1:{published.PRODUCER}:archive/{ARCHIVE}",
    "<deploy time>": "2026-11-20T08:00:00Z",
    "<now>": "2026-11-20T14:00:00Z",
    "<approvalId>": "ar:c:accept:5fe3086c10a630db:d2059afaf1d3c126391b201d:pacinv-Partner000001",
}


def readme_sections(text=None):
    """The text of each section of SECTIONS (a heading that starts with the name)."""
    text = published.README.read_text() if text is None else text
    out = {}
    for name in SECTIONS:
        start = text.find("\n" + name)
        if start < 0:
            raise published.SourceError(f"{published.README}: no section {name!r}")
        end = text.find("\n## ", start + 1)
        out[name] = text[start : end if end >= 0 else len(text)]
    return out


def section_commands(section=None):
    """Every command of the sections' ```sh blocks (or of one section's text), continuation
    lines joined."""
    sections = readme_sections().values() if section is None else [section]
    commands = []
    for text in sections:
        for block in re.findall(r"```sh\n(.*?)```", text, re.S):
            for line in block.replace("\\\n", " ").splitlines():
                line = line.split("  # ")[0].strip()
                if line:
                    commands.append(" ".join(line.split()))
    return commands


def key(command):
    words = command.split()
    return " ".join(words[:3]) if words[0] == "aws" else " ".join(words[:2])


def fill(command, extra=None):
    for placeholder, value in {**PLACEHOLDERS, **(extra or {})}.items():
        command = command.replace(placeholder, value)
    left = re.findall(r"<[^>]+>", command)
    if left:
        raise AssertionError(f"{command}: placeholder(s) {left} have no test value")
    return command


def shorthand(text, shape):
    """`K=V,K2=V2` for a structure; a list member gets [V]."""
    out = {}
    for pair in text.split(","):
        name, _, value = pair.partition("=")
        if name not in shape.members:
            raise AssertionError(f"{text}: {name} is not a member of {shape.name}")
        member = shape.members[name]
        out[name] = [value] if member.type_name == "list" else value
    return out


def to_call(command, files=None):
    """(service, operation name, request params) of an `aws` command, validated against the model."""
    tokens = shlex.split(command)
    if tokens[:1] != ["aws"] or len(tokens) < 3:
        raise AssertionError(f"not an aws command: {command}")
    service, op_cli = tokens[1], tokens[2]
    model = botocore.session.get_session().get_service_model(service)
    ops = {re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower(): name for name in model.operation_names}
    if op_cli not in ops:
        raise AssertionError(f"{command}: {service} has no operation {op_cli}")
    operation = model.operation_model(ops[op_cli])
    members = {re.sub(r"(?<!^)(?=[A-Z])", "-", m).lower(): m for m in operation.input_shape.members}
    params, i = {}, 3
    while i < len(tokens):
        option = tokens[i]
        if ops[op_cli] == "Invoke" and i == len(tokens) - 1 and not option.startswith("--"):
            break  # `aws lambda invoke`'s outfile
        if not option.startswith("--"):
            raise AssertionError(f"{command}: cannot read {option!r}")
        flag = option[2:].removeprefix("no-")
        if flag in members and operation.input_shape.members[members[flag]].type_name == "boolean":
            params[members[flag]] = not option.startswith("--no-")
            i += 1
            continue
        if i + 1 >= len(tokens):
            raise AssertionError(f"{command}: cannot read {option!r}")
        value = tokens[i + 1]
        i += 2
        if option in CLI_OPTIONS:
            continue
        name = members.get(option[2:])
        if name is None:
            raise AssertionError(f"{command}: {ops[op_cli]} has no option {option}")
        shape = operation.input_shape.members[name]
        if value.startswith("file://"):
            value = (files or {})[value[len("file://"):]]
        if shape.type_name == "structure":
            params[name] = shorthand(value, shape)
        elif shape.type_name == "list" and shape.member.type_name == "structure":
            params[name] = [shorthand(value, shape.member)]
        elif shape.type_name == "integer":
            params[name] = int(value)
        elif shape.type_name == "blob":
            params[name] = value.encode()
        else:
            params[name] = value
    report = ParamValidator().validate(params, operation.input_shape)
    if report.has_errors():
        raise AssertionError(f"{command}: {report.generate_report()}")
    return service, ops[op_cli], params


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def rule_arn_values(rule_arn):
    return {"<rule ARN>": rule_arn, "<FeedRuleArn>": rule_arn}


class ReadmeAwsCommandsTest(unittest.TestCase):
    def test_every_command_is_run_or_skipped_for_a_reason(self):
        keys = {key(c) for c in section_commands()}
        self.assertEqual(keys, RUN | set(SKIP) | set(NOT_AWS))

    def test_every_aws_command_is_a_valid_request(self):
        pattern = json.dumps({"source": ["partnercentral.invitations"]})
        for command in section_commands():
            if command.startswith("aws "):
                with self.subTest(command=command):
                    to_call(fill(command, rule_arn_values("arn:aws:events:us-east-1:123456789012:rule/b/r")),
                            {"pattern.json": pattern, **FILES})

    def test_a_bad_command_is_refused_naming_what_is_wrong(self):
        with self.assertRaisesRegex(AssertionError, "no option --bus"):
            to_call("aws events describe-replay --bus x")
        with self.assertRaisesRegex(AssertionError, "Filters is not a member"):
            to_call("aws events start-replay --replay-name r --event-source-arn a --event-start-time 2026-01-01T00:00:00Z "
                    "--event-end-time 2026-01-02T00:00:00Z --destination Arn=b,Filters=c")
        with self.assertRaisesRegex(AssertionError, "placeholder"):
            fill("aws events describe-replay --replay-name <nope>")
        with self.assertRaisesRegex(AssertionError, "no option --no-protection"):
            to_call("aws dynamodb update-table --no-protection --table-name t")
        with self.assertRaisesRegex(AssertionError, "cannot read 'out.json'"):
            to_call("aws events describe-replay --replay-name r out.json")

    def test_every_section_is_found(self):
        with self.assertRaisesRegex(published.SourceError, "no section '## Operate'"):
            readme_sections("".join(f"\n{name}\n" for name in SECTIONS if name != "## Operate"))

    def test_each_replay_command_brings_the_missed_events_back_with_the_same_event_ids(self):
        replays = [c for c in section_commands() if key(c) == "aws events start-replay"]
        self.assertEqual(len(replays), 2, "the Quickstart's baseline replay and Operate's")
        for command in replays:
            name = re.search(r"--replay-name (\S+)", command).group(1)
            with self.subTest(replay=name), mock_aws():
                self.replay_scenario(name)

    def replay_scenario(self, name):
        eb, sqs = published.client("events"), published.client("sqs")
        bus_arn = eb.create_event_bus(Name=BUS)["EventBusArn"]
        archive = published.template_patterns()["template.yaml: EventArchive"]
        eb.create_archive(ArchiveName=ARCHIVE, EventSourceArn=bus_arn, EventPattern=json.dumps(archive))
        queue = published.rule_to_queue(eb, sqs, BUS, "crm", {"source": ["partnercentral.invitations"]})
        rule_arn = eb.describe_rule(Name="crm", EventBusName=BUS)["Arn"]
        samples = published.samples()
        for event in samples.values():
            published.put(eb, BUS, event)
        missed = {e["detail"]["eventId"] for e in published.drain(sqs, queue)}
        self.assertEqual(missed, {e["detail"]["eventId"] for e in samples.values()})

        ran = 0
        for command in section_commands():
            if key(command) in {"aws events start-replay", "aws events describe-replay"} and f"--replay-name {name}" in command:
                service, operation, params = to_call(fill(command, rule_arn_values(rule_arn)))
                getattr(published.client(service), snake(operation))(**params)
                ran += 1
        self.assertGreaterEqual(ran, 1)

        replay = eb.describe_replay(ReplayName=name)
        self.assertEqual(replay["State"], "COMPLETED")
        self.assertEqual(replay["Destination"]["FilterArns"], [rule_arn])
        again = published.drain(sqs, queue)
        # Every missed event but the health check (`make smoke`), which the archive does not keep.
        archived = {e["detail"]["eventId"] for e in samples.values() if e["detail-type"] != "Health Check"}
        self.assertEqual(len(archived), len(missed) - 1)
        self.assertEqual(sorted(e["detail"]["eventId"] for e in again), sorted(archived))
        self.assertTrue(all(e["replay-name"] == name for e in again))

    @mock_aws
    def test_the_large_policy_command_stores_the_parameter_the_deploy_command_names(self):
        """A policy over 4 KB: the README's put-parameter stores it (Advanced tier), and its
        deploy command passes that parameter, pinned to a version, as CancelPolicyParameter."""
        self.assertGreater(len(LARGE_POLICY), 4096)
        commands = [c for c in section_commands() if key(c) == "aws ssm put-parameter"]
        self.assertEqual(len(commands), 1)
        service, operation, params = to_call(fill(commands[0]), FILES)
        getattr(published.client(service), snake(operation))(**params)
        stored = published.client("ssm").get_parameter(Name=params["Name"])["Parameter"]
        self.assertEqual((stored["Value"], stored["Version"]), (LARGE_POLICY, 1))
        self.assertEqual(params.get("Tier"), "Advanced", "a Standard parameter holds 4 KB")
        deploys = [c for c in section_commands() if "CancelPolicyParameter=" in c]
        self.assertTrue(deploys)
        named = re.search(r"CancelPolicyParameter=(\S+)", deploys[0]).group(1)
        self.assertRegex(named, "^" + re.escape(params["Name"]) + r":\d+$")

    @mock_aws
    def test_the_uninstall_commands_delete_the_retained_deletion_protected_table(self):
        """`sam delete` leaves the state table (DeletionPolicy Retain, named by CloudFormation)
        with its deletion protection on; the README's two commands, in order, delete it, which
        a plain delete-table cannot."""
        ddb = published.client("dynamodb")
        table = PLACEHOLDERS["<state table>"]
        ddb.create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST", DeletionProtectionEnabled=True,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        )
        with self.assertRaises(ddb.exceptions.ClientError):
            ddb.delete_table(TableName=table)
        commands = [c for c in section_commands() if key(c).startswith("aws dynamodb")]
        self.assertEqual([key(c) for c in commands], ["aws dynamodb update-table", "aws dynamodb delete-table"])
        for command in commands:
            service, operation, params = to_call(fill(command))
            self.assertEqual(params["TableName"], table)
            getattr(published.client(service), snake(operation))(**params)
        self.assertNotIn(table, ddb.list_tables()["TableNames"])


if __name__ == "__main__":
    unittest.main()

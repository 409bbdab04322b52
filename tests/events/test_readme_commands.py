"""The commands of the README's section "Consume the events from another account".

`make`/`cargo` commands are checked by readme-commands.txt (tests/harness). Here, every `aws`
command of the section's ```sh blocks is translated into the AWS SDK call it makes (options to
request members, shorthand `K=V,...` structures, `file://`), validated against the service's API
model, and — where moto can run it — run against moto, with its effect checked:
`start-replay` brings the missed events back to the consumer's queue with the same eventIds.
Where moto cannot, the reason is named in SKIP. Other commands of the section (`sam deploy`) are
listed in NOT_AWS with what checks them instead.
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
}
NOT_AWS = {
    "sam deploy": "deploys to AWS; make template-check lints, validates and scans examples/consumer/template.yaml",
}
RUN = {"aws events start-replay", "aws events describe-replay"}

STACK = "invitations"
BUS = f"{STACK}-invitations"
ARCHIVE = "invitations-archive"
PLACEHOLDERS = {
    "<our account>": published.PRODUCER,
    "<their account>": published.CONSUMER,
    "<stack>": STACK,
    "<archive name>": ARCHIVE,
    "<role allowing events:PutEvents there>": f"arn:aws:iam::{published.CONSUMER}:role/put-events-on-default",
}


def section_commands(section=None):
    """Every command of the section's ```sh blocks, continuation lines joined."""
    section = published.readme_section() if section is None else section
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
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
        if not option.startswith("--") or i + 1 >= len(tokens):
            raise AssertionError(f"{command}: cannot read {option!r}")
        value = tokens[i + 1]
        i += 2
        if option == "--region":
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
        else:
            params[name] = value
    report = ParamValidator().validate(params, operation.input_shape)
    if report.has_errors():
        raise AssertionError(f"{command}: {report.generate_report()}")
    return service, ops[op_cli], params


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class ReadmeAwsCommandsTest(unittest.TestCase):
    def test_every_command_is_run_or_skipped_for_a_reason(self):
        keys = {key(c) for c in section_commands()}
        self.assertEqual(keys, RUN | set(SKIP) | set(NOT_AWS))

    def test_every_aws_command_is_a_valid_request(self):
        pattern = json.dumps({"source": ["partnercentral.invitations"]})
        for command in section_commands():
            if command.startswith("aws "):
                with self.subTest(command=command):
                    to_call(fill(command, {"<rule ARN>": "arn:aws:events:us-east-1:123456789012:rule/b/r"}),
                            {"pattern.json": pattern})

    def test_a_bad_command_is_refused_naming_what_is_wrong(self):
        with self.assertRaisesRegex(AssertionError, "no option --bus"):
            to_call("aws events describe-replay --bus x")
        with self.assertRaisesRegex(AssertionError, "Filters is not a member"):
            to_call("aws events start-replay --replay-name r --event-source-arn a --event-start-time 2026-01-01T00:00:00Z "
                    "--event-end-time 2026-01-02T00:00:00Z --destination Arn=b,Filters=c")
        with self.assertRaisesRegex(AssertionError, "placeholder"):
            fill("aws events describe-replay --replay-name <nope>")

    @mock_aws
    def test_the_replay_commands_bring_the_missed_events_back_with_the_same_event_ids(self):
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

        for command in section_commands():
            if key(command) in RUN:
                service, operation, params = to_call(fill(command, {"<rule ARN>": rule_arn}))
                getattr(published.client(service), snake(operation))(**params)

        replay = eb.describe_replay(ReplayName="crm-missed-2026-11-20")
        self.assertEqual(replay["State"], "COMPLETED")
        self.assertEqual(replay["Destination"]["FilterArns"], [rule_arn])
        again = published.drain(sqs, queue)
        # Every missed event but the health check (`make smoke`), which the archive does not keep.
        archived = {e["detail"]["eventId"] for e in samples.values() if e["detail-type"] != "Health Check"}
        self.assertEqual(len(archived), len(missed) - 1)
        self.assertEqual(sorted(e["detail"]["eventId"] for e in again), sorted(archived))
        self.assertTrue(all(e["replay-name"] == "crm-missed-2026-11-20" for e in again))


if __name__ == "__main__":
    unittest.main()

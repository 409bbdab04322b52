"""What a consumer in another account relies on, checked in the templates because moto cannot
exercise it (it stores bus resource policies but never evaluates them, and cannot create a rule
on another account's bus: tests/events/test_cross_account.py):

- template.yaml: the bus policies let consumer accounts (or an organization) manage only rules
  they own on our bus and nothing else (no PutEvents on our bus); the forwarding role may only
  put events on the configured consumer buses; the archive keeps every event of our source;
- examples/consumer/template.yaml: its bus admits PutEvents only from the producer's account
  and only for our source; each queue and topic admits only EventBridge, only from the rules
  that deliver to it; everything is encrypted; the CRM queue has a dead-letter queue.

Run: python -m unittest discover -s tests/template
"""

import unittest
from pathlib import Path

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]

RULE_MANAGEMENT = {
    "events:PutRule", "events:PutTargets", "events:DeleteRule", "events:RemoveTargets", "events:DisableRule",
    "events:EnableRule", "events:TagResource", "events:UntagResource", "events:DescribeRule",
    "events:ListTargetsByRule", "events:ListTagsForResource",
}


def load(path):
    tpl, matches = decode(str(ROOT / path))
    assert not matches, matches
    return tpl


def as_set(value):
    return set(value) if isinstance(value, list) else {value}


def ref_of(value):
    """The logical id a Ref / GetAtt names."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            att = value["Fn::GetAtt"]
            return att[0] if isinstance(att, list) else att.split(".")[0]
    return None


class ProducerTemplateTest(unittest.TestCase):
    def setUp(self):
        self.tpl = load("template.yaml")
        self.res = self.tpl["Resources"]

    def test_consumer_accounts_manage_only_rules_they_own_on_our_bus(self):
        for name, principal_check in (
            ("ConsumerAccountsBusPolicy", lambda p: p == {"AWS": {"Fn::Split": [",", {"Ref": "ConsumerAccountIds"}]}}),
            ("ConsumerOrganizationBusPolicy", lambda p: p == "*"),
        ):
            with self.subTest(policy=name):
                props = self.res[name]["Properties"]
                self.assertEqual(props["EventBusName"], {"Ref": "EventBus"})
                s = props["Statement"]
                self.assertEqual(s["Effect"], "Allow")
                self.assertTrue(principal_check(s["Principal"]), s["Principal"])
                self.assertEqual(as_set(s["Action"]), RULE_MANAGEMENT, "rule management only: no PutEvents on our bus")
                self.assertEqual(
                    s["Resource"],
                    {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/${EventBus}/*"},
                )
                self.assertEqual(
                    s["Condition"]["StringEqualsIfExists"], {"events:creatorAccount": "${aws:PrincipalAccount}"}
                )
        org = self.res["ConsumerOrganizationBusPolicy"]["Properties"]["Statement"]["Condition"]
        self.assertEqual(org["StringEquals"], {"aws:PrincipalOrgID": {"Ref": "ConsumerOrganizationId"}})

    def test_the_forwarding_role_only_puts_events_on_the_consumer_buses(self):
        role = self.res["ForwardingRole"]["Properties"]
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        self.assertEqual(trust["Principal"], {"Service": "events.amazonaws.com"})
        self.assertEqual(trust["Condition"], {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}})
        statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
        self.assertEqual(len(statements), 1)
        self.assertEqual(as_set(statements[0]["Action"]), {"events:PutEvents"})
        self.assertEqual(statements[0]["Resource"], {"Ref": "ForwardToEventBusArns"})

    def test_the_archive_keeps_every_event_of_our_source_for_the_configured_days(self):
        archive = self.res["EventArchive"]
        self.assertEqual(archive["Type"], "AWS::Events::Archive")
        props = archive["Properties"]
        self.assertEqual(props["SourceArn"], {"Fn::GetAtt": ["EventBus", "Arn"]})
        # Every event of our source but the health checks of `make smoke` (no replays of those).
        self.assertEqual(
            props["EventPattern"],
            {"source": [{"Ref": "EventSource"}], "detail-type": [{"anything-but": ["Health Check"]}]},
        )
        self.assertEqual(props["RetentionDays"], {"Ref": "ArchiveRetentionDays"})
        self.assertNotIn("ArchiveName", props, "archive names are at most 48 characters: let CloudFormation name it")
        param = self.tpl["Parameters"]["ArchiveRetentionDays"]
        self.assertEqual((param["Type"], param["MinValue"]), ("Number", 0))
        self.assertEqual(self.tpl["Outputs"]["EventArchiveArn"]["Value"], {"Fn::GetAtt": ["EventArchive", "Arn"]})


class ConsumerTemplateTest(unittest.TestCase):
    def setUp(self):
        self.tpl = load("examples/consumer/template.yaml")
        self.res = self.tpl["Resources"]

    def of_type(self, kind):
        return {n: r for n, r in self.res.items() if r["Type"] == kind}

    def test_its_bus_admits_only_the_producers_account_for_our_source(self):
        policy = self.res["ConsumerBusPolicy"]
        self.assertEqual(policy["Condition"], "IsForwardingTarget")
        s = policy["Properties"]["Statement"]
        self.assertEqual(as_set(s["Action"]), {"events:PutEvents"})
        self.assertEqual(s["Resource"], {"Fn::GetAtt": ["ConsumerBus", "Arn"]})
        self.assertEqual(s["Condition"], {"StringEquals": {"events:source": {"Ref": "EventSource"}}})
        template, values = s["Principal"]["AWS"]["Fn::Sub"]
        self.assertEqual(template, "arn:${AWS::Partition}:iam::${ProducerAccount}:root")
        self.assertEqual(values["ProducerAccount"], {"Fn::Select": [4, {"Fn::Split": [":", {"Ref": "ProducerEventBusArn"}]}]})

    def delivering_rules(self):
        """queue or topic logical id -> the rules that deliver to it (as target or dead-letter
        queue). (The feed rule's target, this stack's bus, is reached through FeedRole.)"""
        kinds = ("AWS::SQS::Queue", "AWS::SNS::Topic")
        out = {}
        for name, rule in self.of_type("AWS::Events::Rule").items():
            for target in rule["Properties"]["Targets"]:
                for arn in (target["Arn"], target.get("DeadLetterConfig", {}).get("Arn")):
                    if ref_of(arn) in self.res and self.res[ref_of(arn)]["Type"] in kinds:
                        out.setdefault(ref_of(arn), set()).add(name)
        return out

    def test_each_queue_and_topic_admits_only_eventbridge_from_the_rules_that_deliver_to_it(self):
        delivering = self.delivering_rules()
        policies = {**self.of_type("AWS::SQS::QueuePolicy"), **self.of_type("AWS::SNS::TopicPolicy")}
        covered = set()
        for name, policy in policies.items():
            props = policy["Properties"]
            targets = [ref_of(q) for q in props.get("Queues", props.get("Topics"))]
            for s in props["PolicyDocument"]["Statement"]:
                with self.subTest(policy=name, sid=s["Sid"]):
                    self.assertEqual(s["Effect"], "Allow")
                    self.assertEqual(s["Principal"], {"Service": "events.amazonaws.com"})
                    self.assertIn(as_set(s["Action"]), ({"sqs:SendMessage"}, {"sns:Publish"}))
                    self.assertEqual({ref_of(r) for r in as_set_list(s["Resource"])}, set(targets))
                    rules = {ref_of(a) for a in as_set_list(s["Condition"]["ArnEquals"]["aws:SourceArn"])}
                    for target in targets:
                        self.assertEqual(rules, delivering[target], f"{target}: admitted rules vs delivering rules")
                    covered.update(targets)
        self.assertEqual(covered, set(delivering), "every queue or topic a rule delivers to has a policy")

    def test_everything_is_encrypted_and_the_crm_queue_has_a_dead_letter_queue(self):
        for name, queue in self.of_type("AWS::SQS::Queue").items():
            props = queue["Properties"]
            self.assertTrue(props.get("KmsMasterKeyId") or props.get("SqsManagedSseEnabled"), f"{name} unencrypted")
        for name, topic in self.of_type("AWS::SNS::Topic").items():
            self.assertEqual(topic["Properties"].get("KmsMasterKeyId"), {"Ref": "ConsumerKey"}, name)
        redrive = self.res["CrmQueue"]["Properties"]["RedrivePolicy"]
        self.assertEqual(redrive["deadLetterTargetArn"], {"Fn::GetAtt": ["CrmDeadLetterQueue", "Arn"]})
        key = self.res["ConsumerKey"]["Properties"]["KeyPolicy"]["Statement"]
        service = [s for s in key if s.get("Principal") == {"Service": "events.amazonaws.com"}]
        self.assertEqual(len(service), 1)
        self.assertEqual(as_set(service[0]["Action"]), {"kms:Decrypt", "kms:GenerateDataKey*"})
        # No aws:SourceAccount/aws:SourceArn: not supported for EventBridge to an encrypted topic
        # (SNS Developer Guide); the topic and queue policies pin the rules (guard rule E9131).
        self.assertNotIn("Condition", service[0])

    def test_the_feed_role_is_assumed_only_by_the_feed_rule_and_only_puts_on_this_bus(self):
        role = self.res["FeedRole"]["Properties"]
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        self.assertEqual(trust["Principal"], {"Service": "events.amazonaws.com"})
        template, _ = trust["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"]
        name = self.res["FeedRule"]["Properties"]["Name"]["Fn::Sub"]
        self.assertTrue(template.endswith("/" + name), f"{template} must be the ARN of the rule named {name}")
        (statement,) = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
        self.assertEqual(as_set(statement["Action"]), {"events:PutEvents"})
        self.assertEqual(statement["Resource"], {"Fn::GetAtt": ["ConsumerBus", "Arn"]})
        self.assertEqual(self.res["FeedRule"]["Properties"]["EventBusName"], {"Ref": "ProducerEventBusArn"})


def as_set_list(value):
    return value if isinstance(value, list) else [value]


if __name__ == "__main__":
    unittest.main()

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
        # Only the forwarding rule may use it (rules consumers create on our bus live in our
        # account too): its ARN, built from the rule's name on our bus.
        rule = self.res["ForwardingRule"]["Properties"]
        self.assertEqual(rule["EventBusName"], {"Ref": "EventBus"})
        name = rule["Name"]["Fn::Sub"]
        self.assertEqual(
            trust["Condition"],
            {"StringEquals": {
                "aws:SourceAccount": {"Ref": "AWS::AccountId"},
                "aws:SourceArn": {"Fn::Sub": f"arn:${{AWS::Partition}}:events:${{AWS::Region}}:${{AWS::AccountId}}:rule/${{EventBus}}/{name}"},
            }},
        )
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

    def alarming(self):
        """topic logical id -> the alarms of this stack that notify it."""
        out = {}
        for name, alarm in self.of_type("AWS::CloudWatch::Alarm").items():
            for action in alarm["Properties"].get("AlarmActions", []):
                out.setdefault(ref_of(action), set()).add(name)
        return out

    def test_each_queue_and_topic_admits_only_eventbridge_from_the_rules_that_deliver_to_it(self):
        """...and a topic an alarm notifies, CloudWatch from exactly those alarms."""
        delivering = self.delivering_rules()
        alarming = self.alarming()
        policies = {**self.of_type("AWS::SQS::QueuePolicy"), **self.of_type("AWS::SNS::TopicPolicy")}
        covered = set()
        for name, policy in policies.items():
            props = policy["Properties"]
            targets = [ref_of(q) for q in props.get("Queues", props.get("Topics"))]
            for s in props["PolicyDocument"]["Statement"]:
                with self.subTest(policy=name, sid=s["Sid"]):
                    self.assertEqual(s["Effect"], "Allow")
                    if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}:
                        self.assertEqual(as_set(s["Action"]), {"sns:Publish"})
                        alarms = {ref_of(a) for a in as_set_list(s["Condition"]["ArnEquals"]["aws:SourceArn"])}
                        for target in targets:
                            self.assertEqual(alarms, alarming.get(target), f"{target}: admitted vs notifying alarms")
                        continue
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
            self.assertEqual(topic["Properties"].get("KmsMasterKeyId"), {"Ref": "AlertTopicKey"}, name)
        redrive = self.res["CrmQueue"]["Properties"]["RedrivePolicy"]
        self.assertEqual(redrive["deadLetterTargetArn"], {"Fn::GetAtt": ["CrmDeadLetterQueue", "Arn"]})
        this_account = {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}

        def services(key):
            statements = self.res[key]["Properties"]["KeyPolicy"]["Statement"]
            out = {s["Principal"]["Service"]: s for s in statements if "Service" in s.get("Principal", {})}
            for s in out.values():
                self.assertEqual(as_set(s["Action"]), {"kms:Decrypt", "kms:GenerateDataKey*"})
            return out

        # The queues' key: EventBridge only, with the SQS guide's statement: no aws:SourceAccount/
        # aws:SourceArn (not documented for this delivery; the queue policies pin the rules,
        # guard rule E9131).
        queues = services("ConsumerKey")
        self.assertEqual(set(queues), {"events.amazonaws.com"})
        self.assertNotIn("Condition", queues["events.amazonaws.com"])
        # The topic's key: EventBridge without a source condition (not supported for delivery to
        # an encrypted topic; the topic policy names the rule), this account's alarms.
        topic = services("AlertTopicKey")
        self.assertEqual(set(topic), {"events.amazonaws.com", "cloudwatch.amazonaws.com"})
        self.assertNotIn("Condition", topic["events.amazonaws.com"])
        self.assertEqual(topic["cloudwatch.amazonaws.com"]["Condition"], this_account)

    def test_every_dead_letter_queue_is_watched_by_an_alarm_that_notifies_someone(self):
        """A message in a dead-letter queue is an event nobody received: each queue that is a
        redrive or EventBridge dead-letter target is in an alarm's metrics (visible messages),
        and that alarm notifies the alert topic."""
        dead_letter_queues = set()
        for queue in self.of_type("AWS::SQS::Queue").values():
            redrive = queue["Properties"].get("RedrivePolicy")
            if redrive:
                dead_letter_queues.add(ref_of(redrive["deadLetterTargetArn"]))
        for rule in self.of_type("AWS::Events::Rule").values():
            for target in rule["Properties"]["Targets"]:
                dead_letter_queues.add(ref_of(target["DeadLetterConfig"]["Arn"]))
        self.assertEqual(dead_letter_queues, {"CrmDeadLetterQueue", "DeliveryFailureQueue", "FeedDeadLetterQueue"})
        watched = {}
        for name, alarm in self.of_type("AWS::CloudWatch::Alarm").items():
            for query in alarm["Properties"].get("Metrics", []):
                query = query["Fn::If"][1] if "Fn::If" in query else query
                metric = query.get("MetricStat", {}).get("Metric")
                if metric and metric["MetricName"] == "ApproximateNumberOfMessagesVisible":
                    for dimension in metric["Dimensions"]:
                        watched[ref_of(dimension["Value"])] = alarm["Properties"]["AlarmActions"]
        for queue in dead_letter_queues:
            with self.subTest(queue=queue):
                self.assertIn(queue, watched, f"{queue}: no alarm on its visible messages")
                self.assertEqual(watched[queue], [{"Ref": "AlertTopic"}])
        self.assertIn("FeedDeadLetterQueueUrl", self.tpl["Outputs"])

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

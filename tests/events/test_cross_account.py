"""Cross-account, as far as moto allows: our bus in our account, the example consumer stack's
bus and routing rules in a second account, our forwarding rule (template.yaml) delivering to
the consumer's bus; every sample (and the derived variants of test_patterns) put on our bus;
the consumer's queues receive exactly what its rules' patterns select.

What moto 5.2.5 cannot exercise here (so it is checked elsewhere or not at all):
- a rule created by the consumer account on our bus (FeedMode=rule-on-producer-bus): moto
  resolves the bus ARN given to PutRule in the caller's own account ("Event bus ... does not
  exist"), so only the forwarding path (FeedMode=forwarding-target) runs here;
- bus resource policies: moto stores them but never evaluates them (delivery to a bus whose
  policy admits nobody succeeds, test_moto_does_not_enforce_bus_policies); the policies are
  checked statically in tests/template/test_consumers.py;
- SNS as a rule target: moto's EventBridge delivers to SQS, logs, buses and archives only, so
  the expiry-alert rule's topic is stood in for by a queue (its pattern is what is tested);
- the forwarded envelope: moto re-puts only source, detail-type and detail on the target bus
  (new id, no resources, new time); EventBridge forwards the whole event;
- the forwarded event's `account`: moto stamps the consumer's (it re-puts the event in the
  target account), EventBridge keeps the sender's, which is why the consumer's rules match
  `account` on ours (PutPermission's API reference: "Rules with an account field do not match
  any events sent from other accounts"). Here the consumer's rules are given the account moto
  stamps (test_moto_stamps_the_receivers_account_on_forwarded_events pins that); the account
  filter itself is checked in test_patterns (ours matches, another account's does not).
"""

import json
import unittest

from moto import mock_aws

import published
import test_patterns

OUR_BUS = "invitations-invitations"  # template.yaml: ${AWS::StackName}-invitations
CONSUMER_BUS = "consumer-partnercentral-invitations"  # the consumer template's ${AWS::StackName}-partnercentral-invitations


class CrossAccountForwardingTest(unittest.TestCase):
    def world(self):
        """Our bus with the template's forwarding rule to the consumer's bus in the second
        account, and the consumer template's routing rules there, each to a queue."""
        ours = published.client("events", published.PRODUCER)
        theirs = published.client("events", published.CONSUMER)
        their_sqs = published.client("sqs", published.CONSUMER)
        our_bus_arn = ours.create_event_bus(Name=OUR_BUS)["EventBusArn"]
        their_bus_arn = theirs.create_event_bus(Name=CONSUMER_BUS)["EventBusArn"]
        self.assertIn(f":{published.CONSUMER}:", their_bus_arn)
        forwarding = published.template_patterns()["template.yaml: ForwardingRule"]
        ours.put_rule(Name="forward", EventBusName=OUR_BUS, EventPattern=json.dumps(forwarding))
        ours.put_targets(
            Rule="forward",
            EventBusName=OUR_BUS,
            Targets=[{"Id": "consumer-bus-1", "Arn": their_bus_arn,
                      "RoleArn": f"arn:aws:iam::{published.PRODUCER}:role/forwarding"}],
        )
        rules = published.consumer_rules({"ProducerEventBusArn": our_bus_arn, "FeedMode": "forwarding-target"})
        for rule in rules.values():
            self.assertEqual(rule["account"], [published.PRODUCER], "the consumer's rules match our account")
            rule["account"] = [published.CONSUMER]  # what moto stamps on forwarded events (see above)
        queues = {
            name: published.rule_to_queue(theirs, their_sqs, CONSUMER_BUS, name, rules[name])
            for name in ("CrmRule", "ExpiringSoonRule")
        }
        return ours, theirs, their_sqs, queues

    @mock_aws
    def test_the_consumer_account_receives_exactly_what_its_rules_select(self):
        ours, _, their_sqs, queues = self.world()
        events = test_patterns.cases()
        for event in events.values():
            published.put(ours, OUR_BUS, event)
        by_detail = {json.dumps(e["detail"], sort_keys=True): case for case, e in events.items()}
        for name, url in queues.items():
            with self.subTest(rule=name):
                got = published.drain(their_sqs, url)
                received = [by_detail.get(json.dumps(e["detail"], sort_keys=True), repr(e)) for e in got]
                self.assertEqual(len(received), len(set(received)), f"{name}: duplicates {received}")
                self.assertEqual(set(received), test_patterns.EXPECTED[f"examples/consumer: {name}"])
                for event in got:
                    self.assertEqual(event["source"], "partnercentral.invitations")
                    self.assertEqual(event["detail"]["eventId"], events[by_detail[json.dumps(event["detail"], sort_keys=True)]]["detail"]["eventId"])

    @mock_aws
    def test_moto_does_not_enforce_bus_policies(self):
        """The consumer's bus admits only the producer's account for our source; moto delivers
        regardless, even with a policy that admits nobody — so these policies cannot be
        exercised here (if this starts failing, moto evaluates them: test them here)."""
        ours, theirs, their_sqs, queues = self.world()
        theirs.put_permission(
            EventBusName=CONSUMER_BUS,
            Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Sid": "Nobody", "Effect": "Deny", "Principal": "*", "Action": "events:PutEvents",
                "Resource": f"arn:aws:events:{published.REGION}:{published.CONSUMER}:event-bus/{CONSUMER_BUS}"}]}),
        )
        published.put(ours, OUR_BUS, published.samples()["Engagement Invitation Accepted"])
        self.assertEqual(len(published.drain(their_sqs, queues["CrmRule"])), 1)

    @mock_aws
    def test_moto_stamps_the_receivers_account_on_forwarded_events(self):
        """Why world() gives the consumer's rules the consumer's account (if this starts failing,
        moto keeps the sender's account as EventBridge does: drop that substitution). moto's
        delivered body carries no `account`, so the matching shows it."""
        ours, theirs, their_sqs, _ = self.world()
        source = "partnercentral.invitations"
        as_sender = published.rule_to_queue(
            theirs, their_sqs, CONSUMER_BUS, "sender", {"source": [source], "account": [published.PRODUCER]})
        as_receiver = published.rule_to_queue(
            theirs, their_sqs, CONSUMER_BUS, "receiver", {"source": [source], "account": [published.CONSUMER]})
        published.put(ours, OUR_BUS, published.samples()["Engagement Invitation Accepted"])
        self.assertEqual((len(published.drain(their_sqs, as_sender)), len(published.drain(their_sqs, as_receiver))), (0, 1))

    @mock_aws
    def test_moto_cannot_create_a_rule_on_another_accounts_bus(self):
        """FeedMode=rule-on-producer-bus cannot run on moto: PutRule from the consumer account
        with our bus's ARN looks the bus up in the consumer's own account (if this starts
        failing, moto supports it: run the feed rule here)."""
        ours = published.client("events", published.PRODUCER)
        theirs = published.client("events", published.CONSUMER)
        arn = ours.create_event_bus(Name=OUR_BUS)["EventBusArn"]
        with self.assertRaises(theirs.exceptions.ResourceNotFoundException):
            theirs.put_rule(Name="feed", EventBusName=arn, EventPattern=json.dumps({"source": ["x"]}))


if __name__ == "__main__":
    unittest.main()

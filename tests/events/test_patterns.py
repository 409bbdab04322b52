"""Every event pattern we publish, against the sample of every detail-type we send, with the
expected match table: which samples each pattern must match — every other one it must not.

The patterns are read from where consumers read them (README, template.yaml, the example
consumer stack: see published.py) and evaluated by EventBridge's rule matching as moto
implements it: one rule per pattern on a bus, an SQS queue behind each, each sample put on the
bus once, then which queues it reached. (moto's TestEventPattern is a stub; rule routing is
its real matcher. MatcherConformanceTest checks that matcher against EventBridge's documented
matching for the operators our patterns use.)

Run: python -m unittest discover -s tests/events (the venv's python: moto, boto3, cfn-lint).
"""

import copy
import unittest

from moto import mock_aws

import published

CONNECTION = "Connection Invitation"
ENGAGEMENT = "Engagement Invitation"

# Cases derived from a sample by changing detail fields a pattern looks at: values other runs
# or deployments produce. (The samples: warnings at the 24 h threshold with 23.8 / 23.6 h left,
# a cancellation by the auto-cancel policy.)
VARIANTS = {
    "Engagement Invitation Expiring Soon, 72 h threshold, 71.9 h left": (
        f"{ENGAGEMENT} Expiring Soon", {"thresholdHours": 72, "hoursRemaining": 71.9}),
    "Engagement Invitation Expiring Soon, 72 h threshold, 24.0 h left": (
        f"{ENGAGEMENT} Expiring Soon", {"thresholdHours": 72, "hoursRemaining": 24.0}),
    "Connection Invitation Expiring Soon, 72 h threshold, 24.1 h left": (
        f"{CONNECTION} Expiring Soon", {"thresholdHours": 72, "hoursRemaining": 24.1}),
    "Connection Invitation Canceled, seen by list-and-publish (no cause)": (
        f"{CONNECTION} Canceled", {"cause": None}),
}

DETAIL_TYPES = {
    f"{CONNECTION} Created", f"{CONNECTION} Accepted", f"{CONNECTION} Rejected", f"{CONNECTION} Canceled",
    f"{CONNECTION} Expired", f"{CONNECTION} Expiring Soon", f"{CONNECTION} Cancellation Planned",
    f"{ENGAGEMENT} Created", f"{ENGAGEMENT} Accepted", f"{ENGAGEMENT} Rejected", f"{ENGAGEMENT} Expired",
    f"{ENGAGEMENT} Expiring Soon", f"{ENGAGEMENT} Response Planned", f"{ENGAGEMENT} Acceptance Started",
    f"{ENGAGEMENT} Acceptance Completed", f"{ENGAGEMENT} Acceptance Failed", "Invitations Expiring Digest",
    f"{ENGAGEMENT} Approval Requested", f"{CONNECTION} Approval Requested", "Health Check",
}
EVERY_CASE = DETAIL_TYPES | set(VARIANTS)
# `make smoke`'s event: no documented consumer pattern, archive or forwarding matches it.
HEALTH_CHECK = {"Health Check"}
ACCEPTED = {f"{CONNECTION} Accepted", f"{ENGAGEMENT} Accepted"}
CREATED = {f"{CONNECTION} Created", f"{ENGAGEMENT} Created"}
DRY_RUN_PLANS = {f"{CONNECTION} Cancellation Planned", f"{ENGAGEMENT} Response Planned"}

# pattern -> the cases it must match; it must match no other case.
EXPECTED = {
    "README: every engagement invitation that will expire within 24 hours": {f"{ENGAGEMENT} Expiring Soon"},
    "README: every accepted invitation, of either kind": ACCEPTED,
    "README: cancellations made (or planned) by the auto-cancel policy": {
        f"{CONNECTION} Canceled",
        f"{CONNECTION} Cancellation Planned",
    },
    "README: everything but the policies' dry-run plans": EVERY_CASE - DRY_RUN_PLANS - HEALTH_CHECK,
    "template.yaml: output ConsumerEventPattern": EVERY_CASE - HEALTH_CHECK,
    "template.yaml: ForwardingRule": EVERY_CASE - HEALTH_CHECK,
    "template.yaml: EventArchive": EVERY_CASE - HEALTH_CHECK,
    # The default NotifyDetailTypes, of invitations we received (the engagement samples; the
    # connection samples are ones we sent), warnings within 24 h only; approval requests (the
    # connection one is about an invitation we sent) and the digest whatever the side.
    "template.yaml: NotifyRule": {
        f"{ENGAGEMENT} Created", f"{ENGAGEMENT} Expiring Soon", f"{ENGAGEMENT} Expired",
        f"{ENGAGEMENT} Acceptance Failed", f"{ENGAGEMENT} Approval Requested", f"{CONNECTION} Approval Requested",
        "Invitations Expiring Digest",
        "Engagement Invitation Expiring Soon, 72 h threshold, 24.0 h left",
    },
    "examples/consumer: FeedRule": EVERY_CASE - HEALTH_CHECK,
    "examples/consumer: CrmRule": ACCEPTED | CREATED,
    "examples/consumer: ExpiringSoonRule": {
        f"{CONNECTION} Expiring Soon",
        f"{ENGAGEMENT} Expiring Soon",
        "Engagement Invitation Expiring Soon, 72 h threshold, 24.0 h left",
    },
}


def cases():
    """case name -> envelope: every sample, and the variants derived from them."""
    samples = published.samples()
    out = dict(samples)
    for name, (base, patch) in VARIANTS.items():
        event = copy.deepcopy(samples[base])
        event["detail"].update(patch)
        out[name] = event
    return out


def routed(patterns, events, bus="patterns", account=published.PRODUCER):
    """case -> the set of pattern names whose rule delivered it, through moto's rule routing
    (one rule per pattern on a new bus `bus`, every event put by `account`)."""
    eb, sqs = published.client("events", account), published.client("sqs", account)
    eb.create_event_bus(Name=bus)
    queues = {
        name: published.rule_to_queue(eb, sqs, bus, f"{bus}-{i}", p) for i, (name, p) in enumerate(patterns.items())
    }
    out = {}
    for case, event in events.items():
        published.put(eb, bus, event)
        out[case] = set()
        for name, url in queues.items():
            got = published.drain(sqs, url)
            if got:
                if len(got) != 1 or got[0]["detail"] != event["detail"]:
                    raise AssertionError(f"{name}: after putting {case!r} its queue held {got}")
                out[case].add(name)
    return out


class MatchTableTest(unittest.TestCase):
    def test_samples_cover_every_detail_type_we_send(self):
        self.assertEqual(set(published.samples()), DETAIL_TYPES)

    def test_the_table_covers_every_published_pattern(self):
        self.assertEqual(set(published.all_patterns()), set(EXPECTED))

    @mock_aws
    def test_every_pattern_matches_exactly_its_samples(self):
        patterns = published.all_patterns()
        events = cases()
        self.assertEqual(set(events), EVERY_CASE)
        got = routed(patterns, events)
        for name in patterns:
            with self.subTest(pattern=name):
                matched = {case for case, names in got.items() if name in names}
                self.assertEqual(
                    matched,
                    EXPECTED[name],
                    f"{name}: {patterns[name]}\n missed: {sorted(EXPECTED[name] - matched)}"
                    f"\n matched but must not: {sorted(matched - EXPECTED[name])}",
                )

    @mock_aws
    def test_a_pattern_follows_the_event_source_parameter(self):
        """The templates' patterns name the source their EventSource parameter gives."""
        source = "example.invitations"
        patterns = {
            **published.template_patterns({"EventSource": source}),
            **published.consumer_patterns({"EventSource": source}),
        }
        event = copy.deepcopy(published.samples()[f"{ENGAGEMENT} Accepted"])
        ours = routed(patterns, {"default source": event}, bus="default-source")
        event["source"] = source
        theirs = routed(patterns, {"their source": event}, bus="their-source")
        self.assertEqual(ours["default source"], set())
        self.assertEqual(
            theirs["their source"],
            {"template.yaml: output ConsumerEventPattern", "template.yaml: ForwardingRule",
             "template.yaml: EventArchive", "examples/consumer: FeedRule", "examples/consumer: CrmRule"},
        )


class AccountTest(unittest.TestCase):
    @mock_aws
    def test_our_source_put_from_another_account_reaches_no_consumer(self):
        """Anyone may put events with our source on a bus of their own account (a consumer's
        bus, where our forwarded events arrive): every published consumer pattern also matches
        our account, so none of those reaches a consumer. Only the archive (on our bus, where
        only our functions may put our source) does not look at the account; it keeps no
        health check (`make smoke`)."""
        patterns = published.all_patterns()
        got = routed(patterns, cases(), bus="spoofed", account=published.CONSUMER)
        for case, names in got.items():
            with self.subTest(case=case):
                expected = set() if case == "Health Check" else {"template.yaml: EventArchive"}
                self.assertEqual(names, expected)


class ReadmePatternParsingTest(unittest.TestCase):
    def test_a_pattern_without_a_name_or_not_json_is_refused_naming_it(self):
        section = published.README_SECTION + "\n\n```jsonc\n{\"source\": [\"x\"]}\n```\n"
        with self.assertRaisesRegex(published.SourceError, "exactly one `// name`"):
            published.readme_patterns(section)
        section = published.README_SECTION + "\n\n```jsonc\n// broken\n{\"source\": [x]}\n```\n"
        with self.assertRaisesRegex(published.SourceError, "'broken' is not JSON"):
            published.readme_patterns(section)

    def test_an_unresolvable_template_value_is_refused_naming_where(self):
        with self.assertRaisesRegex(published.SourceError, r"Rules\.X: Ref Nope"):
            published.resolve({"Ref": "Nope"}, {}, "Rules.X")
        with self.assertRaisesRegex(published.SourceError, "cannot resolve"):
            published.resolve({"Fn::GetAtt": ["A", "Arn"]}, {}, "Rules.X")


class MatcherConformanceTest(unittest.TestCase):
    """moto's matcher against EventBridge's documented content filtering, for the operators our
    patterns use (exact values, lists, nested fields, numeric ranges, anything-but) and the
    prefix and exists filters: each case is what the EventBridge user guide ("Content filtering
    in event patterns") specifies."""

    BASE = {"source": "t", "detail-type": "d", "resources": []}

    CASES = [
        # (pattern detail, event detail, documented outcome)
        ({"n": [{"numeric": ["<=", 24]}]}, {"n": 24}, True),
        ({"n": [{"numeric": ["<=", 24]}]}, {"n": 23.5}, True),
        ({"n": [{"numeric": ["<=", 24]}]}, {"n": 24.1}, False),
        ({"n": [{"numeric": ["<=", 24]}]}, {"n": "24"}, False),  # numeric matches numbers only
        ({"n": [{"numeric": ["<=", 24]}]}, {"n": None}, False),
        ({"n": [{"numeric": ["<=", 24]}]}, {}, False),  # a missing field never matches
        ({"c": {"type": ["policy"]}}, {"c": {"type": "policy", "rule": "r"}}, True),
        ({"c": {"type": ["policy"]}}, {"c": None}, False),
        ({"c": {"type": ["policy"]}}, {}, False),
        ({"k": ["a", "b"]}, {"k": "b"}, True),  # a list is OR
        ({"k": ["a", "b"]}, {"k": ["x", "b"]}, True),  # an array value matches if any element does
        ({"k": ["a"]}, {"k": "A"}, False),  # exact, case-sensitive
        ({"k": [{"anything-but": ["a", "b"]}]}, {"k": "c"}, True),
        ({"k": [{"anything-but": ["a", "b"]}]}, {"k": "a"}, False),
        ({"k": [{"anything-but": ["a"]}]}, {}, False),  # anything-but needs the field
        ({"n": [{"numeric": [">", 0, "<=", 24]}]}, {"n": 12}, True),  # a range: both bounds
        ({"n": [{"numeric": [">", 0, "<=", 24]}]}, {"n": 0}, False),
        # Not in our patterns, but what consumers reach for first:
        ({"k": [{"prefix": "Engagement "}]}, {"k": "Engagement Invitation Accepted"}, True),
        ({"k": [{"prefix": "Engagement "}]}, {"k": "Connection Invitation Accepted"}, False),
        ({"k": [{"exists": True}]}, {"k": "x"}, True),
        ({"k": [{"exists": True}]}, {}, False),
        ({"k": [{"exists": False}]}, {}, True),
        ({"k": [{"exists": False}]}, {"k": "x"}, False),
    ]

    @mock_aws
    def test_documented_outcomes(self):
        eb, sqs = published.client("events"), published.client("sqs")
        eb.create_event_bus(Name="conformance")
        for i, (pattern, detail, outcome) in enumerate(self.CASES):
            with self.subTest(pattern=pattern, detail=detail):
                url = published.rule_to_queue(eb, sqs, "conformance", f"c{i}", {"detail": pattern})
                published.put(eb, "conformance", dict(self.BASE, detail=detail))
                self.assertEqual(bool(published.drain(sqs, url)), outcome)
                eb.remove_targets(Rule=f"c{i}", EventBusName="conformance", Ids=["queue"])
                eb.delete_rule(Name=f"c{i}", EventBusName="conformance")


if __name__ == "__main__":
    unittest.main()

"""The guard rules of tests/template/guard/docs_rules.py: each fails on a template snippet with
the defect it exists for and passes once it is fixed; both templates pass, and template.yaml's
alarm destination rule refuses exactly the deploys it should.

Run: python -m unittest discover -s tests/template (the venv's python, which has cfn-lint)."""

import sys
import unittest

from cfnlint.decode import decode
from guard_lint import GUARD, PROJECT_TEMPLATES, ROOT, project_findings
from guard_lint import findings as lint_findings

# E9131 too: the source conditions E9152 leaves to it.
DOCS_IDS = {"E9151", "E9152", "E9131"}

sys.path.insert(0, GUARD)
import docs_rules  # noqa: E402


def findings(template: str):
    return lint_findings(template, DOCS_IDS)


def stack(rules="", email_default='""', action="!If [HasEmail, !Ref Topic, !Ref AWS::NoValue]", allow_default='"false"'):
    return f"""AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Email:
    Type: String
    Default: {email_default}
  AllowSilent:
    Type: String
    Default: {allow_default}
    AllowedValues: ["true", "false"]
Conditions:
  HasEmail: !Not [!Equals [!Ref Email, ""]]
{rules}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Condition: HasEmail
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions:
        - {action}
"""


REFUSE_WITHOUT_EMAIL = """Rules:
  AlarmsReachSomeone:
    RuleCondition: !Equals [!Ref AllowSilent, "false"]
    Assertions:
      - Assert: !Not [!Equals [!Ref Email, ""]]
        AssertDescription: Set Email.
"""


class DocsRulesTest(unittest.TestCase):
    def assert_fires(self, rule_id, snippet, fixed):
        found = findings(snippet)
        self.assertIn(rule_id, {r for r, _ in found}, f"{rule_id} did not fire on its defect: {found}")
        self.assertEqual(findings(fixed), [], "the fixed snippet must pass")

    def test_e9151_an_alarm_silent_by_default_needs_a_rule_that_refuses_the_deploy(self):
        silent = stack()
        self.assert_fires("E9151", silent, stack(rules=REFUSE_WITHOUT_EMAIL))
        # A destination by default is fine without a rule.
        self.assertEqual(findings(stack(email_default="ops@example.com")), [])
        # An unconditional action is fine.
        self.assertEqual(findings(stack(action="arn:aws:sns:us-east-1:123456789012:ops")), [])

    def test_e9151_a_rule_that_does_not_refuse_the_silent_default_does_not_count(self):
        # Waived by default: the rule's condition is false with the defaults.
        self.assert_fires("E9151", stack(rules=REFUSE_WITHOUT_EMAIL, allow_default='"true"'), stack(rules=REFUSE_WITHOUT_EMAIL))
        # An assertion that holds with the defaults refuses nothing.
        holds = REFUSE_WITHOUT_EMAIL.replace('!Not [!Equals [!Ref Email, ""]]', '!Equals [!Ref Email, ""]')
        self.assert_fires("E9151", stack(rules=holds), stack(rules=REFUSE_WITHOUT_EMAIL))

    def test_e9152_an_encrypted_topic_eventbridge_delivers_to_has_a_key_it_may_use(self):
        def topic_stack(condition="", key="!Ref Key"):
            return f"""AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: Admin
            Effect: Allow
            Principal: {{ AWS: !Sub "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:root" }}
            Action: kms:*
            Resource: "*"
          - Sid: EventBridge
            Effect: Allow
            Principal: {{ Service: events.amazonaws.com }}
            Action: [kms:Decrypt, kms:GenerateDataKey*]
            Resource: "*"
{condition}
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: {key}
  Rule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {{ source: [x] }}
      Targets:
        - Id: topic
          Arn: !Ref Topic
"""

        fixed = topic_stack()
        source_account = """            Condition:
              StringEquals:
                aws:SourceAccount: !Ref AWS::AccountId"""
        source_arn = """            Condition:
              ArnEquals:
                aws:SourceArn: !Sub arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/r"""
        # A source condition on the statement is E9131's (account_rules.py), for topics and
        # queues alike; this rule is about the grant itself.
        self.assert_fires("E9131", topic_stack(source_account), fixed)
        self.assert_fires("E9131", topic_stack(source_arn), fixed)
        self.assert_fires("E9152", topic_stack(key="alias/aws/sns"), fixed)
        no_grant = topic_stack().replace("Action: [kms:Decrypt, kms:GenerateDataKey*]", "Action: [kms:Decrypt]")
        self.assert_fires("E9152", no_grant, fixed)

    def test_the_project_templates_pass(self):
        for path in PROJECT_TEMPLATES:
            with self.subTest(template=path):
                self.assertEqual(project_findings(path, DOCS_IDS), [])

    def test_template_yaml_refuses_exactly_the_silent_deploys(self):
        """The `Rules` of template.yaml, evaluated as CloudFormation does before it creates
        anything: with neither AlarmEmail nor AlarmTopicArn the deploy is refused, unless
        AllowSilentAlarms=true; any destination lets it through."""
        template, errors = decode(str(ROOT / "template.yaml"))
        self.assertEqual(errors, [])
        base = docs_rules.defaults(template)
        topic = "arn:aws:sns:us-east-1:123456789012:ops"
        cases = {
            "defaults": ({}, "AlarmsReachSomeone"),
            "AlarmEmail": ({"AlarmEmail": "ops@example.com"}, None),
            "AlarmTopicArn": ({"AlarmTopicArn": topic}, None),
            "both": ({"AlarmEmail": "ops@example.com", "AlarmTopicArn": topic}, None),
            "waived": ({"AllowSilentAlarms": "true"}, None),
        }
        for name, (overrides, expected) in cases.items():
            with self.subTest(case=name):
                self.assertEqual(docs_rules.refused(template, {**base, **overrides}), expected)
        # The region rule still refuses another region, whatever the alarms.
        docs_rules.PSEUDO["AWS::Region"] = "eu-west-1"
        try:
            self.assertEqual(docs_rules.refused(template, {**base, "AlarmEmail": "ops@example.com"}), "DeployInUsEast1")
        finally:
            docs_rules.PSEUDO["AWS::Region"] = "us-east-1"

    def test_the_evaluator_refuses_what_it_cannot_decide(self):
        with self.assertRaises(docs_rules.Unknown):
            docs_rules.evaluate({"Fn::Select": [0, ["a"]]}, {}, {})
        with self.assertRaises(docs_rules.Unknown):
            docs_rules.evaluate({"Ref": "NoSuchParameter"}, {}, {})


if __name__ == "__main__":
    unittest.main()

"""The hardening guard rules (tests/template/guard/hardening_rules.py): each fails on a template
snippet with the defect it exists for and passes once the defect is fixed; both templates pass
them all.

Run: python -m unittest discover -s tests/template (the venv's python, which has cfn-lint)."""

import unittest

from guard_lint import PROJECT_TEMPLATES, project_findings
from guard_lint import findings as lint_findings

HARDENING_IDS = {"E9141", "E9142", "E9143", "E9144", "E9145"}

HEAD = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Rules:
  DeployInUsEast1:
    Assertions:
      - Assert: !Equals [!Ref "AWS::Region", us-east-1]
"""


def findings(template: str):
    return lint_findings(template, HARDENING_IDS)


def native_rule(pattern_extra: str = "", queue_retention: str = "86400", dlq_retention: str = "86400") -> str:
    return f"""
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: {queue_retention}
      RedrivePolicy: {{ deadLetterTargetArn: !GetAtt DeadLetters.Arn, maxReceiveCount: 5 }}
  DeadLetters:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: {dlq_retention}
  Native:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: default
      EventPattern:
        source: [aws.partnercentral-selling]{pattern_extra}
      Targets:
        - Id: q
          Arn: !GetAtt Queue.Arn
          RetryPolicy: {{ MaximumRetryAttempts: 3 }}
          DeadLetterConfig: {{ Arn: !GetAtt DeadLetters.Arn }}
"""


def trusted_role(service: str, condition: str) -> str:
    return f"""
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{ Service: {service} }}
            Action: sts:AssumeRole
            Condition:
{condition}
"""


SOURCE_ACCOUNT = "              StringEquals: { aws:SourceAccount: !Ref AWS::AccountId }"
SOURCE_ARN = (
    "              StringEquals:\n"
    "                aws:SourceAccount: !Ref AWS::AccountId\n"
    "                aws:SourceArn: !Sub arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule-group/default"
)


def publishing_function(bus_policy: str) -> str:
    return f"""
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties: {{ Name: bus }}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      CodeUri: .
      Policies:
        - Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: events:PutEvents
              Resource: !GetAtt Bus.Arn
{bus_policy}"""


DENY_OTHERS = """  OnlyUs:
    Type: AWS::Events::EventBusPolicy
    Properties:
      EventBusName: !Ref Bus
      StatementId: OnlyUs
      Statement:
        Effect: Deny
        Principal: "*"
        Action: events:PutEvents
        Resource: !GetAtt Bus.Arn
        Condition:
          StringEquals: { events:source: ours }
          ArnNotEquals: { aws:PrincipalArn: [!GetAtt FnRole.Arn] }
"""


def archive(min_value: str, rules: str = "") -> str:
    return f"""
Parameters:
  ArchiveRetentionDays:
    Type: Number
    Default: 30
{min_value}{rules}
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties: {{ Name: bus }}
  Archive:
    Type: AWS::Events::Archive
    Properties:
      SourceArn: !GetAtt Bus.Arn
      RetentionDays: !Ref ArchiveRetentionDays
"""


ASSERTED = """
  ContactDetailsAreNotArchivedForever:
    Assertions:
      - Assert: !Not [!Equals [!Ref ArchiveRetentionDays, "0"]]
"""


class HardeningRulesTest(unittest.TestCase):
    def assert_fires(self, rule_id: str, snippet: str, fixed: str):
        found = findings(HEAD + snippet)
        self.assertIn(rule_id, {r for r, _ in found}, f"{rule_id} did not fire on its defect: {found}")
        self.assertEqual(findings(HEAD + fixed), [], "the fixed snippet must pass every hardening rule")

    def test_e9141_a_default_bus_rule_for_partner_central_matches_the_account(self):
        self.assert_fires("E9141", native_rule(), native_rule("\n        account: [!Ref AWS::AccountId]"))

    def test_e9142_roles_eventbridge_and_its_scheduler_assume_name_the_source_arn(self):
        self.assert_fires("E9142", trusted_role("scheduler.amazonaws.com", SOURCE_ACCOUNT),
                          trusted_role("scheduler.amazonaws.com", SOURCE_ARN))
        forwarding_rule_arn = (
            "              ArnEquals:\n"
            "                aws:SourceArn: !Sub arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/bus/forward"
        )
        self.assert_fires("E9142", trusted_role("events.amazonaws.com", SOURCE_ACCOUNT),
                          trusted_role("events.amazonaws.com", forwarding_rule_arn))

    def test_e9143_a_bus_our_functions_publish_to_denies_our_source_to_everyone_else(self):
        self.assert_fires("E9143", publishing_function(""), publishing_function(DENY_OTHERS))
        # A Deny without the source condition (or without naming who is let through) is not it.
        self.assert_fires("E9143", publishing_function(DENY_OTHERS.replace("events:source", "events:detail-type")),
                          publishing_function(DENY_OTHERS))

    def test_e9144_raw_default_bus_events_are_kept_a_day_unless_opted_in(self):
        account = "\n        account: [!Ref AWS::AccountId]"
        fixed = native_rule(account, dlq_retention="!If [OptedIn, 1209600, 86400]")
        conditions = "Conditions:\n  OptedIn: !Equals [!Ref AWS::Region, us-east-1]\n"
        self.assert_fires("E9144", conditions + native_rule(account, dlq_retention="1209600"), conditions + fixed)
        # The default retention (4 days) is too long as well.
        self.assert_fires("E9144", conditions + native_rule(account, queue_retention="345600"), conditions + fixed)
        self.assertIn("E9144", {r for r, _ in findings(HEAD + conditions + native_rule(
            account, dlq_retention="!If [OptedIn, 1209600, 172800]"))}, "no branch within a day")

    def test_e9145_an_archive_that_may_keep_forever_is_asserted(self):
        self.assert_fires("E9145", archive("    MinValue: 0\n"), archive("    MinValue: 0\n", "Rules:" + ASSERTED))
        self.assertEqual(findings(HEAD + archive("    MinValue: 1\n")), [], "an archive that cannot keep forever")

    def test_both_templates_pass_every_hardening_rule(self):
        for path in PROJECT_TEMPLATES:
            with self.subTest(template=path):
                self.assertEqual(project_findings(path, HARDENING_IDS), [])


if __name__ == "__main__":
    unittest.main()

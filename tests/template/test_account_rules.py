"""The guard rules for deploying into any partner account (tests/template/guard/account_rules.py):
each fires on a snippet with the defect it exists for, passes once it is fixed, and both
templates pass all of them.

Run: python -m unittest discover -s tests/template (the venv's python, which has cfn-lint)."""

import unittest

from guard_lint import PROJECT_TEMPLATES, project_findings
from guard_lint import findings as lint_findings

ACCOUNT_IDS = {"E9131", "E9132", "E9133", "E9134", "E9135"}


def findings(template: str):
    return lint_findings(template, ACCOUNT_IDS)


def template(resources: str, metadata: str = "") -> str:
    return f"""AWSTemplateFormatVersion: "2010-09-09"
{metadata}
Rules:
  DeployInUsEast1:
    Assertions:
      - Assert: !Equals [!Ref "AWS::Region", us-east-1]
Resources:
{resources}
"""


def delivery(condition: str) -> str:
    """A rule delivering to an encrypted topic, the key's statement for EventBridge with `condition`."""
    return f"""
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
      KmsMasterKeyId: !Ref Key
  Dlq:
    Type: AWS::SQS::Queue
    Properties:
      SqsManagedSseEnabled: true
  Rule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {{ source: [x] }}
      Targets:
        - Id: alerts
          Arn: !Ref Topic
          RetryPolicy: {{ MaximumRetryAttempts: 3 }}
          DeadLetterConfig: {{ Arn: !GetAtt Dlq.Arn }}
"""


ROLE = """
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {{ Sid: Lambda, Effect: Allow, Principal: {{ Service: lambda.amazonaws.com }}, Action: sts:AssumeRole }}
      Policies:
        - PolicyName: pc
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: Cancel
                Effect: Allow
                Action: partnercentral:CancelConnectionInvitation
                Resource: !Sub arn:${{AWS::Partition}}:partnercentral:{region}::catalog/AWS/connection-invitation/*
                Condition:
                  StringEquals:
                    partnercentral:Catalog: AWS
"""


def alarm(periods: str) -> str:
    return f"""
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: PartnerCentralInvitations
      MetricName: EventsFailed
      Statistic: Sum
      Period: 300
{periods}
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      TreatMissingData: notBreaching
"""


class AccountRulesTest(unittest.TestCase):
    def assert_fires(self, rule_id: str, snippet: str, fixed: str):
        found = findings(snippet)
        self.assertIn(rule_id, {r for r, _ in found}, f"{rule_id} did not fire on its defect: {found}")
        self.assertEqual(findings(fixed), [], "the fixed snippet must pass every rule of this file")

    def test_e9131_keys_of_topics_eventbridge_delivers_to_have_no_source_conditions(self):
        source_account = """            Condition:
              StringEquals:
                aws:SourceAccount: !Ref AWS::AccountId"""
        source_arn = """            Condition:
              ArnEquals:
                aws:SourceArn: !GetAtt Rule.Arn"""
        self.assert_fires("E9131", template(delivery(source_account)), template(delivery("")))
        self.assert_fires("E9131", template(delivery(source_arn)), template(delivery("")))

    def test_e9132_the_declared_stack_name_bound_fits_every_name(self):
        function = """
  Rule:
    Type: AWS::Events::Rule
    Properties:
      Name: !Sub ${AWS::StackName}-list-and-publish
      ScheduleExpression: rate(5 minutes)
      State: DISABLED
"""
        found = findings(template(function, "Metadata:\n  StackNameMaxLength: 48"))
        self.assertEqual([r for r, _ in found], ["E9132"])
        self.assertIn("lower StackNameMaxLength to 47", found[0][1])
        self.assert_fires("E9132", template(function), template(function, "Metadata:\n  StackNameMaxLength: 47"))

    def test_e9133_a_retained_table_has_no_fixed_name(self):
        def table(name: str) -> str:
            return f"""
  Table:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
{name}      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{{ AttributeName: pk, AttributeType: S }}]
      KeySchema: [{{ AttributeName: pk, KeyType: HASH }}]
"""
        self.assert_fires("E9133", template(table("      TableName: !Sub ${AWS::StackName}-state\n")), template(table("")))

    def test_e9134_connection_invitation_grants_match_arns_without_a_region(self):
        self.assert_fires("E9134", template(ROLE.format(region="${AWS::Region}")), template(ROLE.format(region="*")))
        self.assert_fires("E9134", template(ROLE.format(region="us-east-1")), template(ROLE.format(region="*")))

    def test_e9135_run_metric_alarms_do_not_need_consecutive_periods(self):
        self.assert_fires(
            "E9135",
            template(alarm("      EvaluationPeriods: 3")),
            template(alarm("      EvaluationPeriods: 36\n      DatapointsToAlarm: 3")),
        )
        self.assertEqual(findings(template(alarm("      EvaluationPeriods: 1"))), [], "one period: no run gap to fall in")

    def test_both_templates_pass_every_account_rule(self):
        for path in PROJECT_TEMPLATES:
            with self.subTest(template=path):
                self.assertEqual(project_findings(path, ACCOUNT_IDS), [])


if __name__ == "__main__":
    unittest.main()

"""The guard rules (tests/template/guard/deploy_rules.py): each one fails on a template snippet
with the defect it exists for, passes once the defect is fixed, and template.yaml passes all.

Run: python -m unittest discover -s tests/template (the venv's python, which has cfn-lint)."""

import unittest

from guard_lint import ROOT, findings, project_findings

GUARD_IDS = {"E9101", "E9102", "E9103", "E9104", "E9105", "E9106", "E9107", "E9108", "E9109", "E9110", "E9111", "E9112", "E9121"}

# What every snippet needs so that only the rule under test can fire.
REGION_RULE = """
Rules:
  DeployInUsEast1:
    Assertions:
      - Assert: !Equals [!Ref "AWS::Region", us-east-1]
"""


def guard_findings(template: str):
    return findings(template, GUARD_IDS)


def alarm(expression: str, actions: str = "[]") -> str:
    return f"""
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Metrics:
        - Id: total
          Expression: {expression}
        - Id: a
          ReturnData: false
          MetricStat:
            Metric: {{ Namespace: PartnerCentralInvitations, MetricName: EventsFailed }}
            Period: 300
            Stat: Sum
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions: {actions}
"""


def topic_with_key(key_policy_statements: str, kms_master_key: str = "!Ref Key") -> str:
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
{key_policy_statements}
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: {kms_master_key}
"""


CLOUDWATCH_MAY_USE_THE_KEY = """          - Sid: CloudWatch
            Effect: Allow
            Principal: { Service: cloudwatch.amazonaws.com }
            Action: [kms:Decrypt, kms:GenerateDataKey*]
            Resource: "*"
"""


def rule_with_target(target_extra: str) -> str:
    return f"""
  Queue:
    Type: AWS::SQS::Queue
  Bus:
    Type: AWS::Events::EventBus
    Properties: {{ Name: bus }}
  Rule:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern: {{ source: [x] }}
      Targets:
        - Id: q
          Arn: !GetAtt Queue.Arn
{target_extra}
"""


# A role for the snippets' functions and policies (the rules under test ignore it).
LAMBDA_ROLE = """  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - { Sid: Lambda, Effect: Allow, Principal: { Service: lambda.amazonaws.com }, Action: sts:AssumeRole }
"""


def function(level: str, fmt: str = "JSON", level_values: str = "[DEBUG, INFO, WARN]") -> str:
    return f"""
Parameters:
  LogLevel:
    Type: String
    Default: INFO
    AllowedValues: {level_values}
Resources:
{LAMBDA_ROLE}  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      Role: !GetAtt Role.Arn
      Code: {{ ZipFile: "x" }}
      LoggingConfig:
        LogFormat: {fmt}
        ApplicationLogLevel: {level}
"""


def role_statement(condition: str) -> str:
    return f"""
{LAMBDA_ROLE}      Policies:
        - PolicyName: pc
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: ReadInvitations
                Effect: Allow
                Action: [partnercentral:ListConnectionInvitations]
                Resource: "*"
{condition}
"""


def template(resources: str, rules: str = REGION_RULE, head: str = "") -> str:
    body = head if head else "Resources:"
    if head:
        return 'AWSTemplateFormatVersion: "2010-09-09"\n' + rules + head + resources
    return 'AWSTemplateFormatVersion: "2010-09-09"\n' + rules + body + resources


class GuardRulesTest(unittest.TestCase):
    def assert_fires(self, rule_id: str, snippet: str, fixed: str):
        found = guard_findings(snippet)
        self.assertIn(rule_id, {r for r, _ in found}, f"{rule_id} did not fire on its defect: {found}")
        self.assertEqual(guard_findings(fixed), [], "the fixed snippet must pass every guard rule")

    def test_e9101_no_search_in_alarm_math(self):
        self.assert_fires(
            "E9101",
            template(alarm("""SUM(SEARCH('{PartnerCentralInvitations,Function} MetricName="EventsFailed"', 'Sum', 300))""")),
            template(alarm("FILL(a, 0)")),
        )

    def test_e9102_alarm_topics_use_a_key_cloudwatch_may_use(self):
        aws_managed = template(alarm("FILL(a, 0)", "[!Ref Topic]") + """
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: alias/aws/sns
""")
        self.assert_fires("E9102", aws_managed, template(alarm("FILL(a, 0)", "[!Ref Topic]") + topic_with_key(CLOUDWATCH_MAY_USE_THE_KEY)))
        # A key of our own whose policy forgets CloudWatch; the action behind an Fn::If.
        conditional = "[!If [HasTopic, !Ref Topic, !Ref AWS::NoValue]]"
        head = "Conditions:\n  HasTopic: !Equals [a, a]\nResources:"
        self.assert_fires(
            "E9102",
            template(alarm("FILL(a, 0)", conditional) + topic_with_key(""), head=head),
            template(alarm("FILL(a, 0)", conditional) + topic_with_key(CLOUDWATCH_MAY_USE_THE_KEY), head=head),
        )

    def test_e9103_event_targets_have_a_dead_letter_queue_and_a_retry_policy(self):
        self.assert_fires(
            "E9103",
            template(rule_with_target("          RetryPolicy: { MaximumRetryAttempts: 3 }")),
            template(rule_with_target(
                "          RetryPolicy: { MaximumRetryAttempts: 3 }\n"
                "          DeadLetterConfig: { Arn: !GetAtt Queue.Arn }"
            )),
        )

    def test_e9104_log_levels_keep_personal_data_out(self):
        ok = template("", head=function("!Ref LogLevel"))
        self.assert_fires("E9104", template("", head=function("!Ref LogLevel", level_values="[TRACE, DEBUG, INFO]")), ok)
        self.assert_fires("E9104", template("", head=function("TRACE")), ok)
        self.assert_fires("E9104", template("", head=function("INFO", fmt="Text")), ok)

    def test_e9105_partner_central_statements_name_the_catalog(self):
        self.assert_fires(
            "E9105",
            template(role_statement("")),
            template(role_statement("                Condition: { StringEquals: { partnercentral:Catalog: AWS } }")),
        )

    def test_e9111_acceptance_tasks_need_their_dependent_actions(self):
        catalog = "                Condition: { StringEquals: { partnercentral:Catalog: AWS } }"
        start_only = role_statement(catalog).replace(
            "[partnercentral:ListConnectionInvitations]", "[partnercentral:StartEngagementByAcceptingInvitationTask]"
        )
        with_dependents = role_statement(catalog).replace(
            "[partnercentral:ListConnectionInvitations]",
            "[partnercentral:StartEngagementByAcceptingInvitationTask, partnercentral:AcceptEngagementInvitation,"
            " partnercentral:CreateOpportunity, partnercentral:CreateResourceSnapshot,"
            " partnercentral:CreateResourceSnapshotJob, partnercentral:GetEngagementInvitation,"
            " partnercentral:GetOpportunity, partnercentral:StartResourceSnapshotJob,"
            " partnercentral:SubmitOpportunity, partnercentral:TagResource]",
        )
        self.assert_fires("E9111", template(start_only), template(with_dependents))

    def test_e9106_the_region_is_asserted(self):
        queue = "\n  Queue:\n    Type: AWS::SQS::Queue\n"
        wrong_region = REGION_RULE.replace("us-east-1]", "us-west-2]")
        self.assert_fires("E9106", template(queue, rules=""), template(queue))
        self.assert_fires("E9106", template(queue, rules=wrong_region), template(queue))

    def test_sam_functions_are_checked_as_written(self):
        def sam(schedule_extra: str, condition: str, levels: str) -> str:
            return f"""AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
{REGION_RULE}
Parameters:
  LogLevel:
    Type: String
    Default: INFO
    AllowedValues: {levels}
Resources:
  Dlq:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      CodeUri: .
      LoggingConfig:
        LogFormat: JSON
        ApplicationLogLevel: !Ref LogLevel
      Policies:
        - Version: "2012-10-17"
          Statement:
            - Sid: ReadInvitations
              Effect: Allow
              Action: partnercentral:GetConnectionInvitation
              Resource: "*"
{condition}
      Events:
        Schedule:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 hour)
            RetryPolicy: {{ MaximumRetryAttempts: 2 }}
{schedule_extra}
"""

        dlq = "            DeadLetterConfig: { Arn: !GetAtt Dlq.Arn }"
        catalog = "              Condition: { StringEquals: { partnercentral:Catalog: AWS } }"
        fixed = sam(dlq, catalog, "[DEBUG, INFO]")
        self.assert_fires("E9103", sam("", catalog, "[DEBUG, INFO]"), fixed)
        self.assert_fires("E9105", sam(dlq, "", "[DEBUG, INFO]"), fixed)
        self.assert_fires("E9104", sam(dlq, catalog, "[TRACE, INFO]"), fixed)

    def test_e9107_e9108_sqs_event_sources_fit_their_function(self):
        def relay(visibility: int, timeout: int, reserved: int, maximum: int) -> str:
            return f"""AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
{REGION_RULE}
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties: {{ VisibilityTimeout: {visibility} }}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      CodeUri: .
      Timeout: {timeout}
      ReservedConcurrentExecutions: {reserved}
      LoggingConfig: {{ LogFormat: JSON, ApplicationLogLevel: INFO }}
      Events:
        Native:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            ScalingConfig: {{ MaximumConcurrency: {maximum} }}
"""

        fixed = relay(180, 30, 2, 2)
        self.assert_fires("E9107", relay(20, 30, 2, 2), fixed)
        self.assert_fires("E9108", relay(180, 30, 1, 2), fixed)

    def test_e9109_redrive_dead_letters_are_counted_as_visible_messages(self):
        def dlq_alarm(metric: str) -> str:
            return f"""
  Dlq:
    Type: AWS::SQS::Queue
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {{ deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 5 }}
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/SQS
      MetricName: {metric}
      Dimensions: [{{ Name: QueueName, Value: !GetAtt Dlq.QueueName }}]
      Statistic: Maximum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
"""

        self.assert_fires(
            "E9109", template(dlq_alarm("NumberOfMessagesSent")), template(dlq_alarm("ApproximateNumberOfMessagesVisible"))
        )

    def test_e9110_encrypted_queues_eventbridge_delivers_to_use_a_key_it_may_use(self):
        def encrypted_target(key: str, key_statements: str = "") -> str:
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
{key_statements}
  Queue:
    Type: AWS::SQS::Queue
    Properties: {{ KmsMasterKeyId: {key} }}
  Rule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {{ source: [aws.partnercentral-selling] }}
      Targets:
        - Id: q
          Arn: !GetAtt Queue.Arn
          RetryPolicy: {{ MaximumRetryAttempts: 3 }}
          DeadLetterConfig: {{ Arn: !GetAtt Queue.Arn }}
"""

        events_may_use = CLOUDWATCH_MAY_USE_THE_KEY.replace("cloudwatch.amazonaws.com", "events.amazonaws.com")
        fixed = template(encrypted_target("!Ref Key", events_may_use))
        self.assert_fires("E9110", template(encrypted_target("alias/aws/sqs")), fixed)
        self.assert_fires("E9110", template(encrypted_target("!Ref Key")), fixed)

    def test_e9112_a_rule_on_another_accounts_bus_targets_only_a_bus_through_a_role(self):
        def template(target):
            return REGION_RULE + f"""
Parameters:
  ProducerEventBusArn:
    Type: String
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties: {{ Name: mine }}
  Queue:
    Type: AWS::SQS::Queue
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: Events
            Effect: Allow
            Principal: {{ Service: events.amazonaws.com }}
            Action: sts:AssumeRole
  Rule:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref ProducerEventBusArn
      EventPattern: {{ source: [partnercentral.invitations] }}
      Targets:
        - Id: t
          RetryPolicy: {{ MaximumRetryAttempts: 3 }}
          DeadLetterConfig: {{ Arn: !GetAtt Queue.Arn }}
{target}
"""

        fixed = template("          Arn: !GetAtt Bus.Arn\n          RoleArn: !GetAtt Role.Arn")
        self.assert_fires("E9112", template("          Arn: !GetAtt Queue.Arn"), fixed)
        self.assert_fires("E9112", template("          Arn: !GetAtt Bus.Arn"), fixed)

    def test_the_consumer_template_passes_every_guard_rule_but_the_region_one(self):
        """examples/consumer calls no Partner Central API: it ignores E9106 (its Metadata says why)."""
        path = "examples/consumer/template.yaml"
        self.assertIn("- E9106", (ROOT / path).read_text())
        self.assertEqual(project_findings(path, GUARD_IDS), [])

    def test_the_project_template_passes_every_guard_rule(self):
        self.assertEqual(project_findings("template.yaml", GUARD_IDS), [])

    def test_plain_cfn_lint_loads_the_guard_rules(self):
        self.assertIn("tests/template/guard", (ROOT / ".cfnlintrc").read_text())

    def test_e9121_schema_registry_resources_stay_within_the_api_limits(self):
        draft04 = '{"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"}'

        def schema(content: str, kind: str = "JSONSchemaDraft4", description: str = "An event") -> str:
            return template(f"""
  Registry:
    Type: AWS::EventSchemas::Registry
    Properties: {{ RegistryName: r, Description: {description} }}
  Schema:
    Type: AWS::EventSchemas::Schema
    Properties:
      RegistryName: !GetAtt Registry.RegistryName
      Type: {kind}
      Description: {description}
      Content: '{content}'
""")

        ok = schema(draft04)
        self.assert_fires("E9121", schema('{"type": "object", "description": "' + "x" * 100_000 + '"}'), ok)
        self.assert_fires("E9121", schema("{not json"), ok)
        self.assert_fires("E9121", schema(draft04, kind="JSONSchemaDraft7"), ok)
        self.assert_fires("E9121", schema(draft04.replace("draft-04", "draft-07")), ok)
        self.assert_fires("E9121", schema(draft04, description="d" * 257), ok)


if __name__ == "__main__":
    unittest.main()

"""The notify guard rules (tests/template/guard/notify_rules.py): each fails on a template snippet
with the defect it exists for and passes once the defect is fixed; both templates pass them all.

Run: python -m unittest discover -s tests/template (the venv's python, which has cfn-lint)."""

import unittest

from guard_lint import PROJECT_TEMPLATES, project_findings
from guard_lint import findings as lint_findings

NOTIFY_IDS = {f"E918{i}" for i in range(1, 10)}

HEAD = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Metadata:
  StackNameMaxLength: 47
"""

GOOD_ATTACHMENT = """        - NotificationType: Custom
          ButtonText: Approve
          Criteria:
            - { Operator: EQUALS, VariableName: eventType, Value: approval-requested }
            - { Operator: HAS_VALUE, VariableName: approvalId }
          Variables:
            eventType: event.metadata.eventType
            approvalId: event.metadata.additionalContext.approvalId
            approvalFunction: event.metadata.additionalContext.approvalFunction
"""

GOOD_COMMAND = 'lambda invoke --function-name $approvalFunction --payload {"approval":{"approvalId":"$approvalId","decision":"approve"}}'


def custom_action(name="!Sub ${AWS::StackName}-approve", alias="", attachment=GOOD_ATTACHMENT, command=GOOD_COMMAND):
    alias_line = f"      AliasName: {alias}\n" if alias else ""
    return f"""
Resources:
  Approve:
    Type: AWS::Chatbot::CustomAction
    Properties:
      ActionName: {name}
{alias_line}      Definition:
        CommandText: '{command}'
      Attachments:
{attachment}"""


def channel(trust="chatbot.amazonaws.com", guardrails="[!Ref Guardrail]", actions="lambda:InvokeFunction",
            resource="!Sub arn:aws:lambda:us-east-1:111122223333:function:s-auto-respond",
            name="!Sub ${AWS::StackName}-invitations"):
    return f"""
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{ Service: {trust} }}
            Action: sts:AssumeRole
      ManagedPolicyArns: [!Ref Guardrail]
  Guardrail:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: Decide
            Effect: Allow
            Action: {actions}
            Resource: {resource}
  Channel:
    Type: AWS::Chatbot::SlackChannelConfiguration
    Properties:
      ConfigurationName: {name}
      SlackWorkspaceId: T0123456
      SlackChannelId: C0123456789
      IamRoleArn: !GetAtt Role.Arn
      GuardrailPolicies: {guardrails}
"""


def publisher(kms_statement=True):
    kms = """            - Sid: Key
              Effect: Allow
              Action: [kms:GenerateDataKey, kms:Decrypt]
              Resource: !GetAtt Key.Arn
""" if kms_statement else ""
    return f"""
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{ AWS: !Sub "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:root" }}
            Action: kms:*
            Resource: "*"
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: !Ref Key
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      CodeUri: lambda/
      Policies:
        - Version: "2012-10-17"
          Statement:
            - Sid: Publish
              Effect: Allow
              Action: sns:Publish
              Resource: !Ref Topic
{kms}"""


def findings(template: str):
    return lint_findings(template, NOTIFY_IDS)


class NotifyRulesTest(unittest.TestCase):
    def assert_fires(self, rule_id, defective, fixed):
        found = findings(HEAD + defective)
        self.assertIn(rule_id, {r for r, _ in found}, f"{rule_id} did not fire on its defect: {found}")
        self.assertEqual([f for f in findings(HEAD + fixed) if f[0] == rule_id], [], "and not once fixed")

    def test_e9181_custom_action_names_fit_the_api(self):
        self.assert_fires("E9181", custom_action(name="!Sub ${AWS::StackName}-approve-the-partner-central-invitation"),
                          custom_action())
        self.assert_fires("E9181", custom_action(alias="approve.invitation"), custom_action(alias="approve-invitation"))

    def test_e9182_attachments_fit_the_api(self):
        long_button = GOOD_ATTACHMENT.replace("ButtonText: Approve", "ButtonText: " + "A" * 51)
        self.assert_fires("E9182", custom_action(attachment=long_button), custom_action())
        bad_type = GOOD_ATTACHMENT.replace("NotificationType: Custom", "NotificationType: Custom_Notification")
        self.assert_fires("E9182", custom_action(attachment=bad_type), custom_action())
        no_value = GOOD_ATTACHMENT.replace(", Value: approval-requested", "")
        self.assert_fires("E9182", custom_action(attachment=no_value), custom_action())
        bad_operator = GOOD_ATTACHMENT.replace("Operator: HAS_VALUE", "Operator: EXISTS")
        self.assert_fires("E9182", custom_action(attachment=bad_operator), custom_action())

    def test_e9183_variables_fit_the_api(self):
        spaced = GOOD_ATTACHMENT.replace("eventType: event.metadata.eventType", "eventType: event metadata eventType")
        self.assert_fires("E9183", custom_action(attachment=spaced), custom_action())
        six = GOOD_ATTACHMENT + "".join(f"            extra{i}: event.id\n" for i in range(3))
        self.assert_fires("E9183", custom_action(attachment=six), custom_action())

    def test_e9184_the_command_uses_only_defined_variables(self):
        self.assert_fires("E9184", custom_action(command=GOOD_COMMAND.replace("$approvalId", "$approvalID")),
                          custom_action())
        undefined_criterion = GOOD_ATTACHMENT.replace("VariableName: approvalId", "VariableName: approval")
        self.assert_fires("E9184", custom_action(attachment=undefined_criterion), custom_action())

    def test_e9185_the_channel_role_trusts_chatbot(self):
        self.assert_fires("E9185", channel(trust="lambda.amazonaws.com"), channel())

    def test_e9186_a_channel_has_guardrails(self):
        self.assert_fires("E9186", channel(guardrails="[]"), channel())
        self.assert_fires("E9186", channel(guardrails="[arn:aws:iam::aws:policy/AdministratorAccess]"), channel())

    def test_e9187_a_channel_may_only_invoke_named_functions(self):
        self.assert_fires("E9187", channel(actions="[lambda:InvokeFunction, lambda:UpdateFunctionCode]"), channel())
        self.assert_fires("E9187", channel(resource='"*"'), channel())

    def test_e9188_a_publisher_may_use_the_topic_key(self):
        self.assert_fires("E9188", publisher(kms_statement=False), publisher())

    def test_e9189_channel_configuration_names_fit_the_api(self):
        self.assert_fires("E9189", channel(name="!Sub ${AWS::StackName} invitations"), channel())

    def test_both_templates_pass_every_notify_rule(self):
        for path in PROJECT_TEMPLATES:
            with self.subTest(template=path):
                self.assertEqual(project_findings(path, NOTIFY_IDS), [])


if __name__ == "__main__":
    unittest.main()

"""The guard rules of the request budget shared at run time (tests/template/guard/budget_rules.py):
each fires on a snippet with the defect it exists for, passes once it is fixed, and both templates
pass all of them.

Run: python -m unittest discover -s tests/template (the venv's python, which has cfn-lint)."""

import unittest

from guard_lint import PROJECT_TEMPLATES, project_findings
from guard_lint import findings as lint_findings

BUDGET_IDS = {"E9191", "E9192", "E9193"}


def findings(template: str):
    return lint_findings(template, BUDGET_IDS)


def function(name: str, reserved: str = "", rps: str = "8", actions: str = "[dynamodb:GetItem, dynamodb:PutItem]") -> str:
    return f"""
  {name}:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      CodeUri: .
{reserved}
      Environment:
        Variables:
          STATE_TABLE_NAME: !Ref Table
          MAX_REQUESTS_PER_SECOND: {rps}
      Policies:
        - Version: "2012-10-17"
          Statement:
            - Sid: State
              Effect: Allow
              Action: {actions}
              Resource: !GetAtt Table.Arn
"""


def template(*functions: str) -> str:
    return f"""AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Rules:
  DeployInUsEast1:
    Assertions:
      - Assert: !Equals [!Ref "AWS::Region", us-east-1]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{{ AttributeName: pk, AttributeType: S }}]
      KeySchema: [{{ AttributeName: pk, KeyType: HASH }}]
{"".join(functions)}
"""


class BudgetRules(unittest.TestCase):
    def assert_fires(self, rule: str, broken: str, fixed: str):
        found = findings(broken)
        self.assertIn(rule, [r for r, _ in found], f"{rule} should fire: {found}")
        self.assertEqual(findings(fixed), [], "the fixed snippet passes every budget rule")

    def test_e9191_no_function_reserves_concurrency(self):
        fixed = template(function("A"), function("B"))
        self.assert_fires("E9191", template(function("A", "      ReservedConcurrentExecutions: 1"), function("B")), fixed)

    def test_e9192_every_function_has_the_same_budget(self):
        fixed = template(function("A"), function("B"))
        self.assert_fires("E9192", template(function("A", rps="3"), function("B")), fixed)

    def test_e9193_a_budget_holder_may_get_and_put_the_lease_item(self):
        fixed = template(function("A"))
        self.assert_fires("E9193", template(function("A", actions="[dynamodb:GetItem, dynamodb:Query]")), fixed)

    def test_the_project_templates_pass(self):
        for path in PROJECT_TEMPLATES:
            self.assertEqual(project_findings(path, BUDGET_IDS), [], path)


if __name__ == "__main__":
    unittest.main()

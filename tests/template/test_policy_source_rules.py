"""The policy-source guard rules (tests/template/guard/policy_source_rules.py): each fails on a
template snippet with the defect it exists for and passes once the defect is fixed; both
templates pass them all.

Run: python -m unittest discover -s tests/template (the venv's python, which has cfn-lint)."""

import unittest

from guard_lint import PROJECT_TEMPLATES, project_findings
from guard_lint import findings as lint_findings

IDS = {"E9171", "E9172", "E9173", "E9174"}

HEAD = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Rules:
  DeployInUsEast1:
    Assertions:
      - Assert: !Equals [!Ref "AWS::Region", us-east-1]
Parameters:
  Policy:
    Type: String
    Default: '{"version":1}'
  PolicyParameter:
    Type: String
    Default: ""
Conditions:
  InParameter: !Not [!Equals [!Ref PolicyParameter, ""]]
"""

GOOD_VARIABLES = """          CANCEL_POLICY: !If [InParameter, !Ref AWS::NoValue, !Ref Policy]
          CANCEL_POLICY_PARAMETER: !If [InParameter, !Ref PolicyParameter, !Ref AWS::NoValue]"""

GOOD_READ = """        - !If
          - InParameter
          - Version: "2012-10-17"
            Statement:
              - Sid: ReadThePolicyParameter
                Effect: Allow
                Action: ssm:GetParameter
                Resource: !Sub
                  - arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Name}
                  - Name: !Select [0, !Split [":", !Ref PolicyParameter]]
          - !Ref AWS::NoValue"""


def function(variables=GOOD_VARIABLES, policies=GOOD_READ):
    return HEAD + f"""
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      CodeUri: .
      Environment:
        Variables:
{variables}
      Policies:
{policies}
"""


def findings(template):
    return lint_findings(template, IDS)


class PolicySourceRulesTest(unittest.TestCase):
    def test_the_fixed_snippet_passes(self):
        self.assertEqual(findings(function()), [])

    def test_e9171_a_parameter_read_names_one_parameter(self):
        for resource in ['"*"', "!Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/*"]:
            wide = GOOD_READ.replace(
                """Resource: !Sub
                  - arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Name}
                  - Name: !Select [0, !Split [":", !Ref PolicyParameter]]""",
                f"Resource: {resource}",
            )
            found = findings(function(policies=wide))
            self.assertIn("E9171", [rule for rule, _ in found], (resource, found))
            message = next(m for rule, m in found if rule == "E9171")
            self.assertIn("ReadThePolicyParameter", message)

    def test_e9172_the_parameter_variable_needs_the_read_and_only_when_set(self):
        missing = function(policies="""        - Version: "2012-10-17"
          Statement:
            - Sid: Nothing
              Effect: Allow
              Action: sqs:SendMessage
              Resource: "*\"""")
        self.assertEqual(
            [rule for rule, _ in findings(missing)], ["E9172"], findings(missing)
        )
        self.assertIn("AccessDenied", findings(missing)[0][1])
        always = """        - Version: "2012-10-17"
          Statement:
            - Sid: ReadThePolicyParameter
              Effect: Allow
              Action: ssm:GetParameter
              Resource: !Sub
                - arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Name}
                - Name: !Select [0, !Split [":", !Ref PolicyParameter]]"""
        found = findings(function(policies=always))
        self.assertEqual([rule for rule, _ in found], ["E9172"], found)
        self.assertIn("nothing is granted when the parameter is empty", found[0][1])

    def test_e9173_the_inline_and_the_parameter_variables_are_exclusive(self):
        both = """          CANCEL_POLICY: !Ref Policy
          CANCEL_POLICY_PARAMETER: !If [InParameter, !Ref PolicyParameter, !Ref AWS::NoValue]"""
        found = findings(function(variables=both))
        self.assertEqual([rule for rule, _ in found], ["E9173"], found)
        self.assertIn("CANCEL_POLICY and CANCEL_POLICY_PARAMETER may both be set", found[0][1])

    def test_e9174_the_environment_fits_lambdas_four_kilobytes(self):
        big = function().replace("""    Default: '{"version":1}'""", "    Default: '{\"version\":1,\"pad\":\"%s\"}'" % ("x" * 4100))
        found = findings(big)
        self.assertEqual([rule for rule, _ in found], ["E9174"], found)
        self.assertIn("largest: CANCEL_POLICY", found[0][1])

    def test_the_project_templates_pass(self):
        for path in PROJECT_TEMPLATES:
            self.assertEqual(project_findings(path, IDS), [], path)


if __name__ == "__main__":
    unittest.main()

"""Guard rules of the policy source (issue 27, "Policies larger than Lambda's 4 KB environment
limit"): a policy-driven function reads its policy from exactly one of an environment variable
(`CANCEL_POLICY`) and an SSM parameter (`CANCEL_POLICY_PARAMETER`), may read exactly that
parameter and nothing else, and its environment fits Lambda's 4 KB. Loaded like every module of
this folder (see deploy_rules.py for why these are cfn-lint rules).

Rule ids E9171-E9174; each has a test with a template snippet that has the defect
(tests/template/test_policy_source_rules.py).
"""

import re
import sys
from pathlib import Path

from cfnlint.rules import CloudFormationLintRule, RuleMatch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deploy_rules import as_list, branches, properties, resources  # noqa: E402

# Lambda: "the total size of all environment variables doesn't exceed 4 KB" (names and values).
ENVIRONMENT_LIMIT = 4096
# What an environment value the template computes at deploy time (a Ref to a resource, a Sub, a
# GetAtt) is counted as: names of buses, tables and ARNs stay well under this.
COMPUTED_VALUE = 128
PARAMETER_SUFFIX = "_POLICY_PARAMETER"
READ_ACTIONS = {"ssm:getparameter", "ssm:getparameters", "ssm:*", "ssm:get*", "*"}


def if_condition(value):
    """(condition, when true, when false) of an Fn::If, else None."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Fn::If"), list):
        args = value["Fn::If"]
        if len(args) == 3 and isinstance(args[0], str):
            return args[0], args[1], args[2]
    return None


def no_value(value):
    return isinstance(value, dict) and value.get("Ref") == "AWS::NoValue"


def function_policies(function):
    """(condition or None, index, policy document) of a SAM function's inline policies,
    through an Fn::If on a policy (its true branch, under that condition)."""
    for i, policy in enumerate(as_list(properties(function).get("Policies") or [])):
        cond = if_condition(policy)
        if cond:
            name, yes, no = cond
            for branch, under in ((yes, name), (no, f"!{name}")):
                if isinstance(branch, dict) and "Statement" in branch:
                    yield under, i, branch
        elif isinstance(policy, dict) and "Statement" in policy:
            yield None, i, policy


def statements_of(document):
    for j, statement in enumerate(as_list(document.get("Statement") or [])):
        if isinstance(statement, dict):
            yield j, statement


def grants_read(statement):
    actions = [a.lower() for a in as_list(statement.get("Action") or []) if isinstance(a, str)]
    return statement.get("Effect") == "Allow" and any(a in READ_ACTIONS for a in actions)


def resource_texts(statement):
    """The literal text of each resource (Fn::Sub's template, ${…} placeholders removed)."""
    for resource in as_list(statement.get("Resource") or []):
        for value in branches(resource):
            if isinstance(value, str):
                yield value
            elif isinstance(value, dict) and "Fn::Sub" in value:
                sub = value["Fn::Sub"]
                text = sub[0] if isinstance(sub, list) and sub else sub
                if isinstance(text, str):
                    yield re.sub(r"\$\{[^}]*\}", "", text)
            else:
                yield None


def environment(function):
    variables = (properties(function).get("Environment") or {}).get("Variables")
    return variables if isinstance(variables, dict) else {}


def parameter_variable(value):
    """(condition or None, parameter name) of `Ref P` or `Fn::If [c, Ref P, NoValue]`."""
    cond = if_condition(value)
    if cond and no_value(cond[2]) and isinstance(cond[1], dict) and isinstance(cond[1].get("Ref"), str):
        return cond[0], cond[1]["Ref"]
    if isinstance(value, dict) and isinstance(value.get("Ref"), str) and value["Ref"] != "AWS::NoValue":
        return None, value["Ref"]
    return None


class ParameterReadsAreScopedToOneParameter(CloudFormationLintRule):
    id = "E9171"
    shortdesc = "ssm:GetParameter names one parameter"
    description = (
        "A statement allowing ssm:GetParameter(s) names its parameter's ARN, with no wildcard: a "
        "function that reads its policy from a parameter may read that parameter and nothing else"
    )
    source_url = "https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html"
    tags = ["guard", "iam", "policy-source"]

    def match(self, cfn):
        matches = []
        for name, function in resources(cfn, "AWS::Serverless::Function"):
            for _, i, document in function_policies(function):
                for j, statement in statements_of(document):
                    if not grants_read(statement):
                        continue
                    texts = list(resource_texts(statement))
                    if not texts or any(t is None or "*" in t or ":parameter" not in t for t in texts):
                        matches.append(RuleMatch(
                            ["Resources", name, "Properties", "Policies", i, "Statement", j],
                            f"{name} {statement.get('Sid', 'a statement')}: ssm:GetParameter on {statement.get('Resource')}: "
                            "name exactly one parameter ARN (arn:...:ssm:<region>:<account>:parameter/<name>), no wildcard",
                        ))
        return matches


class PolicyParameterIsReadableOnlyWhenSet(CloudFormationLintRule):
    id = "E9172"
    shortdesc = "A *_POLICY_PARAMETER variable comes with the right to read that parameter, only when it is set"
    description = (
        "A function whose environment names a policy parameter must be allowed ssm:GetParameter on "
        "that parameter (else it fails at start-up with AccessDenied), under the same condition as "
        "the variable, so nothing is granted when the parameter is empty"
    )
    source_url = "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html"
    tags = ["guard", "iam", "policy-source"]

    def match(self, cfn):
        matches = []
        for name, function in resources(cfn, "AWS::Serverless::Function"):
            for variable, value in environment(function).items():
                if not variable.endswith(PARAMETER_SUFFIX):
                    continue
                found = parameter_variable(value)
                path = ["Resources", name, "Properties", "Environment", "Variables", variable]
                if not found:
                    matches.append(RuleMatch(path, f"{name} {variable}: give !Ref <parameter> or "
                                                   "!If [<condition>, !Ref <parameter>, !Ref AWS::NoValue]"))
                    continue
                condition, parameter = found
                reads = [
                    under
                    for under, _, document in function_policies(function)
                    for _, statement in statements_of(document)
                    if grants_read(statement) and {"Ref": parameter} in _refs(statement.get("Resource"))
                ]
                if not reads:
                    matches.append(RuleMatch(path, f"{name} {variable}: no ssm:GetParameter statement on the ARN of "
                                                   f"{parameter}: the function fails at start-up with AccessDenied"))
                elif condition and any(under != condition for under in reads):
                    matches.append(RuleMatch(path, f"{name} {variable}: the ssm:GetParameter statement on {parameter} "
                                                   f"must be under !If [{condition}, ..., !Ref AWS::NoValue] like the "
                                                   "variable, so nothing is granted when the parameter is empty"))
        return matches


def _refs(value):
    """Every {"Ref": …} inside a value."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("Ref"), str) and len(node) == 1:
                found.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(value)
    return found


class PolicyComesFromExactlyOneVariable(CloudFormationLintRule):
    id = "E9173"
    shortdesc = "A policy comes from exactly one of its variable and its parameter variable"
    description = (
        "The functions refuse to start when both X_POLICY and X_POLICY_PARAMETER are set: the "
        "template sets them under opposite branches of one condition"
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html"
    tags = ["guard", "lambda", "policy-source"]

    def match(self, cfn):
        matches = []
        for name, function in resources(cfn, "AWS::Serverless::Function"):
            variables = environment(function)
            for variable, value in variables.items():
                if not variable.endswith(PARAMETER_SUFFIX):
                    continue
                inline = variable.removesuffix("_PARAMETER")
                if inline not in variables:
                    continue
                param = if_condition(value)
                other = if_condition(variables[inline])
                exclusive = (
                    param and other and param[0] == other[0]
                    and no_value(param[2]) and not no_value(param[1])
                    and no_value(other[1]) and not no_value(other[2])
                )
                if not exclusive:
                    matches.append(RuleMatch(
                        ["Resources", name, "Properties", "Environment", "Variables", variable],
                        f"{name}: {inline} and {variable} may both be set, and the function then refuses to start: "
                        f"{variable}: !If [C, !Ref <parameter>, !Ref AWS::NoValue], {inline}: !If [C, !Ref AWS::NoValue, ...]",
                    ))
        return matches


def value_size(cfn, value):
    """Largest size the value can have at deploy, over its Fn::If branches: literals as
    written, a Ref to a template parameter at its Default, anything computed COMPUTED_VALUE."""
    sizes = []
    for v in branches(value):
        if isinstance(v, (str, int, float, bool)):
            sizes.append(len(str(v)))
        elif isinstance(v, dict) and isinstance(v.get("Ref"), str) and v["Ref"] in (cfn.template.get("Parameters") or {}):
            p = cfn.template["Parameters"][v["Ref"]]
            default = p.get("Default", "")
            default = ",".join(map(str, default)) if isinstance(default, list) else str(default)
            sizes.append(len(default))
        elif isinstance(v, dict) and "Fn::FindInMap" in v:
            sizes.append(16)
        else:
            sizes.append(COMPUTED_VALUE)
    return max(sizes, default=0)


class EnvironmentFitsLambdasLimit(CloudFormationLintRule):
    id = "E9174"
    shortdesc = "A function's environment fits Lambda's 4 KB"
    description = (
        "Lambda refuses a function whose environment variables (names and values) exceed 4 KB in "
        "total; with every parameter at its default, every function's must fit (a larger policy "
        "goes in an SSM parameter)"
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html"
    tags = ["guard", "lambda", "policy-source"]

    def match(self, cfn):
        matches = []
        for name, function in resources(cfn, "AWS::Serverless::Function"):
            variables = environment(function)
            total = sum(len(k) + value_size(cfn, v) for k, v in variables.items())
            if total > ENVIRONMENT_LIMIT:
                largest = max(variables, key=lambda k: value_size(cfn, variables[k]))
                matches.append(RuleMatch(
                    ["Resources", name, "Properties", "Environment", "Variables"],
                    f"{name}: environment of about {total} bytes at the parameters' defaults, over Lambda's "
                    f"{ENVIRONMENT_LIMIT} (largest: {largest}); keep a large policy in an SSM parameter",
                ))
        return matches


"""Guard rules for the account's request budget shared at run time (issue 30): what AWS refuses
at deploy or run time, or what breaks the budget, that no linter sees. Same style and helpers
as deploy_rules.py (cfn-lint loads every module of this folder); rule ids E9191-E9193, each with
a snippet that fails it in tests/template/test_budget_rules.py.

The functions share `MaxRequestsPerSecond` through a lease item in the state table
(shared/src/budget.rs): no reserved concurrency is needed to keep it, and a reservation is what
makes CreateStack fail in accounts with a low Lambda concurrency quota.
"""

import importlib.util
import pathlib

from cfnlint.rules import CloudFormationLintRule, RuleMatch


def _helpers():
    """deploy_rules.py's helpers (cfn-lint loads this folder's files by path, not as a package)."""
    path = pathlib.Path(__file__).resolve().with_name("deploy_rules.py")
    spec = importlib.util.spec_from_file_location("_guard_deploy_rules_helpers_budget", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_h = _helpers()
as_list, branches, iam_statements, properties, resources = (
    _h.as_list, _h.branches, _h.iam_statements, _h.properties, _h.resources
)

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
BUDGET_VARIABLE = "MAX_REQUESTS_PER_SECOND"
LEASE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem")


def functions(cfn):
    for type_ in FUNCTION_TYPES:
        yield from resources(cfn, type_)


def variables(function):
    env = properties(function).get("Environment")
    env = env if isinstance(env, dict) else {}
    found = env.get("Variables")
    return found if isinstance(found, dict) else {}


class NoReservedConcurrency(CloudFormationLintRule):
    id = "E9191"
    shortdesc = "Functions reserve no concurrency"
    description = (
        "Lambda refuses a reservation that leaves less than 100 unreserved executions, and new "
        "accounts start with a reduced concurrency quota: CreateStack fails there. The request "
        "budget and one-run-at-a-time are kept through the state table's leases instead"
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html"
    tags = ["guard", "lambda", "budget"]

    def match(self, cfn):
        matches = []
        for name, function in functions(cfn):
            if "ReservedConcurrentExecutions" in properties(function):
                matches.append(RuleMatch(["Resources", name, "Properties", "ReservedConcurrentExecutions"],
                                         f"{name}: ReservedConcurrentExecutions is set; the request budget and the "
                                         f"run lease live in the state table (remove it)"))
        return matches


class OneBudgetForEveryFunction(CloudFormationLintRule):
    id = "E9192"
    shortdesc = "Every function sharing the request budget has the same budget"
    description = (
        "Each process divides MAX_REQUESTS_PER_SECOND among the lease holders it sees: two "
        "functions with different values together exceed the smaller one. Set it once (the "
        "MaxRequestsPerSecond parameter), in Globals or identically on every function"
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html"
    tags = ["guard", "lambda", "budget"]

    def match(self, cfn):
        matches = []
        seen = {}
        for name, function in functions(cfn):
            value = variables(function).get(BUDGET_VARIABLE)
            if value is not None:
                seen[name] = value
        distinct = {repr(v) for v in seen.values()}
        if len(distinct) > 1:
            for name, value in seen.items():
                matches.append(RuleMatch(["Resources", name, "Properties", "Environment", "Variables", BUDGET_VARIABLE],
                                         f"{name}: {BUDGET_VARIABLE} is {value!r}; the functions sharing the budget "
                                         f"have {len(distinct)} different values"))
        return matches


class BudgetHoldersMayWriteTheLease(CloudFormationLintRule):
    id = "E9193"
    shortdesc = "A function sharing the request budget may read and write the state table's lease item"
    description = (
        "A function with MAX_REQUESTS_PER_SECOND takes its share with dynamodb:GetItem and a "
        "conditional dynamodb:PutItem on the table named by STATE_TABLE_NAME; without both, "
        "every Partner Central call fails with AccessDenied at run time"
    )
    source_url = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/api-permissions-reference.html"
    tags = ["guard", "lambda", "iam", "budget"]

    def match(self, cfn):
        matches = []
        statements = {}
        for path, statement in iam_statements(cfn):
            statements.setdefault(path[1], []).append(statement)
        for name, function in functions(cfn):
            env = variables(function)
            if BUDGET_VARIABLE not in env:
                continue
            table = env.get("STATE_TABLE_NAME")
            table_id = table.get("Ref") if isinstance(table, dict) else None
            allowed = set()
            for statement in statements.get(name, []):
                if statement.get("Effect") != "Allow":
                    continue
                targets = [r for r in as_list(statement.get("Resource")) for r in branches(r)]
                on_table = table_id is None or any(
                    isinstance(r, dict) and (r.get("Fn::GetAtt") in ([table_id, "Arn"], f"{table_id}.Arn"))
                    or r == "*"
                    for r in targets
                )
                if on_table:
                    allowed.update(a for a in as_list(statement.get("Action")) if isinstance(a, str))
            missing = [a for a in LEASE_ACTIONS if a not in allowed and "dynamodb:*" not in allowed]
            if missing:
                matches.append(RuleMatch(["Resources", name, "Properties", "Policies"],
                                         f"{name}: takes part in the request budget ({BUDGET_VARIABLE}) but may not "
                                         f"{', '.join(missing)} on its state table {table_id or '?'}"))
        return matches

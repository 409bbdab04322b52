"""Guard rules for deploying into any partner account (issue 25): what AWS refuses at deploy or
run time in a real account but no linter sees. Same style and helpers as deploy_rules.py
(cfn-lint loads every module of this folder); rule ids E9131-E9135, each with a snippet that
fails it in tests/template/test_account_rules.py.
"""

import importlib.util
import pathlib
import re

from cfnlint.rules import CloudFormationLintRule, RuleMatch


def _helpers():
    """deploy_rules.py's helpers (cfn-lint loads this folder's files by path, not as a package)."""
    path = pathlib.Path(__file__).resolve().with_name("deploy_rules.py")
    spec = importlib.util.spec_from_file_location("_guard_deploy_rules_helpers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_h = _helpers()
as_int, as_list, branches, iam_statements = _h.as_int, _h.as_list, _h.branches, _h.iam_statements
items, properties, referenced_resource, resources = _h.items, _h.properties, _h.referenced_resource, _h.resources
delivery_targets = _h.delivery_targets

# ---------------------------------------------------------------------------------------
# Helpers

SOURCE_CONDITION_KEYS = {"aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths"}


def condition_keys(statement):
    """The condition keys of a policy statement, lower-case."""
    condition = statement.get("Condition")
    keys = set()
    if isinstance(condition, dict):
        for operator_block in condition.values():
            if isinstance(operator_block, dict):
                keys.update(k.lower() for k in operator_block if isinstance(k, str))
    return keys


def stack_name_subs(cfn):
    """(path, resource type for the limit, property, text) of every name property built as
    `${AWS::StackName}<suffix>` with nothing else variable."""
    named = {
        "AWS::Lambda::Function": ["FunctionName"],
        "AWS::Serverless::Function": ["FunctionName"],
        "AWS::Events::Rule": ["Name"],
        "AWS::Events::EventBus": ["Name"],
        "AWS::Scheduler::Schedule": ["Name"],
        "AWS::SQS::Queue": ["QueueName"],
        "AWS::Logs::LogGroup": ["LogGroupName"],
        "AWS::CloudWatch::Dashboard": ["DashboardName"],
        "AWS::DynamoDB::Table": ["TableName"],
    }
    for name, resource in resources(cfn):
        kind = resource.get("Type")
        props = properties(resource)
        for prop in named.get(kind, []):
            limit_type = "AWS::Lambda::Function" if kind == "AWS::Serverless::Function" else kind
            yield ["Resources", name, "Properties", prop], limit_type, prop, props.get(prop)
        if kind == "AWS::Serverless::Function":
            for event_name, event in (props.get("Events") or {}).items():
                if isinstance(event, dict) and event.get("Type") == "ScheduleV2":
                    event_props = event.get("Properties") if isinstance(event.get("Properties"), dict) else {}
                    path = ["Resources", name, "Properties", "Events", event_name, "Properties", "Name"]
                    yield path, "AWS::Scheduler::Schedule", "Name", event_props.get("Name")


# Limits the resource schemas cfn-lint ships do not carry (documented by each service).
EXTRA_LIMITS = {("AWS::SQS::Queue", "QueueName"): 80, ("AWS::CloudWatch::Dashboard", "DashboardName"): 255,
                ("AWS::DynamoDB::Table", "TableName"): 255}


def name_limit(kind, prop):
    try:
        from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", kind).schema
        limit = schema.get("properties", {}).get(prop, {}).get("maxLength")
    except Exception:  # noqa: BLE001 - a type cfn-lint does not know: the extra limits
        limit = None
    return limit or EXTRA_LIMITS.get((kind, prop))


def stack_name_bounds(cfn):
    """(path, text, limit, longest stack name it allows) of every `${AWS::StackName}…` name."""
    for path, kind, prop, value in stack_name_subs(cfn):
        text = value.get("Fn::Sub") if isinstance(value, dict) else None
        if not isinstance(text, str) or "${AWS::StackName}" not in text:
            continue
        rest = text.replace("${AWS::StackName}", "")
        if "${" in rest:
            continue
        limit = name_limit(kind, prop)
        if limit:
            yield path, text, limit, limit - len(rest)


# ---------------------------------------------------------------------------------------
# Rules


class EventBridgeDeliveryKeysWithoutSourceConditions(CloudFormationLintRule):
    id = "E9131"
    shortdesc = "Keys of topics and queues EventBridge delivers to take AWS's documented statement, without source conditions"
    description = (
        "A KMS key policy statement for events.amazonaws.com on the key of an SNS topic or SQS queue an "
        "EventBridge rule delivers to must not carry aws:SourceAccount/aws:SourceArn: the SNS Developer "
        "Guide says they are not supported for EventBridge to an encrypted topic (nothing is delivered), "
        "and the SQS Developer Guide's statement for AWS services has none; pin the rule in the topic or "
        "queue policy instead"
    )
    source_url = "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services"
    tags = ["guard", "events", "kms", "sns", "sqs"]

    def match(self, cfn):
        matches = []
        all_resources = dict(resources(cfn))
        seen = set()
        for rule, _, target in delivery_targets(cfn):
            key_name = referenced_resource(properties(all_resources[target]).get("KmsMasterKeyId"))
            key = all_resources.get(key_name)
            if not key or key.get("Type") != "AWS::KMS::Key" or key_name in seen:
                continue
            seen.add(key_name)
            policy = properties(key).get("KeyPolicy")
            statements = as_list(policy.get("Statement") or []) if isinstance(policy, dict) else []
            for j, statement in enumerate(statements):
                if not isinstance(statement, dict):
                    continue
                principal = statement.get("Principal")
                services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
                if "events.amazonaws.com" not in services:
                    continue
                found = sorted(condition_keys(statement) & SOURCE_CONDITION_KEYS)
                if found:
                    path = ["Resources", key_name, "Properties", "KeyPolicy", "Statement", j, "Condition"]
                    matches.append(RuleMatch(path, f"{key_name} (encrypts {target}, which {rule} delivers to): the "
                                                   f"statement for events.amazonaws.com has {', '.join(found)}; "
                                                   "EventBridge cannot deliver with it — drop the condition, the "
                                                   "topic or queue policy pins the rule"))
        return matches


class StackNameMaxLengthFitsEveryName(CloudFormationLintRule):
    id = "E9132"
    shortdesc = "The declared StackNameMaxLength must fit every name built from the stack name"
    description = (
        "Resource names built as ${AWS::StackName}-<suffix> fail CreateStack when the stack name is too "
        "long (function and schedule names: 64 characters). The template declares the longest stack "
        "name it supports (Metadata StackNameMaxLength, which `make preflight` enforces); every such "
        "name must fit with a stack name that long"
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html#lambda-CreateFunction-request-FunctionName"
    tags = ["guard", "names"]

    def match(self, cfn):
        matches = []
        bounds = list(stack_name_bounds(cfn))
        if not bounds:
            return matches
        metadata = cfn.template.get("Metadata") if isinstance(cfn.template.get("Metadata"), dict) else {}
        declared = as_int(metadata.get("StackNameMaxLength"))
        tightest = min(bounds, key=lambda b: b[3])
        if declared is None:
            path, text, limit, bound = tightest
            matches.append(RuleMatch(["Metadata"], f"names are built from the stack name ({text}, at most {limit} "
                                                   f"characters) but Metadata StackNameMaxLength is not declared; "
                                                   f"declare at most {bound}"))
            return matches
        for path, text, limit, bound in bounds:
            if declared > bound:
                matches.append(RuleMatch(path, f"{text} is at most {limit} characters: with a stack name of "
                                               f"StackNameMaxLength={declared} it would be "
                                               f"{declared + len(text) - len('${AWS::StackName}')}; lower "
                                               f"StackNameMaxLength to {bound} or shorten the suffix"))
        return matches


class RetainedResourcesHaveNoFixedName(CloudFormationLintRule):
    id = "E9133"
    shortdesc = "A resource kept after the stack is deleted must not have a fixed name"
    description = (
        "With DeletionPolicy Retain the resource outlives its stack; a fixed physical name (TableName, "
        "QueueName, ...) is then taken, and a redeploy under the same stack name fails with 'already "
        "exists'. Let CloudFormation name it"
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html"
    tags = ["guard", "names"]

    NAME_PROPERTIES = {
        "AWS::DynamoDB::Table": "TableName",
        "AWS::SQS::Queue": "QueueName",
        "AWS::S3::Bucket": "BucketName",
        "AWS::Logs::LogGroup": "LogGroupName",
        "AWS::SNS::Topic": "TopicName",
        "AWS::Events::EventBus": "Name",
        "AWS::KMS::Alias": "AliasName",
    }

    def match(self, cfn):
        matches = []
        for name, resource in resources(cfn):
            prop = self.NAME_PROPERTIES.get(resource.get("Type"))
            if not prop or resource.get("DeletionPolicy") not in ("Retain", "RetainExceptOnCreate"):
                continue
            if properties(resource).get(prop) is not None:
                matches.append(RuleMatch(["Resources", name, "Properties", prop],
                                         f"{name} is retained when its stack is deleted and has a fixed {prop}: a "
                                         "redeploy under the same stack name fails (the name is taken)"))
        return matches


class ConnectionInvitationArnsOfAnyRegion(CloudFormationLintRule):
    id = "E9134"
    shortdesc = "Grants on connection invitations must match ARNs without a region"
    description = (
        "The Partner Central Account API's ConnectionInvitationArn pattern allows an empty region "
        "(arn:…:partnercentral:[a-z0-9-]*::catalog/…): a resource ARN that pins ${AWS::Region} does "
        "not match such an invitation, and the call is denied. Use * for the region"
    )
    source_url = "https://docs.aws.amazon.com/partner-central/latest/APIReference/API_GetConnectionInvitation.html"
    tags = ["guard", "iam", "partnercentral"]

    ARN = re.compile(r"partnercentral:(.*?)::catalog/[^/]*/connection-invitation/")

    def match(self, cfn):
        matches = []
        for path, statement in iam_statements(cfn):
            if statement.get("Effect") != "Allow":
                continue
            for resource in items(statement.get("Resource")) if isinstance(statement.get("Resource"), list) else branches(statement.get("Resource")):
                text = resource.get("Fn::Sub") if isinstance(resource, dict) else resource
                if isinstance(text, list):
                    text = text[0]
                if not isinstance(text, str):
                    continue
                found = self.ARN.search(text)
                if found and found.group(1) != "*":
                    matches.append(RuleMatch(path + ["Resource"], f"{text}: the region is {found.group(1)!r}; the "
                                                                  "Account API's connection-invitation ARNs may have "
                                                                  "none — use * so every ARN it returns matches"))
        return matches


class RunMetricAlarmsNeedNoConsecutivePeriods(CloudFormationLintRule):
    id = "E9135"
    shortdesc = "Alarms on the functions' run metrics must not need consecutive periods"
    description = (
        "The functions publish their metrics (namespace PartnerCentralInvitations) only when a run "
        "happens. An alarm that needs N > 1 breaching periods in a row (DatapointsToAlarm absent or "
        "equal to EvaluationPeriods) with missing data not breaching only fires while a run lands in "
        "every period: it depends on the schedule. Use M of N (DatapointsToAlarm < EvaluationPeriods)"
    )
    source_url = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html"
    tags = ["guard", "cloudwatch"]

    NAMESPACE = "PartnerCentralInvitations"

    def match(self, cfn):
        matches = []
        for name, alarm in resources(cfn, "AWS::CloudWatch::Alarm"):
            props = properties(alarm)
            namespaces = {props.get("Namespace")}
            for metric in props.get("Metrics") or []:
                stat = metric.get("MetricStat") if isinstance(metric, dict) else None
                if isinstance(stat, dict) and isinstance(stat.get("Metric"), dict):
                    namespaces.add(stat["Metric"].get("Namespace"))
            if self.NAMESPACE not in namespaces:
                continue
            periods = as_int(props.get("EvaluationPeriods")) or 1
            datapoints = as_int(props.get("DatapointsToAlarm")) or periods
            if periods > 1 and datapoints >= periods and props.get("TreatMissingData", "missing") != "breaching":
                matches.append(RuleMatch(["Resources", name, "Properties", "EvaluationPeriods"],
                                         f"{name} needs {periods} breaching periods in a row of metrics runs publish "
                                         "only when they happen: set DatapointsToAlarm below EvaluationPeriods"))
        return matches

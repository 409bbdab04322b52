"""Guard rules: what AWS enforces at deploy or run time but no linter we run checks.

cfn-lint custom rules (Python), loaded by every `cfn-lint` run in this repository through
`.cfnlintrc` (`append_rules`). cfn-lint validates SAM resources as written, with the SAM
Globals merged into each function (it does not run the SAM transform), so the rules read
`AWS::Serverless::Function` (its Policies, LoggingConfig and Events) as well as the plain
CloudFormation types.

Why cfn-lint rules and not cfn-guard: the checks are cross-resource (an alarm's actions ->
the topic -> its KMS key -> the key policy; a function's log level -> the parameter's allowed
values), through `Fn::If` branches and `Ref`/`GetAtt`; that is a few lines of Python over the
resolved template, runs inside the cfn-lint call `make test` already makes, and needs no
extra toolchain on a fresh machine (cfn-guard would be one more Rust build in CI).

Rule ids E9101-E9106; each has a test with a template snippet that has the defect
(tests/template/test_guard_rules.py).
"""

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# ---------------------------------------------------------------------------------------
# Helpers over the template dict


def resources(cfn, resource_type=None):
    for name, resource in (cfn.template.get("Resources") or {}).items():
        if isinstance(resource, dict) and (resource_type is None or resource.get("Type") == resource_type):
            yield name, resource


def properties(resource):
    props = resource.get("Properties")
    return props if isinstance(props, dict) else {}


def branches(value):
    """The values a property can take: both branches of every Fn::If, AWS::NoValue dropped."""
    if isinstance(value, dict) and len(value) == 1 and "Fn::If" in value:
        args = value["Fn::If"]
        if isinstance(args, list) and len(args) == 3:
            for branch in args[1:]:
                yield from branches(branch)
        return
    if isinstance(value, dict) and value.get("Ref") == "AWS::NoValue":
        return
    yield value


def items(value):
    """The elements of a list property, through Fn::If on the list and on each element."""
    for listed in branches(value):
        if isinstance(listed, list):
            for element in listed:
                yield from branches(element)


def referenced_resource(value):
    """The logical id a Ref / Fn::GetAtt points to, if any."""
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            return value["Ref"]
        get_att = value.get("Fn::GetAtt")
        if isinstance(get_att, list) and get_att:
            return get_att[0]
        if isinstance(get_att, str):
            return get_att.split(".")[0]
    return None


def as_list(value):
    return value if isinstance(value, list) else [value]


def iam_statements(cfn):
    """(path, statement) of every IAM policy statement of roles, policies and managed policies."""
    for name, resource in resources(cfn):
        props = properties(resource)
        kind = resource.get("Type")
        documents = []
        if kind == "AWS::IAM::Role":
            for i, policy in enumerate(props.get("Policies") or []):
                if isinstance(policy, dict):
                    documents.append((["Resources", name, "Properties", "Policies", i, "PolicyDocument"], policy.get("PolicyDocument")))
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
            documents.append((["Resources", name, "Properties", "PolicyDocument"], props.get("PolicyDocument")))
        elif kind == "AWS::Serverless::Function":
            # Inline policy documents among the function's Policies (names and SAM policy
            # templates are not statements).
            for i, policy in enumerate(as_list(props.get("Policies") or [])):
                if isinstance(policy, dict) and "Statement" in policy:
                    documents.append((["Resources", name, "Properties", "Policies", i], policy))
        for path, document in documents:
            if not isinstance(document, dict):
                continue
            for j, statement in enumerate(as_list(document.get("Statement") or [])):
                if isinstance(statement, dict):
                    yield path + ["Statement", j], statement


# ---------------------------------------------------------------------------------------
# Rules


class AlarmMathWithoutSearch(CloudFormationLintRule):
    id = "E9101"
    shortdesc = "Alarm metric math must not use SEARCH"
    description = "CloudWatch alarms reject metric math expressions containing SEARCH(); CreateStack fails"
    source_url = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create-alarm-on-metric-math-expression.html"
    tags = ["guard", "cloudwatch"]

    def match(self, cfn):
        matches = []
        for name, alarm in resources(cfn, "AWS::CloudWatch::Alarm"):
            for i, metric in enumerate(properties(alarm).get("Metrics") or []):
                expression = metric.get("Expression") if isinstance(metric, dict) else None
                if isinstance(expression, str) and "SEARCH(" in expression.upper().replace(" ", ""):
                    path = ["Resources", name, "Properties", "Metrics", i, "Expression"]
                    matches.append(RuleMatch(path, f"{name}: alarms cannot use SEARCH() in metric math: {expression}"))
        return matches


class AlarmTopicsCloudWatchCanUse(CloudFormationLintRule):
    id = "E9102"
    shortdesc = "Alarm topics must be usable by CloudWatch"
    description = (
        "An SNS topic used as an alarm action must be unencrypted or encrypted with a customer "
        "managed key whose policy lets cloudwatch.amazonaws.com use kms:Decrypt and "
        "kms:GenerateDataKey*; with the AWS managed aws/sns key no alarm is ever delivered"
    )
    source_url = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html"
    tags = ["guard", "cloudwatch", "sns", "kms"]

    NEEDED = ("kms:Decrypt", "kms:GenerateDataKey*")

    def key_grants_cloudwatch(self, key):
        policy = properties(key).get("KeyPolicy")
        if not isinstance(policy, dict):
            return False
        granted = set()
        for statement in as_list(policy.get("Statement") or []):
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            principal = statement.get("Principal")
            services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
            if "cloudwatch.amazonaws.com" not in services:
                continue
            for action in as_list(statement.get("Action") or []):
                if action in ("kms:*", "*"):
                    granted.update(self.NEEDED)
                elif action in self.NEEDED:
                    granted.add(action)
        return all(n in granted for n in self.NEEDED)

    def match(self, cfn):
        matches = []
        all_resources = dict(resources(cfn))
        for name, alarm in resources(cfn, "AWS::CloudWatch::Alarm"):
            props = properties(alarm)
            for prop in ("AlarmActions", "OKActions", "InsufficientDataActions"):
                for action in items(props.get(prop)):
                    topic_name = referenced_resource(action)
                    topic = all_resources.get(topic_name)
                    if not topic or topic.get("Type") != "AWS::SNS::Topic":
                        continue
                    key_ref = properties(topic).get("KmsMasterKeyId")
                    if key_ref is None:
                        continue
                    path = ["Resources", topic_name, "Properties", "KmsMasterKeyId"]
                    key_name = referenced_resource(key_ref)
                    key = all_resources.get(key_name)
                    if key is None or key.get("Type") != "AWS::KMS::Key":
                        matches.append(RuleMatch(path, f"{topic_name} (an action of {name}) is encrypted with a key "
                                                       f"this template does not define ({key_ref}); CloudWatch cannot "
                                                       "publish with the AWS managed aws/sns key"))
                    elif not self.key_grants_cloudwatch(key):
                        matches.append(RuleMatch(path, f"{topic_name} (an action of {name}): the policy of key {key_name} "
                                                       "does not let cloudwatch.amazonaws.com use kms:Decrypt and "
                                                       "kms:GenerateDataKey*"))
        return matches


class EventTargetsHaveDeadLetterAndRetry(CloudFormationLintRule):
    id = "E9103"
    shortdesc = "EventBridge targets need a dead-letter queue and a retry policy"
    description = (
        "Without DeadLetterConfig and RetryPolicy, events a target keeps refusing are dropped "
        "silently once EventBridge (rules) or Scheduler (schedules) gives up"
    )
    source_url = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html"
    tags = ["guard", "events", "scheduler"]

    # SAM event sources that become an EventBridge rule target or a Scheduler schedule.
    SAM_EVENTBRIDGE_EVENTS = ("Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent")

    def match(self, cfn):
        matches = []
        for name, rule in resources(cfn, "AWS::Events::Rule"):
            for i, target in enumerate(items(properties(rule).get("Targets"))):
                if not isinstance(target, dict):
                    continue
                for needed in ("DeadLetterConfig", "RetryPolicy"):
                    if needed not in target:
                        path = ["Resources", name, "Properties", "Targets", i]
                        matches.append(RuleMatch(path, f"{name}: target {target.get('Id', i)} has no {needed}"))
        for name, function in resources(cfn, "AWS::Serverless::Function"):
            for event_name, event in (properties(function).get("Events") or {}).items():
                if not isinstance(event, dict) or event.get("Type") not in self.SAM_EVENTBRIDGE_EVENTS:
                    continue
                event_props = event.get("Properties") if isinstance(event.get("Properties"), dict) else {}
                for needed in ("DeadLetterConfig", "RetryPolicy"):
                    if needed not in event_props:
                        path = ["Resources", name, "Properties", "Events", event_name]
                        matches.append(RuleMatch(path, f"{name}: event {event_name} has no {needed}"))
        for name, schedule in resources(cfn, "AWS::Scheduler::Schedule"):
            target = properties(schedule).get("Target")
            if isinstance(target, dict):
                for needed in ("DeadLetterConfig", "RetryPolicy"):
                    if needed not in target:
                        path = ["Resources", name, "Properties", "Target"]
                        matches.append(RuleMatch(path, f"{name}: its target has no {needed}"))
        return matches


class LogLevelsKeepPersonalDataOut(CloudFormationLintRule):
    id = "E9104"
    shortdesc = "Function log levels must keep personal data out of the logs"
    description = (
        "Every function logs JSON (Lambda filters by level) at a level other than TRACE: at TRACE "
        "the AWS SDK prints whole API responses, inviter e-mail addresses among them"
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html"
    tags = ["guard", "lambda", "logs"]

    def match(self, cfn):
        matches = []
        parameters = cfn.template.get("Parameters") or {}
        functions = list(resources(cfn, "AWS::Lambda::Function")) + list(resources(cfn, "AWS::Serverless::Function"))
        for name, function in functions:
            config = properties(function).get("LoggingConfig")
            path = ["Resources", name, "Properties", "LoggingConfig"]
            if not isinstance(config, dict) or config.get("LogFormat") != "JSON":
                matches.append(RuleMatch(path, f"{name}: LoggingConfig.LogFormat must be JSON"))
                continue
            level = config.get("ApplicationLogLevel")
            if isinstance(level, str):
                possible = [level]
            elif isinstance(level, dict) and isinstance(level.get("Ref"), str) and level["Ref"] in parameters:
                parameter = parameters[level["Ref"]]
                allowed = parameter.get("AllowedValues")
                if not isinstance(allowed, list):
                    matches.append(RuleMatch(path, f"{name}: parameter {level['Ref']} must list AllowedValues (no TRACE)"))
                    continue
                possible = allowed + [parameter.get("Default")]
            else:
                matches.append(RuleMatch(path, f"{name}: ApplicationLogLevel must be a level or a parameter with AllowedValues"))
                continue
            if any(isinstance(v, str) and v.upper() == "TRACE" for v in possible):
                matches.append(RuleMatch(path, f"{name}: ApplicationLogLevel can be TRACE"))
        return matches


class PartnerCentralStatementsNameTheCatalog(CloudFormationLintRule):
    id = "E9105"
    shortdesc = "partnercentral: permissions carry the catalog condition"
    description = "Every statement allowing a partnercentral: action is limited to one catalog (partnercentral:Catalog)"
    source_url = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awspartnercentral.html"
    tags = ["guard", "iam"]

    def match(self, cfn):
        matches = []
        for path, statement in iam_statements(cfn):
            actions = [a for a in as_list(statement.get("Action") or []) if isinstance(a, str)]
            if statement.get("Effect") != "Allow" or not any(a.lower().startswith("partnercentral:") or a == "*" for a in actions):
                continue
            condition = statement.get("Condition") or {}
            named = any(
                isinstance(block, dict) and "partnercentral:Catalog" in block
                for operator, block in condition.items()
                if operator in ("StringEquals", "ForAllValues:StringEquals", "ForAnyValue:StringEquals")
            )
            if not named:
                matches.append(RuleMatch(path, f"{statement.get('Sid', 'a statement')}: partnercentral: actions without a "
                                               "StringEquals partnercentral:Catalog condition"))
        return matches


class DeploymentRegionIsAsserted(CloudFormationLintRule):
    id = "E9106"
    shortdesc = "The template asserts the Partner Central region"
    description = (
        "Partner Central is served only from us-east-1 and the IAM ARNs use the deployment region: "
        "a Rules assertion must refuse any other region"
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/rules-section-structure.html"
    tags = ["guard", "rules"]

    @staticmethod
    def asserts_us_east_1(assertion):
        condition = assertion.get("Assert") if isinstance(assertion, dict) else None
        if not isinstance(condition, dict) or not isinstance(condition.get("Fn::Equals"), list):
            return False
        operands = condition["Fn::Equals"]
        return {"Ref": "AWS::Region"} in operands and "us-east-1" in operands

    def match(self, cfn):
        rules = cfn.template.get("Rules") or {}
        for rule in rules.values():
            if isinstance(rule, dict) and "RuleCondition" not in rule:
                if any(self.asserts_us_east_1(a) for a in rule.get("Assertions") or []):
                    return []
        return [RuleMatch(["Rules"], "no unconditional Rules assertion that AWS::Region equals us-east-1")]

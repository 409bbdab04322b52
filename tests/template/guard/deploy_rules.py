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

Rule ids E9101-E9112 and E9121; each has a test with a template snippet that has the defect
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


def key_grants(key, service, needed):
    """Whether the KMS key resource's policy lets `service` use every action in `needed`."""
    policy = properties(key).get("KeyPolicy")
    if not isinstance(policy, dict):
        return False
    granted = set()
    for statement in as_list(policy.get("Statement") or []):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if service not in services:
            continue
        for action in as_list(statement.get("Action") or []):
            if action in ("kms:*", "*"):
                granted.update(needed)
            elif action in needed:
                granted.add(action)
            elif isinstance(action, str) and action.endswith("*"):
                # kms:GenerateDataKey* grants kms:GenerateDataKey.
                granted.update(n for n in needed if n.startswith(action[:-1]))
    return all(n in granted for n in needed)


def as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def sqs_event_sources(cfn):
    """(path, function name, function, queue name, event properties) of every SQS event source:
    SAM `Events` of type SQS and plain AWS::Lambda::EventSourceMapping, whose queue and
    function are resources of this template."""
    all_resources = dict(resources(cfn))

    def queue_of(value):
        name = referenced_resource(value)
        queue = all_resources.get(name)
        return name if queue and queue.get("Type") == "AWS::SQS::Queue" else None

    for name, function in resources(cfn, "AWS::Serverless::Function"):
        for event_name, event in (properties(function).get("Events") or {}).items():
            if not isinstance(event, dict) or event.get("Type") != "SQS":
                continue
            event_props = event.get("Properties") if isinstance(event.get("Properties"), dict) else {}
            queue = queue_of(event_props.get("Queue"))
            if queue:
                yield ["Resources", name, "Properties", "Events", event_name], name, function, queue, event_props
    for name, mapping in resources(cfn, "AWS::Lambda::EventSourceMapping"):
        props = properties(mapping)
        queue = queue_of(props.get("EventSourceArn"))
        function_name = referenced_resource(props.get("FunctionName"))
        function = all_resources.get(function_name)
        if queue and function and function.get("Type") == "AWS::Lambda::Function":
            yield ["Resources", name], function_name, function, queue, props


def delivery_targets(cfn):
    """(rule name, target index, resource name) of every SNS topic or SQS queue of this template an
    EventBridge rule delivers to (target or dead-letter queue)."""
    all_resources = dict(resources(cfn))
    for name, rule in resources(cfn, "AWS::Events::Rule"):
        for i, target in enumerate(items(properties(rule).get("Targets"))):
            if not isinstance(target, dict):
                continue
            dead_letter = target.get("DeadLetterConfig")
            arns = [target.get("Arn")] + ([dead_letter.get("Arn")] if isinstance(dead_letter, dict) else [])
            for arn in arns:
                target_name = referenced_resource(arn)
                resource = all_resources.get(target_name)
                if resource and resource.get("Type") in ("AWS::SNS::Topic", "AWS::SQS::Queue"):
                    yield name, i, target_name


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
                    elif not key_grants(key, "cloudwatch.amazonaws.com", self.NEEDED):
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


# Operations that AWS authorizes with more than their own action: the Service Authorization
# Reference for AWS Partner Central ("Operations and the permissions they need") lists, per
# operation, the dependent actions the caller must also be allowed. Without them the call is
# denied at run time.
DEPENDENT_ACTIONS = {
    # The acceptance task accepts the invitation and creates the opportunity (and a snapshot of
    # the engagement) as the caller.
    "partnercentral:StartEngagementByAcceptingInvitationTask": frozenset({
        "partnercentral:AcceptEngagementInvitation",
        "partnercentral:CreateOpportunity",
        "partnercentral:CreateResourceSnapshot",
        "partnercentral:CreateResourceSnapshotJob",
        "partnercentral:GetEngagementInvitation",
        "partnercentral:GetOpportunity",
        "partnercentral:StartResourceSnapshotJob",
        "partnercentral:SubmitOpportunity",
        "partnercentral:TagResource",
    }),
}


class PartnerCentralDependentActions(CloudFormationLintRule):
    id = "E9111"
    shortdesc = "A Partner Central operation that acts as the caller is allowed its dependent actions"
    description = (
        "StartEngagementByAcceptingInvitationTask accepts the invitation and creates the opportunity "
        "with the caller's permissions: a role allowed the operation but not its dependent actions "
        "deploys, and every acceptance task is then denied"
    )
    source_url = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awspartnercentral.html"
    tags = ["guard", "iam"]

    def match(self, cfn):
        matches = []
        allowed = {}
        for path, statement in iam_statements(cfn):
            if statement.get("Effect") == "Allow":
                actions = {a for a in as_list(statement.get("Action") or []) if isinstance(a, str)}
                allowed.setdefault(path[1], (path, set()))[1].update(actions)
        for name, (path, actions) in allowed.items():
            if "*" in actions or "partnercentral:*" in actions:
                continue
            for operation, dependents in DEPENDENT_ACTIONS.items():
                missing = sorted(dependents - actions) if operation in actions else []
                if missing:
                    matches.append(RuleMatch(path[:4], f"{name}: allows {operation} but not its dependent "
                                                       f"actions {missing}: every call would be denied"))
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


class SqsVisibilityCoversFunctionTimeout(CloudFormationLintRule):
    id = "E9107"
    shortdesc = "An SQS event source's queue visibility timeout must cover the function timeout"
    description = (
        "Lambda refuses to create an SQS event source mapping whose queue has a visibility "
        "timeout below the function's timeout (the stack fails at deploy); AWS advises six times it"
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html"
    tags = ["guard", "lambda", "sqs"]

    def match(self, cfn):
        matches = []
        all_resources = dict(resources(cfn))
        for path, function_name, function, queue_name, _ in sqs_event_sources(cfn):
            visibility = as_int(properties(all_resources[queue_name]).get("VisibilityTimeout", 30))
            timeout = as_int(properties(function).get("Timeout", 3))
            if visibility is not None and timeout is not None and visibility < timeout:
                matches.append(RuleMatch(path, f"{function_name}: queue {queue_name}'s VisibilityTimeout ({visibility} s) "
                                               f"is below the function's Timeout ({timeout} s)"))
        return matches


class SqsConcurrencyWithinReserved(CloudFormationLintRule):
    id = "E9108"
    shortdesc = "An SQS event source must not poll with more concurrency than the function may run"
    description = (
        "With ScalingConfig.MaximumConcurrency above the function's ReservedConcurrentExecutions, "
        "Lambda throttles batches back to the queue; each return counts as a receive and messages "
        "reach the dead-letter queue unprocessed"
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html"
    tags = ["guard", "lambda", "sqs"]

    def match(self, cfn):
        matches = []
        for path, function_name, function, queue_name, event_props in sqs_event_sources(cfn):
            scaling = event_props.get("ScalingConfig")
            maximum = as_int(scaling.get("MaximumConcurrency")) if isinstance(scaling, dict) else None
            reserved = as_int(properties(function).get("ReservedConcurrentExecutions"))
            if reserved is not None and (maximum is None or maximum > reserved):
                polled = "up to 1,000 (no MaximumConcurrency)" if maximum is None else str(maximum)
                matches.append(RuleMatch(path, f"{function_name}: {queue_name} is polled with a concurrency of {polled}, "
                                               f"above the function's ReservedConcurrentExecutions ({reserved})"))
        return matches


class RedriveDeadLettersAlarmOnVisibleMessages(CloudFormationLintRule):
    id = "E9109"
    shortdesc = "Alarms on a redrive dead-letter queue must not use NumberOfMessagesSent"
    description = (
        "Messages a redrive policy moves to a dead-letter queue are not counted by "
        "NumberOfMessagesSent: such an alarm never fires; use ApproximateNumberOfMessagesVisible"
    )
    source_url = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html"
    tags = ["guard", "cloudwatch", "sqs"]

    @staticmethod
    def metrics(alarm_props):
        """(namespace, metric name, dimensions) of a simple alarm and of every MetricStat."""
        yield alarm_props.get("Namespace"), alarm_props.get("MetricName"), alarm_props.get("Dimensions")
        for query in as_list(alarm_props.get("Metrics") or []):
            metric = (query.get("MetricStat") or {}).get("Metric") if isinstance(query, dict) else None
            if isinstance(metric, dict):
                yield metric.get("Namespace"), metric.get("MetricName"), metric.get("Dimensions")

    def match(self, cfn):
        matches = []
        dead_letter_queues = set()
        for _, queue in resources(cfn, "AWS::SQS::Queue"):
            redrive = properties(queue).get("RedrivePolicy")
            if isinstance(redrive, dict):
                target = referenced_resource(redrive.get("deadLetterTargetArn"))
                if target:
                    dead_letter_queues.add(target)
        for name, alarm in resources(cfn, "AWS::CloudWatch::Alarm"):
            for namespace, metric_name, dimensions in self.metrics(properties(alarm)):
                if namespace != "AWS/SQS" or metric_name != "NumberOfMessagesSent":
                    continue
                for dimension in as_list(dimensions or []):
                    queue = referenced_resource(dimension.get("Value")) if isinstance(dimension, dict) else None
                    if queue in dead_letter_queues:
                        matches.append(RuleMatch(["Resources", name, "Properties"],
                                                 f"{name}: NumberOfMessagesSent of {queue}, a redrive dead-letter "
                                                 "queue, never counts the messages redriven to it"))
        return matches


class EncryptedQueuesEventBridgeCanWrite(CloudFormationLintRule):
    id = "E9110"
    shortdesc = "An encrypted queue EventBridge delivers to must use a key EventBridge may use"
    description = (
        "EventBridge cannot deliver to (or dead-letter into) an SQS queue encrypted with the AWS "
        "managed aws/sqs key, or with a customer managed key whose policy does not let "
        "events.amazonaws.com use kms:Decrypt and kms:GenerateDataKey: the events are dropped"
    )
    source_url = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html"
    tags = ["guard", "events", "sqs", "kms"]

    # What the SQS Developer Guide's statement for AWS services grants.
    NEEDED = ("kms:Decrypt", "kms:GenerateDataKey")

    def match(self, cfn):
        matches = []
        all_resources = dict(resources(cfn))
        for name, i, queue_name in delivery_targets(cfn):
            queue = all_resources[queue_name]
            if queue.get("Type") != "AWS::SQS::Queue":
                continue
            key_ref = properties(queue).get("KmsMasterKeyId")
            if key_ref is None:
                continue
            key_name = referenced_resource(key_ref)
            key = all_resources.get(key_name)
            path = ["Resources", name, "Properties", "Targets", i]
            if key is None or key.get("Type") != "AWS::KMS::Key":
                if isinstance(key_ref, str) and key_ref.startswith("alias/aws/"):
                    matches.append(RuleMatch(path, f"{name}: queue {queue_name} uses the AWS managed key {key_ref}, "
                                                   "which EventBridge cannot use"))
            elif not key_grants(key, "events.amazonaws.com", self.NEEDED):
                matches.append(RuleMatch(path, f"{name}: the policy of key {key_name} (queue {queue_name}) does not "
                                               "let events.amazonaws.com use kms:Decrypt and kms:GenerateDataKey"))
        return matches


class ForeignBusRulesTargetOnlyBuses(CloudFormationLintRule):
    id = "E9112"
    shortdesc = "A rule on another account's event bus may only target an event bus, through a role"
    description = (
        "EventBridge supports PutTargets from an account other than the bus owner's only for event "
        "bus targets, and a cross-account bus target needs RoleArn: a rule this template creates on "
        "a bus given by ARN (a parameter or a literal, not this template's bus) with a queue, topic or "
        "function target fails at deploy"
    )
    source_url = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-cross-account.html"
    tags = ["guard", "events", "cross-account"]

    @staticmethod
    def names_a_bus_arn(value, parameters):
        """Whether EventBusName is a bus ARN that may be another account's: a literal or Fn::Sub
        ARN not in ${AWS::AccountId}, or a Ref to a parameter taking an ARN."""
        if isinstance(value, dict) and isinstance(value.get("Ref"), str):
            param = parameters.get(value["Ref"])
            if not isinstance(param, dict):
                return False
            return value["Ref"].endswith("Arn") or ":event-bus/" in str(param.get("AllowedPattern", ""))
        text = value.get("Fn::Sub") if isinstance(value, dict) else value
        text = text[0] if isinstance(text, list) and text else text
        return isinstance(text, str) and ":event-bus/" in text and "${AWS::AccountId}" not in text

    @staticmethod
    def is_bus(arn, all_resources):
        target = all_resources.get(referenced_resource(arn))
        if target is not None:
            return target.get("Type") == "AWS::Events::EventBus"
        text = arn.get("Fn::Sub") if isinstance(arn, dict) else arn
        text = text[0] if isinstance(text, list) and text else text
        return isinstance(text, str) and ":event-bus/" in text

    def match(self, cfn):
        matches = []
        all_resources = dict(resources(cfn))
        parameters = cfn.template.get("Parameters") or {}
        for name, rule in resources(cfn, "AWS::Events::Rule"):
            if not self.names_a_bus_arn(properties(rule).get("EventBusName"), parameters):
                continue
            for i, target in enumerate(items(properties(rule).get("Targets"))):
                if not isinstance(target, dict):
                    continue
                path = ["Resources", name, "Properties", "Targets", i]
                if not self.is_bus(target.get("Arn"), all_resources):
                    matches.append(RuleMatch(path, f"{name}: on a bus given by ARN, target {target.get('Id', i)} "
                                                   "must be an event bus (no other cross-account target)"))
                elif "RoleArn" not in target:
                    matches.append(RuleMatch(path, f"{name}: target {target.get('Id', i)} on a bus given by ARN needs RoleArn"))
        return matches


class EventSchemasWithinApiLimits(CloudFormationLintRule):
    id = "E9121"
    shortdesc = "Schema registry resources stay within the Schemas API's limits"
    description = (
        "The EventBridge Schemas API refuses a schema whose Content is empty, longer than "
        "100,000 characters or not JSON, whose Type is not OpenApi3 or JSONSchemaDraft4 (a "
        "JSONSchemaDraft4 document naming another draft is not one), and a registry or schema "
        "Description over 256 characters; cfn-lint's resource schemas check none of these"
    )
    # The limits are the Schemas API model's (CreateSchema: Content 1-100000, Description 0-256).
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-eventschemas-schema.html"
    tags = ["guard", "eventschemas"]

    TYPES = ("OpenApi3", "JSONSchemaDraft4")
    DRAFT04 = "http://json-schema.org/draft-04/schema#"
    MAX_CONTENT = 100_000
    MAX_DESCRIPTION = 256

    def match(self, cfn):
        import json

        matches = []
        for kind in ("AWS::EventSchemas::Registry", "AWS::EventSchemas::Schema"):
            for name, resource in resources(cfn, kind):
                for description in branches(properties(resource).get("Description")):
                    if isinstance(description, str) and len(description) > self.MAX_DESCRIPTION:
                        matches.append(RuleMatch(["Resources", name, "Properties", "Description"],
                                                 f"{name}: Description has {len(description)} characters "
                                                 f"(at most {self.MAX_DESCRIPTION})"))
        for name, resource in resources(cfn, "AWS::EventSchemas::Schema"):
            props = properties(resource)
            path = ["Resources", name, "Properties"]
            kind = props.get("Type")
            if isinstance(kind, str) and kind not in self.TYPES:
                matches.append(RuleMatch(path + ["Type"], f"{name}: Type {kind!r} is not one of {', '.join(self.TYPES)}"))
            content = props.get("Content")
            if not isinstance(content, str):
                continue
            if not 1 <= len(content) <= self.MAX_CONTENT:
                matches.append(RuleMatch(path + ["Content"], f"{name}: Content has {len(content)} characters "
                                                             f"(1 to {self.MAX_CONTENT})"))
            try:
                document = json.loads(content)
            except ValueError as e:
                matches.append(RuleMatch(path + ["Content"], f"{name}: Content is not JSON: {e}"))
                continue
            declared = document.get("$schema") if isinstance(document, dict) else None
            if kind == "JSONSchemaDraft4" and declared is not None and declared.rstrip("#") != self.DRAFT04.rstrip("#"):
                matches.append(RuleMatch(path + ["Content"], f"{name}: a JSONSchemaDraft4 schema whose $schema is {declared!r}"))
        return matches

"""Guard rules of the hardening review (issue 28): who may feed our functions and our bus, and
where personal data may stay. Loaded like every module of this folder (see deploy_rules.py for
why these are cfn-lint rules); the helpers over the template come from there.

Rule ids E9141-E9145; each has a test with a template snippet that has the defect
(tests/template/test_hardening_rules.py).
"""

import sys
from pathlib import Path

from cfnlint.rules import CloudFormationLintRule, RuleMatch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deploy_rules import as_int, as_list, branches, items, properties, referenced_resource, resources  # noqa: E402

DAY = 86400


def on_default_bus(rule):
    bus = properties(rule).get("EventBusName")
    return bus is None or bus == "default" or (isinstance(bus, str) and bus.endswith(":event-bus/default"))


def pattern_sources(rule):
    pattern = properties(rule).get("EventPattern")
    return [s for s in items(pattern.get("source")) if isinstance(s, str)] if isinstance(pattern, dict) else []


def condition_keys(statement):
    """The condition keys a statement tests, whatever the operators (lower case)."""
    condition = statement.get("Condition")
    keys = set()
    if isinstance(condition, dict):
        for tests in condition.values():
            if isinstance(tests, dict):
                keys.update(k.lower() for k in tests)
    return keys


def service_principals(statement):
    principal = statement.get("Principal")
    return [s for s in as_list(principal.get("Service") or []) if isinstance(s, str)] if isinstance(principal, dict) else []


class DefaultBusRulesMatchTheAccount(CloudFormationLintRule):
    id = "E9141"
    shortdesc = "A default-bus rule for Partner Central's events matches the account"
    description = (
        "The default bus also receives what its policy admits from other accounts, with their source "
        "and account kept: a rule for aws.partnercentral-* events must match `account`, or another "
        "account's invitations reach our functions"
    )
    source_url = "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutPermission.html"
    tags = ["guard", "events", "hardening"]

    def match(self, cfn):
        matches = []
        for name, rule in resources(cfn, "AWS::Events::Rule"):
            if not on_default_bus(rule):
                continue
            if not any(s.startswith("aws.partnercentral") for s in pattern_sources(rule)):
                continue
            if "account" not in properties(rule).get("EventPattern", {}):
                matches.append(RuleMatch(
                    ["Resources", name, "Properties", "EventPattern"],
                    f"{name}: a default-bus rule for Partner Central's events without `account` in its pattern",
                ))
        return matches


class ServiceTrustsNameTheSource(CloudFormationLintRule):
    id = "E9142"
    shortdesc = "Roles EventBridge or its Scheduler assume name the source ARN"
    description = (
        "A role that events.amazonaws.com or scheduler.amazonaws.com assumes must condition on "
        "aws:SourceArn (the rule, the schedule group): aws:SourceAccount alone admits every rule or "
        "schedule of the account, consumers' rules on our bus included"
    )
    source_url = "https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html"
    tags = ["guard", "iam", "hardening"]

    SERVICES = {"events.amazonaws.com", "scheduler.amazonaws.com"}

    def match(self, cfn):
        matches = []
        for name, role in resources(cfn, "AWS::IAM::Role"):
            document = properties(role).get("AssumeRolePolicyDocument")
            if not isinstance(document, dict):
                continue
            for i, statement in enumerate(as_list(document.get("Statement") or [])):
                if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                    continue
                services = self.SERVICES.intersection(service_principals(statement))
                if services and "aws:sourcearn" not in condition_keys(statement):
                    matches.append(RuleMatch(
                        ["Resources", name, "Properties", "AssumeRolePolicyDocument", "Statement", i],
                        f"{name}: {', '.join(sorted(services))} may assume it without an aws:SourceArn condition",
                    ))
        return matches


class OurBusRefusesOurSourceFromOthers(CloudFormationLintRule):
    id = "E9143"
    shortdesc = "A bus our functions publish to denies our source to every other principal"
    description = (
        "Within the account EventBridge admits PutEvents on an identity policy alone: a bus the "
        "template's functions publish to needs a bus policy Deny of events:PutEvents for every other "
        "principal (Principal *), conditioned on events:source, or anyone of the account can publish "
        "as us"
    )
    source_url = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html"
    tags = ["guard", "events", "hardening"]

    @staticmethod
    def published_buses(cfn):
        """Buses of this template the functions' own policies allow PutEvents on."""
        buses = {}
        for name, function in resources(cfn):
            if function.get("Type") not in ("AWS::Serverless::Function",):
                continue
            for policy in as_list(properties(function).get("Policies") or []):
                if not isinstance(policy, dict):
                    continue
                for statement in as_list(policy.get("Statement") or []):
                    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                        continue
                    if "events:PutEvents" not in as_list(statement.get("Action") or []):
                        continue
                    for resource in as_list(statement.get("Resource") or []):
                        bus = referenced_resource(resource)
                        if bus:
                            buses.setdefault(bus, name)
        all_resources = dict(resources(cfn))
        return {b: f for b, f in buses.items() if (all_resources.get(b) or {}).get("Type") == "AWS::Events::EventBus"}

    @staticmethod
    def denies_others(statement):
        return (
            isinstance(statement, dict)
            and statement.get("Effect") == "Deny"
            and statement.get("Principal") == "*"
            and "events:PutEvents" in as_list(statement.get("Action") or [])
            and "events:source" in condition_keys(statement)
            and "aws:principalarn" in condition_keys(statement)
        )

    def match(self, cfn):
        guarded = set()
        for _, policy in resources(cfn, "AWS::Events::EventBusPolicy"):
            props = properties(policy)
            if self.denies_others(props.get("Statement")):
                guarded.add(referenced_resource(props.get("EventBusName")))
        for name, bus in resources(cfn, "AWS::Events::EventBus"):
            document = properties(bus).get("Policy")
            if isinstance(document, dict) and any(self.denies_others(s) for s in as_list(document.get("Statement") or [])):
                guarded.add(name)
        return [
            RuleMatch(["Resources", bus], f"{bus}: {function} publishes to it, but no bus policy denies PutEvents "
                      "of our source to every other principal")
            for bus, function in sorted(self.published_buses(cfn).items())
            if bus not in guarded
        ]


class RawNativeEventsKeptADay(CloudFormationLintRule):
    id = "E9144"
    shortdesc = "Queues of raw default-bus events keep them a day unless opted in"
    description = (
        "Raw AWS events on the default bus (Partner Central's carry the inviter's e-mail address) "
        "reach a queue as a rule target, a rule's dead-letter queue or its redrive target: keep them "
        "at most a day, or longer only in an Fn::If branch (the deployment's opt-in)"
    )
    source_url = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html"
    tags = ["guard", "sqs", "personal-data", "hardening"]

    def match(self, cfn):
        all_resources = dict(resources(cfn))
        raw = set()
        for _, rule in resources(cfn, "AWS::Events::Rule"):
            if not on_default_bus(rule) or not any(s.startswith("aws.") for s in pattern_sources(rule)):
                continue
            for target in items(properties(rule).get("Targets")):
                if isinstance(target, dict):
                    raw.add(referenced_resource(target.get("Arn")))
                    dead_letter = target.get("DeadLetterConfig")
                    if isinstance(dead_letter, dict):
                        raw.add(referenced_resource(dead_letter.get("Arn")))
        for name in list(raw):
            redrive = properties(all_resources.get(name) or {}).get("RedrivePolicy")
            if isinstance(redrive, dict):
                raw.add(referenced_resource(redrive.get("deadLetterTargetArn")))
        matches = []
        for name in sorted(n for n in raw if n and (all_resources.get(n) or {}).get("Type") == "AWS::SQS::Queue"):
            retention = properties(all_resources[name]).get("MessageRetentionPeriod", 345600)
            conditional = isinstance(retention, dict) and "Fn::If" in retention
            values = [as_int(v) for v in branches(retention)]
            if any(v is None for v in values):
                continue
            if (not conditional and max(values) > DAY) or min(values) > DAY:
                matches.append(RuleMatch(
                    ["Resources", name, "Properties", "MessageRetentionPeriod"],
                    f"{name}: holds raw default-bus events for {max(values)} s; at most {DAY} s unless opted in (Fn::If)",
                ))
        return matches


class ArchiveForeverIsAsserted(CloudFormationLintRule):
    id = "E9145"
    shortdesc = "An archive that may keep events forever is covered by a Rules assertion"
    description = (
        "An AWS::Events::Archive whose RetentionDays comes from a parameter that admits 0 (forever) "
        "needs a Rules assertion on that parameter (ours refuses forever when the events hold contact "
        "details)"
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/rules-section-structure.html"
    tags = ["guard", "events", "personal-data", "hardening"]

    @staticmethod
    def references(node, name):
        if isinstance(node, dict):
            return node.get("Ref") == name or any(ArchiveForeverIsAsserted.references(v, name) for v in node.values())
        if isinstance(node, list):
            return any(ArchiveForeverIsAsserted.references(v, name) for v in node)
        return False

    def match(self, cfn):
        parameters = cfn.template.get("Parameters") or {}
        rules = cfn.template.get("Rules") or {}
        matches = []
        for name, archive in resources(cfn, "AWS::Events::Archive"):
            retention = properties(archive).get("RetentionDays")
            parameter = retention.get("Ref") if isinstance(retention, dict) else None
            spec = parameters.get(parameter) if parameter else None
            if not isinstance(spec, dict):
                continue
            minimum = as_int(spec.get("MinValue"))
            if minimum is not None and minimum > 0:
                continue
            asserted = any(
                isinstance(rule, dict) and self.references(rule.get("Assertions"), parameter) for rule in rules.values()
            )
            if not asserted:
                matches.append(RuleMatch(
                    ["Resources", name, "Properties", "RetentionDays"],
                    f"{name}: RetentionDays {parameter} admits 0 (forever) and no Rules assertion covers it",
                ))
        return matches

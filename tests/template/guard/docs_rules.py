"""Guard rules for what the README promises a deployer about the template (issue #29), beside
the deploy-time rules of deploy_rules.py; loaded the same way (`.cfnlintrc` `append_rules`).

E9151: alarms are not silent by default. An alarm whose actions all depend on parameters
(`Fn::If` on a condition such as "AlarmEmail is set") notifies nobody when none is set. CloudFormation
accepts that, and so does every linter; the deployer finds out when the first incident goes
unnoticed. So: with every parameter at its default, each alarm has an action, or the template has
a `Rules` assertion that refuses exactly that deploy (before anything is created).

E9152: an encrypted SNS topic an EventBridge rule delivers to can be written by EventBridge: its
key's policy lets events.amazonaws.com use it in a statement without aws:SourceAccount or
aws:SourceArn conditions (shared/reference/CHAT.md, from the SNS Developer Guide's key management
page). The example consumer stack's alert topic failed it, so the expiry e-mails the README
promises would never have been sent.

Each rule has a test with a template snippet that has the defect
(tests/template/test_docs_rules.py).
"""

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# ---------------------------------------------------------------------------------------
# Evaluating conditions and rule assertions for given parameter values


class Unknown(Exception):
    """A value the evaluator cannot decide from parameter values alone."""


PSEUDO = {"AWS::Region": "us-east-1", "AWS::Partition": "aws", "AWS::NoValue": None}


def evaluate(node, params, conditions, seen=()):
    """The value of a condition or rule-assertion expression: `Fn::Equals`, `Fn::Not`,
    `Fn::And`, `Fn::Or`, `Condition` (a named condition), `Ref` of a parameter or pseudo
    parameter, plain strings. Anything else raises Unknown."""
    if isinstance(node, (str, int, float, bool)):
        return str(node).lower() if isinstance(node, bool) else str(node)
    if not isinstance(node, dict) or len(node) != 1:
        raise Unknown(node)
    (fn, args), = node.items()
    if fn == "Ref":
        if args in params:
            return params[args]
        if args in PSEUDO:
            return PSEUDO[args]
        raise Unknown(node)
    if fn == "Condition":
        if args in seen or args not in conditions:
            raise Unknown(node)
        return evaluate(conditions[args], params, conditions, seen + (args,))
    if fn == "Fn::Equals" and isinstance(args, list) and len(args) == 2:
        return evaluate(args[0], params, conditions, seen) == evaluate(args[1], params, conditions, seen)
    if fn == "Fn::Not" and isinstance(args, list) and len(args) == 1:
        return not truth(evaluate(args[0], params, conditions, seen))
    if fn == "Fn::And" and isinstance(args, list):
        return all(truth(evaluate(a, params, conditions, seen)) for a in args)
    if fn == "Fn::Or" and isinstance(args, list):
        return any(truth(evaluate(a, params, conditions, seen)) for a in args)
    raise Unknown(node)


def truth(value):
    if isinstance(value, bool):
        return value
    raise Unknown(value)


def defaults(template):
    """Every parameter at its default (a parameter without one has no value: Unknown)."""
    out = {}
    for name, parameter in (template.get("Parameters") or {}).items():
        if isinstance(parameter, dict) and "Default" in parameter:
            default = parameter["Default"]
            out[name] = ",".join(map(str, default)) if isinstance(default, list) else str(default)
    return out


def actions(value, params, conditions):
    """The actions an AlarmActions list has for these parameter values: `Fn::If` branches
    chosen, `AWS::NoValue` dropped. An undecidable condition counts as an action (no finding
    on what cannot be decided)."""
    out = []
    for item in value if isinstance(value, list) else [value]:
        while isinstance(item, dict) and set(item) == {"Fn::If"} and isinstance(item["Fn::If"], list):
            name, when_true, when_false = (item["Fn::If"] + [None, None, None])[:3]
            try:
                item = when_true if truth(evaluate({"Condition": name}, params, conditions)) else when_false
            except Unknown:
                item = when_true if not is_no_value(when_true) else when_false
        if item is not None and not is_no_value(item):
            out.append(item)
    return out


def is_no_value(value):
    return isinstance(value, dict) and value.get("Ref") == "AWS::NoValue"


def refused(template, params):
    """The name of a Rules rule whose condition holds and one of whose assertions fails for
    these parameter values (CloudFormation then refuses the deploy), or None."""
    conditions = template.get("Conditions") or {}
    for name, rule in (template.get("Rules") or {}).items():
        if not isinstance(rule, dict):
            continue
        try:
            applies = "RuleCondition" not in rule or truth(evaluate(rule["RuleCondition"], params, conditions))
            if applies and any(
                not truth(evaluate(a.get("Assert"), params, conditions))
                for a in rule.get("Assertions") or []
                if isinstance(a, dict)
            ):
                return name
        except Unknown:
            continue
    return None


# ---------------------------------------------------------------------------------------
# Rules


class AlarmsNotSilentByDefault(CloudFormationLintRule):
    id = "E9151"
    shortdesc = "Alarms notify someone with the defaults, or the deploy is refused"
    description = (
        "With every parameter at its default, each CloudWatch alarm has an AlarmActions entry, or "
        "a Rules assertion refuses that deploy: an alarm without an action fires unseen"
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/rules-section-structure.html"
    tags = ["guard", "cloudwatch", "rules", "docs"]

    def match(self, cfn):
        template = cfn.template
        params = defaults(template)
        conditions = template.get("Conditions") or {}
        silent = []
        for name, resource in (template.get("Resources") or {}).items():
            if not isinstance(resource, dict) or resource.get("Type") != "AWS::CloudWatch::Alarm":
                continue
            props = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
            try:
                if "Condition" in resource and not truth(evaluate({"Condition": resource["Condition"]}, params, conditions)):
                    continue  # not created with the defaults
            except Unknown:
                pass
            if not actions(props.get("AlarmActions") or [], params, conditions):
                silent.append(name)
        if not silent or refused(template, params):
            return []
        return [
            RuleMatch(["Resources", name, "Properties"],
                      f"{name} notifies nobody with the parameters' defaults (no AlarmActions left), and no "
                      "Rules assertion refuses that deploy: make a destination required, or its absence "
                      "an explicit choice")
            for name in silent
        ]


class EventBridgeTopicKeysWithoutSourceConditions(CloudFormationLintRule):
    id = "E9152"
    shortdesc = "An encrypted topic an EventBridge rule delivers to needs a key EventBridge may use"
    description = (
        "EventBridge delivers to an SNS topic encrypted with a customer managed key only if the key "
        "policy lets events.amazonaws.com use kms:Decrypt and kms:GenerateDataKey*; with the AWS "
        "managed aws/sns key it cannot deliver at all. Every delivery fails and the events go to the "
        "target's dead-letter queue. (A source condition on that statement is E9131's finding.)"
    )
    source_url = "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html"
    tags = ["guard", "eventbridge", "sns", "kms", "docs"]

    NEEDED = ("kms:Decrypt", "kms:GenerateDataKey*")

    @classmethod
    def usable(cls, key):
        policy = (key.get("Properties") or {}).get("KeyPolicy")
        statements = policy.get("Statement") if isinstance(policy, dict) else None
        granted = set()
        for statement in statements if isinstance(statements, list) else [statements]:
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            principal = statement.get("Principal")
            services = principal.get("Service") if isinstance(principal, dict) else None
            if "events.amazonaws.com" not in (services if isinstance(services, list) else [services]):
                continue
            for action in statement.get("Action") if isinstance(statement.get("Action"), list) else [statement.get("Action")]:
                if action in ("kms:*", "*"):
                    granted.update(cls.NEEDED)
                elif action in cls.NEEDED:
                    granted.add(action)
        return all(n in granted for n in cls.NEEDED)

    def match(self, cfn):
        resources = cfn.template.get("Resources") or {}
        matches = []
        for name, rule in resources.items():
            if not isinstance(rule, dict) or rule.get("Type") != "AWS::Events::Rule":
                continue
            targets = (rule.get("Properties") or {}).get("Targets") or []
            for i, target in enumerate(targets if isinstance(targets, list) else []):
                if not isinstance(target, dict):
                    continue
                arn = target.get("Arn")
                topic_name = arn.get("Ref") if isinstance(arn, dict) else None
                topic = resources.get(topic_name) if isinstance(topic_name, str) else None
                if not isinstance(topic, dict) or topic.get("Type") != "AWS::SNS::Topic":
                    continue
                key_ref = (topic.get("Properties") or {}).get("KmsMasterKeyId")
                if key_ref is None:
                    continue
                path = ["Resources", topic_name, "Properties", "KmsMasterKeyId"]
                if isinstance(key_ref, str) and key_ref.endswith("aws/sns"):
                    matches.append(RuleMatch(path, f"{topic_name} (a target of {name}) is encrypted with the AWS "
                                                   "managed aws/sns key, which EventBridge cannot use"))
                    continue
                key_name = key_ref.get("Ref") if isinstance(key_ref, dict) else None
                if not isinstance(key_name, str) and isinstance(key_ref, dict):
                    get_att = key_ref.get("Fn::GetAtt")
                    key_name = get_att[0] if isinstance(get_att, list) and get_att else None
                key = resources.get(key_name) if isinstance(key_name, str) else None
                if isinstance(key, dict) and key.get("Type") == "AWS::KMS::Key" and not self.usable(key):
                    matches.append(RuleMatch(path, f"{topic_name} (a target of {name}): the policy of key {key_name} has "
                                                   "no statement letting events.amazonaws.com use kms:Decrypt and "
                                                   "kms:GenerateDataKey*; EventBridge's deliveries to the topic would fail"))
        return matches

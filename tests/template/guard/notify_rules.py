"""Guard rules for notify's chat side (issue 26): what Amazon Q Developer in chat applications
(`AWS::Chatbot::*`), SNS and KMS reject at deploy or run time although cfn-lint passes it, and
the least privilege of a chat channel. Loaded like every module of this folder (see
deploy_rules.py); the limits are the Chatbot API reference's (CustomAction,
CustomActionAttachment, CustomActionAttachmentCriteria, CreateCustomAction) as summarized in
shared/reference/CHAT.md.

E9181 custom action names: ActionName [a-zA-Z0-9_-]{1,64}, AliasName [A-Za-z0-9-_]{1,30}
      (a `${AWS::StackName}` name counted at Metadata StackNameMaxLength).
E9182 attachments: ButtonText 1-50 characters, NotificationType [a-zA-Z0-9-]{1,100}, Criteria 1-5
      items of Operator HAS_VALUE or EQUALS (EQUALS with a Value).
E9183 attachment Variables: at most 5, keys [A-Za-z0-9-_]{1,100}, values [\\x21-\\x7F]{1,1024}.
E9184 CommandText 1-5,000 characters, and every $variable it uses and every criterion's
      VariableName is defined in each attachment's Variables (else the button runs the literal).
E9185 a channel configuration's IamRoleArn is a role chatbot.amazonaws.com may assume.
E9186 a channel configuration has GuardrailPolicies, none of them AWS's AdministratorAccess or
      an Allow of "*".
E9187 the chat channel's role and guardrail allow lambda:InvokeFunction on named functions only:
      no other action, no "*" resource (a button's command carries values from notifications).
E9188 a function that publishes to a topic encrypted with a key of this template may use the key
      (kms:GenerateDataKey and kms:Decrypt, by its own policy or the key's): SNS accepts the
      deploy and answers every Publish KMSAccessDenied.
E9189 a channel configuration's ConfigurationName is [A-Za-z0-9-_]{1,128} (at StackNameMaxLength).

Each rule has a test with a template snippet that has the defect (tests/template/test_notify_rules.py).
"""

import re
import sys
from pathlib import Path

from cfnlint.rules import CloudFormationLintRule, RuleMatch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deploy_rules import as_int, as_list, branches, iam_statements, properties, referenced_resource, resources  # noqa: E402

CHANNELS = ("AWS::Chatbot::SlackChannelConfiguration", "AWS::Chatbot::MicrosoftTeamsChannelConfiguration")
URL = "https://docs.aws.amazon.com/chatbot/latest/APIReference/API_CustomActionAttachment.html"


def stack_name_text(cfn, value):
    """The text of a literal or `!Sub` name with `${AWS::StackName}` replaced by a name of the
    declared maximum length (`x` repeated); None when something else is variable."""
    if isinstance(value, str):
        return value
    text = value.get("Fn::Sub") if isinstance(value, dict) else None
    if not isinstance(text, str):
        return None
    longest = as_int(((cfn.template.get("Metadata") or {}).get("StackNameMaxLength"))) or 128
    text = text.replace("${AWS::StackName}", "x" * longest)
    return None if "${" in text else text


def attachments(cfn):
    for name, action in resources(cfn, "AWS::Chatbot::CustomAction"):
        for i, attachment in enumerate(as_list(properties(action).get("Attachments") or [])):
            if isinstance(attachment, dict):
                yield name, i, attachment


def fits(pattern, text):
    return isinstance(text, str) and re.fullmatch(pattern, text) is not None


class CustomActionNames(CloudFormationLintRule):
    id = "E9181"
    shortdesc = "Custom action names fit the Chatbot API's patterns"
    description = "ActionName [a-zA-Z0-9_-]{1,64} and AliasName [A-Za-z0-9-_]{1,30}, at the longest stack name"
    source_url = "https://docs.aws.amazon.com/chatbot/latest/APIReference/API_CreateCustomAction.html"
    tags = ["guard", "chatbot"]

    def match(self, cfn):
        matches = []
        for name, action in resources(cfn, "AWS::Chatbot::CustomAction"):
            for prop, pattern in (("ActionName", r"[a-zA-Z0-9_-]{1,64}"), ("AliasName", r"[A-Za-z0-9_-]{1,30}")):
                value = properties(action).get(prop)
                if value is None and prop == "AliasName":
                    continue
                text = stack_name_text(cfn, value)
                if text is not None and not fits(pattern, text):
                    matches.append(RuleMatch(["Resources", name, "Properties", prop],
                                             f"{name}: {prop} {text!r} does not fit {pattern}"))
        return matches


class AttachmentShape(CloudFormationLintRule):
    id = "E9182"
    shortdesc = "Custom action attachments fit the Chatbot API's limits"
    description = "ButtonText 1-50, NotificationType [a-zA-Z0-9-]{1,100}, Criteria 1-5 of HAS_VALUE or EQUALS with a Value"
    source_url = URL
    tags = ["guard", "chatbot"]

    def match(self, cfn):
        matches = []
        for name, i, a in attachments(cfn):
            path = ["Resources", name, "Properties", "Attachments", i]
            button = a.get("ButtonText")
            if not (isinstance(button, str) and 1 <= len(button) <= 50):
                matches.append(RuleMatch(path, f"{name}: attachment {i}: ButtonText must be 1-50 characters"))
            if not fits(r"[a-zA-Z0-9-]{1,100}", a.get("NotificationType")):
                matches.append(RuleMatch(path, f"{name}: attachment {i}: NotificationType must fit [a-zA-Z0-9-]{{1,100}}"))
            criteria = a.get("Criteria")
            if not isinstance(criteria, list) or not 1 <= len(criteria) <= 5:
                matches.append(RuleMatch(path, f"{name}: attachment {i}: Criteria must hold 1-5 items"))
                continue
            for criterion in criteria:
                operator = criterion.get("Operator") if isinstance(criterion, dict) else None
                if operator not in ("HAS_VALUE", "EQUALS"):
                    matches.append(RuleMatch(path, f"{name}: attachment {i}: Operator {operator!r} is not HAS_VALUE or EQUALS"))
                elif operator == "EQUALS" and not isinstance(criterion.get("Value"), str):
                    matches.append(RuleMatch(path, f"{name}: attachment {i}: EQUALS needs a Value"))
        return matches


class AttachmentVariables(CloudFormationLintRule):
    id = "E9183"
    shortdesc = "Custom action attachment Variables fit the Chatbot API's limits"
    description = "At most 5 Variables, keys [A-Za-z0-9-_]{1,100}, values printable ASCII without spaces, at most 1,024"
    source_url = URL
    tags = ["guard", "chatbot"]

    def match(self, cfn):
        matches = []
        for name, i, a in attachments(cfn):
            variables = a.get("Variables") or {}
            path = ["Resources", name, "Properties", "Attachments", i, "Variables"]
            if not isinstance(variables, dict):
                continue
            if len(variables) > 5:
                matches.append(RuleMatch(path, f"{name}: attachment {i}: {len(variables)} Variables, at most 5"))
            for key, value in variables.items():
                if not fits(r"[A-Za-z0-9_-]{1,100}", key):
                    matches.append(RuleMatch(path, f"{name}: attachment {i}: variable name {key!r} does not fit [A-Za-z0-9-_]{{1,100}}"))
                if isinstance(value, str) and not fits(r"[\x21-\x7F]{1,1024}", value):
                    matches.append(RuleMatch(path, f"{name}: attachment {i}: variable {key} value {value!r} is not 1-1,024 printable ASCII characters without spaces"))
        return matches


class CommandVariablesDefined(CloudFormationLintRule):
    id = "E9184"
    shortdesc = "A custom action's command uses only variables its attachments define"
    description = "CommandText 1-5,000 characters; every $variable and every criterion's VariableName is in each attachment's Variables"
    source_url = "https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-actions.html"
    tags = ["guard", "chatbot"]

    def match(self, cfn):
        matches = []
        for name, action in resources(cfn, "AWS::Chatbot::CustomAction"):
            definition = properties(action).get("Definition") or {}
            command = definition.get("CommandText") if isinstance(definition, dict) else None
            path = ["Resources", name, "Properties", "Definition", "CommandText"]
            if not isinstance(command, str):
                continue
            if not 1 <= len(command) <= 5000:
                matches.append(RuleMatch(path, f"{name}: CommandText is {len(command)} characters (1-5,000)"))
            used = set(re.findall(r"\$([A-Za-z0-9_-]+)", command))
            for i, a in enumerate(as_list(properties(action).get("Attachments") or [])):
                if not isinstance(a, dict):
                    continue
                defined = set((a.get("Variables") or {}).keys()) if isinstance(a.get("Variables"), dict) else set()
                named = {c.get("VariableName") for c in as_list(a.get("Criteria") or []) if isinstance(c, dict)}
                for missing in sorted((used | named) - defined):
                    matches.append(RuleMatch(path, f"{name}: attachment {i} does not define the variable {missing!r} its command or criteria use"))
        return matches


def service_principals(statement):
    principal = statement.get("Principal")
    return as_list(principal.get("Service")) if isinstance(principal, dict) else []


class ChannelRoleTrustsChatbot(CloudFormationLintRule):
    id = "E9185"
    shortdesc = "A chat channel's role can be assumed by Amazon Q Developer in chat applications"
    description = "IamRoleArn of a channel configuration is a role of this template trusted by chatbot.amazonaws.com"
    source_url = "https://docs.aws.amazon.com/chatbot/latest/adminguide/chatbot-iam-policies.html"
    tags = ["guard", "chatbot", "iam"]

    def match(self, cfn):
        matches = []
        all_resources = dict(resources(cfn))
        for name, channel in ((n, r) for t in CHANNELS for n, r in resources(cfn, t)):
            role_name = referenced_resource(properties(channel).get("IamRoleArn"))
            role = all_resources.get(role_name)
            if role is None or role.get("Type") != "AWS::IAM::Role":
                continue
            document = properties(role).get("AssumeRolePolicyDocument") or {}
            trusted = any(
                isinstance(s, dict) and s.get("Effect") == "Allow" and "chatbot.amazonaws.com" in service_principals(s)
                for s in as_list(document.get("Statement") or [])
            )
            if not trusted:
                matches.append(RuleMatch(["Resources", name, "Properties", "IamRoleArn"],
                                         f"{name}: its role {role_name} is not assumable by chatbot.amazonaws.com"))
        return matches


class ChannelHasGuardrails(CloudFormationLintRule):
    id = "E9186"
    shortdesc = "A chat channel has guardrail policies, and not administrator ones"
    description = "GuardrailPolicies cap what any channel member can do; without them, or with AdministratorAccess, they cap nothing"
    source_url = "https://docs.aws.amazon.com/chatbot/latest/adminguide/understanding-permissions.html"
    tags = ["guard", "chatbot", "iam"]

    def match(self, cfn):
        matches = []
        all_resources = dict(resources(cfn))
        for name, channel in ((n, r) for t in CHANNELS for n, r in resources(cfn, t)):
            path = ["Resources", name, "Properties", "GuardrailPolicies"]
            policies = [p for v in branches(properties(channel).get("GuardrailPolicies")) for p in as_list(v or [])]
            if not policies:
                matches.append(RuleMatch(path, f"{name}: no GuardrailPolicies: every channel member may do what the role does"))
            for policy in policies:
                if isinstance(policy, str) and policy.endswith("/AdministratorAccess"):
                    matches.append(RuleMatch(path, f"{name}: AdministratorAccess as a guardrail caps nothing"))
                managed = all_resources.get(referenced_resource(policy) or "")
                document = properties(managed).get("PolicyDocument") if managed else None
                for s in as_list((document or {}).get("Statement") or []):
                    if isinstance(s, dict) and s.get("Effect") == "Allow" and "*" in as_list(s.get("Action")):
                        matches.append(RuleMatch(path, f"{name}: guardrail {referenced_resource(policy)} allows every action"))
        return matches


class ChannelMayOnlyInvoke(CloudFormationLintRule):
    id = "E9187"
    shortdesc = "A chat channel's role and guardrails only invoke named functions"
    description = "The channel role's and guardrails' statements allow lambda:InvokeFunction on named functions, nothing else"
    source_url = "https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-actions.html"
    tags = ["guard", "chatbot", "iam"]

    def match(self, cfn):
        matches = []
        channel_parts = set()
        for _, channel in ((n, r) for t in CHANNELS for n, r in resources(cfn, t)):
            props = properties(channel)
            channel_parts.add(referenced_resource(props.get("IamRoleArn")))
            for v in branches(props.get("GuardrailPolicies")):
                channel_parts.update(referenced_resource(p) for p in as_list(v or []))
        for name, role in resources(cfn, "AWS::IAM::Role"):
            if name in channel_parts:
                channel_parts.update(referenced_resource(p) for p in as_list(properties(role).get("ManagedPolicyArns") or []))
        channel_parts.discard(None)
        for path, statement in iam_statements(cfn):
            if path[1] not in channel_parts or statement.get("Effect") != "Allow":
                continue
            actions = set(as_list(statement.get("Action")))
            resources_ = as_list(statement.get("Resource"))
            if actions != {"lambda:InvokeFunction"} or any(r == "*" or (isinstance(r, str) and r.endswith("*")) for r in resources_):
                matches.append(RuleMatch(path, f"{path[1]}: a chat channel may only invoke named functions (lambda:InvokeFunction), not {sorted(map(str, actions))} on {resources_}"))
        return matches


def grants(statement, actions, key):
    allowed = set(as_list(statement.get("Action")))
    resources_ = as_list(statement.get("Resource"))
    on_key = any(referenced_resource(r) == key or r == "*" for r in resources_)
    return on_key and all(a in allowed or "kms:*" in allowed for a in actions)


class PublisherMayUseTheTopicKey(CloudFormationLintRule):
    id = "E9188"
    shortdesc = "A function publishing to a topic encrypted with our key may use the key"
    description = "sns:Publish on a topic with KmsMasterKeyId of this template needs kms:GenerateDataKey and kms:Decrypt on that key"
    source_url = "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html"
    tags = ["guard", "sns", "kms"]
    NEEDED = ("kms:GenerateDataKey", "kms:Decrypt")

    def match(self, cfn):
        matches = []
        all_resources = dict(resources(cfn))
        for name, function in resources(cfn, "AWS::Serverless::Function"):
            statements = [s for p, s in iam_statements(cfn) if p[1] == name and s.get("Effect") == "Allow"]
            for s in statements:
                if "sns:Publish" not in as_list(s.get("Action")):
                    continue
                for resource in as_list(s.get("Resource")):
                    topic = all_resources.get(referenced_resource(resource) or "")
                    if not topic or topic.get("Type") != "AWS::SNS::Topic":
                        continue
                    key = referenced_resource(properties(topic).get("KmsMasterKeyId"))
                    if key not in all_resources:
                        continue
                    if not any(grants(t, self.NEEDED, key) for t in statements):
                        matches.append(RuleMatch(["Resources", name, "Properties", "Policies"],
                                                 f"{name}: publishes to {referenced_resource(resource)}, encrypted with {key}, "
                                                 f"but may not use the key (kms:GenerateDataKey, kms:Decrypt): every Publish fails KMSAccessDenied"))
        return matches


class ChannelConfigurationName(CloudFormationLintRule):
    id = "E9189"
    shortdesc = "A chat channel's ConfigurationName fits [A-Za-z0-9-_]{1,128}"
    description = "ConfigurationName of a Slack or Teams channel configuration, at the longest stack name"
    source_url = "https://docs.aws.amazon.com/chatbot/latest/APIReference/API_CreateSlackChannelConfiguration.html"
    tags = ["guard", "chatbot"]

    def match(self, cfn):
        matches = []
        for name, channel in ((n, r) for t in CHANNELS for n, r in resources(cfn, t)):
            text = stack_name_text(cfn, properties(channel).get("ConfigurationName"))
            if text is not None and not fits(r"[A-Za-z0-9_-]{1,128}", text):
                matches.append(RuleMatch(["Resources", name, "Properties", "ConfigurationName"],
                                         f"{name}: ConfigurationName {text!r} does not fit [A-Za-z0-9-_]{{1,128}}"))
        return matches

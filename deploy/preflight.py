"""`make preflight`: refuse a deploy that cannot work, before anything is created.

Every check runs (each failure says what to do), with the SDK's standard configuration:
credentials, profile, `AWS_ENDPOINT_URL_<SERVICE>` — so it runs offline against the local
stand-ins exactly as against AWS. Exit status 1 when any check failed.

    python deploy/preflight.py [--config-env default] [--config-file samconfig.toml] [--stack NAME]
"""

import argparse
import json
import sys

import boto3
import botocore.config
import botocore.exceptions

import stackfacts

PARTNER_CENTRAL_REGION = "us-east-1"
# Lambda keeps at least this much of the account's concurrency unreserved.
MIN_UNRESERVED = 100
CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=20)


class Check:
    def __init__(self, name):
        self.name, self.ok, self.detail, self.fix = name, None, "", ""

    def passed(self, detail):
        self.ok, self.detail = True, detail
        return self

    def failed(self, detail, fix):
        self.ok, self.detail, self.fix = False, detail, fix
        return self

    def skipped(self, detail):
        self.ok, self.detail = None, detail
        return self

    def render(self):
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[self.ok]
        out = f"{mark}  {self.name}: {self.detail}"
        return out + (f"\n      -> {self.fix}" if self.fix else "")


def error_text(e):
    if isinstance(e, botocore.exceptions.ClientError):
        err = e.response.get("Error", {})
        return f"{err.get('Code', '?')}: {err.get('Message', '')}".strip()
    return str(e) or type(e).__name__


def check_credentials(session):
    c = Check("credentials and account")
    try:
        who = session.client("sts", config=CONFIG).get_caller_identity()
    except botocore.exceptions.NoCredentialsError:
        return c.failed("no AWS credentials found",
                        "configure credentials for the account that holds your Partner Central relationships "
                        "(aws configure, AWS_PROFILE=<profile>, or aws sso login)"), None
    except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the others
        return c.failed(f"the credentials were refused: {error_text(e)}",
                        "renew them (aws sso login, or new access keys) and check AWS_PROFILE"), None
    return c.passed(f"account {who['Account']} as {who['Arn']}"), who["Account"]


def check_region(region):
    c = Check("region")
    if region == PARTNER_CENTRAL_REGION:
        return c.passed(region)
    return c.failed(f"{region or 'none'}: the Partner Central APIs are served only from us-east-1",
                    "deploy in us-east-1: region = \"us-east-1\" in samconfig.toml, or AWS_REGION=us-east-1")


def check_partner_central(session, catalog):
    checks = []
    calls = [
        ("Partner Central Account API", "partnercentral-account", "list_connection_invitations",
         {"Catalog": catalog, "MaxResults": 1}, "ConnectionInvitationSummaries"),
        ("Partner Central Selling API", "partnercentral-selling", "list_engagement_invitations",
         {"Catalog": catalog, "MaxResults": 1, "ParticipantType": "RECEIVER"}, "EngagementInvitationSummaries"),
    ]
    for name, service, operation, params, member in calls:
        c = Check(f"{name} ({catalog})")
        try:
            client = session.client(service, region_name=PARTNER_CENTRAL_REGION, config=CONFIG)
            out = getattr(client, operation)(**params)
            checks.append(c.passed(f"reachable: {operation} returned {len(out.get(member, []))} of the catalog"))
        except botocore.exceptions.EndpointConnectionError as e:
            checks.append(c.failed(f"cannot reach {service}: {e}",
                                   "check the network (proxy, VPC endpoint policy) and AWS_ENDPOINT_URL_* variables"))
        except botocore.exceptions.ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            fix = ("let the deploying identity read Partner Central (partnercentral:List*), and check that this "
                   f"account is linked to Partner Central for catalog {catalog}") if "AccessDenied" in code else (
                   f"check the Catalog parameter ({catalog}: AWS or Sandbox)")
            checks.append(c.failed(f"{operation} refused: {error_text(e)}", fix))
        except Exception as e:  # noqa: BLE001
            checks.append(c.failed(f"{operation} failed: {error_text(e)}", "check the network and the credentials"))
    return checks


def check_stack_name(stack, bound):
    c = Check("stack name")
    if not stack:
        return c.failed("no stack name", "set stack_name in samconfig.toml or pass STACK=<name>")
    if len(stack) > bound:
        return c.failed(f"{stack!r} has {len(stack)} characters; at most {bound} fit the names built from it "
                        "(functions and schedules are <stack>-list-and-publish, at most 64 characters)",
                        f"choose a stack name of at most {bound} characters (STACK=<name> or stack_name in samconfig.toml)")
    return c.passed(f"{stack!r} ({len(stack)} of at most {bound} characters)")


def stack_exists(session, stack):
    try:
        stacks = session.client("cloudformation", config=CONFIG).describe_stacks(StackName=stack)["Stacks"]
    except botocore.exceptions.ClientError as e:
        if "does not exist" in e.response.get("Error", {}).get("Message", ""):
            return False
        raise
    return any(s.get("StackStatus") != "DELETE_COMPLETE" for s in stacks)


def check_retained_table(session, stack, exists):
    c = Check("retained state table")
    if exists:
        return c.passed(f"stack {stack} exists: an update keeps its table")
    names = []
    paginator = session.client("dynamodb", config=CONFIG).get_paginator("list_tables")
    for page in paginator.paginate():
        names += [n for n in page.get("TableNames", []) if n == f"{stack}-state" or n.startswith(f"{stack}-StateTable-")]
    if not names:
        return c.passed(f"no table left by an earlier stack named {stack}")
    return c.failed(f"{', '.join(names)} outlived an earlier stack named {stack} (DeletionPolicy Retain): this deploy "
                    "would start from a new, empty table and announce every pending invitation again",
                    "keep the old one under another stack name (STACK=<other>), or delete it once you no longer need "
                    f"its records: aws dynamodb update-table --table-name {names[0]} --no-deletion-protection-enabled; "
                    f"aws dynamodb delete-table --table-name {names[0]} (docs/runbook.md#retained-state-table)")


def key_lets_cloudwatch_publish(kms, key_id):
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    granted = set()
    for statement in policy.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal", {})
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        if "cloudwatch.amazonaws.com" not in services:
            continue
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            if action in ("kms:*", "*"):
                granted |= {"kms:Decrypt", "kms:GenerateDataKey*"}
            elif action in ("kms:Decrypt", "kms:GenerateDataKey*"):
                granted.add(action)
    return granted == {"kms:Decrypt", "kms:GenerateDataKey*"}


def check_alarm_topic(session, topic_arn):
    c = Check("AlarmTopicArn encryption")
    if not topic_arn:
        return c.skipped("no AlarmTopicArn")
    try:
        attributes = session.client("sns", config=CONFIG).get_topic_attributes(TopicArn=topic_arn)["Attributes"]
        key = attributes.get("KmsMasterKeyId")
        if not key:
            return c.passed(f"{topic_arn} is not encrypted: CloudWatch can publish to it")
        kms = session.client("kms", config=CONFIG)
        # The AWS managed key by its alias (the topic names it so); otherwise ask KMS.
        aws_managed = key.startswith("alias/aws/") or ":alias/aws/" in key
        metadata = {} if aws_managed else kms.describe_key(KeyId=key)["KeyMetadata"]
        if aws_managed or metadata.get("KeyManager") == "AWS":
            return c.failed(f"{topic_arn} is encrypted with the AWS managed key {key}: CloudWatch alarms cannot "
                            "publish to it (its policy cannot be changed)",
                            "encrypt the topic with a customer managed key whose policy lets cloudwatch.amazonaws.com "
                            "use kms:Decrypt and kms:GenerateDataKey*, or leave AlarmTopicArn empty and use AlarmEmail")
        if not key_lets_cloudwatch_publish(kms, metadata["KeyId"]):
            return c.failed(f"{topic_arn} is encrypted with key {metadata['KeyId']}, whose policy does not let "
                            "cloudwatch.amazonaws.com use kms:Decrypt and kms:GenerateDataKey*",
                            "add that statement to the key policy (Principal {\"Service\": \"cloudwatch.amazonaws.com\"})")
        return c.passed(f"{topic_arn}: key {metadata['KeyId']} lets CloudWatch publish")
    except Exception as e:  # noqa: BLE001
        return c.failed(f"cannot read {topic_arn} or its key: {error_text(e)}",
                        "check the ARN, and that the deploying identity may sns:GetTopicAttributes, kms:DescribeKey "
                        "and kms:GetKeyPolicy")


def check_concurrency(session, tpl, stack, exists):
    c = Check("Lambda concurrency headroom")
    reserved = stackfacts.reserved_concurrency(tpl)
    if not reserved:
        return c.skipped("the template reserves no concurrency")
    wanted = sum(reserved.values())
    lam = session.client("lambda", config=CONFIG)
    try:
        settings = lam.get_account_settings()["AccountLimit"]
        already = 0
        if exists:
            # An update: what the stack's functions hold now is given back first.
            for logical in reserved:
                name = stackfacts.function_name(stackfacts.functions(tpl)[logical], stack)
                try:
                    already += lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions", 0)
                except botocore.exceptions.ClientError:
                    pass
    except Exception as e:  # noqa: BLE001
        return c.failed(f"cannot read the account's Lambda settings: {error_text(e)}",
                        "let the deploying identity call lambda:GetAccountSettings")
    unreserved = settings["UnreservedConcurrentExecutions"] + already
    left = unreserved - wanted
    detail = (f"the template reserves {wanted} ({', '.join(f'{k} {v}' for k, v in reserved.items())}); the account has "
              f"{unreserved} unreserved of {settings['ConcurrentExecutions']}")
    if left < MIN_UNRESERVED:
        return c.failed(f"{detail}: {left} would be left, Lambda refuses a reservation below {MIN_UNRESERVED} "
                        "and CreateStack fails",
                        f"request a higher 'Concurrent executions' quota (Service Quotas, Lambda) of at least "
                        f"{settings['ConcurrentExecutions'] - unreserved + wanted + MIN_UNRESERVED}, or free reserved "
                        "concurrency of other functions")
    return c.passed(f"{detail}: {left} stay unreserved")


def run(config_env="default", config_file=stackfacts.SAMCONFIG, stack=None):
    tpl = stackfacts.template()
    configured_stack, configured_region, overrides = stackfacts.deploy_settings(config_env, config_file)
    stack = stack or configured_stack
    session = boto3.session.Session(region_name=configured_region) if configured_region else boto3.session.Session()
    region = session.region_name
    catalog = stackfacts.parameter(tpl, overrides, "Catalog")
    checks = []
    credentials, account = check_credentials(session)
    checks.append(credentials)
    checks.append(check_region(region))
    checks.append(check_stack_name(stack, stackfacts.stack_name_max_length(tpl)))
    if account is None:
        for name in ("Partner Central", "retained state table", "AlarmTopicArn encryption", "Lambda concurrency headroom"):
            checks.append(Check(name).skipped("not checked without credentials"))
        return checks
    checks += check_partner_central(session, catalog)
    try:
        exists = bool(stack) and stack_exists(session, stack)
    except Exception as e:  # noqa: BLE001
        checks.append(Check("stack").failed(f"cannot describe stack {stack}: {error_text(e)}",
                                            "let the deploying identity call cloudformation:DescribeStacks"))
        exists = False
    try:
        checks.append(check_retained_table(session, stack, exists))
    except Exception as e:  # noqa: BLE001
        checks.append(Check("retained state table").failed(f"cannot list tables: {error_text(e)}",
                                                           "let the deploying identity call dynamodb:ListTables"))
    checks.append(check_alarm_topic(session, stackfacts.parameter(tpl, overrides, "AlarmTopicArn")))
    checks.append(check_concurrency(session, tpl, stack, exists))
    return checks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-env", default="default", help="samconfig.toml environment (CONFIG_ENV)")
    parser.add_argument("--config-file", default=str(stackfacts.SAMCONFIG))
    parser.add_argument("--stack", default=None, help="stack name (default: samconfig's stack_name)")
    args = parser.parse_args(argv)
    try:
        checks = run(args.config_env, args.config_file, args.stack or None)
    except stackfacts.ConfigError as e:
        print(f"preflight: {e}", file=sys.stderr)
        return 2
    for check in checks:
        print(check.render())
    failed = [c for c in checks if c.ok is False]
    if failed:
        print(f"preflight: {len(failed)} check(s) failed; nothing was deployed.")
        return 1
    print("preflight: every check passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

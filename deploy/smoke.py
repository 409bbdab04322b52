"""`make smoke`: prove a deployed stack works. Invokes every function of the stack (found from
its outputs) with the check payload `{"healthCheck": true}`: each reads one page of each
Partner Central API it uses, makes a conditional no-op write and a read of a health item in its
table, and puts one `Health Check` event on the bus (no consumer pattern we document matches
it). Prints one row per function and check: ok, or the denied action and what to fix. Exit
status 1 when any check is not ok.

    python deploy/smoke.py [--stack NAME] [--config-env default]     # the deployed stack
    python deploy/smoke.py --local http://127.0.0.1:3001             # sam local start-lambda
"""

import argparse
import json
import sys

import boto3
import botocore.config

import stackfacts

PAYLOAD = json.dumps({"healthCheck": True}).encode()


def targets_of_stack(session, stack):
    """(label, function ARN) of every `<Name>FunctionArn` output of the stack."""
    stacks = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    outputs = stacks[0].get("Outputs", []) if stacks else []
    found = sorted((o["OutputKey"].removesuffix("Arn"), o["OutputValue"])
                   for o in outputs if o["OutputKey"].endswith("FunctionArn"))
    if not found:
        raise stackfacts.ConfigError(f"stack {stack} has no <Name>FunctionArn outputs: is it this project's stack?")
    return found


def targets_local():
    """(label, name) of every function of the template: sam local start-lambda serves them by
    logical id."""
    return [(name, name) for name in stackfacts.functions(stackfacts.template())]


def invoke(client, name):
    """The function's health report, or a report of the invocation's own failure."""
    try:
        response = client.invoke(FunctionName=name, Payload=PAYLOAD)
        body = json.loads(response["Payload"].read() or b"null")
    except Exception as e:  # noqa: BLE001 - a function that cannot be invoked is a row, not a crash
        return {"healthy": False, "checks": [{"check": "invoke", "action": "lambda:InvokeFunction",
                                              "result": "failed", "message": str(e)}]}
    if "FunctionError" in response or not isinstance(body, dict) or "checks" not in body:
        message = body.get("errorMessage") if isinstance(body, dict) else body
        if message is None:
            # Not a health report and no error: say what came back instead of "None".
            message = f"not a health report: {json.dumps(body)[:300]}"
        return {"healthy": False, "checks": [{"check": "invoke", "action": "lambda:InvokeFunction",
                                              "result": "failed", "message": f"{message}"}]}
    return body


def rows(label, report):
    for check in report.get("checks", []):
        result = check.get("result")
        if result == "ok":
            outcome, detail = "ok", check.get("detail", "")
        elif result == "denied":
            outcome, detail = f"DENIED {check.get('action')}", f"{check.get('fix', '')} ({check.get('message', '')})"
        else:
            outcome, detail = "FAILED", check.get("message", "")
        yield label, check.get("check", "?"), outcome, detail


def table(all_rows):
    headers = ("function", "check", "result", "detail")
    widths = [max(len(str(r[i])) for r in [headers, *all_rows]) for i in range(3)]
    line = lambda r: "  ".join(str(v).ljust(widths[i]) for i, v in enumerate(r[:3])) + "  " + str(r[3])  # noqa: E731
    return "\n".join([line(headers), line(tuple("-" * w for w in widths) + ("-" * 6,)), *map(line, all_rows)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default=None, help="stack name (default: samconfig's stack_name)")
    parser.add_argument("--config-env", default="default")
    parser.add_argument("--config-file", default=str(stackfacts.SAMCONFIG))
    parser.add_argument("--local", default=None, help="endpoint of `sam local start-lambda` instead of a stack")
    args = parser.parse_args(argv)
    config = botocore.config.Config(read_timeout=300, retries={"mode": "standard", "max_attempts": 1})
    try:
        if args.local:
            session = boto3.session.Session(region_name="us-east-1")
            client = session.client("lambda", endpoint_url=args.local, config=config)
            targets = targets_local()
        else:
            stack, region, _ = stackfacts.deploy_settings(args.config_env, args.config_file)
            stack = args.stack or stack
            session = boto3.session.Session(region_name=region) if region else boto3.session.Session()
            client = session.client("lambda", config=config)
            targets = targets_of_stack(session, stack)
    except stackfacts.ConfigError as e:
        print(f"smoke: {e}", file=sys.stderr)
        return 2
    all_rows, healthy = [], True
    for label, name in targets:
        report = invoke(client, name)
        healthy &= bool(report.get("healthy"))
        all_rows += list(rows(label, report))
    print(table(all_rows))
    bad = sum(1 for r in all_rows if r[2] != "ok")
    print(f"smoke: {len(all_rows) - bad} of {len(all_rows)} checks ok" + ("" if healthy else f", {bad} not ok"))
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())

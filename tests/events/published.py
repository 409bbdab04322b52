"""What we publish to consumers, read from where it is published — never copied into a test:

- the samples: one real event per detail-type, full EventBridge envelope, `schemas/samples/`;
- the event patterns: the README's example patterns (the ```jsonc block of the section
  "Consume the events from another account", each pattern headed by a `// name` comment), the
  stack's patterns in template.yaml (the `ConsumerEventPattern` output, the forwarding rule, the
  archive) and the example consumer stack's rules (examples/consumer/template.yaml), with the
  templates' `!Ref`/`!Sub` of parameters resolved to the parameters' defaults (or given values);
- moto as EventBridge: an in-process moto (the same backend as `moto_server`) with one boto3
  client per account (moto picks the account from the `x-moto-account-id` header).

moto's TestEventPattern is a stub (moto 5.2.5 answers 200 with no `Result`), so patterns are
evaluated the way EventBridge delivers: a rule with the pattern on a bus, an SQS queue as its
target, and what reached the queue.
"""

import json
import pathlib
import re

import boto3
from cfnlint.decode import decode

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TEMPLATE = ROOT / "template.yaml"
CONSUMER_TEMPLATE = ROOT / "examples" / "consumer" / "template.yaml"
SAMPLES = ROOT / "schemas" / "samples"
README_SECTION = "## Consume the events from another account"

PRODUCER = "123456789012"  # moto's default account: ours
CONSUMER = "111122223333"  # the consumer's account
REGION = "us-east-1"


class SourceError(AssertionError):
    """A published artefact could not be read: names the file and what was wrong."""


# ---------------------------------------------------------------------------------------
# Samples


def samples():
    """detail-type -> the sample envelope, one per file of schemas/samples/."""
    files = sorted(SAMPLES.glob("*.json"))
    if not files:
        raise SourceError(f"{SAMPLES}: no samples (*.json)")
    out = {}
    for path in files:
        try:
            event = json.loads(path.read_text())
        except ValueError as e:
            raise SourceError(f"{path}: not JSON: {e}") from e
        for field in ("source", "detail-type", "detail"):
            if field not in event:
                raise SourceError(f"{path}: no `{field}`: not a full EventBridge envelope")
        detail_type = event["detail-type"]
        kebab = re.sub(r"\s+", "-", detail_type.strip().lower())
        if path.stem != kebab:
            raise SourceError(f"{path}: holds detail-type {detail_type!r}, expected file name {kebab}.json")
        out[detail_type] = event
    return out


# ---------------------------------------------------------------------------------------
# README patterns


def readme_section(text=None):
    text = README.read_text() if text is None else text
    start = text.find(README_SECTION + "\n")
    if start < 0:
        raise SourceError(f"{README}: no section {README_SECTION!r}")
    end = text.find("\n## ", start + len(README_SECTION))
    return text[start : end if end >= 0 else len(text)]


def readme_patterns(text=None):
    """name (the `//` comment above it) -> pattern, from every ```jsonc block of the section."""
    section = readme_section(text)
    blocks = re.findall(r"```jsonc\n(.*?)```", section, re.S)
    if not blocks:
        raise SourceError(f"{README}: section {README_SECTION!r} has no ```jsonc block of patterns")
    patterns = {}
    for block in blocks:
        for chunk in re.split(r"\n\s*\n", block.strip()):
            lines = chunk.strip().splitlines()
            names = [l.strip()[2:].strip() for l in lines if l.strip().startswith("//")]
            body = "\n".join(l for l in lines if not l.strip().startswith("//"))
            if len(names) != 1:
                raise SourceError(f"{README}: every pattern needs exactly one `// name` line above it: {chunk!r}")
            try:
                patterns["README: " + names[0]] = json.loads(body)
            except ValueError as e:
                raise SourceError(f"{README}: pattern {names[0]!r} is not JSON: {e}") from e
    return patterns


# ---------------------------------------------------------------------------------------
# Template patterns


def load_template(path):
    tpl, matches = decode(str(path))
    if matches:
        raise SourceError(f"{path}: {matches}")
    return tpl


def parameter_values(tpl, overrides=None):
    """Parameters' defaults (or the given values), and the pseudo parameter AWS::AccountId as
    the account moto puts our events from (the producer's)."""
    values = {name: p.get("Default") for name, p in tpl.get("Parameters", {}).items()}
    # A Ref of a CommaDelimitedList is a list, as CloudFormation gives it.
    for name, p in tpl.get("Parameters", {}).items():
        if p.get("Type") == "CommaDelimitedList" and isinstance(values[name], str):
            values[name] = [item.strip() for item in values[name].split(",")]
    values["AWS::AccountId"] = PRODUCER
    values.update(overrides or {})
    return values


def resolve(node, params, where):
    """`Ref`/`Fn::Sub` of parameters and `Fn::Select` of an `Fn::Split` resolved; anything else
    that is not plain data fails, naming where it was."""
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            name = node["Ref"]
            if params.get(name) is None:
                raise SourceError(f"{where}: Ref {name} is not a parameter with a value")
            return params[name]
        if set(node) == {"Fn::Sub"}:
            template = node["Fn::Sub"]
            if not isinstance(template, str):
                raise SourceError(f"{where}: only the string form of Fn::Sub is resolved")

            def sub(m):
                if params.get(m.group(1)) is None:
                    raise SourceError(f"{where}: ${{{m.group(1)}}} is not a parameter with a value")
                return str(params[m.group(1)])

            return re.sub(r"\$\{([A-Za-z0-9:]+)\}", sub, template)
        if set(node) == {"Fn::Split"}:
            delimiter, text = node["Fn::Split"]
            return resolve(text, params, where).split(delimiter)
        if set(node) == {"Fn::Select"}:
            index, listed = node["Fn::Select"]
            return resolve(listed, params, where)[int(index)]
        if any(k.startswith("Fn::") for k in node):
            raise SourceError(f"{where}: cannot resolve {sorted(node)}")
        return {k: resolve(v, params, f"{where}.{k}") for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, params, f"{where}[{i}]") for i, v in enumerate(node)]
    return node


def template_patterns(overrides=None):
    """Our stack's patterns: the ConsumerEventPattern output, the forwarding rule, the archive, notify's rule."""
    tpl = load_template(TEMPLATE)
    params = parameter_values(tpl, overrides)
    out = {}
    output = tpl["Outputs"]["ConsumerEventPattern"]["Value"]
    out["template.yaml: output ConsumerEventPattern"] = json.loads(resolve(output, params, "Outputs.ConsumerEventPattern"))
    for name in ("ForwardingRule", "EventArchive", "NotifyRule"):
        pattern = tpl["Resources"][name]["Properties"]["EventPattern"]
        out[f"template.yaml: {name}"] = resolve(pattern, params, f"Resources.{name}.Properties.EventPattern")
    return out


# The producer's bus as the consumer stack is given it (its ProducerEventBusArn has no default).
PRODUCER_BUS_ARN = f"arn:aws:events:{REGION}:{PRODUCER}:event-bus/invitations-invitations"


def consumer_rules(overrides=None):
    """The example consumer stack's rules: logical id -> resolved pattern."""
    tpl = load_template(CONSUMER_TEMPLATE)
    params = parameter_values(tpl, {"ProducerEventBusArn": PRODUCER_BUS_ARN, **(overrides or {})})
    return {
        name: resolve(r["Properties"]["EventPattern"], params, f"{CONSUMER_TEMPLATE.name}: Resources.{name}")
        for name, r in tpl["Resources"].items()
        if r["Type"] == "AWS::Events::Rule"
    }


def consumer_patterns(overrides=None):
    return {f"examples/consumer: {name}": p for name, p in consumer_rules(overrides).items()}


def all_patterns():
    return {**readme_patterns(), **template_patterns(), **consumer_patterns()}


# ---------------------------------------------------------------------------------------
# moto


def client(service, account=PRODUCER):
    """A boto3 client acting as `account` in the in-process moto."""
    c = boto3.client(
        service, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test"
    )

    def as_account(request, **_):
        request.headers["x-moto-account-id"] = account

    c.meta.events.register("before-sign.*.*", as_account)
    return c


def queue(sqs, name):
    """(url, arn) of a new queue."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def rule_to_queue(events, sqs, bus, name, pattern):
    """A rule `name` on `bus` with `pattern`, delivering to a new queue of the same name; its URL."""
    url, arn = queue(sqs, name)
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def put(events, bus, envelope):
    """PutEvents of an envelope's publishable fields (EventBridge sets id, account, region)."""
    entry = {
        "EventBusName": bus,
        "Source": envelope["source"],
        "DetailType": envelope["detail-type"],
        "Detail": json.dumps(envelope["detail"]),
        "Resources": envelope.get("resources", []),
    }
    out = events.put_events(Entries=[entry])
    if out["FailedEntryCount"]:
        raise AssertionError(f"PutEvents refused {envelope['detail-type']}: {out['Entries']}")


def drain(sqs, url):
    """Every message body waiting in the queue, parsed; deleted."""
    bodies = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            return bodies
        for m in msgs:
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

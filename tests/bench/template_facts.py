"""The deployment facts the benchmark runs the functions with, read from template.yaml with the
decoder the template tests use (cfn-lint's, which understands the CloudFormation tags), so the
benchmark never carries a second copy of them:

- the account's request budget (MaxRequestsPerSecond's default), which every function calling
  Partner Central gets whole and shares at run time, and how many processes of each may run at
  once (1 for a scheduled function: its run lease; the event source mapping's
  MaximumConcurrency for native-relay);
- native-relay's event source mapping (BatchSize, MaximumBatchingWindowInSeconds,
  ScalingConfig.MaximumConcurrency), which the benchmark's poller imitates.

Run with the venv's python: python tests/bench/template_facts.py  -> JSON on stdout."""

import json
import re
import sys
from pathlib import Path

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]


def kebab(logical_id: str) -> str:
    """ListAndPublishFunction -> list-and-publish (the crate and binary name)."""
    stem = logical_id.removesuffix("Function")
    return re.sub(r"(?<!^)(?=[A-Z])", "-", stem).lower()


def facts(template_path: Path) -> dict:
    tpl, matches = decode(str(template_path))
    if tpl is None:
        raise SystemExit(f"{template_path}: cannot be read: {matches}")
    budget = tpl["Parameters"]["MaxRequestsPerSecond"]
    functions = {}
    event_source = None
    for logical_id, resource in tpl["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        share = props["Environment"]["Variables"].get("MAX_REQUESTS_PER_SECOND")
        if share is None:
            continue  # calls no Partner Central: not in the budget
        if share != {"Ref": "MaxRequestsPerSecond"}:
            raise SystemExit(f"{logical_id}: MAX_REQUESTS_PER_SECOND is not the account's budget: {share!r}")
        if "ReservedConcurrentExecutions" in props:
            raise SystemExit(f"{logical_id}: reserves concurrency; the budget is shared at run time")
        processes = 1  # a scheduled function: one run at a time (its run lease)
        for event in (props.get("Events") or {}).values():
            if event.get("Type") == "SQS":
                p = event["Properties"]
                processes = (p.get("ScalingConfig") or {}).get("MaximumConcurrency")
                event_source = {
                    "function": kebab(logical_id),
                    "batch_size": p.get("BatchSize", 10),
                    "batching_window_s": p.get("MaximumBatchingWindowInSeconds", 0),
                    "max_concurrency": processes,
                }
        functions[kebab(logical_id)] = {"processes": processes}
    return {
        "default_budget": int(budget["Default"]),
        "functions": functions,
        "event_source": event_source,
    }


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "template.yaml"
    json.dump(facts(path), sys.stdout, indent=1, sort_keys=True)
    print()

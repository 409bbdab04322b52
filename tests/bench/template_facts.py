"""The deployment facts the benchmark runs the functions with, read from template.yaml with the
decoder the template tests use (cfn-lint's, which understands the CloudFormation tags), so the
benchmark never carries a second copy of them:

- the account's request budget (MaxRequestsPerSecond: default and allowed values) and its split
  between the functions (the RequestBudget mapping), with each function's process cap
  (ReservedConcurrentExecutions, or the Globals' value);
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
    split = tpl["Mappings"]["RequestBudget"]
    global_reserved = tpl["Globals"]["Function"].get("ReservedConcurrentExecutions")
    functions = {}
    event_source = None
    for logical_id, resource in tpl["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        share = props["Environment"]["Variables"].get("MAX_REQUESTS_PER_SECOND")
        if not (isinstance(share, dict) and "Fn::FindInMap" in share):
            raise SystemExit(f"{logical_id}: MAX_REQUESTS_PER_SECOND is not a RequestBudget share: {share!r}")
        key = share["Fn::FindInMap"][2]
        functions[kebab(logical_id)] = {
            "budget_key": key,
            "processes": props.get("ReservedConcurrentExecutions", global_reserved),
        }
        for event in (props.get("Events") or {}).values():
            if event.get("Type") == "SQS":
                p = event["Properties"]
                event_source = {
                    "function": kebab(logical_id),
                    "batch_size": p.get("BatchSize", 10),
                    "batching_window_s": p.get("MaximumBatchingWindowInSeconds", 0),
                    "max_concurrency": (p.get("ScalingConfig") or {}).get("MaximumConcurrency"),
                }
    return {
        "default_budget": int(budget["Default"]),
        "split": {value: shares for value, shares in split.items()},
        "functions": functions,
        "event_source": event_source,
    }


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "template.yaml"
    json.dump(facts(path), sys.stdout, indent=1, sort_keys=True)
    print()

"""`make sam-local` and `make sam-local-api`.

    python tests/sam_local/cli.py invoke <function> <event.json> [KEY=VALUE ...]
    python tests/sam_local/cli.py api [--port N]

`invoke` runs `sam local invoke` once, on the `sam build` output, against a generated local
Partner Central account and moto, and prints the function's result and the events that reached
a consumer queue behind a rule on the bus. `api` serves `sam local start-lambda` on 127.0.0.1
with the same wiring until Ctrl-C. Both stop everything they started.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import samlocal  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(prog="sam-local")
    sub = parser.add_subparsers(dest="command", required=True)
    inv = sub.add_parser("invoke", help="sam local invoke one function with one event")
    inv.add_argument("function", help="list-and-publish, ListAndPublishFunction, ...")
    inv.add_argument("event", type=Path)
    inv.add_argument("env", nargs="*", help="KEY=VALUE: extra variables for the function")
    api = sub.add_parser("api", help="sam local start-lambda on 127.0.0.1")
    api.add_argument("--port", type=int, default=3001)
    args = parser.parse_args()

    # SIGTERM (e.g. from make or CI) tears down like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        template = samlocal.load_template()
        local_template = samlocal.write_local_template()
        if args.command == "invoke":
            function = samlocal.function_by_name(template, args.function)
            if not args.event.is_file():
                raise samlocal.SamLocalError(f"no event file {args.event}")
            overrides = {}
            for kv in args.env:
                key, sep, value = kv.partition("=")
                if not sep:
                    raise samlocal.SamLocalError(f"not KEY=VALUE: {kv}")
                overrides[key] = value
        docker = samlocal.Docker.ensure(base_image="auto")
        try:
            with samlocal.World(docker, generate=True) as world:
                sam = samlocal.Sam(docker, world, local_template)
                if args.command == "invoke":
                    return invoke(sam, world, function, args.event, overrides)
                return serve(sam, template, args.port)
        finally:
            docker.close()
    except samlocal.SamLocalError as e:
        print(f"sam-local: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def invoke(sam: samlocal.Sam, world: samlocal.World, function: samlocal.Function, event: Path,
           overrides: dict) -> int:
    samlocal.log(f"sam local invoke {function.logical_id} --event {event}")
    result = sam.invoke(function, event, overrides)
    print("--- sam local invoke output ---", file=sys.stderr)
    print(result.stderr, file=sys.stderr)
    events = world.received()
    print("--- result ---")
    try:
        print(json.dumps(result.payload(), indent=2))
    except samlocal.SamLocalError:
        print(result.stdout)
    print(f"--- {len(events)} event(s) on the bus ---")
    for e in events:
        print(json.dumps(e))
    samlocal.log(f"sam local invoke took {result.seconds:.1f} s")
    return result.returncode


def serve(sam: samlocal.Sam, template: dict, port: int) -> int:
    with sam.start_lambda(port=port, echo=True) as api:
        names = " ".join(f.logical_id for f in samlocal.functions(template))
        print(f"sam local start-lambda: {api.endpoint} (functions: {names}); Ctrl-C stops it", flush=True)
        print(f"  aws lambda invoke --endpoint-url {api.endpoint} --function-name "
              "ListAndPublishFunction --cli-binary-format raw-in-base64-out "
              "--payload file://events/list-and-publish-scheduled.json out.json", flush=True)
        stop = threading.Event()
        try:
            while api.process.proc.poll() is None and not stop.wait(1):
                pass
        except KeyboardInterrupt:
            pass
        if api.process.proc.poll() not in (None, 0):
            print(api.process.output(), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

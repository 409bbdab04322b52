#!/usr/bin/env python3
"""Which test tiers and crates a change touches, for `make test-fast`.

The change is every file that differs from BASE (default HEAD: what is not committed yet),
committed since BASE, staged, unstaged or untracked. `--tiers` prints the tiers of `make test`
to run after lint and build (see TEST_TIERS in the Makefile); `--packages` prints the
`-p <crate>` arguments for nextest: the crates whose files changed and every workspace crate that
depends on them, dev-dependencies included (cargo metadata). A change to a workspace manifest,
the lock file or a crate outside any package runs every crate's tests.

`make test` still runs everything; this only chooses what a quick loop can skip. A Rust change
alone skips `sam build` and the sam local tier (the crates' own e2e tests run the same code
natively against the same stand-ins); a change to the template, lambda/ or the sam local
harness brings them in.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Paths (prefixes) that touch a tier other than nextest. First match wins per tier; a file may
# touch several tiers.
TIER_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("doc", ("contract/",)),
    ("boto3", ("tests/boto3/", "tests/partnercentral-local/")),
    ("deploy", ("deploy/", "tests/deploy/", "template.yaml", "samconfig.toml")),
    ("events", ("tests/events/", "schemas/", "README.md", "examples/", "contract/", "template.yaml")),
    ("template", ("template.yaml", "examples/", "tests/template/", ".cfnlintrc", "requirements-checkov.txt",
                  "schemas/registry/")),
    ("sam-build", ("lambda/", "template.yaml", "samconfig.toml")),
    ("sam-local", ("tests/sam_local/", "events/", "lambda/", "template.yaml")),
]
# The order `make test` runs them in.
ORDER = ["nextest", "doc", "boto3", "deploy", "events", "template", "sam-build", "sam-local"]


def changed_files(base: str) -> list[str]:
    def git(*args: str) -> list[str]:
        out = subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout
        return [line for line in out.splitlines() if line]

    files = set(git("diff", "--name-only", base))
    files |= set(git("ls-files", "--others", "--exclude-standard"))
    return sorted(files)


def workspace() -> list[dict]:
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked", "--offline"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    return meta["packages"]


def affected_packages(files: list[str], packages: list[dict]) -> list[str] | None:
    """Crate names to test, or None for all of them."""
    dirs = {p["name"]: Path(p["manifest_path"]).parent.relative_to(ROOT).as_posix() + "/" for p in packages}
    touched: set[str] = set()
    for f in files:
        if f in ("Cargo.toml", "Cargo.lock", "rustfmt.toml") or f.startswith(".cargo/"):
            return None
        owners = [name for name, d in dirs.items() if f.startswith(d)]
        if owners:
            # The innermost package owns the file.
            touched.add(max(owners, key=lambda n: len(dirs[n])))
    # Reverse dependencies, to a fixed point: a crate whose (dev-)dependency is touched is touched.
    names = set(dirs)
    while True:
        more = {
            p["name"] for p in packages
            if p["name"] not in touched and any(d["name"] in touched and d["name"] in names for d in p["dependencies"])
        }
        if not more:
            return sorted(touched)
        touched |= more


def tiers(files: list[str], crates: list[str] | None) -> list[str]:
    out = set()
    if crates is None or crates:
        out.add("nextest")
    for tier, prefixes in TIER_RULES:
        if any(f == p or f.startswith(p) for f in files for p in prefixes):
            out.add(tier)
    # A Rust change alone does not bring in the release build and its containers: the crates' e2e
    # tests run the same code natively against the same stand-ins. `make test` runs them.
    return [t for t in ORDER if t in out]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="HEAD")
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("--tiers", action="store_true")
    what.add_argument("--packages", action="store_true")
    args = ap.parse_args()
    files = changed_files(args.base)
    crates = affected_packages(files, workspace())
    if args.tiers:
        print(" ".join(tiers(files, crates)))
    elif crates is None:
        print("--workspace")
    else:
        print(" ".join(f"-p {c}" for c in crates))
    print(f"make test-fast: {len(files)} changed file(s) since {args.base}; crates: "
          f"{'all' if crates is None else (', '.join(crates) or 'none')}; tiers: {' '.join(tiers(files, crates)) or 'lint, build only'}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

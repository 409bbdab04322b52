"""What `make preflight` and `make smoke` read from the template and samconfig.toml: the
declared stack-name bound, the functions and their reserved concurrency, the parameters a
deploy will use. Reads the files; calls no AWS API."""

import pathlib
import tomllib

from cfnlint.decode import decode

ROOT = pathlib.Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"


class ConfigError(Exception):
    """A file or option that cannot be used: names it and what was wrong."""


def template(path=TEMPLATE):
    tpl, errors = decode(str(path))
    if errors or not isinstance(tpl, dict):
        raise ConfigError(f"{path}: cannot be read: {errors}")
    return tpl


def stack_name_max_length(tpl):
    value = (tpl.get("Metadata") or {}).get("StackNameMaxLength")
    if not isinstance(value, int):
        raise ConfigError("template.yaml: Metadata StackNameMaxLength is missing (guard rule E9132 requires it)")
    return value


def functions(tpl):
    """logical id -> resource of every AWS::Serverless::Function."""
    return {k: v for k, v in (tpl.get("Resources") or {}).items() if v.get("Type") == "AWS::Serverless::Function"}


def function_name(resource, stack):
    """The deployed name of a function whose FunctionName is `${AWS::StackName}-<suffix>`."""
    name = (resource.get("Properties") or {}).get("FunctionName")
    text = name.get("Fn::Sub") if isinstance(name, dict) else name
    return text.replace("${AWS::StackName}", stack) if isinstance(text, str) else None


def reserved_concurrency(tpl):
    """logical id -> the ReservedConcurrentExecutions the template gives it (Globals apply), for
    the functions that have one."""
    default = ((tpl.get("Globals") or {}).get("Function") or {}).get("ReservedConcurrentExecutions")
    out = {}
    for name, resource in functions(tpl).items():
        value = (resource.get("Properties") or {}).get("ReservedConcurrentExecutions", default)
        if isinstance(value, int):
            out[name] = value
    return out


def parameter_overrides(value):
    """samconfig's parameter_overrides (a string `K=V K2="v 2"` or a list of `K=V`) -> dict."""
    import shlex

    items = value if isinstance(value, list) else shlex.split(value or "")
    out = {}
    for item in items:
        key, sep, val = str(item).partition("=")
        if not sep:
            raise ConfigError(f"samconfig.toml: parameter_overrides item {item!r} is not KEY=VALUE")
        out[key] = val
    return out


def deploy_settings(config_env="default", config_file=SAMCONFIG):
    """(stack name, region, parameters) a `sam deploy --config-env <config_env>` would use."""
    path = pathlib.Path(config_file)
    try:
        config = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: cannot be read: {e}") from e
    if config_env not in config:
        envs = sorted(k for k, v in config.items() if isinstance(v, dict))
        raise ConfigError(f"{path}: no config env {config_env!r} (CONFIG_ENV); it has {', '.join(envs)}")
    env = config[config_env]
    merged = {}
    for section in ("global", "deploy"):
        merged.update(((env.get(section) or {}).get("parameters")) or {})
    return merged.get("stack_name"), merged.get("region"), parameter_overrides(merged.get("parameter_overrides"))


def parameter(tpl, overrides, name):
    """A parameter's value for this deploy: the override, else the template's default."""
    if name in overrides:
        return overrides[name]
    return str(((tpl.get("Parameters") or {}).get(name) or {}).get("Default", ""))

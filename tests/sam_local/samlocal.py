"""`sam local invoke` / `sam local start-lambda` against the local stand-ins, fully offline.

Used by `make sam-local`, `make sam-local-api` and the test tier in this directory. Pieces:

- `Docker.ensure()`: a Docker daemon SAM can use. An answering one (the user's Docker Desktop or
  Linux engine) is used as it is. Only where none answers and we are root on Linux does it start
  a private one under `.aws-sam/sam-local/` (Debian packages, arm64 emulation through qemu-user-static,
  its own bridge, no NAT, a DNAT rule so containers reach the host's loopback services, and an
  offline stand-in base image when the real one cannot be pulled); `close()` tears down exactly
  what was started.
- `World`: the Partner Central emulator and moto, the custom bus, the state table and a consumer
  queue behind a rule on the bus, each reachable from the function containers.
- `LocalTemplate`: a copy of the `sam build` output with the SDK's endpoint variables declared
  (for local runs only; the production template never has them) and absolute `CodeUri`s.
- `Sam`: `sam local invoke` and `sam local start-lambda` with telemetry and the version check
  off, STS answered by moto and nothing pulled that is already there.

Everything started is stopped by PID; nothing is left running.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Under .aws-sam/ (gitignored): `sam build` hashes the whole workspace (CodeUri: .) except .aws-sam,
# and the private daemon's sockets and data anywhere else in it would break that.
STATE_DIR = Path(os.environ.get("SAM_LOCAL_DIR", ROOT / ".aws-sam" / "sam-local"))
BUILT_TEMPLATE = ROOT / ".aws-sam" / "build" / "template.yaml"
EMULATOR_BIN = Path(
    os.environ.get("EMULATOR_BIN", ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "debug" / "partnercentral-local")
)
MOTO_SERVER_BIN = Path(os.environ.get("MOTO_SERVER_BIN", ROOT / ".venv" / "bin" / "moto_server"))
SAM_BIN = Path(os.environ.get("SAM_BIN", ROOT / ".venv" / "bin" / "sam"))

BASE_IMAGE = "public.ecr.aws/lambda/provided:al2023-arm64"
REGION = "us-east-1"
ACCESS_KEY = "test"
SECRET_KEY = "test"
EVENT_SOURCE = "partnercentral.invitations"
BUS = "partnercentral-invitations"
TABLE = "partnercentral-invitations-state"
CONSUMER = "consumer"
NOTIFICATION_TOPIC = "notifications"

# The private daemon's bridge: its own interface and subnet, so it never meets another daemon's
# docker0. Containers reach the host's loopback services through the bridge address (DNAT).
BRIDGE = "samlocal0"
BRIDGE_ADDR = "172.30.254.1"
BRIDGE_CIDR = f"{BRIDGE_ADDR}/24"

DEBIAN_PACKAGES = ["docker.io", "containerd", "runc", "iptables", "iproute2", "qemu-user-static", "binfmt-support"]
# Debian arm64 packages the stand-in base image is made of: the Rust bootstrap needs only glibc
# and the loader; busybox gives the image a shell for debugging.
BASE_IMAGE_PACKAGES = ["busybox-static", "libc6", "libgcc-s1"]

# The SDK's standard endpoint variables the functions need; declared in the local template copy
# only, so that `--env-vars` may set them.
ENDPOINT_VARIABLES = [
    "AWS_ENDPOINT_URL_PARTNERCENTRAL_ACCOUNT",
    "AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING",
    "AWS_ENDPOINT_URL_EVENTBRIDGE",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SNS",
    "AWS_EC2_METADATA_DISABLED",
]


class SamLocalError(Exception):
    """A set-up step failed; the message says which and why."""


def log(message: str) -> None:
    print(f"[sam-local] {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], *, check: bool = True, env: dict | None = None, timeout: float | None = 300, **kw):
    """Run a command, capturing its output; a failure names the command and shows its output."""
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, **kw)
    if check and result.returncode != 0:
        raise SamLocalError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(what: str, probe, timeout: float) -> None:
    """Poll `probe` (a readiness check of a process we started) until it is true."""
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise SamLocalError(f"{what} not ready after {timeout:.0f} s")
        time.sleep(0.1)


# --------------------------------------------------------------------------------------------
# Processes


class Process:
    """A child process with its output collected; readiness is a line it prints."""

    def __init__(self, name: str, cmd: list[str], *, env: dict | None = None, log_path: Path | None = None,
                 echo: bool = False):
        self.name = name
        self.echo = echo
        self.lines: list[str] = []
        self._ready_lines = threading.Condition()
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        self._log = open(log_path, "a") if log_path else None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if self._log:
                self._log.write(line)
                self._log.flush()
            if self.echo:
                sys.stderr.write(line)
            with self._ready_lines:
                self.lines.append(line.rstrip("\n"))
                self._ready_lines.notify_all()
        with self._ready_lines:
            self._ready_lines.notify_all()

    def wait_for(self, predicate, timeout: float) -> str:
        """The first printed line for which `predicate` is true."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._ready_lines:
            while True:
                for line in self.lines[seen:]:
                    if predicate(line):
                        return line
                seen = len(self.lines)
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise SamLocalError(f"{self.name} exited ({self.proc.returncode}) before it was ready:\n" + self.output())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SamLocalError(f"{self.name} not ready after {timeout:.0f} s:\n" + self.output())
                self._ready_lines.wait(min(left, 0.5))

    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        if self._log:
            self._log.close()


# --------------------------------------------------------------------------------------------
# Docker


@dataclass
class Docker:
    """A Docker daemon for SAM, and how containers reach services on this machine.

    `bind_host`: the address the stand-ins listen on; `container_host`: the same services as the
    function containers address them."""

    host: str
    bind_host: str
    container_host: str
    private: bool = False
    _undo: list = field(default_factory=list)

    def env(self) -> dict:
        return {"DOCKER_HOST": self.host}

    def docker(self, *args: str, check: bool = True, timeout: float | None = 300):
        return run(["docker", *args], env={**os.environ, **self.env()}, check=check, timeout=timeout)

    def has_image(self, image: str) -> bool:
        return self.docker("image", "inspect", image, check=False).returncode == 0

    @staticmethod
    def ensure(base_image: str = "auto") -> "Docker":
        """The answering daemon, or (root on Linux only) a private one.

        `base_image` (private daemon only): `auto` pulls the real base image when it is not
        there and builds the offline stand-in when the pull fails; `standin` never pulls."""
        existing = Docker._answering()
        if existing is not None:
            return existing
        if platform.system() != "Linux" or os.geteuid() != 0:
            raise SamLocalError(
                "no Docker daemon answers (`docker version` failed). Start Docker (Docker Desktop, or "
                "the docker service on Linux) and try again; as root on Linux, this starts its own."
            )
        docker = Docker(host=f"unix://{STATE_DIR / 'docker.sock'}", bind_host="127.0.0.1",
                        container_host=BRIDGE_ADDR, private=True)
        try:
            docker._start_private(base_image)
        except BaseException:
            docker.close()
            raise
        return docker

    @staticmethod
    def _answering() -> "Docker | None":
        if shutil.which("docker") is None:
            return None
        if run(["docker", "version", "--format", "{{.Server.Version}}"], check=False, timeout=30).returncode != 0:
            return None
        host = os.environ.get("DOCKER_HOST") or run(
            ["docker", "context", "inspect", "--format", "{{.Endpoints.docker.Host}}"], check=False
        ).stdout.strip()
        info = run(["docker", "info", "--format", "{{.OperatingSystem}}"], check=False).stdout
        if "Docker Desktop" in info or platform.system() != "Linux":
            # Docker Desktop forwards host.docker.internal to the host's loopback.
            return Docker(host=host, bind_host="127.0.0.1", container_host="host.docker.internal")
        # A Linux engine: containers reach the host at the default bridge's gateway, so the
        # stand-ins listen there (an address of this host, not of the outside network).
        gateway = run(
            ["docker", "network", "inspect", "bridge", "--format", "{{(index .IPAM.Config 0).Gateway}}"], check=False
        ).stdout.strip() or "172.17.0.1"
        return Docker(host=host, bind_host=gateway, container_host=gateway)

    # -- the private daemon ------------------------------------------------------------------

    def _start_private(self, base_image: str) -> None:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        install_packages()
        self._enable_arm64_emulation()
        self._create_bridge()
        self._start_dockerd()
        self._route_bridge_to_loopback()
        if not self.has_image(BASE_IMAGE):
            if base_image == "auto" and self._pull(BASE_IMAGE):
                return
            build_standin_base_image(self)

    def _enable_arm64_emulation(self) -> None:
        if platform.machine() in ("aarch64", "arm64"):
            return
        binfmt = Path("/proc/sys/fs/binfmt_misc")
        if not (binfmt / "status").exists():
            run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(binfmt)])
            log("mounted binfmt_misc (left mounted: it is the kernel's, not ours)")
        entry = binfmt / "qemu-aarch64"
        if entry.exists() and entry.read_text().startswith("enabled"):
            return
        run(["update-binfmts", "--enable", "qemu-aarch64"])
        log("arm64 emulation enabled (qemu-aarch64)")
        self._undo.append(("binfmt", lambda: run(["update-binfmts", "--disable", "qemu-aarch64"], check=False)))

    def _create_bridge(self) -> None:
        if run(["ip", "link", "show", BRIDGE], check=False).returncode == 0:
            raise SamLocalError(
                f"network interface {BRIDGE} exists already: another private daemon of this project runs "
                f"(or a crashed run left it: `ip link del {BRIDGE}`)"
            )
        run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        self._undo.append(("bridge", lambda: run(["ip", "link", "del", BRIDGE], check=False)))
        run(["ip", "addr", "add", BRIDGE_CIDR, "dev", BRIDGE])
        run(["ip", "link", "set", BRIDGE, "up"])

    def _start_dockerd(self) -> None:
        d = STATE_DIR
        sock = d / "docker.sock"
        if sock.exists():
            sock.unlink()
        cmd = [
            "dockerd",
            "--data-root", str(d / "data"),
            "--exec-root", str(d / "exec"),
            "--pidfile", str(d / "dockerd.pid"),
            "-H", f"unix://{sock}",
            "--storage-driver", "overlay2",
            "--bridge", BRIDGE,
            # No NAT and no forwarding: containers cannot reach anything outside this machine.
            "--iptables=false", "--ip-masq=false", "--ip-forward=false", "--ip6tables=false",
        ]
        log(f"starting a private Docker daemon under {d} (log: {d / 'dockerd.log'})")
        dockerd = Process("dockerd", cmd, log_path=d / "dockerd.log")
        self._undo.append(("dockerd", lambda: stop_dockerd(dockerd)))
        wait_until(
            "dockerd",
            lambda: dockerd.proc.poll() is None and self.docker("version", check=False, timeout=10).returncode == 0
            or _raise_if_exited(dockerd),
            60,
        )

    def _route_bridge_to_loopback(self) -> None:
        rule = ["PREROUTING", "-i", BRIDGE, "-d", f"{BRIDGE_ADDR}/32", "-p", "tcp", "-j", "DNAT",
                "--to-destination", "127.0.0.1"]
        run(["iptables", "-t", "nat", "-A", *rule])
        self._undo.append(("dnat", lambda: run(["iptables", "-t", "nat", "-D", *rule], check=False)))
        run(["sysctl", "-q", "-w", f"net.ipv4.conf.{BRIDGE}.route_localnet=1"])

    def _pull(self, image: str) -> bool:
        log(f"pulling {image}")
        try:
            ok = self.docker("pull", "--platform", "linux/arm64", image, check=False, timeout=120).returncode == 0
        except subprocess.TimeoutExpired:
            ok = False
        if not ok:
            log(f"cannot pull {image}: building the offline stand-in")
        return ok

    def close(self) -> None:
        """Undo what was started, newest first."""
        while self._undo:
            what, undo = self._undo.pop()
            try:
                undo()
            except Exception as e:  # keep tearing down the rest
                log(f"tearing down {what}: {e}")


def _raise_if_exited(process: Process) -> bool:
    if process.proc.poll() is not None:
        raise SamLocalError(f"{process.name} exited ({process.proc.returncode}):\n{process.output()}")
    return False


def stop_dockerd(dockerd: Process) -> None:
    """Stop dockerd by its PID; it stops the containers and its containerd. A containerd it
    left behind (its PID file under our exec-root) is stopped too."""
    dockerd.stop(timeout=30)
    pidfile = STATE_DIR / "exec" / "containerd" / "containerd.pid"
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        except (ValueError, ProcessLookupError):
            pass


def install_packages() -> None:
    """The Debian packages a private daemon needs, installed when a tool is missing."""
    tools = ["dockerd", "containerd", "runc", "iptables", "ip", "update-binfmts"]
    if platform.machine() not in ("aarch64", "arm64"):
        tools.append("qemu-aarch64-static")
    missing = [t for t in tools if shutil.which(t) is None]
    if not missing:
        return
    log(f"installing {' '.join(DEBIAN_PACKAGES)} (missing: {' '.join(missing)})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env, timeout=600)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *DEBIAN_PACKAGES], env=env, timeout=900)


def build_standin_base_image(docker: Docker) -> None:
    """A stand-in for `provided:al2023-arm64` from Debian arm64 packages, built offline.

    The packages are downloaded with a private apt state (arm64 indexes under .aws-sam/sam-local/apt),
    so the system's dpkg architectures and apt lists stay untouched."""
    work = STATE_DIR / "base-image"
    apt = STATE_DIR / "apt"
    debs = apt / "debs"
    for d in (apt / "lists" / "partial", apt / "cache" / "archives" / "partial", debs):
        d.mkdir(parents=True, exist_ok=True)
    options = [
        "-o", f"Dir::State::Lists={apt / 'lists'}", "-o", f"Dir::Cache={apt / 'cache'}",
        "-o", "Dir::State::status=/dev/null", "-o", "APT::Architecture=arm64", "-o", "APT::Architectures::=arm64",
        "-o", "APT::Sandbox::User=root", "-qq",
    ]
    if not list(debs.glob("*.deb")):
        log(f"downloading the Debian arm64 packages {' '.join(BASE_IMAGE_PACKAGES)}")
        run(["apt-get", *options, "update"], timeout=600)
        run(["apt-get", *options, "download", *BASE_IMAGE_PACKAGES], cwd=debs, timeout=600)
    if work.exists():
        shutil.rmtree(work)
    rootfs = work / "rootfs"
    rootfs.mkdir(parents=True)
    for deb in sorted(debs.glob("*.deb")):
        run(["dpkg-deb", "-x", str(deb), str(rootfs)])
    for d in ("var/task", "var/runtime", "opt", "tmp", "etc/ssl/certs", "bin"):
        (rootfs / d).mkdir(parents=True, exist_ok=True)
    (rootfs / "tmp").chmod(0o1777)
    lib64 = rootfs / "lib64"
    if not lib64.exists():
        lib64.symlink_to("lib")
    for applet in ("sh", "ls", "cat", "env", "echo", "ps", "id", "wget", "vi", "grep"):
        link = rootfs / "bin" / applet
        if not link.exists():
            link.symlink_to("busybox")
    (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n")
    (rootfs / "etc" / "group").write_text("root:x:0:\nnobody:x:65534:\n")
    certs = Path("/etc/ssl/certs/ca-certificates.crt")
    if certs.exists():
        shutil.copy(certs, rootfs / "etc" / "ssl" / "certs" / "ca-certificates.crt")
    run(["tar", "-C", str(rootfs), "-cf", str(work / "rootfs.tar"), "."])
    (work / "Dockerfile").write_text(
        "# Offline stand-in for the Lambda base image (Debian arm64 glibc + busybox).\n"
        "FROM scratch\nADD rootfs.tar /\nENV PATH=/usr/local/bin:/usr/bin:/bin\nWORKDIR /var/task\n"
    )
    log(f"building the stand-in {BASE_IMAGE}")
    run(
        ["docker", "build", "--platform", "linux/arm64", "-t", BASE_IMAGE, str(work)],
        env={**os.environ, **docker.env(), "DOCKER_BUILDKIT": "0"},
        timeout=600,
    )
    shutil.rmtree(rootfs)


# --------------------------------------------------------------------------------------------
# The local world: Partner Central emulator, moto, bus, table, consumer queue


class World:
    """The stand-ins and the AWS resources, listening where the function containers reach them."""

    def __init__(self, docker: Docker, *, seed: dict | None = None, clock: str | None = None, generate: bool = False):
        import boto3

        self.docker = docker
        self._processes: list[Process] = []
        self._tmp = tempfile.TemporaryDirectory(prefix="world-", dir=_state_tmp())
        try:
            emulator_cmd = [str(EMULATOR_BIN), "--listen", f"{docker.bind_host}:0"]
            if seed is not None:
                seed_path = Path(self._tmp.name) / "seed.json"
                seed_path.write_text(json.dumps(seed))
                emulator_cmd += ["--seed", str(seed_path)]
            if generate:
                emulator_cmd += ["--generate", "--generate-seed", "7"]
            if clock is not None:
                emulator_cmd += ["--clock", clock, "--freeze-clock"]
            emulator = self._start("partnercentral-local", emulator_cmd)
            line = emulator.wait_for(lambda l: "partnercentral-local listening on" in l, 60)
            self.emulator_port = int(line.rsplit(":", 1)[1])

            self.moto_port = free_port(docker.bind_host)
            moto = self._start("moto_server", [str(MOTO_SERVER_BIN), "-H", docker.bind_host, "-p", str(self.moto_port)])
            moto.wait_for(lambda l: "Running on" in l, 60)

            self.moto_url = f"http://{docker.bind_host}:{self.moto_port}"
            self.emulator_url = f"http://{docker.bind_host}:{self.emulator_port}"
            session = boto3.session.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                                            region_name=REGION)
            self.events = session.client("events", endpoint_url=self.moto_url)
            self.sqs = session.client("sqs", endpoint_url=self.moto_url)
            self.sns = session.client("sns", endpoint_url=self.moto_url)
            self.dynamodb = session.client("dynamodb", endpoint_url=self.moto_url)
            self._create_resources()
        except BaseException:
            self.close()
            raise

    def _start(self, name: str, cmd: list[str]) -> Process:
        process = Process(name, cmd)
        self._processes.append(process)
        return process

    def _create_resources(self) -> None:
        self.events.create_event_bus(Name=BUS)
        self.dynamodb.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.dynamodb.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
        )
        self.queue_url = self.sqs.create_queue(QueueName=CONSUMER)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.events.put_rule(Name=CONSUMER, EventBusName=BUS, EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
        self.events.put_targets(Rule=CONSUMER, EventBusName=BUS, Targets=[{"Id": "queue", "Arn": arn}])
        # notify's topic, and a queue subscribed to it (what a subscriber receives).
        self.topic_arn = self.sns.create_topic(Name=NOTIFICATION_TOPIC)["TopicArn"]
        self.subscriber_url = self.sqs.create_queue(QueueName=f"{NOTIFICATION_TOPIC}-subscriber")["QueueUrl"]
        subscriber_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.subscriber_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=subscriber_arn)

    def notifications(self) -> list[dict]:
        """Every SNS envelope waiting in the topic's subscriber queue (then deleted)."""
        out = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.subscriber_url, MaxNumberOfMessages=10,
                                                WaitTimeSeconds=0).get("Messages", [])
            if not messages:
                return out
            for m in messages:
                out.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.subscriber_url, ReceiptHandle=m["ReceiptHandle"])

    def function_env(self) -> dict:
        """The variables every function container gets: endpoints as the container addresses
        them, and the names of the local resources."""
        host = self.docker.container_host
        emulator = f"http://{host}:{self.emulator_port}"
        moto = f"http://{host}:{self.moto_port}"
        return {
            "AWS_ENDPOINT_URL_PARTNERCENTRAL_ACCOUNT": emulator,
            "AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING": emulator,
            "AWS_ENDPOINT_URL_EVENTBRIDGE": moto,
            "AWS_ENDPOINT_URL_DYNAMODB": moto,
            "AWS_ENDPOINT_URL_SNS": moto,
            "NOTIFICATION_TOPIC_ARN": self.topic_arn,
            "AWS_EC2_METADATA_DISABLED": "true",
            "CATALOG": "AWS",
            "EVENT_BUS_NAME": BUS,
            "STATE_TABLE_NAME": TABLE,
            # The account the stand-in Partner Central and the sample events are of (SAM's
            # own AWS::AccountId would be 123456789012); only native-relay declares it.
            "OWN_ACCOUNT_ID": "111122223333",
        }

    def received(self) -> list[dict]:
        """Every event waiting in the consumer queue (then deleted), in arrival order. moto
        delivers rule targets during PutEvents, so once a function has returned they are here."""
        events = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                                WaitTimeSeconds=0).get("Messages", [])
            if not messages:
                return events
            for m in messages:
                events.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])

    def emulator_control(self, method: str, path: str, body: dict | None = None) -> dict:
        import urllib.request

        request = urllib.request.Request(
            f"{self.emulator_url}/_emulator/{path}",
            method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def close(self) -> None:
        for process in reversed(self._processes):
            process.stop()
        self._processes.clear()
        self._tmp.cleanup()

    def __enter__(self) -> "World":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _state_tmp() -> str:
    tmp = STATE_DIR / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return str(tmp)


# --------------------------------------------------------------------------------------------
# The built template and its local copy


@dataclass(frozen=True)
class Function:
    logical_id: str
    binary: str  # the function's name in this repository (the crate's binary, e.g. list-and-publish)
    memory_mb: int | None
    timeout_s: int | None
    architectures: tuple[str, ...]


def load_template(path: Path = BUILT_TEMPLATE) -> dict:
    from samcli.yamlhelper import yaml_parse

    if not path.is_file():
        raise SamLocalError(f"{path} is missing: run `sam build` first")
    return yaml_parse(path.read_text())


def functions(template: dict) -> list[Function]:
    """Every AWS::Serverless::Function of the template, in template order."""
    glob = template.get("Globals", {}).get("Function", {})
    out = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        binary = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        if not binary:
            raise SamLocalError(f"{logical_id}: no Metadata.BuildProperties.Binary in the template")
        out.append(Function(
            logical_id=logical_id,
            binary=binary,
            memory_mb=props.get("MemorySize", glob.get("MemorySize")),
            timeout_s=props.get("Timeout", glob.get("Timeout")),
            architectures=tuple(props.get("Architectures", glob.get("Architectures", ["x86_64"]))),
        ))
    return out


def function_by_name(template: dict, name: str) -> Function:
    """A function by logical id or binary name (`ListAndPublishFunction` or `list-and-publish`)."""
    fns = functions(template)
    for f in fns:
        if name in (f.logical_id, f.binary):
            return f
    known = ", ".join(f"{f.binary} ({f.logical_id})" for f in fns)
    raise SamLocalError(f"no function {name!r} in the template; there are: {known}")


def write_local_template(built: Path = BUILT_TEMPLATE) -> Path:
    """A copy of the built template for local runs only: the endpoint variables declared (empty)
    for every function, so that `--env-vars` can set them, and `CodeUri` made absolute so the
    copy can live outside `.aws-sam/build`. The production template is never changed."""
    from samcli.yamlhelper import yaml_dump

    template = load_template(built)
    variables = (
        template.setdefault("Globals", {}).setdefault("Function", {})
        .setdefault("Environment", {}).setdefault("Variables", {})
    )
    for name in ENDPOINT_VARIABLES:
        variables.setdefault(name, "")
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            props = resource.setdefault("Properties", {})
            code = props.get("CodeUri")
            if isinstance(code, str) and not os.path.isabs(code):
                props["CodeUri"] = str((built.parent / code).resolve())
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    out = STATE_DIR / "template.local.yaml"
    out.write_text("# Generated for sam local runs from .aws-sam/build/template.yaml; not for deploying.\n"
                   + yaml_dump(template))
    return out


# --------------------------------------------------------------------------------------------
# SAM


# How many times `sam local invoke` is tried when the event never reached the container.
INVOKE_ATTEMPTS = 3
SAM_SHIM = Path(__file__).resolve().parent / "sam_shim"


def never_reached_the_container(output: str) -> bool:
    """Whether `sam local invoke` gave up before the function got the event: SAM POSTs the
    event as soon as the container's published port accepts a connection (Docker's userland
    proxy) and retries only briefly while the runtime interface emulator inside the
    (qemu-emulated) arm64 container starts (see sam_shim/sitecustomize.py). The emulator never
    saw the request, so the function did not run, and invoking again is not a second run."""
    return "START RequestId" not in output and "No response from invoke container" in output


@dataclass
class InvokeResult:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def payload(self):
        """The function's result: the last JSON line `sam local invoke` printed on stdout."""
        for line in reversed(self.stdout.strip().splitlines()):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
        raise SamLocalError(f"no JSON result in the output of sam local invoke:\n{self.output}")


class Sam:
    """The SAM CLI, offline: telemetry and the version check off, STS answered by moto, the
    caller's own AWS configuration out of reach (its own HOME), and no pull of an image that
    is already there."""

    def __init__(self, docker: Docker, world: World, template: Path):
        self.docker = docker
        self.world = world
        self.template = template
        self.home = STATE_DIR / "home"
        (self.home / ".aws-sam").mkdir(parents=True, exist_ok=True)
        metadata = self.home / ".aws-sam" / "metadata.json"
        data = json.loads(metadata.read_text()) if metadata.exists() else {}
        # A float: SAM checks for a newer version when this is more than a week old.
        data["lastVersionCheck"] = float(time.time())
        data.setdefault("telemetryEnabled", False)
        metadata.write_text(json.dumps(data))
        self.skip_pull = docker.has_image(BASE_IMAGE)

    def env(self) -> dict:
        path = os.environ.get("PATH", "")
        return {
            "PATH": path,
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "SAM_CLI_TELEMETRY": "0",
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            # Every `sam local invoke` asks STS who the caller is.
            "AWS_ENDPOINT_URL_STS": self.world.moto_url,
            # SAM's function-timeout timer as a daemon thread (see sam_shim/sitecustomize.py).
            "PYTHONPATH": str(SAM_SHIM),
            **self.docker.env(),
        }

    def env_vars_file(self, overrides: dict[str, dict[str, str]] | None = None) -> Path:
        """`--env-vars`: the world's variables for every function, plus per-function overrides
        ({logical id: {name: value}})."""
        document = {"Parameters": self.world.function_env(), **(overrides or {})}
        path = Path(self.world._tmp.name) / f"env-{time.monotonic_ns()}.json"
        path.write_text(json.dumps(document))
        return path

    def _common(self, env_vars: Path) -> list[str]:
        args = ["-t", str(self.template), "--env-vars", str(env_vars), "--region", REGION]
        if self.skip_pull:
            args.append("--skip-pull-image")
        return args

    def invoke(self, function: Function, event: Path, env: dict[str, str] | None = None,
               timeout: float = 300) -> InvokeResult:
        env_vars = self.env_vars_file({function.logical_id: env} if env else None)
        cmd = [str(SAM_BIN), "local", "invoke", function.logical_id, "--event", str(event), *self._common(env_vars)]
        started = time.monotonic()
        for attempt in range(1, INVOKE_ATTEMPTS + 1):
            result = subprocess.run(cmd, capture_output=True, text=True, env=self.env(), timeout=timeout, cwd=ROOT)
            output = result.stdout + result.stderr
            # The event never reached the container (see never_reached_the_container): the
            # function did not run, so invoking again is not a second invocation.
            if not never_reached_the_container(output) or attempt == INVOKE_ATTEMPTS:
                break
            print(f"[sam-local] {function.logical_id}: the container's runtime was not listening yet "
                  f"(attempt {attempt}); invoking again", file=sys.stderr)
        return InvokeResult(result.returncode, result.stdout, result.stderr, time.monotonic() - started)

    def start_lambda(self, port: int | None = None, env: dict[str, dict[str, str]] | None = None,
                     echo: bool = False) -> "StartLambda":
        """`echo`: SAM's output (the functions' logs) goes to stderr as it comes."""
        return StartLambda(self, port or free_port("127.0.0.1"), self.env_vars_file(env), echo)


class StartLambda:
    """`sam local start-lambda` on 127.0.0.1: the Lambda Invoke API for every function."""

    def __init__(self, sam: Sam, port: int, env_vars: Path, echo: bool = False):
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        cmd = [str(SAM_BIN), "local", "start-lambda", "--host", "127.0.0.1", "--port", str(port),
               *sam._common(env_vars)]
        self.process = Process("sam local start-lambda", cmd, env=sam.env(), echo=echo)
        try:
            self.process.wait_for(lambda l: f"127.0.0.1:{port}" in l and "Running on" in l, 120)
        except BaseException:
            self.process.stop()
            raise

    def close(self) -> None:
        self.process.stop(timeout=30)

    def __enter__(self) -> "StartLambda":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

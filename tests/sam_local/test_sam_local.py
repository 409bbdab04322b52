"""`sam local invoke` really runs: every function of the `sam build` output, in its Lambda
container (provided.al2023, arm64), against the local Partner Central emulator and moto.

One test per (function, sample event): the functions are read from the built template and the
samples from `events/` (`<binary>-*.json`, where `<binary>` is the function's
`BuildProperties.Binary`; `*.example.json` are not events), so a new function or sample is
picked up by itself and fails until it has a scenario below. Each scenario asserts what the
end-to-end tests (`functions/*/tests/e2e.rs`) assert for the same input: the summary fields, the
exact events that reached the consumer queue, the state written. Plus a bad configuration (the
start-up error reaches the `sam local invoke` output, naming the variable) and `sam local
start-lambda` with boto3 as the client.

Needs the `sam build` output and a Docker daemon (see samlocal.Docker.ensure; as root on Linux
it starts its own, offline). Run: `make sam-local-test` (part of `make test`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import unittest
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import samlocal  # noqa: E402

EVENTS = samlocal.ROOT / "events"
SCHEMA = json.loads((samlocal.ROOT / "schemas" / "invitation-event.v1.json").read_text())
# moto leaves the envelope's `account` out (EventBridge always sets it): filled in to validate.
STAND_IN_ACCOUNT = "123456789012"

TEMPLATE = samlocal.load_template()
FUNCTIONS = samlocal.functions(TEMPLATE)

docker: samlocal.Docker | None = None
local_template: Path | None = None
TIMINGS: list[tuple[str, float]] = []


def setUpModule() -> None:
    global docker, local_template
    local_template = samlocal.write_local_template()
    started = time.monotonic()
    # Offline: the stand-in base image is built when the daemon has none; nothing is pulled.
    docker = samlocal.Docker.ensure(base_image="standin")
    unittest.addModuleCleanup(docker.close)
    TIMINGS.append(("docker ready", time.monotonic() - started))


def tearDownModule() -> None:
    lines = "\n".join(f"  {seconds:6.1f} s  {what}" for what, seconds in TIMINGS)
    print(f"\nsam local timings:\n{lines}", file=sys.stderr)


def samples(function: samlocal.Function) -> list[Path]:
    return sorted(p for p in EVENTS.glob(f"{function.binary}-*.json") if not p.name.endswith(".example.json"))


# --------------------------------------------------------------------------------------------
# Seeds (the end-to-end tests' accounts, in the emulator's seed format)


def ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


LP_T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def cid(n: int) -> str:
    return f"pacinv-A{n:012d}"


def eid(c: str) -> str:
    return f"engi-000000000000{c}"


def lp_connection(n: int, side: str, status: str, created: datetime, expires: datetime) -> dict:
    return {
        "Catalog": "AWS", "Id": cid(n), "ConnectionType": "OPPORTUNITY_COLLABORATION",
        "CreatedAt": ts(created), "UpdatedAt": ts(created), "ExpiresAt": ts(expires),
        "OtherParticipantIdentifier": "444455556666", "ParticipantType": side, "Status": status,
        "InvitationMessage": f"Let's work together ({n})", "InviterName": "Ana Silva",
        "InviterEmail": "ana@example.com",
    }


def lp_engagement(c: str, side: str, status: str, created: datetime, expires: datetime) -> dict:
    return {
        "Catalog": "AWS", "Id": eid(c), "PayloadType": "OpportunityInvitation",
        "EngagementId": f"eng-0000000000000{c}", "EngagementTitle": f"Opportunity {c}",
        "SenderAwsAccountId": "444455556666", "SenderCompanyName": "Example Corp",
        "InvitationDate": ts(created), "ExpirationDate": ts(expires), "ParticipantType": side, "Status": status,
    }


def lp_seed() -> dict:
    t, d, h = LP_T0, (lambda n: timedelta(days=n)), (lambda n: timedelta(hours=n))
    return {
        "ConnectionInvitations": [
            lp_connection(1, "RECEIVER", "PENDING", t - d(2), t + d(13)),
            lp_connection(2, "SENDER", "PENDING", t - d(1), t + d(14)),
            lp_connection(3, "RECEIVER", "PENDING", t - d(10), t + h(4)),
            lp_connection(4, "RECEIVER", "ACCEPTED", t - d(60), t - d(45)),
            lp_connection(5, "SENDER", "PENDING", t - d(3), t + d(12)),
        ],
        "EngagementInvitations": [
            lp_engagement("a", "RECEIVER", "PENDING", t - d(3), t + d(12)),
            lp_engagement("b", "RECEIVER", "PENDING", t - d(2), t + d(13)),
            lp_engagement("c", "SENDER", "PENDING", t - d(14), t + h(4)),
            lp_engagement("d", "RECEIVER", "EXPIRED", t - d(100), t - d(85)),
            lp_engagement("e", "SENDER", "PENDING", t - d(5), t + d(10)),
        ],
    }


ES_T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def engi(n: int) -> str:
    return f"engi-{n:013d}"


def es_engagement(n: int, hours_left: int) -> dict:
    """harness::demo::engagement_invitation."""
    expires = ES_T0 + timedelta(hours=hours_left)
    return {
        "Catalog": "AWS", "Id": engi(n), "PayloadType": "OpportunityInvitation",
        "EngagementId": f"eng-{n:014d}", "EngagementTitle": "Demo opportunity", "Status": "PENDING",
        "InvitationDate": ts(expires - timedelta(days=15)), "ExpirationDate": ts(expires),
        "SenderAwsAccountId": "AWS", "SenderCompanyName": "Amazon Web Services", "ParticipantType": "RECEIVER",
        "Receiver": {"Account": {"AwsAccountId": "111122223333", "Alias": "demo"}},
    }


ES_CONNECTION = "pacinv-P000000000001"


def es_connection(hours_left: int) -> dict:
    expires = ES_T0 + timedelta(hours=hours_left)
    return {
        "Catalog": "AWS", "Id": ES_CONNECTION, "ConnectionType": "OPPORTUNITY_COLLABORATION",
        "CreatedAt": ts(expires - timedelta(days=15)), "ExpiresAt": ts(expires),
        "OtherParticipantIdentifier": "444455556666", "ParticipantType": "SENDER", "Status": "PENDING",
        "InvitationMessage": "Let's co-sell", "InviterName": "Ann", "InviterEmail": "ann@example.com",
    }


def es_seed(engagements: list[tuple[int, int]]) -> dict:
    return {
        "EngagementInvitations": [es_engagement(n, h) for n, h in engagements],
        "ConnectionInvitations": [es_connection(30)],
    }


AC_T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
STALE, EXPIRING, BLOCKED = "pacinv-Stale00000001", "pacinv-Expiring00001", "pacinv-Blocked000001"
YOUNG, KEEP_PARTNER, KEEP_ID = "pacinv-Young00000001", "pacinv-KeepPartner01", "pacinv-KeepThisOne01"
RECEIVED = "pacinv-Received00001"
AC_EVERYONE = [STALE, EXPIRING, BLOCKED, YOUNG, KEEP_PARTNER, KEEP_ID, RECEIVED]


def ac_connection(id_: str, side: str, connection_type: str, age_days: float, other: str) -> dict:
    return {
        "Catalog": "AWS", "Id": id_, "ConnectionType": connection_type,
        "CreatedAt": ts(AC_T0 - timedelta(seconds=int(age_days * 86400))),
        "OtherParticipantIdentifier": other, "ParticipantType": side, "Status": "PENDING",
        "InvitationMessage": "Let's build together", "InviterEmail": "ann@example.com", "InviterName": "Ann",
    }


def ac_seed() -> dict:
    return {"ConnectionInvitations": [
        ac_connection(STALE, "SENDER", "OPPORTUNITY_COLLABORATION", 12.0, "111111111111"),
        ac_connection(EXPIRING, "SENDER", "SUBSIDIARY", 14.5, "333333333333"),
        ac_connection(BLOCKED, "SENDER", "OPPORTUNITY_COLLABORATION", 1.0, "123456789012"),
        ac_connection(YOUNG, "SENDER", "OPPORTUNITY_COLLABORATION", 2.0, "444444444444"),
        ac_connection(KEEP_PARTNER, "SENDER", "OPPORTUNITY_COLLABORATION", 13.0, "210987654321"),
        ac_connection(KEEP_ID, "SENDER", "OPPORTUNITY_COLLABORATION", 12.5, "555555555555"),
        ac_connection(RECEIVED, "RECEIVER", "OPPORTUNITY_COLLABORATION", 14.5, "123456789012"),
    ]}


def ac_policy() -> str:
    """The e2e test's policy for real cancellations (the dry-run payload forces a dry run)."""
    return json.dumps({
        "version": 1, "dryRun": False, "maxCancellationsPerRun": 10,
        "rules": [
            {"name": "stale-collaboration",
             "match": {"connectionTypes": ["OPPORTUNITY_COLLABORATION"], "olderThanDays": 10}},
            {"name": "expiring-unanswered", "match": {"expiresWithinHours": 24}},
            {"name": "blocked-partners", "match": {"otherParticipantIdentifiers": ["123456789012"]}},
        ],
        "exclude": {"otherParticipantIdentifiers": ["210987654321"], "invitationIds": [KEEP_ID]},
    })


# --------------------------------------------------------------------------------------------
# Assertions shared by the scenarios


def facts(events: list[dict]) -> list[tuple[str, str]]:
    return sorted((e["detail-type"], e["detail"].get("invitationId", "?")) for e in events)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class SamLocalCase(unittest.TestCase):
    """A fresh world (emulator + moto + bus + table + consumer) per test."""

    def start_world(self, seed: dict, clock: datetime) -> None:
        assert docker is not None and local_template is not None
        self.world = samlocal.World(docker, seed=seed, clock=ts(clock))
        self.addCleanup(self.world.close)
        self.sam = samlocal.Sam(docker, self.world, local_template)

    def invoke(self, function: samlocal.Function, sample: Path, env: dict | None = None) -> dict:
        result = self.sam.invoke(function, sample, env)
        TIMINGS.append((f"sam local invoke {function.logical_id} --event {sample.name}", result.seconds))
        self.assertEqual(result.returncode, 0, result.output)
        payload = result.payload()
        self.assertIsInstance(payload, dict, result.output)
        self.assertNotIn("errorType", payload, f"function error:\n{result.output}")
        return payload

    def received(self) -> list[dict]:
        """What reached the consumer, each checked against the event contract."""
        import jsonschema

        events = self.world.received()
        for event in events:
            jsonschema.validate({"account": STAND_IN_ACCOUNT, **event}, SCHEMA)
            self.assertEqual(event["source"], samlocal.EVENT_SOURCE)
            self.assertNotIn("@example.com", json.dumps(event), "no e-mail unless opted in")
        return events

    def records(self) -> dict[str, dict]:
        """The state table's invitation records: sk -> item."""
        items = self.world.dynamodb.query(
            TableName=samlocal.TABLE, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "INV#AWS"}}, ConsistentRead=True,
        )["Items"]
        return {i["sk"]["S"]: i for i in items}

    def outbox(self) -> list[dict]:
        return self.world.dynamodb.query(
            TableName=samlocal.TABLE, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "OUTBOX#AWS"}}, ConsistentRead=True,
        )["Items"]

    def emulator_status(self, kind: str, id_: str) -> str:
        return self.world.emulator_control("GET", f"{kind}-invitations/AWS/{id_}")["Status"]

    def emulator_requests(self, operation: str) -> int:
        stats = self.world.emulator_control("GET", "stats")
        return stats.get("operations", {}).get(operation, {}).get("requests", 0)


# --------------------------------------------------------------------------------------------
# Scenarios, one per sample event


def list_and_publish_scheduled(t: SamLocalCase, function: samlocal.Function, sample: Path) -> None:
    """e2e: baseline_then_every_transition_is_published_exactly_once_with_its_fields_and_id."""
    t.start_world(lp_seed(), LP_T0)
    out = t.invoke(function, sample)
    t.assertEqual(out["mode"], "baseline", out)
    t.assertEqual(out["events"]["delivered"], 8, out)
    events = t.received()
    pending = [("Connection Invitation Created", cid(n)) for n in (1, 2, 3, 5)] + [
        ("Engagement Invitation Created", eid(c)) for c in "abce"]
    t.assertEqual(facts(events), sorted(pending))
    created = next(e for e in events if e["detail"]["invitationId"] == cid(1))
    t.assertEqual(created["resources"], [created["detail"]["arn"]])
    # The inviter and the message are personal data: published only with INCLUDE_CONTACT_DETAILS.
    t.assertNotIn("details", created["detail"]["invitation"])
    t.assertIsNone(created["detail"]["previousStatus"])
    # State: a PENDING record per pending invitation, nothing left in the outbox.
    records = t.records()
    for kind, id_ in [("connection", cid(n)) for n in (1, 2, 3, 5)] + [("engagement", eid(c)) for c in "abce"]:
        t.assertEqual(records[f"{kind}#{id_}"]["status"]["S"], "PENDING", id_)
    t.assertEqual(t.outbox(), [])
    # The next scheduled run: nothing changed, nothing published.
    out = t.invoke(function, sample)
    t.assertEqual(out["mode"], "incremental", out)
    t.assertEqual(out["changes"], {}, out)
    t.assertEqual(t.received(), [])


def list_and_publish_full_sync(t: SamLocalCase, function: samlocal.Function, sample: Path) -> None:
    """e2e: the_full_sync_catches_what_incremental_runs_cannot_see (first part)."""
    t.start_world(lp_seed(), LP_T0)
    scheduled = EVENTS / "list-and-publish-scheduled.json"
    t.invoke(function, scheduled)
    t.received()
    # Created and accepted between two runs: only the full reconciliation can see it.
    t.world.emulator_control("POST", "clock/advance", {"seconds": 2 * 3600})
    created = LP_T0 + timedelta(hours=1)
    t.world.emulator_control("POST", "connection-invitations",
                             lp_connection(7, "RECEIVER", "ACCEPTED", created, created + timedelta(days=15)))
    out = t.invoke(function, scheduled)
    t.assertEqual(out["mode"], "incremental", out)
    t.assertEqual(t.received(), [])
    out = t.invoke(function, sample)
    t.assertEqual(out["mode"], "full", out)
    events = t.received()
    t.assertEqual(facts(events), [("Connection Invitation Accepted", cid(7)), ("Connection Invitation Created", cid(7))])
    t.assertEqual(t.records()[f"connection#{cid(7)}"]["status"]["S"], "ACCEPTED")
    t.assertEqual(t.outbox(), [])


def expire_sweeper_scheduled(t: SamLocalCase, function: samlocal.Function, sample: Path) -> None:
    """e2e: warns_once_per_threshold_and_reports_each_expiry_once (first runs)."""
    t.start_world(es_seed([(1, 100), (2, 50), (3, 10), (4, 2)]), ES_T0)
    first = t.invoke(function, sample)
    events = t.received()
    warnings = sorted(
        (e["detail"]["invitationId"], e["detail"]["thresholdHours"], e["detail"]["hoursRemaining"])
        for e in events if e["detail-type"].endswith("Invitation Expiring Soon")
    )
    t.assertEqual(warnings, [(engi(2), 72, 50.0), (engi(3), 24, 10.0), (engi(4), 4, 2.0), (ES_CONNECTION, 72, 30.0)])
    t.assertEqual(len(events), 4, events)
    t.assertEqual(first["pendingSeen"], {"connection": 1, "engagement": 4}, first)
    t.assertEqual(first["expired"], 0, first)
    t.assertEqual(first["events"]["delivered"], 4, first)
    t.assertLess(abs((parse_time(first["observedAt"]) - ES_T0).total_seconds()), 10,
                 "now is the emulator's clock, not the machine's")
    connection = next(e for e in events if e["detail"]["kind"] == "connection")
    t.assertNotIn("details", connection["detail"]["invitation"], "no personal data by default")
    # State: each warned invitation is recorded (so a warning is never repeated); outbox drained.
    records = t.records()
    for sk in [f"engagement#{engi(n)}" for n in (2, 3, 4)] + [f"connection#{ES_CONNECTION}"]:
        t.assertIn(sk, records)
    t.assertEqual(t.outbox(), [])
    # Same time, again: nothing new, only the three PENDING listings.
    quiet = t.invoke(function, sample)
    t.assertEqual(t.received(), [])
    t.assertEqual(quiet["apiCalls"], {"ListConnectionInvitations": 1, "ListEngagementInvitations": 2}, quiet)


def expire_sweeper_digest(t: SamLocalCase, function: samlocal.Function, sample: Path) -> None:
    """e2e: the_digest_lists_what_expires_within_the_largest_threshold_soonest_first (the
    payload asks for the digest instead of DIGEST=true)."""
    t.start_world(es_seed([(1, 100), (2, 50), (3, 10)]), ES_T0)
    summary = t.invoke(function, sample)
    t.assertEqual(summary["digest"], 3, summary)
    events = t.received()
    digests = [e for e in events if e["detail-type"] == "Invitations Expiring Digest"]
    t.assertEqual(len(digests), 1, events)
    d = digests[0]["detail"]
    t.assertEqual((d["count"], d["omitted"], d["thresholdHours"]), (3, 0, 72))
    t.assertEqual([(i["invitationId"], i["hoursRemaining"]) for i in d["invitations"]],
                  [(engi(3), 10.0), (ES_CONNECTION, 30.0), (engi(2), 50.0)])
    # Nothing received was answered yet in this world (the figures: expire-sweeper's e2e).
    t.assertEqual(d["answerTimes"], {"windowDays": 7, "answered": [],
                                     "expiredUnanswered": {"connection": 0, "engagement": 0}})
    t.assertEqual(digests[0]["resources"], [])


def by_rule(events: list[dict]) -> list[tuple[str, str, str]]:
    """(detail-type, invitation, cause rule) of each event, sorted."""
    return sorted((e["detail-type"], e["detail"]["invitationId"], e["detail"]["cause"]["rule"]) for e in events)


def matches(detail_type: str) -> list[tuple[str, str, str]]:
    """The three invitations the policy matches, each with its rule."""
    return [(detail_type, BLOCKED, "blocked-partners"), (detail_type, EXPIRING, "expiring-unanswered"),
            (detail_type, STALE, "stale-collaboration")]


def auto_cancel_dry_run(t: SamLocalCase, function: samlocal.Function, sample: Path) -> None:
    """e2e: a_dry_run_changes_nothing_then_a_real_run_cancels_exactly_the_matching_sender_invitations (1)."""
    t.start_world(ac_seed(), AC_T0)
    s = t.invoke(function, sample, {"CANCEL_POLICY": ac_policy()})
    t.assertEqual(s["dryRun"], True, s)
    t.assertEqual(s["candidates"], 6, s)
    t.assertEqual(s["planned"], [EXPIRING, STALE, BLOCKED], "oldest first")
    t.assertEqual(s["excluded"], 2, s)
    t.assertEqual(s["canceled"], [], s)
    t.assertEqual(t.emulator_requests("CancelConnectionInvitation"), 0)
    t.assertEqual(t.emulator_requests("GetConnectionInvitation"), 0)
    for id_ in AC_EVERYONE:
        t.assertEqual(t.emulator_status("connection", id_), "PENDING", id_)
    events = t.received()
    t.assertEqual(by_rule(events), matches("Connection Invitation Cancellation Planned"))
    for e in events:
        t.assertEqual(e["detail"]["cause"]["policyHash"], s["policyHash"])
        t.assertLess(abs((parse_time(e["detail"]["observedAt"]) - AC_T0).total_seconds()), 60)
    t.assertEqual(t.outbox(), [])


def auto_cancel_scheduled(t: SamLocalCase, function: samlocal.Function, sample: Path) -> None:
    """e2e: a_dry_run_changes_nothing_then_a_real_run_cancels_exactly_the_matching_sender_invitations (3)."""
    t.start_world(ac_seed(), AC_T0)
    s = t.invoke(function, sample, {"CANCEL_POLICY": ac_policy()})
    t.assertEqual(s["dryRun"], False, s)
    t.assertEqual(s["canceled"], [EXPIRING, STALE, BLOCKED], s)
    t.assertEqual(s["apiCalls"]["CancelConnectionInvitation"], 3, s)
    records = t.records()
    for id_ in (STALE, EXPIRING, BLOCKED):
        t.assertEqual(t.emulator_status("connection", id_), "CANCELED", id_)
        t.assertEqual(records[f"connection#{id_}"]["status"]["S"], "CANCELED", f"{id_} recorded in the state table")
    for id_ in (YOUNG, KEEP_PARTNER, KEEP_ID, RECEIVED):
        t.assertEqual(t.emulator_status("connection", id_), "PENDING", f"{id_} must be left alone")
    events = t.received()
    t.assertEqual(by_rule(events), matches("Connection Invitation Canceled"))
    for e in events:
        t.assertEqual(e["detail"]["previousStatus"], "PENDING")
        t.assertEqual(e["detail"]["cause"], {"type": "policy", "rule": e["detail"]["cause"]["rule"],
                                             "policyHash": s["policyHash"]})
        t.assertNotIn("details", e["detail"]["invitation"], "no personal data by default")
    t.assertEqual(t.outbox(), [])


# auto-respond: functions/auto-respond/tests/e2e.rs's account and policy.
AR_T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
REFERRAL, DOOMED, LEAD = "engi-referral00001", "engi-referral00002", "engi-lead000000001"
OTHER, KEEP, SENT = "engi-other00000001", "engi-keepthisone01", "engi-sent000000001"
AR_EVERYONE = (REFERRAL, DOOMED, LEAD, OTHER, KEEP, SENT)


def ar_engagement(id_: str, side: str, payload: str, age_hours: int, company: str) -> dict:
    invited = AR_T0 - timedelta(hours=age_hours)
    return {
        "Catalog": "AWS", "Id": id_, "PayloadType": payload, "EngagementId": f"eng-0{id_[5:]}",
        "EngagementTitle": "Data lake migration", "SenderAwsAccountId": "123456789012", "SenderCompanyName": company,
        "InvitationDate": ts(invited), "ExpirationDate": ts(invited + timedelta(days=15)),
        "ParticipantType": side, "Status": "PENDING",
    }


def ar_seed() -> dict:
    doomed = ar_engagement(DOOMED, "RECEIVER", "OpportunityInvitation", 20, "AWS")
    doomed["EmulatorTaskOutcome"] = {"ReasonCode": "OpportunityValidationFailed", "Message": "Customer website is missing"}
    return {"EngagementInvitations": [
        ar_engagement(REFERRAL, "RECEIVER", "OpportunityInvitation", 30, "AWS"),
        doomed,
        ar_engagement(LEAD, "RECEIVER", "LeadInvitation", 25, "AWS"),
        ar_engagement(OTHER, "RECEIVER", "OpportunityInvitation", 40, "Acme"),
        ar_engagement(KEEP, "RECEIVER", "OpportunityInvitation", 50, "AWS"),
        # We sent this one; it matches every rule and must never be touched.
        ar_engagement(SENT, "SENDER", "OpportunityInvitation", 60, "AWS"),
    ]}


def ar_policy() -> str:
    return json.dumps({
        "version": 1, "dryRun": False, "maxActionsPerRun": 10, "maxActionsPerDay": 10,
        "rules": [
            {"name": "aws-referrals", "match": {"payloadTypes": ["OpportunityInvitation"],
                                               "senderAwsAccountIds": ["123456789012"], "senderCompanyNames": ["AWS"]},
             "action": "accept"},
            {"name": "leads", "match": {"payloadTypes": ["LeadInvitation"]}, "action": "reject",
             "rejectionReason": "Unable to support"},
        ],
        "exclude": {"invitationIds": [KEEP]},
    })


def ar_writes(t: SamLocalCase) -> tuple[int, int]:
    return (t.emulator_requests("StartEngagementByAcceptingInvitationTask"),
            t.emulator_requests("RejectEngagementInvitation"))


def auto_respond_dry_run(t: SamLocalCase, function: samlocal.Function, sample: Path) -> None:
    """e2e: a_dry_run_plans_then_a_real_run_answers_exactly_the_matches_and_follows_the_tasks (1):
    the payload forces a dry run over a policy that says otherwise."""
    t.start_world(ar_seed(), AR_T0)
    s = t.invoke(function, sample, {"RESPOND_POLICY": ar_policy()})
    t.assertEqual(s["dryRun"], True, s)
    t.assertEqual(s["candidates"], 5, s)
    t.assertEqual(s["planned"], [REFERRAL, LEAD, DOOMED], "oldest first")
    t.assertEqual(ar_writes(t), (0, 0))
    for id_ in AR_EVERYONE:
        t.assertEqual(t.emulator_status("engagement", id_), "PENDING", id_)
    events = t.received()
    t.assertEqual(by_rule(events), sorted([
        ("Engagement Invitation Response Planned", REFERRAL, "aws-referrals"),
        ("Engagement Invitation Response Planned", DOOMED, "aws-referrals"),
        ("Engagement Invitation Response Planned", LEAD, "leads"),
    ]))
    for e in events:
        t.assertEqual(e["detail"]["cause"]["policyHash"], s["policyHash"])
    lead = next(e for e in events if e["detail"]["invitationId"] == LEAD)
    t.assertEqual(lead["detail"]["response"], {"action": "reject", "rejectionReason": "Unable to support"})
    t.assertEqual(t.outbox(), [])


def auto_respond_scheduled(t: SamLocalCase, function: samlocal.Function, sample: Path) -> None:
    """e2e: a_dry_run_plans_then_a_real_run_answers_exactly_the_matches_and_follows_the_tasks
    (2, 4): the scheduled run answers; once the tasks end, the next run publishes the outcomes."""
    t.start_world(ar_seed(), AR_T0)
    env = {"RESPOND_POLICY": ar_policy()}
    s = t.invoke(function, sample, env)
    t.assertEqual(s["dryRun"], False, s)
    t.assertEqual([a["invitationId"] for a in s["accepting"]], [REFERRAL, DOOMED], s)
    t.assertEqual(s["rejected"], [LEAD], s)
    t.assertEqual(ar_writes(t), (2, 1))
    t.assertEqual(s["apiCalls"]["GetEngagementInvitation"], 3, "one Get per action")
    t.assertEqual(t.emulator_status("engagement", LEAD), "REJECTED")
    for id_ in (OTHER, KEEP, SENT):
        t.assertEqual(t.emulator_status("engagement", id_), "PENDING", f"{id_} must be left alone")
    answered = t.received()
    t.assertEqual(by_rule(answered), sorted([
        ("Engagement Invitation Acceptance Started", REFERRAL, "aws-referrals"),
        ("Engagement Invitation Acceptance Started", DOOMED, "aws-referrals"),
        ("Engagement Invitation Rejected", LEAD, "leads"),
    ]))
    for e in answered:
        t.assertEqual(e["detail"]["cause"], {"type": "policy", "rule": e["detail"]["cause"]["rule"],
                                             "policyHash": s["policyHash"]})
    t.assertEqual(t.records()[f"engagement#{LEAD}"]["status"]["S"], "REJECTED")
    # The tasks end an hour later (the emulator's clock): the next run publishes both outcomes.
    t.world.emulator_control("POST", "clock/advance", {"seconds": 3600})
    s = t.invoke(function, sample, env)
    t.assertEqual(ar_writes(t), (2, 1), "no second task, no second rejection")
    t.assertEqual(s["acceptancesCompleted"][0]["invitationId"], REFERRAL, s)
    t.assertEqual(s["acceptancesFailed"][0]["reasonCode"], "OpportunityValidationFailed", s)
    t.assertEqual(t.emulator_status("engagement", REFERRAL), "ACCEPTED")
    t.assertEqual(by_rule(t.received()), sorted([
        ("Engagement Invitation Acceptance Completed", REFERRAL, "aws-referrals"),
        ("Engagement Invitation Acceptance Failed", DOOMED, "aws-referrals"),
        ("Engagement Invitation Accepted", REFERRAL, "aws-referrals"),
    ]))
    t.assertEqual(t.records()[f"engagement#{REFERRAL}"]["status"]["S"], "ACCEPTED")
    t.assertEqual(t.outbox(), [])


PARTNER = "pacinv-Partner000001"
STRANGER = "pacinv-Stranger00001"
CONN_KEEP = "pacinv-KeepThisOne01"
CONN_OURS = "pacinv-Ours000000001"


def arc_seed(t0: datetime = AR_T0) -> dict:
    """Connection invitations we received (and one we sent), in the emulator's seed format."""
    def connection(id_: str, side: str, age_hours: int, other: str) -> dict:
        return {
            "Catalog": "AWS", "Id": id_, "ConnectionType": "OPPORTUNITY_COLLABORATION",
            "CreatedAt": ts(t0 - timedelta(hours=age_hours)),
            "OtherParticipantIdentifier": other, "ParticipantType": side, "Status": "PENDING",
            "InvitationMessage": "Let's build together", "InviterEmail": "ann@example.com", "InviterName": "Ann",
        }
    return {"ConnectionInvitations": [
        connection(PARTNER, "RECEIVER", 30, "111122223333"),
        connection(STRANGER, "RECEIVER", 72, "999988887777"),
        connection(CONN_KEEP, "RECEIVER", 80, "111122223333"),
        connection(CONN_OURS, "SENDER", 100, "111122223333"),
    ]}


def arc_policy(dry_run: bool) -> str:
    return json.dumps({
        "version": 1, "dryRun": dry_run, "maxActionsPerRun": 10, "maxActionsPerDay": 10,
        "rules": [
            {"name": "known-partners", "kind": "connection",
             "match": {"otherParticipantIdentifiers": ["111122223333"], "connectionTypes": ["OPPORTUNITY_COLLABORATION"]},
             "action": "accept"},
            {"name": "strangers", "kind": "connection", "match": {"olderThanHours": 48},
             "action": "reject", "rejectionReason": "Not a partner we work with"},
        ],
        "exclude": {"invitationIds": [CONN_KEEP]},
    })


def auto_respond_connections(t: SamLocalCase, function: samlocal.Function, sample: Path) -> None:
    """e2e_connections: a_connection_policy_plans_in_a_dry_run_then_answers_each_match_once:
    a dry run publishes Connection Invitation Response Planned; the real run accepts and
    rejects each match once, with the policy's cause; what we sent or excluded stays PENDING."""
    t.start_world(arc_seed(), AR_T0)
    s = t.invoke(function, sample, {"RESPOND_POLICY": arc_policy(True)})
    t.assertEqual(s["planned"], [STRANGER, PARTNER], "oldest first")
    t.assertEqual(by_rule(t.received()), sorted([
        ("Connection Invitation Response Planned", PARTNER, "known-partners"),
        ("Connection Invitation Response Planned", STRANGER, "strangers"),
    ]))
    s = t.invoke(function, sample, {"RESPOND_POLICY": arc_policy(False)})
    t.assertEqual((s["accepted"], s["rejected"]), ([PARTNER], [STRANGER]), s)
    t.assertEqual((t.emulator_requests("AcceptConnectionInvitation"),
                   t.emulator_requests("RejectConnectionInvitation")), (1, 1))
    t.assertEqual(t.emulator_status("connection", PARTNER), "ACCEPTED")
    t.assertEqual(t.emulator_status("connection", STRANGER), "REJECTED")
    for id_ in (CONN_KEEP, CONN_OURS):
        t.assertEqual(t.emulator_status("connection", id_), "PENDING", f"{id_} must be left alone")
    answered = t.received()
    t.assertEqual(by_rule(answered), sorted([
        ("Connection Invitation Accepted", PARTNER, "known-partners"),
        ("Connection Invitation Rejected", STRANGER, "strangers"),
    ]))
    for e in answered:
        t.assertEqual(e["detail"]["cause"]["policyHash"], s["policyHash"])
    t.assertEqual(t.outbox(), [])


def arc_ask_policy() -> str:
    """functions/auto-respond/tests/e2e_approvals.rs's policy: the known partner's invitation is
    accepted only once a person approves."""
    return json.dumps({
        "version": 1, "dryRun": False, "maxActionsPerRun": 10, "maxActionsPerDay": 10,
        "rules": [
            {"name": "known-partners", "kind": "connection", "ask": True,
             "match": {"otherParticipantIdentifiers": ["111122223333"]}, "action": "accept"},
        ],
        "exclude": {"invitationIds": [CONN_KEEP]},
    })


def auto_respond_approval(t: SamLocalCase, function: samlocal.Function, sample: Path) -> None:
    """e2e_approvals: the approval entry in its container. The sample's id was never issued: it
    is refused with its reason and nothing is answered. Then the scheduled run asks (Connection
    Invitation Approval Requested, no answer); the recorded id with another nonce is refused as
    forged; the genuine id accepts once, with the approval as the cause; the same again is
    alreadyDone. The policy comes through an env-vars override (SAM CLI drops the template's
    `Fn::If` value of RESPOND_POLICY).

    The world's clock is AR_T0, weeks before the machine's: every `sam local invoke` is a fresh
    process whose clock is the machine's until Partner Central answers, and the entry judges the
    approval's `until` only at the service's now (after its Get) -- judged before it, the
    genuine approval was refused as expired."""
    t.start_world(arc_seed(), AR_T0)
    env = {"RESPOND_POLICY": arc_ask_policy()}

    def accepts() -> int:
        return t.emulator_requests("AcceptConnectionInvitation")

    def decide(approval_id: str) -> dict:
        event = Path(t.world._tmp.name) / f"approval-{time.monotonic_ns()}.json"
        event.write_text(json.dumps({"approval": {"approvalId": approval_id, "decision": "approve"}}))
        return t.invoke(function, event, env)

    unknown = t.invoke(function, sample, env)
    t.assertEqual(unknown["outcome"], "refused", unknown)
    t.assertTrue(unknown["reason"].startswith(f"approvalId: no such approval was requested for invitation {PARTNER}"),
                 unknown)
    t.assertEqual(accepts(), 0)
    t.assertEqual(t.received(), [], "a refusal publishes nothing")

    asked = t.invoke(function, EVENTS / "auto-respond-connections.json", env)
    t.assertEqual(accepts(), 0, asked)
    (request,) = t.received()
    t.assertEqual((request["detail-type"], request["detail"]["invitationId"]),
                  ("Connection Invitation Approval Requested", PARTNER))
    approval = request["detail"]["approval"]
    t.assertEqual((approval["action"], approval["rule"], approval["function"]), ("accept", "known-partners", "auto-respond"))
    approval_id = approval["approvalId"]

    parts = approval_id.split(":")
    parts[4] = "0" * len(parts[4])
    forged = decide(":".join(parts))
    t.assertEqual(forged["outcome"], "refused", forged)
    t.assertTrue(forged["reason"].startswith("approvalId:"), forged)
    t.assertEqual((accepts(), t.emulator_status("connection", PARTNER)), (0, "PENDING"))
    t.assertEqual(t.received(), [])

    approved = decide(approval_id)
    t.assertEqual((approved["outcome"], approved["status"]), ("done", "ACCEPTED"), approved)
    t.assertEqual((accepts(), t.emulator_status("connection", PARTNER)), (1, "ACCEPTED"))
    (accepted,) = t.received()
    t.assertEqual(accepted["detail-type"], "Connection Invitation Accepted")
    t.assertEqual(accepted["detail"]["cause"], {"type": "approval", "rule": "known-partners",
                                                "policyHash": approval["policyHash"], "approvalId": approval_id})
    t.assertEqual(t.records()[f"connection#{PARTNER}"]["status"]["S"], "ACCEPTED")

    replay = decide(approval_id)
    t.assertEqual(replay["outcome"], "alreadyDone", replay)
    t.assertEqual(accepts(), 1, "the same approval acts once")
    t.assertEqual(t.received(), [])
    t.assertEqual(t.outbox(), [])


def native_relay_sqs_batch(t: SamLocalCase, function: samlocal.Function, sample: Path) -> None:
    """relay tests: an accepted invitation arrives through the native events' queue, published
    once with the poller's event id; the poller then publishes nothing new for it."""
    t.start_world(lp_seed(), LP_T0)
    list_and_publish = next(f for f in FUNCTIONS if f.binary == "list-and-publish")
    scheduled = EVENTS / "list-and-publish-scheduled.json"
    t.invoke(list_and_publish, scheduled)
    t.received()
    t.world.emulator_control("PATCH", f"engagement-invitations/AWS/{eid('a')}", {"Status": "ACCEPTED"})
    out = t.invoke(function, sample)
    t.assertEqual(out, {"batchItemFailures": []}, "every record relayed or ignored")
    t.assertEqual(facts(t.received()), [("Engagement Invitation Accepted", eid("a"))])
    # One Get per invitation named: the accepted engagement and the connection already known.
    t.assertEqual(t.emulator_requests("GetEngagementInvitation"), 1)
    t.assertEqual(t.emulator_requests("GetConnectionInvitation"), 1)
    t.assertEqual(t.records()[f"engagement#{eid('a')}"]["status"]["S"], "ACCEPTED")
    t.assertEqual(t.outbox(), [])
    # Reconciliation: the poller sees the same fact already recorded and publishes nothing.
    out = t.invoke(list_and_publish, scheduled)
    t.assertEqual(out["changes"], {}, out)
    t.assertEqual(t.received(), [])


def native_relay_event(t: SamLocalCase, function: samlocal.Function, sample: Path) -> None:
    """relay tests: a native event invoked directly (a rule -> Lambda target) for an invitation
    nobody has seen: Created within the invocation; the poller's baseline does not repeat it."""
    seed = lp_seed()
    seed["EngagementInvitations"].append(
        lp_engagement("f", "RECEIVER", "PENDING", LP_T0 - timedelta(hours=1), LP_T0 + timedelta(days=15)))
    t.start_world(seed, LP_T0)
    out = t.invoke(function, sample)
    t.assertEqual(out["trigger"], "event", out)
    t.assertEqual(out["changes"], {"Engagement Invitation Created": 1}, out)
    t.assertEqual(facts(t.received()), [("Engagement Invitation Created", eid("f"))])
    list_and_publish = next(f for f in FUNCTIONS if f.binary == "list-and-publish")
    out = t.invoke(list_and_publish, EVENTS / "list-and-publish-scheduled.json")
    t.assertNotIn(("Engagement Invitation Created", eid("f")), facts(t.received()), "published once")


def notify_sample(t: SamLocalCase, function: samlocal.Function, sample: Path) -> None:
    """notify e2e: the event a rule delivers becomes one custom notification on the topic (the
    subscriber queue gets SNS's `default` message), valid against the documented schema, with an
    ASCII subject; an approval request names the stack's function in its command."""
    import jsonschema

    t.start_world(lp_seed(), LP_T0)
    event = json.loads(sample.read_text())
    out = t.invoke(function, sample, {"AUTO_RESPOND_FUNCTION_NAME": "s-auto-respond"})
    t.assertEqual(out["detailType"], event["detail-type"], out)
    t.assertEqual(out["eventId"], event["detail"]["eventId"], out)
    t.assertTrue(out["messageId"], out)
    (envelope,) = t.world.notifications()
    t.assertTrue(envelope["Subject"].isascii() and len(envelope["Subject"]) < 100, envelope["Subject"])
    chat = json.loads(envelope["Message"])
    schema = json.loads((samlocal.ROOT / "tests" / "notify" / "custom-notification.schema.json").read_text())
    jsonschema.validate(chat, schema)
    t.assertEqual(chat["metadata"]["threadId"], event["detail"]["invitationId"])
    if "approval" in event["detail"]:
        t.assertEqual(out["approval"], True)
        t.assertEqual(chat["metadata"]["eventType"], "approval-requested")
        t.assertIn("--function-name s-auto-respond", json.dumps(chat["content"]["nextSteps"]))
    t.assertEqual(t.received(), [], "notify puts nothing on the bus")


SCENARIOS = {
    "list-and-publish-scheduled.json": list_and_publish_scheduled,
    "list-and-publish-full-sync.json": list_and_publish_full_sync,
    "expire-sweeper-scheduled.json": expire_sweeper_scheduled,
    "expire-sweeper-digest.json": expire_sweeper_digest,
    "auto-cancel-dry-run.json": auto_cancel_dry_run,
    "auto-cancel-scheduled.json": auto_cancel_scheduled,
    "auto-respond-dry-run.json": auto_respond_dry_run,
    "auto-respond-scheduled.json": auto_respond_scheduled,
    "auto-respond-connections.json": auto_respond_connections,
    "auto-respond-approval.json": auto_respond_approval,
    "native-relay-sqs-batch.json": native_relay_sqs_batch,
    "native-relay-event.json": native_relay_event,
    "notify-approval-requested.json": notify_sample,
    "notify-engagement-invitation-created.json": notify_sample,
}


class EveryFunctionWithEverySample(SamLocalCase):
    """Filled in below: test_<LogicalId>__<sample> for every function and sample."""

    def test_every_function_has_a_sample_and_every_sample_a_function(self):
        self.assertGreaterEqual(len(FUNCTIONS), 3, "the built template lists the functions")
        for function in FUNCTIONS:
            self.assertTrue(samples(function), f"{function.logical_id}: no events/{function.binary}-*.json")
        owned = {p for f in FUNCTIONS for p in samples(f)}
        orphans = [p.name for p in EVENTS.glob("*.json") if p not in owned and not p.name.endswith(".example.json")]
        self.assertEqual(orphans, [], "sample events of no function in the template")


def _scenario_test(function: samlocal.Function, sample: Path):
    def test(self: SamLocalCase) -> None:
        scenario = SCENARIOS.get(sample.name)
        if scenario is None:
            self.fail(f"no sam local scenario for {sample.name} ({function.logical_id}): add one to SCENARIOS")
        started = time.monotonic()
        scenario(self, function, sample)
        TIMINGS.append((f"{function.logical_id} with {sample.name} (scenario)", time.monotonic() - started))

    test.__doc__ = f"sam local invoke {function.logical_id} --event events/{sample.name}"
    return test


for _function in FUNCTIONS:
    for _sample in samples(_function):
        _name = f"test_{_function.logical_id}__{_sample.stem.replace('-', '_')}"
        setattr(EveryFunctionWithEverySample, _name, _scenario_test(_function, _sample))


class BadConfiguration(SamLocalCase):
    def test_the_start_up_error_reaches_the_sam_local_invoke_output_naming_the_variable(self):
        function = samlocal.function_by_name(TEMPLATE, "ExpireSweeperFunction")
        self.start_world(es_seed([(1, 10)]), ES_T0)
        result = self.sam.invoke(function, EVENTS / "expire-sweeper-scheduled.json",
                                 {"EXPIRY_WARNING_HOURS": "72,soon"})
        TIMINGS.append(("sam local invoke with a bad EXPIRY_WARNING_HOURS", result.seconds))
        self.assertIn("EXPIRY_WARNING_HOURS", result.output)
        self.assertIn("soon", result.output)
        # The process exits at start-up; the runtime interface emulator reports the failed init.
        self.assertIn("Runtime exited with error: exit status 1", result.output)
        self.assertEqual(self.world.received(), [], "nothing published")


class StartLambda(SamLocalCase):
    def test_boto3_invokes_a_function_through_sam_local_start_lambda(self):
        import boto3
        from botocore.config import Config

        function = samlocal.function_by_name(TEMPLATE, "ListAndPublishFunction")
        self.start_world(lp_seed(), LP_T0)
        started = time.monotonic()
        api = self.sam.start_lambda()
        self.addCleanup(api.close)
        TIMINGS.append(("sam local start-lambda ready", time.monotonic() - started))
        client = boto3.client(
            "lambda", endpoint_url=api.endpoint, region_name=samlocal.REGION,
            aws_access_key_id=samlocal.ACCESS_KEY, aws_secret_access_key=samlocal.SECRET_KEY,
            config=Config(read_timeout=300, retries={"max_attempts": 1}),
        )
        payload = (EVENTS / "list-and-publish-scheduled.json").read_bytes()
        outcomes = []
        for _ in range(2):
            started = time.monotonic()
            response = client.invoke(FunctionName=function.logical_id, Payload=payload)
            TIMINGS.append((f"boto3 lambda.invoke {function.logical_id} via start-lambda", time.monotonic() - started))
            body = json.loads(response["Payload"].read())
            self.assertEqual(response["StatusCode"], 200)
            self.assertNotIn("FunctionError", response, body)
            outcomes.append((body["mode"], len(self.received())))
        # A baseline with the eight pending invitations, then a run that finds the state it wrote.
        self.assertEqual(outcomes, [("baseline", 8), ("incremental", 0)])


class Smoke(SamLocalCase):
    """`make smoke` against `sam local start-lambda` and the stand-ins: every function's health
    check, every check ok, one Health Check event per function, nothing else changed."""

    def test_make_smoke_prints_every_check_ok_for_every_function(self):
        self.start_world(lp_seed(), LP_T0)
        # SAM CLI drops environment variables whose value is an `Fn::If` (the template sets
        # CANCEL_POLICY / RESPOND_POLICY or their `…_PARAMETER` twin under one), so sam local is
        # given the policy the way a developer gives it: an env-vars override.
        api = self.sam.start_lambda(env={"AutoCancelFunction": {"CANCEL_POLICY": ac_policy()},
                                         "AutoRespondFunction": {"RESPOND_POLICY": ar_policy()}})
        self.addCleanup(api.close)
        env = {**os.environ, "AWS_ACCESS_KEY_ID": samlocal.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": samlocal.SECRET_KEY,
               "AWS_DEFAULT_REGION": samlocal.REGION, "AWS_CONFIG_FILE": "/nonexistent",
               "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
        started = time.monotonic()
        run = subprocess.run([sys.executable, str(samlocal.ROOT / "deploy" / "smoke.py"), "--local", api.endpoint],
                             capture_output=True, text=True, env=env, timeout=900)
        TIMINGS.append(("make smoke via start-lambda (6 functions)", time.monotonic() - started))
        print(f"\n{run.stdout}", file=sys.stderr)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        rows = [line.split() for line in run.stdout.splitlines()[2:] if line and not line.startswith("smoke:")]
        functions = sorted(f.logical_id for f in FUNCTIONS)
        self.assertEqual(sorted({r[0] for r in rows}), functions)
        self.assertTrue(all(" ok " in f" {line} " for line in run.stdout.splitlines()[2:-1]), run.stdout)
        # 5 checks for the functions that read both APIs (auto-respond too, now that it answers
        # connection invitations), 4 for auto-cancel (the Account API only); notify's one: a
        # Health Check notification published to its topic.
        self.assertEqual(len(rows), 5 + 5 + 4 + 5 + 5 + 1, run.stdout)
        (health,) = self.world.notifications()
        self.assertTrue(health["Subject"].startswith("Health check"), health)
        events = self.received()
        self.assertEqual(sorted(e["detail"]["function"] for e in events),
                         sorted(["list-and-publish", "expire-sweeper", "auto-cancel", "auto-respond", "native-relay"]))
        self.assertTrue(all(e["detail-type"] == "Health Check" for e in events))
        self.assertEqual(self.records(), {}, "no invitation record written")
        self.assertEqual(self.outbox(), [], "nothing queued")


if __name__ == "__main__":
    unittest.main()

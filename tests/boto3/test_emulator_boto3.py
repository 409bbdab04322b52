"""The emulator as boto3 sees it: the unmodified AWS SDK for Python, pointed at it with
`endpoint_url`, parses every answer (timestamps, paginators, modelled errors) as it would
Partner Central's.

Runs the `partnercentral-local` binary that `cargo build --workspace --bins` built
(`EMULATOR_BIN`, default `target/debug/partnercentral-local`), on a free port, with a seed.
"""

import datetime
import json
import os
import pathlib
import subprocess
import re
import tempfile
import unittest
import urllib.request

import boto3
import botocore.config
import botocore.exceptions

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
EMULATOR_BIN = pathlib.Path(os.environ.get("EMULATOR_BIN", TARGET / "debug" / "partnercentral-local"))
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=datetime.timezone.utc)
ME = "111122223333"


def connection(n, participant, status="PENDING", days_ago=1):
    created = NOW - datetime.timedelta(days=days_ago, minutes=n)
    return {
        "Catalog": "AWS",
        "Id": f"pacinv-B{n:012d}",
        "ConnectionType": "OPPORTUNITY_COLLABORATION",
        "CreatedAt": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "OtherParticipantIdentifier": f"{444455550000 + n}",
        "ParticipantType": participant,
        "Status": status,
        "InvitationMessage": f"Hello {n}",
        "InviterName": "Ann",
        "InviterEmail": "ann@example.com",
    }


def engagement(n, days_ago):
    date = NOW - datetime.timedelta(days=days_ago, minutes=n)
    return {
        "Catalog": "AWS",
        "Id": f"engi-b{n:012d}",
        "PayloadType": "OpportunityInvitation",
        "EngagementId": f"eng-b{n:013d}",
        "SenderAwsAccountId": "123456789012",
        "InvitationDate": date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ParticipantType": "RECEIVER",
    }


# 25 connection invitations (17 we sent, one of them already accepted), 23 engagement
# invitations spread over 30 days (those older than 15 days have expired on the clock).
SEED = {
    "ConnectionInvitations": [connection(n, "SENDER" if n % 3 else "RECEIVER") for n in range(1, 25)]
    + [connection(25, "SENDER", status="ACCEPTED", days_ago=40)],
    "EngagementInvitations": [engagement(n, days_ago=n * 1.3) for n in range(1, 24)],
}


class Boto3AgainstEmulator(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not EMULATOR_BIN.exists():
            raise RuntimeError(f"{EMULATOR_BIN} not built: run `cargo build --workspace --bins` first")
        cls.tmp = tempfile.TemporaryDirectory()
        seed = pathlib.Path(cls.tmp.name) / "seed.json"
        seed.write_text(json.dumps(SEED))
        cls.proc = subprocess.Popen(
            [
                str(EMULATOR_BIN),
                "--listen",
                "127.0.0.1:0",
                "--seed",
                str(seed),
                "--clock",
                NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "--freeze-clock",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        # The one readiness line: `partnercentral-local listening on 127.0.0.1:<port>`.
        line = cls.proc.stdout.readline().strip()
        if not line.startswith("partnercentral-local listening on "):
            cls.proc.kill()
            cls.proc.wait()
            raise RuntimeError(f"emulator did not start: {line!r} (exit {cls.proc.poll()})")
        url = "http://" + line.rsplit(" ", 1)[1]
        cls.url = url
        session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )
        config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 1})
        cls.account = session.client("partnercentral-account", endpoint_url=url, config=config)
        cls.selling = session.client("partnercentral-selling", endpoint_url=url, config=config)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()  # SIGTERM: the emulator shuts down cleanly, exit status 0
        status = cls.proc.wait(timeout=30)
        cls.tmp.cleanup()
        if status != 0:
            raise AssertionError(f"emulator exited with {status} on SIGTERM")

    def test_connection_paginator_with_filters_neither_repeats_nor_skips(self):
        pages = self.account.get_paginator("list_connection_invitations").paginate(
            Catalog="AWS",
            ParticipantType="RECEIVER",
            Status="PENDING",
            PaginationConfig={"PageSize": 3},
        )
        page_sizes, ids = [], []
        for page in pages:
            page_sizes.append(len(page["ConnectionInvitationSummaries"]))
            ids += [s["Id"] for s in page["ConnectionInvitationSummaries"]]
        expected = sorted(
            c["Id"]
            for c in SEED["ConnectionInvitations"]
            if c["ParticipantType"] == "RECEIVER" and c["Status"] == "PENDING"
        )
        self.assertEqual(page_sizes, [3, 3, 2])
        self.assertEqual(sorted(ids), expected)
        self.assertEqual(len(set(ids)), len(ids))

    def test_timestamps_and_members_parse_as_the_model_says(self):
        got = self.account.get_connection_invitation(Catalog="AWS", Identifier="pacinv-B000000000001")
        self.assertEqual(got["CreatedAt"], NOW - datetime.timedelta(days=1, minutes=1))
        self.assertEqual(got["ExpiresAt"], got["CreatedAt"] + datetime.timedelta(days=15))
        self.assertEqual(got["InviterName"], "Ann")
        self.assertEqual(got["InvitationMessage"], "Hello 1")
        self.assertTrue(got["Arn"].endswith("/connection-invitation/pacinv-B000000000001"), got["Arn"])

    def test_cancel_is_idempotent_per_client_token_and_conflicts_otherwise(self):
        first = self.account.cancel_connection_invitation(
            Catalog="AWS", Identifier="pacinv-B000000000002", ClientToken="boto3-token-1"
        )
        again = self.account.cancel_connection_invitation(
            Catalog="AWS", Identifier="pacinv-B000000000002", ClientToken="boto3-token-1"
        )
        self.assertEqual(first["Status"], "CANCELED")
        self.assertEqual(again["Status"], "CANCELED")
        self.assertEqual(first["UpdatedAt"], again["UpdatedAt"])
        # The same token for another invitation, and cancelling what we received: conflicts.
        for identifier, token in [("pacinv-B000000000004", "boto3-token-1"), ("pacinv-B000000000003", "t2")]:
            with self.assertRaises(self.account.exceptions.ConflictException, msg=identifier):
                self.account.cancel_connection_invitation(Catalog="AWS", Identifier=identifier, ClientToken=token)

    def test_modelled_errors_arrive_as_their_boto3_exceptions_naming_the_field(self):
        with self.assertRaises(self.account.exceptions.ValidationException) as bad:
            self.account.get_connection_invitation(Catalog="AWS", Identifier="not-an-id")
        self.assertIn("Identifier", str(bad.exception))
        with self.assertRaises(self.account.exceptions.ResourceNotFoundException):
            self.account.get_connection_invitation(Catalog="AWS", Identifier="pacinv-Z000000000000")
        with self.assertRaises(self.selling.exceptions.ValidationException) as bad:
            self.selling.list_engagement_invitations(Catalog="AWS", ParticipantType="RECEIVER", MaxResults=101)
        self.assertIn("MaxResults", str(bad.exception))

    def test_an_operation_the_emulator_does_not_serve_is_an_unknown_operation(self):
        with self.assertRaises(botocore.exceptions.ClientError) as err:
            self.selling.list_opportunities(Catalog="AWS")
        self.assertEqual(err.exception.response["Error"]["Code"], "UnknownOperationException")

    def test_engagement_paginator_sorted_by_invitation_date_and_expired_by_the_clock(self):
        pages = self.selling.get_paginator("list_engagement_invitations").paginate(
            Catalog="AWS",
            ParticipantType="RECEIVER",
            Sort={"SortOrder": "ASCENDING", "SortBy": "InvitationDate"},
            PaginationConfig={"PageSize": 5},
        )
        summaries = [s for page in pages for s in page["EngagementInvitationSummaries"]]
        dates = [s["InvitationDate"] for s in summaries]
        self.assertEqual(len(summaries), 23)
        self.assertEqual(dates, sorted(dates))
        for s in summaries:
            expired = s["ExpirationDate"] <= NOW
            self.assertEqual(s["Status"], "EXPIRED" if expired else "PENDING", s["Id"])
        self.assertEqual(sum(s["Status"] == "PENDING" for s in summaries), 11)

    def control(self, method, path, body):
        request = urllib.request.Request(
            self.url + path, method=method, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def test_acceptance_tasks_are_idempotent_end_by_plan_and_page_with_the_paginator(self):
        # Sandbox, so the AWS catalog the other tests count stays as seeded; DelaySeconds 0: the
        # tasks end at the (frozen) instant they start, seen by the next request.
        for n, outcome in [(1, {"DelaySeconds": 0}), (2, {"DelaySeconds": 0, "ReasonCode": "InvitationAccessDenied"})]:
            self.control(
                "POST",
                "/_emulator/engagement-invitations",
                {"Catalog": "Sandbox", "Id": f"engi-t{n:012d}", "EmulatorTaskOutcome": outcome},
            )
        first = self.selling.start_engagement_by_accepting_invitation_task(
            Catalog="Sandbox", Identifier="engi-t000000000001", ClientToken="boto3-task-1"
        )
        self.assertEqual(first["TaskStatus"], "IN_PROGRESS")
        self.assertEqual(first["StartTime"], NOW)
        again = self.selling.start_engagement_by_accepting_invitation_task(
            Catalog="Sandbox", Identifier="engi-t000000000001", ClientToken="boto3-task-1"
        )
        self.assertEqual(again["TaskId"], first["TaskId"])
        self.assertEqual(again["TaskStatus"], "COMPLETE")
        self.assertRegex(again["OpportunityId"], re.compile(r"^O[0-9]+$"))
        with self.assertRaises(self.selling.exceptions.ConflictException):
            self.selling.start_engagement_by_accepting_invitation_task(
                Catalog="Sandbox", Identifier="engi-t000000000002", ClientToken="boto3-task-1"
            )
        self.selling.start_engagement_by_accepting_invitation_task(
            Catalog="Sandbox", Identifier="engi-t000000000002", ClientToken="boto3-task-2"
        )
        pages = self.selling.get_paginator("list_engagement_by_accepting_invitation_tasks").paginate(
            Catalog="Sandbox", PaginationConfig={"PageSize": 1}
        )
        tasks = {t["EngagementInvitationId"]: t for page in pages for t in page["TaskSummaries"]}
        self.assertEqual(sorted(tasks), ["engi-t000000000001", "engi-t000000000002"])
        self.assertEqual(tasks["engi-t000000000001"]["TaskStatus"], "COMPLETE")
        self.assertEqual(tasks["engi-t000000000002"]["TaskStatus"], "FAILED")
        self.assertEqual(tasks["engi-t000000000002"]["ReasonCode"], "InvitationAccessDenied")
        statuses = [
            self.selling.get_engagement_invitation(Catalog="Sandbox", Identifier=f"engi-t{n:012d}")["Status"]
            for n in (1, 2)
        ]
        self.assertEqual(statuses, ["ACCEPTED", "PENDING"])


    def test_accept_and_reject_connection_invitations_with_tokens_and_the_active_connection_quota(self):
        # Sandbox, so the AWS catalog the other tests count stays as seeded.
        for n in (1, 2, 3):
            entry = dict(connection(n, "RECEIVER"), Catalog="Sandbox", Id=f"pacinv-Q{n:012d}")
            self.control("POST", "/_emulator/connection-invitations", entry)
        self.control("POST", "/_emulator/quotas", {"active_connections": 1})
        try:
            accepted = self.account.accept_connection_invitation(
                Catalog="Sandbox", Identifier="pacinv-Q000000000001", ClientToken="boto3-accept-1"
            )
            connection_id = accepted["Connection"]["Id"]
            self.assertRegex(connection_id, r"^pac-")
            self.assertEqual(
                accepted["Connection"]["ConnectionTypes"]["OPPORTUNITY_COLLABORATION"]["Status"], "ACTIVE"
            )
            with self.assertRaises(self.account.exceptions.ServiceQuotaExceededException) as quota:
                self.account.accept_connection_invitation(
                    Catalog="Sandbox", Identifier="pacinv-Q000000000002", ClientToken="boto3-accept-2"
                )
            error = quota.exception.response["Error"]
            self.assertEqual(quota.exception.response["Reason"], "LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION")
            self.assertIn("limit of 1 active connections", error["Message"])
            # The same token again answers as before, even at the limit.
            again = self.account.accept_connection_invitation(
                Catalog="Sandbox", Identifier="pacinv-Q000000000001", ClientToken="boto3-accept-1"
            )
            self.assertEqual(again["Connection"]["Id"], connection_id)
            rejected = self.account.reject_connection_invitation(
                Catalog="Sandbox", Identifier="pacinv-Q000000000003", ClientToken="boto3-reject-3", Reason="Not now"
            )
            self.assertEqual(rejected["Status"], "REJECTED")
            replay = self.account.reject_connection_invitation(
                Catalog="Sandbox", Identifier="pacinv-Q000000000003", ClientToken="boto3-reject-3", Reason="Not now"
            )
            self.assertEqual(replay["UpdatedAt"], rejected["UpdatedAt"])
            with self.assertRaises(self.account.exceptions.ConflictException) as conflict:
                self.account.reject_connection_invitation(
                    Catalog="Sandbox", Identifier="pacinv-Q000000000003", ClientToken="boto3-reject-3", Reason="Other"
                )
            self.assertEqual(conflict.exception.response["Reason"], "CONFLICT_CLIENT_TOKEN")
            # The refused accept consumed no token: with room again, the same token accepts.
            quotas = self.control("POST", "/_emulator/quotas", {"active_connections": 2})
            self.assertEqual(quotas["usage"]["Sandbox"], {"active_connections": 1})
            later = self.account.accept_connection_invitation(
                Catalog="Sandbox", Identifier="pacinv-Q000000000002", ClientToken="boto3-accept-2"
            )
            self.assertNotEqual(later["Connection"]["Id"], connection_id)
        finally:
            self.control("POST", "/_emulator/quotas", {"active_connections": 1000})


if __name__ == "__main__":
    unittest.main()

"""`make preflight` (deploy/preflight.py) against the local stand-ins through the standard
endpoint variables: every check passes on a sound account, and each check refuses the broken
prerequisite it exists for, with its message.

Run: python -m unittest discover -s tests/deploy (the venv's python; the emulator built)."""

import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

import boto3

from standins import ROOT, Emulator, LambdaAccountSettings, Moto, free_port

PREFLIGHT = ROOT / "deploy" / "preflight.py"
STACK = "pc-invitations"


class PreflightTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = Moto()
        cls.emulator = Emulator()
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()
        cls.emulator.stop()
        cls.tmp.cleanup()

    def setUp(self):
        self.moto.reset()
        self.lam = LambdaAccountSettings()
        self.addCleanup(self.lam.stop)

    def env(self, **overrides):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_ENDPOINT_URL": self.moto.url,
            "AWS_ENDPOINT_URL_PARTNERCENTRAL_ACCOUNT": self.emulator.url,
            "AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING": self.emulator.url,
            "AWS_ENDPOINT_URL_LAMBDA": self.lam.url,
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        for k, v in overrides.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def samconfig(self, region="us-east-1", overrides=""):
        path = pathlib.Path(self.tmp.name) / f"samconfig-{self.id().rsplit('.', 1)[-1]}.toml"
        lines = ["version = 0.1", "[default.global.parameters]", f'stack_name = "{STACK}"']
        if region:
            lines.append(f'region = "{region}"')
        lines += ["[default.deploy.parameters]", f'parameter_overrides = "{overrides}"']
        path.write_text("\n".join(lines) + "\n")
        return path

    def preflight(self, *args, env=None, config=None):
        config = config or self.samconfig()
        run = subprocess.run([sys.executable, str(PREFLIGHT), "--config-file", str(config), *args],
                             env=env or self.env(), capture_output=True, text=True, timeout=120)
        return run.returncode, run.stdout + run.stderr

    def client(self, service):
        return boto3.client(service, region_name="us-east-1", endpoint_url=self.moto.url,
                            aws_access_key_id="test", aws_secret_access_key="test")

    def assert_refused(self, out_code, check, *phrases):
        code, out = out_code
        self.assertEqual(code, 1, out)
        failing = [line for line in out.splitlines() if line.startswith("FAIL")]
        self.assertEqual(len(failing), 1, f"exactly the {check} check fails:\n{out}")
        self.assertTrue(failing[0].startswith(f"FAIL  {check}"), out)
        for phrase in phrases:
            self.assertIn(phrase, out)
        print(f"\n{out}", file=sys.stderr)

    def test_a_sound_account_passes_every_check(self):
        code, out = self.preflight()
        self.assertEqual(code, 0, out)
        for name in ("credentials and account", "region", "stack name", "Partner Central Account API (AWS)",
                     "Partner Central Selling API (AWS)", "retained state table"):
            self.assertIn(f"ok    {name}: ", out)
        # Nothing is reserved (the budget and one run at a time are leases in the state table).
        self.assertIn("skip  Lambda concurrency headroom: the template reserves no concurrency", out)
        self.assertIn("preflight: every check passed.", out)

    def test_no_credentials(self):
        env = self.env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
        self.assert_refused(self.preflight(env=env), "credentials and account", "no AWS credentials found",
                            "aws configure")

    def test_a_region_other_than_us_east_1(self):
        config = self.samconfig(region="eu-west-1")
        self.assert_refused(self.preflight(config=config), "region", "eu-west-1: the Partner Central APIs are served only from us-east-1")

    def test_partner_central_unreachable(self):
        closed = f"http://127.0.0.1:{free_port()}"
        env = self.env(AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING=closed)
        self.assert_refused(self.preflight(env=env), "Partner Central Selling API (AWS)",
                            "cannot reach partnercentral-selling")

    def test_a_stack_name_too_long(self):
        name = "p" * 48
        self.assert_refused(self.preflight("--stack", name), "stack name", f"'{name}' has 48 characters; at most 47 fit")

    def test_a_retained_state_table_of_an_earlier_stack(self):
        self.client("dynamodb").create_table(
            TableName=f"{STACK}-StateTable-1AB2CD3EF4", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        self.assert_refused(self.preflight(), "retained state table", f"{STACK}-StateTable-1AB2CD3EF4 outlived",
                            "aws dynamodb delete-table")

    def test_an_alarm_topic_encrypted_with_a_key_cloudwatch_cannot_use(self):
        kms, sns = self.client("kms"), self.client("sns")
        key = kms.create_key(Description="no CloudWatch statement")["KeyMetadata"]["KeyId"]
        topic = sns.create_topic(Name="alarms", Attributes={"KmsMasterKeyId": key})["TopicArn"]
        config = self.samconfig(overrides=f"AlarmTopicArn={topic}")
        self.assert_refused(self.preflight(config=config), "AlarmTopicArn encryption",
                            "does not let cloudwatch.amazonaws.com use kms:Decrypt and kms:GenerateDataKey*")
        # The AWS managed aws/sns key: its policy cannot be changed.
        managed = sns.create_topic(Name="managed", Attributes={"KmsMasterKeyId": "alias/aws/sns"})["TopicArn"]
        config = self.samconfig(overrides=f"AlarmTopicArn={managed}")
        self.assert_refused(self.preflight(config=config), "AlarmTopicArn encryption", "AWS managed key")

    def test_a_low_lambda_concurrency_quota_no_longer_blocks_the_deploy(self):
        # A new account's reduced quota (50, all unreserved): with reservations CreateStack failed
        # here ("would leave less than 100 unreserved"); the template reserves nothing now.
        self.lam.concurrent, self.lam.unreserved = 50, 50
        code, out = self.preflight()
        self.assertEqual(code, 0, out)
        self.assertIn("skip  Lambda concurrency headroom: the template reserves no concurrency", out)

if __name__ == "__main__":
    unittest.main()

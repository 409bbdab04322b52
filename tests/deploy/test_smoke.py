"""`make smoke`'s table (deploy/smoke.py): a function's denied check is a row naming the denied
action and the fix, a failed invocation is a row, and only an all-ok run exits 0. (The run
against `sam local start-lambda` with every check ok is in tests/sam_local.)"""

import io
import json
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy"))

import smoke  # noqa: E402

DENIED = {
    "function": "auto-cancel", "catalog": "AWS", "healthy": False,
    "checks": [
        {"check": "Partner Central Account API", "action": "partnercentral:ListConnectionInvitations",
         "result": "denied", "message": "User: arn:aws:sts::1:assumed-role/r/f is not authorized to perform: "
         "partnercentral:ListConnectionInvitations on resource: *",
         "fix": "allow partnercentral:ListConnectionInvitations to the function's role: redeploy the stack"},
        {"check": "state table write", "action": "dynamodb:UpdateItem", "result": "ok", "detail": "allowed"},
    ],
}


class Invoked:
    """What boto3's lambda.invoke returns, for one payload."""

    def __init__(self, body, function_error=None):
        self.body, self.function_error = body, function_error

    def invoke(self, FunctionName, Payload):  # noqa: N803 - boto3's names
        assert json.loads(Payload) == {"healthCheck": True}
        response = {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(self.body).encode())}
        if self.function_error:
            response["FunctionError"] = self.function_error
        return response


class SmokeTableTest(unittest.TestCase):
    def test_a_denied_call_is_a_row_naming_the_action_and_the_fix(self):
        report = smoke.invoke(Invoked(DENIED), "AutoCancelFunction")
        rows = list(smoke.rows("AutoCancelFunction", report))
        self.assertEqual(rows[0][:3], ("AutoCancelFunction", "Partner Central Account API",
                                       "DENIED partnercentral:ListConnectionInvitations"))
        self.assertIn("redeploy the stack", rows[0][3])
        self.assertEqual(rows[1][2], "ok")
        self.assertIn("DENIED partnercentral:ListConnectionInvitations", smoke.table(rows))

    def test_a_function_error_is_a_failed_row(self):
        report = smoke.invoke(Invoked({"errorType": "ConfigurationError", "errorMessage": "CATALOG=\"Prod\" is invalid"},
                                      "Unhandled"), "ListAndPublishFunction")
        self.assertFalse(report["healthy"])
        (row,) = smoke.rows("ListAndPublishFunction", report)
        self.assertEqual(row[1:3], ("invoke", "FAILED"))
        self.assertIn("CATALOG", row[3])


if __name__ == "__main__":
    unittest.main()

"""The example consumer stack's chat channel (examples/consumer/template.yaml, `ChatTopic`):
what its routing rules' `chat-topic` targets make of every sample event, through moto's
EventBridge input transformer.

Each such target must turn the event into an Amazon Q Developer in chat applications custom
notification (`version` "1.0", `source` "custom", `content.textType` "client-markdown": the
documented schema, https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html)
that names the detail-type and the invitation, and must carry no text another company wrote
(engagement titles, company names, messages: hostile wherever a person reads it, here as
markdown in a chat channel).

moto delivers no SNS target, so each target's transformer is put on a rule delivering to an
SQS queue. moto's transformer is a simplified one (jsonpath_ng, string replacement); what
EventBridge itself renders, and what Amazon Q Developer shows of it, is not exercised here.
"""

import unittest

from moto import mock_aws

import published

BUS = "consumer-bus"


def chat_targets():
    """rule logical id -> (resolved pattern, the chat-topic target's InputTransformer)."""
    tpl = published.load_template(published.CONSUMER_TEMPLATE)
    params = published.parameter_values(tpl)
    patterns = published.consumer_rules()
    out = {}
    for name, resource in tpl["Resources"].items():
        if resource["Type"] != "AWS::Events::Rule":
            continue
        for target in resource["Properties"]["Targets"]:
            if target["Id"] == "chat-topic":
                transformer = published.resolve(target["InputTransformer"], params, f"{name}.chat-topic")
                out[name] = (patterns[name], transformer)
    return out


def hostile_texts(event):
    """Strings of the sample that other companies write."""
    invitation = event["detail"].get("invitation") or {}
    other = invitation.get("otherParty") or {}
    details = invitation.get("details") or {}
    texts = [invitation.get("engagementTitle"), other.get("senderCompanyName"), other.get("receiverAlias"),
             details.get("invitationMessage"), details.get("inviterName"), details.get("inviterEmail")]
    return [t for t in texts if isinstance(t, str) and len(t) > 3]


class ChatNotificationsTest(unittest.TestCase):
    def test_the_chat_topic_gets_created_accepted_and_expiring_soon(self):
        self.assertEqual(set(chat_targets()), {"CrmRule", "ExpiringSoonRule"})

    @mock_aws
    def test_every_event_routed_to_chat_becomes_a_custom_notification_without_foreign_text(self):
        eb, sqs = published.client("events"), published.client("sqs")
        eb.create_event_bus(Name=BUS)
        queues = {}
        for i, (rule, (pattern, transformer)) in enumerate(chat_targets().items()):
            url, arn = published.queue(sqs, f"chat-{i}")
            eb.put_rule(Name=rule, EventBusName=BUS, EventPattern=published.json.dumps(pattern))
            eb.put_targets(Rule=rule, EventBusName=BUS,
                           Targets=[{"Id": "chat", "Arn": arn, "InputTransformer": transformer}])
            queues[rule] = url
        delivered = set()
        for detail_type, event in published.samples().items():
            published.put(eb, BUS, event)
            for rule, url in queues.items():
                for message in published.drain(sqs, url):
                    delivered.add(detail_type)
                    with self.subTest(rule=rule, detail_type=detail_type):
                        self.assertEqual((message["version"], message["source"]), ("1.0", "custom"))
                        content = message["content"]
                        self.assertEqual(content["textType"], "client-markdown")
                        self.assertTrue(content["title"].startswith(detail_type), content["title"])
                        invitation_id = event["detail"]["invitationId"]
                        self.assertIn(f"`{invitation_id}`", content["description"])
                        self.assertNotIn("<", content["title"] + content["description"], "a placeholder left unfilled")
                        self.assertEqual(message["id"], event["detail"]["eventId"])
                        self.assertEqual(message["metadata"]["threadId"], invitation_id)
                        self.assertEqual(message["metadata"]["relatedResources"], [event["detail"]["arn"]])
                        text = published.json.dumps(message)
                        for hostile in hostile_texts(event):
                            self.assertNotIn(hostile, text)
        self.assertEqual(delivered, {
            "Connection Invitation Created", "Connection Invitation Accepted",
            "Engagement Invitation Created", "Engagement Invitation Accepted",
            "Connection Invitation Expiring Soon", "Engagement Invitation Expiring Soon",
        })

    def test_the_samples_hold_foreign_text_for_the_check_above_to_find(self):
        """The check would pass vacuously if the samples had no such text."""
        samples = published.samples()
        self.assertTrue(hostile_texts(samples["Engagement Invitation Created"]))


if __name__ == "__main__":
    unittest.main()

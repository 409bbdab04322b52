//! Act: native-relay, the fast path. An invitation list-and-publish has recorded is accepted
//! in Partner Central; Partner Central's native event goes to the default bus, whose rule puts
//! it on native-relay's queue; native-relay (invoked with the SQS batch, as the event source
//! mapping does) reads the invitation and publishes our enriched `… Accepted` within a second
//! of the change. list-and-publish's next run — now reconciliation — finds nothing new.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Demo, engagement_invitation};
use crate::{Error, Result};

const NAME: &str = "native-relay";
const POLLER: &str = "list-and-publish";
const INVITATION: &str = "engi-demo00000000f";

pub async fn act(demo: &mut Demo) -> Result<()> {
    let queue = demo.stack.native_events.clone().ok_or_else(|| Error::msg("the demo stack has no native events"))?;
    let now = demo.stack.emulator_now().await?;
    demo.stack.put_invitation("engagement", engagement_invitation(INVITATION, now, 24 * 10)).await?;
    demo.narrate(&format!("native-relay, the fast path. First list-and-publish catches up with the acts before and records the new {INVITATION}:"));
    demo.run(POLLER, "list-and-publish-scheduled.json", &[]).await?;
    demo.start_function(NAME)?;
    // The native events of the earlier acts' changes: not part of this act.
    queue.drain().await?;

    demo.narrate(&format!(
        "We accept {INVITATION} in Partner Central: its native event goes to the default bus, the rule puts it on \
         native-relay's queue, native-relay (invoked with the SQS batch) publishes our enriched event:"
    ));
    let changed = Instant::now();
    demo.stack.patch_invitation("engagement", INVITATION, json!({"Status": "ACCEPTED"})).await?;
    let native = queue.receive(1, Duration::from_secs(10)).await?;
    if native.is_empty() {
        return Err(Error::msg("the native event did not reach native-relay's queue within 10 s"));
    }
    let records: Vec<Value> = native
        .iter()
        .enumerate()
        .map(|(i, e)| json!({"messageId": format!("demo-{i}"), "eventSource": "aws:sqs", "body": e.to_string()}))
        .collect();
    demo.invoke(NAME, &json!({ "Records": records })).await?;
    println!("  … published {} ms after the change in Partner Central", changed.elapsed().as_millis());

    demo.narrate("list-and-publish's next run (reconciliation): the acceptance is already recorded, nothing new");
    demo.run(POLLER, "list-and-publish-scheduled.json", &[]).await?;
    Ok(())
}

//! Act: list-and-publish. The first run records the account (baseline) and announces what is
//! pending; then one engagement invitation is accepted and another one expires as the clock
//! moves on, and the next run publishes exactly those two changes.

use serde_json::json;

use super::{Demo, engagement_invitation};
use crate::Result;

const NAME: &str = "list-and-publish";
const ACCEPTED: &str = "engi-demo00000000a";
const EXPIRING: &str = "engi-demo00000000b";

pub async fn act(demo: &mut Demo) -> Result<()> {
    let now = demo.stack.emulator_now().await?;
    demo.stack.put_invitation("engagement", engagement_invitation(ACCEPTED, now, 24 * 10)).await?;
    demo.stack.put_invitation("engagement", engagement_invitation(EXPIRING, now, 2)).await?;

    demo.narrate(
        "list-and-publish, first run (baseline): every PENDING invitation is recorded and announced \
         with a Created event; the finished history stays quiet",
    );
    demo.run(NAME, "list-and-publish-scheduled.json", &[]).await?;

    demo.narrate(&format!("AWS accepts {ACCEPTED}, and three hours later {EXPIRING} has expired; the next run:"));
    demo.stack.patch_invitation("engagement", ACCEPTED, json!({"Status": "ACCEPTED"})).await?;
    demo.stack.advance_clock(3.0).await?;
    demo.run(NAME, "list-and-publish-scheduled.json", &[]).await?;

    demo.narrate("list-and-publish again, nothing changed: nothing is published (and only the listing pages are read)");
    demo.run(NAME, "list-and-publish-scheduled.json", &[]).await?;
    Ok(())
}

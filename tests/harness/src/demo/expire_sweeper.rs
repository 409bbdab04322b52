//! expire-sweeper: warnings appear as the clock moves towards the expiry, once per
//! threshold, then the expiry itself is reported; a digest on demand.

use super::{Demo, engagement_invitation};
use crate::Result;

const NAME: &str = "expire-sweeper";
const SCHEDULED: &str = "expire-sweeper-scheduled.json";

pub async fn act(demo: &mut Demo) -> Result<()> {
    let now = demo.stack.emulator_now().await?;
    demo.narrate("expire-sweeper: AWS sent us three engagement invitations; they expire in 80 h, 30 h and 5 h");
    for (id, hours_left) in [("engi-sweep00000001", 80), ("engi-sweep00000002", 30), ("engi-sweep00000003", 5)] {
        demo.stack.put_invitation("engagement", engagement_invitation(id, now, hours_left)).await?;
    }

    demo.narrate(
        "Hourly sweep (thresholds 72 h, 24 h, 4 h): 30 h left → the 72 h warning; 5 h left → only the 24 h one",
    );
    demo.run(NAME, SCHEDULED, &[]).await?;

    demo.narrate("The next hour's sweep: nothing new — each threshold warns once");
    demo.run(NAME, SCHEDULED, &[]).await?;

    demo.narrate(
        "A day later (emulator clock +24 h): 56 h left → 72 h warning, 6 h left → 24 h warning, and the third expired",
    );
    demo.stack.advance_clock(24.0).await?;
    demo.run(NAME, SCHEDULED, &[]).await?;

    demo.narrate(
        "The morning digest (a second schedule, input {\"digest\": true}): what expires within 72 h, soonest first",
    );
    demo.run(NAME, "expire-sweeper-digest.json", &[]).await?;
    Ok(())
}

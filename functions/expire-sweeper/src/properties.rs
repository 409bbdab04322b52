//! Property tests of the sweeper's parsers of outside input: the invocation payload and the
//! configuration environment. Accepted, or refused naming what was wrong; never a panic.

use proptest::prelude::*;
use serde_json::{Value, json};
use shared::invocation::parse_invocation;
use shared::testing::fuzz;

use crate::config::Config;
use crate::input::RunOptions;

const SCHEDULED: &str = include_str!("../../../events/expire-sweeper-scheduled.json");
const DIGEST: &str = include_str!("../../../events/expire-sweeper-digest.json");

/// The variables only this function reads (the common ones: `fuzz::COMMON_VARIABLES`).
const VARIABLES: [&str; 4] =
    ["EXPIRY_WARNING_HOURS", "EXPIRY_PARTICIPANT_TYPES", "DIGEST", "ENGAGEMENT_PARTICIPANT_TYPES"];

fn valid_env() -> Value {
    json!({
        "CATALOG": "AWS", "EVENT_BUS_NAME": "invitations", "STATE_TABLE_NAME": "state",
        "EXPIRY_WARNING_HOURS": "72,24,4", "EXPIRY_PARTICIPANT_TYPES": "RECEIVER", "DIGEST": "true",
        "MAX_REQUESTS_PER_SECOND": "2"
    })
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn prop_invocation_payloads_parse_or_name_the_problem(
        payload in prop_oneof![fuzz::input_like(fuzz::sample(SCHEDULED)), fuzz::input_like(fuzz::sample(DIGEST))]
    ) {
        if let Err(e) = parse_invocation::<RunOptions>(&payload) {
            prop_assert!(!e.problem.is_empty() && e.to_string().contains(&e.problem), "{e}");
        }
    }

    #[test]
    fn prop_configuration_loads_or_names_the_variable(doc in fuzz::mutated(valid_env())) {
        if let Err(e) = Config::from_env(&fuzz::env_of(&doc)) {
            prop_assert!(fuzz::names_one_of(&e, &VARIABLES), "{e}");
        }
    }
}

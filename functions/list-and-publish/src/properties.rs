//! Property tests of list-and-publish's parsers of outside input: the invocation payload and
//! the configuration environment. Arbitrary and mutated-valid inputs are accepted or refused
//! with an error that names what was wrong; never a panic.

use proptest::prelude::*;
use serde_json::{Value, json};
use shared::invocation::parse_invocation;
use shared::testing::fuzz;

use crate::config::Config;
use crate::input::RunOptions;

const SCHEDULED: &str = include_str!("../../../events/list-and-publish-scheduled.json");
const FULL_SYNC: &str = include_str!("../../../events/list-and-publish-full-sync.json");

/// The variables only this function reads (the common ones: `fuzz::COMMON_VARIABLES`).
const VARIABLES: [&str; 3] = ["FULL_SYNC_HOURS", "BASELINE_EVENTS", "ENGAGEMENT_PARTICIPANT_TYPES"];

fn valid_env() -> Value {
    json!({
        "CATALOG": "AWS", "EVENT_BUS_NAME": "invitations", "STATE_TABLE_NAME": "state",
        "RETENTION_DAYS": "30", "MAX_REQUESTS_PER_SECOND": "3", "FULL_SYNC_HOURS": "24",
        "ENGAGEMENT_PARTICIPANT_TYPES": "RECEIVER,SENDER", "INCLUDE_CONTACT_DETAILS": "false"
    })
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn prop_invocation_payloads_parse_or_name_the_problem(
        payload in prop_oneof![fuzz::input_like(fuzz::sample(SCHEDULED)), fuzz::input_like(fuzz::sample(FULL_SYNC))]
    ) {
        if let Err(e) = parse_invocation::<RunOptions>(&payload) {
            let shown = e.to_string();
            prop_assert!(!e.problem.is_empty() && shown.contains(&e.problem), "{shown}");
        }
    }

    #[test]
    fn prop_configuration_loads_or_names_the_variable(doc in fuzz::mutated(valid_env())) {
        if let Err(e) = Config::from_env(&fuzz::env_of(&doc)) {
            prop_assert!(fuzz::names_one_of(&e, &VARIABLES), "{e}");
        }
    }
}

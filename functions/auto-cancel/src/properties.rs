//! Property tests of auto-cancel's parsers of outside input: the policy document, the
//! invocation payload and the configuration environment. Accepted, or refused naming the JSON
//! path or the variable; never a panic.

use proptest::prelude::*;
use serde_json::json;
use shared::testing::fuzz;

use crate::config::{Config, StartupError};
use crate::input::parse_input;

const POLICY: &str = include_str!("../../../events/auto-cancel-policy.example.json");
const SCHEDULED: &str = include_str!("../../../events/auto-cancel-scheduled.json");
const DRY_RUN: &str = include_str!("../../../events/auto-cancel-dry-run.json");

/// The variables only this function reads (the common ones: `fuzz::COMMON_VARIABLES`).
const VARIABLES: [&str; 1] = ["CANCEL_POLICY"];

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn prop_policies_load_or_name_the_path_of_each_problem(doc in fuzz::input_like(fuzz::sample(POLICY))) {
        if let Err(e) = crate::policy::parse(&doc.to_string()) {
            prop_assert!(fuzz::names_its_paths(&e), "{e}");
        }
    }

    #[test]
    fn prop_policy_text_that_is_not_json_is_refused_at_the_document(text in fuzz::any_string()) {
        if let Err(e) = crate::policy::parse(&text) {
            prop_assert!(fuzz::names_its_paths(&e), "{e}");
        }
    }

    #[test]
    fn prop_invocation_payloads_parse_or_name_the_problem(
        payload in prop_oneof![fuzz::input_like(fuzz::sample(SCHEDULED)), fuzz::input_like(fuzz::sample(DRY_RUN))]
    ) {
        if let Err(e) = parse_input(&payload) {
            prop_assert!(!e.problem.is_empty() && e.to_string().contains(&e.problem), "{e}");
        }
    }

    #[test]
    fn prop_configuration_loads_or_names_the_variable(
        doc in fuzz::mutated(json!({
            "CATALOG": "AWS", "EVENT_BUS_NAME": "invitations", "STATE_TABLE_NAME": "state",
            "CANCEL_POLICY": fuzz::sample(POLICY).to_string(), "MAX_REQUESTS_PER_SECOND": "1"
        }))
    ) {
        match Config::from_env(&fuzz::env_of(&doc)) {
            Ok(_) => {}
            Err(StartupError::Config(e)) => prop_assert!(fuzz::names_one_of(&e, &VARIABLES), "{e}"),
            Err(StartupError::Policy(e)) => {
                let shown = e.to_string();
                prop_assert!(shown.contains("CANCEL_POLICY"), "{shown}");
            }
        }
    }
}

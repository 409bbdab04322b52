//! Property tests of auto-respond's parsers of outside input: the response policy document and
//! the configuration environment (the invocation payload is the shared policy invocation,
//! covered in auto-cancel). Accepted, or refused naming the JSON path or the variable; never a
//! panic.

use proptest::prelude::*;
use serde_json::json;
use shared::testing::fuzz;

use crate::config::{Config, StartupError};

const POLICY: &str = include_str!("../../../events/auto-respond-policy.example.json");

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn prop_response_policies_load_or_name_the_path_of_each_problem(doc in fuzz::input_like(fuzz::sample(POLICY))) {
        if let Err(e) = crate::policy::parse(&doc.to_string()) {
            prop_assert!(fuzz::names_its_paths(&e), "{e}");
        }
    }

    #[test]
    fn prop_configuration_loads_or_names_the_variable(
        doc in fuzz::mutated(json!({
            "CATALOG": "AWS", "EVENT_BUS_NAME": "invitations", "STATE_TABLE_NAME": "state",
            "RESPOND_POLICY": fuzz::sample(POLICY).to_string(), "MAX_REQUESTS_PER_SECOND": "1"
        }))
    ) {
        match Config::from_env(&fuzz::env_of(&doc)) {
            Ok(_) => {}
            Err(StartupError::Config(e)) => prop_assert!(fuzz::names_one_of(&e, &["RESPOND_POLICY"]), "{e}"),
            Err(StartupError::Policy(e)) => {
                let shown = e.to_string();
                prop_assert!(shown.contains("RESPOND_POLICY"), "{shown}");
            }
        }
    }
}

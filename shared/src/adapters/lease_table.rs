//! The request budget's lease book in the state table: one item, `pk = LEASE`, `sk = BUDGET`,
//! holding the book as JSON (`book`) and its `version`. Every change is one `PutItem`
//! conditional on the version read (`attribute_not_exists(pk)` for the first), asking for the
//! item as it is on a failed condition (`ReturnValuesOnConditionCheckFailure = ALL_OLD`), so a
//! lost race costs no extra read.
//!
//! An unreadable book (not JSON of the expected shape) is reported and treated as empty at its
//! version: the next write replaces it, and every holder re-registers at its next renewal
//! (within a second while it works).

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_smithy_types::error::display::DisplayErrorContext;
use futures::future::BoxFuture;

use crate::budget::{LeaseStore, Swap, Versioned};
use crate::domain::lease::LeaseBook;
use crate::error::StoreError;

/// The lease item's partition key.
pub const LEASE_PK: &str = "LEASE";
/// The lease item's sort key.
pub const LEASE_SK: &str = "BUDGET";

/// The lease book on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoLeaseStore {
    client: Client,
    table: String,
}

impl DynamoLeaseStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoLeaseStore { client, table: table.into() }
    }
}

fn key() -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(LEASE_PK.to_owned())),
        ("sk".to_owned(), AttributeValue::S(LEASE_SK.to_owned())),
    ])
}

/// The book of an item; an unreadable one is reported and read as empty (at its version).
fn versioned(item: &HashMap<String, AttributeValue>) -> Versioned {
    let version = item.get("version").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0);
    let raw = item.get("book").and_then(|v| v.as_s().ok()).map_or("", String::as_str);
    let book = serde_json::from_str::<LeaseBook>(raw).unwrap_or_else(|e| {
        tracing::error!(key = %format!("{LEASE_PK}/{LEASE_SK}"), error = %e, raw_value = raw, "the request budget's lease item is unreadable; it is replaced by the next write");
        LeaseBook::default()
    });
    Versioned { version, book }
}

fn unavailable<E: std::error::Error + 'static>(operation: &'static str, e: &E) -> StoreError {
    StoreError::Unavailable { operation, message: DisplayErrorContext(e).to_string() }
}

impl LeaseStore for DynamoLeaseStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<Versioned>, StoreError>> {
        Box::pin(async move {
            let out = self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(key()))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| unavailable("GetItem", &e))?;
            Ok(out.item().map(versioned))
        })
    }

    fn swap<'a>(&'a self, expected: u64, book: &'a LeaseBook) -> BoxFuture<'a, Result<Swap, StoreError>> {
        Box::pin(async move {
            let json = serde_json::to_string(book)
                .map_err(|e| StoreError::Corrupt { key: format!("{LEASE_PK}/{LEASE_SK}"), message: e.to_string() })?;
            let mut item = key();
            item.insert("book".to_owned(), AttributeValue::S(json));
            item.insert("version".to_owned(), AttributeValue::N((expected + 1).to_string()));
            let request = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
            let request = if expected == 0 {
                request.condition_expression("attribute_not_exists(pk)")
            } else {
                request
                    .condition_expression("#version = :expected")
                    .expression_attribute_names("#version", "version")
                    .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            };
            match request.send().await {
                Ok(_) => Ok(Swap::Done),
                Err(e) => match e.into_service_error() {
                    PutItemError::ConditionalCheckFailedException(failed) => {
                        Ok(Swap::Conflict(failed.item().map(versioned)))
                    }
                    other => Err(unavailable("PutItem", &other)),
                },
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
    use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
    use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;
    use crate::domain::lease::Share;

    fn book(units: u32) -> LeaseBook {
        let share = Share { units, want: 8, expires: 10_000, draining: 0, drain_until: 0 };
        LeaseBook { shares: [("a#1".to_owned(), share)].into(), runs: Default::default() }
    }

    fn item(version: u64, book: &LeaseBook) -> HashMap<String, AttributeValue> {
        let mut item = key();
        item.insert("book".into(), AttributeValue::S(serde_json::to_string(book).unwrap_or_default()));
        item.insert("version".into(), AttributeValue::N(version.to_string()));
        item
    }

    #[tokio::test]
    async fn the_first_write_requires_no_item_and_later_ones_the_version_read() {
        let first = mock!(aws_sdk_dynamodb::Client::put_item)
            .match_requests(|r| {
                r.condition_expression() == Some("attribute_not_exists(pk)")
                    && r.item().and_then(|i| i.get("version")) == Some(&AttributeValue::N("1".into()))
                    && r.return_values_on_condition_check_failure()
                        == Some(&ReturnValuesOnConditionCheckFailure::AllOld)
            })
            .then_output(|| PutItemOutput::builder().build());
        let later = mock!(aws_sdk_dynamodb::Client::put_item)
            .match_requests(|r| {
                r.condition_expression() == Some("#version = :expected")
                    && r.expression_attribute_values().and_then(|v| v.get(":expected"))
                        == Some(&AttributeValue::N("7".into()))
                    && r.item().and_then(|i| i.get("version")) == Some(&AttributeValue::N("8".into()))
            })
            .then_output(|| PutItemOutput::builder().build());
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&first, &later]);
        let store = DynamoLeaseStore::new(client, "t");
        assert_eq!(store.swap(0, &book(8)).await, Ok(Swap::Done));
        assert_eq!(store.swap(7, &book(4)).await, Ok(Swap::Done));
    }

    #[tokio::test]
    async fn a_lost_race_returns_the_book_as_it_is_now() {
        let theirs = book(3);
        let stored = item(5, &theirs);
        let lost = mock!(aws_sdk_dynamodb::Client::put_item).then_error(move || {
            PutItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder().message("version").set_item(Some(stored.clone())).build(),
            )
        });
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&lost]);
        let store = DynamoLeaseStore::new(client, "t");
        assert_eq!(store.swap(4, &book(8)).await, Ok(Swap::Conflict(Some(Versioned { version: 5, book: theirs }))));
    }

    #[tokio::test]
    async fn a_throttled_table_is_an_error_naming_the_operation() {
        let throttled = mock!(aws_sdk_dynamodb::Client::put_item).then_error(|| {
            PutItemError::generic(ErrorMetadata::builder().code("ThrottlingException").message("slow down").build())
        });
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&throttled]);
        let store = DynamoLeaseStore::new(client, "t");
        let e = store.swap(1, &book(8)).await;
        assert!(
            matches!(&e, Err(StoreError::Unavailable { operation: "PutItem", message }) if message.contains("slow down")),
            "{e:?}"
        );
    }

    #[tokio::test]
    async fn the_book_is_read_consistently_and_an_unreadable_one_is_empty_at_its_version() {
        let read = mock!(aws_sdk_dynamodb::Client::get_item)
            .match_requests(|r| r.consistent_read() == Some(true))
            .then_output(|| {
                let mut item = key();
                item.insert("book".into(), AttributeValue::S("{not json".into()));
                item.insert("version".into(), AttributeValue::N("9".into()));
                GetItemOutput::builder().set_item(Some(item)).build()
            });
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&read]);
        let store = DynamoLeaseStore::new(client, "t");
        assert_eq!(store.load().await, Ok(Some(Versioned { version: 9, book: LeaseBook::default() })));
    }
}

//! Opaque, query-bound `NextToken`s.
//!
//! A token carries the sort key `(timestamp, id)` of the last item of the page and a
//! fingerprint of the query (operation, catalog, filters, sort — not `MaxResults`). The next
//! page is "items strictly after that key in the query's order", so items added or changed
//! between pages never make a pre-existing item repeat or be skipped (sort keys — `CreatedAt`,
//! `InvitationDate`, `Id` — never change through the AWS APIs). A token from another query,
//! or anything that is not a token, is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::data::canonical;

/// The position after which the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub ts_millis: i64,
    pub id: String,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("The provided NextToken is not valid")]
    Malformed,
    #[error("The provided NextToken belongs to a different request")]
    OtherQuery,
}

/// Fingerprint of a list request: everything but `NextToken` and `MaxResults`.
pub fn query_fingerprint(operation: &str, request: &Value) -> String {
    // Drop the members first, then canonicalize: with serde_json's `preserve_order` (which
    // the AWS SDK's HTTP client switches on) `remove` reorders the remaining keys.
    let mut q = request.clone();
    if let Some(m) = q.as_object_mut() {
        m.retain(|k, _| k != "NextToken" && k != "MaxResults");
    }
    let q = canonical(&q);
    let text = json!([operation, q]).to_string();
    hex::encode(&Sha256::digest(text.as_bytes())[..12])
}

/// Encode a token.
pub fn encode(fingerprint: &str, cursor: &Cursor) -> String {
    let body = json!({"v": 1, "q": fingerprint, "t": cursor.ts_millis, "i": cursor.id});
    URL_SAFE_NO_PAD.encode(body.to_string())
}

/// Decode a token and check it belongs to this query.
pub fn decode(token: &str, fingerprint: &str) -> Result<Cursor, TokenError> {
    let bytes = URL_SAFE_NO_PAD.decode(token.as_bytes()).map_err(|_| TokenError::Malformed)?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
    let (Some(1), Some(q), Some(t), Some(i)) = (
        v.get("v").and_then(Value::as_i64),
        v.get("q").and_then(Value::as_str),
        v.get("t").and_then(Value::as_i64),
        v.get("i").and_then(Value::as_str),
    ) else {
        return Err(TokenError::Malformed);
    };
    if q != fingerprint {
        return Err(TokenError::OtherQuery);
    }
    Ok(Cursor { ts_millis: t, id: i.to_owned() })
}

/// Sort `items` by `(timestamp, id)` (descending: newest first, ties by id descending), keep
/// those strictly after `after`, and cut a page of `max`. Returns the page and the cursor for
/// the next page if more items follow.
pub fn page<'a, T>(
    items: impl IntoIterator<Item = &'a T>,
    key: impl Fn(&'a T) -> (i64, &'a str),
    descending: bool,
    after: Option<&Cursor>,
    max: usize,
) -> (Vec<&'a T>, Option<Cursor>) {
    let ordered = |a: &(i64, &str), b: &(i64, &str)| {
        if descending { b.cmp(a) } else { a.cmp(b) }
    };
    let after = after.map(|c| (c.ts_millis, c.id.as_str()));
    // Keys are borrowed, computed once per item; only the page itself is fully sorted
    // (selection first), so a page costs O(n) in the number of matching items.
    let mut keyed: Vec<((i64, &'a str), &'a T)> = items
        .into_iter()
        .map(|x| (key(x), x))
        .filter(|(k, _)| after.as_ref().is_none_or(|a| ordered(k, a) == std::cmp::Ordering::Greater))
        .collect();
    let more = keyed.len() > max;
    if more && max > 0 {
        keyed.select_nth_unstable_by(max - 1, |a, b| ordered(&a.0, &b.0));
    }
    keyed.truncate(max);
    keyed.sort_unstable_by(|a, b| ordered(&a.0, &b.0));
    let next =
        if more { keyed.last().map(|((t, id), _)| Cursor { ts_millis: *t, id: (*id).to_owned() }) } else { None };
    (keyed.into_iter().map(|(_, x)| x).collect(), next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_bound_to_the_query() {
        let q = query_fingerprint("ListX", &json!({"Catalog": "AWS", "MaxResults": 5}));
        let q_same = query_fingerprint("ListX", &json!({"MaxResults": 9, "Catalog": "AWS", "NextToken": "x"}));
        assert_eq!(q, q_same);
        let other = query_fingerprint("ListX", &json!({"Catalog": "Sandbox"}));
        let c = Cursor { ts_millis: 42, id: "pacinv-A".into() };
        let t = encode(&q, &c);
        assert_eq!(decode(&t, &q), Ok(c));
        assert_eq!(decode(&t, &other), Err(TokenError::OtherQuery));
        assert_eq!(decode("garbage!", &q), Err(TokenError::Malformed));
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("{}"), &q), Err(TokenError::Malformed));
    }

    #[test]
    fn pages_cover_everything_once_in_both_orders() {
        let items: Vec<(i64, String)> = (0..23).map(|i| (i % 5, format!("id{i:02}"))).collect();
        for descending in [true, false] {
            let mut seen: Vec<(i64, String)> = Vec::new();
            let mut after = None;
            loop {
                let (p, next) = page(&items, |x: &(i64, String)| (x.0, x.1.as_str()), descending, after.as_ref(), 4);
                seen.extend(p.into_iter().cloned());
                match next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            assert_eq!(seen.len(), 23);
            let mut sorted = seen.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), 23);
            let ts: Vec<i64> = seen.iter().map(|x| x.0).collect();
            let mut expect = ts.clone();
            expect.sort();
            if descending {
                expect.reverse();
            }
            assert_eq!(ts, expect);
        }
    }
}

//! The account's request budget shared at run time: the lease arithmetic, pure (no SDK, no
//! clock of its own — every decision takes `now`, epoch milliseconds).
//!
//! One book (one state-table item, see `adapters::lease_table`) holds:
//! - a **share** per process that calls Partner Central: how many requests per
//!   [`WINDOW_MS`] it may make (`units`), how many it would like (`want`), until when the
//!   lease holds (`expires`), and what it used lately (`draining` requests until
//!   `drainUntil`: requests already sent still count in the service's sliding second, so
//!   units given back are free only once they left it);
//! - a **run lease** per scheduled function: the one process running it, until when.
//!
//! The rules, each a pure function of the book:
//! - [`LeaseBook::take`]: a process asks for `want` units; it gets its max-min fair part of the
//!   budget among the processes that want some ([`fair_shares`]), but never more than what
//!   the others do not hold right now — so the units held (or draining) never sum above the
//!   budget at any instant. A process alone gets the whole budget; a holder above its fair
//!   part gives the surplus back at its next renewal (the surplus drains first).
//! - [`LeaseBook::give_back`]: units to 0; what was used in the last window drains.
//! - an entry whose `expires` passed is gone ([`LeaseBook::pruned`]): a killed holder's share
//!   and run lease lapse by themselves.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The window no more than a process's `units` requests fall in: a second plus headroom for
/// arrival jitter (the service counts a sliding second).
pub const WINDOW_MS: i64 = 1100;

/// One process's part of the budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Share {
    /// Requests per window it may make.
    pub units: u32,
    /// Requests per window it would use (0: it is only draining).
    pub want: u32,
    /// Epoch ms after which the share is gone (a holder that stopped renewing).
    pub expires: i64,
    /// Requests it made in its last window before this write, still counting until `drain_until`.
    #[serde(default)]
    pub draining: u32,
    #[serde(default)]
    pub drain_until: i64,
}

impl Share {
    /// What it holds at `now`: nothing once expired, else its units or what still drains.
    pub fn held(&self, now: i64) -> u32 {
        if now >= self.expires {
            0
        } else if now < self.drain_until {
            self.units.max(self.draining)
        } else {
            self.units
        }
    }
}

/// Who runs a scheduled function, until when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunHold {
    pub holder: String,
    pub expires: i64,
}

/// A process's recent requests: how many fell in its last window, and when the newest leaves it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recent {
    pub count: u32,
    /// Epoch ms: the newest request's time + [`WINDOW_MS`].
    pub until: i64,
}

/// Another process runs the function: who, until when (unless it renews or gives it back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunBusy {
    pub holder: String,
    pub until: i64,
}

/// What a take asks for besides the share: the run lease of `function` for `term_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunRequest<'a> {
    pub function: &'a str,
    pub term_ms: i64,
}

/// What a process asks of the book ([`LeaseBook::take`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask<'a> {
    pub holder: &'a str,
    /// Units it would use (capped at the budget).
    pub want: u32,
    /// Its requests of the last window (they drain when its share shrinks).
    pub recent: Recent,
    /// How long the share holds unless renewed.
    pub term_ms: i64,
    /// The run lease to take or renew with it.
    pub run: Option<RunRequest<'a>>,
}

/// The shares and run leases of the account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseBook {
    #[serde(default)]
    pub shares: BTreeMap<String, Share>,
    #[serde(default)]
    pub runs: BTreeMap<String, RunHold>,
}

impl LeaseBook {
    /// Without the entries that expired by `now`.
    pub fn pruned(&self, now: i64) -> LeaseBook {
        LeaseBook {
            shares: self.shares.iter().filter(|(_, s)| now < s.expires).map(|(k, s)| (k.clone(), *s)).collect(),
            runs: self.runs.iter().filter(|(_, r)| now < r.expires).map(|(k, r)| (k.clone(), r.clone())).collect(),
        }
    }

    /// Units held at `now` by every process but `me`.
    pub fn held_by_others(&self, me: &str, now: i64) -> u32 {
        self.shares.iter().filter(|(id, _)| id.as_str() != me).map(|(_, s)| s.held(now)).sum()
    }

    /// Units held at `now` by everyone (never above the budget when every write went through
    /// [`LeaseBook::take`] / [`LeaseBook::give_back`]).
    pub fn held(&self, now: i64) -> u32 {
        self.shares.values().map(|s| s.held(now)).sum()
    }

    /// `ask.holder` takes (or renews, grows, shrinks) its share for `ask.term_ms`, wanting
    /// `ask.want` units of `budget`; with `ask.run`, also takes (or renews) that function's run lease, unless another
    /// process holds it. Returns the new book and the units granted (0: wait, the others hold
    /// everything; they give back their surplus at their next renewal).
    pub fn take(&self, budget: u32, ask: Ask<'_>, now: i64) -> Result<(LeaseBook, u32), RunBusy> {
        let Ask { holder: me, want, recent, term_ms, run } = ask;
        let mut book = self.pruned(now);
        if let Some(run) = run {
            if let Some(hold) = book.runs.get(run.function)
                && hold.holder != me
            {
                return Err(RunBusy { holder: hold.holder.clone(), until: hold.expires });
            }
            book.runs.insert(run.function.to_owned(), RunHold { holder: me.to_owned(), expires: now + run.term_ms });
        }
        let want = want.min(budget);
        let mut wants: Vec<(&str, u32)> = book
            .shares
            .iter()
            .filter(|(id, s)| id.as_str() != me && s.want > 0)
            .map(|(id, s)| (id.as_str(), s.want))
            .collect();
        wants.push((me, want));
        let fair = fair_shares(budget, &wants).get(me).copied().unwrap_or(0);
        let room = budget.saturating_sub(book.held_by_others(me, now));
        let units = fair.min(room);
        let (draining, drain_until) = if recent.until > now { (recent.count, recent.until) } else { (0, 0) };
        book.shares.insert(me.to_owned(), Share { units, want, expires: now + term_ms, draining, drain_until });
        Ok((book, units))
    }

    /// `me` gives its share back (what it used in its last window drains) and, with
    /// `run_function`, that function's run lease if it holds it.
    pub fn give_back(&self, me: &str, recent: Recent, now: i64, run_function: Option<&str>) -> LeaseBook {
        let mut book = self.pruned(now);
        if recent.count > 0 && recent.until > now {
            let share =
                Share { units: 0, want: 0, expires: recent.until, draining: recent.count, drain_until: recent.until };
            book.shares.insert(me.to_owned(), share);
        } else {
            book.shares.remove(me);
        }
        if let Some(function) = run_function
            && book.runs.get(function).is_some_and(|hold| hold.holder == me)
        {
            book.runs.remove(function);
        }
        book
    }

    /// `me` extends its run lease of `function` to `now + term_ms` (a run working without
    /// Partner Central calls for a while); the shares are left as they are. `Err` when another
    /// process holds it (ours lapsed and was taken).
    pub fn extend_run(&self, me: &str, function: &str, now: i64, term_ms: i64) -> Result<LeaseBook, RunBusy> {
        let mut book = self.pruned(now);
        if let Some(hold) = book.runs.get(function)
            && hold.holder != me
        {
            return Err(RunBusy { holder: hold.holder.clone(), until: hold.expires });
        }
        book.runs.insert(function.to_owned(), RunHold { holder: me.to_owned(), expires: now + term_ms });
        Ok(book)
    }

    /// Whether `me` holds anything in the book (a share, draining or not, or a run lease).
    pub fn mentions(&self, me: &str) -> bool {
        self.shares.contains_key(me) || self.runs.values().any(|hold| hold.holder == me)
    }
}

/// Max-min fair parts of `budget` for `wants` (id, units wanted): everyone gets the same until
/// satisfied, what a satisfied one leaves goes to the others; units that do not divide evenly
/// go to the first ids in order. Never more than wanted, never more than `budget` in total.
pub fn fair_shares<'a>(budget: u32, wants: &[(&'a str, u32)]) -> BTreeMap<&'a str, u32> {
    let mut sorted: Vec<(&str, u32)> = wants.to_vec();
    sorted.sort_unstable();
    let mut given: BTreeMap<&str, u32> = sorted.iter().map(|(id, _)| (*id, 0)).collect();
    let mut remaining = budget;
    loop {
        let open: Vec<(&str, u32)> =
            sorted.iter().filter(|(id, want)| given.get(id).copied().unwrap_or(0) < *want).copied().collect();
        if open.is_empty() || remaining == 0 {
            return given;
        }
        let each = remaining / u32::try_from(open.len()).unwrap_or(u32::MAX);
        for (id, want) in open {
            let entry = given.entry(id).or_default();
            let give = if each == 0 { u32::from(remaining > 0) } else { each.min(want - *entry) };
            *entry += give;
            remaining -= give;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TERM: i64 = 6_000;

    fn take(book: &LeaseBook, me: &str, want: u32, now: i64) -> (LeaseBook, u32) {
        book.take(8, Ask { holder: me, want, recent: Recent::default(), term_ms: TERM, run: None }, now)
            .unwrap_or_else(|b| panic!("{b:?}"))
    }

    #[test]
    fn a_process_alone_takes_the_whole_budget() {
        let (book, units) = take(&LeaseBook::default(), "sweeper", 8, 0);
        assert_eq!(units, 8);
        assert_eq!(book.held(0), 8);
    }

    #[test]
    fn a_newcomer_waits_for_the_holders_surplus_which_drains_first() {
        let (book, _) = take(&LeaseBook::default(), "a", 8, 0);
        // b arrives: a holds everything, b registers its want and gets nothing yet.
        let (book, b_units) = take(&book, "b", 8, 100);
        assert_eq!(b_units, 0);
        assert_eq!(book.held(100), 8, "never above the budget");
        // a renews at 1000 having made 8 requests in its window (newest at 900): it shrinks to
        // its fair 4, but the 8 drain until 2000.
        let recent = Recent { count: 8, until: 900 + WINDOW_MS };
        let (book, a_units) =
            book.take(8, Ask { holder: "a", want: 8, recent, term_ms: TERM, run: None }, 1_000).unwrap_or_default();
        assert_eq!(a_units, 4);
        assert_eq!(book.held(1_000), 8);
        let (_, b_early) = take(&book, "b", 8, 1_500);
        assert_eq!(b_early, 0, "a's last requests still count in the window");
        let (book, b_units) = take(&book, "b", 8, 2_000);
        assert_eq!(b_units, 4);
        assert_eq!(book.held(2_000), 8);
    }

    #[test]
    fn runs_together_never_hold_more_than_the_budget() {
        // Six processes arriving one after another, each renewing in turn: at every step the
        // units held sum to at most the budget, and once all renewed they split it fairly.
        let ids = ["a", "b", "c", "d", "e", "f"];
        let mut book = LeaseBook::default();
        let mut now = 0;
        for round in 0..4 {
            for id in ids {
                now += 50;
                let recent = Recent { count: book.shares.get(id).map_or(0, |s| s.units), until: now };
                let (next, _) = book
                    .take(8, Ask { holder: id, want: 8, recent, term_ms: TERM, run: None }, now)
                    .unwrap_or_default();
                book = next;
                assert!(book.held(now) <= 8, "round {round}, {id}: {book:?}");
            }
        }
        let units: Vec<u32> = ids.iter().map(|id| book.shares[*id].units).collect();
        assert_eq!(units, [2, 2, 1, 1, 1, 1]);
    }

    #[test]
    fn a_killed_holders_share_and_run_lease_lapse() {
        let run = RunRequest { function: "sweeper", term_ms: 60_000 };
        let (book, _) = LeaseBook::default()
            .take(8, Ask { holder: "p1", want: 8, recent: Recent::default(), term_ms: TERM, run: Some(run) }, 0)
            .unwrap_or_default();
        // p1 is killed. A retried firing in p2 finds the run lease held.
        let busy = book.take(
            8,
            Ask { holder: "p2", want: 8, recent: Recent::default(), term_ms: TERM, run: Some(run) },
            1_000,
        );
        assert_eq!(busy, Err(RunBusy { holder: "p1".into(), until: 60_000 }));
        // Another function meanwhile gets nothing until the share lapses, then everything.
        let (_, units) = take(&book, "relay", 8, TERM - 1);
        assert_eq!(units, 0);
        let (_, units) = take(&book, "relay", 8, TERM);
        assert_eq!(units, 8);
        // Once the run lease lapses, the next firing runs.
        let (book, units) = book
            .take(8, Ask { holder: "p2", want: 8, recent: Recent::default(), term_ms: TERM, run: Some(run) }, 60_000)
            .unwrap_or_default();
        assert_eq!((units, book.runs["sweeper"].holder.as_str()), (8, "p2"));
    }

    #[test]
    fn giving_back_frees_the_units_once_the_last_requests_left_the_window() {
        let run = RunRequest { function: "sweeper", term_ms: 60_000 };
        let (book, _) = LeaseBook::default()
            .take(8, Ask { holder: "p1", want: 8, recent: Recent::default(), term_ms: TERM, run: Some(run) }, 0)
            .unwrap_or_default();
        let book = book.give_back("p1", Recent { count: 3, until: 1_500 }, 1_000, Some("sweeper"));
        assert!(book.runs.is_empty(), "the run lease is given back");
        assert_eq!(take(&book, "relay", 8, 1_200).1, 5, "3 still count until 1500");
        assert_eq!(take(&book, "relay", 8, 1_500).1, 8);
        let quiet = book.give_back("p1", Recent::default(), 1_600, None);
        assert!(!quiet.mentions("p1"), "nothing left of p1: {quiet:?}");
    }

    #[test]
    fn the_same_process_renews_its_own_run_lease() {
        let run = RunRequest { function: "sweeper", term_ms: 60_000 };
        let (book, _) = LeaseBook::default()
            .take(8, Ask { holder: "p1", want: 8, recent: Recent::default(), term_ms: TERM, run: Some(run) }, 0)
            .unwrap_or_default();
        let (book, _) = book
            .take(8, Ask { holder: "p1", want: 8, recent: Recent::default(), term_ms: TERM, run: Some(run) }, 1_000)
            .unwrap_or_default();
        assert_eq!(book.runs["sweeper"].expires, 61_000);
        // Giving back someone else's run lease does nothing.
        assert_eq!(book.give_back("p2", Recent::default(), 2_000, Some("sweeper")).runs.len(), 1);
    }

    #[test]
    fn extending_a_run_lease_leaves_the_shares_alone() {
        let run = RunRequest { function: "sweeper", term_ms: 15_000 };
        let (book, _) = LeaseBook::default()
            .take(8, Ask { holder: "p1", want: 8, recent: Recent::default(), term_ms: TERM, run: Some(run) }, 0)
            .unwrap_or_default();
        let extended = book.extend_run("p1", "sweeper", 5_000, 15_000).unwrap_or_default();
        assert_eq!(extended.runs["sweeper"].expires, 20_000);
        assert_eq!(extended.shares, book.shares);
        assert!(book.extend_run("p2", "sweeper", 5_000, 15_000).is_err(), "not someone else's");
    }

    #[test]
    fn fair_shares_fill_the_small_wants_first_and_never_exceed_the_budget() {
        let f = fair_shares(8, &[("a", 8), ("b", 1), ("c", 8)]);
        assert_eq!(f.values().copied().collect::<Vec<_>>(), [4, 1, 3]);
        let f = fair_shares(3, &[("a", 8), ("b", 8), ("c", 8), ("d", 8)]);
        assert_eq!(f.values().copied().collect::<Vec<_>>(), [1, 1, 1, 0]);
        assert!(fair_shares(8, &[]).is_empty());
        for budget in 1..=12 {
            for n in 1..=9_u32 {
                let ids: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
                let wants: Vec<(&str, u32)> = ids.iter().zip(1..).map(|(id, w)| (id.as_str(), w)).collect();
                let f = fair_shares(budget, &wants);
                assert!(f.values().sum::<u32>() <= budget);
                assert!(wants.iter().all(|(id, w)| f[id] <= *w));
            }
        }
    }

    #[test]
    fn a_want_above_the_budget_is_the_budget() {
        let (_, units) = take(&LeaseBook::default(), "a", 50, 0);
        assert_eq!(units, 8);
    }
}

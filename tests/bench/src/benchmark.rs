//! `make bench`: the API-call budget, memory and cold start of each function on a realistic
//! account, against the lower bound of each run and a naive poller.
//!
//! Scenario: a generated account with two years of history (20,000 engagement invitations,
//! 2,000 connection invitations, ≈2% pending, both participant types), 20 ms added to every
//! Partner Central call and the emulator's `--rate-limit` at the real quota (10/s); the
//! functions run with their defaults (`MAX_REQUESTS_PER_SECOND` 8). Round 0 is each
//! function's first (full) run; before each of the ten steady-state rounds a driver makes a
//! handful of changes (accepts, rejects, a new invitation of each kind, one hour passes).
//!
//! Calls are counted outside the functions: Partner Central requests by the emulator
//! (retries included), PutEvents by the EventBridge proxy, DynamoDB requests by a tap in front
//! of moto. Each run's lower bound is computed from what that run had to do (see
//! [`lower_bound`]); the naive poller pages through every listing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use harness::lambda::Invocation;
use harness::stack::{Stack, StackOptions};
use partnercentral_local::{CatalogChoice, FaultConfig, GenerateConfig};
use serde_json::{Value, json};

use crate::account::{self, Kind, Listings, Truth, pages};
use crate::chaos::{new_invitation, t0};
use crate::functions::{self, ALL, AUTO_CANCEL, EXPIRE_SWEEPER, Fleet, LIST_AND_PUBLISH};
use crate::measure::{self, Profile};
use crate::prng::XorShift;
use crate::results::{FunctionFigures, LowerBound, RunFigures};
use crate::state;
use crate::{Error, Result};

/// How to run.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    pub engagements: usize,
    pub connections: usize,
    pub latency_ms: u64,
    pub rate_limit: u32,
    /// The functions' `MAX_REQUESTS_PER_SECOND` (their default).
    pub max_requests_per_second: u32,
    pub steady_runs: usize,
    /// Cold starts measured per function after the runs.
    pub cold_starts: usize,
    pub seed: u64,
    pub profile: Profile,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig {
            engagements: 20_000,
            connections: 2_000,
            latency_ms: 20,
            rate_limit: 10,
            max_requests_per_second: 8,
            steady_runs: 10,
            cold_starts: 5,
            seed: 2026,
            profile: Profile::Release,
        }
    }
}

impl BenchConfig {
    pub fn description(&self) -> String {
        format!(
            "generated account, two years of history: {} engagement invitations and {} connection invitations (≈2% pending, both participant types); {} ms added to every Partner Central call; emulator rate limit {}/s (the real quota); functions at MAX_REQUESTS_PER_SECOND={} (default), auto-cancel with a real policy (cancel what we sent to one blocked partner); first (full) run then {} steady-state runs, a handful of changes before each (one invitation accepted, one rejected, a new engagement invitation, a new connection invitation we sent to the blocked partner, one hour passes).",
            self.engagements,
            self.connections,
            self.latency_ms,
            self.rate_limit,
            self.max_requests_per_second,
            self.steady_runs
        )
    }
}

/// A partner our (fictional) alliance team no longer invites: the benchmark's auto-cancel
/// policy cancels every pending invitation we sent to it.
pub const BLOCKED_PARTNER: &str = "123456789012";

/// The functions' settings in the benchmark: defaults, plus a real (not dry-run) auto-cancel
/// policy, so its runs do the work they exist for (the driver sends one invitation to the
/// blocked partner before each steady-state round).
pub fn function_env(config: &BenchConfig) -> BTreeMap<String, Vec<(String, String)>> {
    let policy = json!({
        "version": 1, "dryRun": false, "maxCancellationsPerRun": 10, "maxCancellationsPerDay": 1000,
        "rules": [{"name": "blocked-partner", "match": {"otherParticipantIdentifiers": [BLOCKED_PARTNER]}}]
    });
    let rps = config.max_requests_per_second.to_string();
    ALL.iter()
        .map(|name| {
            let mut env = vec![("MAX_REQUESTS_PER_SECOND".to_owned(), rps.clone())];
            if *name == AUTO_CANCEL {
                env.push(("CANCEL_POLICY".to_owned(), policy.to_string()));
            }
            ((*name).to_owned(), env)
        })
        .collect()
}

/// One side (received or sent) of the engagement invitations, for one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Side {
    /// PENDING at the start of the run.
    pub pending: u64,
    /// Created since this function's previous run.
    pub new: u64,
    /// Records still PENDING in the state table whose invitation is no longer PENDING.
    pub stale: u64,
    /// Invitations created since the oldest one still PENDING (or recorded PENDING): a
    /// newest-first listing down to there shows every pending one and what became of every
    /// recorded one, without Gets.
    pub window: u64,
}

impl Side {
    /// The cheaper of the two ways to learn what changed on this side: the PENDING listing +
    /// the newest-first pages of what is new + a Get per invitation that left PENDING, or a
    /// newest-first listing down to the oldest pending invitation (⌊window/100⌋ + 1 pages:
    /// it stops at the first older one).
    pub fn calls(&self, with_new: bool) -> u64 {
        let listing = pages(self.pending) + if with_new { pages(self.new) } else { 0 } + self.stale;
        listing.min(self.window / account::PAGE_SIZE + 1)
    }
}

/// What a run had to do, from the emulator's and the state table's point of view.
#[derive(Debug, Clone, Default)]
pub struct Work {
    pub first: bool,
    /// Pending at the start of the run, per listing.
    pub pending: Listings,
    /// Invitations that appeared since this function's previous run, per listing (first run:
    /// the whole account).
    pub new: Listings,
    pub received: Side,
    pub sent: Side,
    /// Connection invitations recorded PENDING that are no longer (a Get each: the connection
    /// listing has no date order, and a finished status is only listed with all its history).
    pub stale_connections: BTreeSet<String>,
    /// Connection invitations the run published about (their details come only from Get).
    pub evented_connections: BTreeSet<String>,
    /// Whether events carry the invitations' details (`INCLUDE_CONTACT_DETAILS`; off in the
    /// benchmark, as by default): only then is a connection invitation published about read
    /// for them.
    pub details_published: bool,
    /// Actions the run itself took (auto-cancel: cancellations).
    pub actions: u64,
    /// Events the run delivered (PutEvents entries the proxy forwarded).
    pub events: u64,
    /// Query pages to read the records at the start of the run.
    pub record_pages: u64,
    /// Records the run wrote.
    pub changed_records: u64,
    /// Kinds (connection, engagement) whose records the run wrote.
    pub changed_kinds: u64,
}

impl Work {
    /// One `GetConnectionInvitation` per connection invitation that left PENDING, and per one
    /// published about when its details are published (one read serves both).
    pub fn connection_reads(&self) -> u64 {
        if self.details_published {
            self.stale_connections.union(&self.evented_connections).count() as u64
        } else {
            self.stale_connections.len() as u64
        }
    }
}

/// The least `function` could have done for `work`, term by term.
///
/// Common: ⌈events/10⌉ PutEvents; state I/O = the Query pages of the records (when the run
/// needs them), one Query of the outbox, ⌈(records written + events)/100⌉ transactions,
/// ⌈events/25⌉ outbox deletes.
/// - list-and-publish: the PENDING connection listing + per engagement side the cheaper of
///   (its PENDING listing + the newest-first pages of what is new, at least one, + a Get per
///   invitation that left PENDING) and (a newest-first listing down to its oldest pending
///   invitation) + a Get per connection invitation that left PENDING, or is published about
///   with its details (`INCLUDE_CONTACT_DETAILS`; details only via Get) + sync meta read and
///   write. First run: every page of every listing
///   + the connection Gets.
/// - expire-sweeper: the same without the "new" pages (it needs what is pending, not what was
///   created).
///   The issue asks for the two kinds to be processed concurrently, so each kind with changes
///   commits its own transaction(s).
/// - auto-cancel: the PENDING listing of our connection invitations + per cancellation the
///   Get the issue requires to confirm it is still PENDING and the Cancel, and the conditional
///   write of its durable allowances (per scheduled firing and per day); records only when it
///   cancels.
pub fn lower_bound(function: &str, work: &Work) -> LowerBound {
    let tx = div_ceil(work.changed_records + work.events, 100);
    let tx_per_kind = tx.max(work.changed_kinds);
    let deletes = div_ceil(work.events, 25);
    let put_events = div_ceil(work.events, 10);
    let records = work.record_pages.max(1);
    let (listings, per_invitation, state_io, basis) = match function {
        LIST_AND_PUBLISH => {
            let listings = if work.first {
                work.new.pages()
            } else {
                pages(work.pending.connections) + work.received.calls(true) + work.sent.calls(true)
            };
            (
                listings,
                work.connection_reads(),
                records + 1 + tx_per_kind + deletes + 2,
                "PENDING connection listing + per engagement side min(PENDING pages + max(1, pages of new) + 1 Get per invitation that left PENDING, newest-first pages down to the oldest pending one) (first run: every page of every listing) + 1 Get per connection invitation that left PENDING (or is published about, when its details are published: details only via Get) + ⌈events/10⌉ PutEvents + state I/O (records Query pages, outbox Query, ⌈(records written + events)/100⌉ transactions and at least one per kind with changes (kinds are processed concurrently), ⌈events/25⌉ outbox deletes, sync meta read + write)",
            )
        }
        EXPIRE_SWEEPER => (
            pages(work.pending.connections) + work.received.calls(false) + work.sent.calls(false),
            work.connection_reads(),
            records + 1 + tx + deletes,
            "PENDING connection listing + per engagement side min(PENDING pages + 1 Get per invitation that left PENDING, newest-first pages down to the oldest pending one) + 1 Get per connection invitation that left PENDING (or is published about, when its details are published) + ⌈events/10⌉ PutEvents + state I/O (records Query pages, outbox Query, ⌈(records written + events)/100⌉ transactions, ⌈events/25⌉ outbox deletes)",
        ),
        _ => (
            pages(work.pending.connections_sender),
            2 * work.actions,
            if work.actions > 0 { records } else { 0 } + 1 + tx + deletes + work.actions,
            "pages of the PENDING listing of our connection invitations + per cancellation the confirming Get (required) and the Cancel + ⌈events/10⌉ PutEvents + state I/O (outbox Query; with cancellations: records Query pages; ⌈(records written + events)/100⌉ transactions; ⌈events/25⌉ outbox deletes; per cancellation one conditional write of its allowances)",
        ),
    };
    let partner_central = listings + per_invitation;
    LowerBound {
        pending_pages: listings,
        new_pages: 0,
        per_transition: per_invitation,
        put_events,
        state_io,
        partner_central,
        total: partner_central + put_events + state_io,
        basis: basis.to_owned(),
    }
}

fn div_ceil(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

/// The benchmark's figures per function, and the scenario.
#[derive(Debug, Clone)]
pub struct BenchOutcome {
    pub functions: BTreeMap<String, FunctionFigures>,
    pub scenario: Value,
}

/// The driver's handful of changes before a steady-state round.
async fn mutate(stack: &Stack, rng: &mut XorShift, truth: &Truth) -> Result<Vec<String>> {
    let mut done = Vec::new();
    let pending: Vec<&account::Inv> = truth.pending.values().collect();
    let mut picked = std::collections::BTreeSet::new();
    for status in ["ACCEPTED", "REJECTED"] {
        let Some(inv) = rng.pick(&pending).copied() else { continue };
        if picked.insert(inv.key()) {
            stack.patch_invitation(inv.kind.as_str(), &inv.id, json!({"Status": status})).await?;
            done.push(format!("{} {} → {status}", inv.kind.as_str(), inv.id));
        }
    }
    let now = stack.emulator_now().await?;
    for kind in [Kind::Connection, Kind::Engagement] {
        let mut inv = new_invitation(rng, kind, now, 15 * 24);
        if kind == Kind::Connection {
            // Sent by us to the blocked partner: auto-cancel's policy cancels it this round.
            inv["ParticipantType"] = json!("SENDER");
            inv["OtherParticipantIdentifier"] = json!(BLOCKED_PARTNER);
        }
        done.push(format!("new {} {}", kind.as_str(), inv["Id"].as_str().unwrap_or_default()));
        stack.put_invitation(kind.as_str(), inv).await?;
    }
    stack.advance_clock(1.0).await?;
    done.push("clock +1 h".to_owned());
    Ok(done)
}

/// Per function: where its previous run left off in the truth's logs.
#[derive(Debug, Clone, Copy, Default)]
struct Mark {
    transitions: usize,
    appeared: usize,
    ran: bool,
}

fn ops_of(stats: &Value) -> BTreeMap<String, u64> {
    stats["operations"]
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v["requests"].as_u64().unwrap_or(0))).collect())
        .unwrap_or_default()
}

/// The stand-ins with a generated account of the AWS catalog (`engagements` + `connections`
/// invitations from `seed`) on the emulator's clock at `clock`, every call delayed by
/// `latency_ms` and the emulator enforcing `rate_limit` requests per second: the benchmarks'
/// world.
pub(crate) async fn generated_account(
    clock: DateTime<Utc>,
    seed: u64,
    engagements: usize,
    connections: usize,
    latency_ms: u64,
    rate_limit: u32,
) -> Result<Stack> {
    Stack::start(StackOptions {
        clock: Some(clock),
        generate: Some(GenerateConfig { seed, engagements, connections, catalogs: CatalogChoice::Aws }),
        emulator_faults: FaultConfig { latency_ms, rate_limit: Some(rate_limit), ..FaultConfig::default() },
        ..StackOptions::default()
    })
    .await
}

/// Run the scenario; `log` gets one line per run.
pub async fn run(config: &BenchConfig, log: &dyn Fn(String)) -> Result<BenchOutcome> {
    let mut rng = XorShift::new(config.seed);
    log(format!("starting the stack: {} + {} invitations …", config.engagements, config.connections));
    let stack = generated_account(
        t0(),
        config.seed,
        config.engagements,
        config.connections,
        config.latency_ms,
        config.rate_limit,
    )
    .await?;
    let mut everything = account::list(&stack, Kind::Connection, None).await?;
    everything.extend(account::list(&stack, Kind::Engagement, None).await?);
    let mut account_size = Listings::of(&everything);
    let mut dates = EngagementDates::default();
    dates.add(&everything);
    drop(everything);
    let mut truth = Truth::start(&stack).await?;
    log(format!(
        "account: {} connection invitations, {} engagement invitations received, {} sent; pending {} / {} / {}",
        account_size.connections,
        account_size.engagements_receiver,
        account_size.engagements_sender,
        truth.pending_listings().connections,
        truth.pending_listings().engagements_receiver,
        truth.pending_listings().engagements_sender
    ));
    let mut fleet = Fleet::new(&stack, config.profile, function_env(config)).await?;
    let mut figures: BTreeMap<String, FunctionFigures> = BTreeMap::new();
    let mut marks: BTreeMap<String, Mark> = BTreeMap::new();

    for round in 0..=config.steady_runs {
        if round > 0 {
            let done = mutate(&stack, &mut rng, &truth).await?;
            let changes = truth.observe(&stack, round, "driver").await?;
            account_size = add(account_size, &Listings::of(&changes.appeared));
            dates.add(&changes.appeared);
            log(format!("round {round}: {} ({} transitions)", done.join("; "), changes.transitions.len()));
        }
        for name in ALL {
            let mark = marks.get(name).copied().unwrap_or_default();
            let first = !mark.ran;
            let pending = truth.pending_listings();
            let new = if first { account_size } else { Listings::of(&truth.appeared[mark.appeared..]) };

            let state_before = state::snapshot(&stack).await?;
            let stale: Vec<&(Kind, String)> = state_before
                .records
                .iter()
                .filter(|(k, r)| r.status == "PENDING" && !truth.pending.contains_key(*k))
                .map(|(k, _)| k)
                .collect();
            let stale_connections: BTreeSet<String> =
                stale.iter().filter(|k| k.0 == Kind::Connection).map(|k| k.1.clone()).collect();
            let side = |participant: &str, pending: u64, new: u64| {
                let stale_ids: Vec<&String> = stale
                    .iter()
                    .filter(|k| k.0 == Kind::Engagement)
                    .filter(|k| state_before.records.get(*k).is_some_and(|r| r.participant == participant))
                    .map(|k| &k.1)
                    .collect();
                let oldest = truth
                    .pending
                    .values()
                    .filter(|i| i.kind == Kind::Engagement && i.participant == participant)
                    .map(|i| i.created_at)
                    .chain(stale_ids.iter().filter_map(|id| dates.created.get(*id).copied()))
                    .min();
                Side { pending, new, stale: stale_ids.len() as u64, window: dates.since(participant, oldest) }
            };
            let received = side("RECEIVER", pending.engagements_receiver, new.engagements_receiver);
            let sent = side("SENDER", pending.engagements_sender, new.engagements_sender);

            stack.reset_emulator_stats().await?;
            fleet.dynamodb_tap.clear();
            let proxy_before = stack.proxy.stats();
            if let Some(pid) = fleet.pid(name) {
                measure::reset_peak_rss(pid);
            }
            let served = fleet.invoke(name, &functions::scheduled_event(name)).await?;
            let summary = match served.outcome {
                Invocation::Ok(v) => v,
                Invocation::FunctionError { error_type, message } => {
                    return Err(Error::msg(format!(
                        "{name} failed in round {round}: {error_type}: {message}\n{}",
                        fleet.logs(name).join("\n")
                    )));
                }
            };
            let pid = fleet.pid(name).ok_or_else(|| Error::msg(format!("{name}: no process id")))?;
            let peak_rss_kib = measure::peak_rss_kib(pid)?;
            let stats = stack.emulator_stats().await?;
            let proxy_after = stack.proxy.stats();
            let dynamodb = fleet.dynamodb_tap.operations();
            let changes = truth.observe(&stack, round, name).await?;
            let state_after = state::snapshot(&stack).await?;
            let delivered = stack.received().await?;
            let evented_connections: BTreeSet<String> = delivered
                .iter()
                .filter(|e| e["detail"]["kind"] == "connection")
                .filter_map(|e| e["detail"]["invitationId"].as_str().map(str::to_owned))
                .collect();
            let transitions = (truth.transitions.len() - mark.transitions) as u64;
            marks.insert(
                name.to_owned(),
                Mark { transitions: truth.transitions.len(), appeared: truth.appeared.len(), ran: true },
            );

            let partner_central = ops_of(&stats);
            let pc_calls: u64 = partner_central.values().sum();
            let put_events = proxy_after.put_events_calls - proxy_before.put_events_calls;
            let events = proxy_after.entries_forwarded - proxy_before.entries_forwarded;
            let work = Work {
                first,
                pending,
                new,
                received,
                sent,
                stale_connections,
                evented_connections,
                // The benchmark runs with the default INCLUDE_CONTACT_DETAILS=false.
                details_published: false,
                actions: changes.transitions.len() as u64,
                events,
                record_pages: state_before.pages,
                changed_records: state_before.changed(&state_after),
                changed_kinds: state_before.changed_kinds(&state_after),
            };
            let bound = lower_bound(name, &work);
            let calls = pc_calls + put_events + dynamodb.values().sum::<u64>();
            let f = figures.entry(name.to_owned()).or_default();
            f.configured_rps = u64::from(config.max_requests_per_second);
            f.max_rps_seen = f.max_rps_seen.max(stats["max_received_per_second"].as_u64().unwrap_or(0));
            f.max_rps_served = f.max_rps_served.max(stats["max_requests_per_second"].as_u64().unwrap_or(0));
            if first {
                f.first_run_calls = calls;
                f.first_run_wall_ms = served.wall.as_millis() as u64;
                if let Some(init) = fleet.init(name) {
                    f.init_samples_ms.push(ms(init));
                }
            }
            log(format!(
                "  {name:<16} run {round:>2}: {calls:>4} calls (PC {pc_calls}, PutEvents {put_events}, DynamoDB {}), bound {}, naive {}, {:.2} s, peak {:.1} MB",
                dynamodb.values().sum::<u64>(),
                bound.total,
                account_size.pages(),
                served.wall.as_secs_f64(),
                peak_rss_kib as f64 / 1024.0
            ));
            f.runs.push(RunFigures {
                run: round,
                partner_central,
                put_events,
                dynamodb,
                calls,
                partner_central_calls: pc_calls,
                lower_bound: bound,
                naive: account_size.pages(),
                transitions,
                new_invitations: new.total(),
                events_delivered: events,
                wall_ms: served.wall.as_millis() as u64,
                peak_rss_kib,
                max_rps_received: stats["max_received_per_second"].as_u64().unwrap_or(0),
                own_bound: summary["lowerBound"].as_u64(),
                summary,
            });
        }
    }

    // Cold starts: a fresh process each, measured from spawn to its first /next poll.
    for name in ALL {
        for _ in 0..config.cold_starts {
            fleet.kill(name).await?;
            fleet.ensure_started(name)?;
            let init = wait_for_init(&fleet, name).await?;
            figures.entry(name.to_owned()).or_default().init_samples_ms.push(ms(init));
        }
    }
    fleet.stop_all().await?;

    for (name, f) in figures.iter_mut() {
        let steady: Vec<&RunFigures> = f.runs.iter().filter(|r| r.run > 0).collect();
        f.calls_over_lower_bound =
            steady.iter().map(|r| r.calls as f64 / r.lower_bound.total.max(1) as f64).fold(0.0, f64::max);
        f.naive_over_calls =
            steady.iter().map(|r| r.naive as f64 / r.partner_central_calls.max(1) as f64).fold(f64::INFINITY, f64::min);
        if !f.naive_over_calls.is_finite() {
            f.naive_over_calls = 0.0;
        }
        f.peak_rss_mb = round1(f.runs.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0) as f64 / 1024.0);
        f.init_ms = round1(median(&f.init_samples_ms));
        f.init_ms_max = round1(f.init_samples_ms.iter().copied().fold(0.0, f64::max));
        let native = measure::function_binary(name, Profile::Release)?;
        f.binary_mb_native = measure::mb(measure::file_size(&native)?);
        f.binary_mb_arm64 = match arm64_binary(name) {
            Ok(path) => measure::mb(measure::file_size(&path)?),
            Err(e) => {
                log(format!("{name}: {e}"));
                0.0
            }
        };
        f.calls_over_lower_bound = round2(f.calls_over_lower_bound);
        f.naive_over_calls = round1(f.naive_over_calls);
    }
    let scenario = json!({
        "description": config.description(),
        "engagement_invitations": account_size.engagements_receiver + account_size.engagements_sender,
        "connection_invitations": account_size.connections,
        "latency_ms": config.latency_ms,
        "rate_limit": config.rate_limit,
        "max_requests_per_second": config.max_requests_per_second,
        "steady_runs": config.steady_runs,
        "cold_starts": config.cold_starts,
        "seed": config.seed,
    });
    Ok(BenchOutcome { functions: figures, scenario })
}

/// Creation dates of every engagement invitation, per side, to count "created since".
#[derive(Debug, Default)]
struct EngagementDates {
    /// Sorted, per participant type.
    by_side: BTreeMap<String, Vec<DateTime<Utc>>>,
    created: std::collections::HashMap<String, DateTime<Utc>>,
}

impl EngagementDates {
    fn add(&mut self, invs: &[account::Inv]) {
        for i in invs.iter().filter(|i| i.kind == Kind::Engagement) {
            if self.created.insert(i.id.clone(), i.created_at).is_none() {
                self.by_side.entry(i.participant.clone()).or_default().push(i.created_at);
            }
        }
        for v in self.by_side.values_mut() {
            v.sort_unstable();
        }
    }

    /// Invitations of `side` created at or after `since` (none without a start).
    fn since(&self, side: &str, since: Option<DateTime<Utc>>) -> u64 {
        let (Some(since), Some(v)) = (since, self.by_side.get(side)) else { return 0 };
        (v.len() - v.partition_point(|d| *d < since)) as u64
    }
}

fn add(a: Listings, b: &Listings) -> Listings {
    Listings {
        connections: a.connections + b.connections,
        connections_sender: a.connections_sender + b.connections_sender,
        engagements_receiver: a.engagements_receiver + b.engagements_receiver,
        engagements_sender: a.engagements_sender + b.engagements_sender,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Wait (polling the runtime tap, at most 10 s) until a freshly started process polls `/next`.
async fn wait_for_init(fleet: &Fleet<'_>, name: &str) -> Result<Duration> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(init) = fleet.init(name) {
            return Ok(init);
        }
        if Instant::now() > deadline {
            return Err(Error::msg(format!(
                "{name} did not poll the Runtime API within 10 s:\n{}",
                fleet.logs(name).join("\n")
            )));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The arm64 release binary as deployed: `cargo lambda build --release --arm64` leaves it at
/// `target/lambda/<fn>/bootstrap` (a later build of the other architecture overwrites that
/// file, hence the ELF check), or under `target/aarch64-unknown-linux-gnu/release/`.
pub fn arm64_binary(name: &str) -> Result<std::path::PathBuf> {
    let target = measure::target_dir();
    let candidates = [
        target.join("lambda").join(name).join("bootstrap"),
        target.join("aarch64-unknown-linux-gnu").join("release").join(name),
    ];
    let mut seen = Vec::new();
    for path in candidates {
        if !path.is_file() {
            continue;
        }
        let machine = measure::elf_machine(&path)?;
        if machine == "aarch64" {
            return Ok(path);
        }
        seen.push(format!("{} is built for {machine}", path.display()));
    }
    Err(Error::msg(format!(
        "no arm64 build of {name} under {}{} (run `cargo lambda build --release --arm64`; make bench does)",
        target.display(),
        if seen.is_empty() { String::new() } else { format!(": {}", seen.join(", ")) }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listings(c: u64, cs: u64, r: u64, s: u64) -> Listings {
        Listings { connections: c, connections_sender: cs, engagements_receiver: r, engagements_sender: s }
    }

    #[test]
    fn steady_list_and_publish_bound_takes_the_cheaper_way_per_engagement_side() {
        let work = Work {
            pending: listings(41, 12, 330, 82),
            new: listings(1, 0, 1, 0),
            // Received: PENDING listing 4 + new 1 + 2 Gets = 7 > a window of 380 → 4 pages.
            received: Side { pending: 330, new: 1, stale: 2, window: 380 },
            // Sent: PENDING listing 1 + new 1 = 2 < a window of 250 → 3 pages.
            sent: Side { pending: 82, new: 0, stale: 0, window: 250 },
            stale_connections: BTreeSet::from(["pacinv-a".to_owned()]),
            evented_connections: BTreeSet::from(["pacinv-a".to_owned(), "pacinv-new".to_owned()]),
            details_published: true,
            events: 5,
            record_pages: 1,
            changed_records: 5,
            changed_kinds: 1,
            ..Work::default()
        };
        let b = lower_bound(LIST_AND_PUBLISH, &work);
        assert_eq!(b.pending_pages, 1 + 4 + 2, "connection page + the cheaper way on each side");
        assert_eq!(b.per_transition, 2, "one Get serves a stale connection invitation and its details");
        assert_eq!(b.put_events, 1);
        // records + outbox + one transaction + one outbox delete + meta read and write
        assert_eq!(b.state_io, 6);
        assert_eq!(b.partner_central, 9);
        assert_eq!(b.total, 9 + 1 + 6);
        // Without published details (the default), only the stale one is read.
        let plain = Work { details_published: false, ..work.clone() };
        assert_eq!(lower_bound(LIST_AND_PUBLISH, &plain).per_transition, 1);
        // Both kinds changed: each commits its own transaction.
        let both = Work { changed_kinds: 2, ..work.clone() };
        assert_eq!(lower_bound(LIST_AND_PUBLISH, &both).state_io, 7);
        // The sweeper needs what is pending, not what is new.
        assert_eq!(lower_bound(EXPIRE_SWEEPER, &work).pending_pages, 1 + 4 + 1);
    }

    #[test]
    fn first_run_pages_through_everything_and_auto_cancel_counts_its_cancellations() {
        let all = listings(2000, 600, 16000, 4000);
        let first = Work { first: true, pending: listings(41, 12, 330, 82), new: all, events: 450, ..Work::default() };
        assert_eq!(lower_bound(LIST_AND_PUBLISH, &first).pending_pages, 20 + 160 + 40);
        let cancel = Work {
            pending: listings(41, 12, 330, 82),
            actions: 2,
            events: 2,
            record_pages: 1,
            changed_records: 2,
            ..Work::default()
        };
        let b = lower_bound(AUTO_CANCEL, &cancel);
        assert_eq!((b.pending_pages, b.per_transition, b.put_events), (1, 4, 1), "a Get and a Cancel each");
        assert_eq!(b.state_io, 1 + 1 + 1 + 1 + 2, "… and an allowance write per cancellation");
        let idle = Work { pending: listings(41, 12, 330, 82), ..Work::default() };
        assert_eq!(lower_bound(AUTO_CANCEL, &idle).total, 1 + 1, "one listing page and the outbox");
    }

    #[test]
    fn a_side_with_nothing_pending_costs_one_page() {
        assert_eq!(Side::default().calls(true), 1);
        assert_eq!(Side { window: 250, ..Side::default() }.calls(false), 1);
        assert_eq!(Side { pending: 450, window: 199, ..Side::default() }.calls(false), 2);
    }

    #[test]
    fn created_since_counts_per_side() {
        let t = |h: i64| t0() + chrono::Duration::hours(h);
        let inv = |id: &str, side: &str, h: i64| account::Inv {
            kind: Kind::Engagement,
            id: id.into(),
            status: "PENDING".into(),
            participant: side.into(),
            created_at: t(h),
            expires_at: None,
        };
        let mut d = EngagementDates::default();
        d.add(&[inv("a", "RECEIVER", 1), inv("b", "RECEIVER", 3), inv("c", "SENDER", 2), inv("b", "RECEIVER", 3)]);
        assert_eq!(d.since("RECEIVER", Some(t(1))), 2);
        assert_eq!(d.since("RECEIVER", Some(t(2))), 1);
        assert_eq!(d.since("SENDER", Some(t(0))), 1);
        assert_eq!(d.since("SENDER", None), 0);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }
}

//! A realistic synthetic account (`--generate`), fully determined by the seed.
//!
//! Two years of invitation history ending at the clock's "now": creation dates uniform over
//! the two years, 15-day expiries, so only invitations from the last 15 days can still be
//! PENDING (≈2% of all); older ones were accepted, rejected, canceled (connection invitations
//! we sent) or expired. Both participant types, both engagement payload types, both
//! connection types, a pool of other participants. Engagement invitations carry full
//! `Payload`s so `GetEngagementInvitation` answers look like production ones.

use std::collections::HashSet;

use chrono::Duration;
use serde_json::{Value, json};

use crate::clock::Ts;
use crate::data::{
    ConnectionInvitation, DEFAULT_EXPIRY_DAYS, EngagementInvitation, connection_invitation_arn,
    engagement_invitation_arn, participant, status,
};
use crate::ops::account_id_for;
use crate::rng::{ALNUM, DIGITS, LOWER_ALNUM, SplitMix64};
use crate::seed::SeedData;

/// The account the emulator plays (the "us" of `ParticipantType`) in generated data.
pub const OWN_ACCOUNT_ID: &str = "111122223333";

/// Which catalogs to fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CatalogChoice {
    /// Only `AWS`.
    #[default]
    #[value(name = "AWS")]
    Aws,
    /// Only `Sandbox`.
    #[value(name = "Sandbox")]
    Sandbox,
    /// Both, each with the configured sizes.
    #[value(name = "both")]
    Both,
}

impl CatalogChoice {
    fn catalogs(self) -> &'static [&'static str] {
        match self {
            CatalogChoice::Aws => &["AWS"],
            CatalogChoice::Sandbox => &["Sandbox"],
            CatalogChoice::Both => &["AWS", "Sandbox"],
        }
    }
}

/// Sizes and seed of the synthetic data.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateConfig {
    pub seed: u64,
    /// Engagement invitations per catalog.
    pub engagements: usize,
    /// Connection invitations per catalog.
    pub connections: usize,
    pub catalogs: CatalogChoice,
}

impl Default for GenerateConfig {
    fn default() -> Self {
        GenerateConfig { seed: 1, engagements: 200, connections: 50, catalogs: CatalogChoice::Aws }
    }
}

const COMPANIES: &[&str] = &[
    "Anycompany",
    "Example Corp",
    "Octank",
    "AnyTown Retail",
    "Northwind Traders",
    "Contoso Health",
    "Blue Yonder Air",
    "Fabrikam Energy",
    "Tailspin Toys",
    "Wingtip Labs",
    "Proseware",
    "Lucerne Publishing",
    "Adatum Finance",
    "Litware Systems",
    "Margie Travel",
];
const FIRST: &[&str] = &["Ana", "Ben", "Chen", "Dana", "Eli", "Fatima", "Goran", "Hana", "Ivan", "Jo"];
const LAST: &[&str] = &["Silva", "Okafor", "Nguyen", "Smith", "Kowalski", "Tanaka", "Haddad", "Berg"];
const TITLES: &[&str] = &["Partner Manager", "Alliance Lead", "Solutions Architect", "Sales Director", "CTO"];
const INDUSTRIES: &[&str] = &[
    "Financial Services",
    "Healthcare",
    "Retail",
    "Manufacturing",
    "Software and Internet",
    "Education",
    "Government",
    "Media and Entertainment",
    "Telecommunications",
    "Other",
];
const COUNTRIES: &[&str] = &["US", "DE", "GB", "FR", "JP", "BR", "IN", "AU", "CA", "SG"];
const PROBLEMS: &[&str] = &[
    "Migrate the on-premises data warehouse to a managed analytics platform",
    "Modernise a monolithic order system into event-driven services",
    "Build a generative AI assistant for customer support agents",
    "Consolidate 40 AWS accounts under a governed landing zone",
    "Reduce storage costs of petabyte-scale media archives",
];
const RESPONSIBILITIES: &[&str] = &["Co-Sell Facilitator", "Software Partner", "Services Partner", "Reseller"];

struct Participant {
    account: String,
    company: String,
    person: String,
    email: String,
}

fn person(rng: &mut SplitMix64) -> (String, String) {
    let f = rng.pick(FIRST).copied().unwrap_or("Ana");
    let l = rng.pick(LAST).copied().unwrap_or("Silva");
    (f.to_owned(), l.to_owned())
}

fn slug(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase()
}

fn unique(rng: &mut SplitMix64, taken: &mut HashSet<String>, prefix: &str, alphabet: &[u8], len: usize) -> String {
    loop {
        let id = format!("{prefix}{}", rng.string(alphabet, len));
        if taken.insert(id.clone()) {
            return id;
        }
    }
}

/// Pick a status: only invitations whose expiry is still ahead can be PENDING.
fn pick_status(rng: &mut SplitMix64, still_open: bool, sender: bool, allow_canceled: bool) -> &'static str {
    let u = rng.unit();
    if still_open {
        return if u < 0.85 {
            status::PENDING
        } else if u < 0.95 {
            status::ACCEPTED
        } else if sender && allow_canceled {
            status::CANCELED
        } else {
            status::REJECTED
        };
    }
    if u < 0.55 {
        status::ACCEPTED
    } else if u < 0.70 {
        status::REJECTED
    } else if u < 0.80 && sender && allow_canceled {
        status::CANCELED
    } else {
        status::EXPIRED
    }
}

/// Generate the synthetic account as of `now`.
pub fn generate(cfg: &GenerateConfig, now: Ts) -> SeedData {
    let mut out = SeedData::default();
    let mut taken = HashSet::new();
    let history_ms = Duration::days(730).num_milliseconds();
    let expiry = Duration::days(DEFAULT_EXPIRY_DAYS);
    for (ci, catalog) in cfg.catalogs.catalogs().iter().enumerate() {
        let mut rng = SplitMix64::new(cfg.seed.wrapping_mul(0x9E37_79B9).wrapping_add(ci as u64));
        let pool_size = (cfg.connections.max(cfg.engagements) / 10).clamp(5, 400);
        let participants: Vec<Participant> = (0..pool_size)
            .map(|i| {
                let company = format!("{} {}", rng.pick(COMPANIES).copied().unwrap_or("Anycompany"), i + 1);
                let (f, l) = person(&mut rng);
                Participant {
                    account: rng.string(DIGITS, 12),
                    email: format!("{}.{}@{}.example.com", f.to_lowercase(), l.to_lowercase(), slug(&company)),
                    person: format!("{f} {l}"),
                    company,
                }
            })
            .collect();
        let me = Participant {
            account: OWN_ACCOUNT_ID.to_owned(),
            company: "Our Company".to_owned(),
            person: "Pat Owner".to_owned(),
            email: "pat.owner@ourcompany.example.com".to_owned(),
        };
        for _ in 0..cfg.connections {
            let created = now - Duration::milliseconds(rng.range_i64(0, history_ms));
            let expires = created + expiry;
            let sender = rng.chance(0.3);
            let other = &participants[rng.below(participants.len() as u64) as usize];
            let st = pick_status(&mut rng, expires > now, sender, true);
            let updated = if st == status::PENDING {
                created
            } else if st == status::EXPIRED {
                expires
            } else {
                let span = (now.min(expires) - created).num_milliseconds().max(1);
                created + Duration::milliseconds(rng.range_i64(1, span))
            };
            let inviter = if sender { &me } else { other };
            let id = unique(&mut rng, &mut taken, "pacinv-", ALNUM, 13);
            let ctype = if rng.chance(0.8) { "OPPORTUNITY_COLLABORATION" } else { "SUBSIDIARY" };
            out.connection_invitations.push(ConnectionInvitation {
                catalog: (*catalog).to_owned(),
                arn: connection_invitation_arn(catalog, &id),
                connection_id: (st == status::ACCEPTED).then(|| {
                    // One connection per other participant: derive its id from the account.
                    let h = account_id_for(&format!("{catalog}/{}", other.account));
                    format!("pac-{}", &format!("{h}{h}")[..13])
                }),
                id,
                connection_type: ctype.to_owned(),
                created_at: created,
                updated_at: updated,
                expires_at: Some(expires),
                other_participant_identifier: other.account.clone(),
                participant_type: if sender { participant::SENDER } else { participant::RECEIVER }.to_owned(),
                status: st.to_owned(),
                invitation_message: format!(
                    "{} would like to connect with {} for {}.",
                    inviter.company,
                    if sender { &other.company } else { &me.company },
                    if ctype == "SUBSIDIARY" { "subsidiary management" } else { "opportunity collaboration" }
                ),
                inviter_email: inviter.email.clone(),
                inviter_name: inviter.person.clone(),
            });
        }
        for _ in 0..cfg.engagements {
            let date = now - Duration::milliseconds(rng.range_i64(0, history_ms));
            let expires = date + expiry;
            let sender = rng.chance(0.2);
            let other = &participants[rng.below(participants.len() as u64) as usize];
            let st = pick_status(&mut rng, expires > now, sender, false);
            let id = unique(&mut rng, &mut taken, "engi-", LOWER_ALNUM, 13);
            let engagement = unique(&mut rng, &mut taken, "eng-", LOWER_ALNUM, 14);
            let lead = rng.chance(0.3);
            let customer =
                format!("{} Customer {}", rng.pick(COMPANIES).copied().unwrap_or("Anycompany"), rng.below(900) + 100);
            let industry = rng.pick(INDUSTRIES).copied().unwrap_or("Other");
            let country = rng.pick(COUNTRIES).copied().unwrap_or("US");
            let problem = rng.pick(PROBLEMS).copied().unwrap_or(PROBLEMS[0]);
            let title: String =
                format!("{} - {}", customer, if lead { "Lead" } else { "Co-sell" }).chars().take(40).collect();
            let (sender_party, receiver_party) = if sender { (&me, other) } else { (other, &me) };
            let (cf, cl) = person(&mut rng);
            let payload = if lead {
                json!({"LeadInvitation": {
                    "Customer": {
                        "CompanyName": customer, "Industry": industry,
                        "WebsiteUrl": format!("https://www.{}.example.com", slug(&customer)),
                        "CountryCode": country, "AwsMaturity": "Intermediate",
                        "MarketSegment": "Enterprise"},
                    "Interaction": {
                        "SourceType": "Event", "SourceId": format!("src-{}", rng.below(100000)),
                        "SourceName": "AWS Summit", "Usecase": problem,
                        "ContactBusinessTitle": rng.pick(TITLES).copied().unwrap_or("CTO")}
                }})
            } else {
                let target = (date + Duration::days(rng.range_i64(60, 365))).format("%Y-%m-%d").to_string();
                json!({"OpportunityInvitation": {
                    "SenderContacts": [{
                        "Email": sender_party.email, "FirstName": cf, "LastName": cl,
                        "BusinessTitle": rng.pick(TITLES).copied().unwrap_or("CTO")}],
                    "ReceiverResponsibilities": [rng.pick(RESPONSIBILITIES).copied().unwrap_or("Co-Sell Facilitator")],
                    "Customer": {
                        "Industry": industry, "CompanyName": customer,
                        "WebsiteUrl": format!("https://www.{}.example.com", slug(&customer)),
                        "CountryCode": country},
                    "Project": {
                        "BusinessProblem": problem, "Title": title,
                        "TargetCompletionDate": target,
                        "ExpectedCustomerSpend": [{
                            "Amount": format!("{}", (rng.below(200) + 1) * 500),
                            "CurrencyCode": "USD", "Frequency": "Monthly",
                            "TargetCompany": "AWS"}]}
                }})
            };
            out.engagement_invitations.push(EngagementInvitation {
                catalog: (*catalog).to_owned(),
                arn: engagement_invitation_arn(catalog, &id),
                id,
                payload_type: Some(if lead { "LeadInvitation" } else { "OpportunityInvitation" }.to_owned()),
                engagement_id: Some(engagement),
                engagement_title: Some(title),
                status: st.to_owned(),
                invitation_date: date,
                expiration_date: expires,
                sender_aws_account_id: Some(sender_party.account.clone()),
                sender_company_name: Some(sender_party.company.clone()),
                receiver: Some(json!({"Account": {
                    "AwsAccountId": receiver_party.account,
                    "Alias": receiver_party.company}})),
                participant_type: if sender { participant::SENDER } else { participant::RECEIVER }.to_owned(),
                rejection_reason: (st == status::REJECTED && !sender)
                    .then(|| "Customer is not a fit for our solution".to_owned()),
                payload: Some(payload),
                invitation_message: Some(format!(
                    "{} invites you to collaborate on {}",
                    sender_party.company, customer
                )),
                engagement_description: Some(problem.to_owned()),
                existing_members: Some(Value::Array(vec![json!({
                    "CompanyName": sender_party.company,
                    "WebsiteUrl": format!("https://www.{}.example.com", slug(&sender_party.company))})])),
                enrichment_context: None,
                task_plan: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_ts;
    use crate::model::{Direction, Models};

    #[test]
    fn generated_data_is_deterministic_and_conforms_to_the_model() {
        let now = parse_ts("2026-11-20T10:00:00Z").expect("ts");
        let cfg = GenerateConfig { seed: 42, engagements: 1500, connections: 500, catalogs: CatalogChoice::Both };
        let a = generate(&cfg, now);
        let b = generate(&cfg, now);
        assert_eq!(a.connection_invitations, b.connection_invitations);
        assert_eq!(a.engagement_invitations, b.engagement_invitations);
        let c = generate(&GenerateConfig { seed: 43, ..cfg.clone() }, now);
        assert_ne!(a.engagement_invitations, c.engagement_invitations);
        assert_eq!(a.connection_invitations.len(), 1000);
        assert_eq!(a.engagement_invitations.len(), 3000);

        let m = Models::shared().expect("models");
        for ci in &a.connection_invitations {
            let v = m.account.validate("GetConnectionInvitationResponse", &ci.detail_json(), Direction::Output);
            assert!(v.is_empty(), "{ci:?}: {v:?}");
            assert!(ci.created_at <= now && ci.updated_at <= now.max(ci.created_at));
        }
        for e in &a.engagement_invitations {
            let v = m.selling.validate("GetEngagementInvitationResponse", &e.detail_json(), Direction::Output);
            assert!(v.is_empty(), "{e:?}: {v:?}");
            let v = m.selling.validate("EngagementInvitationSummary", &e.summary_json(), Direction::Output);
            assert!(v.is_empty(), "{e:?}: {v:?}");
            if e.status == "PENDING" {
                assert!(e.expiration_date > now);
            }
        }
        let pending = a.engagement_invitations.iter().filter(|e| e.status == "PENDING").count();
        assert!((15..=150).contains(&pending), "~2% of 3000 pending, got {pending}");
        for want in ["SENDER", "RECEIVER"] {
            assert!(a.engagement_invitations.iter().any(|e| e.participant_type == want));
            assert!(a.connection_invitations.iter().any(|e| e.participant_type == want));
        }
        for want in ["LeadInvitation", "OpportunityInvitation"] {
            assert!(a.engagement_invitations.iter().any(|e| e.payload_type.as_deref() == Some(want)));
        }
        for want in ["ACCEPTED", "REJECTED", "EXPIRED", "CANCELED", "PENDING"] {
            assert!(a.connection_invitations.iter().any(|e| e.status == want), "{want}");
        }
    }
}

//! An independent, deliberately simple batch reimplementation of `docs/methodology.md`.
//!
//! Built from the document only (sections cited inline). Two passes:
//! 1. [`arrive`]: the arrival-order rules (too late, duplicates, conflicting steps), a plain loop;
//! 2. [`compute`]: per seller and local day, the numerators, denominators and overdue counts
//!    of every metric, computed from the accepted events as a batch, then [`rows`]: every
//!    window row of every cadence, judged, with previous/change and the monthly composite.
#![allow(dead_code)]

use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use quality_engine::actions::ActionPolicy;
use quality_engine::contract::{decode, CancelledBy, ComplaintReason, EventBody, RejectReason};
use quality_engine::methodology::{MetricId, Standards};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Metric indices, in the order of the document's table (section 2).
pub const CSI: usize = 0;
pub const NPS: usize = 1;
pub const POSITIVE: usize = 2;
pub const CONFIRM: usize = 3;
pub const ASSEMBLY: usize = 4;
pub const HANDOVER: usize = 5;
pub const CANCEL: usize = 6;
pub const RESPONSE: usize = 7;
pub const COMPLETE: usize = 8;
pub const FIRST_CONTACT: usize = 9;
pub const CRITIC: usize = 10;
pub const SURVEY: usize = 11;
pub const ACCURACY: usize = 12;
pub const N: usize = 13;

pub const IDS: [&str; N] = [
    "csi",
    "nps",
    "positive_review_share",
    "confirmation_time_avg",
    "assembly_time_avg",
    "on_time_handover_share",
    "seller_cancellation_share",
    "response_time_avg",
    "answer_completeness_share",
    "first_contact_resolution_share",
    "critic_followup_share",
    "survey_coverage_share",
    "assembly_accuracy_share",
];

/// The default complaint window (section 12): a delivered order is judged this long after its delivery.
pub const COMPLAINT_WINDOW_MS: i64 = 14 * 24 * 3_600_000;

/// Durations are kept in milliseconds (section 2, "Durations").
pub fn is_duration(i: usize) -> bool {
    matches!(i, CONFIRM | ASSEMBLY | RESPONSE)
}

/// Lower-is-better metrics (section 2, "Pass/fail").
pub fn lower_is_better(i: usize) -> bool {
    matches!(i, CONFIRM | ASSEMBLY | RESPONSE | CANCEL)
}

/// Daily rows carry all but the base metrics (section 4, "What each cadence carries").
pub fn in_cadence(i: usize, cadence: &str) -> bool {
    cadence != "day" || !matches!(i, CSI | NPS | POSITIVE)
}

pub const CADENCES: [&str; 6] = ["day", "week", "month", "quarter", "rolling_7d", "rolling_30d"];

/// Scoring parameters of one metric, read from the engine's public `Standards` (defaults or config).
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub target: f64,
    pub weight: f64,
    pub prior: f64,
    pub floor: f64,
    pub ideal: f64,
}

pub fn params(s: &Standards) -> [Param; N] {
    std::array::from_fn(|i| {
        let m = MetricId::from_id(IDS[i]).expect("metric id of the document");
        let st = s.get(m);
        Param { target: st.target, weight: st.weight, prior: st.prior_weight, floor: st.floor, ideal: st.ideal }
    })
}

// ---------------------------------------------------------------- local calendar (section 4)

/// Local days of a zone (section 4): an instant belongs to the day its local calendar date
/// says; so DST days are 23 or 25 hours long, a day whose midnight the clocks skip starts
/// when the gap ends, and a repeated hour belongs to the date it shows.
pub struct Calendar {
    pub tz: Tz,
}

impl Calendar {
    pub fn new(tz: Tz) -> Calendar {
        Calendar { tz }
    }

    /// UTC milliseconds of the first instant of local day `d` (a search over instants, not a
    /// conversion of the wall time, so that gaps and repeats need no special case).
    pub fn midnight(&self, d: NaiveDate) -> i64 {
        let guess = d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis();
        let (mut lo, mut hi) = (guess - 36 * 3_600_000, guess + 36 * 3_600_000);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.day(mid) >= d {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }

    /// The local day holding instant `t` (UTC milliseconds): its local calendar date.
    pub fn day(&self, t: i64) -> NaiveDate {
        self.tz.timestamp_millis_opt(t).unwrap().date_naive()
    }
}

pub fn monday(d: NaiveDate) -> NaiveDate {
    d - Duration::days(d.weekday().num_days_from_monday() as i64)
}

pub fn month_start(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap()
}

pub fn next_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap()
}

/// First day of the calendar quarter holding `d` (section 4: January, April, July, October).
pub fn quarter_start(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), (d.month() - 1) / 3 * 3 + 1, 1).unwrap()
}

pub fn prev_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 1 { (d.year() - 1, 12) } else { (d.year(), d.month() - 1) };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap()
}

// ---------------------------------------------------------------- events

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Created,
    Confirmed,
    Assembled,
    Shipped,
    Delivered,
    Cancelled,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Order {
        order: String,
        step: Step,
        ship_by: i64,
        by_seller: bool,
        customer: String,
    },
    Received {
        msg: String,
    },
    Replied {
        msg: String,
    },
    Inquiry {
        first_contact: bool,
    },
    Audit {
        complete: bool,
    },
    Review {
        rating: u8,
        review: String,
        order: String,
        commented: bool,
    },
    Nps {
        score: u8,
        response: String,
        commented: bool,
    },
    FollowUp {
        critic: String,
    },
    /// Section 12: only a wrong or a missing item is an assembly error.
    Complaint {
        order: String,
        assembly_error: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Ev {
    pub seller: String,
    pub t: i64,
    pub kind: Kind,
}

fn convert(seller: &str, t: i64, body: &EventBody<'_>) -> Ev {
    let order = |o: &str, step: Step| Kind::Order { order: o.to_owned(), step, ship_by: 0, by_seller: false, customer: String::new() };
    let commented = |c: &Option<std::borrow::Cow<'_, str>>| c.as_deref().is_some_and(|c| !c.trim().is_empty());
    let kind = match body {
        EventBody::OrderCreated { order_id, ship_by, customer_id } => {
            Kind::Order { order: order_id.to_string(), step: Step::Created, ship_by: ship_by.0, by_seller: false, customer: customer_id.to_string() }
        }
        EventBody::OrderConfirmed { order_id } => order(order_id, Step::Confirmed),
        EventBody::OrderAssembled { order_id } => order(order_id, Step::Assembled),
        EventBody::OrderShipped { order_id } => order(order_id, Step::Shipped),
        EventBody::OrderDelivered { order_id } => order(order_id, Step::Delivered),
        EventBody::OrderCancelled { order_id, cancelled_by, .. } => Kind::Order {
            order: order_id.to_string(),
            step: Step::Cancelled,
            ship_by: 0,
            by_seller: *cancelled_by == CancelledBy::Seller,
            customer: String::new(),
        },
        EventBody::MessageReceived { message_id, .. } => Kind::Received { msg: message_id.to_string() },
        EventBody::MessageReplied { message_id, .. } => Kind::Replied { msg: message_id.to_string() },
        EventBody::InquiryResolved { first_contact, .. } => Kind::Inquiry { first_contact: *first_contact },
        EventBody::AnswerAudited { complete, .. } => Kind::Audit { complete: *complete },
        EventBody::ReviewSubmitted { rating, review_id, order_id, comment, .. } => {
            Kind::Review { rating: *rating, review: review_id.to_string(), order: order_id.to_string(), commented: commented(comment) }
        }
        EventBody::NpsSubmitted { score, response_id, comment, .. } => {
            Kind::Nps { score: *score, response: response_id.to_string(), commented: commented(comment) }
        }
        EventBody::CriticFollowedUp { review_id, response_id, .. } => Kind::FollowUp {
            critic: match (review_id, response_id) {
                (Some(r), _) => format!("review:{r}"),
                (None, Some(n)) => format!("nps:{n}"),
                (None, None) => unreachable!("the decoder requires one"),
            },
        },
        EventBody::OrderComplaint { order_id, reason, .. } => Kind::Complaint {
            order: order_id.to_string(),
            assembly_error: match reason {
                ComplaintReason::WrongItem | ComplaintReason::MissingItem => true,
                ComplaintReason::Damaged | ComplaintReason::Other => false,
            },
        },
        EventBody::RequestCreated { .. }
        | EventBody::RequestReassigned { .. }
        | EventBody::RequestClosed { .. }
        | EventBody::RequestReopened { .. }
        | EventBody::SurveyAnswered { .. }
        | EventBody::FeedbackExcluded { .. } => unreachable!("this model covers the marketplace profile; service_model.rs the service one"),
    };
    Ev { seller: seller.to_owned(), t, kind }
}

// ---------------------------------------------------------------- pass 1: arrival order (sections 1, 4)

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefVerdict {
    Accepted,
    Duplicate,
    Rejected(RejectReason),
}

#[derive(Debug, Default)]
pub struct Arrival {
    /// One verdict per line, in arrival order.
    pub verdicts: Vec<RefVerdict>,
    /// The accepted events, in arrival order.
    pub accepted: Vec<Ev>,
    /// Latest `occurred_at` among the accepted events.
    pub max_t: Option<i64>,
}

/// The measured durations whose negative value is a rejection: (earlier step, later step).
const ORDERED: [(Step, Step); 2] = [(Step::Created, Step::Confirmed), (Step::Confirmed, Step::Assembled)];

pub fn arrive<L: AsRef<[u8]>>(lines: &[L], lateness_ms: i64) -> Arrival {
    let mut a = Arrival::default();
    let mut ids: HashSet<String> = HashSet::new();
    let mut steps: HashMap<(String, String, Step), i64> = HashMap::new();
    let mut received: HashMap<(String, String), i64> = HashMap::new();
    let mut replies: HashMap<(String, String), Vec<i64>> = HashMap::new();
    for line in lines {
        let e = match decode(line.as_ref()) {
            Ok(e) => e,
            Err(r) => {
                a.verdicts.push(RefVerdict::Rejected(r.reason));
                continue;
            }
        };
        let t = e.occurred_at.0;
        // Too late first: the watermark is the latest time seen minus the lateness.
        if let Some(max) = a.max_t {
            if t < max - lateness_ms {
                a.verdicts.push(RefVerdict::Rejected(RejectReason::TooLate));
                continue;
            }
        }
        if ids.contains(e.event_id.as_ref()) {
            a.verdicts.push(RefVerdict::Duplicate);
            continue;
        }
        let ev = convert(&e.seller_id, t, &e.body);
        let reject = match &ev.kind {
            Kind::Order { order, step, .. } => {
                let key = |s: Step| (ev.seller.clone(), order.clone(), s);
                if steps.contains_key(&key(*step)) {
                    Some(RejectReason::ConflictingLifecycle)
                } else if ORDERED.iter().any(|&(before, after)| {
                    (*step == after && steps.get(&key(before)).is_some_and(|&b| t < b))
                        || (*step == before && steps.get(&key(after)).is_some_and(|&l| l < t))
                }) {
                    Some(RejectReason::NegativeDuration)
                } else {
                    None
                }
            }
            Kind::Received { msg } => {
                let key = (ev.seller.clone(), msg.clone());
                if received.contains_key(&key) {
                    Some(RejectReason::ConflictingLifecycle)
                } else if replies.get(&key).is_some_and(|r| r.iter().any(|&p| p < t)) {
                    Some(RejectReason::NegativeDuration)
                } else {
                    None
                }
            }
            Kind::Replied { msg } => {
                let key = (ev.seller.clone(), msg.clone());
                if received.get(&key).is_some_and(|&r| t < r) {
                    Some(RejectReason::NegativeDuration)
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some(r) = reject {
            a.verdicts.push(RefVerdict::Rejected(r));
            continue;
        }
        match &ev.kind {
            Kind::Order { order, step, .. } => {
                steps.insert((ev.seller.clone(), order.clone(), *step), t);
            }
            Kind::Received { msg } => {
                received.insert((ev.seller.clone(), msg.clone()), t);
            }
            Kind::Replied { msg } => replies.entry((ev.seller.clone(), msg.clone())).or_default().push(t),
            _ => {}
        }
        ids.insert(e.event_id.to_string());
        a.max_t = Some(a.max_t.map_or(t, |m| m.max(t)));
        a.verdicts.push(RefVerdict::Accepted);
        a.accepted.push(ev);
    }
    a
}

// ---------------------------------------------------------------- pass 2: per-day sums (sections 2, 3)

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Acc {
    /// Milliseconds for durations, promoters minus detractors for NPS, counts otherwise.
    pub num: i64,
    pub den: i64,
    pub overdue: i64,
}

impl Acc {
    fn add(&mut self, o: &Acc) {
        self.num += o.num;
        self.den += o.den;
        self.overdue += o.overdue;
    }

    fn is_zero(&self) -> bool {
        self.num == 0 && self.den == 0 && self.overdue == 0
    }
}

pub type Days = BTreeMap<String, BTreeMap<NaiveDate, [Acc; N]>>;

#[derive(Default, Debug)]
struct Order {
    created: Option<(i64, i64)>,
    customer: Option<String>,
    confirmed: Option<i64>,
    assembled: Option<i64>,
    shipped: Option<i64>,
    delivered: Option<i64>,
    cancelled: Option<i64>,
}

#[derive(Default, Debug)]
struct Message {
    received: Option<i64>,
    first_reply: Option<i64>,
}

pub struct Model {
    pub days: Days,
    /// Latest accepted event time: deadlines at or before it have passed (section 3).
    pub max_t: i64,
    pub cal: Calendar,
    pub params: [Param; N],
}

pub fn compute(arrival: &Arrival, tz: Tz, standards: &Standards) -> Model {
    let cal = Calendar::new(tz);
    let params = params(standards);
    let max_t = arrival.max_t.unwrap_or(i64::MIN);
    let mut days: Days = BTreeMap::new();
    let mut put = |seller: &str, t: i64, metric: usize, num: i64, den: i64, overdue: i64| {
        let d = cal.day(t);
        let acc = &mut days.entry(seller.to_owned()).or_default().entry(d).or_insert([Acc::default(); N])[metric];
        acc.num += num;
        acc.den += den;
        acc.overdue += overdue;
    };
    let mut orders: BTreeMap<(String, String), Order> = BTreeMap::new();
    let mut messages: BTreeMap<(String, String), Message> = BTreeMap::new();
    // Section 10: critics (first arrival of each), their earliest follow-up, each order's earliest review.
    let policy = ActionPolicy::default();
    let mut critics: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut followed: HashMap<(String, String), i64> = HashMap::new();
    let mut reviewed: HashMap<(String, String), i64> = HashMap::new();
    // Section 12: the earliest complaint of a wrong or missing item of each order.
    let mut assembly_errors: HashMap<(String, String), i64> = HashMap::new();
    for e in &arrival.accepted {
        let s = e.seller.as_str();
        match &e.kind {
            Kind::Order { order, step, ship_by, by_seller, customer } => {
                let o = orders.entry((e.seller.clone(), order.clone())).or_default();
                match step {
                    Step::Created => {
                        o.created = Some((e.t, *ship_by));
                        o.customer = Some(customer.clone());
                        put(s, e.t, CANCEL, 0, 1, 0);
                    }
                    Step::Confirmed => o.confirmed = Some(e.t),
                    Step::Assembled => o.assembled = Some(e.t),
                    Step::Shipped => o.shipped = Some(e.t),
                    Step::Delivered => o.delivered = Some(e.t),
                    Step::Cancelled => {
                        o.cancelled = Some(e.t);
                        if *by_seller {
                            put(s, e.t, CANCEL, 1, 0, 0);
                        }
                    }
                }
            }
            Kind::Received { msg } => messages.entry((e.seller.clone(), msg.clone())).or_default().received = Some(e.t),
            Kind::Replied { msg } => {
                let m = messages.entry((e.seller.clone(), msg.clone())).or_default();
                m.first_reply = Some(m.first_reply.map_or(e.t, |r| r.min(e.t)));
            }
            Kind::Inquiry { first_contact } => put(s, e.t, FIRST_CONTACT, *first_contact as i64, 1, 0),
            Kind::Audit { complete } => put(s, e.t, COMPLETE, *complete as i64, 1, 0),
            Kind::Review { rating, review, order, commented } => {
                put(s, e.t, CSI, *rating as i64, 1, 0);
                put(s, e.t, POSITIVE, (*rating >= 4) as i64, 1, 0);
                let r = reviewed.entry((e.seller.clone(), order.clone())).or_insert(e.t);
                *r = (*r).min(e.t);
                if *rating <= policy.critics.max_review_rating && *commented {
                    critics.entry((e.seller.clone(), format!("review:{review}"))).or_insert(e.t);
                }
            }
            Kind::FollowUp { critic } => {
                let f = followed.entry((e.seller.clone(), critic.clone())).or_insert(e.t);
                *f = (*f).min(e.t);
            }
            Kind::Complaint { order, assembly_error } => {
                if *assembly_error {
                    let c = assembly_errors.entry((e.seller.clone(), order.clone())).or_insert(e.t);
                    *c = (*c).min(e.t);
                }
            }
            Kind::Nps { score, response, commented } => {
                if *score <= policy.critics.max_nps_score && *commented {
                    critics.entry((e.seller.clone(), format!("nps:{response}"))).or_insert(e.t);
                }
                let v = if *score >= 9 {
                    1
                } else if *score <= 6 {
                    -1
                } else {
                    0
                };
                put(s, e.t, NPS, v, 1, 0);
            }
        }
    }
    let target_ms = |i: usize| (params[i].target * 1000.0).round() as i64;
    let happened_by = |step: Option<i64>, deadline: i64| step.is_some_and(|t| t <= deadline);
    for ((seller, _), o) in &orders {
        // Measurements, on the day of the completing step.
        if let (Some((created, _)), Some(confirmed)) = (o.created, o.confirmed) {
            put(seller, confirmed, CONFIRM, confirmed - created, 1, 0);
        }
        if let (Some(confirmed), Some(assembled)) = (o.confirmed, o.assembled) {
            put(seller, assembled, ASSEMBLY, assembled - confirmed, 1, 0);
        }
        if let (Some((_, ship_by)), Some(shipped)) = (o.created, o.shipped) {
            put(seller, shipped, HANDOVER, (shipped <= ship_by) as i64, 1, 0);
        }
        // Overdue, on the day of the deadline, once event time has reached it.
        let mut overdue = |metric: usize, deadline: i64, step: Option<i64>| {
            if deadline <= max_t && !happened_by(step, deadline) && !happened_by(o.cancelled, deadline) {
                put(seller, deadline, metric, 0, 0, 1);
            }
        };
        if let Some((created, ship_by)) = o.created {
            overdue(CONFIRM, created + target_ms(CONFIRM), o.confirmed);
            overdue(HANDOVER, ship_by, o.shipped);
        }
        if let Some(confirmed) = o.confirmed {
            overdue(ASSEMBLY, confirmed + target_ms(ASSEMBLY), o.assembled);
        }
    }
    for ((seller, _), m) in &messages {
        if let (Some(received), Some(reply)) = (m.received, m.first_reply) {
            put(seller, reply, RESPONSE, reply - received, 1, 0);
        }
        if let Some(received) = m.received {
            let deadline = received + target_ms(RESPONSE);
            if deadline <= max_t && !happened_by(m.first_reply, deadline) {
                put(seller, deadline, RESPONSE, 0, 0, 1);
            }
        }
    }
    // Critics: settled on the day of an in-time follow-up, or missed (and overdue) on the day
    // of the deadline once event time passed it.
    for ((seller, critic), t) in &critics {
        let due = t + policy.critics.sla_ms;
        match followed.get(&(seller.clone(), critic.clone())) {
            Some(&f) if f <= due => put(seller, f, CRITIC, 1, 1, 0),
            _ if due <= max_t => put(seller, due, CRITIC, 0, 1, 1),
            _ => {}
        }
    }
    // Assembly accuracy: every delivered order counts on the day its complaint window ends, once
    // event time has reached that end; accurate unless an assembly error was complained of at or
    // before it (however early, even before the delivery).
    for ((seller, id), o) in &orders {
        let Some(delivered) = o.delivered else { continue };
        let end = delivered + COMPLAINT_WINDOW_MS;
        if end <= max_t {
            let inaccurate = assembly_errors.get(&(seller.clone(), id.clone())).is_some_and(|&c| c <= end);
            put(seller, end, ACCURACY, !inaccurate as i64, 1, 0);
        }
    }
    // Surveys: decided at delivery + wait, earliest first (ties by seller, order); at most one
    // request per seller and customer within the period; never for an order cancelled by then.
    let mut decisions: Vec<(i64, &String, &String, &Order)> = orders
        .iter()
        .filter_map(|((s, id), o)| o.delivered.map(|d| (d + policy.survey.wait_ms, s, id, o)))
        .filter(|(due, ..)| *due <= max_t)
        .collect();
    decisions.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    let mut surveyed: HashMap<(String, String), i64> = HashMap::new();
    for (due, seller, id, o) in decisions {
        if happened_by(o.cancelled, due) {
            continue;
        }
        let covered = if happened_by(reviewed.get(&(seller.clone(), id.clone())).copied(), due) {
            true
        } else if let Some(customer) = &o.customer {
            let key = (seller.clone(), customer.clone());
            if surveyed.get(&key).is_some_and(|last| due - last < policy.survey.once_per_customer_ms) {
                continue;
            }
            surveyed.insert(key, due);
            true
        } else {
            false
        };
        put(seller, due, SURVEY, covered as i64, 1, 0);
    }
    // A day exists for a seller only with a counted contribution.
    for per_day in days.values_mut() {
        per_day.retain(|_, accs| accs.iter().any(|a| !a.is_zero()));
    }
    days.retain(|_, d| !d.is_empty());
    Model { days, max_t, cal, params }
}

// ---------------------------------------------------------------- rows (sections 2, 4, 6)

#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub metric: &'static str,
    /// Numerator x 1000 in the row's unit: milliseconds for durations, count x 1000 otherwise.
    pub num_milli: i64,
    pub den: i64,
    pub overdue: i64,
    pub value: Option<f64>,
    pub target: f64,
    pub deviation: Option<f64>,
    pub previous: Option<f64>,
    pub change: Option<f64>,
    pub status: &'static str,
}

impl Cell {
    /// A judged cell (section 2): deviation and change follow from the value, the target and the
    /// previous period's value.
    #[allow(clippy::too_many_arguments)]
    pub fn judged(
        metric: &'static str,
        num_milli: i64,
        a: &Acc,
        value: Option<f64>,
        previous: Option<f64>,
        target: f64,
        status: &'static str,
    ) -> Cell {
        let change = value.zip(previous).map(|(v, p)| v - p);
        Cell { metric, num_milli, den: a.den, overdue: a.overdue, value, target, deviation: value.map(|v| v - target), previous, change, status }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comp {
    pub score: f64,
    pub rank: Option<u32>,
    pub ranked: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub seller: String,
    pub cadence: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub cells: Vec<Cell>,
    pub composite: Option<Comp>,
    /// Survey questions (service profile): id -> (n, sum x, sum y, sum x², sum y², sum xy) against the main question.
    pub questions: BTreeMap<String, [i64; 6]>,
    /// Feedback excluded by disputes (service profile).
    pub excluded_feedback: i64,
}

pub type Key = (String, String, NaiveDate);

pub fn value(i: usize, a: &Acc) -> Option<f64> {
    if a.den == 0 {
        return None;
    }
    let n = a.num as f64;
    let d = a.den as f64;
    Some(if is_duration(i) {
        n / 1000.0 / d
    } else if i == NPS {
        100.0 * n / d
    } else {
        n / d
    })
}

pub fn status(i: usize, v: Option<f64>, target: f64) -> &'static str {
    let tol = 1e-9 * target.abs();
    match v {
        None => "no_data",
        Some(v) if lower_is_better(i) => {
            if v <= target + tol {
                "pass"
            } else {
                "fail"
            }
        }
        Some(v) => {
            if v >= target - tol {
                "pass"
            } else {
                "fail"
            }
        }
    }
}

/// Section 6: shrinkage towards the target, floor/ideal scaling, weighted mean in percent.
pub fn composite(params: &[Param; N], sums: &[Acc; N]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..N {
        let p = params[i];
        let n = sums[i].den as f64;
        let shrunk = match value(i, &sums[i]) {
            Some(v) => (n * v + p.prior * p.target) / (n + p.prior),
            None => p.target,
        };
        let score = ((shrunk - p.floor) / (p.ideal - p.floor)).clamp(0.0, 1.0);
        num += p.weight * score;
        den += p.weight;
    }
    100.0 * num / den
}

impl Model {
    /// The sums of a seller's days in `[start, end)`, and whether any day there has data.
    pub fn sums(&self, seller: &str, start: NaiveDate, end: NaiveDate) -> ([Acc; N], bool) {
        let mut s = [Acc::default(); N];
        let mut any = false;
        if let Some(days) = self.days.get(seller) {
            for (_, accs) in days.range(start..end) {
                any = true;
                for i in 0..N {
                    s[i].add(&accs[i]);
                }
            }
        }
        (s, any)
    }

    pub fn first_day(&self) -> Option<NaiveDate> {
        self.days.values().filter_map(|d| d.keys().next().copied()).min()
    }

    pub fn last_day(&self) -> NaiveDate {
        self.cal.day(self.max_t)
    }

    /// `(start, end)` of every window of a cadence that may hold data, with its previous window.
    fn windows(&self, cadence: &str) -> Vec<((NaiveDate, NaiveDate), (NaiveDate, NaiveDate))> {
        let Some(first) = self.first_day() else { return Vec::new() };
        let last = self.last_day();
        let mut all_days = BTreeSet::new();
        for days in self.days.values() {
            all_days.extend(days.keys().copied());
        }
        let mut out = BTreeSet::new();
        match cadence {
            "day" => {
                for d in &all_days {
                    out.insert(((*d, *d + Duration::days(1)), (*d - Duration::days(1), *d)));
                }
            }
            "week" => {
                for d in &all_days {
                    let m = monday(*d);
                    out.insert(((m, m + Duration::days(7)), (m - Duration::days(7), m)));
                }
            }
            "month" => {
                for d in &all_days {
                    let m = month_start(*d);
                    out.insert(((m, next_month(m)), (prev_month(m), m)));
                }
            }
            "quarter" => {
                for d in &all_days {
                    let q = quarter_start(*d);
                    let next = next_month(next_month(next_month(q)));
                    out.insert(((q, next), (quarter_start(q - Duration::days(1)), q)));
                }
            }
            "rolling_7d" | "rolling_30d" => {
                let n = if cadence == "rolling_7d" { 7 } else { 30 };
                let mut e = first;
                while e <= last {
                    let end = e + Duration::days(1);
                    out.insert(((end - Duration::days(n), end), (e - Duration::days(n), e)));
                    e = end;
                }
            }
            _ => unreachable!(),
        }
        out.into_iter().collect()
    }

    /// Every final row, keyed by (seller, cadence, period_start).
    pub fn rows(&self) -> BTreeMap<Key, Row> {
        let mut rows = BTreeMap::new();
        for cadence in CADENCES {
            for ((start, end), (pstart, pend)) in self.windows(cadence) {
                let mut month_scores = Vec::new();
                for seller in self.days.keys() {
                    let (sums, any) = self.sums(seller, start, end);
                    if !any {
                        continue;
                    }
                    let (prev, _) = self.sums(seller, pstart, pend);
                    let cells = (0..N)
                        .filter(|&i| in_cadence(i, cadence))
                        .map(|i| {
                            let target = self.params[i].target;
                            let v = value(i, &sums[i]);
                            let num_milli = if is_duration(i) { sums[i].num } else { sums[i].num * 1000 };
                            Cell::judged(IDS[i], num_milli, &sums[i], v, value(i, &prev[i]), target, status(i, v, target))
                        })
                        .collect();
                    let composite = (cadence == "month").then(|| {
                        let score = composite(&self.params, &sums);
                        month_scores.push((seller.clone(), score));
                        Comp { score, rank: None, ranked: None }
                    });
                    rows.insert(
                        (seller.clone(), cadence.to_owned(), start),
                        Row {
                            seller: seller.clone(),
                            cadence: cadence.to_owned(),
                            start,
                            end,
                            cells,
                            composite,
                            questions: BTreeMap::new(),
                            excluded_feedback: 0,
                        },
                    );
                }
                // Competition ranking, by composite descending (1, 2, 2, 4).
                let ranked = month_scores.len() as u32;
                for (seller, score) in &month_scores {
                    let rank = 1 + month_scores.iter().filter(|(_, s)| s > score).count() as u32;
                    let row = rows.get_mut(&(seller.clone(), cadence.to_owned(), start)).unwrap();
                    let c = row.composite.as_mut().unwrap();
                    c.rank = Some(rank);
                    c.ranked = Some(ranked);
                }
            }
        }
        rows
    }
}

/// The whole reference: lines in arrival order to final rows.
pub fn reference<L: AsRef<[u8]>>(lines: &[L], tz: Tz, lateness_ms: i64, standards: &Standards) -> (Arrival, Model, BTreeMap<Key, Row>) {
    let arrival = arrive(lines, lateness_ms);
    let model = compute(&arrival, tz, standards);
    let rows = model.rows();
    (arrival, model, rows)
}

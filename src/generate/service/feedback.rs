//! What clients say after the final closure: surveys with the planted key driver, NPS answers,
//! the site managers' follow-ups of critics and accepted disputes; and which surveys are sent
//! broken.
//!
//! Every request has latent scores (see [`Latent`]), drawn whether or not the client answers,
//! so that a survey and an NPS answer about the same request agree.

use super::super::lifecycle::{duration, MINUTE_MS};
use super::super::rng::Rng;
use super::org::{Department, Org, Site};
use super::request::{Fact, Kind};
use super::Question;
use quality_engine::contract::{Channel, ClosedIn, DAY_MS, HOUR_MS};

/// Probability that a client whose request was closed in the app rates it there.
const APP_RATING: f64 = 0.4;
/// Probability that any other client answers the automatic survey.
const AUTO_SURVEY: f64 = 0.3;
/// Probability that a closed request gets an NPS answer.
const NPS_RATE: f64 = 0.2;
/// Probability that a survey rated overall <= 2 is disputed successfully and excluded.
const EXCLUDED: f64 = 0.10;
/// Probability that a survey asking fewer than all questions asks the planted driver.
const DRIVER_ASKED: f64 = 0.85;
/// Spread of a request's level around its performer's satisfaction.
const REQUEST_SD: f64 = 0.3;
/// Spread of each question's latent score around the request's level.
const QUESTION_SD: f64 = 0.9;
/// Weight of the planted driver in the overall score; the other questions share the rest.
const DRIVER_WEIGHT: f64 = 0.75;
/// Noise of the overall score beyond the questions.
const OVERALL_SD: f64 = 0.4;
/// What a closure after `due_by` costs on timeliness, and a reopening on quality.
const LATE_PENALTY: f64 = 1.0;
/// See [`LATE_PENALTY`].
const REOPEN_PENALTY: f64 = 1.0;
/// Noise of an NPS score (0..10) around the overall satisfaction mapped onto it.
const NPS_SD: f64 = 1.2;

/// The sixth answer of a survey broken with [`BadSurvey::SixAnswers`].
pub const EXTRA_QUESTION: &str = "communication";
/// Survey comments: one complaint per [`Question`] (in order), then praise.
pub const SURVEY_COMMENTS: [&str; 7] = [
    "Waited far too long for anyone to come",
    "The problem came back the next day",
    "The technician was rude to me",
    "Left dirt all over the hallway",
    "Quick and tidy work, thank you",
    "Very polite technician",
    "Everything works now",
];
/// NPS comments: the first half praise (scores 9-10), the second half complain (0-6).
pub const NPS_COMMENTS: [&str; 4] =
    ["Reliable service, I recommend it", "They always come quickly", "Requests take ages to close", "Had to call three times before anyone came"];
/// The reason of every `feedback.excluded`.
pub const EXCLUSION_REASON: &str = "dispute accepted";

/// How a survey is broken on purpose; each way is one the contract rejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadSurvey {
    /// A valid survey.
    None,
    /// Every question plus [`EXTRA_QUESTION`]: six answers, more than `MAX_ANSWERS`.
    SixAnswers,
    /// The main question `overall` left out.
    NoOverall,
    /// One answer's score out of 1..5.
    OutOfRange {
        /// Index of the answer in the survey's scores (0 = `overall`).
        answer: u8,
        /// 0 or 6.
        score: u8,
    },
}

/// The final closure of a request, which the feedback follows.
#[derive(Debug, Clone, Copy)]
pub struct Closure {
    /// When, UTC milliseconds.
    pub at: i64,
    /// Where: a request closed in the app can be rated there.
    pub closed_in: ClosedIn,
    /// Whether the (first) closure came after `due_by`.
    pub late: bool,
    /// Whether the request was reopened.
    pub reopened: bool,
}

/// A request's latent scores on the 1..5 scale, before rounding.
#[derive(Debug, Clone, Copy)]
struct Latent {
    /// One per [`Question`], in order.
    questions: [f64; 4],
    /// The overall impression: mostly the planted driver, a little the others.
    overall: f64,
}

impl Latent {
    /// The scores of a request closed by a performer of `satisfaction`, with `driver` planted.
    fn draw(rng: &mut Rng, satisfaction: f64, c: &Closure, driver: Question) -> Latent {
        let level = satisfaction + REQUEST_SD * rng.normal();
        let mut questions: [f64; 4] = std::array::from_fn(|_| level + QUESTION_SD * rng.normal());
        if c.late {
            questions[Question::Timeliness.index()] -= LATE_PENALTY;
        }
        if c.reopened {
            questions[Question::Quality.index()] -= REOPEN_PENALTY;
        }
        let d = driver.index();
        let others = (questions.iter().sum::<f64>() - questions[d]) / (questions.len() - 1) as f64;
        let overall = DRIVER_WEIGHT * questions[d] + (1.0 - DRIVER_WEIGHT) * others + OVERALL_SD * rng.normal();
        Latent { questions, overall }
    }

    /// The question the client is least happy with.
    fn worst(&self) -> usize {
        (0..self.questions.len()).fold(0, |w, k| if self.questions[k] < self.questions[w] { k } else { w })
    }
}

/// A latent score as answered: rounded and clamped to 1..5.
fn score(x: f64) -> u8 {
    x.round().clamp(1.0, 5.0) as u8
}

/// Plans the survey, NPS answer, follow-ups and dispute of a request closed for the last time
/// as `c` by performer `closer` (index in `dept`); `base` is its `request.created`.
pub fn after_closure(dept: &mut Department, org: &Org, closer: usize, base: &Fact, c: Closure, out: &mut Vec<Fact>) {
    let (p, rng) = (&dept.performers[closer], &mut dept.world);
    let latent = Latent::draw(rng, p.satisfaction, &c, org.driver);
    let site = org.site(base.site);
    let fact = |occurred, kind| Fact { occurred, kind, performer: p.number, ..*base };
    let channel = if c.closed_in == ClosedIn::App && rng.bernoulli(APP_RATING) {
        Some(Channel::App)
    } else if rng.bernoulli(AUTO_SURVEY) {
        Some(Channel::Survey)
    } else {
        None
    };
    if let Some(channel) = channel {
        let at = match channel {
            Channel::App => c.at + rng.log_uniform(5.0 * MINUTE_MS as f64, 8.0 * HOUR_MS as f64) as i64,
            Channel::Survey => c.at + rng.between(DAY_MS, 2 * DAY_MS),
        };
        let (mut scores, comment) = survey(rng, &latent, org.driver);
        let bad = bad_survey(&mut dept.faults, org.bad_surveys, &mut scores, &latent);
        out.push(fact(at, Kind::Survey { channel, scores, comment, bad }));
        // Drawn for every low survey, so that broken surveys change no other event.
        let low = scores[0] <= 2;
        let followed = if low && comment != 0 { follow_up(&mut dept.care, site, at) } else { None };
        let excluded = (low && dept.care.bernoulli(EXCLUDED)).then(|| at + dept.care.between(DAY_MS, 2 * DAY_MS));
        if bad == BadSurvey::None {
            out.extend(followed.map(|t| fact(t, Kind::FollowedUp { nps: false })));
            out.extend(excluded.map(|t| fact(t, Kind::Excluded)));
        }
    }
    if rng.bernoulli(NPS_RATE) {
        let at = c.at + rng.log_uniform(2.0 * HOUR_MS as f64, 3.0 * DAY_MS as f64) as i64;
        let score = ((latent.overall - 1.0) * 2.5 + NPS_SD * rng.normal()).round().clamp(0.0, 10.0) as u8;
        let half = NPS_COMMENTS.len() as u64 / 2;
        let comment = if score <= 6 && rng.bernoulli(0.5) {
            1 + half as u8 + rng.below(half) as u8
        } else if score >= 9 && rng.bernoulli(0.15) {
            1 + rng.below(half) as u8
        } else {
            0
        };
        out.push(fact(at, Kind::Nps { score, comment }));
        if score <= 6 && comment != 0 {
            out.extend(follow_up(&mut dept.care, site, at).map(|t| fact(t, Kind::FollowedUp { nps: true })));
        }
    }
}

/// A survey's scores (overall, then each question; 0 = not asked) and comment: `overall` and
/// 1 to 4 other questions, the planted driver among them in about 90 % of surveys.
fn survey(rng: &mut Rng, latent: &Latent, driver: Question) -> ([u8; 5], u8) {
    let asked = 1 + rng.below(4) as usize;
    let d = driver.index();
    let mut ask = [asked == Question::ALL.len(); 4];
    if asked < Question::ALL.len() {
        let with_driver = rng.bernoulli(DRIVER_ASKED);
        ask[d] = with_driver;
        // The other questions in random order (a partial Fisher-Yates shuffle), the first ones asked.
        let mut rest = [0usize; 3];
        for (slot, k) in rest.iter_mut().zip((0..4).filter(|k| *k != d)) {
            *slot = k;
        }
        for i in 0..asked - with_driver as usize {
            let j = i + rng.below((rest.len() - i) as u64) as usize;
            rest.swap(i, j);
            ask[rest[i]] = true;
        }
    }
    let mut scores = [0u8; 5];
    scores[0] = score(latent.overall);
    for k in 0..4 {
        if ask[k] {
            scores[k + 1] = score(latent.questions[k]);
        }
    }
    // Unhappy clients complain about what they liked least; some happy ones praise.
    let complain = match scores[0] {
        1 | 2 => 0.65,
        3 => 0.3,
        _ => 0.0,
    };
    let comment = if scores[0] <= 3 {
        if rng.bernoulli(complain) {
            1 + latent.worst() as u8
        } else {
            0
        }
    } else if rng.bernoulli(0.12) {
        5 + rng.below(3) as u8
    } else {
        0
    };
    (scores, comment)
}

/// Whether and how a survey is sent broken, with probability `rate`; a survey with six answers
/// gets every question's score.
fn bad_survey(faults: &mut Rng, rate: f64, scores: &mut [u8; 5], latent: &Latent) -> BadSurvey {
    if !faults.bernoulli(rate) {
        return BadSurvey::None;
    }
    match faults.below(4) {
        0 => {
            for (k, q) in latent.questions.iter().enumerate() {
                scores[k + 1] = score(*q);
            }
            BadSurvey::SixAnswers
        }
        1 => BadSurvey::NoOverall,
        v => {
            let asked = scores.iter().filter(|s| **s != 0).count() as u64;
            let nth = faults.below(asked) as usize;
            let answer = (0..scores.len()).filter(|k| scores[*k] != 0).nth(nth).unwrap_or(0) as u8;
            BadSurvey::OutOfRange { answer, score: if v == 2 { 0 } else { 6 } }
        }
    }
}

/// When the site's manager follows a critic made at `at` up, if at all: within hours to two days.
fn follow_up(care: &mut Rng, site: &Site, at: i64) -> Option<i64> {
    if !care.bernoulli(site.follow_up) {
        return None;
    }
    Some(at + duration(care, site.median_h * HOUR_MS as f64, 0.8, 15 * MINUTE_MS).min(2 * DAY_MS - MINUTE_MS))
}

#[cfg(test)]
mod tests {
    use super::super::tests::pearson;
    use super::*;

    #[test]
    fn surveys_ask_overall_and_one_to_four_questions_mostly_the_driver() {
        let mut rng = Rng::new(1, 0);
        let closure = Closure { at: 0, closed_in: ClosedIn::App, late: false, reopened: false };
        let n = 20_000;
        let (mut with_driver, mut pairs) = (0, vec![Vec::new(); 4]);
        for i in 0..n {
            let latent = Latent::draw(&mut rng, 2.5 + (i % 5) as f64 * 0.5, &closure, Question::Quality);
            let (scores, comment) = survey(&mut rng, &latent, Question::Quality);
            let asked = scores[1..].iter().filter(|s| **s != 0).count();
            assert!((1..=4).contains(&asked) && (1..=5).contains(&scores[0]), "{scores:?}");
            assert!(scores.iter().all(|s| *s <= 5));
            assert!(comment as usize <= SURVEY_COMMENTS.len());
            with_driver += (scores[2] != 0) as u32;
            for k in 0..4 {
                if scores[k + 1] != 0 {
                    pairs[k].push((scores[k + 1] as f64, scores[0] as f64));
                }
            }
        }
        let share = with_driver as f64 / n as f64;
        assert!((0.85..0.93).contains(&share), "{share}");
        let r: Vec<f64> = pairs.iter().map(|p| pearson(p)).collect();
        assert!(r[1] > 0.8 && r.iter().enumerate().all(|(k, x)| k == 1 || *x < r[1] - 0.3), "{r:?}");
    }

    #[test]
    fn lateness_costs_timeliness_and_reopening_quality() {
        let mut rng = Rng::new(2, 0);
        let mean = |rng: &mut Rng, c: Closure, k: usize| {
            (0..5000).map(|_| Latent::draw(rng, 4.0, &c, Question::Politeness).questions[k]).sum::<f64>() / 5000.0
        };
        let fine = Closure { at: 0, closed_in: ClosedIn::Desk, late: false, reopened: false };
        let t = Question::Timeliness.index();
        let q = Question::Quality.index();
        assert!(mean(&mut rng, fine, t) - mean(&mut rng, Closure { late: true, ..fine }, t) > 0.9);
        assert!(mean(&mut rng, fine, q) - mean(&mut rng, Closure { reopened: true, ..fine }, q) > 0.9);
    }

    #[test]
    fn bad_surveys_break_exactly_one_rule() {
        let mut rng = Rng::new(3, 0);
        let closure = Closure { at: 0, closed_in: ClosedIn::App, late: false, reopened: false };
        let mut seen = [0; 4];
        for _ in 0..2000 {
            let latent = Latent::draw(&mut rng, 4.0, &closure, Question::Timeliness);
            let (mut scores, _) = survey(&mut rng, &latent, Question::Timeliness);
            let before = scores;
            match bad_survey(&mut rng, 1.0, &mut scores, &latent) {
                BadSurvey::None => panic!("rate 1 always breaks"),
                BadSurvey::SixAnswers => {
                    seen[0] += 1;
                    assert!(scores.iter().all(|s| (1..=5).contains(s)));
                }
                BadSurvey::NoOverall => seen[1] += 1,
                BadSurvey::OutOfRange { answer, score } => {
                    seen[2 + (score == 6) as usize] += 1;
                    assert!(before[answer as usize] != 0 && (score == 0 || score == 6));
                }
            }
        }
        assert!(seen.iter().all(|n| *n > 400), "{seen:?}");
        assert_eq!(bad_survey(&mut rng, 0.0, &mut [3, 3, 0, 0, 0], &Latent { questions: [3.0; 4], overall: 3.0 }), BadSurvey::None);
    }
}

//! Quality gauges: each standard's platform-wide value, the sellers evaluated and the
//! sellers breaching it, for the latest period of each cadence that every partition has
//! closed. One series per cadence and metric (5 x 13), plus an opt-in list of worst sellers.

use super::Metrics;
use quality_engine::contract::Timestamp;
use quality_engine::methodology::{MetricId, Standards, Status};
use quality_engine::window::{Cadence, Calendar, Day};
use quality_engine::WindowRow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One standard in one period, summed over sellers.
#[derive(Debug, Default, Clone)]
struct Pooled {
    num: f64,
    den: i64,
    sellers: i64,
    breaching: i64,
    /// The worst failing sellers: (badness, seller, value), worst first, at most `worst` long.
    worst: Vec<(f64, Arc<str>, f64)>,
}

/// One period of one cadence.
#[derive(Debug, Clone)]
struct PeriodAcc {
    metrics: Vec<(MetricId, Pooled)>,
}

/// Aggregates final rows into the quality gauges.
pub struct QualityBoard {
    calendar: Calendar,
    worst: usize,
    periods: BTreeMap<(usize, Day), PeriodAcc>,
    published: Vec<(String, String, String)>,
}

impl QualityBoard {
    /// A board for the engine's calendar; `worst` sellers per cadence and metric get their own series.
    pub fn new(calendar: Calendar, worst: usize, standards: &Standards, m: &Metrics) -> QualityBoard {
        for metric in MetricId::ALL {
            m.standard_target.with_label_values(&[metric.as_str()]).set(standards.get(metric).target);
        }
        QualityBoard { calendar, worst, periods: BTreeMap::new(), published: Vec::new() }
    }

    /// Adds a final row (provisional rows are ignored: they may still change).
    pub fn observe(&mut self, row: &WindowRow) {
        if !row.is_final {
            return;
        }
        let cadence = Cadence::ALL.iter().position(|c| *c == row.cadence).unwrap_or(0);
        let acc = self.periods.entry((cadence, row.period_start.0)).or_insert_with(|| PeriodAcc { metrics: Vec::new() });
        for cell in &row.metrics {
            let pooled = match acc.metrics.iter_mut().find(|(m, _)| *m == cell.metric) {
                Some((_, p)) => p,
                None => {
                    acc.metrics.push((cell.metric, Pooled::default()));
                    &mut acc.metrics.last_mut().expect("just pushed").1
                }
            };
            pooled.num += cell.numerator;
            pooled.den += cell.denominator;
            if cell.status == Status::NoData {
                continue;
            }
            pooled.sellers += 1;
            if cell.status == Status::Fail {
                pooled.breaching += 1;
                if let (Some(v), Some(d)) = (cell.value, cell.deviation) {
                    if self.worst > 0 {
                        let badness = d.abs() / cell.target.abs().max(1e-9);
                        let at = pooled.worst.partition_point(|(b, _, _)| *b >= badness);
                        if at < self.worst {
                            pooled.worst.insert(at, (badness, row.seller_id.clone(), v));
                            pooled.worst.truncate(self.worst);
                        }
                    }
                }
            }
        }
    }

    /// Publishes, per cadence, the latest closed period: the one before the period holding
    /// the day of `watermark` (the slowest partition's), e.g. yesterday and last week; a
    /// period without rows publishes zero sellers. Older periods are forgotten.
    pub fn publish(&mut self, watermark: Option<Timestamp>, m: &Metrics) {
        let Some(w) = watermark else { return };
        let first_open = self.calendar.day_of(w);
        for (i, cadence) in Cadence::ALL.iter().enumerate() {
            let closed = cadence.period_of(first_open).previous();
            self.publish_period(i, closed.start, m);
        }
    }

    /// Publishes the latest period with rows of each cadence (the end of a finite input).
    pub fn publish_all(&mut self, m: &Metrics) {
        for i in 0..Cadence::ALL.len() {
            if let Some(&(_, start)) = self.periods.range((i, Day::MIN)..=(i, Day::MAX)).map(|(k, _)| k).next_back() {
                self.publish_period(i, start, m);
            }
        }
    }

    fn publish_period(&mut self, i: usize, start: Day, m: &Metrics) {
        let cadence = Cadence::ALL[i].as_str();
        let acc =
            self.periods.get(&(i, start)).cloned().unwrap_or_else(|| PeriodAcc { metrics: MetricId::ALL.map(|m| (m, Pooled::default())).to_vec() });
        m.standard_period_start.with_label_values(&[cadence]).set(self.calendar.start_of(start) as f64 / 1000.0);
        for (metric, p) in &acc.metrics {
            let labels = [cadence, metric.as_str()];
            if p.den > 0 {
                let scale = if *metric == MetricId::Nps { 100.0 } else { 1.0 };
                m.standard_value.with_label_values(&labels).set(p.num / p.den as f64 * scale);
            } else {
                let _ = m.standard_value.remove_label_values(&labels);
            }
            m.standard_sellers.with_label_values(&labels).set(p.sellers);
            m.standard_breaching.with_label_values(&labels).set(p.breaching);
        }
        if self.worst > 0 {
            self.published.retain(|(c, metric, seller)| {
                let keep = c != cadence;
                if !keep {
                    let _ = m.seller_standard_value.remove_label_values(&[c, metric, seller]);
                }
                keep
            });
            for (metric, p) in &acc.metrics {
                for (_, seller, value) in &p.worst {
                    m.seller_standard_value.with_label_values(&[cadence, metric.as_str(), seller]).set(*value);
                    self.published.push((cadence.to_owned(), metric.as_str().to_owned(), seller.to_string()));
                }
            }
        }
        self.periods.retain(|k, _| k.0 != i || k.1 >= start);
    }
}

//! Turning day accumulators into window rows: when windows close, and on provisional flushes.

use super::{Engine, RETAIN_DAYS};
use crate::methodology::{cells, composite, drivers, questions, rank, EntityKind};
use crate::output::{Output, WindowRow, FINAL_VERSION};
use crate::state::DayAccs;
use crate::window::{Cadence, Day, LocalDate, Period};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

impl Engine {
    /// Finalizes every day before `first_open`, with the weeks, months and rolling windows they close.
    pub(super) fn close_days_before(&mut self, first_open: Day) {
        let Some(&first_held) = self.active.keys().next() else {
            self.open_from = Some(self.open_from.map_or(first_open, |f| f.max(first_open)));
            return;
        };
        let mut day = self.open_from.unwrap_or(first_held).max(first_held.min(first_open));
        while day < first_open {
            // Skip stretches where no seller has data in the last 31 days (the longest window
            // ending on a day is a 31-day month): nothing closes there.
            if self.active.range(day - 30..=day).next().is_none() {
                match self.active.range(day..first_open).next() {
                    Some((&next, _)) => day = next,
                    None => break,
                }
            }
            self.close_day(day);
            day += 1;
        }
        while let Some(&q) = self.quarters_open.first() {
            let p = Cadence::Quarter.period_of(q);
            if p.end > first_open {
                break;
            }
            self.emit_quarter(p);
        }
        if self.open_from.is_none_or(|f| first_open > f) {
            self.open_from = Some(first_open);
            self.dirty.retain(|(_, d)| *d >= first_open);
            self.forget_days_before(first_open - RETAIN_DAYS);
        }
    }

    fn close_day(&mut self, day: Day) {
        self.emit_final(Cadence::Day.period_of(day));
        for cadence in [Cadence::Week, Cadence::Month] {
            let p = cadence.period_of(day);
            if p.end == day + 1 {
                self.emit_final(p);
            }
        }
        self.emit_final(Cadence::Rolling7d.period_of(day));
        self.emit_final(Cadence::Rolling30d.period_of(day));
    }

    /// At the end of a finite stream, the week, month and quarter holding the last day close too.
    pub(super) fn close_partial_periods(&mut self, last: Day) {
        for cadence in [Cadence::Week, Cadence::Month] {
            let p = cadence.period_of(last);
            if p.end != last + 1 {
                self.emit_final(p);
            }
        }
        while let Some(&q) = self.quarters_open.first() {
            self.emit_quarter(Cadence::Quarter.period_of(q));
        }
    }

    /// Emits the final rows of a quarter from its sellers' final month sums (a quarter is three
    /// whole months), then forgets the months no later quarter needs (the previous quarter's
    /// stay, for the dynamics of the next).
    fn emit_quarter(&mut self, p: Period) {
        self.quarters_open.remove(&p.start);
        let mut sellers: Vec<u32> =
            (0..self.sellers.len() as u32).filter(|s| self.sellers[*s as usize].months.range(p.start..p.end).next().is_some()).collect();
        self.sort_entities(&mut sellers);
        for s in sellers {
            let (cur, prev) = (self.sum(s, p), self.sum(s, p.previous()));
            let row = self.build_row(s, p, &cur, &prev, true);
            self.pending.push(Output::Row(row));
        }
        for seller in &mut self.sellers {
            seller.months = seller.months.split_off(&p.start);
        }
    }

    fn forget_days_before(&mut self, cutoff: Day) {
        let keep = self.active.split_off(&cutoff);
        for (_, sellers) in std::mem::replace(&mut self.active, keep) {
            for s in sellers {
                self.sellers[s as usize].days.forget_before(cutoff);
            }
        }
    }

    /// Sellers with data in a period, ordered by seller id so output order never depends on arrival.
    fn sellers_in(&mut self, p: Period) -> Vec<u32> {
        let mut sellers: Vec<u32> = self.active.range(p.start..p.end).flat_map(|(_, v)| v.iter().copied()).collect();
        self.sort_entities(&mut sellers);
        sellers.dedup();
        sellers
    }

    /// Orders sellers by id; entities sharing an id (a department and a performer, a performer
    /// in two departments) by kind and department, so that they never interleave (`dedup` would
    /// leave repeats) and their order does not depend on arrival either.
    fn sort_entities(&mut self, sellers: &mut [u32]) {
        if self.entity_rank.len() != self.sellers.len() {
            let key = |s: u32| {
                let s = &self.sellers[s as usize];
                (&s.id, s.kind, &s.parent)
            };
            let mut order: Vec<u32> = (0..self.sellers.len() as u32).collect();
            order.sort_unstable_by(|a, b| key(*a).cmp(&key(*b)).then(a.cmp(b)));
            self.entity_rank = vec![0; order.len()];
            for (rank, s) in order.into_iter().enumerate() {
                self.entity_rank[s as usize] = rank as u32;
            }
        }
        sellers.sort_unstable_by_key(|s| self.entity_rank[*s as usize]);
    }

    /// Emits the final rows of a window: for every seller with net content in it, and for
    /// every seller whose provisional row of it was published (to replace that row).
    fn emit_final(&mut self, p: Period) {
        let mut rows: Vec<WindowRow> = Vec::new();
        let mut ranked: Vec<usize> = Vec::new();
        let mut owners: Vec<u32> = Vec::new();
        for s in self.sellers_in(p) {
            let published = self.published.remove(&(s, p));
            let (cur, prev) = match p.cadence {
                Cadence::Rolling7d | Cadence::Rolling30d => self.rolling_sums(s, p),
                _ => (self.sum(s, p), self.sum(s, p.previous())),
            };
            if !cur.is_empty() {
                ranked.push(rows.len());
                if p.cadence == Cadence::Month {
                    self.sellers[s as usize].months.insert(p.start, cur.clone());
                    self.quarters_open.insert(Cadence::Quarter.period_of(p.start).start);
                }
            } else if !published {
                continue;
            }
            rows.push(self.build_row(s, p, &cur, &prev, true));
            owners.push(s);
        }
        if p.cadence == Cadence::Month {
            let mut groups: BTreeMap<(EntityKind, Option<&str>), Vec<usize>> = BTreeMap::new();
            for &i in &ranked {
                let s = &self.sellers[owners[i] as usize];
                groups.entry((s.kind, s.parent.as_deref())).or_default().push(i);
            }
            for group in groups.values() {
                rank(&mut rows, group);
            }
        }
        let acts = if p.cadence == Cadence::Week {
            let judged: Vec<(u32, &WindowRow)> =
                ranked.iter().filter(|&&i| self.sellers[owners[i] as usize].kind == EntityKind::Seller).map(|&i| (owners[i], &rows[i])).collect();
            self.act_on_week(p, &judged)
        } else {
            Vec::new()
        };
        self.pending.extend(rows.into_iter().map(Output::Row));
        self.pending.extend(acts);
    }

    /// Emits provisional rows for every open window changed since the last flush, then what is ready.
    pub fn flush(&mut self, out: &mut Vec<Output>) {
        let open_from = self.open_from.unwrap_or(Day::MIN);
        let mut windows: BTreeSet<(Period, Arc<str>, u32)> = BTreeSet::new();
        for (s, day) in std::mem::take(&mut self.dirty) {
            let seller = &mut self.sellers[s as usize];
            let Some(accs) = seller.days.get_mut(day) else { continue };
            accs.dirty = false;
            for cadence in [Cadence::Day, Cadence::Week, Cadence::Month] {
                let p = cadence.period_of(day);
                let next = p.next();
                for q in [p, next] {
                    let has_data = seller.days.has_data(q.start, q.end);
                    if q.end > open_from && has_data {
                        windows.insert((q, seller.id.clone(), s));
                    }
                }
            }
        }
        for (p, _, s) in windows {
            let cur = self.sum(s, p);
            if cur.is_empty() {
                continue;
            }
            let row = self.build_row(s, p, &cur, &self.sum(s, p.previous()), false);
            self.published.insert((s, p));
            self.pending.push(Output::Row(row));
        }
        self.drain(out);
    }

    /// A seller's accumulators over a period: the sum of its days, or for a quarter of its months.
    fn sum(&self, seller: u32, p: Period) -> DayAccs {
        let seller = &self.sellers[seller as usize];
        if p.cadence == Cadence::Quarter {
            let mut total = DayAccs::default();
            seller.months.range(p.start..p.end).for_each(|(_, accs)| total.merge(accs, &self.metric_indexes));
            total
        } else {
            sum_days(&seller.days, p.start, p.end, &self.metric_indexes)
        }
    }

    /// A final rolling window's sums and those of the window a day earlier (its previous
    /// period). The earlier one is the last window emitted when that was yesterday's; the
    /// window is then that one slid by a day: exact, the days being final integer sums.
    fn rolling_sums(&mut self, seller: u32, p: Period) -> (DayAccs, DayAccs) {
        let q = p.previous();
        let (metrics, s) = (&self.metric_indexes, &mut self.sellers[seller as usize]);
        let slot = &mut s.rolling[(p.cadence == Cadence::Rolling30d) as usize];
        let prev = match slot.take() {
            Some((end, sums)) if end == q.end => sums,
            _ => sum_days(&s.days, q.start, q.end, metrics),
        };
        let mut cur = prev.clone();
        s.days.range(q.end, p.end).for_each(|accs| cur.merge(accs, metrics));
        s.days.range(q.start, p.start).for_each(|accs| cur.withdraw(accs, metrics));
        *slot = Some((p.end, cur.clone()));
        (cur, prev)
    }

    fn build_row(&self, seller: u32, p: Period, cur: &DayAccs, prev: &DayAccs, is_final: bool) -> WindowRow {
        let version = self.config.standards.at(p.start);
        let standards = &version.standards;
        let questions = questions(cur, self.question_ids.names());
        let month = p.cadence == Cadence::Month;
        let entity = &self.sellers[seller as usize];
        WindowRow {
            seller_id: entity.id.clone(),
            entity: entity.kind,
            department_id: entity.parent.clone(),
            cadence: p.cadence,
            period_start: LocalDate(p.start),
            period_end: LocalDate(p.end),
            is_final,
            version: if is_final { FINAL_VERSION } else { cur.changes + prev.changes },
            standards_version: version.id.clone(),
            metrics: cells(standards, p.cadence, cur, prev),
            composite: month.then(|| composite(standards, cur)),
            drivers: if month { drivers(&questions) } else { Vec::new() },
            questions,
            excluded_feedback: cur.excluded_feedback,
        }
    }
}

/// The sums of the days with data in `[start, end)`.
fn sum_days(days: &crate::state::DayRing, start: Day, end: Day, metrics: &[usize]) -> DayAccs {
    let mut total = DayAccs::default();
    days.range(start, end).for_each(|accs| total.merge(accs, metrics));
    total
}

//! End-to-end checks of the generated stream against the event contract and the brief.

use super::*;
use quality_engine::contract::{decode, Event, EventBody, Timestamp, DAY_MS, HOUR_MS};
use std::collections::{HashMap, HashSet};

fn small(seed: u64) -> GeneratorConfig {
    GeneratorConfig { sellers: 12, days: 10, seed, ..GeneratorConfig::default() }
}

fn quiet(cfg: GeneratorConfig) -> GeneratorConfig {
    GeneratorConfig { anomalies: Anomalies::none(), ..cfg }
}

fn lines(cfg: &GeneratorConfig) -> Vec<String> {
    generate(cfg).collect()
}

fn events(lines: &[String]) -> Vec<Event<'_>> {
    lines.iter().map(|l| decode(l.as_bytes()).unwrap_or_else(|r| panic!("{l}: {r}"))).collect()
}

fn order_of(e: &Event<'_>) -> Option<(String, u8)> {
    let (id, rank) = match &e.body {
        EventBody::OrderCreated { order_id, .. } => (order_id, 0),
        EventBody::OrderConfirmed { order_id } => (order_id, 1),
        EventBody::OrderAssembled { order_id } => (order_id, 2),
        EventBody::OrderShipped { order_id } => (order_id, 3),
        EventBody::OrderDelivered { order_id } => (order_id, 4),
        EventBody::OrderCancelled { order_id, .. } => (order_id, 4),
        EventBody::ReviewSubmitted { order_id, .. } => (order_id, 5),
        _ => return None,
    };
    Some((id.to_string(), rank))
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = lines(&small(1));
    assert!(a.len() > 1000, "{}", a.len());
    assert_eq!(a, lines(&small(1)));
    assert_ne!(a, lines(&small(2)));
}

#[test]
fn a_seller_behaves_the_same_whatever_the_number_of_sellers() {
    let of_first = |sellers| -> Vec<String> {
        lines(&GeneratorConfig { sellers, ..small(5) }).into_iter().filter(|l| l.contains("\"seller_id\":\"seller-0001\"")).collect()
    };
    let few = of_first(2);
    assert!(!few.is_empty());
    assert_eq!(few, of_first(7));
}

#[test]
fn trends_add_two_drifting_sellers_and_change_nobody_else() {
    let cfg = quiet(GeneratorConfig { sellers: 3, days: 28, ..small(6) });
    let plain = lines(&cfg);
    let with = lines(&GeneratorConfig { trends: true, ..cfg.clone() });
    let of =
        |ls: &[String], seller: &str| -> Vec<String> { ls.iter().filter(|l| l.contains(&format!("\"seller_id\":\"{seller}\""))).cloned().collect() };
    let planted = of(&with, "seller-0004").len() + of(&with, "seller-0005").len();
    assert_eq!(with.len(), plain.len() + planted, "only seller-0004 and seller-0005 are added");
    for seller in ["seller-0001", "seller-0002", "seller-0003"] {
        assert_eq!(of(&with, seller), of(&plain, seller), "{seller}");
    }
    let g = generate(&GeneratorConfig { trends: true, ..cfg });
    assert_eq!(g.sellers().skip(3).collect::<Vec<_>>(), [("seller-0004".into(), Tier::Failing), ("seller-0005".into(), Tier::Excellent)]);
    // The improving seller confirms orders faster in the last week than in the first, the
    // declining one slower (days counted from Monday 2026-10-26, Moscow).
    let start = Timestamp::parse_rfc3339("2026-10-26T00:00:00+03:00").unwrap().0;
    let confirm_hours = |seller: &str, first_week: bool| -> f64 {
        let mine = of(&with, seller);
        let evs = events(&mine);
        let mut created = HashMap::new();
        let mut hours = Vec::new();
        for e in evs.iter().filter(|e| order_of(e).is_some()) {
            let (id, _) = order_of(e).unwrap();
            match &e.body {
                EventBody::OrderCreated { .. } => {
                    created.insert(id, e.occurred_at.0);
                }
                EventBody::OrderConfirmed { .. } => {
                    let at = created[&id];
                    let day = (at - start) / DAY_MS;
                    if (first_week && day < 7) || (!first_week && (21..28).contains(&day)) {
                        hours.push((e.occurred_at.0 - at) as f64 / HOUR_MS as f64);
                    }
                }
                _ => {}
            }
        }
        hours.iter().sum::<f64>() / hours.len() as f64
    };
    assert!(confirm_hours("seller-0004", true) > 2.0 * confirm_hours("seller-0004", false));
    assert!(confirm_hours("seller-0005", false) > 2.0 * confirm_hours("seller-0005", true));
}

#[test]
fn valid_lines_decode_and_broken_lines_are_rejected() {
    let cfg = GeneratorConfig { anomalies: Anomalies { malformed: 0.05, duplicates: 0.05, out_of_order: 0.1, too_late: 0.02 }, ..small(3) };
    let mut g = generate(&cfg);
    let (mut valid, mut broken) = (0, 0);
    while let Some(p) = g.next_pending() {
        let text = format::line(&p.fact, p.mangle, &g.ctx);
        assert!(!text.contains('\n'));
        match (p.mangle, decode(text.as_bytes())) {
            (format::Mangle::None, Ok(_)) => valid += 1,
            (format::Mangle::None, Err(r)) => panic!("{text}: {r}"),
            (_, Ok(_)) => panic!("broken line accepted: {text}"),
            (_, Err(_)) => broken += 1,
        }
    }
    assert!(valid > 1000 && broken > 50, "{valid} valid, {broken} broken");
}

#[test]
fn arrival_order_never_goes_back_but_event_time_does() {
    // Kolkata's midnight falls at half past a UTC hour, inside an arrival bucket.
    for timezone in [chrono_tz::Europe::Moscow, chrono_tz::Asia::Kolkata] {
        let mut g = generate(&GeneratorConfig { timezone, ..small(4) });
        let (mut last, mut max_occurred, mut overtaken) = (i64::MIN, i64::MIN, 0);
        while let Some(p) = g.next_pending() {
            assert!(p.arrival >= last);
            assert!(p.arrival >= p.fact.occurred);
            last = p.arrival;
            overtaken += (p.fact.occurred < max_occurred.saturating_sub(HOUR_MS)) as u32;
            max_occurred = max_occurred.max(p.fact.occurred);
        }
        assert!(overtaken > 10, "{overtaken}");
    }
}

#[test]
fn lifecycles_are_ordered_and_inside_the_horizon() {
    let cfg = quiet(small(6));
    let text = lines(&cfg);
    let events = events(&text);
    let start = Timestamp::parse_rfc3339("2026-10-26T00:00:00+03:00").unwrap();
    let horizon = start.plus_ms(10 * 24 * HOUR_MS);
    let mut ids = HashSet::new();
    let mut orders: HashMap<String, Vec<(u8, Timestamp)>> = HashMap::new();
    let mut messages = HashMap::new();
    for e in &events {
        assert!(ids.insert(e.event_id.to_string()), "duplicate id {}", e.event_id);
        assert!(e.occurred_at >= start && e.occurred_at < horizon, "{e:?}");
        if let Some((order, rank)) = order_of(e) {
            orders.entry(order).or_default().push((rank, e.occurred_at));
        }
        if let EventBody::MessageReceived { message_id, .. } = &e.body {
            messages.insert(message_id.to_string(), e.occurred_at);
        }
    }
    let mut open = 0;
    for steps in orders.values_mut() {
        steps.sort();
        assert_eq!(steps[0].0, 0, "order without creation: {steps:?}");
        assert!(steps.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1), "{steps:?}");
        open += (steps.last().map(|s| s.0) < Some(4)) as u32;
    }
    assert!(open > 0, "no order still open at the end of the horizon");
    let mut replies = 0;
    for e in &events {
        if let EventBody::MessageReplied { message_id, .. } = &e.body {
            assert!(messages[&message_id.to_string()] < e.occurred_at);
            replies += 1;
        }
    }
    assert!(replies > 50);
}

#[test]
fn reviews_follow_delivery_for_about_a_third_of_orders() {
    let text = lines(&quiet(GeneratorConfig { days: 28, ..small(8) }));
    let events = events(&text);
    let delivered: HashMap<String, Timestamp> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::OrderDelivered { order_id } => Some((order_id.to_string(), e.occurred_at)),
            _ => None,
        })
        .collect();
    let mut reviews = 0;
    for e in &events {
        if let EventBody::ReviewSubmitted { order_id, rating, .. } = &e.body {
            assert!(delivered[&order_id.to_string()] < e.occurred_at);
            assert!((1..=5).contains(rating));
            reviews += 1;
        }
    }
    let share = reviews as f64 / delivered.len() as f64;
    assert!((0.25..0.5).contains(&share), "{share}");
}

#[test]
fn complaints_follow_deliveries_and_careless_sellers_send_wrong_or_missing_items() {
    let g = generate(&quiet(GeneratorConfig { sellers: 60, ..GeneratorConfig::default() }));
    let tiers: HashMap<String, Tier> = g.sellers().collect();
    let text: Vec<String> = g.collect();
    let events = events(&text);
    let step = |f: fn(&EventBody<'_>) -> Option<String>| -> HashMap<String, Timestamp> {
        events.iter().filter_map(|e| f(&e.body).map(|o| (o, e.occurred_at))).collect()
    };
    let shipped = step(|b| matches!(b, EventBody::OrderShipped { .. }).then(|| order_of_body(b)));
    let delivered = step(|b| matches!(b, EventBody::OrderDelivered { .. }).then(|| order_of_body(b)));
    let (mut before_delivery, mut after_window, mut per_order) = (0, 0, HashMap::<String, u32>::new());
    // (assembly errors, other complaints) of the best two and the worst two tiers.
    let (mut careful, mut careless) = ((0, 0), (0, 0));
    for e in &events {
        let EventBody::OrderComplaint { order_id, complaint_id, reason, .. } = &e.body else { continue };
        let order = order_id.to_string();
        assert!(complaint_id.starts_with(&order.replace("order-", "complaint-")), "{complaint_id} of {order}");
        assert!(shipped[&order] < e.occurred_at, "a complaint about an order not yet shipped: {e:?}");
        let d = delivered.get(&order).unwrap_or_else(|| panic!("a complaint about an undelivered order: {e:?}"));
        before_delivery += (e.occurred_at < *d) as u32;
        after_window += (e.occurred_at.0 > d.0 + 14 * 24 * HOUR_MS) as u32;
        *per_order.entry(order).or_default() += 1;
        let tally = if tiers[&e.seller_id.to_string()] <= Tier::Good {
            &mut careful
        } else if tiers[&e.seller_id.to_string()] >= Tier::Poor {
            &mut careless
        } else {
            continue;
        };
        if reason.is_assembly_error() {
            tally.0 += 1;
        } else {
            tally.1 += 1;
        }
    }
    assert!(before_delivery > 0 && after_window > 0, "{before_delivery} before delivery, {after_window} after the window");
    assert!(per_order.values().any(|n| *n == 2) && per_order.values().all(|n| *n <= 2), "some orders get a second complaint");
    assert!(careful.0 < careful.1, "careful sellers: mostly damaged or other ({careful:?})");
    assert!(careless.0 > careless.1, "careless sellers: mostly wrong or missing items ({careless:?})");
}

fn order_of_body(b: &EventBody<'_>) -> String {
    match b {
        EventBody::OrderShipped { order_id } | EventBody::OrderDelivered { order_id } => order_id.to_string(),
        _ => unreachable!("called for shipments and deliveries only"),
    }
}

#[test]
fn anomalies_show_up_in_the_text_at_their_rates() {
    let rates = Anomalies { malformed: 0.02, duplicates: 0.03, out_of_order: 0.0, too_late: 0.0 };
    let text = lines(&GeneratorConfig { anomalies: rates, ..small(9) });
    let mut counts: HashMap<&str, u32> = HashMap::new();
    let mut broken = 0;
    for l in &text {
        if decode(l.as_bytes()).is_ok() {
            *counts.entry(l.as_str()).or_default() += 1;
        } else {
            broken += 1;
        }
    }
    let events = text.len() as f64;
    let dup = counts.values().filter(|c| **c > 1).count() as f64 / events;
    let bad = broken as f64 / events;
    assert!((bad - 0.02).abs() < 0.006, "malformed {bad}");
    assert!((dup - 0.03).abs() < 0.008, "duplicates {dup}");
}

#[test]
fn the_mix_has_passing_and_breaching_sellers() {
    let cfg = quiet(GeneratorConfig { sellers: 60, ..GeneratorConfig::default() });
    let g = generate(&cfg);
    let tiers: HashMap<String, Tier> = g.sellers().collect();
    let text: Vec<String> = g.collect();
    let mut created = HashMap::new();
    let mut confirm: HashMap<String, (f64, u32)> = HashMap::new();
    let mut ratings: HashMap<Tier, (f64, u32)> = HashMap::new();
    for e in events(&text) {
        match &e.body {
            EventBody::OrderCreated { order_id, .. } => {
                created.insert(order_id.to_string(), e.occurred_at);
            }
            EventBody::OrderConfirmed { order_id } => {
                let hours = (e.occurred_at.0 - created[&order_id.to_string()].0) as f64 / HOUR_MS as f64;
                let c = confirm.entry(e.seller_id.to_string()).or_default();
                *c = (c.0 + hours, c.1 + 1);
            }
            EventBody::ReviewSubmitted { rating, .. } => {
                let r = ratings.entry(tiers[&e.seller_id.to_string()]).or_default();
                *r = (r.0 + *rating as f64, r.1 + 1);
            }
            _ => {}
        }
    }
    let seller_means: Vec<(Tier, f64)> = confirm.iter().map(|(s, (sum, n))| (tiers[s], sum / *n as f64)).collect();
    let passing = seller_means.iter().filter(|(_, m)| *m <= 2.0).count();
    let breaching = seller_means.len() - passing;
    assert!(breaching >= 3 && passing > 2 * breaching, "{passing} passing, {breaching} breaching");
    let tier_mean = |t: Tier| {
        let ms: Vec<f64> = seller_means.iter().filter(|(x, _)| *x == t).map(|(_, m)| *m).collect();
        ms.iter().sum::<f64>() / ms.len() as f64
    };
    let present: Vec<Tier> = Tier::ALL.into_iter().filter(|t| tiers.values().any(|x| x == t)).collect();
    assert!(present.len() >= 4, "{present:?}");
    let means: Vec<f64> = present.iter().map(|t| tier_mean(*t)).collect();
    assert!(means.windows(2).all(|w| w[0] < w[1]), "confirmation hours by tier {means:?}");
    let csi = |t: Tier| ratings.get(&t).map(|(sum, n)| sum / *n as f64);
    assert!(csi(Tier::Excellent) > Some(4.5) && csi(Tier::Excellent) > csi(Tier::Poor), "{ratings:?}");
}

#[test]
fn offsets_follow_dst_in_the_configured_zone() {
    let cfg =
        quiet(GeneratorConfig { timezone: chrono_tz::Europe::Berlin, start: NaiveDate::from_ymd_opt(2026, 10, 22).unwrap(), days: 6, ..small(10) });
    let text = lines(&cfg);
    assert!(text.iter().any(|l| l.contains("+02:00\"")) && text.iter().any(|l| l.contains("+01:00\"")));
    events(&text);
}

#[test]
fn degenerate_configs_are_empty_or_quiet_not_panics() {
    assert_eq!(generate(&GeneratorConfig { sellers: 0, ..small(1) }).count(), 0);
    assert_eq!(generate(&GeneratorConfig { days: 0, ..small(1) }).count(), 0);
    let nan = GeneratorConfig {
        orders_per_seller_day: f64::NAN,
        anomalies: Anomalies { malformed: f64::NAN, duplicates: 7.0, out_of_order: -1.0, too_late: 0.0 },
        ..small(1)
    };
    assert_eq!(generate(&nan).filter(|l| l.contains("order.")).count(), 0);
    let far = GeneratorConfig { start: NaiveDate::MAX, days: 3, ..small(1) };
    assert_eq!(generate(&far).count(), 0);
}

/// Release-mode throughput: `cargo test --release --lib generate::tests::throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput() {
    for cfg in [GeneratorConfig::default(), GeneratorConfig { sellers: 10_000, days: 7, ..GeneratorConfig::default() }] {
        let started = std::time::Instant::now();
        let (mut n, mut bytes) = (0u64, 0u64);
        for l in generate(&cfg) {
            n += 1;
            bytes += l.len() as u64 + 1;
        }
        let secs = started.elapsed().as_secs_f64();
        println!("{} sellers x {} days: {n} lines, {} MB, {secs:.2} s, {:.0} lines/s", cfg.sellers, cfg.days, bytes / 1_000_000, n as f64 / secs);
    }
}

#!/usr/bin/env python3
"""Helpers of scripts/soak.sh (standard library only, except `report`, which needs matplotlib).

  pace    copy NDJSON lines from stdin to stdout at a fixed rate (lines/s) for a duration
  sample  every N seconds, append one CSV row: RSS of the pipeline (and of the servers),
          consumer lag, events processed and throughput, state items, sink rows
  report  summary, verdict on memory, and a PNG plot (RSS, lag, throughput over time)
"""
import argparse, csv, json, math, os, re, signal, sys, time, urllib.request

COLUMNS = [
    "elapsed_s", "rss_mib", "lag", "events_processed", "throughput_eps", "produced",
    "state_items", "state_sellers", "state_seller_days", "state_open_orders",
    "state_open_messages", "state_event_ids", "state_timers", "state_acting", "state_awaiting_complaints",
    "sink_rows", "commits",
    "broker_rss_mib", "clickhouse_rss_mib", "backlog", "checkpoint_kib", "pipeline_cpu_pct",
    "loadavg_1m", "broker_cpu_pct", "clickhouse_cpu_pct",
]
STATE_KINDS = ["sellers", "seller_days", "open_orders", "open_messages", "event_ids", "timers", "acting", "awaiting_complaints"]


# ---------------------------------------------------------------- pace

def pace(args):
    """Writes line k at t0 + k / rate; stops after `seconds` (or at the end of the input).

    The progress file holds the count of lines written so far (rewritten five times a second), and
    at the end "<count> eof" if the input ran out before the time was up."""
    src, dst = sys.stdin.buffer, sys.stdout.buffer
    t0 = args.t0 or time.time()
    end = t0 + args.seconds
    sent, eof, last_progress = 0, False, 0.0

    def progress(final=False):
        tmp = args.progress + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{sent}{' eof' if final and eof else ''}\n")
        os.replace(tmp, args.progress)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            now = time.time()
            if now >= end:
                break
            due = int(args.rate * (now - t0))
            while sent < due:
                line = src.readline()
                if not line:
                    eof = True
                    break
                dst.write(line)
                sent += 1
            dst.flush()
            if eof:
                print(f"pace: the input ended after {sent} lines, {now - t0:.0f} s into the run", file=sys.stderr)
                break
            if args.progress and now - last_progress >= 0.2:
                progress()
                last_progress = now
            time.sleep(args.tick)
    except BrokenPipeError:
        print("pace: the consumer of the paced stream (produce) went away", file=sys.stderr)
    finally:
        if args.progress:
            progress(final=True)
        try:
            dst.close()
        except BrokenPipeError:
            pass


# ---------------------------------------------------------------- sample

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(url, timeout=5.0):
    """Prometheus text format -> list of (name, labels dict, value)."""
    with urllib.request.urlopen(url, timeout=timeout) as r:
        text = r.read().decode("utf-8", "replace")
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if m:
            try:
                value = float(m.group(4))
            except ValueError:
                continue
            out.append((m.group(1), dict(LABEL.findall(m.group(3) or "")), value))
    return out


def rss_mib(pid):
    """VmRSS of a process in MiB, or None if it is gone."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def cpu_seconds(pid):
    """User + system CPU time of a process, seconds (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError):
        return None


def read_progress(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def sample(args):
    """One row at t0, t0 + interval, ... up to t0 + seconds; exits 3 if the pipeline dies."""
    url = f"http://{args.metrics}/metrics"
    t0 = args.t0 or time.time()
    stop = {"now": False}

    def on_term(*_):
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    new = not os.path.exists(args.csv) or os.path.getsize(args.csv) == 0
    f = open(args.csv, "a", newline="")
    w = csv.writer(f)
    if new:
        w.writerow(COLUMNS)
        f.flush()
    prev = None  # (elapsed, processed)
    prev_cpu = {}  # column -> (elapsed, cpu seconds)
    k = 0
    while not stop["now"]:
        target = t0 + k * args.interval
        while not stop["now"] and time.time() < target:
            time.sleep(min(0.2, max(0.0, target - time.time())))
        if stop["now"]:
            break
        elapsed = time.time() - t0
        rss = rss_mib(args.pid)
        if rss is None:
            print(f"sample: the pipeline (pid {args.pid}) is gone after {elapsed:.0f} s", file=sys.stderr)
            f.close()
            sys.exit(3)
        row = {c: "" for c in COLUMNS}
        row.update(elapsed_s=f"{elapsed:.1f}", rss_mib=f"{rss:.1f}")
        try:
            metrics = scrape(url)
        except Exception as e:  # the endpoint answers once the run has started
            print(f"sample: no metrics at {elapsed:.0f} s ({e})", file=sys.stderr)
            metrics = None
        if metrics is not None:
            def total(name, keep=lambda labels: True):
                return sum(v for n, l, v in metrics if n == name and keep(l))

            processed = total("quality_pipeline_events_total") + total(
                "quality_pipeline_events_rejected_total", lambda l: l.get("topic") != "state")
            state = {k_: total("quality_pipeline_state_items", lambda l, k_=k_: l.get("kind") == k_) for k_ in STATE_KINDS}
            row.update(
                lag=int(total("quality_pipeline_consumer_lag")),
                events_processed=int(processed),
                state_items=int(sum(state.values())),
                sink_rows=int(total("quality_pipeline_sink_rows_total")),
                commits=int(total("quality_pipeline_commits_total")),
                checkpoint_kib=f'{total("quality_pipeline_checkpoint_bytes") / 1024:.0f}',
                **{f"state_{k_}": int(v) for k_, v in state.items()},
            )
            if prev is not None and elapsed > prev[0]:
                row["throughput_eps"] = f"{(processed - prev[1]) / (elapsed - prev[0]):.0f}"
            elif prev is None:
                row["throughput_eps"] = "0"
            prev = (elapsed, processed)
        produced = read_progress(args.progress) if args.progress else None
        row["produced"] = "" if produced is None else produced
        if produced is not None and row["events_processed"] != "":
            # Handed to the producer but not yet processed (the pacer's count is at most 0.2 s old).
            row["backlog"] = max(0, produced - row["events_processed"])
        for col, pid in (("pipeline_cpu_pct", args.pid), ("broker_cpu_pct", args.broker_pid), ("clickhouse_cpu_pct", args.clickhouse_pid)):
            cpu = cpu_seconds(pid) if pid else None
            if cpu is not None:
                if col in prev_cpu and elapsed > prev_cpu[col][0]:
                    row[col] = f"{(cpu - prev_cpu[col][1]) / (elapsed - prev_cpu[col][0]) * 100:.0f}"
                prev_cpu[col] = (elapsed, cpu)
        la = loadavg()
        row["loadavg_1m"] = "" if la is None else f"{la:.2f}"
        for col, pid in (("broker_rss_mib", args.broker_pid), ("clickhouse_rss_mib", args.clickhouse_pid)):
            r = rss_mib(pid)
            row[col] = "" if r is None else f"{r:.1f}"
        w.writerow([row[c] for c in COLUMNS])
        f.flush()
        if not args.quiet:
            print(f"  {elapsed:6.0f} s  rss {rss:7.1f} MiB  lag {row['lag']!s:>7}  backlog {row['backlog']!s:>7}  "
                  f"throughput {row['throughput_eps']!s:>6} ev/s  state {row['state_items']!s:>8}  "
                  f"cpu {row['pipeline_cpu_pct']!s:>3} %  load {row['loadavg_1m']}", flush=True)
        if elapsed >= args.seconds - 0.5:
            break
        k += 1
    f.close()


# ---------------------------------------------------------------- report

def load(path):
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows.append({k: (float(v) if v not in ("", None) else None) for k, v in r.items()})
    return rows


def nearest(rows, t):
    return min(rows, key=lambda r: abs(r["elapsed_s"] - t))


def slope_per_hour(points):
    """Least-squares slope of (seconds, value) points, per hour."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return 0.0
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx * 3600


def report(args):
    rows = [r for r in load(args.csv) if r["rss_mib"] is not None]
    if len(rows) < 3:
        print(f"report: only {len(rows)} samples in {args.csv}; nothing to judge", file=sys.stderr)
        sys.exit(2)
    end_t = rows[-1]["elapsed_s"]
    warm = nearest(rows, args.warmup * end_t)
    last = rows[-1]
    growth = (last["rss_mib"] - warm["rss_mib"]) / warm["rss_mib"] * 100
    after = [r for r in rows if r["elapsed_s"] >= warm["elapsed_s"]]
    slope = slope_per_hour([(r["elapsed_s"], r["rss_mib"]) for r in after])
    lags = [r["lag"] for r in rows if r["lag"] is not None]
    backlogs = [r["backlog"] for r in rows if r.get("backlog") is not None]
    loads = [r["loadavg_1m"] for r in rows if r.get("loadavg_1m") is not None]
    cpus = [r["pipeline_cpu_pct"] for r in rows if r.get("pipeline_cpu_pct") is not None]
    ckpt = [r["checkpoint_kib"] for r in rows if r.get("checkpoint_kib") is not None]
    max_lag = max(lags) if lags else float("nan")
    end_lag = lags[-1] if lags else float("nan")
    processed = [r for r in rows if r["events_processed"] is not None]
    mean_tp = processed[-1]["events_processed"] / processed[-1]["elapsed_s"] if processed else float("nan")
    warm_p = nearest(processed, warm["elapsed_s"]) if processed else None
    mean_tp_after = ((processed[-1]["events_processed"] - warm_p["events_processed"]) /
                     max(1e-9, processed[-1]["elapsed_s"] - warm_p["elapsed_s"])) if processed else float("nan")
    produced = [r["produced"] for r in rows if r["produced"] is not None]
    produced_total = produced[-1] if produced else None
    peak = max(rows, key=lambda r: r["rss_mib"])
    state_warm, state_end = warm.get("state_items"), last.get("state_items")
    flat = growth < args.max_growth
    broker = [r["broker_rss_mib"] for r in rows if r.get("broker_rss_mib") is not None]
    broker_cpu = [r["broker_cpu_pct"] for r in rows if r.get("broker_cpu_pct") is not None]
    ch_cpu = [r["clickhouse_cpu_pct"] for r in rows if r.get("clickhouse_cpu_pct") is not None]

    summary = {
        "duration_s": round(end_t), "rate_eps": args.rate, "sellers": args.sellers,
        "rss_warmup_mib": round(warm["rss_mib"], 1), "rss_warmup_at_s": round(warm["elapsed_s"]),
        "rss_end_mib": round(last["rss_mib"], 1), "rss_peak_mib": round(peak["rss_mib"], 1),
        "rss_growth_pct": round(growth, 1), "rss_slope_after_warmup_mib_per_h": round(slope, 1),
        "mean_throughput_eps": round(mean_tp), "mean_throughput_after_warmup_eps": round(mean_tp_after),
        "events_processed": int(processed[-1]["events_processed"]) if processed else None,
        "events_produced": int(produced_total) if produced_total is not None else None,
        "max_lag": int(max_lag) if lags else None, "end_lag": int(end_lag) if lags else None,
        "max_backlog": int(max(backlogs)) if backlogs else None,
        "mean_pipeline_cpu_pct": round(sum(cpus) / len(cpus)) if cpus else None,
        "mean_broker_cpu_pct": round(sum(broker_cpu) / len(broker_cpu)) if broker_cpu else None,
        "mean_clickhouse_cpu_pct": round(sum(ch_cpu) / len(ch_cpu)) if ch_cpu else None,
        "mean_loadavg_1m": round(sum(loads) / len(loads), 2) if loads else None,
        "max_loadavg_1m": round(max(loads), 2) if loads else None,
        "checkpoint_kib_warmup": warm.get("checkpoint_kib"), "checkpoint_kib_end": last.get("checkpoint_kib"),
        "state_items_warmup": int(state_warm) if state_warm is not None else None,
        "state_items_end": int(state_end) if state_end is not None else None,
        "broker_rss_end_mib": round(broker[-1], 1) if broker else None,
        "flat_memory": flat, "max_growth_pct": args.max_growth,
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")

    def n(x):
        return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.0f}"

    print(f"duration            {end_t / 60:.1f} min ({len(rows)} samples), target rate {n(args.rate)} events/s, {args.sellers} sellers")
    print(f"events              {n(summary['events_processed'])} processed, {n(summary['events_produced'])} produced")
    print(f"throughput          mean {n(mean_tp)} events/s (after warm-up {n(mean_tp_after)} events/s)")
    print(f"consumer lag        max {n(max_lag)} records, at the end {n(end_lag)} (quality_pipeline_consumer_lag)")
    if backlogs:
        print(f"backlog             max {n(max(backlogs))} events handed to the producer but not yet processed")
    print(f"RSS (pipeline)      {warm['rss_mib']:.1f} MiB at {warm['elapsed_s']:.0f} s (end of warm-up, {args.warmup:.0%} of the run), "
          f"{last['rss_mib']:.1f} MiB at the end, peak {peak['rss_mib']:.1f} MiB")
    print(f"RSS growth          {growth:+.1f} % after warm-up (trend {slope:+.1f} MiB/h)")
    if state_warm is not None and state_end is not None:
        print(f"state items         {n(state_warm)} at the end of warm-up, {n(state_end)} at the end")
    if ckpt:
        print(f"checkpoints         {n(warm.get('checkpoint_kib'))} KiB at the end of warm-up, {n(last.get('checkpoint_kib'))} KiB at the end")
    if cpus and loads:
        servers = ""
        if broker_cpu:
            servers += f", broker {sum(broker_cpu) / len(broker_cpu):.0f} %"
        if ch_cpu:
            servers += f", ClickHouse adapter {sum(ch_cpu) / len(ch_cpu):.0f} %"
        print(f"CPU                 pipeline {sum(cpus) / len(cpus):.0f} % of a core on average{servers}; machine load average "
              f"{sum(loads) / len(loads):.1f} mean, {max(loads):.1f} max ({os.cpu_count()} cores)")
    if broker:
        print(f"broker RSS          {broker[-1]:.0f} MiB at the end (tansu keeps every record in memory)")
    verdict = "FLAT" if flat else "NOT FLAT"
    print(f"memory              {verdict}: growth {growth:+.1f} % {'<' if flat else '>='} {args.max_growth:g} % allowed")

    if args.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        t = [r["elapsed_s"] / 60 for r in rows]
        fig, (ax1, ax2, ax3, ax4) = plt.subplots(4, 1, figsize=(10, 11), sharex=True)
        ax1.plot(t, [r["rss_mib"] for r in rows], color="tab:blue", label="pipeline RSS")
        ax1.axvline(warm["elapsed_s"] / 60, color="grey", ls="--", lw=1, label="end of warm-up")
        ax1.set_ylabel("RSS (MiB)")
        ax1.set_ylim(bottom=0)
        states = [(x, r["state_items"]) for x, r in zip(t, rows) if r["state_items"] is not None]
        if states:
            ax1b = ax1.twinx()
            ax1b.plot([s[0] for s in states], [s[1] / 1e3 for s in states], color="tab:orange", lw=1, label="state items")
            ax1b.set_ylabel("state items (thousands)")
            ax1b.set_ylim(bottom=0)
            h1, l1 = ax1.get_legend_handles_labels()
            h2, l2 = ax1b.get_legend_handles_labels()
            ax1.legend(h1 + h2, l1 + l2, loc="lower right")
        else:
            ax1.legend(loc="lower right")
        ax1.set_title(f"soak: {args.rate:,.0f} events/s, {args.sellers} sellers, {end_t / 60:.0f} min; "
                      f"RSS growth after warm-up {growth:+.1f} % ({verdict.lower()})")
        lag_pts = [(x, r["lag"]) for x, r in zip(t, rows) if r["lag"] is not None]
        ax2.plot([p[0] for p in lag_pts], [p[1] for p in lag_pts], color="tab:red", label="consumer lag (metric)")
        bl = [(x, r["backlog"]) for x, r in zip(t, rows) if r.get("backlog") is not None]
        if bl:
            ax2.plot([p[0] for p in bl], [p[1] for p in bl], color="tab:purple", lw=1, ls=":", label="produced - processed")
        ax2.legend(loc="upper left")
        ax2.set_ylabel("lag (records)")
        ax2.set_ylim(bottom=0)
        tp = [(x, r["throughput_eps"]) for x, r in zip(t, rows) if r["throughput_eps"] is not None]
        ax3.plot([p[0] for p in tp], [p[1] for p in tp], color="tab:green", label="processed")
        ax3.axhline(args.rate, color="grey", ls="--", lw=1, label="target rate")
        ax3.set_ylabel("throughput (events/s)")
        ax3.set_ylim(bottom=0)
        ax3.legend(loc="lower right")
        cpu_pts = [(x, r["pipeline_cpu_pct"]) for x, r in zip(t, rows) if r.get("pipeline_cpu_pct") is not None]
        ax4.plot([p[0] for p in cpu_pts], [p[1] / 100 for p in cpu_pts], color="tab:brown", label="pipeline CPU (cores)")
        for col, color, label in (("broker_cpu_pct", "tab:cyan", "broker CPU"), ("clickhouse_cpu_pct", "tab:olive", "ClickHouse adapter CPU")):
            pts = [(x, r[col]) for x, r in zip(t, rows) if r.get(col) is not None]
            if pts:
                ax4.plot([p[0] for p in pts], [p[1] / 100 for p in pts], color=color, lw=1, label=label)
        la_pts = [(x, r["loadavg_1m"]) for x, r in zip(t, rows) if r.get("loadavg_1m") is not None]
        ax4.plot([p[0] for p in la_pts], [p[1] for p in la_pts], color="grey", label="machine load average (1 min)")
        ax4.axhline(os.cpu_count() or 0, color="black", ls=":", lw=1, label="cores")
        ax4.set_ylabel("cores")
        ax4.set_ylim(bottom=0)
        ax4.legend(loc="upper left")
        ax4.set_xlabel("minutes")
        for ax in (ax1, ax2, ax3, ax4):
            ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(args.png, dpi=110)
        print(f"plot                {args.png}")
    sys.exit(0 if flat else 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pace", help="stdin -> stdout at a fixed rate of lines per second")
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--t0", type=float, help="start time (unix seconds); now if absent")
    p.add_argument("--tick", type=float, default=0.01, help="seconds between writes (default 0.01)")
    p.add_argument("--progress", help="file that receives the count of lines written")
    p.set_defaults(func=pace)
    s = sub.add_parser("sample", help="CSV rows from /proc and the /metrics endpoint")
    s.add_argument("--pid", type=int, required=True, help="the pipeline's process id")
    s.add_argument("--metrics", required=True, help="host:port of its metrics endpoint")
    s.add_argument("--csv", required=True)
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--interval", type=float, default=10.0)
    s.add_argument("--t0", type=float)
    s.add_argument("--progress", help="the pacer's progress file")
    s.add_argument("--broker-pid", type=int)
    s.add_argument("--clickhouse-pid", type=int)
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(func=sample)
    r = sub.add_parser("report", help="summary, verdict and plot from the CSV (exit 1 if memory grew)")
    r.add_argument("--csv", required=True)
    r.add_argument("--png")
    r.add_argument("--json", help="also write the summary as JSON")
    r.add_argument("--rate", type=float, default=float("nan"))
    r.add_argument("--sellers", type=int, default=0)
    r.add_argument("--warmup", type=float, default=0.25, help="warm-up share of the run (default 0.25)")
    r.add_argument("--max-growth", type=float, default=10.0, help="largest RSS growth after warm-up, %% (default 10)")
    r.set_defaults(func=report)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# Copied unchanged (but for this note and the default --event: the Stripe sample the plugin
# ships) from the team's side-by-side webhook benchmark, the harness that measured n8n 2.8.4
# and ledgerlink on one machine; bench/burst.py drives it. Needs aiohttp:
# .venv/bin/pip install -e '.[bench]'.
"""Async load generator for the Stripe invoice.paid -> QuickBooks journal entry webhook benchmark.

Sends N distinct Stripe invoice.paid events (event id, invoice id and invoice
number varied per request) to the webhook at fixed concurrency, measures the
webhook ack latency/throughput, then polls the sink until it has received all N
JournalEntry POSTs (or stops making progress) to get end-to-end throughput.
While running it samples CPU and RSS of the given PIDs (and their children)
from /proc once per --sample seconds.
Prints one JSON object (also written to --out).
"""
import argparse, asyncio, hashlib, hmac, json, os, statistics, time
import aiohttp

CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    res = []
    for c in out:
        res.append(c)
        res += children(c)
    return res

def proc_sample(pid):
    """(cpu_seconds, rss_bytes) of one pid, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        cpu = (int(parts[11]) + int(parts[12])) / CLK
        rss = int(parts[21]) * PAGE
        return cpu, rss
    except OSError:
        return None

def sample_tree(pid):
    tot_cpu = 0.0; main_rss = 0; child_rss = 0; main_cpu = 0.0
    s = proc_sample(pid)
    if s:
        main_cpu, main_rss = s; tot_cpu += s[0]
    for c in children(pid):
        s = proc_sample(c)
        if s:
            tot_cpu += s[0]; child_rss += s[1]
    return {"t": time.time(), "cpu_total_s": tot_cpu, "cpu_main_s": main_cpu,
            "rss_main": main_rss, "rss_children": child_rss}

def pct(v, p):
    if not v:
        return None
    v = sorted(v)
    k = (len(v) - 1) * p / 100.0
    f = int(k); c = min(f + 1, len(v) - 1)
    return v[f] + (v[c] - v[f]) * (k - f)

async def sampler(pid, interval, samples, stop):
    while not stop.is_set():
        samples.append(sample_tree(pid))
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except asyncio.TimeoutError:
            pass
    samples.append(sample_tree(pid))

def cpu_between(samples, t0, t1):
    """Average CPU% (100 = one core) of the tree between wall times t0 and t1."""
    sel = [s for s in samples if t0 - 1.0 <= s["t"] <= t1 + 1.0]
    if len(sel) < 2:
        return None
    a, b = sel[0], sel[-1]
    dt = b["t"] - a["t"]
    return {"tree": round(100 * (b["cpu_total_s"] - a["cpu_total_s"]) / dt, 1),
            "main": round(100 * (b["cpu_main_s"] - a["cpu_main_s"]) / dt, 1)}

async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:5678/webhook/stripe")
    ap.add_argument("--sink", default="http://127.0.0.1:18081")
    ap.add_argument("--event", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "plugins", "ledgerlink_stripe", "samples", "invoice.paid.json"))
    ap.add_argument("-n", type=int, default=3000)
    ap.add_argument("-c", type=int, default=16)
    ap.add_argument("--tag", default=str(int(time.time())))
    ap.add_argument("--pid", type=int, default=0, help="PID of the system under test: it and its children are sampled")
    ap.add_argument("--sample", type=float, default=1.0)
    ap.add_argument("--stall", type=float, default=60.0, help="give up if sink makes no progress for this long")
    ap.add_argument("--out", default="")
    ap.add_argument("--stripe-secret", default="", help="sign each body with a real Stripe-Signature (for peers that verify)")
    a = ap.parse_args()

    base = json.load(open(a.event))
    # Pre-serialise every body so the client's JSON cost is outside the timed window.
    bodies = []
    for i in range(a.n):
        base["id"] = f"evt_{a.tag}_{i:06d}"
        base["data"]["object"]["id"] = f"in_{a.tag}_{i:06d}"
        base["data"]["object"]["number"] = f"B{a.tag[-6:]}-{i:06d}"
        bodies.append(json.dumps(base).encode())

    async with aiohttp.ClientSession() as s:
        async with s.post(a.sink + "/reset") as r:
            await r.read()
        samples, stop = [], asyncio.Event()
        samp_task = asyncio.create_task(sampler(a.pid, a.sample, samples, stop)) if a.pid else None

        conn = aiohttp.TCPConnector(limit=a.c, limit_per_host=a.c)
        lat, errs, statuses = [], 0, {}
        nxt = 0
        async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=120)) as cs:
            hdr = {"Content-Type": "application/json", "Stripe-Signature": "t=0,v1=bench"}
            async def worker():
                nonlocal nxt, errs
                while True:
                    i = nxt
                    if i >= a.n:
                        return
                    nxt += 1
                    h = hdr
                    if a.stripe_secret:
                        ts = str(int(time.time()))
                        sig = hmac.new(a.stripe_secret.encode(), ts.encode() + b"." + bodies[i], hashlib.sha256).hexdigest()
                        h = {"Content-Type": "application/json", "Stripe-Signature": f"t={ts},v1={sig}"}
                    t = time.perf_counter()
                    try:
                        async with cs.post(a.url, data=bodies[i], headers=h) as r:
                            await r.read()
                            statuses[r.status] = statuses.get(r.status, 0) + 1
                            if r.status != 200:
                                errs += 1
                    except Exception as e:
                        errs += 1
                        statuses[type(e).__name__] = statuses.get(type(e).__name__, 0) + 1
                    lat.append(time.perf_counter() - t)
            t0_wall = time.time(); t0 = time.perf_counter()
            await asyncio.gather(*[worker() for _ in range(a.c)])
            t_ack = time.perf_counter() - t0
            t_ack_wall = time.time()

        # wait for the sink to see everything
        last_cnt, last_change = -1, time.time()
        while True:
            async with s.get(a.sink + "/stats") as r:
                st = await r.json()
            if st["count"] >= a.n:
                break
            if st["count"] != last_cnt:
                last_cnt, last_change = st["count"], time.time()
            elif time.time() - last_change > a.stall:
                break
            await asyncio.sleep(0.1)
        # a little extra to catch late duplicates
        await asyncio.sleep(1.0)
        async with s.get(a.sink + "/stats") as r:
            st = await r.json()
        if samp_task:
            stop.set(); await samp_task

    e2e = (st["last"] - t0_wall) if st["last"] else None
    ok = a.n - errs
    res = {
        "n": a.n, "concurrency": a.c, "tag": a.tag,
        "ack": {"seconds": round(t_ack, 3), "req_per_s": round(a.n / t_ack, 1),
                "errors": errs, "statuses": {str(k): v for k, v in statuses.items()},
                "p50_ms": round(1000 * pct(lat, 50), 2), "p95_ms": round(1000 * pct(lat, 95), 2),
                "p99_ms": round(1000 * pct(lat, 99), 2), "max_ms": round(1000 * max(lat), 2),
                "mean_ms": round(1000 * statistics.mean(lat), 2)},
        "e2e": {"seconds": round(e2e, 3) if e2e else None,
                "exec_per_s": round(st["count"] / e2e, 1) if e2e else None,
                "sink_count": st["count"], "unique": st["unique_docs"],
                "lost": max(0, a.n - st["unique_docs"]), "duplicates": st["duplicates"],
                "bad_bodies": st["bad_bodies"],
                "sink_lag_after_last_ack_s": round(st["last"] - t_ack_wall, 3) if st["last"] else None},
        "sample_body": st["last_body"],
    }
    if samples:
        rss = [x["rss_main"] for x in samples]; crss = [x["rss_children"] for x in samples]
        res["proc"] = {
            "rss_main_mb_start": round(rss[0] / 2**20, 1), "rss_main_mb_end": round(rss[-1] / 2**20, 1),
            "rss_main_mb_peak": round(max(rss) / 2**20, 1),
            "rss_children_mb_peak": round(max(crss) / 2**20, 1),
            "cpu_pct_during_ack": cpu_between(samples, t0_wall, t_ack_wall),
            "cpu_pct_during_e2e": cpu_between(samples, t0_wall, st["last"] or t_ack_wall),
        }
        res["samples"] = samples
    out = json.dumps(res)
    if a.out:
        with open(a.out, "w") as f:
            f.write(out)
    short = dict(res); short.pop("samples", None); short.pop("sample_body", None)
    print(json.dumps(short))

asyncio.run(main())

#!/usr/bin/env python3
# Copied unchanged (but for this note) from the team's side-by-side webhook benchmark, the harness
# that measured n8n 2.8.4 and ledgerlink on one machine; bench/burst.py drives it. Needs aiohttp:
# .venv/bin/pip install -e '.[bench]'.
"""Samples CPU (utime+stime) and RSS of one or more process trees until SIGTERM/SIGINT.

usage: sampler.py OUT.json PID [PID ...]
Every --interval (0.25 s) it sums RSS over every root PID and all its descendants, and
keeps per-pid CPU seconds (last seen) so the CPU delta over the window includes processes
that existed at any sample. Writes one JSON object at exit:
  cpu_s (total CPU seconds used by the trees during the window), peak_rss_mb (max over
  samples of the summed RSS), per-process breakdown, samples.
"""
import json, os, signal, sys, time

CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
INTERVAL = float(os.environ.get("SAMPLER_INTERVAL", "0.25"))


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    res = []
    for c in out:
        res.append(c)
        res += children(c)
    return res


def stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
        comm = raw[raw.index("(") + 1: raw.rindex(")")]
        parts = raw.rsplit(")", 1)[1].split()
        return comm, (int(parts[11]) + int(parts[12])) / CLK, int(parts[21]) * PAGE
    except (OSError, ValueError):
        return None


def main():
    out, roots = sys.argv[1], [int(p) for p in sys.argv[2:]]
    first, last, names = {}, {}, {}
    samples = []
    stop = False

    def handler(*_):
        nonlocal stop
        stop = True
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)

    def sample():
        initial = not samples
        pids = []
        for r in roots:
            pids.append(r)
            pids += children(r)
        rss = 0
        for p in pids:
            s = stat(p)
            if s is None:
                continue
            comm, cpu, r = s
            names[p] = comm
            first.setdefault(p, cpu if initial else 0.0)  # born mid-window: count from 0
            last[p] = cpu
            rss += r
        samples.append({"t": time.time(), "rss": rss, "cpu": sum(last[p] - first[p] for p in last)})

    t0 = time.time()
    sample()
    while not stop:
        time.sleep(INTERVAL)
        sample()
    t1 = time.time()
    res = {"roots": roots, "seconds": round(t1 - t0, 3),
           "cpu_s": round(sum(last[p] - first[p] for p in last), 3),
           "peak_rss_mb": round(max(s["rss"] for s in samples) / 2**20, 1),
           "start_rss_mb": round(samples[0]["rss"] / 2**20, 1),
           "end_rss_mb": round(samples[-1]["rss"] / 2**20, 1),
           "per_process": {str(p): {"comm": names[p], "cpu_s": round(last[p] - first[p], 3)} for p in last},
           "samples": samples}
    with open(out, "w") as f:
        json.dump(res, f)


main()

#!/usr/bin/env python3
# Copied unchanged (but for this note) from the team's side-by-side webhook benchmark, the harness
# that measured n8n 2.8.4 and ledgerlink on one machine; bench/burst.py drives it. Needs aiohttp:
# .venv/bin/pip install -e '.[bench]'.
"""Loopback sink standing in for QuickBooks Online's JournalEntry endpoint.

POST /v3/company/123/journalentry -> 200 {"JournalEntry": {...}} ; counts requests,
records the arrival time (time.time()) of each and the DocNumber, so lost /
duplicated deliveries can be detected.
GET  /stats  -> counts, duplicates, first/last arrival, last body
POST /reset  -> clear state
GET  /dump   -> arrival times (list of floats)
Runs on aiohttp (single process, asyncio) at 127.0.0.1:18081 by default.
"""
import json, sys, time, collections
from aiohttp import web

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 18081
S = {}

def reset():
    S.clear()
    S.update(count=0, arrivals=[], docs=collections.Counter(), bad=0, last_body=None)
reset()

async def je(request):
    t = time.time()
    raw = await request.read()
    S["count"] += 1
    S["arrivals"].append(t)
    try:
        b = json.loads(raw)
        S["docs"][b.get("DocNumber")] += 1
        ok = (b.get("TxnDate") and len(b.get("Line", [])) == 2)
        if not ok:
            S["bad"] += 1
        S["last_body"] = b
    except Exception:
        S["bad"] += 1
        S["last_body"] = raw[:500].decode("utf-8", "replace")
    n = S["count"]
    return web.json_response({"JournalEntry": {"Id": str(n), "SyncToken": "0",
                              "domain": "QBO"}, "time": "2023-11-14T22:13:20Z"})

async def stats(request):
    a = S["arrivals"]
    dups = sum(c - 1 for c in S["docs"].values() if c > 1)
    return web.json_response({"count": S["count"], "unique_docs": len(S["docs"]),
        "duplicates": dups, "bad_bodies": S["bad"],
        "first": a[0] if a else None, "last": a[-1] if a else None,
        "last_body": S["last_body"]})

async def do_reset(request):
    reset()
    return web.json_response({"ok": True})

async def dump(request):
    return web.json_response(S["arrivals"])

app = web.Application(client_max_size=16 * 1024 * 1024)
app.router.add_post("/v3/company/123/journalentry", je)
app.router.add_get("/stats", stats)
app.router.add_post("/reset", do_reset)
app.router.add_get("/dump", dump)
web.run_app(app, host="127.0.0.1", port=PORT, access_log=None, print=None)

from tests.test_engine_faults import *
import tests.test_engine_faults as t
def test_dbg(target):
    engine = ProbeEngine(sync_every_s=0.2, first_run_spread_s=0.5)
    faults = {
        "refused": (target.refused_url, "connection refused", {}),
        "hang": (target.hang_url, "timed out after 1 s", {}),
        "slow headers": (target.url("/slow-headers"), "timed out after 1 s", {}),
        "trickle": (target.url("/trickle"), "timed out after 1 s", {}),
        "reset": (target.url("/reset"), "connection reset", {}),
        "garbage": (target.url("/garbage"), "invalid HTTP response", {}),
        "huge": (target.url("/huge"), "k", {"keyword": "All systems go"}),
        "http 503": (target.url("/status/503"), "HTTP 503", {}),
        "untrusted tls": (target.tls_url("expired"), "certificate issued by an untrusted", {}),
    }
    faulty = {t._add(name, url, options=options).id: (name, reason) for name, (url, reason, options) in faults.items()}
    healthy = [t._add(f"ok {n}", target.url("/ok"), interval=1).id for n in range(4)]
    healthy.append(t._add("tls ok", target.tls_url("good"), interval=1, options={"verify_tls": False}).id)
    engine.start(); time.sleep(4.0)
    res = t._results()
    for m in healthy:
        for r in res.get(m, []):
            print(m, r.checked_at, r.latency_ms, r.phases)
    for m,(n,_) in faulty.items():
        r = res[m][0]; print(n, r.reason, r.phases)
    print("LATE", sorted(engine.stats.lateness_s)[-6:]); engine.stop()

#!/usr/bin/env python3
"""What insights, charts and next questions add to an ASK's latency, on the shared retail set.

Starts two Querents on the retail data (release build): one with the defaults (after the rows:
insights, the chart, next questions) and one with `ask.analysis = off` (only the rows), and
asks each of the 60 questions of ../shared/bench/retail/questions.jsonl ROUNDS times over the
simple protocol (psycopg), alternating between the two; then the same questions through
POST /v1/ask. Prints p50/p95 per configuration and their ratio. Nothing is asserted.

    scripts/bench-ask-analysis.py [ROUNDS]        (default 5; needs querent_retail loaded)
"""
import json, os, socket, statistics, subprocess, sys, time, urllib.request
import psycopg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
UPSTREAM = os.environ.get("BENCH_UPSTREAM", "postgres://root@127.0.0.1:5432/querent_retail")


def port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(extra_env):
    p, a = port(), port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUERENT_")}
    env.update(extra_env)
    proc = subprocess.Popen(
        [os.path.join(ROOT, "target/release/querent"), "serve", "--listen", f"127.0.0.1:{p}",
         "--admin-listen", f"127.0.0.1:{a}", "--upstream", UPSTREAM, "--schemas", "schemas"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", p), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, p, a


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    questions = [json.loads(l)["question"] for l in open(os.path.join(ROOT, "../shared/bench/retail/questions.jsonl"))]
    on, p_on, a_on = start({})
    off, p_off, a_off = start({"QUERENT_ASK_ANALYSIS": "off"})
    try:
        conns = {name: psycopg.connect(f"host=127.0.0.1 port={p} user=root dbname=querent_retail", autocommit=True)
                 for name, p in (("on", p_on), ("off", p_off))}
        notices = {"on": 0, "off": 0}
        for name, c in conns.items():
            c.add_notice_handler(lambda d, name=name: notices.__setitem__(name, notices[name] + 1))
        times = {"on": [], "off": []}
        answered = {"on": 0, "off": 0}
        for r in range(ROUNDS + 1):
            for q in questions:
                for name in ("on", "off") if r % 2 == 0 else ("off", "on"):
                    t = time.perf_counter()
                    try:
                        with conns[name].cursor() as cur:
                            cur.execute("ASK " + "'" + q.replace("'", "''") + "'")
                            cur.fetchall()
                        ok = True
                    except psycopg.Error:
                        ok = False
                    dt = (time.perf_counter() - t) * 1000
                    if r > 0:  # round 0 warms caches
                        times[name].append(dt)
                        answered[name] += ok
        print(f"ASK over the wire, {len(questions)} retail questions x {ROUNDS} rounds, {os.cpu_count()} CPUs")
        for name in ("off", "on"):
            xs = times[name]
            print(f"  analysis={name:3}  p50 {pct(xs, .5):7.2f} ms  p95 {pct(xs, .95):7.2f} ms  mean {statistics.mean(xs):7.2f} ms  answered {answered[name] // ROUNDS}/{len(questions)}  notices/ASK {notices[name] / ((ROUNDS + 1) * len(questions)):.1f}")
        print(f"  ratio on/off: p50 {pct(times['on'], .5) / pct(times['off'], .5):.2f}x  p95 {pct(times['on'], .95) / pct(times['off'], .95):.2f}x  mean {statistics.mean(times['on']) / statistics.mean(times['off']):.2f}x")
        api = []
        for r in range(ROUNDS):
            for q in questions:
                body = json.dumps({"question": q}).encode()
                req = urllib.request.Request(f"http://127.0.0.1:{a_on}/v1/ask", data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
                t = time.perf_counter()
                try:
                    urllib.request.urlopen(req).read()
                except urllib.error.HTTPError as e:
                    e.read()
                api.append((time.perf_counter() - t) * 1000)
        print(f"  POST /v1/ask (rows, insights with the previous period, chart, next questions): p50 {pct(api, .5):.2f} ms  p95 {pct(api, .95):.2f} ms")
    finally:
        on.terminate()
        off.terminate()


if __name__ == "__main__":
    main()

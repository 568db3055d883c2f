#!/usr/bin/env python3
"""A replay model: an OpenAI-compatible chat completions server that answers ASK's questions
with the gold SQL of a questions file in run_defog.py's format (CSV with the columns question,
query, db_name, query_category). It measures Querent's plumbing around a model (prompt,
answer parsing, checks, guard, EXPLAIN, repairs, NOTICEs) on real questions, with the model's
own skill taken out; it runs unchanged on any questions file in that format.

Modes
  gold    every answer is the question's first gold variant (as run_defog.py --self-test sends it)
  repair  the first answer to a question is broken (a column that does not exist, or a syntax
          error, alternating); once the conversation carries an error, the gold SQL

The question is read from the first user message (its last "Question: " line); a question the
file does not hold gets a JSON answer with neither plan nor SQL. Standard library only.

  python3 scripts/replay-model.py --questions ../shared/bench/defog/questions.csv --port 18080
  QUERENT_LLM_URL=http://127.0.0.1:18080/v1 QUERENT_LLM_MODE=always querent ...
"""
import argparse
import csv
import http.server
import itertools
import json
import re
import sys
import threading


def first_variant(query):
    """The first of sql-eval's gold variants: the first ';' part, its first {a, b} option."""
    for part in query.split(";"):
        part = part.strip()
        if not part:
            continue
        a = part.find("{")
        b = part.find("}", a + 1)
        if a == -1 or b == -1:
            return part
        chosen = part[a + 1:b].split(",")[0].strip()
        return part[:a] + chosen + part[b + 1:].replace("GROUP BY {}", f"GROUP BY {chosen}")
    return query


def norm(q):
    return " ".join(q.split()).rstrip("?.!; ").lower()


def broken(sql, n):
    """A wrong column (even n) or a syntax error (odd n) in `sql`."""
    if n % 2 == 0:
        m = re.match(r"(?is)^(\s*(?:with\b.*?\bas\s*\(\s*)?select\s+(?:distinct\s+)?)", sql)
        if m:
            return m.group(1) + "querent_replay_missing_column, " + sql[m.end():]
    return re.sub(r"(?i)\bfrom\b", "FORM", sql, count=1)


class Model:
    def __init__(self, path, mode):
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        self.gold = {norm(r["question"]): first_variant(r["query"]) for r in rows}
        self.order = {norm(r["question"]): i for i, r in enumerate(rows)}
        self.mode = mode
        self.lock = threading.Lock()
        self.stats = {"requests": 0, "unknown": 0, "broken": 0, "repaired": 0}

    def answer(self, body):
        messages = body.get("messages") or []
        users = [m.get("content") or "" for m in messages if m.get("role") == "user"]
        first = users[0] if users else ""
        if isinstance(first, list):
            first = " ".join(p.get("text", "") for p in first if isinstance(p, dict))
        question = first.rsplit("Question: ", 1)[-1] if "Question: " in first else first
        key = norm(question)
        with self.lock:
            self.stats["requests"] += 1
        sql = self.gold.get(key)
        if sql is None:
            with self.lock:
                self.stats["unknown"] += 1
            return json.dumps({"plan": None, "sql": None})
        if self.mode == "repair":
            if len(users) == 1:
                with self.lock:
                    self.stats["broken"] += 1
                return json.dumps({"plan": None, "sql": broken(sql, self.order[key])})
            with self.lock:
                self.stats["repaired"] += 1
        return json.dumps({"plan": None, "sql": sql})


def handler(model, log):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, status, obj):
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path.rstrip("/").endswith("/models"):
                self.send(200, {"object": "list", "data": [{"id": "replay", "object": "model", "owned_by": "querent"}]})
            elif self.path.rstrip("/").endswith("/stats"):
                self.send(200, model.stats)
            else:
                self.send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

        def do_POST(self):
            n = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(n)
            try:
                body = json.loads(raw)
            except ValueError:
                return self.send(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
            if not self.path.rstrip("/").endswith("/chat/completions"):
                return self.send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
            content = model.answer(body)
            if log:
                with model.lock, open(log, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"request": body, "answer": content}) + "\n")
            prompt = sum(len(str(m.get("content") or "")) for m in body.get("messages") or []) // 4
            self.send(200, {
                "id": "chatcmpl-replay", "object": "chat.completion", "created": 0,
                "model": body.get("model") or "replay",
                "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                             "message": {"role": "assistant", "content": content, "refusal": None}}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": len(content) // 4,
                          "total_tokens": prompt + len(content) // 4},
            })
    return H


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", required=True, help="CSV in run_defog.py's format")
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--mode", choices=["gold", "repair"], default="gold")
    ap.add_argument("--log", help="append every request and answer to this JSONL file")
    a = ap.parse_args()
    model = Model(a.questions, a.mode)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), handler(model, a.log))
    print(f"replay model ({a.mode}, {len(model.gold)} questions) on http://127.0.0.1:{a.port}/v1", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    print(json.dumps(model.stats), file=sys.stderr)


if __name__ == "__main__":
    main()

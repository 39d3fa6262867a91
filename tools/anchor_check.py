"""Plain BM25 over the FAQ *question* field, scored the way BERT-FAQ scores its COVID FAQ
baseline: each distinct user-query text once, relevant = every FAQ any copy of that text is
labelled with. It checks that `baton eval`'s "distinct query texts" row uses the published
anchor's protocol (its MAP should land near the anchor's 0.742), and shows what plain BM25 on
questions alone gives per row. A diagnostic run on the test file: nothing in Baton was chosen
with it. Standard library only.

    python3 tools/anchor_check.py [eval-data folder]   # default ../shared/eval-data
"""
import collections
import json
import math
import re
import sys
from pathlib import Path

K1, B = 1.2, 0.75


def tokens(text):
    return re.findall(r"\w+", text.lower())


def ranker(docs):
    docs = [tokens(d) for d in docs]
    n = len(docs)
    avg = sum(map(len, docs)) / n
    df = collections.Counter(w for d in docs for w in set(d))
    tfs = [collections.Counter(d) for d in docs]

    def scores(query):
        out = []
        for d, tf in zip(docs, tfs):
            s = 0.0
            for w in tokens(query):
                if w in tf:
                    idf = math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5))
                    s += idf * tf[w] * (K1 + 1) / (tf[w] + K1 * (1 - B + B * len(d) / avg))
            out.append(s)
        return out

    return scores


def measure(queries, ids, scores):
    rr = ap = 0.0
    for text, relevant in queries:
        s = scores(text)
        ranked = [ids[i] for i in sorted(range(len(ids)), key=lambda i: -s[i])]
        hits, precision_sum, first = 0, 0.0, None
        for rank, doc in enumerate(ranked, 1):
            if doc in relevant:
                hits += 1
                precision_sum += hits / rank
                first = first or rank
        rr += 1 / first
        ap += precision_sum / len(relevant)
    return rr / len(queries), ap / len(queries)


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/eval-data") / "covidfaq"
    faqs = [json.loads(line) for line in open(root / "faqs.jsonl")]
    rows = [json.loads(line) for line in open(root / "queries.jsonl")]
    ids = [str(f["faq_id"]) for f in faqs]
    scores = ranker([f["question"] for f in faqs])
    per_row = [(r["query"], {str(i) for i in r["faq_ids"]}) for r in rows]
    merged = collections.defaultdict(set)
    for text, relevant in per_row:
        merged[text] |= relevant
    for name, queries in [("per row", per_row), ("distinct texts", list(merged.items()))]:
        mrr, map_ = measure(queries, ids, scores)
        print(f"COVID FAQ, plain BM25 on questions, {name} ({len(queries)}): MRR {mrr:.3f} MAP {map_:.3f}")


main()

# bench/programs/python_workload.py — a small but real Python program whose allocations the README records and
# replays (run with PYTHONMALLOC=malloc so that every object goes through malloc): parses and writes JSON, builds
# and sorts records, counts words with regular expressions, and runs a few threads over a queue.
import collections
import json
import queue
import re
import threading

records = [{"id": i, "name": f"user{i:05d}", "tags": [f"t{i % 7}", f"g{i % 13}"], "score": (i * 7919) % 1000}
           for i in range(20000)]
text = json.dumps(records)
parsed = json.loads(text)
parsed.sort(key=lambda r: (r["score"], r["name"]))
by_tag = collections.defaultdict(list)
for r in parsed:
    for t in r["tags"]:
        by_tag[t].append(r["id"])

words = collections.Counter(re.findall(r"[a-z]+\d*", text))

results = queue.Queue()


def worker(chunk):
    results.put(sum(len(json.dumps(r)) for r in chunk))


threads = [threading.Thread(target=worker, args=(parsed[k::4],)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
total = sum(results.get() for _ in threads)

print(len(parsed), len(by_tag), len(words), total)

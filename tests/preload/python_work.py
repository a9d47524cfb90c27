# tests/preload/python_work.py — real Python work for the drop-in malloc test (run with PYTHONMALLOC=malloc, so
# every object is a malloc block): dicts, lists, strings, JSON, regular expressions, hashing, and four threads
# that build and drop containers concurrently. Prints only values that depend on the input, never on addresses.
import collections
import hashlib
import json
import re
import threading


def work(seed, results):
    table = {}
    for i in range(30000):
        key = "k%d_%d" % (seed, i * 7919 % 100003)
        table[key] = [i, str(i) * (i % 7), {"x": i, "y": [seed] * (i % 5)}]
        if i % 3 == 0:
            table.pop("k%d_%d" % (seed, (i // 2) * 7919 % 100003), None)
    text = json.dumps(sorted(table.items())[:3000])
    results[seed] = (len(table), hashlib.sha256(text.encode()).hexdigest())


results = {}
threads = [threading.Thread(target=work, args=(seed, results)) for seed in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for seed in sorted(results):
    print("thread", seed, *results[seed])

words = collections.Counter(re.findall(r"[a-z]+\d", " ".join("w%s%d" % ("abc"[i % 3] * (i % 4), i % 10) for i in range(60000))))
print("words", len(words), words.most_common(3))
big = [bytes(range(256)) * (1 + i % 1000) for i in range(300)]  # up to 256 KB each; some reallocs
print("bytes", sum(map(len, big)), hashlib.md5(b"".join(big)).hexdigest())

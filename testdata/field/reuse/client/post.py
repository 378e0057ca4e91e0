"""POSTs twice over one requests.Session, GAP seconds apart, and prints
each outcome (part of testdata/field/reuse, see README.md).

    python3 post.py URL GAP
"""
import sys
import time

import requests

url, gap = sys.argv[1], float(sys.argv[2])
with requests.Session() as s:
    for i in (1, 2):
        if i > 1:
            time.sleep(gap)
        try:
            r = s.post(url, json={"order": i}, timeout=10)
            print(f"request {i}: {r.status_code}")
        except requests.RequestException as e:
            print(f"request {i}: {type(e).__name__}: {e}")

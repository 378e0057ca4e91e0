# python3 get.py ROOT URL: one GET with requests (urllib3 tries the
# addresses one after another, each after the one before failed).
import sys, time, requests
start = time.monotonic()
try:
    r = requests.get(sys.argv[2], verify=sys.argv[1], timeout=3)
    print("python: %d (after %d ms)" % (r.status_code, (time.monotonic() - start) * 1000))
except Exception as e:
    print("python: %s (after %d ms)" % (e, (time.monotonic() - start) * 1000), file=sys.stderr)
    sys.exit(1)

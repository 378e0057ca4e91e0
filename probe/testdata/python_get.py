# python_get.py URL: GET URL with urllib and leave an error uncaught, so
# that Python prints its traceback as it does for any program. When
# PYTHON_GET_ADDR is set, every name resolves to that address (no DNS
# lookup). The CA file is the default context's: SSL_CERT_FILE.
import os, socket, sys, urllib.request

addr = os.environ.get("PYTHON_GET_ADDR")
if addr:
    lookup = socket.getaddrinfo
    socket.getaddrinfo = lambda host, *a, **kw: lookup(addr, *a, **kw)
with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
    print(r.status)

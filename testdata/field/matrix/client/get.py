"""The python clients of the matrix captures:
python3 get.py requests|urllib ROOTS normal|max12|min13 URL."""
import ssl
import sys

how, roots, mode, url = sys.argv[1:]
ctx = ssl.create_default_context(cafile=roots)
if mode == "max12":
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
if mode == "min13":
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
if how == "urllib":
    import urllib.request
    r = urllib.request.urlopen(url, context=ctx, timeout=10)
    print(r.status, r.read())
else:
    import requests
    from requests.adapters import HTTPAdapter

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *a, **kw):
            kw["ssl_context"] = ctx
            return super().init_poolmanager(*a, **kw)

    s = requests.Session()
    if mode != "normal":
        s.mount("https://", Adapter())
    r = s.get(url, verify=roots, timeout=10)
    print(r.status_code, r.text)

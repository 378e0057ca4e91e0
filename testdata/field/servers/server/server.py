"""The Python server of the server captures (see ../README.md): http.server
with the ssl module, made to fail in one way, or plain HTTP.

    python3 server.py HOST PORT CERT KEY [min13|max12|cipher|clientca=FILE|sni=NAME|plain]
"""
import http.server
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok\n")


host, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
mode = sys.argv[5] if len(sys.argv) > 5 else ""
httpd = http.server.HTTPServer((host, port), Handler)
if mode != "plain":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if mode == "min13":
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    elif mode == "max12":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif mode == "cipher":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-ECDSA-CAMELLIA256-SHA384")
    elif mode.startswith("clientca="):
        ctx.load_verify_locations(mode[len("clientca="):])
        ctx.verify_mode = ssl.CERT_REQUIRED
    elif mode.startswith("sni="):
        want = mode[len("sni="):]

        def check(sock, name, c):
            if name != want:
                return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
            return None

        ctx.sni_callback = check
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
httpd.serve_forever()

"""The Python HTTPS servers of testdata/field/nodepy (see ../README.md).

    python3 server.py PORT CERT KEY KIND [TIMEOUT]

KIND http.server: the standard library's ThreadingHTTPServer speaking
HTTP/1.1 (keep-alive), wrapped in ssl.SSLContext; TIMEOUT, when given,
is the request handler's `timeout` (seconds), which closes a connection
idle that long. KIND werkzeug: Flask's development server (Werkzeug)
with ssl_context=(CERT, KEY).
"""

import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    port, cert, key, kind = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    if kind == "werkzeug":
        from flask import Flask

        app = Flask("nodepy")

        @app.route("/", methods=["GET", "POST"])
        def ok():
            return "ok\n"

        app.run(host="10.91.0.2", port=port, ssl_context=(cert, key))
        return

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        if len(sys.argv) > 5:
            timeout = float(sys.argv[5])

        def answer(self):
            n = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(n)
            body = b"ok\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = answer
        do_POST = answer

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = ThreadingHTTPServer(("10.91.0.2", port), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()

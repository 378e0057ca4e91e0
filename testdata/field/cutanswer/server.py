"""An HTTPS server that answers each request late, with a large body.

python3 server.py CERT KEY ADDR PORT DELAY SIZE: after a request, waits
DELAY seconds, then answers 200 with SIZE bytes in one write, so that the
answer's first TLS record holds its head and spans several segments.
"""
import http.server
import ssl
import sys
import time

cert, key, addr, port, delay, size = sys.argv[1:7]


class Late(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(float(delay))
        body = b"x" * int(size)
        # One write: the head and the body share the first record.
        head = "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
        self.wfile.write(head.encode() + body)

    def log_message(self, *args):
        pass


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = http.server.HTTPServer((addr, int(port)), Late)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()

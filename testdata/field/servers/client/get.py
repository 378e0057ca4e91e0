"""The Python client of the server captures: one GET over the ssl module.

    python3 get.py HOST PORT NAME ROOT [cert=C.pem,key=K.key] [max12|min13|h1|plain]...
"""
import socket
import ssl
import sys

host, port, name, root = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
opts = sys.argv[5:]
sock = socket.create_connection((host, port), timeout=10)
if "plain" not in opts:
    ctx = ssl.create_default_context(cafile=root)
    ctx.set_alpn_protocols(["http/1.1"])
    for o in opts:
        if o == "max12":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        elif o == "min13":
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        elif o.startswith("cert="):
            c, k = o[5:].split(",key=")
            ctx.load_cert_chain(c, k)
    sock = ctx.wrap_socket(sock, server_hostname=name)
sock.sendall(("GET / HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n" % (name, port)).encode())
data = b""
while True:
    b = sock.recv(4096)
    if not b:
        break
    data += b
print(data[:200])

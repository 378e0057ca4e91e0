"""A TLS probe that hangs up without an alert, as health checks and
scanners do: it sends the ClientHello of Python's ssl (OpenSSL), reads the
server's flight for a second, and closes the socket (FIN, no alert).

    python3 probe.py HOST PORT SERVER_NAME
"""
import socket
import ssl
import sys

host, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(incoming, outgoing, server_hostname=name)
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
with socket.create_connection((host, port)) as s:
    s.sendall(outgoing.read())
    s.settimeout(1)
    got = 0
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += len(d)
    except socket.timeout:
        pass
    print("read", got, "bytes of the server's flight; closing without an alert")

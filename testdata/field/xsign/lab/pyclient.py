import socket, ssl, sys
port, roots = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=roots)
try:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="good.test") as t:
            t.sendall(b"GET / HTTP/1.1\r\nHost: good.test\r\nConnection: close\r\n\r\n")
            print("OK", t.recv(100).split(b"\r\n")[0])
except Exception as e:
    print("ERR", repr(e))

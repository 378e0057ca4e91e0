"""A gRPC health check (grpc.health.v1.Health/Check, 2 s deadline) with
Python grpcio (gRPC C-core) over TLS: python3 grpc_check.py HOST:PORT CA.pem
The request and the answer are raw bytes: an empty HealthCheckRequest is an
empty message, so no generated code is needed."""
import sys

import grpc

target, ca = sys.argv[1], sys.argv[2]
creds = grpc.ssl_channel_credentials(open(ca, "rb").read())
with grpc.secure_channel(target, creds, options=[("grpc.ssl_target_name_override", "grpc.test")]) as ch:
    check = ch.unary_unary("/grpc.health.v1.Health/Check")
    try:
        print("client: answer of", len(check(b"", timeout=2)), "bytes")
    except grpc.RpcError as e:
        print("client error:", e.code(), e.details())

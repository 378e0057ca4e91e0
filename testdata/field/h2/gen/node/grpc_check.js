// A gRPC health check (grpc.health.v1.Health/Check, 2 s deadline) with
// @grpc/grpc-js over TLS: node grpc_check.js HOST:PORT CA.pem
// The request and the answer are raw bytes: an empty HealthCheckRequest
// is an empty message, so no .proto is needed.
const grpc = require('@grpc/grpc-js');
const fs = require('fs');
const [target, caFile] = process.argv.slice(2);
const creds = grpc.credentials.createSsl(fs.readFileSync(caFile));
const client = new grpc.Client(target, creds, { 'grpc.ssl_target_name_override': 'grpc.test', 'grpc.default_authority': 'grpc.test' });
const id = (b) => b;
client.makeUnaryRequest('/grpc.health.v1.Health/Check', id, id, Buffer.alloc(0), { deadline: Date.now() + 2000 }, (err, resp) => {
  if (err) console.log('client error:', err.code, err.details);
  else console.log('client: answer of', resp.length, 'bytes');
  client.close();
});

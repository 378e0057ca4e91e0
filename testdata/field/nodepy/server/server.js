// Command server.js is the Node.js HTTPS server of testdata/field/nodepy
// (see ../README.md): https.createServer answering every request with
// "ok", its keep-alive timeout left at Node's default (5 s) or set.
//
//	node server.js PORT CERT KEY [KEEPALIVE_MS] [KEYLOG]
'use strict';
const fs = require('fs');
const https = require('https');

const [port, cert, key, keepAlive, keyLog] = process.argv.slice(2);
const server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
  req.resume();
  req.on('end', () => {
    res.setHeader('Content-Type', 'text/plain');
    res.end('ok\n');
  });
});
if (keepAlive) {
  server.keepAliveTimeout = Number(keepAlive);
}
if (keyLog) {
  server.on('keylog', (line) => fs.appendFileSync(keyLog, line));
}
server.listen(Number(port), '::', () => {
  console.log(`listening on ${port}, keepAliveTimeout ${server.keepAliveTimeout} ms`);
});

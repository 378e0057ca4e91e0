// The Node.js https server of the server captures (see ../README.md): an
// HTTPS server made to fail in one way, or a plain HTTP one.
//
//   node server.js HOST PORT CERT KEY [min13|max12|cipher|clientca=FILE|alpn|sni=NAME|plain]
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');
const tls = require('tls');

const [host, port, certFile, keyFile, mode = ''] = process.argv.slice(2);
const handler = (req, res) => { res.end('ok\n'); };
if (mode === 'plain') {
  http.createServer(handler).listen(port, host);
} else {
  const o = { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) };
  if (mode === 'min13') o.minVersion = 'TLSv1.3';
  if (mode === 'max12') o.maxVersion = 'TLSv1.2';
  if (mode === 'cipher') { o.maxVersion = 'TLSv1.2'; o.ciphers = 'ECDHE-ECDSA-CAMELLIA256-SHA384'; }
  if (mode.startsWith('clientca=')) {
    o.ca = fs.readFileSync(mode.slice(9));
    o.requestCert = true;
    o.rejectUnauthorized = true;
  }
  if (mode === 'alpn') o.ALPNProtocols = ['h2'];
  if (mode.startsWith('sni=')) {
    const ctx = tls.createSecureContext(o);
    o.SNICallback = (name, cb) => {
      if (name === mode.slice(4)) cb(null, ctx);
      else cb(new Error('unknown server name ' + name));
    };
  }
  https.createServer(o, handler).listen(port, host);
}

// GET / with Node's http2 module: node h2_get.js https://IP:PORT/ NAME CA.pem
const http2 = require('http2');
const fs = require('fs');
const [url, name, caFile] = process.argv.slice(2);
const s = http2.connect(url, { ca: fs.readFileSync(caFile), servername: name });
s.on('error', (e) => { console.log('client error:', e.code, e.message); });
s.on('goaway', (code) => console.log('client: GOAWAY received, code', code));
const req = s.request({ ':path': '/' });
req.on('response', (h) => console.log('client: status', h[':status']));
req.on('error', (e) => console.log('client error (stream):', e.code, e.message));
req.resume();
req.on('end', () => s.close());
setTimeout(() => { s.destroy(); }, 3000).unref();

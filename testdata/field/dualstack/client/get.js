// node get.js ROOT URL: one GET with Node.js's https module and its
// defaults (autoSelectFamily: Happy Eyeballs, 250 ms in Node.js 20).
const fs = require('fs'), https = require('https');
const start = Date.now();
const req = https.get(process.argv[3], { ca: fs.readFileSync(process.argv[2]), timeout: 6000 }, (res) => {
  res.resume();
  res.on('end', () => { console.log(`node: ${res.statusCode} (after ${Date.now() - start} ms)`); });
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (e) => { console.error(`node: ${e.message} (after ${Date.now() - start} ms)`); process.exitCode = 1; });

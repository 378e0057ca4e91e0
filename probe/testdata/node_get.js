// node_get.js URL: GET URL with Node's https module and leave an error
// unhandled, so that Node prints it as it prints any program's uncaught
// error. NODE_GET_CA names the only CA file to trust; NODE_GET_ADDR, when
// set, is the address every name resolves to (no DNS lookup).
const https = require('https'), fs = require('fs');
const opts = {};
if (process.env.NODE_GET_CA) opts.ca = fs.readFileSync(process.env.NODE_GET_CA);
if (process.env.NODE_GET_ADDR) {
  const addr = process.env.NODE_GET_ADDR;
  opts.lookup = (host, o, cb) => o && o.all ? cb(null, [{address: addr, family: 4}]) : cb(null, addr, 4);
}
https.get(process.argv[2], opts, r => { console.log(r.statusCode); r.resume(); });

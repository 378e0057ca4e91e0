// The node clients of the matrix captures: node get.js https|fetch URL.
// The roots come from NODE_EXTRA_CA_CERTS, the TLS versions from
// --tls-max-v1.2 / --tls-min-v1.3.
const [how, url] = process.argv.slice(2);
if (how === 'fetch') {
  fetch(url).then(async r => console.log(r.status, await r.text()), e => { console.error(e.cause || e); process.exit(1); });
} else {
  require('https').get(url, r => { r.setEncoding('utf8'); let b = ''; r.on('data', d => b += d); r.on('end', () => console.log(r.statusCode, b)); })
    .on('error', e => { console.error(e); process.exit(1); });
}

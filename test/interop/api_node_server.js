// api_node_server.js: Node's http2.createSecureServer for `h2 get`: /hello
// (plain), /trailers (body + trailers), /info (103 then 200), /big (4 MiB).
// Usage: node api_node_server.js PORT KEY CERT
'use strict';
const http2 = require('http2');
const fs = require('fs');
const [port, key, cert] = process.argv.slice(2);
const big = Buffer.alloc(4 << 20);
for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
const server = http2.createSecureServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) });
server.on('stream', (stream, headers) => {
  const p = headers[':path'];
  if (p === '/hello') { stream.respond({ ':status': 200 }); stream.end('hello from node\n'); }
  else if (p === '/trailers') {
    stream.respond({ ':status': 200 }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'ok' }));
    stream.end('body with trailers\n');
  } else if (p === '/info') {
    stream.additionalHeaders({ ':status': 103, link: '</a.css>; rel=preload' });
    stream.respond({ ':status': 200 }); stream.end('after 103\n');
  } else if (p === '/big') { stream.respond({ ':status': 200, 'content-length': big.length }); stream.end(big); }
  else { stream.respond({ ':status': 404 }); stream.end(); }
});
server.listen(Number(port), '127.0.0.1', () => console.log('listening'));

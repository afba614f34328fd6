// node_server.js: Node's http2 server as an e2e peer. Serves the files of one
// directory: small files (< 1 MiB) from memory, larger ones with
// respondWithFile. Usage: node node_server.js PORT DIR [KEY CERT]
// Prints "listening PORT" once ready.
'use strict';
const http2 = require('http2');
const fs = require('fs');
const path = require('path');

const [port, dir, key, cert] = process.argv.slice(2);
const cache = new Map();
for (const name of fs.readdirSync(dir)) {
  const p = path.join(dir, name);
  const st = fs.statSync(p);
  if (st.isFile() && st.size < (1 << 20)) cache.set('/' + name, fs.readFileSync(p));
}

function onStream(stream, headers) {
  const p = headers[':path'] || '/';
  const body = cache.get(p);
  if (body) {
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream',
                     'content-length': body.length });
    stream.end(body);
    return;
  }
  const file = path.join(dir, path.normalize(p).replace(/^(\.\.[\/\\])+/, ''));
  stream.respondWithFile(file, { 'content-type': 'application/octet-stream' }, {
    onError: () => { if (!stream.destroyed) { stream.respond({ ':status': 404 }); stream.end(); } },
  });
}

const opts = { maxSessionMemory: 1000, peerMaxConcurrentStreams: 1000,
               settings: { maxConcurrentStreams: 1000 } };
let server;
if (key) {
  server = http2.createSecureServer(Object.assign({ key: fs.readFileSync(key),
                                                    cert: fs.readFileSync(cert) }, opts));
} else {
  server = http2.createServer(opts);
}
server.on('stream', onStream);
server.on('sessionError', () => {});
server.listen(Number(port), '127.0.0.1', () => console.log('listening ' + port));

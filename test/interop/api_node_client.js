// api_node_client.js: Node's http2 client against `h2 serve`. Prints TAP
// lines. Usage: node api_node_client.js URL DOCROOT [CAFILE]
'use strict';
const http2 = require('http2');
const fs = require('fs');
const crypto = require('crypto');
const [url, doc, ca] = process.argv.slice(2);
const opts = ca ? { ca: fs.readFileSync(ca) } : {};
let failures = 0;
const ok = (c, name, why) => { if (c) console.log('ok - ' + name); else { failures++; console.log('not ok - ' + name + (why ? ' # ' + why : '')); } };

const client = http2.connect(url, opts);
client.on('error', (e) => { ok(false, 'node session', String(e)); process.exit(1); });
const timer = setTimeout(() => { ok(false, 'node client finished in time'); process.exit(1); }, 30000);

function get(path) {
  return new Promise((resolve, reject) => {
    const req = client.request({ ':path': path });
    let status = 0; const chunks = [];
    req.on('response', (h) => { status = h[':status']; });
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
    req.on('error', reject);
    req.end();
  });
}

(async () => {
  const small = await get('/small.txt');
  ok(small.status === 200 && small.body.equals(fs.readFileSync(doc + '/small.txt')), 'node GET small byte-equal');
  const rs = await Promise.all(Array.from({ length: 20 }, () => get('/medium.bin')));
  const want = fs.readFileSync(doc + '/medium.bin');
  ok(rs.every((r) => r.status === 200 && r.body.equals(want)), 'node 20 concurrent streams byte-equal');
  const nf = await get('/missing');
  ok(nf.status === 404, 'node GET 404');
  const body = crypto.randomBytes(1 << 20);
  const up = await new Promise((resolve, reject) => {
    const req = client.request({ ':method': 'POST', ':path': '/up' });
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
    req.end(body);
  });
  const digest = crypto.createHash('sha256').update(body).digest('hex');
  ok(up === `${body.length} ${digest}\n`, 'node POST 1 MiB digest', up);
  // expect: 100-continue: the body goes only after the server's 100 ('continue')
  const cont = await new Promise((resolve, reject) => {
    const req = client.request({ ':method': 'PUT', ':path': '/up', expect: '100-continue' });
    let continued = false; const chunks = [];
    req.on('continue', () => { continued = true; req.end(body); });
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve({ continued, text: Buffer.concat(chunks).toString() }));
    req.on('error', reject);
  });
  ok(cont.continued && cont.text === `${body.length} ${digest}\n`, 'node PUT with expect: 100-continue gets 100, then the digest', JSON.stringify(cont));
  await new Promise((resolve) => client.ping(Buffer.from('abcdefgh'), (err, dur, payload) => {
    ok(!err && payload.toString() === 'abcdefgh', 'node ping answered', String(err)); resolve();
  }));
  ok(client.remoteSettings && client.remoteSettings.maxConcurrentStreams > 0, 'node sees remote settings');
  clearTimeout(timer);
  client.close(() => process.exit(failures ? 1 : 0));
})().catch((e) => { ok(false, 'node client', String(e)); process.exit(1); });

#!/usr/bin/env node
// SCRAM-SHA-256 logins through the Querent proxy with node-postgres (its own SCRAM code), on
// plain TCP and on TLS verified against the test CA.
// Usage: node scram_login_test.js PROXY_PORT USER PASSWORD CA_PEM  (proxy: --auth scram + TLS)
'use strict';
const fs = require('node:fs');
const { Client } = require('pg');

const [port, user, password, caFile] = process.argv.slice(2);
const ca = fs.readFileSync(caFile);

async function attempt(ssl, u, pw) {
  const c = new Client({ host: 'localhost', port: Number(port), database: 'test', user: u, password: pw, ssl, connectionTimeoutMillis: 10000 });
  try {
    await c.connect();
    const r = await c.query('SELECT current_user AS u, $1::text AS p', ['param']);
    return { rows: r.rows };
  } catch (e) {
    return { code: e.code, message: e.message };
  } finally {
    await c.end().catch(() => {});
  }
}

(async () => {
  for (const [label, ssl] of [
    ['plain', false],
    ['tls', { ca, servername: 'localhost' }],
  ]) {
    const good = await attempt(ssl, user, password);
    if (JSON.stringify(good.rows) !== JSON.stringify([{ u: 'root', p: 'param' }])) throw new Error(`${label}: right password: ${JSON.stringify(good)}`);
    const wrong = await attempt(ssl, user, `wrong-${password}`);
    if (wrong.code !== '28P01') throw new Error(`${label}: wrong password: ${JSON.stringify(wrong)}`);
    const unknown = await attempt(ssl, `nosuch_${port}`, password);
    if (unknown.code !== '28P01') throw new Error(`${label}: unknown user: ${JSON.stringify(unknown)}`);
    console.log(`ok - node-postgres SCRAM over ${label}: right password works, 28P01 for a wrong password or an unknown user`);
  }
  console.log('scram node: all checks passed');
})().catch((e) => {
  console.error(`FAIL [scram node]: ${e.message}`);
  process.exit(1);
});

#!/usr/bin/env node
// node-postgres (`pg`) against the Querent proxy, checked against exact values and against
// PostgreSQL directly.
//
// Usage: node pg_client_test.js [PROXY_URL [DIRECT_URL]]
//   PROXY_URL  postgres:// URL of the proxy (or env QUERENT_URL)
//   DIRECT_URL postgres:// URL of the upstream (or env PG_DIRECT_URL;
//              default postgres://root@127.0.0.1:5432/test)
// Exits non-zero with a message naming the first mismatch.
'use strict';

const assert = require('node:assert/strict');
const { Client } = require('pg');

const PROXY = process.argv[2] || process.env.QUERENT_URL;
const DIRECT = process.argv[3] || process.env.PG_DIRECT_URL || 'postgres://root@127.0.0.1:5432/test';
if (!PROXY) {
  console.error('usage: node pg_client_test.js PROXY_URL [DIRECT_URL] (or QUERENT_URL)');
  process.exit(2);
}
const TAG = (PROXY.split('@').pop().match(/\d+/g) || []).join('').slice(-9) || String(process.pid);
const SCHEMA = `querent_node_${TAG}`;

function ok(msg) {
  console.log(`ok - ${msg}`);
}

async function connect(url) {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 10000 });
  await c.connect();
  return c;
}

async function parameterized(client, direct) {
  const text =
    'SELECT $1::int4 AS i4, $2::int8 AS i8, $3::numeric AS num, $4::float8 AS f8, $5::bool AS b,' +
    ' $6::text AS t, $7::bytea AS ba, $8::date AS d, $9::timestamptz AS tstz, $10::uuid AS u,' +
    ' $11::jsonb AS j, $12::int4[] AS arr, $13::text[] AS tarr, $14::text AS n, $15::interval AS iv';
  const values = [
    -2147483648,
    '9223372036854775807',
    '-12345678901234567890.000123456789',
    3.141592653589793,
    true,
    'héllo ☃ "quoted" \\ \'single\'',
    Buffer.from([0, 255, 16, 222, 173]),
    '2024-02-29',
    new Date(Date.UTC(2024, 2, 10, 12, 34, 56, 789)),
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    { a: [1, 2.5, null, 'x'], b: { c: true } },
    [1, null, 3],
    ['x', 'y z', null, ''],
    null,
    '1 day 02:03:04.5',
  ];
  const res = await client.query(text, values);
  assert.equal(res.rowCount, 1);
  const r = res.rows[0];
  assert.deepEqual(
    res.fields.map((f) => f.name),
    ['i4', 'i8', 'num', 'f8', 'b', 't', 'ba', 'd', 'tstz', 'u', 'j', 'arr', 'tarr', 'n', 'iv'],
  );
  assert.strictEqual(r.i4, -2147483648);
  assert.strictEqual(r.i8, '9223372036854775807');
  assert.strictEqual(r.num, '-12345678901234567890.000123456789');
  assert.strictEqual(r.f8, 3.141592653589793);
  assert.strictEqual(r.b, true);
  assert.strictEqual(r.t, values[5]);
  assert.ok(Buffer.isBuffer(r.ba) && r.ba.equals(values[6]), `bytea ${r.ba && r.ba.toString('hex')}`);
  assert.ok(r.d instanceof Date, 'date parsed');
  assert.strictEqual(r.tstz.getTime(), values[8].getTime());
  assert.strictEqual(r.u, values[9]);
  assert.deepEqual(r.j, values[10]);
  assert.deepEqual(r.arr, [1, null, 3]);
  assert.deepEqual(r.tarr, ['x', 'y z', null, '']);
  assert.strictEqual(r.n, null);
  assert.deepEqual({ ...r.iv }, { days: 1, hours: 2, minutes: 3, seconds: 4, milliseconds: 500 });
  const d = await direct.query(text, values);
  assert.deepEqual(res.rows, d.rows, 'rows proxy vs direct');
  assert.deepEqual(
    res.fields.map((f) => [f.name, f.dataTypeID, f.format]),
    d.fields.map((f) => [f.name, f.dataTypeID, f.format]),
    'fields proxy vs direct',
  );
  const big = await client.query('SELECT g, md5(g::text) AS h FROM generate_series(1, $1::int) g', [5000]);
  assert.equal(big.rowCount, 5000);
  assert.deepEqual(big.rows[4999], { g: 5000, h: 'a35fe7f7fe8217b4369a0af4244d1fca' });
  ok('parameterized query: 15 typed parameters/columns exact and equal to direct; 5000-row result');
}

async function namedPrepared(client) {
  const name = `querent_stmt_${TAG}`;
  for (let i = 0; i < 25; i++) {
    const res = await client.query({ name, text: 'SELECT $1::int * 2 AS x, $2::text AS y', values: [i, `v${i}`] });
    assert.deepEqual(res.rows, [{ x: i * 2, y: `v${i}` }], `named statement execution ${i}`);
  }
  const ps = await client.query('SELECT name, statement, parameter_types::text[] AS types FROM pg_prepared_statements WHERE name = $1', [name]);
  assert.deepEqual(ps.rows, [{ name, statement: 'SELECT $1::int * 2 AS x, $2::text AS y', types: ['integer', 'text'] }], 'server-side statement');
  ok('named prepared statement executed 25 times, parsed once on the server');
}

async function rowModeArray(client) {
  const res = await client.query({
    text: 'SELECT 1 AS a, $1::text AS a, NULL::int AS c UNION ALL SELECT 2, $2, 3',
    values: ['x', 'y'],
    rowMode: 'array',
  });
  assert.deepEqual(res.rows, [
    [1, 'x', null],
    [2, 'y', 3],
  ]);
  assert.deepEqual(
    res.fields.map((f) => f.name),
    ['a', 'a', 'c'],
  );
  const simple = await client.query({ text: 'SELECT 1, 2; SELECT 3', rowMode: 'array' });
  assert.ok(Array.isArray(simple) && simple.length === 2, 'multi-statement simple query gives two results');
  assert.deepEqual(simple[0].rows, [[1, 2]]);
  assert.deepEqual(simple[1].rows, [[3]]);
  ok("rowMode 'array' (duplicate column names) and a multi-statement simple query");
}

async function transaction(client, direct) {
  await client.query(`CREATE TABLE ${SCHEMA}.tx (id int PRIMARY KEY, v text)`);
  await client.query('BEGIN');
  await client.query(`INSERT INTO ${SCHEMA}.tx VALUES ($1, $2)`, [1, 'rolled back']);
  assert.equal((await direct.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.tx`)).rows[0].n, 0, 'uncommitted row visible directly');
  await client.query('ROLLBACK');
  await client.query('BEGIN');
  await client.query(`INSERT INTO ${SCHEMA}.tx VALUES ($1, $2)`, [2, 'committed']);
  await client.query('SAVEPOINT s');
  await assert.rejects(client.query(`INSERT INTO ${SCHEMA}.tx VALUES ($1, $2)`, [2, 'dup']), (e) => e.code === '23505');
  await assert.rejects(client.query('SELECT 1'), (e) => e.code === '25P02', 'in failed transaction');
  await client.query('ROLLBACK TO SAVEPOINT s');
  await client.query(`INSERT INTO ${SCHEMA}.tx VALUES ($1, $2)`, [3, 'after savepoint']);
  await client.query('COMMIT');
  const rows = (await direct.query(`SELECT id, v FROM ${SCHEMA}.tx ORDER BY id`)).rows;
  assert.deepEqual(rows, [
    { id: 2, v: 'committed' },
    { id: 3, v: 'after savepoint' },
  ]);
  ok('transaction: rollback, 23505 then 25P02 in a failed transaction, savepoint, commit as seen directly');
}

async function errors(client) {
  for (const [text, values] of [
    ['SELECT 1/0', undefined],
    ['SELECT $1::int / $2::int', [1, 0]],
  ]) {
    await assert.rejects(client.query(text, values), (e) => {
      assert.equal(e.code, '22012');
      assert.equal(e.message, 'division by zero');
      assert.equal(e.severity, 'ERROR');
      return true;
    });
  }
  await assert.rejects(client.query('SELECT * FROM querent_no_such_table_xyz'), (e) => {
    assert.equal(e.code, '42P01');
    assert.equal(e.message, 'relation "querent_no_such_table_xyz" does not exist');
    assert.equal(e.position, '15');
    return true;
  });
  await assert.rejects(client.query({ name: `bad_${TAG}`, text: 'SELEC 1' }), (e) => e.code === '42601');
  await assert.rejects(
    client.query("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'QX123', MESSAGE = 'custom', DETAIL = 'd', HINT = 'h'; END $$"),
    (e) => {
      assert.deepEqual([e.code, e.message, e.detail, e.hint], ['QX123', 'custom', 'd', 'h']);
      return true;
    },
  );
  assert.equal((await client.query("SELECT 'still usable' AS s")).rows[0].s, 'still usable');
  ok('errors keep code and message (22012 simple and extended, 42P01 with position, 42601, QX123 with detail/hint)');
}

async function notifications(client, direct, other) {
  const chan = `querent_chan_${TAG}`;
  const got = [];
  let wake;
  client.on('notification', (n) => {
    got.push([n.channel, n.payload]);
    if (wake) wake();
  });
  await client.query(`LISTEN ${chan}`);
  await direct.query('SELECT pg_notify($1, $2)', [chan, 'from direct']);
  await other.query(`NOTIFY ${chan}, 'from another proxy client ☃'`);
  const deadline = Date.now() + 10000;
  while (got.length < 2 && Date.now() < deadline) {
    await new Promise((resolve) => {
      wake = resolve;
      setTimeout(resolve, 200);
    });
  }
  assert.deepEqual(got, [
    [chan, 'from direct'],
    [chan, 'from another proxy client ☃'],
  ]);
  await client.query(`UNLISTEN ${chan}`);
  ok('LISTEN: notifications from a direct client and from another proxy client delivered while idle');
}

async function main() {
  const direct = await connect(DIRECT);
  await direct.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await direct.query(`CREATE SCHEMA ${SCHEMA}`);
  let client;
  let other;
  try {
    client = await connect(PROXY);
    other = await connect(PROXY);
    await parameterized(client, direct);
    await namedPrepared(client);
    await rowModeArray(client);
    await transaction(client, direct);
    await errors(client);
    await notifications(client, direct, other);
  } finally {
    if (client) await client.end();
    if (other) await other.end();
    await direct.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await direct.end();
  }
  console.log('node-postgres: all checks passed');
}

const timer = setTimeout(() => {
  console.error('FAIL [node-postgres]: timed out after 120s');
  process.exit(1);
}, 120000);
main().then(
  () => clearTimeout(timer),
  (e) => {
    console.error(`FAIL [node-postgres]: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
  },
);

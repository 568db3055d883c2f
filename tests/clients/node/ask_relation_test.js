#!/usr/bin/env node
// ask('...') as a relation through node-postgres (`pg`): the simple protocol (a query without
// values), the extended one (values: Parse/Bind/Describe/Execute), a named prepared statement
// with $1 outside the call, rowMode array, checked against PostgreSQL directly.
//
// Usage: node ask_relation_test.js PORT ADMIN:PASSWORD ALICE:PASSWORD
// Env: QUERENT_DB (default querent_retail), PG_DIRECT_URL (default
// postgres://root@127.0.0.1:5432/<QUERENT_DB>).
// Prints "ok - ..." per check, "skip - ..." for ask_insights() while the server answers 0A000,
// and exits non-zero naming the first mismatch.
'use strict';

const assert = require('node:assert/strict');
const { Client } = require('pg');

if (process.argv.length !== 5) {
  console.error('usage: node ask_relation_test.js PORT ADMIN:PASSWORD ALICE:PASSWORD');
  process.exit(2);
}
const PORT = Number(process.argv[2]);
const split = (s) => [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1)];
const [ADMIN, ADMIN_PW] = split(process.argv[3]);
const [ALICE, ALICE_PW] = split(process.argv[4]);
const DB = process.env.QUERENT_DB || 'querent_retail';
const DIRECT = process.env.PG_DIRECT_URL || `postgres://root@127.0.0.1:5432/${DB}`;

const Q = 'revenue by region in 2024';
const TEXT_OID = 25;
const NUMERIC_OID = 1700;
const FLOAT8_OID = 701;
const TRUTH_SQL = `
SELECT r.name AS region, sum(oi.quantity * oi.unit_price * (1 - oi.discount)) AS revenue
FROM retail.order_items oi JOIN retail.orders o ON o.order_id = oi.order_id
JOIN retail.stores s ON s.store_id = o.store_id JOIN retail.regions r ON r.region_id = s.region_id
WHERE o.status = 'completed' AND o.order_date >= DATE '2024-01-01' AND o.order_date < DATE '2025-01-01'
GROUP BY r.name ORDER BY r.name`;
const SUPERSET = `SELECT region, revenue FROM (SELECT * FROM ask('${Q}')) AS virtual_table LIMIT 1000`;
const TABLEAU = `SELECT * FROM (SELECT * FROM ask('${Q}')) "Custom SQL Query" WHERE 1=0`;
const CTE = `WITH a AS (SELECT * FROM ask('${Q}')) SELECT region, revenue FROM a WHERE revenue > 0 ORDER BY revenue DESC`;

function ok(msg) {
  console.log(`ok - ${msg}`);
}

function fields(res) {
  return res.fields.map((f) => [f.name, f.dataTypeID]);
}

function regionRevenue(res, what) {
  assert.deepEqual(fields(res), [['region', TEXT_OID], ['revenue', NUMERIC_OID]], `${what}: fields`);
}

// pg gives numeric as a string: compare the exact text PostgreSQL sends.
function sameRows(res, truth, what) {
  const got = res.rows.map((r) => (Array.isArray(r) ? r : [r.region, r.revenue])).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  assert.deepEqual(got, truth, `${what}: rows`);
}

// ask_insights(): (kind text, text text, score float8, columns text) rows, none naming what the
// user may not see (`forbidden`). A server without it answers 0A000: a printed skip.
async function insights(c, who, forbidden) {
  let res;
  try {
    res = await c.query(`SELECT * FROM ask_insights('${Q}')`);
  } catch (e) {
    if (e.code === '0A000') {
      console.log(`skip - ${who}: ask_insights() answers 0A000 (${e.message})`);
      return;
    }
    throw e;
  }
  assert.deepEqual(
    fields(res),
    [['kind', TEXT_OID], ['text', TEXT_OID], ['score', FLOAT8_OID], ['columns', TEXT_OID]],
    `${who}: ask_insights columns`,
  );
  assert.ok(res.rows.length >= 1, `${who}: ask_insights gave no rows`);
  for (const r of res.rows) {
    assert.ok(r.kind && r.text, `${who}: ask_insights row without kind/text: ${JSON.stringify(r)}`);
    assert.equal(typeof r.score, 'number', `${who}: score ${r.score}`);
    for (const word of forbidden) {
      assert.ok(!r.text.includes(word), `${who}: ask_insights text names ${word}: ${r.text}`);
    }
  }
  ok(`${who}: ask_insights ${res.rows.length} rows`);
}

async function run(user, password, truth, forbidden) {
  const who = `node-postgres ${user}`;
  const c = new Client({ host: '127.0.0.1', port: PORT, user, password, database: DB, connectionTimeoutMillis: 10000 });
  await c.connect();
  try {
    // No values: the simple Query protocol.
    let res = await c.query(`SELECT * FROM ask('${Q}')`);
    regionRevenue(res, `${who} simple`);
    sameRows(res, truth, `${who} simple`);
    ok(`${who}: SELECT * FROM ask() (simple protocol) -> ${res.rows.length} rows`);
    // With values: the extended protocol, $1 outside the call.
    const param = `SELECT * FROM ask('${Q}') WHERE revenue > $1`;
    res = await c.query(param, ['0']);
    regionRevenue(res, `${who} extended`);
    sameRows(res, truth, `${who} extended`);
    res = await c.query(param, ['1000000000000']);
    assert.equal(res.rows.length, 0, `${who}: revenue > 1e12 gave rows`);
    ok(`${who}: $1 outside the call (extended protocol)`);
    // A named statement, parsed once and executed twice.
    const name = `ask_relation_${user}_${process.pid}`;
    for (const floor of ['0', '1']) {
      res = await c.query({ name, text: param, values: [floor] });
      sameRows(res, truth, `${who} named statement`);
    }
    ok(`${who}: named prepared statement executed twice`);
    res = await c.query({ text: SUPERSET, rowMode: 'array' });
    regionRevenue(res, `${who} superset`);
    sameRows(res, truth, `${who} superset`);
    ok(`${who}: Superset virtual_table (rowMode array)`);
    // Without a name or values pg sends a simple Query; with a name, Parse/Describe/Execute.
    for (const query of [{ text: TABLEAU }, { name: `tableau_${user}_${process.pid}`, text: TABLEAU }]) {
      res = await c.query(query);
      regionRevenue(res, `${who} tableau`);
      assert.equal(res.rows.length, 0, `${who}: Tableau WHERE 1=0 returned rows`);
    }
    ok(`${who}: Tableau WHERE 1=0 -> no rows, columns region/revenue (both protocols)`);
    res = await c.query(CTE);
    regionRevenue(res, `${who} cte`);
    sameRows(res, truth, `${who} cte`);
    const revs = res.rows.map((r) => Number(r.revenue));
    assert.deepEqual(revs, [...revs].sort((a, b) => b - a), `${who}: CTE order`);
    ok(`${who}: CTE ordered by revenue`);
    res = await c.query(`SELECT * FROM ask_followups('${Q}')`);
    assert.deepEqual(fields(res), [['question', TEXT_OID], ['kind', TEXT_OID]], `${who}: ask_followups fields`);
    assert.ok(res.rows.length >= 2 && res.rows.length <= 3, `${who}: ask_followups rows ${JSON.stringify(res.rows)}`);
    for (const r of res.rows) {
      const n = await c.query(`SELECT count(*)::int AS n FROM ask('${r.question.replace(/'/g, "''")}')`);
      assert.ok(n.rows[0].n > 0, `${who}: follow-up ${r.question} answered no rows`);
    }
    ok(`${who}: ask_followups ${JSON.stringify(res.rows.map((r) => r.question))}`);
    await insights(c, who, forbidden);
  } finally {
    await c.end();
  }
}

async function main() {
  const d = new Client({ connectionString: DIRECT });
  await d.connect();
  const truth = (await d.query({ text: TRUTH_SQL, rowMode: 'array' })).rows;
  await d.end();
  assert.equal(truth.length, 5, 'direct: 5 regions in 2024');
  console.log(`truth ${JSON.stringify(truth)}`);
  await run(ADMIN, ADMIN_PW, truth, []);
  // alice's insights must not name the regions she cannot see, nor the all-region total.
  const total = Math.trunc(truth.reduce((a, r) => a + Number(r[1]), 0)).toLocaleString('en-US');
  const hidden = truth.map((r) => r[0]).filter((r) => r !== 'East').concat([total]);
  await run(ALICE, ALICE_PW, truth.filter((r) => r[0] === 'East'), hidden);
  console.log('all ask() checks passed');
}

main().catch((e) => {
  console.error(`MISMATCH: ${e.stack || e}`);
  process.exit(1);
});

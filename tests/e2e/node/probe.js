// node-postgres against Eddy: parameterised and named statements, field metadata, catalog queries.
// Prints one JSON object; tests/e2e/test_clients_introspection_node.py checks it.
const { Client } = require('pg');

(async () => {
  const [port, prefix] = process.argv.slice(2);
  const c = new Client({ host: '127.0.0.1', port: Number(port), user: 'root', database: 'dev' });
  await c.connect();
  const out = {};
  out.version = (await c.query('SELECT version() AS v')).rows[0].v;
  let r = await c.query(`SELECT id, customer, amount FROM ${prefix}_orders WHERE id >= $1 ORDER BY id`, [2]);
  out.params = r.rows;
  out.fields = r.fields.map(f => [f.name, f.dataTypeID, f.tableID, f.columnID]);
  const named = { name: 'by_customer', text: `SELECT id FROM ${prefix}_orders WHERE customer = $1 ORDER BY id` };
  out.named = [];
  for (const who of ['alice', 'bob']) {
    out.named.push((await c.query({ ...named, values: [who] })).rows.map(x => x.id));
  }
  r = await c.query('SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = $1 ' +
                    'AND table_name LIKE $2 ORDER BY 1', ['public', `${prefix}%`]);
  out.tables = r.rows;
  r = await c.query('SELECT column_name, data_type, is_nullable FROM information_schema.columns ' +
                    "WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position", [`${prefix}_orders`]);
  out.columns = r.rows;
  r = await c.query(`SELECT ARRAY[1, 2] AS a, $1::regclass AS r, $1::regclass::oid AS o`, [`${prefix}_orders`]);
  out.catalog = { a: r.rows[0].a, r: r.rows[0].r, oid_matches: Number(r.rows[0].o) === out.fields[0][2],
                  types: r.fields.map(f => f.dataTypeID) };
  try {
    await c.query(`SELECT * FROM ${prefix}_missing`);
  } catch (e) {
    out.error = e.code;
  }
  await c.end();
  console.log(JSON.stringify(out));
})().catch(e => { console.error(e.stack || String(e)); process.exit(1); });

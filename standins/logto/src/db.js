// PostgreSQL access (npm `pg`) for the CLI and the server's start-up checks.
import pg from 'pg';

export const MARKER_TABLE = 'logto_configs';

export function redact(dbUrl) {
  try {
    const url = new URL(dbUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<unparsable DB_URL>';
  }
}

export class DbError extends Error {}

function describe(error) {
  return [error.code, error.message].filter(Boolean).join(' ') || String(error);
}

export async function connect(dbUrl, { database } = {}) {
  if (!dbUrl) {
    throw new DbError('DB_URL is not set: give the PostgreSQL connection string, e.g. postgres://logto:pw@logto-db:5432/logto');
  }
  let connectionString = dbUrl;
  if (database) {
    const url = new URL(dbUrl);
    url.pathname = `/${encodeURIComponent(database)}`;
    connectionString = url.toString();
  }
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // a dropped connection must not crash the process
  const started = Date.now();
  try {
    await client.connect();
  } catch (error) {
    const timedOut = Date.now() - started >= 9_500 ? ' (no answer within 10 s)' : '';
    const wrapped = new DbError(
      `cannot connect to the database at ${redact(dbUrl)}${database ? ` (database "${database}")` : ''}: ${describe(error)}${timedOut}`,
    );
    wrapped.pgCode = error.code;
    throw wrapped;
  }
  return client;
}

export async function isSeeded(client) {
  const { rows } = await client.query('SELECT to_regclass($1) IS NOT NULL AS seeded', [`public.${MARKER_TABLE}`]);
  return rows[0].seeded;
}

export async function readDeployedVersion(client) {
  const { rows } = await client.query("SELECT value FROM systems WHERE key = 'alterationState'");
  return rows[0]?.value?.version ?? null;
}

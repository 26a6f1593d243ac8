// Stand-in for the `logto` CLI used by the image's entrypoint:
//   npm run cli db seed -- --swe          (node src/cli.js db seed --swe)
//   npm run alteration deploy 1.37.1      (node src/cli.js db alteration deploy 1.37.1)
import pg from 'pg';
import { IMAGE_VERSION, isSemver, semverCompare } from './config.js';
import { connect, DbError, isSeeded, MARKER_TABLE, readDeployedVersion, redact } from './db.js';

const log = {
  info: (...a) => console.log('[info]', ...a),
  warn: (...a) => console.warn('[warn]', ...a),
  error: (...a) => console.error('[error]', ...a),
};

const USAGE = `lobestack STAND-IN for the Logto CLI (not the real Logto)
usage:
  cli db seed [--swe|--skip-when-exists]   create the schema in DB_URL (with --swe: skip when already seeded)
  cli db alteration deploy [<version>]     record that the database alterations up to <version> are deployed
  cli db alteration list                   show the deployed version`;

async function connectCreatingDatabase(dbUrl) {
  try {
    return await connect(dbUrl);
  } catch (error) {
    if (error.pgCode !== '3D000') throw error; // only "database does not exist" is handled
    const dbName = decodeURIComponent(new URL(dbUrl).pathname.replace(/^\//, ''));
    log.warn(`database "${dbName}" does not exist, creating it`);
    const admin = await connect(dbUrl, { database: 'postgres' });
    try {
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(dbName)}`);
    } finally {
      await admin.end();
    }
    return connect(dbUrl);
  }
}

async function seed(flags) {
  const skipWhenExists = flags.includes('--swe') || flags.includes('--skip-when-exists');
  const dbUrl = process.env.DB_URL;
  const client = await connectCreatingDatabase(dbUrl);
  try {
    await client.query('BEGIN');
    // serialise concurrent seeders (two containers started at once)
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['lobestack-logto-standin-seed']);
    if (await isSeeded(client)) {
      await client.query('ROLLBACK');
      const version = await readDeployedVersion(client).catch(() => null);
      if (skipWhenExists) {
        log.info(`Database already seeded, skipping (found table "${MARKER_TABLE}", alterations deployed up to ${version ?? 'unknown'}).`);
        return 0;
      }
      log.error(`Database already seeded (table "${MARKER_TABLE}" exists). Use --swe to skip seeding an existing database.`);
      return 1;
    }
    log.info(`Seeding the database at ${redact(dbUrl)} ...`);
    const now = new Date().toISOString();
    await client.query(`
      CREATE TABLE systems (
        key varchar(256) PRIMARY KEY,
        value jsonb NOT NULL
      );
      CREATE TABLE tenants (
        id varchar(21) PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE ${MARKER_TABLE} (
        tenant_id varchar(21) NOT NULL REFERENCES tenants (id),
        key varchar(256) NOT NULL,
        value jsonb NOT NULL DEFAULT '{}'::jsonb,
        PRIMARY KEY (tenant_id, key)
      );
    `);
    await client.query("INSERT INTO tenants (id) VALUES ('default'), ('admin')");
    await client.query(
      "INSERT INTO systems (key, value) VALUES ('alterationState', $1)",
      [JSON.stringify({ version: IMAGE_VERSION, updatedAt: now })],
    );
    const marker = JSON.stringify({ seededBy: 'lobestack-logto-standin', version: IMAGE_VERSION, seededAt: now });
    await client.query(
      `INSERT INTO ${MARKER_TABLE} (tenant_id, key, value) VALUES ('default', 'standin', $1), ('admin', 'standin', $1)`,
      [marker],
    );
    await client.query('COMMIT');
    log.info(`Seed completed (schema of the stand-in, alterations at ${IMAGE_VERSION}).`);
    return 0;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

async function alteration(args) {
  const [action, target] = args;
  if (action === 'list') {
    const client = await connect(process.env.DB_URL);
    try {
      if (!(await isSeeded(client))) throw new DbError('the database is not seeded: run `npm run cli db seed -- --swe` first');
      log.info(`Deployed: ${await readDeployedVersion(client) ?? 'none'}; this image: ${IMAGE_VERSION}`);
      return 0;
    } finally {
      await client.end().catch(() => {});
    }
  }
  if (action !== 'deploy') {
    log.error(`unknown alteration command ${JSON.stringify(action ?? '')}\n${USAGE}`);
    return 1;
  }
  if (target !== undefined && !isSemver(target)) {
    log.error(`invalid target version ${JSON.stringify(target)} (expected x.y.z)`);
    return 1;
  }
  let wanted = target ?? IMAGE_VERSION;
  if (semverCompare(wanted, IMAGE_VERSION) > 0) {
    log.warn(`target ${wanted} is newer than this image (${IMAGE_VERSION}); deploying the alterations up to ${IMAGE_VERSION}`);
    wanted = IMAGE_VERSION;
  }
  const client = await connect(process.env.DB_URL);
  try {
    if (!(await isSeeded(client))) {
      throw new DbError('the database is not seeded: run `npm run cli db seed -- --swe` first');
    }
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['lobestack-logto-standin-seed']);
    const current = await readDeployedVersion(client);
    if (current && isSemver(current) && semverCompare(current, wanted) >= 0) {
      await client.query('ROLLBACK');
      log.info(`No alteration to deploy (database at ${current}, target ${wanted}).`);
      return 0;
    }
    await client.query(
      "INSERT INTO systems (key, value) VALUES ('alterationState', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
      [JSON.stringify({ version: wanted, updatedAt: new Date().toISOString() })],
    );
    await client.query('COMMIT');
    log.info(`Deployed the database alterations from ${current ?? 'none'} up to ${wanted}.`);
    return 0;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

async function main(argv) {
  const [scope, command, ...rest] = argv;
  if (scope !== 'db') {
    console.log(USAGE);
    return scope ? 1 : 0;
  }
  if (command === 'seed') return seed(rest);
  if (command === 'alteration' || command === 'alt') return alteration(rest);
  log.error(`unknown command "db ${command ?? ''}"\n${USAGE}`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error) => {
    log.error(error instanceof DbError ? error.message : (error?.stack || String(error)));
    process.exitCode = 1;
  },
);

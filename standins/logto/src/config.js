// Environment handling shared by the CLI and the server.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

export const SERVER_HEADER = 'lobestack-logto-standin';

// The Logto release whose contract this stand-in follows. LOGTO_STANDIN_VERSION lets a test
// pretend the image was bumped (start then refuses until `alteration deploy` ran).
export const IMAGE_VERSION = process.env.LOGTO_STANDIN_VERSION || pkg.version;

// Logto's `yes()` helper: true / 1 / yes / y (case-insensitive).
export function yes(value) {
  return ['1', 'true', 'yes', 'y'].includes(String(value ?? '').trim().toLowerCase());
}

export function intEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) {
    throw new Error(`${name} must be a TCP port number, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function endpointEnv(name, port) {
  const raw = process.env[name];
  const value = raw && raw.trim() !== '' ? raw.trim() : `http://localhost:${port}`;
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name} is not a valid URL: ${JSON.stringify(value)}`);
  }
  if (!['http:', 'https:'].includes(url.protocol)) {
    throw new Error(`${name} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  // Keep the text the operator gave (minus trailing slashes) so that the issuer is exactly
  // `${ENDPOINT}/oidc`, as Logto builds it.
  return value.replace(/\/+$/, '');
}

export function semverCompare(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i += 1) {
    if ((pa[i] || 0) !== (pb[i] || 0)) return (pa[i] || 0) - (pb[i] || 0);
  }
  return 0;
}

export function isSemver(v) {
  return /^\d+\.\d+\.\d+$/.test(String(v));
}

// Logto user ids are 12 characters [a-z0-9]; derive a stable one from the username so that the
// `sub` survives restarts of the stand-in.
export function userIdFor(username) {
  const digest = createHash('sha256').update(`lobestack-logto-standin:${username}`).digest();
  return BigInt(`0x${digest.toString('hex')}`).toString(36).padStart(12, '0').slice(0, 12);
}

export function parseUsers(raw) {
  const users = new Map();
  for (const entry of String(raw || '').split(',')) {
    const trimmed = entry.trim();
    if (!trimmed) continue;
    const idx = trimmed.indexOf(':');
    if (idx <= 0 || idx === trimmed.length - 1) {
      throw new Error('LOGTO_STANDIN_USERS must look like user:password[,user:password]');
    }
    const username = trimmed.slice(0, idx);
    const password = trimmed.slice(idx + 1);
    const id = userIdFor(username);
    const email = username.includes('@') ? username : `${username}@example.test`;
    users.set(id, { id, username, password, email });
  }
  return users;
}

export function loadServerConfig() {
  const port = intEnv('PORT', 3001);
  const adminPort = intEnv('ADMIN_PORT', 3002);
  const endpoint = endpointEnv('ENDPOINT', port);
  const adminEndpoint = endpointEnv('ADMIN_ENDPOINT', adminPort);
  const appUrl = (process.env.APP_URL || '').trim().replace(/\/+$/, '');
  const clientId = (process.env.AUTH_LOGTO_ID || '').trim();
  const clientSecret = (process.env.AUTH_LOGTO_SECRET || '').trim();
  return {
    port,
    adminPort,
    endpoint,
    adminEndpoint,
    trustProxy: yes(process.env.TRUST_PROXY_HEADER),
    dbUrl: process.env.DB_URL || '',
    appUrl,
    clientId,
    clientSecret,
    users: parseUsers(process.env.LOGTO_STANDIN_USERS),
  };
}

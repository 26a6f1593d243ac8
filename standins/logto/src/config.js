// Environment handling shared by the CLI and the server.
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

export function loadServerConfig() {
  const port = intEnv('PORT', 3001);
  const adminPort = intEnv('ADMIN_PORT', 3002);
  const endpoint = endpointEnv('ENDPOINT', port);
  const adminEndpoint = endpointEnv('ADMIN_ENDPOINT', adminPort);
  return {
    port,
    adminPort,
    endpoint,
    adminEndpoint,
    trustProxy: yes(process.env.TRUST_PROXY_HEADER),
    dbUrl: process.env.DB_URL || '',
  };
}

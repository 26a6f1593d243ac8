// lobestack STAND-IN for lobehub/lobe-chat-database 1.x -- NOT the real LobeChat.
//
// A small relying party on Auth.js (@auth/core, the library inside next-auth v5 that LobeChat
// 1.x uses) with its built-in Logto provider, configured from the same environment variables as
// LobeChat 1.x, plus the few LobeChat behaviours lobestack's suite looks at (pages, start-up
// migration, key-vault secret check, the late-1.x adapter self-call). It is the FAST set's LobeChat: no tRPC, no
// uploads (the upload flow runs on the real LobeChat, built from its npm package: upstream/lobechat).
import crypto from 'node:crypto';
import http from 'node:http';

import { Auth } from '@auth/core';
import Logto from '@auth/core/providers/logto';
import pg from 'pg';


const SERVER_HEADER = 'lobestack-lobechat-standin';
const FOOTER = 'lobestack stand-in for LobeChat — not the real LobeChat';
// Where the Next.js app has its auth routes (src/app/(backend)/api/auth/[...nextauth] and .../adapter).
const BASE_PATH = '/api/auth';
const env = process.env;

const PORT = Number(env.PORT || 3210);
// Next.js standalone (what the real image runs) binds to $HOSTNAME; the LobeChat image sets
// ENV HOSTNAME=0.0.0.0 (so does this one).
const BIND = env.HOSTNAME || '0.0.0.0';
const APP_URL = (env.APP_URL || '').replace(/\/+$/, '');

const fail = (...msg) => {
  console.error(...msg);
  process.exit(1);
};

// ---------------------------------------------------------------- KEY_VAULTS_SECRET
// LobeChat encrypts user key vaults with AES-256-GCM keyed by base64-decoded KEY_VAULTS_SECRET;
// anything but 32 bytes fails with node's own "Invalid key length".
const KEY_VAULTS_SECRET = env.KEY_VAULTS_SECRET || '';
if (!KEY_VAULTS_SECRET) {
  fail('❌ `KEY_VAULTS_SECRET` is not set, please set it in your environment variables.');
}
try {
  crypto.createCipheriv('aes-256-gcm', Buffer.from(KEY_VAULTS_SECRET, 'base64'), crypto.randomBytes(12));
} catch (error) {
  fail(`❌ KEY_VAULTS_SECRET is invalid (must be base64 of exactly 32 bytes): ${error.name}: ${error.message}`);
}

// ---------------------------------------------------------------- Auth env
const ssoProviders = (env.NEXT_AUTH_SSO_PROVIDERS || '')
  .split(/[,，]/)
  .map((s) => s.trim())
  .filter(Boolean);
if (!ssoProviders.includes('logto')) {
  fail(
    `❌ [NextAuth] NEXT_AUTH_SSO_PROVIDERS=${JSON.stringify(env.NEXT_AUTH_SSO_PROVIDERS || '')} ` +
      'does not contain "logto" (this stand-in only implements the Logto provider)',
  );
}
for (const p of ssoProviders.filter((p) => p !== 'logto')) {
  console.warn(`⚠️ [NextAuth] provider ${p} is not emulated by the lobestack stand-in; ignored`);
}

const deprecated = (name, old) => {
  if (env[name]) return env[name];
  if (env[old]) {
    console.warn(`⚠️ ${old} is deprecated and will be removed, please use ${name} instead`);
    return env[old];
  }
  return undefined;
};
const LOGTO_ID = deprecated('AUTH_LOGTO_ID', 'LOGTO_CLIENT_ID');
const LOGTO_SECRET = deprecated('AUTH_LOGTO_SECRET', 'LOGTO_CLIENT_SECRET');
const LOGTO_ISSUER = deprecated('AUTH_LOGTO_ISSUER', 'LOGTO_ISSUER');
for (const [k, v] of Object.entries({
  AUTH_LOGTO_ID: LOGTO_ID,
  AUTH_LOGTO_ISSUER: LOGTO_ISSUER,
  AUTH_LOGTO_SECRET: LOGTO_SECRET,
  APP_URL,
  NEXTAUTH_URL: env.NEXTAUTH_URL,
  NEXT_AUTH_SECRET: env.NEXT_AUTH_SECRET,
})) {
  if (!v) console.warn(`⚠️ ${k} is empty: sign-in will fail (error=Configuration)`);
}

// next-auth 5.0.0-beta.30 (LobeChat 1.143.3), lib/env.js: AUTH_URL ?? NEXTAUTH_URL, when non-empty, gives
//  - the origin of every request Auth.js sees (reqWithEnvURL: the request's origin is replaced by it; an
//    unparsable value throws, so every auth route answers 500), and
//  - Auth.js's basePath (setEnvDefaults: its pathname unless "/"; else, or when unparsable, "/api/auth").
// Without it the request URL is what the Next.js standalone server builds: http://$HOSTNAME:$PORT
// (vercel/next.js#79182), i.e. http://0.0.0.0:3210 in the LobeChat image: callbackUrl and redirect_uri
// then name 0.0.0.0, the classic "NEXTAUTH_URL missing" failure.
const AUTH_ENV_URL = env.AUTH_URL ?? env.NEXTAUTH_URL;
let AUTH_BASE_PATH = '/api/auth';
let ENV_ORIGIN = null;
let ENV_URL_ERROR = null;
if (AUTH_ENV_URL) {
  try {
    const parsed = new URL(AUTH_ENV_URL);
    ENV_ORIGIN = parsed.origin;
    if (parsed.pathname !== '/') AUTH_BASE_PATH = parsed.pathname;
  } catch (error) {
    ENV_URL_ERROR = `${error.name}: ${error.message} (NEXTAUTH_URL=${AUTH_ENV_URL})`;
    console.warn(`⚠️ NEXTAUTH_URL=${AUTH_ENV_URL} is not a URL: every /api/auth route will answer 500`);
  }
}

// ---------------------------------------------------------------- database
const DATABASE_URL = env.DATABASE_URL || '';
let pool;

async function migrate() {
  if (!DATABASE_URL) fail('❌ Database migrate failed: DATABASE_URL is not set');
  const retries = Number(env.DB_CONNECT_RETRIES ?? 15);
  let client;
  for (let attempt = 1; ; attempt++) {
    client = new pg.Client({ connectionString: DATABASE_URL });
    try {
      await client.connect();
      break;
    } catch (error) {
      await client.end().catch(() => {});
      if (attempt > retries) fail(`❌ Database migrate failed: cannot connect: ${error.message}`);
      console.warn(`⏳ database not reachable yet (${error.code || error.message}); retry ${attempt}/${retries}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS vector');
  } catch (error) {
    await client.end().catch(() => {});
    // PostgreSQL >= 16 says exactly this; 15 says 'could not open extension control file ...'.
    const missing = error.code === '58P01' || error.code === '0A000' || /vector/.test(error.message);
    if (missing) {
      fail(
        `❌ Database migrate failed: extension "vector" is not available\n` +
          `   (PostgreSQL said: ${error.message})\n` +
          '   The database must have the pgvector extension installed (e.g. the pgvector/pgvector image).',
      );
    }
    fail(`❌ Database migrate failed: ${error.message}`);
  }
  // The two tables the (late 1.x) NextAuth adapter uses, simplified.
  await client.query(`
    CREATE TABLE IF NOT EXISTS users (
      id text PRIMARY KEY, username text, email text, avatar text, full_name text,
      email_verified_at timestamptz, created_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE IF NOT EXISTS nextauth_accounts (
      provider text NOT NULL, provider_account_id text NOT NULL,
      user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE, type text,
      PRIMARY KEY (provider, provider_account_id));`);
  await client.end();
  console.log('✅ database migration pass.');
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 5 });
  pool.on('error', (e) => console.error('[db] idle client error:', e.message));
}

const rowToUser = (r) =>
  r && {
    email: r.email,
    emailVerified: r.email_verified_at,
    id: r.id,
    image: r.avatar,
    name: r.full_name ?? r.username,
  };

// Server side of the adapter: what LobeChat's NextAuthUserService does for /api/auth/adapter, on a tiny schema.
// The actions of the real route; those the stand-in has no tables for answer as a failing service call does.
const ADAPTER_ACTIONS = [
  'createAuthenticator', 'createSession', 'createUser', 'createVerificationToken', 'deleteSession', 'deleteUser',
  'getAccount', 'getAuthenticator', 'getSessionAndUser', 'getUser', 'getUserByAccount', 'getUserByEmail',
  'linkAccount', 'listAuthenticatorsByUserId', 'unlinkAccount', 'updateAuthenticatorCounter', 'updateSession',
  'updateUser', 'useVerificationToken',
];
const notEmulated = (action) => async () => {
  throw new Error(`${action} is not emulated by the lobestack stand-in (JWT sessions need none of it)`);
};
const adapterActions = {
  ...Object.fromEntries(ADAPTER_ACTIONS.map((action) => [action, notEmulated(action)])),
  async getAccount({ provider, providerAccountId }) {
    const { rows } = await pool.query(
      'SELECT * FROM nextauth_accounts WHERE provider = $1 AND provider_account_id = $2',
      [provider, providerAccountId],
    );
    const r = rows[0];
    return r ? { provider: r.provider, providerAccountId: r.provider_account_id, type: r.type, userId: r.user_id } : null;
  },
  async getAuthenticator() {
    return null;
  },
  async getSessionAndUser() {
    return null;
  },
  async listAuthenticatorsByUserId() {
    return [];
  },
  async createUser(u) {
    const id = u.providerAccountId || u.id || crypto.randomUUID();
    const { rows } = await pool.query(
      `INSERT INTO users (id, email, avatar, full_name, email_verified_at) VALUES ($1,$2,$3,$4,$5)
       ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email RETURNING *`,
      [id, u.email ?? null, u.image ?? null, u.name ?? null, u.emailVerified ?? null],
    );
    return rowToUser(rows[0]);
  },
  async getUser(id) {
    const { rows } = await pool.query('SELECT * FROM users WHERE id = $1', [id]);
    return rowToUser(rows[0]) ?? null;
  },
  async getUserByEmail(email) {
    const { rows } = await pool.query('SELECT * FROM users WHERE email = $1 LIMIT 1', [email]);
    return rowToUser(rows[0]) ?? null;
  },
  async getUserByAccount({ provider, providerAccountId }) {
    const { rows } = await pool.query(
      `SELECT u.* FROM users u JOIN nextauth_accounts a ON a.user_id = u.id
       WHERE a.provider = $1 AND a.provider_account_id = $2`,
      [provider, providerAccountId],
    );
    return rowToUser(rows[0]) ?? null;
  },
  async updateUser(u) {
    const { rows } = await pool.query(
      `UPDATE users SET email = COALESCE($2, email), avatar = COALESCE($3, avatar),
       full_name = COALESCE($4, full_name) WHERE id = $1 RETURNING *`,
      [u.id, u.email ?? null, u.image ?? null, u.name ?? null],
    );
    return rowToUser(rows[0]);
  },
  async linkAccount(a) {
    await pool.query(
      `INSERT INTO nextauth_accounts (provider, provider_account_id, user_id, type) VALUES ($1,$2,$3,$4)
       ON CONFLICT DO NOTHING`,
      [a.provider, a.providerAccountId, a.userId, a.type],
    );
    return a;
  },
  async deleteUser(id) {
    await pool.query('DELETE FROM users WHERE id = $1', [id]);
    return null;
  },
  async unlinkAccount({ provider, providerAccountId }) {
    await pool.query('DELETE FROM nextauth_accounts WHERE provider = $1 AND provider_account_id = $2', [
      provider,
      providerAccountId,
    ]);
    return null;
  },
};

// Client side of the adapter, as LobeChat 1.143.3's LobeNextAuthDbAdapter (src/libs/next-auth/adapter):
// every adapter method is a POST of {action, data} to ${APP_URL}/api/auth/adapter (the public URL, so through
// the reverse proxy) with `Authorization: Bearer ${KEY_VAULTS_SECRET}`; the answer is read as JSON whatever
// its status, and `success: false` becomes `Error("LobeNextAuthDbAdapter: <error>")`, which Auth.js logs as
// `[auth][error] AdapterError` and turns into /next-auth/error?error=Configuration.
const DATE_KEYS = ['expires', 'emailVerified'];
const ADAPTER_INIT_ERROR = APP_URL ? null : 'LobeNextAuthDbAdapter: APP_URL is not set in environment variables';
async function adapterFetch(action, data) {
  const res = await fetch(`${APP_URL}${BASE_PATH}/adapter`, {
    body: JSON.stringify({ action, data }),
    headers: { Authorization: `Bearer ${KEY_VAULTS_SECRET}`, 'Content-Type': 'application/json' },
    method: 'POST',
  });
  const body = await res.json();
  if (!body.success) throw new Error(`LobeNextAuthDbAdapter: ${body.error}`);
  if (body?.data) {
    for (const key of DATE_KEYS) if (body.data[key]) body.data[key] = new Date(body.data[key]);
  }
  return body.data;
}
const selfCallAdapter = Object.fromEntries(
  ADAPTER_ACTIONS.map((action) => [action, (data) => adapterFetch(action, data)]),
);

// ---------------------------------------------------------------- Auth.js config
const authConfig = {
  adapter: selfCallAdapter,
  basePath: AUTH_BASE_PATH,
  callbacks: {
    jwt({ token, user }) {
      if (user?.id) token.userId = user.id;
      return token;
    },
    session({ session, token }) {
      if (session.user) session.user.id = token.userId ?? token.sub ?? session.user.id;
      return session;
    },
  },
  pages: { error: '/next-auth/error', signIn: '/next-auth/signin' },
  providers: [
    Logto({
      authorization: { params: { scope: 'openid offline_access profile email' } },
      clientId: LOGTO_ID,
      clientSecret: LOGTO_SECRET,
      issuer: LOGTO_ISSUER,
      // as lobe-chat:src/libs/next-auth/sso-providers/logto.ts
      profile(profile) {
        return {
          email: profile.email,
          id: profile.sub,
          image: profile.picture,
          name: profile.name ?? profile.username ?? profile.email,
          providerAccountId: profile.sub,
        };
      },
    }),
  ],
  secret: env.NEXT_AUTH_SECRET || undefined,
  session: { strategy: 'jwt' },
  trustHost: true,
};
const PROVIDERS = [{ id: 'logto', name: 'Logto' }];

// ---------------------------------------------------------------- HTTP helpers
class HttpError extends Error {
  constructor(status, body) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
    this.status = status;
    this.body = body;
  }
}

// The origin Auth.js sees (see AUTH_ENV_URL above).
function requestOrigin() {
  if (ENV_URL_ERROR) throw new HttpError(500, 'Internal Server Error');
  return ENV_ORIGIN ?? `http://${BIND}:${PORT}`;
}

function readBody(req, limit = 10 * 1024 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(new HttpError(413, { error: 'Payload Too Large' }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function toWebHeaders(nodeHeaders) {
  const h = new Headers();
  for (const [k, v] of Object.entries(nodeHeaders)) {
    if (k.startsWith(':')) continue;
    if (Array.isArray(v)) v.forEach((x) => h.append(k, x));
    else if (v !== undefined) h.set(k, v);
  }
  return h;
}

async function sendWeb(res, response, extraCookies = []) {
  const headers = {};
  response.headers.forEach((v, k) => {
    if (k !== 'set-cookie') headers[k] = v;
  });
  const cookies = [...extraCookies, ...response.headers.getSetCookie()];
  if (cookies.length) headers['set-cookie'] = cookies;
  headers.server = SERVER_HEADER;
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, headers);
  res.end(body);
}

function send(res, status, body, headers = {}) {
  const isBuf = Buffer.isBuffer(body);
  const isJson = !isBuf && typeof body !== 'string';
  res.writeHead(status, {
    'content-type': isJson ? 'application/json' : 'text/plain; charset=utf-8',
    server: SERVER_HEADER,
    ...headers,
  });
  res.end(isJson ? JSON.stringify(body) : body);
}

const esc = (s) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '"': '&quot;', '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;' })[c]);

function page(res, status, title, bodyHtml, cookies = []) {
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · LobeChat (lobestack stand-in)</title>
<style>body{font-family:sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;padding:.5rem 1.2rem}footer{margin-top:3rem;color:#666;font-size:.85rem;border-top:1px solid #ddd;padding-top:.5rem}</style>
</head><body>
<main>
${bodyHtml}
</main>
<footer>${FOOTER}</footer>
</body></html>`;
  const headers = { 'content-type': 'text/html; charset=utf-8', server: SERVER_HEADER };
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(status, headers);
  res.end(html);
}

// Call Auth.js in-process (as next-auth's auth() helper does) with the caller's cookies.
async function authInternal(req, path) {
  const url = new URL(`${AUTH_BASE_PATH}${path}`, requestOrigin());
  const headers = new Headers();
  if (req.headers.cookie) headers.set('cookie', req.headers.cookie);
  const response = await Auth(new Request(url, { headers }), authConfig);
  const cookies = response.headers.getSetCookie();
  const json = response.headers.get('content-type')?.includes('json') ? await response.json() : null;
  return { cookies, json, status: response.status };
}

async function getSession(req) {
  const { json } = await authInternal(req, '/session');
  return json && json.user ? json : null;
}

async function getCsrf(req) {
  const { cookies, json } = await authInternal(req, '/csrf');
  return { cookies, csrfToken: json?.csrfToken ?? '' };
}

// ---------------------------------------------------------------- routes
// POST /api/auth/adapter, as src/app/(backend)/api/auth/adapter/route.ts of LobeChat 1.143.3 (a Next.js route
// with POST only):
//   Authorization missing, or not `Bearer ${KEY_VAULTS_SECRET}` once trimmed -> 401 {"error":"Unauthorized","success":false}
//   {"action": <one of ADAPTER_ACTIONS>, "data": ...}                         -> 200 {"data":<result>,"success":true}
//   another action                                                            -> 400 {"error":"Invalid action","success":false}
//   a body that is not JSON, or a failing call                                -> 400 {"error":<the error, as JSON>,"success":false}
// e.g. {"action":"getUser","data":"<unknown id>"} with the bearer -> 200 {"data":null,"success":true}.
async function adapterRoute(req, res) {
  if (req.method === 'OPTIONS') return send(res, 204, '', { allow: 'OPTIONS, POST' });
  if (req.method !== 'POST') return send(res, 405, '', { allow: 'OPTIONS, POST' });
  const authorization = req.headers.authorization;
  if (!authorization || authorization.trim() !== `Bearer ${KEY_VAULTS_SECRET}`) {
    return send(res, 401, { error: 'Unauthorized', success: false });
  }
  let data;
  let result;
  try {
    data = JSON.parse((await readBody(req)).toString('utf8'));
    if (data?.data) {
      for (const key of DATE_KEYS) if (data.data[key]) data.data[key] = new Date(data.data[key]);
    }
    if (!ADAPTER_ACTIONS.includes(data.action)) {
      return send(res, 400, { error: 'Invalid action', success: false });
    }
    result = await adapterActions[data.action](data.data);
  } catch (error) {
    console.error(`[adapter] ${data?.action ?? '(no action)'}: ${error.message}`);
    return send(res, 400, { error, success: false });
  }
  return send(res, 200, { data: result, success: true });
}

async function route(req, res) {
  const url = new URL(req.url, 'http://internal');
  const path = url.pathname;

  if (path === `${BASE_PATH}/adapter`) return adapterRoute(req, res);

  // Next.js's catch-all route /api/auth/[...nextauth]: next-auth's handlers, i.e. Auth(reqWithEnvURL(req)).
  if (path.startsWith(`${BASE_PATH}/`)) {
    if (ADAPTER_INIT_ERROR) {
      console.error(`Error: ${ADAPTER_INIT_ERROR}`);
      return send(res, 500, 'Internal Server Error');
    }
    const target = new URL(req.url, requestOrigin());
    const hasBody = !['GET', 'HEAD'].includes(req.method);
    const request = new Request(target, {
      body: hasBody ? await readBody(req) : undefined,
      headers: toWebHeaders(req.headers),
      method: req.method,
    });
    return sendWeb(res, await Auth(request, authConfig));
  }

  if (path === '/' && ['GET', 'HEAD'].includes(req.method)) {
    return send(res, 307, 'Redirecting to /chat', { location: '/chat' });
  }

  if (path === '/chat' || path.startsWith('/chat/')) {
    const session = await getSession(req);
    if (session) {
      const { cookies, csrfToken } = await getCsrf(req);
      const u = session.user;
      return page(
        res,
        200,
        'Chat',
        `<h1>LobeChat</h1>
<p id="whoami">Signed in as ${esc(u.name || u.email || u.id)}</p>
<dl><dt>User id</dt><dd id="user-id">${esc(u.id)}</dd><dt>Email</dt><dd id="user-email">${esc(u.email)}</dd></dl>
<form method="post" action="${BASE_PATH}/signout">
<input type="hidden" name="csrfToken" value="${esc(csrfToken)}">
<input type="hidden" name="callbackUrl" value="${esc(`${APP_URL}/chat`)}">
<button type="submit">Sign out</button></form>`,
        cookies,
      );
    }
    const { cookies, csrfToken } = await getCsrf(req);
    return page(
      res,
      200,
      'Chat',
      `<h1>LobeChat</h1>
<p>Not signed in.</p>
<form method="post" action="${BASE_PATH}/signin/logto">
<input type="hidden" name="csrfToken" value="${esc(csrfToken)}">
<input type="hidden" name="callbackUrl" value="${esc(`${APP_URL}/chat`)}">
<button type="submit">Log In / Sign Up</button></form>`,
      cookies,
    );
  }

  // LobeChat's sign-in page is a client component: the provider buttons work once the page has fetched its CSRF
  // token (next-auth/react). A click before that posts no token, and Auth.js answers ?error=MissingCSRF.
  if (path === '/next-auth/signin') {
    const callbackUrl = url.searchParams.get('callbackUrl') || `${APP_URL}/chat`;
    const error = url.searchParams.get('error');
    const buttons = PROVIDERS.map(
      (p) => `<form method="post" action="${BASE_PATH}/signin/${p.id}">
<input type="hidden" name="csrfToken" value="">
<input type="hidden" name="callbackUrl" value="${esc(callbackUrl)}">
<button type="submit" data-provider="${p.id}">${esc(p.name)}</button></form>`,
    ).join('\n');
    return page(
      res,
      200,
      'Sign in',
      `<h1>Sign in to LobeChat</h1>
${error ? `<p role="alert">Sign-in error: ${esc(error)}</p>` : ''}
${buttons}
<script>
fetch('${BASE_PATH}/csrf').then((r) => r.json()).then(({ csrfToken }) => {
  for (const input of document.querySelectorAll('input[name=csrfToken]')) input.value = csrfToken;
});
</script>`,
    );
  }

  if (path === '/next-auth/error') {
    const error = url.searchParams.get('error') || 'Default';
    return page(
      res,
      200,
      'Authentication error',
      `<h1>Authentication error</h1>
<p role="alert">Error code: <span id="error-code">${esc(error)}</span></p>
<p>${error === 'Configuration' ? 'There is a problem with the server configuration. Check the server logs for more information.' : 'Sign-in failed.'}</p>
<p><a href="/next-auth/signin">Try again</a></p>`,
    );
  }

  return page(res, 404, 'Not found', `<h1>404</h1><p>This page could not be found.</p>`);
}

// ---------------------------------------------------------------- start
await migrate();

const server = http.createServer(async (req, res) => {
  try {
    await route(req, res);
  } catch (error) {
    if (error instanceof HttpError) {
      if (!res.headersSent) send(res, error.status, error.body);
      else res.end();
      return;
    }
    console.error(`[server] ${req.method} ${req.url}:`, error);
    if (!res.headersSent) send(res, 500, { error: 'Internal Server Error', message: error.message });
    else res.end();
  }
});
server.listen(PORT, BIND, () => {
  console.log(`▲ lobestack LobeChat STAND-IN (not the real LobeChat) ready on http://${BIND}:${PORT}`);
  console.log(`  APP_URL=${APP_URL} NEXTAUTH_URL=${env.NEXTAUTH_URL || ''} issuer=${LOGTO_ISSUER || ''}`);
});

const shutdown = (sig) => {
  console.log(`received ${sig}, shutting down`);
  server.close();
  server.closeAllConnections?.();
  Promise.resolve(pool?.end())
    .catch(() => {})
    .finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

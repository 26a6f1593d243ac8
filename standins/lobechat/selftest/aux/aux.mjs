// TEST ONLY -- not shipped. A tiny Logto-like OIDC provider (oidc-provider, the library Logto's
// core is built on) mounted at /oidc over HTTPS, plus a minimal path-style S3 fake (PUT/GET,
// no signature check) on http and https, for selftest.py of the LobeChat stand-in.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

import Provider from 'oidc-provider';

const env = process.env;
const ISSUER = env.ISSUER || 'https://auth.test/oidc';
const CLIENT_ID = env.CLIENT_ID || 'lobe-client';
const CLIENT_SECRET = env.CLIENT_SECRET || 'lobe-client-secret-0123456789abcdef';
const REDIRECT_URIS = (env.REDIRECT_URIS || 'http://lobe.test:3210/api/auth/callback/logto').split(',');
const USER = { name: 'Alice Example', password: env.USER_PASSWORD || 'alice-pass-123', sub: 'u8tq2kz4lobe', username: 'alice' };

const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'ES384', kid: 'selftest-es384', use: 'sig' };

const provider = new Provider(ISSUER, {
  claims: { email: ['email', 'email_verified'], openid: ['sub'], profile: ['name', 'username', 'picture'] },
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['authorization_code', 'refresh_token'],
      id_token_signed_response_alg: 'ES384',
      redirect_uris: REDIRECT_URIS,
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // Logto puts the profile/email claims into the ID token, which is what Auth.js reads for type oidc
  conformIdTokenClaims: false,
  cookies: { keys: ['selftest-cookie-key-0123456789'] },
  enabledJWA: { idTokenSigningAlgValues: ['ES384'] },
  features: { devInteractions: { enabled: false } },
  async findAccount(ctx, id) {
    if (id !== USER.sub) return undefined;
    return {
      accountId: id,
      async claims() {
        return { email: 'alice@example.test', email_verified: true, name: USER.name, sub: USER.sub, username: USER.username };
      },
    };
  },
  interactions: { url: (ctx, interaction) => `/oidc/interaction/${interaction.uid}` },
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
});
provider.on('server_error', (ctx, err) => console.error('[oidc] server_error', err));
const oidcCallback = provider.callback();

const readBody = (req) =>
  new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction uid mismatch');
  if (details.prompt.name === 'login') {
    if (req.method === 'POST' && action === 'login') {
      const form = new URLSearchParams((await readBody(req)).toString());
      if (form.get('identifier') === USER.username && form.get('password') === USER.password) {
        return provider.interactionFinished(req, res, { login: { accountId: USER.sub } }, { mergeWithLastSubmission: false });
      }
      res.writeHead(401, { 'content-type': 'text/html' });
      return res.end('<p role="alert">Invalid credentials</p>');
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    return res.end(`<!DOCTYPE html><html><body><h1>Sign in (selftest OIDC)</h1>
<form method="post" action="/oidc/interaction/${uid}/login">
<input name="identifier"><input name="password" type="password"><button name="submit" type="submit">Sign in</button>
</form></body></html>`);
  }
  // first-party app: auto-consent, like Logto
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

async function oidcHandler(req, res) {
  const m = req.url.match(/^\/oidc\/interaction\/([^/?]+)(?:\/(login))?/);
  if (m) {
    try {
      return await interaction(req, res, m[1], m[2]);
    } catch (error) {
      console.error('[oidc] interaction', error);
      res.writeHead(400, { 'content-type': 'text/plain' });
      return res.end(String(error.message));
    }
  }
  if (req.url === '/oidc' || req.url.startsWith('/oidc/') || req.url.startsWith('/oidc?')) {
    req.originalUrl = req.url;
    req.url = req.url.slice(5) || '/';
    return oidcCallback(req, res);
  }
  res.writeHead(404);
  res.end('not found');
}

// ---- S3 fake (path style only: /<bucket>/<key>)
const objects = new Map();
const puts = [];
async function s3Handler(req, res) {
  const url = new URL(req.url, 'http://s3');
  if (url.pathname === '/_selftest/puts') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(puts));
  }
  const key = decodeURIComponent(url.pathname);
  if (req.method === 'PUT') {
    const body = await readBody(req);
    objects.set(key, { body, type: req.headers['content-type'] || 'application/octet-stream' });
    puts.push({ host: req.headers.host, path: url.pathname, query: Object.fromEntries(url.searchParams) });
    res.writeHead(200, { etag: `"${crypto.createHash('md5').update(body).digest('hex')}"` });
    return res.end();
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    const o = objects.get(key);
    if (!o) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      return res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${key}</Key></Error>`);
    }
    res.writeHead(200, { 'content-length': o.body.length, 'content-type': o.type });
    return res.end(req.method === 'HEAD' ? undefined : o.body);
  }
  res.writeHead(405);
  res.end();
}

const tls = (name) => ({ cert: fs.readFileSync(`/certs/${name}.crt`), key: fs.readFileSync(`/certs/${name}.key`) });
https.createServer(tls('auth'), oidcHandler).listen(443, () => console.log(`[aux] OIDC issuer ${ISSUER} on :443`));
http.createServer(s3Handler).listen(9000, () => console.log('[aux] S3 fake on http :9000'));
https.createServer(tls('rogue'), s3Handler).listen(9443, () => console.log('[aux] S3 fake on https :9443 (untrusted cert)'));

// A reverse proxy that DROPS the Authorization header (the misconfiguration that breaks the
// adapter self-call), forwarding to UPSTREAM.
const UPSTREAM = new URL(env.UPSTREAM || 'http://lobe.test:3210');
http
  .createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers.authorization;
    const up = http.request(
      { headers, host: UPSTREAM.hostname, method: req.method, path: req.url, port: UPSTREAM.port || 80 },
      (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e.message));
    });
    req.pipe(up);
  })
  .listen(8080, () => console.log(`[aux] Authorization-dropping proxy on :8080 -> ${UPSTREAM.href}`));

// lobestack STAND-IN for the Logto core server (`npm start`), built on oidc-provider.
// Not the real Logto: see README.md for the contract it honours and its gaps.
import http from 'node:http';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import Koa from 'koa';
import mount from 'koa-mount';
import Provider, { errors as oidcErrors } from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import pg from 'pg';
import { IMAGE_VERSION, isSemver, loadServerConfig, SERVER_HEADER, semverCompare } from './config.js';
import { connect, DbError, isSeeded, MARKER_TABLE, readDeployedVersion, redact } from './db.js';
import { createUser, experienceRouter, USERNAME_RE, validatePassword } from './experience.js';
import { managementAuth, managementRouter } from './management.js';
import { oidcErrorHandler, renderError } from './oidc-errors.js';
import * as pages from './pages.js';
import { withLogtoWire } from './wire.js';
import { errorHandler, RequestError } from './request-error.js';
import {
  ADMIN_CONSOLE_ID, ADMIN_TENANT, DEFAULT_TENANT, encryptPassword, RESOURCES, TenantStore, verifyPassword,
} from './store.js';

const log = {
  info: (...a) => console.log('[info]', ...a),
  warn: (...a) => console.warn('[warn]', ...a),
  error: (...a) => console.error('[error]', ...a),
};

function fail(message) {
  log.error(message);
  process.exit(1);
}

// ---------------------------------------------------------------- start-up checks (like Logto)

async function checkDatabase(dbUrl) {
  const client = await connect(dbUrl);
  try {
    if (!(await isSeeded(client))) {
      throw new DbError(
        `the database at ${redact(dbUrl)} is not seeded (table "${MARKER_TABLE}" not found). `
        + 'Run `npm run cli db seed -- --swe` first.',
      );
    }
    const deployed = await readDeployedVersion(client);
    if (!deployed || !isSemver(deployed) || semverCompare(deployed, IMAGE_VERSION) < 0) {
      throw new DbError(
        `Undeployed database alterations found (database at ${deployed ?? 'none'}, this image needs ${IMAGE_VERSION}), `
        + `please deploy them first: npm run alteration deploy ${IMAGE_VERSION}`,
      );
    }
    return deployed;
  } finally {
    await client.end().catch(() => {});
  }
}

// ---------------------------------------------------------------- OIDC providers (one per tenant)

function es384Jwk() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  return {
    ...privateKey.export({ format: 'jwk' }),
    kid: randomBytes(16).toString('base64url'),
    alg: 'ES384',
    use: 'sig',
  };
}

const CLAIMS = {
  openid: ['sub'],
  profile: ['name', 'username', 'picture'],
  email: ['email', 'email_verified'],
};
const SCOPES = ['openid', 'offline_access', 'profile', 'email'];
// ExtraParamsKey (packages/schemas/src/consts/oidc.ts)
const EXTRA_PARAMS = [
  'interaction_mode', 'first_screen', 'direct_sign_in', 'organization_id', 'login_hint', 'ui_locales',
  'identifier', 'one_time_token', 'google_one_tap_credential',
];
const FIRST_SCREENS = {
  signIn: 'sign-in', register: 'register', signUp: 'register', reset_password: 'forgot-password',
  identifierSignIn: 'identifier-sign-in', identifierRegister: 'identifier-register', singleSignOn: 'single-sign-on',
};

/** getConstantClientMetadata (packages/core/src/oidc/utils.ts) */
function constantMetadata(type) {
  const m2m = type === 'MachineToMachine';
  return {
    application_type: type === 'Native' ? 'native' : 'web',
    grant_types: m2m ? ['client_credentials'] : ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: ['Native', 'SPA'].includes(type) ? 'none' : 'client_secret_basic',
    ...(m2m ? { response_types: [] } : {}),
    id_token_signed_response_alg: 'ES384',
  };
}

/** The postgres adapter's Client model: applications of the tenant, as Logto transpiles them. */
function clientAdapter(store) {
  return class ApplicationClients {
    async find(id) {
      const row = await store.findApplicationRow(id);
      if (!row || row.type === 'SAML') return undefined;
      return {
        client_id: row.id,
        client_secret: row.secret,
        client_name: row.name,
        ...constantMetadata(row.type),
        redirect_uris: row.oidc_client_metadata.redirectUris ?? [],
        post_logout_redirect_uris: row.oidc_client_metadata.postLogoutRedirectUris ?? [],
      };
    }

    async upsert() { throw new Error('Not implemented'); }

    async destroy() { throw new Error('Not implemented'); }

    async consume() { throw new Error('Not implemented'); }
  };
}

/** koaAppSecretTranspilation: a secret of /secrets, sent in Basic auth, becomes the client's internal secret. */
function appSecretTranspilation(store) {
  return async (ctx, next) => {
    const parts = ctx.headers.authorization?.split(' ');
    if (parts?.length === 2 && parts[0].toLowerCase() === 'basic' && parts[1]) {
      const [id, secret] = Buffer.from(parts[1], 'base64').toString().split(':');
      const decode = (t) => decodeURIComponent(t.replace(/\+/g, '%20'));
      if (id && secret) {
        let found;
        try {
          found = await store.findSecretByCredentials(decode(id), decode(secret));
        } catch {
          found = undefined;
        }
        if (found?.expiresAt && found.expiresAt < Date.now()) throw new oidcErrors.InvalidRequest('client secret has expired');
        if (found) {
          ctx.headers.authorization = `Basic ${Buffer.from(`${decode(id)}:${found.originalSecret}`).toString('base64')}`;
        }
      }
    }
    return next();
  };
}

function makeProvider(tenant, { cookieKeys, trustProxy, staticClients = [], adapter }) {
  const { store } = tenant;
  const cookieConfig = { sameSite: 'lax', path: '/', signed: true, overwrite: true };
  const provider = new Provider(tenant.issuer, {
    adapter: (name) => (name === 'Client' && adapter ? new adapter() : new MemoryAdapter(name)),
    clients: staticClients,
    jwks: { keys: [tenant.privateJwk] },
    enabledJWA: { idTokenSigningAlgValues: ['ES384'] },
    cookies: { keys: cookieKeys, long: cookieConfig, short: cookieConfig },
    claims: CLAIMS,
    scopes: SCOPES,
    extraParams: EXTRA_PARAMS,
    // Logto puts the profile claims in the ID token too (Auth.js reads them from there).
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = pages.logoutPage({ form, host: ctx.host });
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = pages.logoutSuccessPage();
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => undefined,
        useGrantedResource: () => false,
        getResourceServerInfo: async (ctx, indicator, client) => {
          const ttl = RESOURCES[tenant.name].get(indicator);
          if (ttl === undefined) throw new oidcErrors.InvalidTarget();
          const userId = ctx.oidc.session?.accountId ?? ctx.oidc.entities.Account?.accountId;
          const scopes = await store.scopesFor(userId ? { userId } : { applicationId: client?.clientId }, indicator);
          return { accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES384' } }, accessTokenTTL: ttl, scope: scopes.join(' ') };
        },
      },
    },
    issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    interactions: {
      url: async (ctx, interaction) => {
        const { client_id: appId } = interaction.params;
        const params = ctx.oidc.params ?? {};
        ctx.cookies.set('_logto', JSON.stringify({ appId, ...(params.ui_locales ? { uiLocales: params.ui_locales } : {}) }), {
          sameSite: 'lax', overwrite: true, httpOnly: false,
        });
        const search = new URLSearchParams();
        if (appId) search.append('app_id', String(appId));
        for (const key of ['organization_id', 'one_time_token', 'login_hint', 'identifier', 'ui_locales']) {
          if (params[key]) search.append(key, params[key]);
        }
        const query = search.size > 0 ? `?${search}` : '';
        if (interaction.prompt.name === 'consent') return `/consent${appId ? `?app_id=${encodeURIComponent(appId)}` : ''}`;
        const first = FIRST_SCREENS[params.first_screen ?? params.interaction_mode ?? 'signIn'] ?? 'sign-in';
        return `/${first}${query}`;
      },
    },
    // Logto renders oidc-provider's error object as JSON; oidcErrorHandler adds Logto's code and message.
    renderError,
    findAccount: async (ctx, sub) => {
      const user = await store.findUserRowById(sub);
      if (!user) throw new oidcErrors.InvalidGrant('user not found');
      return {
        accountId: user.id,
        claims: async () => ({
          sub: user.id,
          name: user.name ?? null,
          username: user.username,
          picture: user.avatar ?? null,
          email: user.primary_email ?? null,
          email_verified: Boolean(user.primary_email),
        }),
      };
    },
    pkce: { required: (ctx, client) => client.clientAuthMethod !== 'client_secret_basic', methods: ['S256'] },
    ttl: {
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
      AuthorizationCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      Session: 1_209_600,
      Grant: 180 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
  });
  provider.proxy = trustProxy;
  provider.on('server_error', (ctx, error) => log.error(`oidc server_error at ${ctx.path}:`, error));
  if (adapter) provider.use(appSecretTranspilation(store));
  return provider;
}

// ---------------------------------------------------------------- HTTP app

async function readForm(ctx, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > limit) ctx.throw(413, 'request body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function html(ctx, body, status = 200) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}

function buildApp(cfg, tenants, cookieKeys) {
  const app = new Koa();
  app.proxy = cfg.trustProxy;
  app.keys = cookieKeys;
  app.silent = true;
  app.on('error', (error, ctx) => {
    if ((error.status ?? 500) >= 500) log.error(`${ctx?.method} ${ctx?.path}:`, error);
  });

  // Logto resolves the tenant from the request origin (after proxy headers, when trusted):
  // the origin of ADMIN_ENDPOINT (or http://localhost:ADMIN_PORT) is the admin tenant, any other
  // origin the default tenant - on both ports.
  const adminOrigins = new Set([new URL(cfg.adminEndpoint).origin, `http://localhost:${cfg.adminPort}`]);
  const tenantFor = (ctx) => {
    let origin = null;
    try {
      origin = new URL(`${ctx.protocol}://${ctx.host}`).origin;
    } catch {
      // an unparsable Host header: default tenant
    }
    return adminOrigins.has(origin) ? tenants.admin : tenants.core;
  };

  const experience = experienceRouter().routesFor('/api');
  // The Management API of each tenant: its own audience, https://<tenant id>.logto.app/api.
  for (const tenant of Object.values(tenants)) {
    const router = managementRouter();
    router.use(managementAuth(tenant, `https://${tenant.name}.logto.app/api`));
    tenant.managementRoutes = router.routesFor('/api');
  }

  app.use(async (ctx, next) => {
    ctx.set('Server', SERVER_HEADER);
    ctx.state.tenant = tenantFor(ctx);
    await next();
  });
  // Tenant app order in Logto: koaErrorHandler, then koaOidcErrorHandler, around everything (OIDC and /api).
  app.use(errorHandler(log));
  app.use(oidcErrorHandler);

  app.use(async (ctx, next) => {
    const { tenant } = ctx.state;
    const { path, method } = ctx;

    if (path === '/oidc' || path.startsWith('/oidc/')) return tenant.oidc(ctx, next);
    if (path === '/api/status') {
      if (method !== 'GET' && method !== 'HEAD') ctx.throw(405);
      ctx.status = 204;
      return undefined;
    }
    if (path === '/api/swagger.json' && method === 'GET') {
      // Logto OSS's base document says version "Cloud" (packages/core/src/routes/swagger/utils/documents.ts); the
      // stand-in serves only that much of it (no paths), which is all lobestack reads (VERSION-PINNED).
      ctx.body = { openapi: '3.0.1', info: { title: 'Logto API references', version: 'Cloud' }, paths: {} };
      return undefined;
    }
    if (path.startsWith('/api/')) {
      return experience(ctx, () => tenant.managementRoutes(ctx, next));
    }
    if (path === '/unknown-session') return html(ctx, pages.unknownSessionPage());
    // The apps' scripts (empty here): a browser tells the console's app from the sign-in app's by them.
    if (path === pages.CONSOLE_ASSET || path === pages.EXPERIENCE_ASSET) {
      ctx.type = 'application/javascript';
      ctx.body = '';
      return undefined;
    }
    if (path === '/sign-in') return signIn(ctx, tenant);
    if (path === '/consent') return consent(ctx, tenant);
    if (tenant.name === 'admin') {
      // koaConsoleRedirectProxy: the console's first run is decided by whether the admin tenant has a user.
      const hasUser = await tenant.store.hasActiveUsers();
      if ((path === '/' || path === '/console') && !hasUser) return ctx.redirect('/console/welcome');
      if ((path === '/' || path === '/console/welcome') && hasUser) return ctx.redirect('/console');
      if (path === '/console/welcome') return html(ctx, pages.consoleWelcomePage());
      if (path === '/register') return register(ctx, tenant);
      if (path === '/register/password') return registerPassword(ctx, tenant);
      if (path === '/console/callback') return consoleCallback(ctx, tenant);
      if (path === '/console' || path === '/console/' || path.startsWith('/console/')) {
        // The console is an application of the admin tenant (admin-console): without its session it signs in
        // through the admin tenant's OIDC, as the console SPA does.
        const admin = await consoleUser(ctx, tenant);
        if (!admin) return consoleSignIn(ctx, cfg);
        return html(ctx, pages.getStartedPage({ admin: admin.username }));
      }
    } else if (path === '/console' || path.startsWith('/console/')) {
      // The default tenant serves no console: its sign-in app answers with its shell, which renders nothing here
      // (seen on real Logto 1.37.1 when ADMIN_ENDPOINT = ENDPOINT: /console on the console origin, 200, blank).
      return html(ctx, pages.experienceShell());
    } else if (path.startsWith('/register')) {
      // Without an interaction the sign-in app ends on "unknown session".
      return ctx.redirect('/unknown-session');
    }
    return next();
  });

  return app;
}

/** koaAutoConsent: first-party applications consent to what they ask for, without a page. */
async function consent(ctx, tenant) {
  const { provider } = tenant;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { params: { client_id: clientId }, prompt, session } = details;
  if (!session?.accountId) return ctx.redirect('/unknown-session');
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId });
  const missingScopes = prompt.details?.missingOIDCScope ?? [];
  if (missingScopes.length) grant.addOIDCScope(missingScopes.join(' '));
  const missingClaims = prompt.details?.missingOIDCClaims ?? [];
  if (missingClaims.length) grant.addOIDCClaims(missingClaims);
  for (const [indicator, scopes] of Object.entries(prompt.details?.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  const redirectTo = await provider.interactionResult(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  return ctx.redirect(redirectTo);
}

/** The sign-in page: a form for username and password, verified as the experience API verifies them. */
async function signIn(ctx, tenant) {
  const { provider, store } = tenant;
  if (ctx.method !== 'GET' && ctx.method !== 'POST') ctx.throw(405);
  const form = ctx.method === 'POST' ? await readForm(ctx) : new URLSearchParams();
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (error) {
    if (error instanceof oidcErrors.SessionNotFound) return ctx.redirect('/unknown-session');
    throw error;
  }
  const appId = details.params.client_id;
  if (ctx.method === 'GET') return html(ctx, pages.signInPage({ appId }));

  const identifier = (form.get('identifier') || '').trim();
  const password = form.get('password') || '';
  if (!identifier || !password) {
    return html(ctx, pages.signInPage({ appId, identifier, error: 'Username and password are required' }));
  }
  const user = await store.findUserRowByUsername(identifier);
  if (!user || !(await verifyPassword(user.password_encrypted, password))) {
    log.info(`sign-in failed for ${JSON.stringify(identifier)} (app ${appId})`);
    return html(ctx, pages.signInPage({ appId, identifier, error: 'Invalid credentials' }));
  }
  await store.touchSignIn(user.id);
  log.info(`sign-in of ${JSON.stringify(identifier)} (${user.id}) to app ${appId}`);
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, { login: { accountId: user.id } });
  ctx.status = 303;
  return ctx.redirect(returnTo);
}

// The console's session. Real Logto: the console SPA (public client admin-console, PKCE) redeems the code at
// ADMIN_ENDPOINT/oidc/token and keeps its tokens in the browser; the stand-in redeems the code server-side (one use,
// bound to admin-console and the PKCE verifier it set) and keeps the signed-in administrator in a signed cookie.
const CONSOLE_COOKIE = '_standin_console';
const CONSOLE_VERIFIER_COOKIE = '_standin_console_pkce';

/** The console's sign-in: an authorization request of admin-console (PKCE S256) on the admin tenant. */
function consoleSignIn(ctx, cfg) {
  const verifier = randomBytes(32).toString('base64url');
  ctx.cookies.set(CONSOLE_VERIFIER_COOKIE, verifier, { signed: true, httpOnly: true, sameSite: 'lax', path: '/console' });
  const url = new URL('/oidc/auth', cfg.adminEndpoint);
  url.search = new URLSearchParams({
    client_id: ADMIN_CONSOLE_ID,
    redirect_uri: new URL('/console/callback', cfg.adminEndpoint).href,
    response_type: 'code',
    scope: 'openid profile',
    state: randomBytes(12).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  return ctx.redirect(url.href);
}

async function consoleUser(ctx, tenant) {
  const userId = ctx.cookies.get(CONSOLE_COOKIE, { signed: true });
  if (!userId) return null;
  const users = await tenant.store.findUsers({ search: userId });
  return users.find((user) => user.id === userId) ?? null;
}

async function consoleCallback(ctx, tenant) {
  const code = ctx.query.code && (await tenant.provider.AuthorizationCode.find(String(ctx.query.code)));
  const verifier = ctx.cookies.get(CONSOLE_VERIFIER_COOKIE, { signed: true }) || '';
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  if (!code || code.clientId !== ADMIN_CONSOLE_ID || code.isExpired || code.consumed || code.codeChallenge !== challenge) {
    log.info('console callback without a valid code: signing in again');
    return ctx.redirect('/console');
  }
  await code.consume();
  ctx.cookies.set(CONSOLE_COOKIE, code.accountId, { signed: true, httpOnly: true, sameSite: 'lax', path: '/' });
  log.info(`console sign-in of account ${code.accountId}`);
  ctx.cookies.set(CONSOLE_VERIFIER_COOKIE, null, { path: '/console' });
  return ctx.redirect('/console/get-started');
}

async function register(ctx) {
  if (ctx.method === 'GET') return html(ctx, pages.registerPage({}));
  if (ctx.method !== 'POST') ctx.throw(405);
  const form = await readForm(ctx);
  const identifier = (form.get('identifier') || '').trim();
  if (!USERNAME_RE.test(identifier)) {
    return html(ctx, pages.registerPage({ identifier, error: 'Username should start with a letter or underscore and contain only letters, numbers and underscores' }));
  }
  ctx.cookies.set('_standin_register', identifier, { signed: true, httpOnly: true, sameSite: 'lax', path: '/register' });
  ctx.status = 303;
  return ctx.redirect('/register/password');
}

/** The console's first-run page: the first admin, with the admin tenant's password policy (breached check too). */
async function registerPassword(ctx, tenant) {
  const identifier = ctx.cookies.get('_standin_register', { signed: true });
  if (!identifier) {
    ctx.status = 303;
    return ctx.redirect('/register');
  }
  if (ctx.method === 'GET') return html(ctx, pages.registerPasswordPage({ identifier }));
  if (ctx.method !== 'POST') ctx.throw(405);
  const form = await readForm(ctx);
  const newPassword = form.get('newPassword') || '';
  const confirmPassword = form.get('confirmPassword') || '';
  let error = '';
  if (newPassword !== confirmPassword) error = 'Passwords do not match';
  else if (await tenant.store.hasActiveUsers()) error = 'Registration is closed: this Logto has an administrator';
  else if (await tenant.store.findUserRowByUsername(identifier)) error = 'This username is already in use.';
  else {
    try {
      await validatePassword(tenant, newPassword, { username: identifier });
    } catch (failure) {
      if (!(failure instanceof RequestError)) log.error('password check failed:', failure?.message, failure?.cause?.message ?? '');
      error = failure instanceof RequestError ? 'Password rejected. Please check if your password meets the requirements.' : 'Internal server error.';
    }
  }
  if (error) return html(ctx, pages.registerPasswordPage({ identifier, error }));
  const admin = await createUser(tenant, { username: identifier, passwordEncrypted: await encryptPassword(newPassword) }, ADMIN_CONSOLE_ID);
  ctx.cookies.set('_standin_register', null, { path: '/register' });
  // Logto signs the new administrator in to the console
  ctx.cookies.set(CONSOLE_COOKIE, admin.id, { signed: true, httpOnly: true, sameSite: 'lax', path: '/' });
  ctx.status = 303;
  return ctx.redirect('/console/get-started');
}

function listen(handler, port, label, url) {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      // Every response carries the stand-in's Server header, even Koa's error responses (which
      // drop the headers set earlier).
      const { writeHead } = res;
      res.writeHead = function writeHeadWithServer(...args) {
        if (!this.headersSent) this.setHeader('Server', SERVER_HEADER);
        return writeHead.apply(this, args);
      };
      handler(req, res);
    });
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => {
      log.info(`${label} app is running at ${url} (listening on :${port})`);
      resolve(server);
    });
  });
}

function publicJwk({ d, ...rest }) {
  return rest;
}

async function main() {
  let cfg;
  try {
    cfg = loadServerConfig();
  } catch (error) {
    return fail(error.message);
  }
  log.info(`lobestack STAND-IN for Logto ${IMAGE_VERSION} (not the real Logto), node ${process.version}`);

  try {
    const deployed = await checkDatabase(cfg.dbUrl);
    log.info(`database ${redact(cfg.dbUrl)} is seeded, alterations deployed up to ${deployed}`);
  } catch (error) {
    return fail(`${error instanceof DbError ? error.message : error?.stack || error}\nLogto stand-in refuses to start.`);
  }

  if (new URL(cfg.endpoint).origin === new URL(cfg.adminEndpoint).origin) {
    log.warn(`ENDPOINT and ADMIN_ENDPOINT share the origin ${new URL(cfg.endpoint).origin}: every request goes to the admin tenant (as with the real Logto)`);
  }

  // Like Logto's DATABASE_CONNECTION_TIMEOUT (packages/shared GlobalValues: ms, default 5000).
  const connectionTimeoutMillis = Number(process.env.DATABASE_CONNECTION_TIMEOUT ?? '5000') || 5000;
  const pool = new pg.Pool({ connectionString: cfg.dbUrl, max: 5, connectionTimeoutMillis });
  pool.on('error', (error) => log.error('database pool:', error.message));
  const cookieKeys = [randomBytes(32).toString('base64url')];
  const tenantOf = (name, issuer) => {
    const privateJwk = es384Jwk();
    return {
      name, issuer, privateJwk, publicJwks: [publicJwk(privateJwk)], adminEndpoint: cfg.adminEndpoint,
      store: new TenantStore(pool, name), log,
    };
  };
  const core = tenantOf(DEFAULT_TENANT, `${cfg.endpoint}/oidc`);
  const admin = tenantOf(ADMIN_TENANT, `${cfg.adminEndpoint}/oidc`);
  // The admin console: an SPA client of the admin tenant whose redirect URIs Logto derives from ADMIN_ENDPOINT.
  const adminConsole = {
    client_id: ADMIN_CONSOLE_ID,
    client_name: 'Admin Console',
    ...constantMetadata('SPA'),
    redirect_uris: [`${cfg.adminEndpoint}/console/callback`],
    post_logout_redirect_uris: [`${cfg.adminEndpoint}/console`],
  };
  try {
    core.provider = makeProvider(core, { cookieKeys, trustProxy: cfg.trustProxy, adapter: clientAdapter(core.store) });
    admin.provider = makeProvider(admin, { cookieKeys, trustProxy: cfg.trustProxy, staticClients: [adminConsole] });
  } catch (error) {
    return fail(`invalid OIDC configuration: ${error.message}`);
  }
  for (const tenant of [core, admin]) tenant.oidc = mount('/oidc', tenant.provider);

  const app = buildApp(cfg, { core, admin }, cookieKeys);
  const handler = withLogtoWire(app.callback(), cookieKeys);
  log.info(`issuer ${core.issuer} (admin tenant: ${admin.issuer}); TRUST_PROXY_HEADER ${cfg.trustProxy ? 'on' : 'off'}`);
  try {
    await listen(handler, cfg.port, 'Core', cfg.endpoint);
    if (cfg.adminPort !== cfg.port) await listen(handler, cfg.adminPort, 'Admin', cfg.adminEndpoint);
  } catch (error) {
    return fail(`cannot listen: ${error.message}`);
  }
  return undefined;
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    log.info(`${signal} received, exiting`);
    process.exit(0);
  });
}

main();

// lobestack STAND-IN for the Logto core server (`npm start`), built on oidc-provider.
// Not the real Logto: see README.md for the contract it honours and its gaps.
import http from 'node:http';
import { generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import Koa from 'koa';
import mount from 'koa-mount';
import Provider, { errors as oidcErrors } from 'oidc-provider';
import { IMAGE_VERSION, isSemver, loadServerConfig, SERVER_HEADER, semverCompare } from './config.js';
import { connect, DbError, isSeeded, MARKER_TABLE, readDeployedVersion, redact } from './db.js';
import { oidcErrorHandler, renderError } from './oidc-errors.js';
import * as pages from './pages.js';

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
  profile: ['name', 'username'],
  email: ['email', 'email_verified'],
};
const SCOPES = ['openid', 'offline_access', 'profile', 'email'];

function makeProvider({ issuer, clients, users, cookieKeys, trustProxy }) {
  const provider = new Provider(issuer, {
    clients,
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES384',
    },
    jwks: { keys: [es384Jwk()] },
    enabledJWA: {
      idTokenSigningAlgValues: ['ES384'],
    },
    cookies: { keys: cookieKeys },
    claims: CLAIMS,
    scopes: SCOPES,
    // Logto puts the profile claims in the ID token too (Auth.js reads them from there).
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
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
    },
    interactions: {
      // Logto sends the browser to its sign-in experience with the app id.
      url: async (ctx, interaction) => `/sign-in?app_id=${encodeURIComponent(interaction.params.client_id)}`,
    },
    // Logto renders oidc-provider's error object as JSON; oidcErrorHandler adds Logto's code and message.
    renderError,
    findAccount: async (ctx, sub) => {
      const user = users.get(sub);
      if (!user) return undefined;
      return {
        accountId: user.id,
        claims: async () => ({
          sub: user.id,
          name: user.username,
          username: user.username,
          email: user.email,
          email_verified: true,
        }),
      };
    },
    // First-party applications never see a consent screen: grant what they ask for.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        const existing = await ctx.oidc.provider.Grant.find(grantId);
        if (existing) return existing;
      }
      if (!ctx.oidc.session.accountId) return undefined;
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(SCOPES.join(' '));
      grant.addOIDCClaims(Object.values(CLAIMS).flat());
      await grant.save();
      return grant;
    },
    pkce: { required: () => false },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
  });
  provider.proxy = trustProxy;
  provider.on('server_error', (ctx, error) => log.error(`oidc server_error at ${ctx.path}:`, error));
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

function sameSecret(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
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

  app.use(async (ctx, next) => {
    ctx.set('Server', SERVER_HEADER);
    ctx.state.tenant = tenantFor(ctx);
    await next();
  });

  app.use(async (ctx, next) => {
    const { tenant } = ctx.state;
    const { path, method } = ctx;

    if (path === '/oidc' || path.startsWith('/oidc/')) {
      return oidcErrorHandler(ctx, () => tenant.oidc(ctx, next));
    }
    if (path === '/api/status') {
      if (method !== 'GET' && method !== 'HEAD') ctx.throw(405);
      ctx.status = 204;
      return undefined;
    }
    if (path.startsWith('/api/')) {
      ctx.status = 501;
      ctx.body = { code: 'standin.not_implemented', message: 'the lobestack Logto stand-in has no Management/Experience API' };
      return undefined;
    }
    if (path === '/unknown-session') {
      return html(ctx, pages.unknownSessionPage());
    }
    if (tenant.name === 'admin' && tenant.adminUser) {
      // An administrator exists: the console asks for its sign-in (first run and registration are over).
      if (path === '/sign-in') return consoleSignIn(ctx, tenant);
      const signedIn = ctx.cookies.get(CONSOLE_COOKIE, { signed: true }) === tenant.adminUser.username;
      if (path === '/' || path === '/console' || path.startsWith('/console/') || path.startsWith('/register')) {
        if (!signedIn) return ctx.redirect(CONSOLE_SIGN_IN);
        if (path === '/console/get-started') return html(ctx, pages.getStartedPage({ admin: tenant.adminUser.username }));
        return ctx.redirect('/console/get-started');
      }
    }
    if (path === '/sign-in') {
      return signIn(ctx, tenant);
    }
    if (tenant.name === 'admin') {
      if (path === '/' || path === '/console' || path === '/console/') return ctx.redirect('/console/welcome');
      if (path === '/console/welcome') return html(ctx, pages.consoleWelcomePage());
      if (path === '/register') return register(ctx, tenant);
      if (path === '/register/password') return registerPassword(ctx, tenant);
      if (path.startsWith('/console/')) return ctx.redirect('/console/welcome');
    } else if (path === '/console' || path.startsWith('/console/') || path.startsWith('/register')) {
      // The default tenant serves no console: Logto's experience app ends on "unknown session".
      return ctx.redirect('/unknown-session');
    }
    return next();
  });

  return app;
}

async function signIn(ctx, tenant) {
  const { provider, users } = tenant;
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

  const finish = async (accountId) => {
    let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    if (!grant) grant = new provider.Grant({ accountId, clientId: appId });
    // first-party app: grant what is asked without a consent screen
    const requested = String(details.params.scope || '').split(' ').filter((s) => SCOPES.includes(s));
    if (requested.length) grant.addOIDCScope(requested.join(' '));
    const missingClaims = details.prompt?.details?.missingOIDCClaims;
    if (missingClaims?.length) grant.addOIDCClaims(missingClaims);
    const missingResourceScopes = details.prompt?.details?.missingResourceScopes || {};
    for (const [indicator, scopes] of Object.entries(missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    const returnTo = await provider.interactionResult(
      ctx.req,
      ctx.res,
      { login: { accountId }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
    ctx.status = 303;
    ctx.redirect(returnTo);
  };

  // Already signed in, only consent pending: first-party apps skip the consent page.
  if (details.prompt.name === 'consent' && details.session?.accountId) {
    return finish(details.session.accountId);
  }

  if (ctx.method === 'GET') {
    return html(ctx, pages.signInPage({ appId }));
  }

  const identifier = (form.get('identifier') || '').trim();
  const password = form.get('password') || '';
  if (!identifier || !password) {
    return html(ctx, pages.signInPage({ appId, identifier, error: 'Username and password are required' }));
  }
  const user = [...users.values()].find((u) => u.username === identifier);
  if (!user || !sameSecret(user.password, password)) {
    log.info(`sign-in failed for ${JSON.stringify(identifier)} (app ${appId})`);
    return html(ctx, pages.signInPage({ appId, identifier, error: 'Invalid credentials' }));
  }
  log.info(`sign-in of ${JSON.stringify(identifier)} (${user.id}) to app ${appId}`);
  return finish(user.id);
}

const USERNAME_RE = /^[A-Z_a-z]\w*$/;

// The console's sign-in once its administrator exists. Real Logto: /console -> ADMIN/oidc/auth (client
// admin-console) -> /sign-in -> /console/callback; the stand-in keeps the page contract (/sign-in with
// identifier, password, submit; errors in role=alert; then /console/...) with a signed cookie instead of OIDC.
const CONSOLE_COOKIE = '_standin_console';
const CONSOLE_SIGN_IN = '/sign-in?app_id=admin-console';

async function consoleSignIn(ctx, tenant) {
  if (ctx.method === 'GET') return html(ctx, pages.signInPage({ appId: 'admin-console' }));
  if (ctx.method !== 'POST') ctx.throw(405);
  const form = await readForm(ctx);
  const identifier = (form.get('identifier') || '').trim();
  const { username, password } = tenant.adminUser;
  if (identifier !== username || !sameSecret(password, form.get('password') || '')) {
    log.info(`console sign-in failed for ${JSON.stringify(identifier)}`);
    return html(ctx, pages.signInPage({ appId: 'admin-console', identifier, error: 'Invalid credentials' }));
  }
  ctx.cookies.set(CONSOLE_COOKIE, username, { signed: true, httpOnly: true, sameSite: 'lax', path: '/' });
  ctx.status = 303;
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
  if (newPassword.length < 8) error = 'Password requires a minimum of 8 characters';
  else if (newPassword !== confirmPassword) error = 'Passwords do not match';
  if (error) return html(ctx, pages.registerPasswordPage({ identifier, error }));
  tenant.adminUser = { username: identifier, password: newPassword };
  log.info(`console administrator ${JSON.stringify(identifier)} created (kept in memory only)`);
  ctx.cookies.set('_standin_register', null, { path: '/register' });
  ctx.cookies.set(CONSOLE_COOKIE, identifier, { signed: true, httpOnly: true, sameSite: 'lax', path: '/' });
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

  const clients = [];
  if (cfg.clientId && cfg.clientSecret && cfg.appUrl) {
    clients.push({
      client_id: cfg.clientId,
      client_secret: cfg.clientSecret,
      client_name: 'LobeChat',
      redirect_uris: [`${cfg.appUrl}/api/auth/callback/logto`],
      post_logout_redirect_uris: [cfg.appUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    log.info(`registered application ${cfg.clientId} with redirect_uri ${cfg.appUrl}/api/auth/callback/logto`);
  } else {
    log.warn('AUTH_LOGTO_ID, AUTH_LOGTO_SECRET and APP_URL are not all set: no application is registered');
  }
  if (!cfg.users.size) log.warn('LOGTO_STANDIN_USERS is empty: nobody can sign in');

  const cookieKeys = [randomBytes(32).toString('base64url')];
  const coreIssuer = `${cfg.endpoint}/oidc`;
  const adminIssuer = `${cfg.adminEndpoint}/oidc`;
  let coreProvider;
  let adminProvider;
  try {
    coreProvider = makeProvider({ issuer: coreIssuer, clients, users: cfg.users, cookieKeys, trustProxy: cfg.trustProxy });
    // The admin tenant has its own issuer and keys and none of the default tenant's applications.
    adminProvider = makeProvider({ issuer: adminIssuer, clients: [], users: new Map(), cookieKeys, trustProxy: cfg.trustProxy });
  } catch (error) {
    return fail(`invalid OIDC configuration: ${error.message}`);
  }
  const tenants = {
    core: { name: 'default', provider: coreProvider, oidc: mount('/oidc', coreProvider), users: cfg.users },
    admin: { name: 'admin', provider: adminProvider, oidc: mount('/oidc', adminProvider), users: new Map() },
  };

  const app = buildApp(cfg, tenants, cookieKeys);
  const handler = app.callback();
  log.info(`issuer ${coreIssuer} (admin tenant: ${adminIssuer}); TRUST_PROXY_HEADER ${cfg.trustProxy ? 'on' : 'off'}`);
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

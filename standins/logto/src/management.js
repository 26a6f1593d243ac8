// The part of Logto's Management API that lobestack calls (packages/core/src/routes/applications/, role.ts,
// admin-user/basics.ts, sign-in-experience/index.ts), behind Logto's koaAuth (packages/core/src/middleware/
// koa-auth/): a JWT for the resource `https://<tenant>.logto.app/api` with scope `all`, signed by this tenant or
// by the admin tenant. Like Logto, the default tenant learns the admin tenant's keys by fetching
// ADMIN_ENDPOINT/oidc/.well-known/openid-configuration and its jwks_uri (node's fetch, NODE_EXTRA_CA_CERTS):
// when that fails every Management API call answers 500.
import { createLocalJWKSet, jwtVerify } from 'jose';

import { assertThat, invalidInput, readJson, RequestError } from './request-error.js';
import { Router } from './router.js';
import { ADMIN_TENANT, ALL, DEFAULT_TENANT, seededSignInExperience, userOf } from './store.js';
import { USERNAME_RE } from './experience.js';

const APPLICATION_TYPES = ['Native', 'SPA', 'Traditional', 'MachineToMachine', 'Protected', 'SAML'];
const ADMIN_SET_TTL_MS = 60 * 60 * 1000;
let adminSet = null; // {keys, issuer, at}

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) {
    const error = new Error(`Request failed with status code ${response.status}: GET ${url}`); // ky's HTTPError
    error.name = 'HTTPError';
    throw error;
  }
  return response.json();
}

/** getAdminTenantTokenValidationSet: the admin tenant's keys and issuer, through its public discovery. */
async function adminTenantValidationSet(adminEndpoint) {
  if (adminSet && Date.now() - adminSet.at < ADMIN_SET_TTL_MS) return adminSet;
  const issuer = `${adminEndpoint}/oidc`;
  const configuration = await fetchJson(`${issuer}/.well-known/openid-configuration`);
  if (!configuration?.jwks_uri) return { keys: [], issuer: [] };
  const jwks = await fetchJson(String(configuration.jwks_uri));
  if (!Array.isArray(jwks?.keys)) return { keys: [], issuer: [] };
  adminSet = { keys: jwks.keys, issuer: [issuer], at: Date.now() };
  return adminSet;
}

export function managementAuth(tenant, audience) {
  return async (ctx, next) => {
    const { authorization } = ctx.headers;
    assertThat(authorization, new RequestError({ code: 'auth.authorization_header_missing', status: 401 }));
    assertThat(
      authorization.startsWith('Bearer'),
      new RequestError({ code: 'auth.authorization_token_type_not_supported', status: 401 }, { supportedTypes: ['Bearer'] }),
    );
    let keys = tenant.publicJwks;
    let issuers = [tenant.issuer];
    if (tenant.name !== ADMIN_TENANT) {
      const admin = await adminTenantValidationSet(tenant.adminEndpoint); // a fetch failure is a 500, as in Logto
      keys = [...keys, ...admin.keys];
      issuers = [...issuers, ...admin.issuer];
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(authorization.slice('Bearer'.length + 1), createLocalJWKSet({ keys }), {
        issuer: issuers,
        audience,
      }));
    } catch (error) {
      tenant.log.info(`Management API token refused: ${error.code ?? error.message}`);
      throw new RequestError({ code: 'auth.unauthorized', status: 401 });
    }
    assertThat(payload.sub, new RequestError({ code: 'auth.jwt_sub_missing', status: 401 }));
    const scopes = String(payload.scope ?? '').split(' ');
    assertThat(scopes.includes(ALL), new RequestError({ code: 'auth.forbidden', status: 403 }));
    ctx.state.auth = { type: payload.sub === payload.client_id ? 'app' : 'user', id: payload.sub };
    return next();
  };
}

/** koaPagination: `page` and `page_size` (at most 100, default 20); `optional` lists disable it without them. */
function paginate(ctx, items, { optional = false } = {}) {
  const { page, page_size: pageSize } = ctx.query;
  if (optional && !page && !pageSize) return items;
  const number = page ? Number(page) : 1;
  const size = pageSize ? Number(pageSize) : 20;
  if (!(number > 0) || !(size > 0) || size > 100) throw new RequestError({ code: 'guard.invalid_pagination', status: 400 });
  ctx.set('Total-Number', String(items.length));
  const offset = Math.floor((number - 1) * size);
  return items.slice(offset, offset + Math.floor(size));
}

function list(value) {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value : [value];
}

/** validateRedirectUrl(url, 'web') || validateRedirectUrl(url, 'mobile') */
function redirectUrlValid(url) {
  if (typeof url !== 'string') return false;
  try {
    const parsed = new URL(url);
    if (['http:', 'https:'].includes(parsed.protocol)) return true;
    return /^[a-z][\d+.a-z-]*:\/\//i.test(url);
  } catch {
    return false;
  }
}

function oidcClientMetadata(value, type = 'body') {
  if (value === undefined) return undefined;
  const ok = value && typeof value === 'object'
    && Array.isArray(value.redirectUris) && value.redirectUris.every(redirectUrlValid)
    && Array.isArray(value.postLogoutRedirectUris) && value.postLogoutRedirectUris.every(redirectUrlValid);
  if (!ok) throw invalidInput(type, 'oidcClientMetadata needs redirectUris and postLogoutRedirectUris, lists of URLs');
  return value;
}

export function managementRouter() {
  const router = new Router();

  router.get('/applications', async (ctx) => {
    const types = list(ctx.query.types);
    if (types && !types.every((t) => APPLICATION_TYPES.includes(t))) throw invalidInput('query', 'unknown application type');
    const found = await ctx.state.tenant.store.findApplications({ types, search: ctx.query.search });
    ctx.body = paginate(ctx, found, { optional: true });
  });

  router.post('/applications', async (ctx) => {
    const { store } = ctx.state.tenant;
    const body = await readJson(ctx);
    if (typeof body?.name !== 'string' || !body.name || !APPLICATION_TYPES.includes(body.type)) {
      throw invalidInput('body', 'name and type are required');
    }
    if (body.type === 'SAML') throw new RequestError('application.saml.use_saml_app_api');
    if (body.type === 'Protected') throw invalidInput('body', 'Protected applications are not in the lobestack stand-in');
    ctx.body = await store.insertApplication({
      name: body.name,
      type: body.type,
      description: body.description ?? null,
      oidcClientMetadata: { redirectUris: [], postLogoutRedirectUris: [], ...oidcClientMetadata(body.oidcClientMetadata) },
      customClientMetadata: body.customClientMetadata ?? {},
      customData: body.customData ?? {},
      isThirdParty: Boolean(body.isThirdParty),
    });
  });

  router.get('/applications/:id', async (ctx) => {
    const { store } = ctx.state.tenant;
    const application = await store.findApplicationById(ctx.params.id);
    ctx.body = { ...application, isAdmin: false };
  });

  router.patch('/applications/:id', async (ctx) => {
    const { store } = ctx.state.tenant;
    const body = await readJson(ctx);
    if (!body || typeof body !== 'object' || 'type' in body || 'isThirdParty' in body) {
      throw invalidInput('body', 'type and isThirdParty cannot be changed');
    }
    await store.findApplicationById(ctx.params.id);
    const { isAdmin, ...rest } = body;
    oidcClientMetadata(rest.oidcClientMetadata);
    ctx.body = await store.updateApplication(ctx.params.id, rest);
  });

  router.delete('/applications/:id', async (ctx) => {
    await ctx.state.tenant.store.deleteApplication(ctx.params.id);
    ctx.status = 204;
  });

  router.get('/applications/:id/secrets', async (ctx) => {
    const { store } = ctx.state.tenant;
    await store.findApplicationById(ctx.params.id);
    ctx.body = await store.findSecrets(ctx.params.id);
  });

  router.post('/applications/:id/secrets', async (ctx) => {
    const { store } = ctx.state.tenant;
    const body = await readJson(ctx);
    if (typeof body?.name !== 'string' || !body.name) throw invalidInput('body', 'name is required');
    assertThat(
      !body.expiresAt || body.expiresAt > Date.now(),
      new RequestError({ code: 'request.invalid_input', details: 'The value of `expiresAt` must be in the future.' }),
    );
    await store.findApplicationById(ctx.params.id);
    ctx.body = await store.insertSecret(ctx.params.id, body.name, body.expiresAt);
    ctx.status = 201;
  });

  router.get('/applications/:id/roles', async (ctx) => {
    const { store } = ctx.state.tenant;
    const application = await store.findApplicationById(ctx.params.id);
    assertThat(application.type === 'MachineToMachine', new RequestError({ code: 'application.invalid_type', status: 422 }));
    const roles = await store.findRoles({ ids: await store.findApplicationRoleIds(ctx.params.id), type: 'MachineToMachine' });
    ctx.body = paginate(ctx, roles);
  });

  router.post('/applications/:id/roles', async (ctx) => {
    const { store } = ctx.state.tenant;
    const body = await readJson(ctx);
    if (!Array.isArray(body?.roleIds) || !body.roleIds.every((id) => typeof id === 'string' && id)) {
      throw invalidInput('body', 'roleIds must be a list of role ids');
    }
    const application = await store.findApplicationById(ctx.params.id);
    assertThat(application.type === 'MachineToMachine', new RequestError({ code: 'application.invalid_type', status: 422 }));
    const assigned = await store.findApplicationRoleIds(ctx.params.id);
    const roles = await store.findRoleRows(body.roleIds);
    for (const role of roles) {
      assertThat(!assigned.includes(role.id), new RequestError({ code: 'application.role_exists', status: 422, roleId: role.id }));
      assertThat(role.type === 'MachineToMachine', new RequestError({ code: 'application.invalid_role_type', status: 422 }));
    }
    for (const id of body.roleIds) {
      if (!roles.some((role) => role.id === id)) throw store.notFound('roles', id);
    }
    await store.insertApplicationRoles(ctx.params.id, body.roleIds);
    ctx.status = 201;
  });

  router.get('/roles', async (ctx) => {
    const { store } = ctx.state.tenant;
    const { type } = ctx.query;
    if (type !== undefined && !['User', 'MachineToMachine'].includes(type)) throw invalidInput('query', 'type is User or MachineToMachine');
    const roles = paginate(ctx, await store.findRoles({ type, search: ctx.query.search }));
    ctx.body = await Promise.all(roles.map(async (role) => {
      const counts = await store.roleCounts(role.id);
      return { ...role, usersCount: counts.users, featuredUsers: [], applicationsCount: counts.applications, featuredApplications: [] };
    }));
  });

  router.get('/users', async (ctx) => {
    const { store } = ctx.state.tenant;
    const username = ctx.query['search.username'];
    const mode = ctx.query['mode.username'] ?? 'like';
    if (!['exact', 'like', 'similar_to', 'posix'].includes(mode)) throw new RequestError({ code: 'request.invalid_input', details: `Search match mode \`${mode}\` is not recognized.` });
    ctx.body = paginate(ctx, await store.findUsers({ username, mode, search: ctx.query.search }));
  });

  router.post('/users', async (ctx) => {
    const { store } = ctx.state.tenant;
    const body = await readJson(ctx);
    if (!body || typeof body !== 'object') throw invalidInput('body', 'expected a JSON object');
    if (body.username !== undefined && !(typeof body.username === 'string' && USERNAME_RE.test(body.username))) {
      throw invalidInput('body', 'username is not valid');
    }
    if (body.password !== undefined && !(typeof body.password === 'string' && body.password.length >= 1)) {
      throw invalidInput('body', 'password must not be empty');
    }
    assertThat(!(body.password && body.passwordDigest), new RequestError('user.password_and_digest'));
    // The Management API does not apply the password policy (the breached-password check included).
    assertThat(
      !body.username || !(await store.findUserRowByUsername(body.username)),
      new RequestError({ code: 'user.username_already_in_use', status: 422 }),
    );
    const row = await store.insertUser({
      username: body.username, password: body.password, name: body.name ?? null, primaryEmail: body.primaryEmail ?? null,
    });
    ctx.state.tenant.log.info(`user ${JSON.stringify(row.username)} (${row.id}) created through the Management API`);
    ctx.body = userOf(row);
  });

  router.get('/users/:userId', async (ctx) => {
    const { store } = ctx.state.tenant;
    const row = await store.findUserRowById(ctx.params.userId);
    if (!row) throw store.notFound('users', ctx.params.userId);
    ctx.body = userOf(row);
  });

  router.get('/sign-in-exp', async (ctx) => {
    ctx.body = await ctx.state.tenant.store.signInExperience();
  });

  router.patch('/sign-in-exp', async (ctx) => {
    const body = await readJson(ctx);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidInput('body', 'expected a JSON object');
    if (body.signInMode !== undefined && !['SignIn', 'Register', 'SignInAndRegister'].includes(body.signInMode)) {
      throw invalidInput('body', 'signInMode is SignIn, Register or SignInAndRegister');
    }
    if (body.passwordPolicy !== undefined && (typeof body.passwordPolicy !== 'object' || body.passwordPolicy === null)) {
      throw invalidInput('body', 'passwordPolicy must be an object');
    }
    // zod strips what the schema does not know: only the sign-in experience's own fields are written
    const known = new Set(Object.keys(seededSignInExperience(DEFAULT_TENANT)));
    const set = Object.fromEntries(Object.entries(body).filter(([key]) => known.has(key) && !['id', 'tenantId'].includes(key)));
    ctx.body = await ctx.state.tenant.store.updateSignInExperience(set);
  });

  return router;
}

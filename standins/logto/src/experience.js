// Logto's experience API (interaction API v2, packages/core/src/routes/experience/) for username + password:
//   PUT  /api/experience {"interactionEvent":"SignIn"|"Register"}                              204
//   POST /api/experience/profile {"type":"username","value"} / {"type":"password","value"}      204
//   POST /api/experience/verification/password {"identifier":{"type":"username","value"},"password"}  200 {verificationId}
//   POST /api/experience/identification {} (Register: creates the user, 201) / {"verificationId"} (SignIn, 204)
//   POST /api/experience/submit                                                                200 {redirectTo}
// The interaction lives in oidc-provider's interaction session (its `result`), as in Logto; without one, every
// route answers 400 session.not_found. The password step applies the tenant's password policy, breached-password
// check included (its service unreachable: 500).
import { randomBytes } from 'node:crypto';

import { checkPassword, fullPolicy } from './password-policy.js';
import { assertThat, invalidInput, readJson, RequestError } from './request-error.js';
import { Router } from './router.js';
import { ADMIN_CONSOLE_ID, ADMIN_ROLE_NAME, ADMIN_TENANT, ADMIN_TENANT_USER_ROLE, encryptPassword, verifyPassword } from './store.js';

const EVENTS = ['SignIn', 'Register', 'ForgotPassword'];
export const USERNAME_RE = /^[A-Z_a-z]\w*$/; // usernameRegEx (@logto/core-kit)

/** SignInExperienceValidator.guardInteractionEvent */
async function guardInteractionEvent(tenant, event) {
  const { signInMode } = await tenant.store.signInExperience();
  if (event === 'SignIn') assertThat(signInMode !== 'Register', new RequestError({ code: 'auth.forbidden', status: 403 }));
  if (event === 'Register') assertThat(signInMode !== 'SignIn', new RequestError({ code: 'auth.forbidden', status: 403 }));
}

/** PasswordValidator.validatePassword: 422 password.rejected with the issues; a failed breached-password fetch throws. */
export async function validatePassword(tenant, password, profile) {
  const sie = await tenant.store.signInExperience();
  const policy = fullPolicy(sie.passwordPolicy);
  const userInfo = policy.rejects.userInfo ? { username: profile.username, name: profile.name } : {};
  const issues = await checkPassword(policy, password, userInfo);
  if (issues.length > 0) throw new RequestError({ code: 'password.rejected', status: 422 }, issues);
}

/**
 * ProvisionLibrary.createUser: in the admin tenant every user gets the `user` role; the first one, registered
 * through the admin console's own client, also gets `default:admin` (the Management API of the default tenant),
 * and registration then closes (signInMode SignIn).
 */
export async function createUser(tenant, { username, passwordEncrypted, name = null }, clientId) {
  const firstAdmin = tenant.name === ADMIN_TENANT && clientId === ADMIN_CONSOLE_ID && !(await tenant.store.hasActiveUsers());
  const roleNames = tenant.name === ADMIN_TENANT ? [ADMIN_TENANT_USER_ROLE, ...(firstAdmin ? [ADMIN_ROLE_NAME] : [])] : [];
  const row = await tenant.store.insertUser({ username, passwordEncrypted, name, roleNames });
  if (firstAdmin) await tenant.store.updateSignInExperience({ signInMode: 'SignIn' });
  tenant.log.info(`user ${JSON.stringify(username)} (${row.id}) registered in the ${tenant.name} tenant${firstAdmin ? ' as its first admin' : ''}`);
  return row;
}

function storage(details) {
  const result = details.result ?? {};
  assertThat(
    EVENTS.includes(result.interactionEvent),
    new RequestError({ code: 'session.interaction_not_found', status: 404 }),
  );
  return {
    interactionEvent: result.interactionEvent,
    userId: result.userId,
    profile: result.profile ?? {},
    verificationRecords: result.verificationRecords ?? [],
  };
}

async function save(ctx, tenant, interaction) {
  const details = await tenant.provider.interactionDetails(ctx.req, ctx.res);
  await tenant.provider.interactionResult(ctx.req, ctx.res, { ...details.result, ...interaction }, { mergeWithLastSubmission: true });
}

export function experienceRouter() {
  const router = new Router();

  // koaInteractionDetails: every experience route needs a live interaction (oidc-provider's SessionNotFound).
  router.use(async (ctx, next) => {
    ctx.state.details = await ctx.state.tenant.provider.interactionDetails(ctx.req, ctx.res);
    return next();
  });

  router.put('/experience', async (ctx) => {
    const { tenant } = ctx.state;
    const body = await readJson(ctx);
    if (!EVENTS.includes(body?.interactionEvent)) throw invalidInput('body', 'interactionEvent must be SignIn, Register or ForgotPassword');
    await save(ctx, tenant, { interactionEvent: body.interactionEvent, userId: undefined, profile: {}, verificationRecords: [] });
    ctx.status = 204;
  });

  router.post('/experience/profile', async (ctx) => {
    const { tenant, details } = ctx.state;
    const interaction = storage(details);
    const body = await readJson(ctx);
    assertThat(
      interaction.interactionEvent !== 'ForgotPassword',
      new RequestError({ code: 'session.not_supported_for_forgot_password', status: 400 }),
    );
    if (body?.type === 'username') {
      if (typeof body.value !== 'string' || !USERNAME_RE.test(body.value)) throw invalidInput('body', 'value is not a valid username');
      assertThat(
        !(await tenant.store.findUserRowByUsername(body.value)),
        new RequestError({ code: 'user.username_already_in_use', status: 422 }),
      );
      interaction.profile = { ...interaction.profile, username: body.value };
    } else if (body?.type === 'password') {
      if (typeof body.value !== 'string') throw invalidInput('body', 'value must be a string');
      await validatePassword(tenant, body.value, interaction.profile);
      interaction.profile = { ...interaction.profile, passwordEncrypted: await encryptPassword(body.value) };
    } else {
      // email, phone, social and extraProfile need verification codes and connectors: not in the stand-in
      throw invalidInput('body', 'the lobestack stand-in supports profile types username and password only');
    }
    await save(ctx, tenant, interaction);
    ctx.status = 204;
  });

  router.post('/experience/verification/password', async (ctx) => {
    const { tenant, details } = ctx.state;
    const interaction = storage(details);
    const body = await readJson(ctx);
    const identifier = body?.identifier;
    if (!identifier || typeof identifier.value !== 'string' || !['username', 'email', 'phone'].includes(identifier.type)
      || typeof body.password !== 'string') {
      throw invalidInput('body', 'expected {"identifier":{"type","value"},"password"}');
    }
    const user = identifier.type === 'username' ? await tenant.store.findUserRowByUsername(identifier.value) : undefined;
    const ok = user && (await verifyPassword(user.password_encrypted, body.password));
    if (!ok) {
      tenant.log.info(`password verification failed for ${JSON.stringify(identifier.value)}`);
      throw new RequestError({ code: 'session.invalid_credentials', status: 422 });
    }
    assertThat(!user.is_suspended, new RequestError({ code: 'user.suspended', status: 401 }));
    const verificationId = randomBytes(16).toString('base64url').slice(0, 21);
    interaction.verificationRecords = [
      ...interaction.verificationRecords.filter((r) => r.type !== 'Password'),
      { id: verificationId, type: 'Password', identifier, verified: true, userId: user.id },
    ];
    await save(ctx, tenant, interaction);
    ctx.body = { verificationId };
  });

  router.post('/experience/identification', async (ctx) => {
    const { tenant, details } = ctx.state;
    const interaction = storage(details);
    const { verificationId } = await readJson(ctx);
    if (interaction.interactionEvent === 'Register') {
      if (verificationId) {
        throw new RequestError({ code: 'session.verification_session_not_found', status: 404 });
      }
      await guardInteractionEvent(tenant, 'Register');
      const missing = [
        ...(interaction.profile.username ? [] : ['username']),
        ...(interaction.profile.passwordEncrypted ? [] : ['password']),
      ];
      assertThat(!missing.length, new RequestError({ code: 'user.missing_profile', status: 422 }, { missingProfile: missing }));
      const user = await createUser(tenant, interaction.profile, details.params.client_id);
      interaction.userId = user.id;
      interaction.profile = {};
      await save(ctx, tenant, interaction);
      ctx.status = 201;
      return;
    }
    if (!verificationId) throw new RequestError({ code: 'guard.invalid_input', status: 400, details: 'verificationId is missing' });
    const record = interaction.verificationRecords.find((r) => r.id === verificationId);
    assertThat(record, new RequestError({ code: 'session.verification_session_not_found', status: 404 }));
    await guardInteractionEvent(tenant, interaction.interactionEvent);
    assertThat(record.verified, new RequestError({ code: 'session.verification_failed', status: 400 }));
    if (interaction.userId) {
      assertThat(interaction.userId === record.userId, new RequestError({ code: 'session.identity_conflict', status: 409 }));
    }
    interaction.userId = record.userId;
    await save(ctx, tenant, interaction);
    ctx.status = 204;
  });

  router.post('/experience/submit', async (ctx) => {
    const { tenant, details } = ctx.state;
    const interaction = storage(details);
    assertThat(interaction.userId, new RequestError({ code: 'session.identifier_not_found', status: 404 }));
    const user = await tenant.store.findUserRowById(interaction.userId);
    assertThat(user, new RequestError({ code: 'session.identifier_not_found', status: 404 }));
    await tenant.store.touchSignIn(user.id);
    const redirectTo = await tenant.provider.interactionResult(ctx.req, ctx.res, {
      login: { accountId: user.id },
      ...interaction,
    });
    tenant.log.info(`${interaction.interactionEvent} of ${JSON.stringify(user.username)} (${user.id}) to app ${details.params.client_id}`);
    ctx.body = { redirectTo };
  });

  return router;
}

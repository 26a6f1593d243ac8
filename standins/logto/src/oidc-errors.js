// Logto's answer to oidc-provider errors, as Logto 1.37.1 builds it (packages/core/src/middleware/
// koa-oidc-error-handler.ts and the `renderError` of packages/core/src/oidc/init.ts):
//   - `renderError` puts oidc-provider's own error object in the body, so an error page is JSON too;
//   - a middleware around every OIDC route then adds Logto's `code` (`oidc.<error>`, or `session.not_found`),
//     an English `message` (Logto's phrases) and, for invalid_grant, `error_uri`, before oidc-provider's
//     `error` / `error_description` (and, at /oidc/auth, `state` / `iss`).
// `?parse_error=false` returns oidc-provider's body unchanged, as in Logto.
import { errors } from 'oidc-provider';

// packages/phrases/src/locales/en/errors/oidc.ts (errors:oidc.*) and errors/session.ts (session.not_found)
const MESSAGES = {
  'oidc.aborted': 'The end-user aborted interaction.',
  'oidc.invalid_scope': 'Invalid scope: {{error_description}}.',
  'oidc.invalid_token': 'Invalid token provided.',
  'oidc.invalid_client_metadata': 'Invalid client metadata provided.',
  'oidc.insufficient_scope': 'Token missing scope `{{scope}}`.',
  'oidc.invalid_request': 'Request is invalid.',
  'oidc.invalid_grant': 'Grant request is invalid.',
  'oidc.invalid_issuer': 'Invalid issuer.',
  'oidc.invalid_redirect_uri': "`redirect_uri` did not match any of the client's registered `redirect_uris`.",
  'oidc.access_denied': 'Access denied.',
  'oidc.invalid_target': 'Invalid resource indicator.',
  'oidc.unsupported_grant_type': 'Unsupported `grant_type` requested.',
  'oidc.unsupported_response_mode': 'Unsupported `response_mode` requested.',
  'oidc.unsupported_response_type': 'Unsupported `response_type` requested.',
  'oidc.server_error': 'An unknown OIDC error occurred. Please try again later.',
  'session.not_found': 'Session not found. Please go back and sign in again.',
};
const FALLBACK = 'An OIDC error occurred: {{code}}.'; // errors:oidc.provider_error_fallback

const ERROR_URIS = { invalid_grant: 'https://openid.sh/debug/invalid_grant' };

// Logto translates with `t(key, { code })`: only {{code}} has a value; i18next leaves other variables empty.
function message(code) {
  return (MESSAGES[code] ?? FALLBACK).replace(/\{\{(\w+)\}\}/g, (_, name) => (name === 'code' ? code : ''));
}

function isSessionNotFound(description) {
  return Boolean(
    (description?.includes('session') && description.includes('not found'))
      || description?.includes('authorization request has expired'),
  );
}

// oidc-provider's err_out, as Logto's copy of it.
function errorOut(error) {
  if (error.expose) {
    const out = { error: error.message };
    if (error.error_description !== undefined) out.error_description = error.error_description;
    if (error.scope !== undefined) out.scope = error.scope;
    return out;
  }
  return { error: 'server_error', error_description: 'oops! something went wrong' };
}

// oidc-provider `renderError`: the error object itself, as JSON.
export async function renderError(ctx, out) {
  ctx.body = out;
}

export async function oidcErrorHandler(ctx, next) {
  try {
    await next();
  } catch (error) {
    if (!(error instanceof errors.OIDCProviderError)) throw error;
    ctx.status = error.statusCode || 500;
    ctx.body = errorOut(error);
  }
  if (ctx.query.parse_error === 'false') return;
  const { body } = ctx;
  if (
    ctx.status >= 400
    && body !== null
    && typeof body === 'object'
    && typeof body.error === 'string'
    && (body.error_description === undefined || typeof body.error_description === 'string')
  ) {
    const code = isSessionNotFound(body.error_description) ? 'session.not_found' : `oidc.${body.error}`;
    ctx.body = { code, message: message(code), error_uri: ERROR_URIS[body.error], ...body };
  }
}

// Logto's RequestError and the body its error handler sends (packages/core/src/errors/RequestError/index.ts,
// packages/core/src/middleware/koa-error-handler.ts): `{code, data?, details?, message}` with the English phrase of
// `errors:<code>` (packages/phrases/src/locales/en/errors/*.ts); any other error is 500
// `{"message":"Internal server error."}`; a body that is not JSON is 400 `{message}` (the SyntaxError's).

const PHRASES = {
  'auth.authorization_header_missing': 'Authorization header is missing.',
  'auth.authorization_token_type_not_supported': 'Authorization type is not supported.',
  'auth.unauthorized': 'Unauthorized. Please check credentials and its scope.',
  'auth.forbidden': 'Forbidden. Please check your user roles and permissions.',
  'auth.jwt_sub_missing': 'Missing `sub` in JWT.',
  'guard.invalid_input': 'The request {{type}} is invalid.',
  'guard.invalid_pagination': 'The request pagination value is invalid.',
  'entity.not_exists_with_id': 'The {{name}} with ID `{{id}}` does not exist.',
  'entity.not_found': 'The resource does not exist.',
  'request.invalid_input': 'Input is invalid. {{details}}',
  'application.invalid_type': 'Only machine to machine applications can have associated roles.',
  'application.role_exists': 'The role id {{roleId}} is already been added to this application.',
  'application.invalid_role_type': 'Can not assign user type role to machine to machine application.',
  'session.not_found': 'Session not found. Please go back and sign in again.',
  'session.invalid_credentials': 'Incorrect account or password. Please check your input.',
  'session.interaction_not_found': 'Interaction session not found. Please go back and start the session again.',
  'session.invalid_interaction_type':
    'This operation is not supported for the current interaction. Please initiate a new session.',
  'session.identifier_not_found': 'User identifier not found. Please go back and sign in again.',
  'session.verification_session_not_found':
    'The verification was not successful. Restart the verification flow and try again.',
  'session.verification_failed': 'The verification was not successful. Restart the verification flow and try again.',
  'session.identity_conflict':
    'Identity mismatch detected. Please initiate a new session to proceed with a different identity.',
  'user.username_already_in_use': 'This username is already in use.',
  'user.user_not_exist': 'User with {{ identifier }} does not exist.',
  'user.missing_profile': 'You need to provide additional info before signing-in.',
  'user.sign_up_method_not_enabled': 'This sign-up method is not enabled.',
  'user.sign_in_method_not_enabled': 'This sign-in method is not enabled.',
  'user.suspended': 'This account is suspended.',
  'user.password_and_digest': 'You cannot set both plain text password and password digest.',
  'password.rejected': 'Password rejected. Please check if your password meets the requirements.',
};

function interpolate(template, values) {
  // i18next: {{name}} (and {{ name }}) from the interpolation values; unknown ones become empty.
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name) => (values[name] === undefined ? '' : String(values[name])));
}

export class RequestError extends Error {
  constructor(input, data) {
    const { code, status = 400, ...interpolation } = typeof input === 'string' ? { code: input } : input;
    const message = interpolate(PHRASES[code] ?? code, interpolation);
    super(message);
    this.name = 'RequestError';
    this.code = code;
    this.status = status;
    this.data = data;
    this.details = interpolation.details;
  }

  toBody() {
    const body = { code: this.code };
    if (this.data !== undefined) body.data = this.data;
    if (this.details !== undefined) body.details = this.details;
    body.message = this.message;
    return body;
  }
}

export function assertThat(value, error) {
  if (!value) throw error instanceof Error ? error : new RequestError(error);
}

/** A zod-like guard failure: 400 guard.invalid_input for the body, query or params, with the reason in `details`. */
export function invalidInput(type, details) {
  return new RequestError({ code: 'guard.invalid_input', type, details });
}

/** koaErrorHandler: the outermost middleware of a tenant's app. */
export function errorHandler(log) {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof RequestError) {
        ctx.status = error.status;
        ctx.body = error.toBody();
        return;
      }
      if (error instanceof SyntaxError && error.expose !== false && error.jsonBody) {
        ctx.status = 400;
        ctx.body = { message: error.message };
        return;
      }
      if (typeof error?.status === 'number' && error.status < 500 && error.expose) throw error; // koa's own
      log.error(`${ctx.method} ${ctx.path}:`, error?.stack || error);
      if (error?.cause) log.error('  cause:', error.cause?.message || error.cause);
      ctx.status = 500;
      ctx.body = { message: 'Internal server error.' };
    }
  };
}

/** The JSON body of a request ({} when empty), as koa-body gives it to Logto's guards. */
export async function readJson(ctx, limit = 1024 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > limit) ctx.throw(413, 'request entity too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    error.jsonBody = true;
    throw error;
  }
}

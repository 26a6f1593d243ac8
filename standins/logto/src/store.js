// What the stand-in keeps in PostgreSQL: applications and their secrets, roles, users and the sign-in experience of
// each tenant. The stand-in's own schema (not Logto's), seeded by `cli db seed` with what a fresh Logto 1.37.1 has:
// the Management API resource and its `all` scope, the "Logto Management API access" machine-to-machine role in
// the default tenant, the `default:admin` user role in the admin tenant, and both sign-in experiences
// (packages/cli/src/commands/database/seed/tables.ts, packages/schemas/src/seeds/*.ts).
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

import { generateInternalSecret, generateStandardId, generateStandardSecret, generateStandardShortId } from './ids.js';
import { RequestError } from './request-error.js';

const scryptAsync = promisify(scrypt);

export const DEFAULT_TENANT = 'default';
export const ADMIN_TENANT = 'admin';
export const MANAGEMENT_API = 'https://default.logto.app/api'; // getManagementApiResourceIndicator('default')
export const ALL = 'all'; // PredefinedScope.All
export const M2M_ROLE_NAME = 'Logto Management API access';
export const ADMIN_ROLE_NAME = 'default:admin'; // defaultManagementApiAdminName
export const ADMIN_TENANT_USER_ROLE = 'user'; // AdminTenantRole.User
export const ADMIN_CONSOLE_ID = 'admin-console';

/** The API resources of each tenant (indicator -> access token TTL); their only scope is `all`. */
export const RESOURCES = {
  [DEFAULT_TENANT]: new Map([[MANAGEMENT_API, 3600]]),
  [ADMIN_TENANT]: new Map([
    [MANAGEMENT_API, 3600],
    ['https://admin.logto.app/api', 3600],
    ['https://admin.logto.app/me', 3600],
  ]),
};

export const SCHEMA = `
  CREATE TABLE applications (
    tenant_id varchar(21) NOT NULL REFERENCES tenants (id),
    id varchar(21) PRIMARY KEY,
    name varchar(256) NOT NULL,
    secret varchar(64) NOT NULL,
    description text,
    type varchar(32) NOT NULL,
    oidc_client_metadata jsonb NOT NULL,
    custom_client_metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    custom_data jsonb NOT NULL DEFAULT '{}'::jsonb,
    is_third_party boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE application_secrets (
    tenant_id varchar(21) NOT NULL REFERENCES tenants (id),
    application_id varchar(21) NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name varchar(256) NOT NULL,
    value varchar(64) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    PRIMARY KEY (tenant_id, application_id, name)
  );
  CREATE TABLE roles (
    tenant_id varchar(21) NOT NULL REFERENCES tenants (id),
    id varchar(21) PRIMARY KEY,
    name varchar(128) NOT NULL,
    description varchar(128) NOT NULL,
    type varchar(32) NOT NULL,
    is_default boolean NOT NULL DEFAULT false,
    scopes jsonb NOT NULL DEFAULT '[]'::jsonb,
    UNIQUE (tenant_id, name)
  );
  CREATE TABLE applications_roles (
    tenant_id varchar(21) NOT NULL REFERENCES tenants (id),
    application_id varchar(21) NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    role_id varchar(21) NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (application_id, role_id)
  );
  CREATE TABLE users (
    tenant_id varchar(21) NOT NULL REFERENCES tenants (id),
    id varchar(12) PRIMARY KEY,
    username varchar(128),
    primary_email varchar(128),
    primary_phone varchar(128),
    name varchar(128),
    avatar varchar(2048),
    password_encrypted varchar(256),
    custom_data jsonb NOT NULL DEFAULT '{}'::jsonb,
    profile jsonb NOT NULL DEFAULT '{}'::jsonb,
    is_suspended boolean NOT NULL DEFAULT false,
    last_sign_in_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE UNIQUE INDEX users__username ON users (tenant_id, lower(username));
  CREATE TABLE users_roles (
    tenant_id varchar(21) NOT NULL REFERENCES tenants (id),
    user_id varchar(12) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id varchar(21) NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
  );
  CREATE TABLE sign_in_experiences (
    tenant_id varchar(21) PRIMARY KEY REFERENCES tenants (id),
    data jsonb NOT NULL
  );
`;

const allScope = JSON.stringify([{ indicator: MANAGEMENT_API, name: ALL }]);

/** packages/schemas/src/seeds/sign-in-experience.ts (OSS), the fields the stand-in serves. */
export function seededSignInExperience(tenantId) {
  return {
    tenantId,
    id: 'default',
    color: { primaryColor: '#6139F6', isDarkModeEnabled: tenantId === ADMIN_TENANT, darkPrimaryColor: '#8c6bf8' },
    branding: { logoUrl: 'https://logto.io/logo.svg', darkLogoUrl: 'https://logto.io/logo-dark.svg' },
    hideLogtoBranding: false,
    languageInfo: { autoDetect: true, fallbackLanguage: 'en' },
    termsOfUseUrl: null,
    privacyPolicyUrl: null,
    agreeToTermsPolicy: 'Automatic',
    signIn: {
      methods: [{ identifier: 'username', password: true, verificationCode: false, isPasswordPrimary: true }],
    },
    signUp: { identifiers: ['username'], password: true, verify: false },
    socialSignIn: {},
    socialSignInConnectorTargets: [],
    signInMode: tenantId === ADMIN_TENANT ? 'Register' : 'SignInAndRegister',
    customCss: null,
    customContent: {},
    customUiAssets: null,
    passwordPolicy: {},
    mfa: tenantId === ADMIN_TENANT
      ? { factors: ['Totp', 'WebAuthn', 'BackupCode'], policy: 'NoPrompt', organizationRequiredMfaPolicy: 'Mandatory' }
      : { factors: [], policy: 'UserControlled' },
    singleSignOnEnabled: false,
    supportEmail: null,
    supportWebsiteUrl: null,
    unknownSessionRedirectUrl: null,
    captchaPolicy: {},
    sentinelPolicy: {},
    emailBlocklistPolicy: {},
    forgotPasswordMethods: [],
    passkeySignIn: {},
  };
}

/** Run inside the seed transaction, after the tenants exist. */
export async function seedEntities(client) {
  await client.query(SCHEMA);
  const role = (tenant, name, description, type, scopes = '[]') => client.query(
    'INSERT INTO roles (tenant_id, id, name, description, type, scopes) VALUES ($1, $2, $3, $4, $5, $6)',
    [tenant, generateStandardId(), name, description, type, scopes],
  );
  await role(DEFAULT_TENANT, '#internal:admin', 'Internal admin role for Logto tenant default.', 'MachineToMachine', allScope);
  await role(DEFAULT_TENANT, M2M_ROLE_NAME, 'This default role grants access to the Logto management API.', 'MachineToMachine', allScope);
  await role(ADMIN_TENANT, ADMIN_TENANT_USER_ROLE, 'Default role for admin tenant.', 'User');
  await role(ADMIN_TENANT, ADMIN_ROLE_NAME, 'Admin role for Logto tenant default.', 'User', allScope);
  for (const tenant of [DEFAULT_TENANT, ADMIN_TENANT]) {
    await client.query('INSERT INTO sign_in_experiences (tenant_id, data) VALUES ($1, $2)', [
      tenant, JSON.stringify(seededSignInExperience(tenant)),
    ]);
  }
}

// ---------------------------------------------------------------- rows as the Management API shows them

const iso = (value) => (value instanceof Date ? value.getTime() : value ?? null);

function applicationOf(row) {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    name: row.name,
    secret: row.secret,
    description: row.description,
    type: row.type,
    oidcClientMetadata: row.oidc_client_metadata,
    customClientMetadata: row.custom_client_metadata,
    protectedAppMetadata: null,
    customData: row.custom_data,
    isThirdParty: row.is_third_party,
    createdAt: iso(row.created_at),
  };
}

function secretOf(row) {
  return {
    tenantId: row.tenant_id,
    applicationId: row.application_id,
    name: row.name,
    value: row.value,
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
  };
}

function roleOf(row) {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    name: row.name,
    description: row.description,
    type: row.type,
    isDefault: row.is_default,
  };
}

/** userInfoSelectFields + hasPassword (transpileUserProfileResponse). */
export function userOf(row) {
  return {
    id: row.id,
    username: row.username,
    primaryEmail: row.primary_email,
    primaryPhone: row.primary_phone,
    name: row.name,
    avatar: row.avatar,
    customData: row.custom_data,
    identities: {},
    lastSignInAt: iso(row.last_sign_in_at),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    profile: row.profile,
    applicationId: null,
    isSuspended: row.is_suspended,
    hasPassword: Boolean(row.password_encrypted),
  };
}

// ---------------------------------------------------------------- passwords (scrypt; Logto uses Argon2i)

export async function encryptPassword(password) {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32);
  return `scrypt:${salt.toString('base64')}:${hash.toString('base64')}`;
}

export async function verifyPassword(encrypted, password) {
  const [kind, salt, hash] = String(encrypted ?? '').split(':');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(expected, actual);
}

// ---------------------------------------------------------------- queries of one tenant

export class TenantStore {
  constructor(pool, tenantId) {
    this.pool = pool;
    this.tenantId = tenantId;
  }

  async q(text, values = []) {
    return (await this.pool.query(text, values)).rows;
  }

  notFound(name, id) {
    return new RequestError({ code: 'entity.not_exists_with_id', status: 404, name, id });
  }

  // --- applications
  async findApplications({ types, search } = {}) {
    const rows = await this.q('SELECT * FROM applications WHERE tenant_id = $1 ORDER BY created_at DESC, id', [this.tenantId]);
    return rows
      .filter((row) => !types?.length || types.includes(row.type))
      .filter((row) => !search || row.name.toLowerCase().includes(search.toLowerCase())
        || row.id.includes(search) || (row.description ?? '').toLowerCase().includes(search.toLowerCase()))
      .map(applicationOf);
  }

  async findApplicationRow(id) {
    const [row] = await this.q('SELECT * FROM applications WHERE tenant_id = $1 AND id = $2', [this.tenantId, id]);
    return row;
  }

  async findApplicationById(id) {
    const row = await this.findApplicationRow(id);
    if (!row) throw this.notFound('applications', id);
    return applicationOf(row);
  }

  async insertApplication({ name, type, description = null, oidcClientMetadata, customClientMetadata = {}, customData = {}, isThirdParty = false }) {
    const [row] = await this.q(
      `INSERT INTO applications (tenant_id, id, name, secret, description, type, oidc_client_metadata,
         custom_client_metadata, custom_data, is_third_party)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
      [this.tenantId, generateStandardId(), name, generateInternalSecret(), description, type,
        JSON.stringify(oidcClientMetadata), JSON.stringify(customClientMetadata), JSON.stringify(customData), isThirdParty],
    );
    if (['MachineToMachine', 'Traditional', 'Protected'].includes(type)) {
      await this.insertSecret(row.id, 'Default secret');
    }
    return applicationOf(row);
  }

  async updateApplication(id, set) {
    const columns = {
      name: 'name', description: 'description', oidcClientMetadata: 'oidc_client_metadata',
      customClientMetadata: 'custom_client_metadata', customData: 'custom_data',
    };
    const entries = Object.entries(set).filter(([key]) => key in columns);
    if (!entries.length) return this.findApplicationById(id);
    const assignments = entries.map(([key], i) => `${columns[key]} = $${i + 3}`).join(', ');
    const values = entries.map(([, value]) => (typeof value === 'object' && value !== null ? JSON.stringify(value) : value));
    const [row] = await this.q(
      `UPDATE applications SET ${assignments} WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [this.tenantId, id, ...values],
    );
    if (!row) throw this.notFound('applications', id);
    return applicationOf(row);
  }

  async deleteApplication(id) {
    const rows = await this.q('DELETE FROM applications WHERE tenant_id = $1 AND id = $2 RETURNING id', [this.tenantId, id]);
    if (!rows.length) throw this.notFound('applications', id);
  }

  // --- application secrets
  async insertSecret(applicationId, name, expiresAt = null) {
    const [row] = await this.q(
      `INSERT INTO application_secrets (tenant_id, application_id, name, value, expires_at)
       VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [this.tenantId, applicationId, name, generateStandardSecret(), expiresAt ? new Date(expiresAt) : null],
    );
    return secretOf(row);
  }

  async findSecrets(applicationId) {
    const rows = await this.q(
      'SELECT * FROM application_secrets WHERE tenant_id = $1 AND application_id = $2 ORDER BY created_at, name',
      [this.tenantId, applicationId],
    );
    return rows.map(secretOf);
  }

  /** applicationSecrets.findByCredentials: the secret row whose value matches, with the app's internal secret. */
  async findSecretByCredentials(applicationId, value) {
    const [row] = await this.q(
      `SELECT s.*, a.secret AS original_secret FROM application_secrets s JOIN applications a ON a.id = s.application_id
       WHERE s.tenant_id = $1 AND s.application_id = $2 AND s.value = $3`,
      [this.tenantId, applicationId, value],
    );
    return row ? { ...secretOf(row), originalSecret: row.original_secret } : undefined;
  }

  // --- roles
  async findRoles({ type, ids, search } = {}) {
    const rows = await this.q('SELECT * FROM roles WHERE tenant_id = $1 ORDER BY name', [this.tenantId]);
    return rows
      .filter((row) => !row.name.startsWith('#internal:'))
      .filter((row) => !type || row.type === type)
      .filter((row) => !ids || ids.includes(row.id))
      .filter((row) => !search || row.name.toLowerCase().includes(search.toLowerCase()))
      .map(roleOf);
  }

  async findRoleRows(ids) {
    return this.q('SELECT * FROM roles WHERE tenant_id = $1 AND id = ANY($2)', [this.tenantId, ids]);
  }

  async findApplicationRoleIds(applicationId) {
    const rows = await this.q('SELECT role_id FROM applications_roles WHERE tenant_id = $1 AND application_id = $2',
      [this.tenantId, applicationId]);
    return rows.map((row) => row.role_id);
  }

  async insertApplicationRoles(applicationId, roleIds) {
    for (const roleId of roleIds) {
      await this.q('INSERT INTO applications_roles (tenant_id, application_id, role_id) VALUES ($1, $2, $3)',
        [this.tenantId, applicationId, roleId]);
    }
  }

  async roleCounts(roleId) {
    const [row] = await this.q(
      `SELECT (SELECT count(*) FROM users_roles WHERE role_id = $1)::int AS users,
              (SELECT count(*) FROM applications_roles WHERE role_id = $1)::int AS applications`, [roleId]);
    return row;
  }

  /** The names of the scopes of `indicator` that an application's or a user's roles grant. */
  async scopesFor({ applicationId, userId }, indicator) {
    const rows = applicationId
      ? await this.q(`SELECT r.scopes FROM roles r JOIN applications_roles ar ON ar.role_id = r.id
                      WHERE ar.tenant_id = $1 AND ar.application_id = $2`, [this.tenantId, applicationId])
      : await this.q(`SELECT r.scopes FROM roles r JOIN users_roles ur ON ur.role_id = r.id
                      WHERE ur.tenant_id = $1 AND ur.user_id = $2`, [this.tenantId, userId]);
    const names = new Set();
    for (const row of rows) for (const scope of row.scopes) if (scope.indicator === indicator) names.add(scope.name);
    return [...names];
  }

  // --- users
  async hasActiveUsers() {
    const [row] = await this.q('SELECT count(*)::int AS n FROM users WHERE tenant_id = $1 AND NOT is_suspended', [this.tenantId]);
    return row.n > 0;
  }

  async findUserRowByUsername(username) {
    const [row] = await this.q('SELECT * FROM users WHERE tenant_id = $1 AND lower(username) = lower($2)', [this.tenantId, username]);
    return row;
  }

  async findUserRowById(id) {
    const [row] = await this.q('SELECT * FROM users WHERE tenant_id = $1 AND id = $2', [this.tenantId, id]);
    return row;
  }

  async findUsers({ username, mode = 'like', search } = {}) {
    const rows = await this.q('SELECT * FROM users WHERE tenant_id = $1 ORDER BY created_at DESC', [this.tenantId]);
    const like = (value, pattern) => {
      const needle = pattern.replace(/%/g, '').toLowerCase();
      return (value ?? '').toLowerCase().includes(needle);
    };
    return rows
      .filter((row) => username === undefined
        || (mode === 'exact' ? row.username === username : like(row.username, username)))
      .filter((row) => !search || like(row.username, search) || like(row.name, search) || like(row.primary_email, search)
        || row.id === search)
      .map(userOf);
  }

  async insertUser({ username, password, passwordEncrypted = null, name = null, primaryEmail = null, roleNames = [] }) {
    const encrypted = password ? await encryptPassword(password) : passwordEncrypted;
    const [row] = await this.q(
      `INSERT INTO users (tenant_id, id, username, name, primary_email, password_encrypted)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [this.tenantId, generateStandardShortId(), username ?? null, name, primaryEmail, encrypted],
    );
    if (roleNames.length) {
      await this.q(
        `INSERT INTO users_roles (tenant_id, user_id, role_id)
         SELECT $1::varchar, $2::varchar, id FROM roles WHERE tenant_id = $1::varchar AND name = ANY($3::text[])`,
        [this.tenantId, row.id, roleNames],
      );
    }
    return row;
  }

  async touchSignIn(userId) {
    await this.q('UPDATE users SET last_sign_in_at = now(), updated_at = now() WHERE tenant_id = $1 AND id = $2',
      [this.tenantId, userId]);
  }

  // --- sign-in experience
  async signInExperience() {
    const [row] = await this.q('SELECT data FROM sign_in_experiences WHERE tenant_id = $1', [this.tenantId]);
    return row.data;
  }

  /** updateDefaultSignInExperience: top-level keys replace the stored ones (jsonbMode 'replace'). */
  async updateSignInExperience(set) {
    const [row] = await this.q(
      'UPDATE sign_in_experiences SET data = data || $2::jsonb WHERE tenant_id = $1 RETURNING data',
      [this.tenantId, JSON.stringify(set)],
    );
    return row.data;
  }
}

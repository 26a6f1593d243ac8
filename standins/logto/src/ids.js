// Ids and secrets shaped as Logto makes them (packages/shared/src/utils/id.ts: nanoid alphabets).
import { randomInt } from 'node:crypto';

const LOWER = '0123456789abcdefghijklmnopqrstuvwxyz';
const MIXED = `${LOWER}ABCDEFGHIJKLMNOPQRSTUVWXYZ`;

function build(alphabet, size) {
  return () => Array.from({ length: size }, () => alphabet[randomInt(alphabet.length)]).join('');
}

/** Applications, roles, resources: 21 characters [0-9a-z]. */
export const generateStandardId = build(LOWER, 21);
/** Users: 12 characters [0-9a-z]. */
export const generateStandardShortId = build(LOWER, 12);
/** Application secrets: 32 characters [0-9a-zA-Z]. */
export const generateStandardSecret = build(MIXED, 32);
/** packages/schemas/src/consts/system.ts */
export const internalPrefix = '#internal:';
/** The legacy `secret` column of an application (packages/core/src/routes/applications/application-secret.ts). */
export const generateInternalSecret = () => internalPrefix + generateStandardSecret();

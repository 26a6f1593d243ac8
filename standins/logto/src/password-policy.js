// Logto's password policy, ported from @logto/core-kit 1.37.1 (packages/toolkit/core-kit/src/password-policy.ts).
// The breached-password check is the real one: it fetches https://api.pwnedpasswords.com/range/<5 hex of SHA-1>
// with node's fetch, so an install that cannot reach that service fails with "fetch failed" (a TypeError that
// Logto answers with 500), and NODE_EXTRA_CA_CERTS decides which certificate it trusts.
import { createHash } from 'node:crypto';

export const PWNED_RANGE_URL = 'https://api.pwnedpasswords.com/range/';

const SYMBOLS = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~ ';
const SEQUENCES = [
  '0123456789', 'abcdefghijklmnopqrstuvwxyz', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm',
  '1qaz', '2wsx', '3edc', '4rfv', '5tgb', '6yhn', '7ujm', '8ik', '9ol',
];
const THRESHOLD = 3; // repetitionAndSequenceThreshold
const TOLERANCE = 3; // restrictedPhrasesTolerance

/** passwordPolicyGuard.parse(): the stored (partial) policy with Logto's defaults. */
export function fullPolicy(partial = {}) {
  const p = partial ?? {};
  return {
    length: { min: p.length?.min ?? 8, max: p.length?.max ?? 256 },
    characterTypes: { min: p.characterTypes?.min ?? 1 },
    rejects: {
      pwned: p.rejects?.pwned ?? true,
      repetitionAndSequence: p.rejects?.repetitionAndSequence ?? true,
      userInfo: p.rejects?.userInfo ?? true,
      words: p.rejects?.words ?? [],
    },
  };
}

function checkCharTypes(password, min) {
  const types = new Set();
  for (const char of password) {
    if (char >= 'a' && char <= 'z') types.add('lowercase');
    else if (char >= 'A' && char <= 'Z') types.add('uppercase');
    else if (char >= '0' && char <= '9') types.add('digits');
    else if (SYMBOLS.includes(char)) types.add('symbols');
    else return 'unsupported';
  }
  return types.size >= min;
}

function repetitionLength(password) {
  const first = password[0];
  if (first === undefined) return 0;
  let length = 0;
  for (const char of password) {
    if (char !== first) break;
    length += 1;
  }
  return length >= THRESHOLD ? length : 0;
}

function isSequential(value) {
  return SEQUENCES.some((seq) => {
    const reversed = [...seq].reverse().join('');
    return [seq, reversed, seq.toUpperCase(), reversed.toUpperCase()].some((item) => item.includes(value));
  });
}

function sequenceLength(password) {
  let value = '';
  let length = 0;
  for (const char of password) {
    if (!value || isSequential(value + char)) {
      value += char;
      length += 1;
    } else break;
  }
  return length >= THRESHOLD ? length : 0;
}

function userInfoLength(password, { name, username, email, phoneNumber }) {
  const lowercased = password.toLowerCase();
  let length = 0;
  const update = (n) => { if (n > length) length = n; };
  if (name) {
    const joined = name.replace(/\s+/g, '');
    if (lowercased.startsWith(name.toLowerCase())) update(name.length);
    else {
      if (lowercased.startsWith(joined.toLowerCase())) update(joined.length);
      for (const word of name.split(' ')) if (lowercased.startsWith(word.toLowerCase())) update(word.length);
    }
  }
  if (username && lowercased.startsWith(username.toLowerCase())) update(username.length);
  if (email) {
    const prefix = email.split('@')[0];
    if (prefix && lowercased.startsWith(prefix.toLowerCase())) update(prefix.length);
  }
  if (phoneNumber && lowercased.startsWith(phoneNumber)) update(phoneNumber.length);
  return length;
}

function wordLength(password, words) {
  const sliced = password.toLowerCase();
  let length = 0;
  for (const word of words) if (sliced.startsWith(word.toLowerCase()) && word.length > length) length = word.length;
  return length;
}

/** hasBeenPwned: throws node's "fetch failed" TypeError when the service cannot be reached. */
export async function hasBeenPwned(password) {
  const hex = createHash('sha1').update(password).digest('hex');
  const response = await fetch(`${PWNED_RANGE_URL}${hex.slice(0, 5)}`);
  const text = await response.text();
  const suffix = hex.slice(5);
  return text.split('\n').some((line) => line.toLowerCase().startsWith(suffix));
}

/** PasswordPolicyChecker.check: the issues of a password (an empty list when it passes). */
export async function checkPassword(policy, password, userInfo = {}) {
  const issues = [];
  if (password.length < policy.length.min) {
    issues.push({ code: 'password_rejected.too_short', interpolation: { min: policy.length.min } });
  } else if (password.length > policy.length.max) {
    issues.push({ code: 'password_rejected.too_long', interpolation: { max: policy.length.max } });
  }
  const types = checkCharTypes(password, policy.characterTypes.min);
  if (types === 'unsupported') issues.push({ code: 'password_rejected.unsupported_characters' });
  else if (!types) {
    issues.push({ code: 'password_rejected.character_types', interpolation: { min: policy.characterTypes.min } });
  }
  if (policy.rejects.pwned && (await hasBeenPwned(password))) issues.push({ code: 'password_rejected.pwned' });

  const marks = Array.from({ length: password.length }).fill(0);
  const codes = new Set();
  const fill = (start, length, code) => {
    if (length <= 0) return;
    for (let i = start; i < start + length; i += 1) marks[i] = 1;
    codes.add(code);
  };
  const { repetitionAndSequence, words, userInfo: rejectUserInfo } = policy.rejects;
  for (let i = 0; i < password.length; i += 1) {
    const sliced = password.slice(i);
    if (repetitionAndSequence) {
      fill(i, repetitionLength(sliced), 'restricted.repetition');
      fill(i, sequenceLength(sliced), 'restricted.sequence');
    }
    if (words.length > 0) fill(i, wordLength(sliced, words), 'restricted.words');
    if (rejectUserInfo) fill(i, userInfoLength(sliced, userInfo), 'restricted.user_info');
  }
  const threshold = Math.max(1, password.length - TOLERANCE);
  if (marks.reduce((total, mark) => total + mark, 0) > threshold) {
    for (const code of codes) issues.push({ code: `password_rejected.${code}` });
  }
  return issues;
}

// What real Logto 1.37.1 puts on the wire that the upstream oidc-provider under this stand-in does not, applied at
// the HTTP boundary so that every client (lobestack's provisioning, the browser) meets the real format:
//
// - Strict-Transport-Security on every response: Logto's core runs helmet on each tenant app
//   (packages/core/src/middleware/koa-security-headers.ts, helmet's default), seen on real Logto as
//   `max-age=15552000; includeSubDomains`. A proxy that adds its own header sends two; browsers honour the first.
// - A JSON-valued `_interaction` cookie. Logto's fork of oidc-provider (logto-io/node-oidc-provider#b958a6a3,
//   lib/helpers/interaction_cookie_handler.js) keeps one interaction per client: `{"<client_id>":uid,
//   "_legacy":uid}`, and reads it back by the `logto-app-id` header or the `app_id` query parameter, else `_legacy`.
//   Upstream oidc-provider 9 keeps the bare uid. The stand-in translates both ways and signs the cookie as Koa's
//   `cookies` does (keygrip: HMAC-SHA1 of `name=value`, base64url), so the JSON value is what clients see and send.
import { createHmac } from 'node:crypto';

export const LOGTO_HSTS = 'max-age=15552000; includeSubDomains';
const INTERACTION = '_interaction';

const sign = (key, data) => createHmac('sha1', key).update(data).digest('base64url');

function parseCookieHeader(header) {
  const cookies = [];
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    cookies.push([part.slice(0, at).trim(), part.slice(at + 1).trim()]);
  }
  return cookies;
}

function mappingOf(value) {
  try {
    const parsed = JSON.parse(value);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : { _legacy: value };
  } catch {
    return { _legacy: value };
  }
}

export function withLogtoWire(handler, cookieKeys) {
  const key = cookieKeys[0];
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const inbound = parseCookieHeader(req.headers.cookie);
    const cookieValue = new Map(inbound).get(INTERACTION);
    const cookieSig = new Map(inbound).get(`${INTERACTION}.sig`);
    let mapping = {};
    // A JSON value signed as such: hand upstream oidc-provider the uid it knows, signed as it expects.
    if (cookieValue?.startsWith('{') && cookieSig === sign(key, `${INTERACTION}=${cookieValue}`)) {
      mapping = mappingOf(cookieValue);
      const clientId = req.headers['logto-app-id'] || url.searchParams.get('app_id');
      const uid = String(mapping[clientId] || mapping._legacy || '');
      req.headers.cookie = inbound
        .map(([name, value]) => {
          if (name === INTERACTION) return `${name}=${uid}`;
          if (name === `${INTERACTION}.sig`) return `${name}=${sign(key, `${INTERACTION}=${uid}`)}`;
          return `${name}=${value}`;
        })
        .join('; ');
    }

    const { setHeader, writeHead } = res;
    res.setHeader = function setHeaderAsLogto(name, value) {
      if (String(name).toLowerCase() !== 'set-cookie' || !Array.isArray(value)) return setHeader.call(this, name, value);
      // Koa's cookies module calls this once per cookie with every Set-Cookie so far: wrapping must be idempotent.
      const split = value.map((cookie) => {
        const [pair, ...attributes] = String(cookie).split(';');
        const at = pair.indexOf('=');
        return { name: pair.slice(0, at), value: pair.slice(at + 1), attributes, cookie };
      });
      let json = null;
      for (const c of split) {
        if (c.name !== INTERACTION || !c.value) continue;
        if (!c.value.startsWith('{')) {
          // The fork keys it by the interaction's client: the authorization request names it; a resumed one
          // (/oidc/auth/<uid>) is the client whose interaction that uid was.
          const resumed = url.pathname.match(/\/auth\/([^/]+)$/)?.[1];
          const clientId =
            url.searchParams.get('client_id') ||
            Object.keys(mapping).find((k) => k !== '_legacy' && (mapping[k] === resumed || mapping[k] === mapping._legacy)) ||
            '_legacy';
          c.value = JSON.stringify({ ...mapping, [clientId]: c.value, _legacy: c.value });
          c.cookie = [`${INTERACTION}=${c.value}`, ...c.attributes].join(';');
        }
        json = c.value;
      }
      const rewritten = split.map((c) => {
        if (c.name === `${INTERACTION}.sig` && json !== null && c.value) {
          return [`${c.name}=${sign(key, `${INTERACTION}=${json}`)}`, ...c.attributes].join(';');
        }
        return c.cookie;
      });
      return setHeader.call(this, name, rewritten);
    };
    res.writeHead = function writeHeadAsLogto(...args) {
      if (!this.headersSent && !this.hasHeader('Strict-Transport-Security')) {
        setHeader.call(this, 'Strict-Transport-Security', LOGTO_HSTS);
      }
      return writeHead.apply(this, args);
    };
    handler(req, res);
  };
}

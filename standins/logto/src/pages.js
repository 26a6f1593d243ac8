// HTML of the stand-in. Hooks for tests are names, roles and visible text (Logto's DOM contract),
// never CSS classes. Every page carries the stand-in footer.

export function esc(value) {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export const FOOTER_TEXT = 'lobestack stand-in for Logto — not the real Logto';

const STYLE = `body{font-family:system-ui,sans-serif;margin:0;background:#f5f5f7;color:#1a1c1d}
main{max-width:420px;margin:48px auto;padding:32px;background:#fff;border-radius:12px;box-shadow:0 2px 8px rgba(0,0,0,.08)}
label{display:block;margin:16px 0 4px}input{width:100%;box-sizing:border-box;padding:10px;font-size:16px}
button{margin-top:20px;width:100%;padding:12px;font-size:16px;background:#5d34f2;color:#fff;border:0;border-radius:8px;cursor:pointer}
[role=alert]{margin-top:16px;padding:10px;background:#fde8e8;color:#a01010;border-radius:6px}
footer{text-align:center;font-size:12px;color:#666;margin:16px}`;

export function page({ title, body, script = '' }) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="lobestack-logto-standin">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main id="app">
${body}
</main>
<footer data-standin="logto">${esc(FOOTER_TEXT)}</footer>
${script}
</body>
</html>
`;
}

function alert(message) {
  return message ? `<div role="alert">${esc(message)}</div>` : '';
}

export function signInPage({ appId, identifier = '', error = '' }) {
  return page({
    title: 'Sign in',
    body: `<h1>Sign in to your account</h1>
<p>Application: <span data-app-id>${esc(appId)}</span></p>
<form method="post" action="/sign-in" autocomplete="on">
<input type="hidden" name="app_id" value="${esc(appId)}">
<label for="identifier">Username</label>
<input id="identifier" name="identifier" type="text" autocomplete="username" value="${esc(identifier)}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
${alert(error)}
<button type="submit" name="submit">Sign in</button>
</form>`,
  });
}

export function unknownSessionPage() {
  return page({
    title: 'Logto',
    body: `<h1>Unknown session</h1>
<div role="alert">The sign-in session was not found. Please go back to the application and sign in again.</div>`,
  });
}

export function errorPage({ title, message }) {
  return page({ title, body: `<h1>${esc(title)}</h1>${alert(message)}` });
}

// Logto's console uses crypto.subtle: on plain http (other than localhost) it renders a blank
// page. The stand-in does the same in a browser (the footer stays).
const CONSOLE_SCRIPT = `<script>
if (!(window.isSecureContext && window.crypto && window.crypto.subtle)) {
  var app = document.getElementById('app');
  if (app) { app.innerHTML = ''; }
  console.error('Logto Console needs a secure context (HTTPS or localhost): crypto.subtle is not available');
}
</script>`;

// Real Logto's console is a single-page app whose scripts are under /console/assets/; the sign-in app's are under
// /assets/. A browser tells the console proper apart by them (the URL alone does not: see experienceShell).
export const CONSOLE_ASSET = '/console/assets/index-standin.js';
export const EXPERIENCE_ASSET = '/assets/index-standin.js';

export function consolePage({ heading, body }) {
  return page({ title: `${heading} - Logto Console`, body, script: `${CONSOLE_SCRIPT}\n<script src="${CONSOLE_ASSET}"></script>` });
}

/** What real Logto 1.37.1's default tenant answers for a path its sign-in app does not render (its /console when
 * the console origin is served by the default tenant): 200, the app's shell with an empty <title> and its script,
 * and nothing on the page. */
export function experienceShell() {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="lobestack-logto-standin">
<title></title>
<script type="module" src="${EXPERIENCE_ASSET}"></script>
</head>
<body>
<div id="app"></div>
</body>
</html>
`;
}

export function consoleWelcomePage() {
  return consolePage({
    heading: 'Welcome',
    body: `<h1>Welcome to Logto Console</h1>
<p>Create the first administrator account of this Logto instance.</p>
<p><a href="/register" id="create-account">Create account</a></p>`,
  });
}

export function registerPage({ identifier = '', error = '' }) {
  return consolePage({
    heading: 'Create account',
    body: `<h1>Create account</h1>
<form method="post" action="/register">
<label for="identifier">Username</label>
<input id="identifier" name="identifier" type="text" autocomplete="username" value="${esc(identifier)}" autofocus>
${alert(error)}
<button type="submit" name="submit">Create account</button>
</form>`,
  });
}

export function registerPasswordPage({ identifier, error = '' }) {
  return consolePage({
    heading: 'Set password',
    body: `<h1>Set password</h1>
<p>Account: ${esc(identifier)}</p>
<form method="post" action="/register/password">
<label for="newPassword">Password</label>
<input id="newPassword" name="newPassword" type="password" autocomplete="new-password" autofocus>
<label for="confirmPassword">Confirm password</label>
<input id="confirmPassword" name="confirmPassword" type="password" autocomplete="new-password">
${alert(error)}
<button type="submit" name="submit">Continue</button>
</form>`,
  });
}

export function getStartedPage({ admin }) {
  return consolePage({
    heading: 'Get started',
    body: `<h1>Get started</h1>
<p>Signed in to the Logto Console as <strong data-admin>${esc(admin ?? 'unknown')}</strong>.</p>
<p>The stand-in's console has no pages beyond this one: use the Management API.</p>`,
  });
}

export function logoutPage({ form, host }) {
  return page({
    title: 'Sign out',
    body: `<h1>Signing out of ${esc(host)}</h1>
${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button>`,
    script: `<script>var f=document.getElementById('op.logoutForm');if(f){var i=document.createElement('input');i.type='hidden';i.name='logout';i.value='yes';f.appendChild(i);f.submit();}</script>`,
  });
}

export function logoutSuccessPage() {
  return page({ title: 'Signed out', body: '<h1>You have been signed out</h1>' });
}

// Writes what the build resolved as JSON: lobestack reports it with the image, and the proofs read it.
const fs = require('node:fs');
const path = require('node:path');

const manifest = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
// The oidc-provider core runs: the fork's tarball, as pnpm installed it for packages/core.
const oidc = manifest(path.join(fs.realpathSync('/etc/logto/packages/core/node_modules/oidc-provider'), 'package.json'));
const core = manifest('/etc/logto/packages/core/package.json');

const info = {
  logto: core.version,
  node: process.versions.node,
  'oidc-provider': `${oidc.version} (${core.dependencies['oidc-provider']})`,
  koa: manifest(path.join(fs.realpathSync('/etc/logto/packages/core/node_modules/koa'), 'package.json')).version,
};
process.stdout.write(`${JSON.stringify(info, null, 1)}\n`);

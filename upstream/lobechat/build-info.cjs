// Writes what the build resolved (versions and the cut-off) as JSON: lobestack reports it with the image.
const fs = require('node:fs');
const path = require('node:path');

// A dependency's version from its package.json, read as a file (packages may not export package.json).
const version = (name, root) =>
  JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version;

const info = {
  lobechat: JSON.parse(fs.readFileSync('/app/package.json', 'utf8')).version,
  node: process.versions.node,
  next: version('next', '/app'),
  react: version('react', '/app'),
  'next-auth': version('next-auth', '/app'),
  pg: version('pg', '/deps'),
  'drizzle-orm': version('drizzle-orm', '/deps'),
  'resolution-cutoff': process.env.RESOLUTION_CUTOFF,
};
process.stdout.write(`${JSON.stringify(info, null, 1)}\n`);

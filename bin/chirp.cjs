#!/usr/bin/env node
// `chirp` as npm installs it (package.json "bin"): runs the TypeScript CLI (bin/chirp.ts) through
// tsx, which the repository already uses for `npm start`, so there is no separate build step.
require('tsx/cjs');
require('./chirp.ts');

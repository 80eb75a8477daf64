// Renders every case of a corpus with liquidjs and with our engine (liquid_render) and reports any
// case whose outcome differs: success on one side only, or different output bytes. Error messages
// are not compared (each engine words its own), only that both sides failed.
//
// The corpus is {"contexts": {NAME: {...}}, "cases": [{name, template, context}]}, where a case's
// context is either an object or the name of a shared context.
//
// usage: node diff.js CORPUS.json PATH/TO/liquid_render
'use strict';
process.env.TZ = 'UTC';
const fs = require('fs');
const { execFileSync } = require('child_process');
const { Liquid } = require('liquidjs');

// Our engine rejects unknown filters at parse time; strictFilters makes liquidjs do the same.
const engine = new Liquid({ strictFilters: true });

function renderReference(c, contexts) {
  const context = typeof c.context === 'string' ? contexts[c.context] : (c.context || {});
  if (context === undefined) throw new Error(`case ${c.name}: unknown context ${c.context}`);
  try {
    // A deep copy, since increment/decrement write into the context.
    const copy = JSON.parse(JSON.stringify(context));
    return { ok: true, output: engine.parseAndRenderSync(c.template, copy) };
  } catch (e) {
    return { ok: false, output: String(e.message) };
  }
}

function main() {
  const [corpusPath, renderPath] = process.argv.slice(2);
  if (!corpusPath || !renderPath) {
    console.error('usage: node diff.js CORPUS.json PATH/TO/liquid_render');
    process.exit(2);
  }
  const { contexts, cases: corpus } = JSON.parse(fs.readFileSync(corpusPath, 'utf8'));
  const names = new Set();
  for (const c of corpus) {
    if (names.has(c.name)) throw new Error(`duplicate case name: ${c.name}`);
    names.add(c.name);
  }
  let ours;
  try {
    ours = JSON.parse(execFileSync(renderPath, [corpusPath], { maxBuffer: 64 << 20 }));
  } catch (e) {
    console.error(`${renderPath} failed: ${String(e.stderr || e.message).slice(0, 4000)}`);
    process.exit(1);
  }
  const byName = new Map(ours.map(r => [r.name, r]));
  let failures = 0;
  for (const c of corpus) {
    const want = renderReference(c, contexts);
    const got = byName.get(c.name);
    const same = got && got.ok === want.ok && (!want.ok || got.output === want.output);
    if (same) continue;
    failures++;
    console.log(`MISMATCH ${c.name}\n  template: ${JSON.stringify(c.template)}` +
                `\n  liquidjs: ${JSON.stringify(want)}\n  ours:     ${JSON.stringify(got)}`);
  }
  console.log(`${corpus.length} cases, ${failures} mismatches`);
  process.exit(failures === 0 ? 0 : 1);
}

main();

'use strict'
// The type test: `tsc --noEmit --strict` (skipLibCheck off, so our .d.ts files are checked too)
// on ES module and CommonJS consumers, under each __test__/types/tsconfig.*.json:
//   bare         lib es2022 only: no @types/node, no DOM, no esnext.disposable (was TS2304/TS2550)
//   dom          lib es2022 + dom, no @types/node
//   node         lib es2022 + @types/node, and vendor-auth/nest against @nestjs/common
//   esnext       lib esnext (Symbol.dispose): `using client = createClient(…)`
//   node-esnext  both, with `using`
//   bundler      "moduleResolution": "bundler" (the `import` conditions), every subpath
//   edge         bundler with the `workerd` condition: a Worker's types (lib/workerd.d.mts)
// and, in a project of its own whose node_modules/vendor-auth is this package, classic Node
// resolution (classic/tsconfig.json: "moduleResolution": "node", TS 5.x, as in older Nest
// projects), which reads no `exports`: package.json `typesVersions` leads each subpath to its
// types (was TS2307 for vendor-auth/nest).
// What they check: createClient / new AuthClient / authenticate narrow the header and session
// to the provider given as a literal, a runtime provider gives either, narrowed types fit the
// wide ones, the web globals are the consumer's own where it has them, and every subpath of
// package.json `exports` (subpaths.ts) resolves to real types under node16, bundler and classic
// resolution.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { ROOT, runNode } = require('./helpers/util')

const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const DIR = path.join(__dirname, 'types')
const CONFIGS = fs
  .readdirSync(DIR)
  .filter((file) => /^tsconfig\..+\.json$/.test(file))
  .sort()

test('there is a config per lib setup', () => {
  assert.deepEqual(CONFIGS.map((file) => file.slice('tsconfig.'.length, -'.json'.length)).sort(), [
    'bare',
    'bundler',
    'dom',
    'edge',
    'esnext',
    'node',
    'node-esnext',
  ])
})

for (const config of CONFIGS) {
  test(`tsc --noEmit --strict -p __test__/types/${config}`, async () => {
    const { compilerOptions, files } = JSON.parse(fs.readFileSync(path.join(DIR, config), 'utf8'))
    assert.equal(compilerOptions.strict, true)
    // bundler: skipLibCheck on, as Vite and Next.js projects have it (and 5 s less): the same
    // .d.mts files are checked with it off by the node16 configs (narrowing-esm.mts, nest.ts).
    assert.equal(compilerOptions.skipLibCheck, config === 'tsconfig.bundler.json')
    assert.ok(files.includes('narrowing.ts') && files.includes('narrowing-esm.mts'), 'a CommonJS and an ES consumer')
    const run = await runNode([TSC, '-p', path.join(DIR, config)], { timeoutMs: 120_000 })
    assert.equal(run.code, 0, `${run.stdout}${run.stderr}`)
  })
}

const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
/** The subpaths of package.json `exports` that have types ('.', './testing', …). */
const SUBPATHS = Object.keys(PKG.exports).filter((subpath) => subpath !== './package.json')
/** A subpath's CommonJS types (its `require` condition's), as a CommonJS project resolves them. */
const requireTypes = (subpath) => PKG.exports[subpath].require.types

test('subpaths.ts imports every subpath; typesVersions leads each to its CommonJS types', () => {
  const source = fs.readFileSync(path.join(DIR, 'subpaths.ts'), 'utf8')
  const imported = [...source.matchAll(/from '(vendor-auth(?:\/[\w-]+)?)'/g)].map((m) => m[1])
  assert.deepEqual(
    [...new Set(imported)].sort(),
    SUBPATHS.map((subpath) => `vendor-auth${subpath.slice(1)}`).sort(),
    'subpaths.ts imports each subpath of package.json exports',
  )
  for (const config of ['tsconfig.node.json', 'tsconfig.bundler.json', path.join('classic', 'tsconfig.json')]) {
    const { files } = JSON.parse(fs.readFileSync(path.join(DIR, config), 'utf8'))
    assert.ok(files.includes('subpaths.ts'), `${config} compiles subpaths.ts`)
  }
  // Classic resolution reads `types` for the package itself, typesVersions for the rest.
  assert.equal(`./${PKG.types}`, requireTypes('.'))
  const expected = Object.fromEntries(
    SUBPATHS.filter((subpath) => subpath !== '.').map((subpath) => [subpath.slice(2), [requireTypes(subpath)]]),
  )
  assert.deepEqual(PKG.typesVersions, { '*': expected })
})

test('tsc --noEmit --strict under classic resolution ("moduleResolution": "node") finds every subpath\'s types', async (t) => {
  const config = JSON.parse(fs.readFileSync(path.join(DIR, 'classic', 'tsconfig.json'), 'utf8'))
  assert.equal(config.compilerOptions.moduleResolution, 'node')
  assert.equal(config.compilerOptions.strict, true)
  assert.equal(config.compilerOptions.skipLibCheck, false)
  // An application's folder: its tsconfig.json and source, node_modules/vendor-auth this package
  // (as npm link puts it), and the other packages it compiles against.
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-classic-'))
  t.after(() => fs.rmSync(project, { recursive: true, force: true }))
  fs.copyFileSync(path.join(DIR, 'classic', 'tsconfig.json'), path.join(project, 'tsconfig.json'))
  fs.copyFileSync(path.join(DIR, 'subpaths.ts'), path.join(project, 'subpaths.ts'))
  fs.mkdirSync(path.join(project, 'node_modules', '@types'), { recursive: true })
  fs.symlinkSync(ROOT, path.join(project, 'node_modules', 'vendor-auth'), 'dir')
  for (const dependency of ['@nestjs', path.join('@types', 'node')]) {
    fs.symlinkSync(path.join(ROOT, 'node_modules', dependency), path.join(project, 'node_modules', dependency), 'dir')
  }
  const run = await runNode([TSC, '-p', project, '--listFiles'], { timeoutMs: 120_000 })
  assert.equal(run.code, 0, `${run.stdout}${run.stderr}`)
  // Each subpath's own CommonJS types, not something else that happened to resolve.
  const listed = run.stdout.split('\n').map((line) => path.resolve(line.trim()))
  for (const subpath of SUBPATHS) {
    const file = path.join(ROOT, requireTypes(subpath))
    assert.ok(listed.includes(file), `vendor-auth${subpath.slice(1)}: ${path.relative(ROOT, file)} is compiled`)
  }
})

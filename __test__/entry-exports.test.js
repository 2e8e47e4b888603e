'use strict'
// Each entry's types declare what that entry exports, for every leaf of package.json `exports`
// (each condition's `types` beside its `default`), browser ones included:
//   - the value names a types file declares (TypeScript's checker: interfaces and type aliases
//     are not values) are the names the runtime file exports: require() for CommonJS, import()
//     for ES modules; the edge entries are bundled as wrangler does (the .wasm as a compiled
//     WebAssembly.Module) and imported; the browser entries, whose evaluation throws
//     SERVER_ONLY by design, by their static export list (esbuild's), which must hold every name
//     each subpath that maps to them declares, and no other;
//   - a default export that is an object has the members its declared type has;
//   - the edge entries' types export every type of lib/index.d.ts but the Node-only ones;
//   - AuthClient's declared members are its prototype's public ones.
// Run: node --test __test__/entry-exports.test.js

const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const esbuild = require('esbuild')
const ts = require('typescript')

const ROOT = path.resolve(__dirname, '..')
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))

/** What the edge entries leave out of the Node entry's types: a TCP client's store. */
const NODE_ONLY = ['redisTokenStore', 'RedisTokenStoreOptions']

/** Every leaf of `exports` with types: `{ subpath, conditions, types, runtime }` (absolute paths). */
function exportLeaves() {
  const leaves = []
  const walk = (subpath, node, conditions) => {
    if (typeof node === 'string') return
    if (typeof node.types === 'string' && typeof node.default === 'string') {
      const abs = (file) => path.join(ROOT, file)
      leaves.push({ subpath, conditions, types: abs(node.types), runtime: abs(node.default) })
      return
    }
    for (const [condition, child] of Object.entries(node)) walk(subpath, child, [...conditions, condition])
  }
  for (const [subpath, node] of Object.entries(PKG.exports)) walk(subpath, node, [])
  return leaves
}

const LEAVES = exportLeaves()
const label = (leaf) => `${leaf.subpath} [${leaf.conditions.join(' > ')}]`
const rel = (file) => path.relative(ROOT, file)

// ------------------------------------------------------------------ declared (TypeScript)

let checker
let program

before(() => {
  const files = [...new Set([...LEAVES.map((l) => l.types), path.join(ROOT, 'lib', 'index.d.ts')])]
  // Our declaration files only (they are all roots): the peer dependencies' types and Node's would
  // cost seconds, and __test__/types.test.js compiles everything with them.
  program = ts.createProgram(files, {
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    strict: true,
    noEmit: true,
    noResolve: true,
    types: [],
  })
  const problems = files
    .flatMap((file) => ts.getPreEmitDiagnostics(program, program.getSourceFile(file)))
    .filter((d) => !/^Cannot find module '[^.]/.test(ts.flattenDiagnosticMessageText(d.messageText, '\n')))
  assert.deepEqual(
    problems.map((d) => `${rel(d.file.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`),
    [],
    'the types files compile (a package they import aside)',
  )
  checker = program.getTypeChecker()
})

function moduleSymbol(file) {
  const source = program.getSourceFile(file)
  assert.ok(source, `${rel(file)} is in the program`)
  return checker.getSymbolAtLocation(source)
}

/** An exported symbol's target, and whether it is exported as a type only (`export type { … }`). */
function resolve(symbol) {
  const typeOnly = (symbol.declarations ?? []).some((d) => ts.isTypeOnlyImportOrExportDeclaration(d))
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
  return { target, typeOnly }
}

/** `{ values, types }`: the names `file` exports as values, and as types only. */
function declared(file) {
  const values = []
  const types = []
  for (const symbol of checker.getExportsOfModule(moduleSymbol(file))) {
    const { target, typeOnly } = resolve(symbol)
    const isValue = !typeOnly && (target.flags & ts.SymbolFlags.Value) !== 0
    ;(isValue ? values : types).push(symbol.escapedName.toString())
  }
  return { values: values.sort(), types: types.sort() }
}

/** The value members of the declared default export's type (null: no default, or not an object). */
function declaredDefaultMembers(file) {
  const symbol = checker.getExportsOfModule(moduleSymbol(file)).find((s) => s.escapedName === 'default')
  if (symbol === undefined) return null
  const type = checker.getTypeOfSymbol(resolve(symbol).target)
  if (!(type.flags & ts.TypeFlags.Object)) return null
  return checker
    .getPropertiesOfType(type)
    .map((p) => p.name)
    .sort()
}

// ------------------------------------------------------------------ runtime

const EDGE_ENTRIES = new Set(['workerd.mjs', 'edge-light.mjs'])
const BROWSER_ENTRIES = new Set(['browser.js', 'browser.mjs'])

/**
 * The names `file` exports when it runs: `{ names, defaultKeys }`, or `{ throws }` (the browser
 * entries) with `names` the static export list of an ES module.
 */
async function runtimeExports(file) {
  const base = path.basename(file)
  if (BROWSER_ENTRIES.has(base)) {
    // The ES flavour runs the CommonJS one first: its evaluation is the same throw.
    let thrown
    try {
      require(path.join(path.dirname(file), 'browser.js'))
    } catch (error) {
      thrown = error
    }
    const names = file.endsWith('.mjs') ? await staticExports(file) : []
    return { throws: thrown, names }
  }
  const namespace = file.endsWith('.mjs')
    ? EDGE_ENTRIES.has(base)
      ? await importEdgeEntry(file)
      : await import(file)
    : require(file)
  const names = Object.keys(namespace).sort()
  const value = file.endsWith('.mjs') ? namespace.default : undefined
  const defaultKeys = value !== null && typeof value === 'object' ? Object.keys(value).sort() : null
  return { names, defaultKeys }
}

/** An ES module's export names as a bundler sees them (esbuild's metafile), without running it. */
async function staticExports(file) {
  const result = await esbuild.build({
    entryPoints: [file],
    bundle: false,
    format: 'esm',
    write: false,
    metafile: true,
  })
  const [output] = Object.values(result.metafile.outputs)
  return [...output.exports].sort()
}

/**
 * An edge entry, run: bundled as wrangler and Vercel bundle it, with its .wasm import the
 * compiled module (a global here: the module is compiled once, by the host).
 */
async function importEdgeEntry(file) {
  globalThis.__vendorAuthEntryExportsWasm ??= new WebAssembly.Module(
    fs.readFileSync(path.join(ROOT, 'wasm', 'vendor_auth_bg.wasm')),
  )
  const result = await esbuild.build({
    entryPoints: [file],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'wasm-module',
        setup(build) {
          build.onResolve({ filter: /\.wasm(\?module)?$/ }, (args) => ({ path: args.path, namespace: 'wasm' }))
          build.onLoad({ filter: /.*/, namespace: 'wasm' }, () => ({
            contents: 'export default globalThis.__vendorAuthEntryExportsWasm',
          }))
        },
      },
    ],
  })
  return import(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0].contents).toString('base64')}`)
}

// ------------------------------------------------------------------ tests

test('every leaf of package.json exports names a types file beside its runtime file', () => {
  const subpaths = Object.keys(PKG.exports).filter((s) => s !== './package.json')
  assert.deepEqual([...new Set(LEAVES.map((l) => l.subpath))].sort(), subpaths.sort(), 'each subpath has leaves')
  for (const leaf of LEAVES) {
    assert.ok(fs.existsSync(leaf.types), `${label(leaf)}: ${rel(leaf.types)}`)
    assert.ok(fs.existsSync(leaf.runtime), `${label(leaf)}: ${rel(leaf.runtime)}`)
    // ESM types for ESM code, CJS types for CJS code (TypeScript reads the format from the name).
    assert.equal(leaf.types.endsWith('.d.mts'), leaf.runtime.endsWith('.mjs'), label(leaf))
  }
})

// One test per runtime file, against every leaf that maps to it.
const byRuntime = new Map()
for (const leaf of LEAVES) byRuntime.set(leaf.runtime, [...(byRuntime.get(leaf.runtime) ?? []), leaf])
for (const [runtime, leaves] of byRuntime) {
  test(`${rel(runtime)} exports what its types declare (${leaves.map(label).join(', ')})`, async () => {
    const actual = await runtimeExports(runtime)
    if (actual.throws !== undefined) {
      assert.equal(actual.throws.code, 'SERVER_ONLY', `${rel(runtime)} throws SERVER_ONLY when evaluated`)
    }
    const union = new Set()
    for (const leaf of leaves) {
      const { values } = declared(leaf.types)
      for (const name of values) union.add(name)
      if (actual.throws !== undefined && !runtime.endsWith('.mjs')) continue
      const missing = values.filter((name) => !actual.names.includes(name))
      assert.deepEqual(missing, [], `${label(leaf)}: ${rel(leaf.types)} declares what ${rel(runtime)} does not export`)
      if (actual.defaultKeys != null) {
        assert.deepEqual(
          declaredDefaultMembers(leaf.types),
          actual.defaultKeys,
          `${label(leaf)}: the default export's members (${rel(leaf.types)} against ${rel(runtime)})`,
        )
      }
    }
    // A CommonJS browser entry throws before it exports anything: nothing to compare.
    if (actual.throws !== undefined && !runtime.endsWith('.mjs')) return
    const extra = actual.names.filter((name) => !union.has(name))
    assert.deepEqual(extra, [], `${rel(runtime)} exports what no types file of it declares`)
  })
}

test('the edge entries declare no Node-only store, and every other type of lib/index.d.ts', () => {
  const node = declared(path.join(ROOT, 'lib', 'index.d.ts'))
  const edgeTypes = [...new Set(LEAVES.filter((l) => EDGE_ENTRIES.has(path.basename(l.runtime))).map((l) => l.types))]
  assert.ok(edgeTypes.length >= 2, edgeTypes.join(', '))
  for (const file of edgeTypes) {
    assert.notEqual(file, path.join(ROOT, 'lib', 'index.d.mts'), 'the edge entries have types of their own')
    const edge = declared(file)
    assert.deepEqual(
      edge.types,
      node.types.filter((name) => !NODE_ONLY.includes(name)),
      `${rel(file)}: the types of lib/index.d.ts, but ${NODE_ONLY.join(' and ')} (add a new type to lib/workerd.d.mts)`,
    )
    for (const name of NODE_ONLY) assert.ok(![...edge.values, ...edge.types].includes(name), `${rel(file)}: ${name}`)
  }
})

test("AuthClient's declared members are its prototype's public ones", () => {
  const { AuthClient } = require('..')
  const runtime = Object.getOwnPropertyNames(AuthClient.prototype)
    .filter((name) => name !== 'constructor')
    .sort()
  const symbol = checker
    .getExportsOfModule(moduleSymbol(path.join(ROOT, 'lib', 'index.d.ts')))
    .find((s) => s.escapedName === 'AuthClient')
  const instance = checker.getDeclaredTypeOfSymbol(resolve(symbol).target)
  const members = checker
    .getPropertiesOfType(instance)
    .map((p) => p.name)
    .filter((name) => !name.startsWith('__@'))
    .sort()
  assert.deepEqual(members, runtime)
})

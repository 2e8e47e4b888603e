'use strict'
// The option schema is declared once, in the Rust core (src/schema.rs for the options every
// vendor takes, each vendor's `Spec` in src/provider/<vendor>.rs for its own), and exported as
// `binding.optionSchema()`. This test fails when what users see drifts from it:
// - lib/index.d.ts, read with the TypeScript compiler API (not with regexes): per vendor, the
//   options of `AuthenticateOptions` and `ClientOptions` (names, required/optional, types,
//   choices, the environment default named in the doc), the `Provider` ids, and the session
//   fields of `Session` and `KeptSession`;
// - the README's options table;
// - lib/options.js, which checks names and types from the schema.
// It also checks that it can fail: a drifted copy of lib/index.d.ts must be reported.
// Run: node --test __test__/schema.test.js

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const ts = require('typescript')

const { createClient } = require('..')
const binding = require('../binding.js')
const { JS_ONLY_OPTIONS } = require('../lib/options')
const { ROOT, expectVendorErrorSync } = require('./helpers/util')

const SCHEMA = JSON.parse(binding.optionSchema())
const TYPES = path.join(ROOT, 'lib', 'index.d.ts')

/** The exported types the check reads, with their type parameters at their defaults. */
const PROBED = ['Provider', 'AuthenticateOptions', 'ClientOptions', 'Session', 'KeptSession']

/**
 * A checker over `file` (lib/index.d.ts or a copy), with Node's types as the package's users
 * have. Generic types are read through a probe module that names them without type arguments
 * (`type Probe_ClientOptions = ClientOptions`), so that their defaults apply.
 */
function checkerFor(file) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-probe-'))
  try {
    const probe = path.join(dir, 'probe.ts')
    const from = JSON.stringify(file.replace(/\.d\.ts$/, '.js'))
    fs.writeFileSync(
      probe,
      `import type { ${PROBED.join(', ')} } from ${from}\n` +
        PROBED.map((name) => `export type Probe_${name} = ${name}\n`).join(''),
    )
    const program = ts.createProgram([probe], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      lib: ['lib.es2022.d.ts'],
      strict: true,
      noEmit: true,
      types: ['node'],
      typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    })
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    const checker = program.getTypeChecker()
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(probe)))
    const exported = (name) => {
      const symbol = exports.find((s) => s.name === `Probe_${name}`)
      return symbol === undefined ? undefined : checker.getDeclaredTypeOfSymbol(symbol)
    }
    return { checker, exported, problems }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** A credential option's type: the value, or a function that gives it (lib/credentials.js). */
const CREDENTIAL_TYPE = 'Credential'

/** A type as the schema describes it: 'string', 'number', 'string[]', or the sorted literals of a union. */
function describeType(checker, type) {
  const t = checker.getNonNullableType(type)
  const parts = t.isUnion() ? t.types : [t]
  if (parts.every((p) => p.isStringLiteral())) return parts.map((p) => p.value).sort()
  if (t.flags & ts.TypeFlags.String) return 'string'
  if (t.flags & ts.TypeFlags.Number) return 'number'
  return checker.typeToString(t)
}

/** The properties of `type`: name → { optional, type, doc }. */
function propertiesOf(checker, type) {
  const out = new Map()
  for (const symbol of checker.getPropertiesOfType(type)) {
    const declaration = symbol.valueDeclaration ?? symbol.declarations[0]
    out.set(symbol.name, {
      optional: (symbol.flags & ts.SymbolFlags.Optional) !== 0,
      type: describeType(checker, checker.getTypeOfSymbolAtLocation(symbol, declaration)),
      doc: ts.displayPartsToString(symbol.getDocumentationComment(checker)),
    })
  }
  return out
}

/** What the schema says a vendor's options type for `api` ('authenticate' | 'client') holds. */
function expectedOptions(provider, api) {
  const expected = new Map()
  for (const option of SCHEMA.options) {
    if (option.provider !== undefined && option.provider !== provider) continue
    if (option.clientOnly && api !== 'client') continue
    const type =
      option.name === 'provider'
        ? [provider]
        : option.kind === 'choice'
          ? [...option.values].sort()
          : option.credential
            ? CREDENTIAL_TYPE
            : option.jsType
    expected.set(option.name, { type, optional: option.name !== 'provider', env: option.env, declared: option })
  }
  for (const [name, where] of Object.entries(JS_ONLY_OPTIONS)) {
    if (where === 'both' || where === api) expected.set(name, { type: undefined, optional: true })
  }
  return expected
}

/** Where a vendor's option is declared, for messages. */
function whereDeclared(option) {
  return option === undefined
    ? 'lib/options.js (JS-only)'
    : option.provider === undefined
      ? 'src/schema.rs (COMMON)'
      : `src/provider/${option.provider}.rs`
}

/** Every difference between the types in `file` and the schema, as readable lines. */
function drift(file) {
  const { checker, exported, problems } = checkerFor(file)
  const out = problems.map((p) => `does not compile: ${p}`)
  const ids = SCHEMA.providers.map((p) => p.id).sort()

  const provider = exported('Provider')
  if (provider === undefined) out.push('Provider is not exported')
  else if (JSON.stringify(describeType(checker, provider)) !== JSON.stringify(ids))
    out.push(`Provider is ${JSON.stringify(describeType(checker, provider))}; the registered vendors are ${ids}`)

  for (const [typeName, api] of [
    ['AuthenticateOptions', 'authenticate'],
    ['ClientOptions', 'client'],
  ]) {
    const type = exported(typeName)
    if (type === undefined) {
      out.push(`${typeName} is not exported`)
      continue
    }
    // One member per vendor, told apart by its `provider` literal.
    const members = new Map()
    for (const member of type.isUnion() ? type.types : [type]) {
      const p = propertiesOf(checker, member).get('provider')
      for (const id of Array.isArray(p && p.type) ? p.type : ['(no provider literal)']) members.set(id, member)
    }
    for (const id of members.keys()) {
      if (!ids.includes(id)) out.push(`${typeName} has a member for '${id}', which is no registered vendor`)
    }
    for (const id of ids) {
      const member = members.get(id)
      if (member === undefined) {
        out.push(`${typeName} has no member with provider: '${id}'`)
        continue
      }
      const actual = propertiesOf(checker, member)
      const expected = expectedOptions(id, api)
      for (const [name, want] of expected) {
        const got = actual.get(name)
        const where = `${typeName} (provider '${id}').${name}`
        if (got === undefined) {
          out.push(`${where} is missing (declared in ${whereDeclared(want.declared)})`)
          continue
        }
        if (got.optional !== want.optional) out.push(`${where} should be ${want.optional ? 'optional' : 'required'}`)
        if (want.type !== undefined && JSON.stringify(got.type) !== JSON.stringify(want.type))
          out.push(`${where} is ${JSON.stringify(got.type)}; the schema says ${JSON.stringify(want.type)}`)
        if (want.env && !got.doc.includes(want.env)) out.push(`${where}: its doc does not name ${want.env}`)
      }
      for (const name of actual.keys()) {
        if (!expected.has(name)) out.push(`${typeName} (provider '${id}').${name} is declared nowhere in the schema`)
      }
    }
  }

  for (const typeName of ['Session', 'KeptSession']) {
    const type = exported(typeName)
    if (type === undefined) {
      out.push(`${typeName} is not exported`)
      continue
    }
    const actual = propertiesOf(checker, type)
    for (const vendor of SCHEMA.providers) {
      for (const field of vendor.fields) {
        const got = actual.get(field.name)
        const where = `${typeName}.${field.name} (a ${vendor.name} session field)`
        if (got === undefined) out.push(`${where} is missing`)
        else if (!got.optional) out.push(`${where} should be optional`)
        else if (got.type !== field.jsType) out.push(`${where} is ${JSON.stringify(got.type)}, not ${field.jsType}`)
      }
    }
  }
  return out
}

test('lib/index.d.ts declares every option, type, choice, vendor and session field the core declares', () => {
  assert.deepEqual(drift(TYPES), [])
})

test('the drift check fails on drift: a copy of lib/index.d.ts with mistakes is reported', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-drift-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const original = fs.readFileSync(TYPES, 'utf8')
  const edits = [
    // a vendor's option left out
    [/\n\s*scheme\?: 'token' \| 'basic'\n/, '\n'],
    // a choice changed
    ["environment?: 'production' | 'staging'", "environment?: 'production'"],
    // a number typed as a string
    ['timeoutMs?: number', 'timeoutMs?: string'],
    // an option the core does not know
    ['shopDomain?: Credential', 'shopDomain?: Credential\n  shopId?: string'],
    // the environment default no longer documented
    ['Default: env `PUPPETVENDORS_API_KEY`.', 'Default: from the environment.'],
    // a session field left out
    ['readonly vendorId?: string', ''],
  ]
  let text = original
  for (const [from, to] of edits) {
    const next = text.replace(from, to)
    assert.notEqual(next, text, `the edit ${from} applies`)
    text = next
  }
  const copy = path.join(dir, 'index.d.ts')
  fs.writeFileSync(copy, text)
  const found = drift(copy).join('\n')
  for (const expected of [
    "AuthenticateOptions (provider 'vendy').scheme is missing (declared in src/provider/vendy.rs)",
    'ClientOptions (provider \'puppetvendors\').environment is ["production"]; the schema says ["production","staging"]',
    'AuthenticateOptions (provider \'vendy\').timeoutMs is "string"; the schema says "number"',
    "ClientOptions (provider 'puppetvendors').shopId is declared nowhere in the schema",
    "AuthenticateOptions (provider 'puppetvendors').apiKey: its doc does not name PUPPETVENDORS_API_KEY",
    'Session.vendorId (a PuppetVendors session field) is missing',
  ]) {
    assert.ok(found.includes(expected), `not reported: ${expected}\nreported:\n${found}`)
  }
})

test("the README's options table has a row for every option", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('### Options'), readme.indexOf('### Errors'))
  const rows = section.split('\n').filter((line) => line.startsWith('| `'))
  const names = [...new Set([...SCHEMA.options.map((o) => o.name), ...Object.keys(JS_ONLY_OPTIONS)])]
  for (const name of names) {
    assert.ok(
      rows.some((row) => row.split('|')[1].includes(`\`${name}\``)),
      `README's options table has no row for \`${name}\``,
    )
  }
})

test('the schema is what the native side reads: knownOptions() is its names, and JS checks types from it', async () => {
  const names = [...new Set(SCHEMA.options.map((o) => o.name))]
  assert.deepEqual(binding.knownOptions(), names)
  for (const option of SCHEMA.options) {
    assert.ok(option.doc.length > 0, `${option.name} has a doc`)
    if (option.secret) assert.equal(option.jsType, 'string', `${option.name}: a credential is a string`)
  }
  const secrets = SCHEMA.options.filter((o) => o.secret).map((o) => `${o.provider}.${o.name}`)
  assert.deepEqual(secrets, [
    'vendy.accessKey',
    'vendy.secretKey',
    'vendy.username',
    'vendy.password',
    'puppetvendors.apiKey',
  ])
  // A wrong type for each kind, checked in JS from the schema before anything reaches Rust.
  const options = { provider: 'vendy', accessKey: 'ak', secretKey: 'sk', baseUrl: 'https://127.0.0.1:1' }
  for (const [key, value, message] of [
    ['scheme', 1, /option 'scheme' must be a string, not a number/],
    ['maxRetries', '2', /option 'maxRetries' must be a number, not a string/],
    ['accessKey', ['ak'], /option 'accessKey' must be a string, not an array/],
  ]) {
    await expectVendorErrorSync(() => createClient({ ...options, [key]: value }), { code: 'INVALID_OPTIONS', message })
  }
})

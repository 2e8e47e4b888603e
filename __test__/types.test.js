'use strict'
// The type test: `tsc --noEmit --strict` (skipLibCheck off, so our .d.ts files are checked too)
// on ES module and CommonJS consumers, under each __test__/types/tsconfig.*.json:
//   bare         lib es2022 only: no @types/node, no DOM, no esnext.disposable (was TS2304/TS2550)
//   dom          lib es2022 + dom, no @types/node
//   node         lib es2022 + @types/node, and vendor-auth/nest against @nestjs/common
//   esnext       lib esnext (Symbol.dispose): `using client = createClient(…)`
//   node-esnext  both, with `using`
// What they check: createClient / new AuthClient / authenticate narrow the header and session
// to the provider given as a literal, a runtime provider gives either, narrowed types fit the
// wide ones, and the web globals are the consumer's own where it has them.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
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
    'dom',
    'esnext',
    'node',
    'node-esnext',
  ])
})

for (const config of CONFIGS) {
  test(`tsc --noEmit --strict -p __test__/types/${config}`, async () => {
    const { compilerOptions, files } = JSON.parse(fs.readFileSync(path.join(DIR, config), 'utf8'))
    assert.equal(compilerOptions.strict, true)
    assert.equal(compilerOptions.skipLibCheck, false)
    assert.ok(files.includes('narrowing.ts') && files.includes('narrowing-esm.mts'), 'a CommonJS and an ES consumer')
    const run = await runNode([TSC, '-p', path.join(DIR, config)], { timeoutMs: 120_000 })
    assert.equal(run.code, 0, `${run.stdout}${run.stderr}`)
  })
}

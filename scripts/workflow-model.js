'use strict'
// What GitHub Actions does with a workflow, as far as scripts/release-rehearse.js needs it, written
// from GitHub's documentation and the actions' own sources:
//   - the workflow file, parsed (js-yaml, the YAML parser that the pinned @napi-rs/cli depends on);
//   - `${{ }}` expressions: literals, contexts, ! == != < <= > >= && || ( ), and the functions
//     contains/startsWith/endsWith/format/join/toJSON/fromJSON/success/always/failure/cancelled;
//     string comparisons ignore case, && and || give an operand (as GitHub's do);
//   - a job's matrix: the product of its lists, then `include` (merged into the combinations it
//     does not contradict, else added as a combination of its own), then `exclude`;
//   - actions/upload-artifact: which files an upload takes, and the root it stores them under: the
//     search path of a pattern is its literal directories before the first segment with a wildcard;
//     with several search paths, their least common ancestor; a single file named without a
//     wildcard is stored alone (src/shared/search.ts, @actions/glob);
//   - actions/download-artifact: `name` puts the artifact's files under `path`; `pattern` (or no
//     name) puts each artifact under path/<artifact name>/, or all of them under path with
//     merge-multiple: true.

const fs = require('node:fs')
const path = require('node:path')
const { createRequire } = require('node:module')

/** js-yaml from @napi-rs/cli's own dependencies (a devDependency pinned to one version). */
function yaml() {
  return createRequire(require.resolve('@napi-rs/cli/package.json'))('js-yaml')
}

function loadWorkflow(file) {
  return yaml().load(fs.readFileSync(file, 'utf8'))
}

// --- expressions ---------------------------------------------------------------------------------

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|'((?:[^']|'')*)'|(==|!=|<=|>=|&&|\|\||[!<>()[\].,])|([A-Za-z_][A-Za-z0-9_-]*))/y

function tokenize(source) {
  const tokens = []
  TOKEN.lastIndex = 0
  while (TOKEN.lastIndex < source.length) {
    const at = TOKEN.lastIndex
    const m = TOKEN.exec(source)
    if (!m) {
      if (source.slice(at).trim() === '') break
      throw new Error(`cannot read the expression at "${source.slice(at)}" in: ${source}`)
    }
    if (m[1] !== undefined) tokens.push({ type: 'value', value: Number(m[1]) })
    else if (m[2] !== undefined) tokens.push({ type: 'value', value: m[2].replace(/''/g, "'") })
    else if (m[3] !== undefined) tokens.push({ type: 'op', value: m[3] })
    else tokens.push({ type: 'name', value: m[4] })
  }
  return tokens
}

const truthy = (v) => !(v === false || v === 0 || v === '' || v === null || v === undefined || Number.isNaN(v))
const lower = (v) => (typeof v === 'string' ? v.toLowerCase() : v)
function toNumber(v) {
  if (v === null || v === undefined) return 0
  if (typeof v === 'boolean') return v ? 1 : 0
  if (typeof v === 'string') return v.trim() === '' ? 0 : Number(v)
  return typeof v === 'number' ? v : NaN
}
function looseEqual(a, b) {
  if (a === undefined) a = null
  if (b === undefined) b = null
  if (typeof a === typeof b) return typeof a === 'string' ? a.toLowerCase() === b.toLowerCase() : a === b
  if (typeof a === 'object' || typeof b === 'object') return false
  return toNumber(a) === toNumber(b)
}
function asString(v) {
  if (v === null || v === undefined) return ''
  if (typeof v === 'object') return JSON.stringify(v, null, 2)
  return String(v)
}

const FUNCTIONS = {
  contains: (hay, needle) =>
    Array.isArray(hay)
      ? hay.some((x) => looseEqual(x, needle))
      : asString(hay).toLowerCase().includes(asString(needle).toLowerCase()),
  startswith: (s, p) => asString(s).toLowerCase().startsWith(asString(p).toLowerCase()),
  endswith: (s, p) => asString(s).toLowerCase().endsWith(asString(p).toLowerCase()),
  format: (f, ...args) => asString(f).replace(/\{(\d+)\}/g, (_, i) => asString(args[Number(i)])),
  join: (a, sep = ',') => (Array.isArray(a) ? a.map(asString).join(sep) : asString(a)),
  tojson: (v) => JSON.stringify(v, null, 2),
  fromjson: (s) => JSON.parse(s),
  success: () => true,
  always: () => true,
  failure: () => false,
  cancelled: () => false,
}

/** The value of one expression (without `${{ }}`) in `context` ({ matrix, runner, env, … }). */
function evaluate(source, context) {
  const tokens = tokenize(source)
  let i = 0
  const peek = () => tokens[i]
  const isOp = (v) => peek() && peek().type === 'op' && peek().value === v
  const expect = (v) => {
    if (!isOp(v)) throw new Error(`expected "${v}" in: ${source}`)
    i++
  }
  function primary() {
    const t = tokens[i++]
    if (!t) throw new Error(`unexpected end of: ${source}`)
    if (t.type === 'value') return t.value
    if (t.type === 'op' && t.value === '(') {
      const v = or()
      expect(')')
      return v
    }
    if (t.type === 'op' && t.value === '!') return !truthy(unary())
    if (t.type !== 'name') throw new Error(`unexpected "${t.value}" in: ${source}`)
    const name = t.value.toLowerCase()
    if (name === 'true' || name === 'false') return name === 'true'
    if (name === 'null') return null
    if (isOp('(')) {
      i++
      const args = []
      while (!isOp(')')) {
        args.push(or())
        if (isOp(',')) i++
      }
      i++
      if (!(name in FUNCTIONS)) throw new Error(`the function ${t.value}() is not modelled (in: ${source})`)
      return FUNCTIONS[name](...args)
    }
    if (!(t.value in context)) throw new Error(`unknown context "${t.value}" in: ${source}`)
    return context[t.value]
  }
  function postfix() {
    let v = primary()
    for (;;) {
      if (isOp('.')) {
        i++
        const key = tokens[i++]
        v = v === null || v === undefined ? null : v[key.value]
      } else if (isOp('[')) {
        i++
        const key = or()
        expect(']')
        v = v === null || v === undefined ? null : v[key]
      } else return v === undefined ? null : v
    }
  }
  const unary = () => postfix()
  function compare() {
    let v = unary()
    while (peek() && peek().type === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(peek().value)) {
      const op = tokens[i++].value
      const w = unary()
      if (op === '==') v = looseEqual(v, w)
      else if (op === '!=') v = !looseEqual(v, w)
      else {
        const [a, b] =
          typeof v === 'string' && typeof w === 'string' ? [lower(v), lower(w)] : [toNumber(v), toNumber(w)]
        v = op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b
      }
    }
    return v
  }
  function and() {
    let v = compare()
    while (isOp('&&')) {
      i++
      const w = compare()
      v = truthy(v) ? w : v
    }
    return v
  }
  function or() {
    let v = and()
    while (isOp('||')) {
      i++
      const w = and()
      v = truthy(v) ? v : w
    }
    return v
  }
  const value = or()
  if (i !== tokens.length) throw new Error(`unexpected "${tokens[i].value}" in: ${source}`)
  return value
}

/** A string with each `${{ … }}` replaced by its value. */
function interpolate(text, context) {
  if (typeof text !== 'string') return text
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, expr) => asString(evaluate(expr, context)))
}

/** An `if:` condition (with or without `${{ }}`); absent means success(). */
function condition(value, context) {
  if (value === undefined || value === null) return true
  if (typeof value === 'boolean') return value
  const text = String(value).trim()
  const inner = /^\$\{\{([\s\S]*)\}\}$/.exec(text)
  return truthy(evaluate(inner ? inner[1] : text, context))
}

// --- matrix --------------------------------------------------------------------------------------

/** Every combination of a job's matrix (one empty combination without a matrix). */
function matrixEntries(job) {
  const matrix = job.strategy?.matrix
  if (!matrix) return [{}]
  if (typeof matrix === 'string') throw new Error(`a matrix from an expression is not modelled: ${matrix}`)
  const { include = [], exclude = [], ...lists } = matrix
  let combos = [{}]
  for (const [key, values] of Object.entries(lists)) {
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })))
  }
  const original = Object.keys(lists)
  if (original.length === 0) combos = []
  const deepEqual = (a, b) => JSON.stringify(a) === JSON.stringify(b)
  const matches = (combo, partial) => Object.entries(partial).every(([k, v]) => deepEqual(combo[k], v))
  combos = combos.filter((c) => !exclude.some((e) => matches(c, e)))
  const added = []
  for (const inc of include) {
    let merged = false
    for (const c of combos) {
      const clashes = original.some((k) => k in inc && !deepEqual(c[k], inc[k]))
      if (!clashes) {
        Object.assign(c, inc)
        merged = true
      }
    }
    if (!merged) added.push({ ...inc })
  }
  return [...combos, ...added]
}

/** runner.os for a runs-on label of GitHub's hosted runners. */
function runnerOs(label) {
  if (/^ubuntu-/.test(label)) return 'Linux'
  if (/^macos-/.test(label)) return 'macOS'
  if (/^windows-/.test(label)) return 'Windows'
  throw new Error(`runs-on "${label}" is not a GitHub-hosted label the rehearsal knows`)
}

// --- artifacts -----------------------------------------------------------------------------------

const WILDCARD = /[*?[]/

/** The lines of an upload `path:` input: the include patterns and the ! exclusions. */
function patternLines(input) {
  const lines = String(input)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  return {
    include: lines.filter((l) => !l.startsWith('!')),
    exclude: lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1)),
  }
}

/** The search path of one pattern: its literal directories before the first wildcard segment. */
function searchPath(workspace, pattern) {
  const segments = path.resolve(workspace, pattern).split(path.sep)
  const literal = []
  for (const s of segments) {
    if (WILDCARD.test(s)) break
    literal.push(s)
  }
  const joined = literal.join(path.sep) || path.sep
  return segments.length === literal.length ? path.resolve(workspace, pattern) : joined
}

function segmentRegex(segment) {
  if (segment.includes('[')) throw new Error(`character classes in upload patterns are not modelled: ${segment}`)
  const body = segment
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]')
  return new RegExp(`^${body}$`)
}

/** Files under `dir`, recursively (what implicitDescendants adds for a matched directory). */
function walk(dir) {
  const out = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...walk(full))
    else out.push(full)
  }
  return out
}

/** The files and directories matching one pattern (absolute), `**` included. */
function globPattern(workspace, pattern) {
  const absolute = path.resolve(workspace, pattern)
  const start = searchPath(workspace, pattern)
  if (!fs.existsSync(start)) return []
  if (start === absolute) return [absolute]
  const rest = path.relative(start, absolute).split(path.sep)
  const found = []
  const step = (dir, parts) => {
    if (parts.length === 0) return found.push(dir)
    const [head, ...tail] = parts
    if (head === '**') {
      step(dir, tail)
      if (fs.statSync(dir).isDirectory())
        for (const e of fs.readdirSync(dir, { withFileTypes: true }))
          if (e.isDirectory()) step(path.join(dir, e.name), parts)
      return
    }
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return
    const re = segmentRegex(head)
    for (const e of fs.readdirSync(dir)) if (re.test(e)) step(path.join(dir, e), tail)
  }
  step(start, rest)
  return found
}

/** The least common ancestor of several search paths (upload-artifact's getMultiPathLCA). */
function commonAncestor(paths) {
  const split = paths.map((p) => path.normalize(p).split(path.sep))
  const common = []
  for (let i = 0; i < Math.min(...split.map((s) => s.length)); i++) {
    if (split.some((s) => s[i] !== split[0][i])) break
    common.push(split[0][i])
  }
  return common.join(path.sep) || path.sep
}

/**
 * What actions/upload-artifact stores for a `path:` input in `workspace`: { root, files: [{ from,
 * name }] }, `name` being the file's path inside the artifact.
 */
function uploadSelection(workspace, input) {
  const { include, exclude } = patternLines(input)
  const matched = new Set()
  for (const p of include) for (const m of globPattern(workspace, p)) matched.add(m)
  const excluded = new Set()
  for (const p of exclude) for (const m of globPattern(workspace, p)) excluded.add(m)
  const files = []
  for (const m of matched) {
    for (const f of fs.statSync(m).isDirectory() ? walk(m) : [m]) {
      if (![...excluded].some((x) => f === x || f.startsWith(x + path.sep))) files.push(f)
    }
  }
  // Search paths, as @actions/glob lists them: one per pattern, none under another's.
  const candidates = include.map((p) => searchPath(workspace, p))
  const searchPaths = candidates.filter(
    (p, i) =>
      candidates.indexOf(p) === i &&
      !candidates.some((q) => q !== p && p.startsWith(q.endsWith(path.sep) ? q : q + path.sep)),
  )
  let root
  if (searchPaths.length > 1) root = commonAncestor(searchPaths)
  else if (files.length === 1 && searchPaths[0] === files[0]) root = path.dirname(files[0])
  else root = searchPaths[0]
  const unique = [...new Set(files)].sort()
  return { root, searchPaths, files: unique.map((from) => ({ from, name: path.relative(root, from) })) }
}

/**
 * Where actions/download-artifact puts artifacts, for a step's `with` in `workspace`:
 * [{ artifact, dir }] for the artifacts in `available` (a Map of name → files) that it takes.
 */
function downloadPlacement(workspace, withInput, available) {
  const dest = path.resolve(workspace, withInput.path || '.')
  if (withInput.name) {
    if (!available.has(withInput.name)) throw new Error(`no artifact named "${withInput.name}" was uploaded`)
    return [{ artifact: withInput.name, dir: dest }]
  }
  const re = withInput.pattern ? segmentRegex(withInput.pattern) : /^/
  const names = [...available.keys()].filter((n) => re.test(n)).sort()
  const merge = withInput['merge-multiple'] === true || withInput['merge-multiple'] === 'true'
  return names.map((artifact) => ({ artifact, dir: merge ? dest : path.join(dest, artifact) }))
}

module.exports = {
  loadWorkflow,
  evaluate,
  interpolate,
  condition,
  truthy,
  matrixEntries,
  runnerOs,
  uploadSelection,
  downloadPlacement,
}

#!/usr/bin/env node
'use strict'
// `npx vendor-auth check`: one exchange with the credentials in the environment, to check a
// deployment's keys and network path (proxy, CA) from the shell. Prints what the vendor said
// about the token, never the token itself unless --print-token asks for it (then to stdout
// only, so that `TOKEN=$(npx vendor-auth check --print-token)` works and logs never hold it).
// Exit code 0 on success, 1 on any failure (with its error code).

const fs = require('node:fs')
const { parseArgs } = require('node:util')

/** The largest --ca-cert read, as the core reads CA files (src/conventions.rs MAX_CA_FILE_BYTES). */
const MAX_CA_FILE_BYTES = 1024 * 1024

/** The usage text, with the defaults of the core's option schema. */
function usage() {
  const defaults = optionDefaults()
  const ms = (name) => (defaults.has(name) ? `default ${defaults.get(name)}` : 'default: see the README')
  const seconds = (name) => (defaults.has(name) ? ` (${Number(defaults.get(name)) / 1000} s by default)` : '')
  return `Usage: vendor-auth check [options]

Does one token exchange with the credentials in the environment and prints the provider,
environment, mode, permissions, shop and expiry. Never prints the token unless asked.

Credentials (environment):
  Vendy          VENDY_ACCESS_KEY and VENDY_SECRET_KEY
  PuppetVendors  PUPPETVENDORS_API_KEY (and PUPPETVENDORS_SHOP_DOMAIN)
Network: HTTPS_PROXY / NO_PROXY, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE are honoured.

Options:
  --provider <vendy|puppetvendors>  which vendor (default: the one whose credentials are set)
  --staging                         the vendor's staging deployment
  --base-url <url>                  another base URL (https: only), e.g. a mock
  --ca-cert <file>                  PEM file of extra CA certificates to trust
  --timeout-ms <ms>                 bound on each attempt, connect to last byte (${ms('timeoutMs')})
  --exchange-timeout-ms <ms>        bound on the whole exchange: every attempt and retry wait
                                    (${ms('exchangeTimeoutMs')})
  --json                            one JSON object on stdout, also on failure
  --print-token                     print the token to stdout (the summary goes to stderr)
  -h, --help                        this text
  -v, --version                     the vendor-auth version

A host that does not answer is waited for at most --exchange-timeout-ms${seconds('exchangeTimeoutMs')}:
each attempt gives up after --timeout-ms, and no retry starts past that bound (then TIMEOUT).

Exit status: 0 when a token was obtained, 1 otherwise (the error code is printed).
`
}

/**
 * Each option's default as the core's option schema states it (`name` -> text), from the build
 * the library would load: the native binding, else the WebAssembly build of the same core. Empty
 * when neither loads (the check itself then fails with the reason).
 */
function optionDefaults() {
  let schema
  try {
    if (process.env.VENDOR_AUTH_FORCE_WASM === '1') throw new Error('the WebAssembly build is forced')
    schema = require('../lib/native').loadBinding().optionSchema()
  } catch {
    try {
      // Initialises the module as the library does; then its schema can be read.
      require('../lib/wasm/node').nodeWasmDriverFactory()
      schema = require('../wasm/vendor_auth.cjs').optionSchema()
    } catch {
      return new Map()
    }
  }
  return new Map(JSON.parse(schema).options.map((option) => [option.name, option.default]))
}

const OPTIONS = {
  provider: { type: 'string' },
  staging: { type: 'boolean' },
  'base-url': { type: 'string' },
  'ca-cert': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'exchange-timeout-ms': { type: 'string' },
  json: { type: 'boolean' },
  'print-token': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
}

/** A failure before any exchange, shaped like a VendorAuthError. */
function usageError(message) {
  return Object.assign(new Error(`${message} (see vendor-auth --help)`), { code: 'INVALID_OPTIONS' })
}

/** The command line parsed; an unknown option is named with the known one closest to it. */
function parse(argv) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    if (error.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw usageError(error.message)
  }
  // Which option was unknown, from the tokens of a lenient parse (not from the error's text).
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true })
  const unknown = tokens.find((token) => token.kind === 'option' && !Object.hasOwn(OPTIONS, token.name))
  const flag = unknown === undefined ? undefined : unknown.rawName
  const closest = unknown === undefined ? undefined : closestOption(unknown.name)
  const hint =
    closest === undefined
      ? `the options are ${Object.keys(OPTIONS)
          .map((name) => `--${name}`)
          .join(', ')}`
      : `did you mean --${closest}?`
  throw usageError(`unknown option ${flag === undefined ? '' : `'${flag}'`}; ${hint}`)
}

/**
 * The known option closest to `name`, or undefined when none is close: spelled in camelCase or
 * with underscores (`baseUrl`, `ca_cert`), the start or a part of one (`--timeout`, `--token`),
 * or a few typing slips away (`--base-uri`, `--stagin`).
 */
function closestOption(name) {
  const wanted = name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase()
  let best
  for (const known of Object.keys(OPTIONS)) {
    const edits = editDistance(wanted, known)
    const part = wanted.length >= 3 && (known.includes(wanted) || wanted.includes(known))
    // A part of a known name counts as one slip; among equals, the fewest edits.
    const score = [part ? Math.min(edits, 1) : edits, edits]
    if (score[0] > Math.max(2, Math.floor(known.length / 3))) continue
    if (best === undefined || score[0] < best.score[0] || (score[0] === best.score[0] && score[1] < best.score[1])) {
      best = { known, score }
    }
  }
  return best && best.known
}

/** Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`. */
function editDistance(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}

/**
 * The text of the PEM file `file` names, read at once or refused at once: only a regular file
 * of at most 1 MiB (a device such as /dev/zero never ends; opening a FIFO waits for a writer, so
 * it is opened without waiting and refused).
 */
function readCaFile(file) {
  const refuse = (why) => usageError(`--ca-cert ${file} ${why}; pass a PEM file of CA certificates`)
  let fd
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0))
    const stat = fs.fstatSync(fd)
    if (!stat.isFile()) throw refuse(`is not a regular file (${fileKind(stat)})`)
    const tooLarge = refuse(
      `is larger than ${MAX_CA_FILE_BYTES / 1024 / 1024} MiB, more than any bundle of CA certificates`,
    )
    if (stat.size > MAX_CA_FILE_BYTES) throw tooLarge
    // Read to its end, but never past the limit (a file may grow while it is read).
    const buffer = Buffer.alloc(MAX_CA_FILE_BYTES + 1)
    let length = 0
    for (
      let read;
      length < buffer.length && (read = fs.readSync(fd, buffer, length, buffer.length - length, null)) > 0;
    ) {
      length += read
    }
    if (length > MAX_CA_FILE_BYTES) throw tooLarge
    return buffer.toString('utf8', 0, length)
  } catch (error) {
    if (error.code === 'INVALID_OPTIONS') throw error
    throw usageError(`could not read --ca-cert ${file}: ${error.code || error.message}`)
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/** What a path that is not a regular file is, in words. */
function fileKind(stat) {
  if (stat.isDirectory()) return 'a folder'
  if (stat.isCharacterDevice()) return 'a character device'
  if (stat.isBlockDevice()) return 'a block device'
  if (stat.isFIFO()) return 'a FIFO'
  if (stat.isSocket()) return 'a socket'
  return 'not a file'
}

/** A positive whole number of milliseconds from `--<flag>`. */
function milliseconds(values, flag) {
  const ms = Number(values[flag])
  if (!Number.isInteger(ms) || ms <= 0) throw usageError(`--${flag} must be a positive whole number`)
  return ms
}

/** The provider whose credentials are in the environment. */
function providerFromEnvironment(env) {
  const set = (name) => typeof env[name] === 'string' && env[name] !== ''
  const found = []
  if (set('VENDY_ACCESS_KEY') || set('VENDY_SECRET_KEY')) found.push('vendy')
  if (set('PUPPETVENDORS_API_KEY')) found.push('puppetvendors')
  if (found.length === 1) return found[0]
  if (found.length === 0) {
    throw usageError(
      'no vendor credentials in the environment: set VENDY_ACCESS_KEY and VENDY_SECRET_KEY, or ' +
        'PUPPETVENDORS_API_KEY (and PUPPETVENDORS_SHOP_DOMAIN)',
    )
  }
  throw usageError('credentials of both vendy and puppetvendors are in the environment: pass --provider')
}

/** `authenticate()` options from the command line (credentials stay in the environment). */
function exchangeOptions(values) {
  const provider = values.provider ?? providerFromEnvironment(process.env)
  if (provider !== 'vendy' && provider !== 'puppetvendors') {
    throw usageError(`--provider must be vendy or puppetvendors, not '${provider}'`)
  }
  const options = { provider }
  if (values.staging) options.environment = 'staging'
  if (values['base-url'] !== undefined) options.baseUrl = values['base-url']
  if (values['ca-cert'] !== undefined) options.caCert = readCaFile(values['ca-cert'])
  if (values['timeout-ms'] !== undefined) options.timeoutMs = milliseconds(values, 'timeout-ms')
  if (values['exchange-timeout-ms'] !== undefined) {
    options.exchangeTimeoutMs = milliseconds(values, 'exchange-timeout-ms')
  }
  return options
}

/** What to report of a session: everything the vendor said, but the token. */
function summary(session, environment) {
  return {
    ok: true,
    provider: session.provider,
    environment,
    mode: session.mode ?? null,
    permissions: session.permissions ?? null,
    shopDomain: session.shopDomain ?? null,
    vendorId: session.vendorId ?? null,
    expiresAt: new Date(session.expiresAt).toISOString(),
    expiresInSeconds: Math.max(0, Math.round((session.expiresAt - Date.now()) / 1000)),
    headerName: session.headerName,
  }
}

function humanSummary(s, printToken) {
  const notStated = `(not stated by ${s.provider})`
  const lines = [
    `ok: ${s.provider} exchanged the credentials for a token`,
    `  provider     ${s.provider}`,
    `  environment  ${s.environment}`,
    `  mode         ${s.mode ?? notStated}`,
    `  permissions  ${s.permissions ? s.permissions.join(', ') : notStated}`,
    `  shop         ${s.shopDomain ?? notStated}`,
    ...(s.vendorId === null ? [] : [`  vendor       ${s.vendorId}`]),
    `  expires      ${s.expiresAt} (in ${duration(s.expiresInSeconds)})`,
    `  header       ${s.headerName}${printToken ? '' : ' (the token is not shown; --print-token prints it)'}`,
  ]
  return `${lines.join('\n')}\n`
}

function duration(seconds) {
  const d = Math.floor(seconds / 86400)
  const h = Math.floor((seconds % 86400) / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  if (d > 0) return `${d} d ${h} h`
  if (h > 0) return `${h} h ${m} min`
  return `${m} min ${seconds % 60} s`
}

/** The error's public fields (a VendorAuthError holds no secret in any of them). */
function errorFields(error) {
  const fields = { code: error.code || 'ERROR', message: String(error.message) }
  for (const key of ['status', 'provider', 'vendorMessage', 'vendorCode', 'retryAfterMs']) {
    if (error[key] !== undefined) fields[key] = error[key]
  }
  return fields
}

async function main(argv) {
  // Known before parsing, so that even a usage error is reported as JSON.
  const json = argv.includes('--json')
  try {
    const { values, positionals } = parse(argv)
    if (values.help) return void process.stdout.write(usage())
    if (values.version) return void process.stdout.write(`${require('../package.json').version}\n`)
    if (positionals.length === 0) throw usageError('a command is needed: vendor-auth check')
    if (positionals[0] !== 'check' || positionals.length > 1) {
      throw usageError(`unknown command '${positionals.join(' ')}'; the command is: check`)
    }
    const options = exchangeOptions(values)
    const { authenticate } = require('../lib/index.js')
    const session = await authenticate(options)
    const report = summary(session, options.environment ?? 'production')
    const printToken = values['print-token'] === true
    if (json) {
      process.stdout.write(`${JSON.stringify(printToken ? { ...report, token: session.token } : report)}\n`)
    } else if (printToken) {
      process.stderr.write(humanSummary(report, true))
      process.stdout.write(`${session.token}\n`)
    } else {
      process.stdout.write(humanSummary(report, false))
    }
  } catch (error) {
    process.exitCode = 1
    const fields = errorFields(error)
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: fields })}\n`)
    else process.stderr.write(`vendor-auth check failed: ${fields.code}: ${fields.message}\n`)
  }
}

main(process.argv.slice(2))

#!/usr/bin/env node
'use strict'
// `npx vendor-auth check`: one exchange with the credentials in the environment, to check a
// deployment's keys and network path (proxy, CA) from the shell. Prints what the vendor said
// about the token, never the token itself unless --print-token asks for it (then to stdout
// only, so that `TOKEN=$(npx vendor-auth check --print-token)` works and logs never hold it).
// Exit code 0 on success, 1 on any failure (with its error code).

const fs = require('node:fs')
const { parseArgs } = require('node:util')

const USAGE = `Usage: vendor-auth check [options]

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
  --timeout-ms <ms>                 bound on each attempt (default 10000)
  --json                            one JSON object on stdout, also on failure
  --print-token                     print the token to stdout (the summary goes to stderr)
  -h, --help                        this text
  -v, --version                     the vendor-auth version

Exit status: 0 when a token was obtained, 1 otherwise (the error code is printed).
`

const OPTIONS = {
  provider: { type: 'string' },
  staging: { type: 'boolean' },
  'base-url': { type: 'string' },
  'ca-cert': { type: 'string' },
  'timeout-ms': { type: 'string' },
  json: { type: 'boolean' },
  'print-token': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
}

/** A failure before any exchange, shaped like a VendorAuthError. */
function usageError(message) {
  return Object.assign(new Error(`${message} (see vendor-auth --help)`), { code: 'INVALID_OPTIONS' })
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
  if (values['ca-cert'] !== undefined) {
    try {
      options.caCert = fs.readFileSync(values['ca-cert'], 'utf8')
    } catch (error) {
      throw usageError(`could not read --ca-cert ${values['ca-cert']}: ${error.code || error.message}`)
    }
  }
  if (values['timeout-ms'] !== undefined) {
    const ms = Number(values['timeout-ms'])
    if (!Number.isInteger(ms) || ms <= 0) throw usageError('--timeout-ms must be a positive whole number')
    options.timeoutMs = ms
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
    let parsed
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
    } catch (error) {
      throw usageError(error.message)
    }
    const { values, positionals } = parsed
    if (values.help) return void process.stdout.write(USAGE)
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

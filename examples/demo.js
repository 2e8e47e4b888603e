'use strict'
// The main job, end to end and with no real keys: start the built-in HTTPS mock vendor,
// authenticate against both vendors, keep a token with the auto-refreshing client, and print
// what a user sees (tokens redacted).

const { authenticate, createClient } = require('..')
const { startMockVendor } = require('../testing')

async function main() {
  const mock = await startMockVendor()
  const common = { baseUrl: mock.baseUrl, caCert: mock.caCert }
  try {
    const vendy = await authenticate({
      provider: 'vendy',
      accessKey: 'vendy-test-access-key',
      secretKey: 'vendy-test-secret-key',
      ...common,
    })
    const pv = await authenticate({ provider: 'puppetvendors', apiKey: 'vk_test_mockkey', ...common })
    for (const session of [vendy, pv]) {
      console.log(`${session.provider}:`)
      console.log(`  expires     ${new Date(session.expiresAt).toISOString()}`)
      console.log(`  header      ${session.headerName}`)
      console.log(`  token       ${session.toJSON().token} (redacted; ${session.token.length} chars)`)
      if (session.permissions) console.log(`  permissions ${session.permissions.join(', ')}`)
      if (session.mode) console.log(`  mode        ${session.mode}`)
    }

    const client = createClient({ provider: 'puppetvendors', apiKey: 'vk_test_mockkey', ...common })
    const headers = await Promise.all(Array.from({ length: 100 }, () => client.authHeader()))
    console.log(`client: 100 concurrent authHeader() calls -> ${mock.count('pv.authenticate') - 1} new exchange(s);`)
    console.log(`  header name: ${Object.keys(headers[0])[0]}`)
    console.log(client)
    client.close()
  } finally {
    await mock.close()
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})

// Where the consumer has the web globals (@types/node or the DOM lib), the API takes and gives
// the real AbortSignal, Headers, Request/URL and Response. Compiled by the node and dom configs.
import { authenticate, createClient, type ClientOptions } from 'vendor-auth'

export async function withGlobals(): Promise<Response> {
  const client = createClient({ provider: 'vendy' })
  await client.authHeader({ signal: AbortSignal.timeout(300) })
  await client.getSession({ signal: new AbortController().signal })
  client.invalidate(new Headers({ Authorization: 'Bearer x' }))
  await authenticate({ provider: 'puppetvendors', signal: AbortSignal.timeout(1000) })
  // @ts-expect-error signal is per call on a client
  const withSignal: ClientOptions = { provider: 'vendy', signal: AbortSignal.timeout(1) }
  void withSignal
  const request = new Request('https://api.vendy.money/wallets', { method: 'POST' })
  await client.fetch(request)
  return client.fetch(new URL('https://api.vendy.money/wallets'), { method: 'POST', body: '{}' })
}

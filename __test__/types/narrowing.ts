// Type test, compiled by __test__/types.test.js with `tsc --noEmit --strict` under every
// tsconfig.*.json here: with and without @types/node, with the DOM lib, and with `esnext`
// (Symbol.dispose). Needs only the es2022 lib: no AbortSignal, Headers, Response or Symbol.dispose.
import {
  authenticate,
  createClient,
  AuthClient,
  type AuthHeader,
  type ClientOptions,
  type Provider,
  type Session,
} from 'vendor-auth'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function expectType<T extends true>(_proof?: T): void {}

export async function narrowing(): Promise<void> {
  // A literal provider narrows the header to that vendor's.
  const vendy = createClient({ provider: 'vendy', accessKey: 'a', secretKey: 's' })
  const vendyHeader = await vendy.authHeader()
  expectType<Equal<typeof vendyHeader, Readonly<{ Authorization: string }>>>()
  const bearer: string = vendyHeader.Authorization
  // @ts-expect-error a Vendy header has no x-access-token
  void vendyHeader['x-access-token']
  expectType<Equal<typeof vendy, AuthClient<'vendy'>>>()
  expectType<Equal<typeof vendy.provider, 'vendy'>>()

  const pv = new AuthClient({ provider: 'puppetvendors', apiKey: 'vk_test_x' })
  const pvHeader = await pv.authHeader()
  expectType<Equal<typeof pvHeader, Readonly<{ 'x-access-token': string }>>>()
  // @ts-expect-error a PuppetVendors header has no Authorization
  void pvHeader.Authorization
  const pvSession = await pv.getSession()
  expectType<Equal<typeof pvSession.headerName, 'x-access-token'>>()
  expectType<Equal<typeof pvSession, Session<'puppetvendors'>>>()

  // A provider known only at run time: either header.
  const options: ClientOptions = { provider: process_provider() }
  const either = createClient(options)
  const eitherHeader = await either.authHeader()
  expectType<Equal<typeof eitherHeader, AuthHeader>>()
  expectType<Equal<AuthHeader, Readonly<{ Authorization: string }> | Readonly<{ 'x-access-token': string }>>>()
  if ('Authorization' in eitherHeader) void (eitherHeader.Authorization satisfies string)

  // Header objects still spread and still fit a plain string record.
  const merged: Record<string, string> = { ...vendyHeader, 'content-type': 'application/json' }
  const record: Readonly<Record<string, string>> = eitherHeader
  vendy.invalidate(vendyHeader)
  either.invalidate(record)
  either.invalidate('token')
  // @ts-expect-error not a header
  either.invalidate(42)

  const session = await authenticate({ provider: 'vendy', username: 'u', password: 'p' })
  expectType<Equal<typeof session.headerName, 'Authorization'>>()
  const spread: { Authorization: string } = session.headers

  // Narrowed types still fit the wide ones.
  const wideSession: Session = session
  const wideClient: AuthClient = vendy
  const wideHeader: AuthHeader = vendyHeader
  void [wideSession, wideClient, wideHeader]

  // @ts-expect-error unknown provider
  createClient({ provider: 'other' })

  // Each vendor takes its own options: a literal provider narrows them too.
  // @ts-expect-error apiKey is a PuppetVendors option
  createClient({ provider: 'vendy', apiKey: 'vk_test_x' })
  // @ts-expect-error scheme is a Vendy option
  void authenticate({ provider: 'puppetvendors', apiKey: 'vk_test_x', scheme: 'basic' })
  const basic = createClient({ provider: 'vendy', scheme: 'basic' })
  expectType<Equal<typeof basic, AuthClient<'vendy'>>>()
  // A permanent credential (scheme 'basic') never expires.
  const expiry: number | null = (await basic.getSession()).expiresAt
  void expiry

  // client.fetch works in every lib setup: its result has a status.
  const response = await vendy.fetch('https://api.vendy.money/wallets')
  const status: number = response.status
  void [bearer, merged, spread, status]

  // The events API as EventEmitter's: removeAllListeners chains, with one event or none.
  const chained: AuthClient<'vendy'> = vendy
    .on('refresh', () => {})
    .removeAllListeners('refresh')
    .removeAllListeners()
  // @ts-expect-error not an event of the client
  vendy.removeAllListeners('refreshed')
  // toJSON: what JSON.stringify(client) writes (the session redacted).
  const json = vendy.toJSON()
  expectType<Equal<typeof json.provider, 'vendy'>>()
  const closed: boolean = json.closed
  const redacted: Record<string, unknown> | null = json.session
  void [chained, closed, redacted]
  vendy.close()
}

declare function process_provider(): Provider

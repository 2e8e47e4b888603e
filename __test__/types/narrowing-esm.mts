// The types an ES module consumer sees (the "import" condition: lib/index.d.mts), default and
// named imports alike; compiled with narrowing.ts under every tsconfig.*.json here.
import vendorAuth, { createClient, type AuthHeader } from 'vendor-auth'
import { MOCK_CREDENTIALS, startMockVendor, type MockTokenInfo } from 'vendor-auth/testing'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function expectType<T extends true>(_proof?: T): void {}

export async function esmConsumer(): Promise<MockTokenInfo | null> {
  const mock = await startMockVendor()
  const pv = createClient({ provider: 'puppetvendors', ...MOCK_CREDENTIALS.puppetvendors, baseUrl: mock.baseUrl })
  const header = await pv.authHeader()
  expectType<Equal<typeof header, AuthHeader<'puppetvendors'>>>()
  const viaDefault = vendorAuth.createClient({ provider: 'vendy', ...MOCK_CREDENTIALS.vendy })
  expectType<Equal<Awaited<ReturnType<typeof viaDefault.authHeader>>, Readonly<{ Authorization: string }>>>()
  const info = mock.verify(header)
  const plain = mock.verify(header['x-access-token'])
  pv.close()
  viaDefault.close()
  await mock.close()
  return info ?? plain
}

// Every subpath of package.json `exports`, imported as an application does: compiled under
// node16 (tsconfig.node.json), bundler (tsconfig.bundler.json) and classic Node resolution
// (classic/tsconfig.json: `"moduleResolution": "node"`, as older Nest projects have, where
// `exports` is not read and package.json `typesVersions` leads to each subpath's types).
// __test__/types.test.js checks that it imports every subpath there is.
import type { DynamicModule } from '@nestjs/common'
import { createClient, type AuthHeader, type Session } from 'vendor-auth'
import { startMockVendor, MOCK_CREDENTIALS, type MockVendor } from 'vendor-auth/testing'
import { VendorAuthModule, VENDOR_AUTH_CLIENT } from 'vendor-auth/nest'
import { vendorAuthWasm, wasmPath, type VendorAuthWasmPlugin } from 'vendor-auth/esbuild'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function expectType<T extends true>(_proof?: T): void {}

export async function everySubpath(): Promise<Session<'puppetvendors'>> {
  const mock: MockVendor = await startMockVendor()
  const client = createClient({ provider: 'puppetvendors', ...MOCK_CREDENTIALS.puppetvendors, baseUrl: mock.baseUrl })
  const header = await client.authHeader()
  expectType<Equal<typeof header, AuthHeader<'puppetvendors'>>>()
  const session = await client.getSession()
  client.close()
  await mock.close()
  return session
}

export const module: DynamicModule = VendorAuthModule.forRoot({ provider: 'vendy' })
export const token: 'VENDOR_AUTH_CLIENT' = VENDOR_AUTH_CLIENT
export const plugin: VendorAuthWasmPlugin = vendorAuthWasm({ copy: false })
export const wasm: string = wasmPath

// Real types, not `any` (which skipLibCheck would let through): a wrong call is an error under
// every resolution.
// @ts-expect-error unknown provider
createClient({ provider: 'other' })
// @ts-expect-error unknown provider (nest's types reach the package's own)
VendorAuthModule.forRoot({ provider: 'other' })
// @ts-expect-error copy is a boolean
vendorAuthWasm({ copy: 'yes' })

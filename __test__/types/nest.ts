// vendor-auth/nest's types against @nestjs/common's (compiled by the configs with @types/node).
import type { DynamicModule } from '@nestjs/common'
import { VendorAuthModule, VENDOR_AUTH_CLIENT, type VendorAuthModuleAsyncOptions } from 'vendor-auth/nest'
import nest from 'vendor-auth/nest'

export const root: DynamicModule = VendorAuthModule.forRoot({ provider: 'vendy' })
export const named: DynamicModule = VendorAuthModule.forRoot(
  { provider: 'puppetvendors', apiKey: 'vk_test_x' },
  { token: Symbol('PV'), global: true },
)
const asyncOptions: VendorAuthModuleAsyncOptions<'puppetvendors'> = {
  imports: [],
  inject: ['CONFIG'],
  useFactory: async (config: { apiKey: string }) => ({ provider: 'puppetvendors', apiKey: config.apiKey }),
}
export const fromConfig: DynamicModule = VendorAuthModule.forRootAsync(asyncOptions)
export const token: 'VENDOR_AUTH_CLIENT' = VENDOR_AUTH_CLIENT
export const same: typeof VendorAuthModule = nest.VendorAuthModule

// @ts-expect-error unknown provider
VendorAuthModule.forRoot({ provider: 'nope' })
// @ts-expect-error useFactory is required
VendorAuthModule.forRootAsync({ inject: [] })
// @ts-expect-error token is a string or a symbol
VendorAuthModule.forRoot({ provider: 'vendy' }, { token: 42 })

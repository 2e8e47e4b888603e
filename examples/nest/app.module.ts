// The Nest example's root module: one PuppetVendors client for the whole app, configured from
// the environment (credentials: PUPPETVENDORS_API_KEY; PUPPETVENDORS_BASE_URL only to point at
// a mock). The client is closed when the app shuts down (app.close(), enableShutdownHooks()).
import { Module } from '@nestjs/common'
import { VendorAuthModule } from 'vendor-auth/nest'

import { OrdersController } from './orders.controller'
import { OrdersService } from './orders.service'

@Module({
  imports: [
    VendorAuthModule.forRootAsync({
      // A ConfigService would be injected here: inject: [ConfigService], useFactory: (config) => …
      useFactory: () => ({ provider: 'puppetvendors', baseUrl: process.env.PUPPETVENDORS_BASE_URL }),
    }),
  ],
  controllers: [OrdersController],
  providers: [OrdersService],
})
export class AppModule {}

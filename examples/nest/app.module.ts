// The Nest example's root module: one PuppetVendors client for the whole app (credentials:
// PUPPETVENDORS_API_KEY), closed when the app shuts down (app.close(), enableShutdownHooks()).
// #region module
import { Module } from '@nestjs/common'
import { VendorAuthModule } from 'vendor-auth/nest'

import { OrdersController } from './orders.controller'
import { OrdersService } from './orders.service'

@Module({
  // Options from config instead: VendorAuthModule.forRootAsync({ inject: [ConfigService], useFactory })
  imports: [VendorAuthModule.forRoot({ provider: 'puppetvendors' })],
  controllers: [OrdersController],
  providers: [OrdersService],
})
export class AppModule {}
// #endregion

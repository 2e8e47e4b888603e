// A service that calls the vendor's API with the injected client: client.fetch() adds the
// x-access-token header and, after a 401, gets a new token and retries once.
// #region service
import { Injectable, BadGatewayException } from '@nestjs/common'
import { AuthClient } from 'vendor-auth'

@Injectable()
export class OrdersService {
  // Injected by its class; with a token of your own: @Inject('PV') private readonly pv: AuthClient<'puppetvendors'>
  constructor(private readonly puppetVendors: AuthClient<'puppetvendors'>) {}

  async list(status: string): Promise<unknown> {
    const url = `https://api.puppetvendors.com/v2/orders?status=${encodeURIComponent(status)}`
    const response = await this.puppetVendors.fetch(url)
    if (!response.ok) throw new BadGatewayException(`PuppetVendors answered ${response.status}`)
    return response.json()
  }
}
// #endregion

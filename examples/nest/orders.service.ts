// A service that calls the vendor's API with the injected client: client.fetch() adds the
// x-access-token header and, after a 401, gets a new token and retries once.
import { Injectable, BadGatewayException } from '@nestjs/common'
import { AuthClient } from 'vendor-auth'

const API_URL = process.env.PUPPETVENDORS_API_URL ?? 'https://api.puppetvendors.com/v2'

@Injectable()
export class OrdersService {
  // Injected by its class (emitDecoratorMetadata); with a token of your own:
  // @Inject('PUPPETVENDORS') private readonly puppetVendors: AuthClient<'puppetvendors'>
  constructor(private readonly puppetVendors: AuthClient<'puppetvendors'>) {}

  async list(status: string): Promise<unknown> {
    const response = await this.puppetVendors.fetch(`${API_URL}/orders?status=${encodeURIComponent(status)}`)
    if (!response.ok) throw new BadGatewayException(`PuppetVendors answered ${response.status}`)
    return response.json()
  }
}

// GET /orders?status=open, served by whichever Nest platform the app uses (@nestjs/platform-express
// or -fastify); the example's test calls it without one, through the application context.
import { Controller, Get, Query } from '@nestjs/common'

import { OrdersService } from './orders.service'

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get()
  list(@Query('status') status = 'open'): Promise<unknown> {
    return this.orders.list(status)
  }
}

// Run: npx tsc -p examples/nest && node examples/nest/dist/main.js
// (an HTTP app would use NestFactory.create(AppModule) with @nestjs/platform-express and
// app.enableShutdownHooks(); this one needs no HTTP platform.)
import 'reflect-metadata'
import { NestFactory } from '@nestjs/core'

import { AppModule } from './app.module'
import { OrdersController } from './orders.controller'

export async function main(): Promise<unknown> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false })
  try {
    return await app.get(OrdersController).list('open')
  } finally {
    await app.close() // onModuleDestroy: the client is closed
  }
}

if (require.main === module) {
  main().then(
    (orders) => console.log(JSON.stringify(orders)),
    (error) => {
      console.error(error)
      process.exitCode = 1
    },
  )
}

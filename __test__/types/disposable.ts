// `using` closes a client at the end of the scope, where the lib knows Symbol.dispose (esnext, or
// @types/node); compiled by the esnext configs.
import { createClient } from 'vendor-auth'

export async function scoped(): Promise<string> {
  using client = createClient({ provider: 'vendy' })
  const header = await client.authHeader()
  return header.Authorization
}

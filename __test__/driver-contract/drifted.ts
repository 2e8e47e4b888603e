// A driver that drifted from the contract (no plan(); exchange() without `now`): must not compile.
import type { Driver } from '../../lib/driver'

declare const drifted: {
  provider: string
  pending: boolean
  resolve(env: object): null
  checkOrigin(url: string): null
  setCredentials(values: string, env: object): { changed: boolean }
  current(): null
  adopt(seed: object, now: number): never
  exchange(now: number, extra: string): Promise<never>
  exchangeInBackground(now: number, done: () => void): void
  storeRun(): never
  invalidate(): boolean
  close(): void
}

export const driver: Driver = drifted

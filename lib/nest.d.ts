/**
 * `vendor-auth/nest`: a Nest module providing an {@link AuthClient}, closed when the application
 * shuts down (`onModuleDestroy`). Needs `@nestjs/common` (an optional peer dependency).
 *
 * @example
 * \@Module({ imports: [VendorAuthModule.forRoot({ provider: 'vendy' })] })
 * export class AppModule {}
 *
 * \@Injectable()
 * export class WalletsService {
 *   constructor(private readonly vendy: AuthClient) {}   // or @Inject(VENDOR_AUTH_CLIENT)
 * }
 */
import type { DynamicModule, FactoryProvider, ModuleMetadata } from '@nestjs/common'
import type { AuthClient, ClientOptions, Provider } from './index.js'

/** The default injection token of the client. With it, the client is also provided as `AuthClient`. */
export declare const VENDOR_AUTH_CLIENT: 'VENDOR_AUTH_CLIENT'

/** Where the client is provided. */
export interface VendorAuthModuleExtras {
  /**
   * The injection token. Default `VENDOR_AUTH_CLIENT` (and the `AuthClient` class); give each
   * client its own token to have several (one per vendor): `@Inject('VENDY') vendy: AuthClient<'vendy'>`.
   */
  token?: string | symbol
  /** Provide the client to every module, not only to the importing ones. Default false. */
  global?: boolean
}

/** `forRootAsync()`: client options from a factory that may inject providers and be async. */
export interface VendorAuthModuleAsyncOptions<P extends Provider = Provider>
  extends Pick<ModuleMetadata, 'imports'>, VendorAuthModuleExtras {
  useFactory: (...deps: any[]) => ClientOptions<P> | Promise<ClientOptions<P>>
  /** Providers passed to `useFactory`, in order. */
  inject?: FactoryProvider['inject']
}

export declare class VendorAuthModule {
  /** A module providing `createClient(options)`; options errors surface at bootstrap. */
  static forRoot<P extends Provider>(options: ClientOptions<P>, extras?: VendorAuthModuleExtras): DynamicModule
  /** The same with options from `useFactory` (e.g. a ConfigService). */
  static forRootAsync<P extends Provider>(options: VendorAuthModuleAsyncOptions<P>): DynamicModule
}

import { WeightedProxy, type WeightedProxyOptions } from './proxy.ts'

export interface ListenAddress {
  host: string
  port: number
}

/** A proxy could not bind its address; names the application and the address. */
export class ProxyListenError extends Error {
  readonly application: string
  readonly address: ListenAddress
  /** The system error code, e.g. EADDRINUSE, EACCES, EADDRNOTAVAIL. */
  readonly code: string | undefined

  constructor(application: string, address: ListenAddress, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code
    const why = code === 'EADDRINUSE' ? 'address already in use' : cause instanceof Error ? cause.message : String(cause)
    super(`proxy for application "${application}" cannot listen on ${address.host}:${address.port}: ${why}`, { cause })
    this.name = 'ProxyListenError'
    this.application = application
    this.address = { ...address }
    this.code = code
  }
}

/** Options every proxy of the registry gets; the address comes from `ensure`. */
export type ProxyDefaults = Omit<WeightedProxyOptions, 'host' | 'port' | 'metrics' | 'routes'>

interface Entry {
  address: ListenAddress
  proxy: WeightedProxy
}

/**
 * One listening proxy per application (process and docker targets share it). Calls for
 * the same application run one after another, so concurrent `ensure`s get one proxy.
 *
 * @example
 * const proxies = new ProxyRegistry()
 * const proxy = await proxies.ensure('checkout', { host: '127.0.0.1', port: 8080 })
 * proxy.setRoutes({ stable: { version: 'v1', url: 'http://127.0.0.1:41001' } })
 */
export class ProxyRegistry {
  readonly #defaults: ProxyDefaults
  readonly #entries = new Map<string, Entry>()
  readonly #queues = new Map<string, Promise<unknown>>()

  constructor(defaults: ProxyDefaults = {}) {
    this.#defaults = defaults
  }

  /**
   * The application's proxy, listening on `listen`: created and started on first call,
   * the same instance after. A different address closes the old proxy and starts a new one
   * that keeps the old one's routes and metrics, so traffic and history carry over.
   */
  ensure(application: string, listen: ListenAddress): Promise<WeightedProxy> {
    return this.#serially(application, async () => {
      const current = this.#entries.get(application)
      if (current && current.address.host === listen.host && current.address.port === listen.port) return current.proxy
      if (current) {
        this.#entries.delete(application)
        await current.proxy.close()
      }
      const proxy = new WeightedProxy({ ...this.#defaults, host: listen.host, port: listen.port, metrics: current?.proxy.metrics, routes: current?.proxy.routes() })
      try {
        await proxy.listen()
      } catch (error) {
        await proxy.close()
        throw new ProxyListenError(application, listen, error)
      }
      this.#entries.set(application, { address: { ...listen }, proxy })
      return proxy
    })
  }

  get(application: string): WeightedProxy | undefined {
    return this.#entries.get(application)?.proxy
  }

  applications(): string[] {
    return [...this.#entries.keys()]
  }

  /** Stops the application's proxy, if any. */
  close(application: string): Promise<void> {
    return this.#serially(application, async () => {
      const entry = this.#entries.get(application)
      if (!entry) return
      this.#entries.delete(application)
      await entry.proxy.close()
    })
  }

  /** Stops every proxy (Sentra is stopping). */
  async closeAll(): Promise<void> {
    const applications = new Set([...this.#entries.keys(), ...this.#queues.keys()])
    await Promise.all([...applications].map((application) => this.close(application)))
  }

  /** Runs `task` after every earlier task of the same application, whether they failed or not. */
  #serially<T>(application: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(application) ?? Promise.resolve()
    const run = previous.then(task)
    const tail = run.catch(() => undefined)
    this.#queues.set(application, tail)
    void tail.then(() => {
      if (this.#queues.get(application) === tail) this.#queues.delete(application)
    })
    return run
  }
}

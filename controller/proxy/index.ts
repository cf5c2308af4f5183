export type { ProxyRoutes, RedMetricsReader, Upstream, VersionStats } from './types.ts'
export { RedMetrics, type RedMetricsOptions, type RequestOutcome } from './red-metrics.ts'
export { VERSION_HEADER, WeightedProxy, type WeightedProxyOptions } from './proxy.ts'
export { ProxyListenError, ProxyRegistry, type ListenAddress, type ProxyDefaults } from './registry.ts'

/**
 * A Redis key or channel of one deployment: `name` inside the deployment's namespace (QUEUE_PREFIX), written the way
 * BullMQ writes its own keys (`<prefix>:<queue>:…`). Every key a process writes and every channel it publishes or
 * listens on is named here, so that deployments sharing one Redis never read, count or hear each other's.
 */
export function inRedisNamespace(namespace: string, name: string): string {
  return `${namespace}:${name}`;
}

/**
 * The broker queue a pool's runs travel on. BullMQ reserves ':' inside its keys,
 * so the separator is a dot.
 *
 * @example queueName('email') // 'switchyard.email'
 */
export function queueName(pool: string): string {
  return `switchyard.${pool}`
}

// The plain Redis commands our code sends beside BullMQ's. BullMQ's client type lists
// only what BullMQ itself needs; the client is ioredis underneath (BullMQ builds one
// from the connection options we give it: connection.ts), which has them all.
import type { RedisClient } from 'bullmq'

export interface RedisCommands {
  exists(...keys: string[]): Promise<number>
  /** The key's type: 'string', 'hash', …, 'none' when there is no such key. */
  type(key: string): Promise<string>
  del(...keys: string[]): Promise<number>
  set(key: string, value: string, px: 'PX', ms: number): Promise<unknown>
  /** SET … NX: 'OK' when written, null when the key was there already. */
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<'OK' | null>
  mget(...keys: string[]): Promise<Array<string | null>>
  hlen(key: string): Promise<number>
  hincrby(key: string, field: string, by: number): Promise<number>
  hset(key: string, field: string, value: string): Promise<number>
  hscan(key: string, cursor: string, count: 'COUNT', n: number): Promise<[string, string[]]>
  zadd(key: string, score: number, member: string): Promise<number>
  /** ZADD … NX: 1 when added, 0 when the member was there already. */
  zadd(key: string, nx: 'NX', score: number, member: string): Promise<number>
  zrem(key: string, ...members: string[]): Promise<number>
  zrange(key: string, start: number, stop: number): Promise<string[]>
  zremrangebyscore(key: string, min: number | string, max: number | string): Promise<number>
  zrangebyscore(key: string, min: number | string, max: number | string, limit: 'LIMIT', offset: number, count: number): Promise<string[]>
  zmscore(key: string, ...members: string[]): Promise<Array<string | null>>
  publish(channel: string, message: string): Promise<number>
}

/** The same client, typed for the commands above. */
export function commands(client: RedisClient): RedisCommands {
  return client as unknown as RedisCommands
}

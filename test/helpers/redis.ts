// A private redis-server for one test file: free loopback port, temp folder,
// stopped (and its folder removed) when the test ends. Never touches another server.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RedisServer {
  readonly url: string
  readonly port: number
  readonly pid: number
  /** The server's folder (its AOF and RDB files). */
  readonly dir: string
  /** SIGKILL, as a crash would: the folder stays, so startRedis(args, { dir, port }) restarts it on its own data. */
  kill(): Promise<void>
  stop(): Promise<void>
}

export interface RedisPlace {
  /** Reuse this folder (a restart after kill()); it is not removed by stop(). */
  readonly dir?: string
  /** Listen on this port (a restart on the port its clients know). */
  readonly port?: number
}

export function redisAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

/**
 * In CI (CI=true) a missing redis-server is a failure, never a skip.
 * Use as: test('…', { skip: redisSkip() }, …)
 */
export function redisSkip(): string | false {
  if (redisAvailable()) return false
  if (process.env.CI) throw new Error('redis-server is not installed, and CI must run the Redis tests')
  return 'redis-server is not installed (apt-get install -y redis-server)'
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

export async function startRedis(extraArgs: string[] = [], place: RedisPlace = {}): Promise<RedisServer> {
  const dir = place.dir ?? mkdtempSync(join(tmpdir(), 'switchyard-redis-'))
  const port = place.port ?? (await freePort())
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start on ${port}:\n${log}`)), 10_000)
    const check = () => {
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout?.on('data', check)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited with ${code}:\n${log}`))
    })
  })
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill(signal)
      await exited
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? 0,
    dir,
    kill: () => end('SIGKILL'),
    async stop() {
      await end('SIGTERM')
      if (place.dir === undefined) rmSync(dir, { recursive: true, force: true })
    },
  }
}

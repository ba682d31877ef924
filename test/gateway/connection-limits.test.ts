// The gateway's connection cap and timeouts as resolved at start: below the descriptor
// limit with the reserve, the operator's values from SWITCHYARD_GATEWAY_*, and a clear
// refusal for what cannot work. Behaviour under load: test/security/slow-connections.test.ts.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  connectionOptionsFromEnv,
  fileDescriptorLimit,
  resolveConnectionLimits,
} from '../../src/gateway/connection-limits.js'

void test('defaults: the cap is the descriptor limit less the reserve; 10 s headers, 30 s request, 5 s keep-alive', () => {
  const limits = resolveConnectionLimits({}, 1024, 100)
  assert.deepEqual(limits, {
    maxConnections: 924,
    headersTimeoutMs: DEFAULT_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    checkIntervalMs: 1000,
  })
  assert.deepEqual([DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_KEEP_ALIVE_TIMEOUT_MS], [10_000, 30_000, 5_000])
  // Unknown limit (no /proc): no cap unless one is set.
  assert.equal(resolveConnectionLimits({}, null, 100).maxConnections, 0)
  assert.equal(resolveConnectionLimits({ maxConnections: 50 }, null, 100).maxConnections, 50)
  // A short headers bound is checked often enough to hold.
  assert.equal(resolveConnectionLimits({ headersTimeoutMs: 2000, requestTimeoutMs: 2000 }, 1024, 100).checkIntervalMs, 500)
})

void test('refused: a cap past the descriptors, a limit with no room, a headers bound past the request bound', () => {
  assert.throws(
    () => resolveConnectionLimits({ maxConnections: 925 }, 1024, 100),
    /does not fit the file descriptor limit \(1024\).*at most 924/,
  )
  assert.throws(() => resolveConnectionLimits({}, 64, 100), /leaves no room for connections after the 100/)
  assert.throws(
    () => resolveConnectionLimits({ headersTimeoutMs: 5000, requestTimeoutMs: 1000 }, 1024, 100),
    /headersTimeoutMs \(5000\) must not exceed requestTimeoutMs \(1000\)/,
  )
  assert.throws(() => resolveConnectionLimits({ maxConnections: 0 }, 1024, 100), /maxConnections must be a positive integer/)
})

void test('SWITCHYARD_GATEWAY_*: durations as in the registry, a positive integer cap; anything else names its variable', () => {
  assert.deepEqual(connectionOptionsFromEnv({}), {})
  assert.deepEqual(
    connectionOptionsFromEnv({
      SWITCHYARD_GATEWAY_MAX_CONNECTIONS: '500',
      SWITCHYARD_GATEWAY_HEADERS_TIMEOUT: '5s',
      SWITCHYARD_GATEWAY_REQUEST_TIMEOUT: '1m',
      SWITCHYARD_GATEWAY_KEEPALIVE_TIMEOUT: '750ms',
    }),
    { maxConnections: 500, headersTimeoutMs: 5000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 750 },
  )
  assert.throws(
    () => connectionOptionsFromEnv({ SWITCHYARD_GATEWAY_MAX_CONNECTIONS: '1e3' }),
    /SWITCHYARD_GATEWAY_MAX_CONNECTIONS must be a positive integer, got '1e3'/,
  )
  assert.throws(() => connectionOptionsFromEnv({ SWITCHYARD_GATEWAY_MAX_CONNECTIONS: '0' }), /SWITCHYARD_GATEWAY_MAX_CONNECTIONS/)
  assert.throws(
    () => connectionOptionsFromEnv({ SWITCHYARD_GATEWAY_HEADERS_TIMEOUT: '10' }),
    /SWITCHYARD_GATEWAY_HEADERS_TIMEOUT must be a duration such as 10s or 500ms, got '10'/,
  )
  assert.throws(() => connectionOptionsFromEnv({ SWITCHYARD_GATEWAY_KEEPALIVE_TIMEOUT: '-1s' }), /SWITCHYARD_GATEWAY_KEEPALIVE_TIMEOUT/)
})

void test('fileDescriptorLimit reads the soft limit of /proc/self/limits; null when it cannot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-limits-'))
  try {
    const file = join(dir, 'limits')
    writeFileSync(
      file,
      'Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63432                63432                processes \nMax open files            256                  4096                 files     \n',
    )
    assert.equal(fileDescriptorLimit(file), 256)
    writeFileSync(file, 'Max open files            unlimited            unlimited            files     \n')
    assert.equal(fileDescriptorLimit(file), null)
    assert.equal(fileDescriptorLimit(join(dir, 'absent')), null)
    if (process.platform === 'linux') assert.ok((fileDescriptorLimit() ?? 0) > 0, 'this process has a readable limit')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

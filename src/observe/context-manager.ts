// The OpenTelemetry context manager initTracing registers: AsyncLocalStorage, as the
// SDK's own, plus `attach` — entering a context for the rest of the current async
// flow. LangChain callbacks cannot wrap the code of a graph node, only run before
// it, so attaching is the one way a node's span becomes the parent of what the node
// does (its model calls).
import { AsyncLocalStorage } from 'node:async_hooks'
import { ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api'

export class RunContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>()

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const call = thisArg == null ? fn : (fn.bind(thisArg) as F)
    return this.storage.run(context, call, ...args)
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target
    const fn = target as (...args: unknown[]) => unknown
    const run = <R>(call: () => R): R => this.storage.run(context, call)
    return function (this: unknown, ...args: unknown[]) {
      return run(() => fn.apply(this, args))
    } as T
  }

  /** Enter `context` for the rest of the current synchronous execution and what it schedules. */
  attach(context: Context): void {
    this.storage.enterWith(context)
  }

  enable(): this {
    return this
  }

  disable(): this {
    this.storage.disable()
    return this
  }
}

let registered: RunContextManager | undefined

/** Set (or clear) the manager `attachContext` uses: initTracing's, once registered. */
export function useContextManager(manager: RunContextManager | undefined): void {
  registered = manager
}

/** Attach `context` to the current async flow; a no-op unless initTracing registered the context manager. */
export function attachContext(context: Context): void {
  registered?.attach(context)
}

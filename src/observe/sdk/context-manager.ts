// OpenTelemetry's active context on the one AsyncLocalStorage LangChain already keeps.
//
// Each enabled AsyncLocalStorage costs something for every promise the process
// creates (Node 20 copies each storage's value onto each new promise), and a LangGraph
// run creates hundreds: a second storage, OpenTelemetry's own, added 20–50 µs to every
// run of the benchmark graph (~840 µs), traced or not. So the context rides on the
// storage LangChain and LangSmith share (`Symbol.for('ls:tracing_async_local_storage')`
// on globalThis), as a LangChain context variable: every runnable LangChain or LangSmith
// starts copies its parent's context variables (`Symbol.for('lc:context_variables')`),
// so the context reaches a graph's nodes and what they call, as it did before.
//
// In a process without LangChain (the gateway) this is one storage, as before: the
// manager creates it, and a LangChain loaded later adopts it.
import { AsyncLocalStorage } from 'node:async_hooks'
import { ROOT_CONTEXT, type Context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'

/** Where LangChain (@langchain/core) and LangSmith keep their process-wide storage. */
const SHARED_STORAGE = Symbol.for('ls:tracing_async_local_storage')
/** LangChain's context variables: a value every child runnable inherits. */
const CONTEXT_VARIABLES = Symbol.for('lc:context_variables')
/** Our variable: the OpenTelemetry context. */
const OTEL_CONTEXT = Symbol.for('switchyard:otel_context')

type Variables = Readonly<Record<PropertyKey, unknown>>
type Store = { [CONTEXT_VARIABLES]?: Variables } & object

/** The shared storage: LangChain's if it is set up, else one we set up for it to adopt. */
function sharedStorage(): AsyncLocalStorage<Store> {
  const global = globalThis as { [SHARED_STORAGE]?: AsyncLocalStorage<Store> }
  let storage = global[SHARED_STORAGE]
  if (storage === undefined) {
    storage = new AsyncLocalStorage<Store>()
    global[SHARED_STORAGE] = storage
  }
  return storage
}

/** The current store with `context` as our variable; everything else of it (a LangSmith run tree, say) kept. */
function storeWith(current: Store | undefined, context: Context): Store {
  // LangChain and LangSmith store objects; any other value is none of theirs, and is replaced.
  if (typeof current !== 'object' || current === null) return { [CONTEXT_VARIABLES]: { [OTEL_CONTEXT]: context } }
  const variables = { ...current[CONTEXT_VARIABLES], [OTEL_CONTEXT]: context }
  // A shallow copy of the same class: LangChain reads run trees' fields and methods, never their identity.
  const copy = Object.assign(Object.create(Object.getPrototypeOf(current) as object | null) as Store, current)
  copy[CONTEXT_VARIABLES] = variables
  return copy
}

/**
 * OpenTelemetry's AsyncLocalStorage context manager, its storage shared with LangChain.
 * Binding functions and event emitters is inherited and goes through `with`.
 *
 * @example
 * provider.register({ contextManager: new SharedContextManager() })
 */
export class SharedContextManager extends AsyncLocalStorageContextManager {
  private readonly storage = sharedStorage()
  private enabled = true

  override active(): Context {
    if (!this.enabled) return ROOT_CONTEXT
    return (this.storage.getStore()?.[CONTEXT_VARIABLES]?.[OTEL_CONTEXT] as Context | undefined) ?? ROOT_CONTEXT
  }

  override with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const callback = thisArg == null ? fn : (fn.bind(thisArg) as F)
    if (!this.enabled) return callback(...args)
    return this.storage.run(storeWith(this.storage.getStore(), context), callback, ...args)
  }

  override attach(context: Context): { dispose(): void } {
    const previous = this.storage.getStore()
    this.storage.enterWith(storeWith(previous, context))
    let disposed = false
    return {
      dispose: () => {
        if (disposed) return
        disposed = true
        this.storage.enterWith(previous as Store)
      },
    }
  }

  override enable(): this {
    this.enabled = true
    return this
  }

  /** Stop answering with stored contexts; the storage itself is LangChain's too, so it stays on. */
  override disable(): this {
    this.enabled = false
    return this
  }
}

// The process manager behind `switchyard dev` and `start`: each pool's worker processes,
// their env, restarts with backoff, and the status table.
export { startSupervisor, type Supervisor, type SupervisorEvent, type SupervisorOptions } from './supervisor.js'
export { renderStatus, type PoolStatus } from './status.js'
export { workerEnv, readEnvFile, BASE_ENV_KEYS, type WorkerEnvOptions } from './worker-env.js'
export { pythonPath, probePython, pythonProgram, type PythonProgram } from './python-program.js'

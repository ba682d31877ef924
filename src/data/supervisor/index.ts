// The process manager behind `switchyard dev` and `start`: each pool's worker processes,
// their env, restarts with backoff, and the status table.
export { startSupervisor, type Supervisor, type SupervisorEvent, type SupervisorOptions } from './supervisor.js'

export { pythonPath, probePython, pythonProgram } from './python-program.js'

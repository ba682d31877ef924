// The process manager behind `switchyard dev` and `start`: each pool's worker processes,
// their env, restarts with backoff, and the status table; in `start`, the gateway too.
export { startSupervisor, type Supervisor, type SupervisorEvent, type SupervisorOptions } from './supervisor.js'

export { openCpuPolicy, CFS_PERIOD_US, NORMAL_SHARES, PENALTY_NICE, PENALTY_SHARES } from './cpu-policy.js'

export { renderGatewayStatus, startGatewayProcess } from './gateway-process.js'
export { isGatewayStartMessage } from './gateway-protocol.js'

export { pythonPath, probePython, pythonProgram, SAFE_PATH } from './python-program.js'

export { devUsersNote, lookupUser, preparePoolUsers, protectEnvFiles, resolvePoolUsers, type PoolIdentity } from './pool-user.js'

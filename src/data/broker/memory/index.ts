// The embedded broker of `switchyard dev`: runs held in the gateway's process, fed to
// worker child processes over Node's IPC channel.
export { MemoryBroker } from './memory-broker.js'
export { ipcRunSource } from './ipc-source.js'
export { linkChild, type ChildLink } from './ipc-parent.js'
export { ndjsonChannel } from './ndjson-channel.js'

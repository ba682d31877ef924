// The embedded broker of `switchyard dev`: runs held in the gateway's process, fed to
// worker child processes over Node's IPC channel.
export { MemoryBroker, type MemoryBrokerOptions } from './memory-broker.js'
export { ipcRunSource, type IpcRunSource } from './ipc-source.js'
export { linkChild, type ChildLink, type ChildLinkOptions } from './ipc-parent.js'
export { ndjsonChannel, nodeChannel, type ChildChannel } from './ndjson-channel.js'

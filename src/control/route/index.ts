// route(): the one way a request becomes a run.
export { route } from './route.js'

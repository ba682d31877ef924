// LangGraph node spans (`node <name>`), through LangChain's callback API. Loaded only by
// workers that run a LangGraph graph: it imports @langchain/core.
export { withNodeSpans } from './node-spans.js'

export { main } from './main.js';
export type { ToolContext, ToolDescriptor } from './tool.js';
export { JSON_OPTION } from './tool.js';
export { TOOLS } from './tools/index.js';

// The package root: `import { Producer, Consumer, Admin } from 'sluice'`.
export * from './client/index.js';

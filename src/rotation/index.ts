export * from './client-secret-adapter';
export * from './rotation-code';
export * from './rotation-engine';
export * from './rotation-function';
export * from './rotation-schedule';
export * from './secret-rotation';

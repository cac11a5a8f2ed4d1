export * from './password-policy';
export * from './rotation';
export * from './encryption-key';
export * from './resource-policy';
export * from './secret';
export * from './secret-template';
export * from './vpc-endpoint';
export * from './monitoring';

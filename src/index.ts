export * from './password-policy';
export * from './rotation';

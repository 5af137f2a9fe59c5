export * from './errors.ts';
export * from './models.ts';
export * from './validation.ts';

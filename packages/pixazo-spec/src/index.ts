/**
 * @zimage/pixazo-spec: Pixazo's Z-Image API as data (the model table) and the validation of
 * its requests, shared by the client (@zimage/core, which re-exports all of it) and the
 * simulator (@zimage/pixazo-sim). See README.md.
 */
export * from './errors.ts';
export * from './models.ts';
export * from './validation.ts';

export * from './image-spec.ts';

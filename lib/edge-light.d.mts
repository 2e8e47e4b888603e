// Types of edge-light.mjs (Vercel Edge Functions, Next.js middleware): the same exports as the
// workerd entry's (workerd.d.mts).
export * from './workerd.mjs'
export { default } from './workerd.mjs'

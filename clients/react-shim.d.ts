// The few React APIs clients/react.ts uses, so it type-checks without @types/react (React is an
// optional peer dependency). An application that installs React gets React's own types.
declare module "react" {
  export function useMemo<T>(factory: () => T, deps: readonly unknown[]): T;
  export function useSyncExternalStore<T>(subscribe: (onStoreChange: () => void) => () => void, getSnapshot: () => T, getServerSnapshot?: () => T): T;
}

import type { App } from "./app";
import { registerHealthRoutes } from "./health";

/** Every resource module of the API, in the order its routes are registered. */
export const resourceRoutes: ((app: App) => void)[] = [registerHealthRoutes];

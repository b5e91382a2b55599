import type { App } from "./app";
import { registerHealthRoutes } from "./health";
import { registerProviderRoutes } from "./providers";

/** Every resource module of the API, in the order its routes are registered. */
export const resourceRoutes: ((app: App) => void)[] = [registerHealthRoutes, registerProviderRoutes];
